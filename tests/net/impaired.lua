-- Run by tests/network.rs with a seeded relay between client and server that drops,
-- duplicates, reorders and delays datagrams. ENET_SCENARIO picks the scenario, ENET_RELAY is
-- the relay's address, ENET_SEED seeds the sizes and ENET_MESSAGES scales the traffic.
local T = require "t"
local N = require "netlib"
require "enet"

local relay = assert(os.getenv("ENET_RELAY"), "ENET_RELAY")
local scenario = N.env("ENET_SCENARIO", "reliable")
local count = N.num("ENET_MESSAGES", 40)
local rng = N.rng(N.num("ENET_SEED", 1))

-- A server, and a client connected to it through the relay; loss must not time them out.
local function setup(channels)
  local server = assert(enet.host_create("127.0.0.1:*", 4, channels))
  local client = assert(enet.host_create(nil, 1, channels))
  N.relay("server " .. server:get_socket_address(), { server, client })
  local cpeer = client:connect(relay, channels)
  cpeer:timeout(0, 30000, 60000)
  local speer
  N.pump({ server, client }, 20000, function()
    return speer and cpeer:state() == "connected"
  end, function(h, e)
    if h == server and e.type == "connect" then speer = e.peer end
  end)
  speer:timeout(0, 30000, 60000)
  N.relay("impair", { server, client })
  return server, client, cpeer, speer
end

-- Per-receiver bookkeeping: reliable in order and exactly once per channel, unreliable in
-- increasing order per channel, unsequenced at most once, every payload intact.
local function receiver(channels)
  local r = { reliable = 0, unreliable = 0, unsequenced = 0, next = {}, last = {}, seen = {} }
  for ch = 0, channels - 1 do r.next[ch] = 1; r.last[ch] = 0 end
  function r.take(e)
    local kind, ch, i = N.parse(e.data)
    assert(kind, "unexpected payload")
    T.eq(e.channel, ch, "channel of " .. kind .. i)
    T.eq(e.data, N.msg(kind, ch, i), "payload of " .. kind .. i)
    if kind == "R" then
      T.eq(i, r.next[ch], "reliable number on channel " .. ch)
      r.next[ch] = i + 1
      r.reliable = r.reliable + 1
    elseif kind == "U" then
      T.ok(i > r.last[ch], "unreliable " .. i .. " after " .. r.last[ch] .. " on channel " .. ch)
      r.last[ch] = i
      r.unreliable = r.unreliable + 1
    else
      local key = ch .. ":" .. i
      T.ok(not r.seen[key], "unsequenced " .. key .. " delivered once")
      r.seen[key] = true
      r.unsequenced = r.unsequenced + 1
    end
  end
  return r
end

if scenario == "reliable" then
  T.test("reliable traffic on 4 channels both ways arrives exactly once and in order", function()
    local CH = 4
    local server, client, cpeer, speer = setup(CH)
    local at = { [server] = receiver(CH), [client] = receiver(CH) }
    local handler = function(h, e)
      if e.type == "receive" then at[h].take(e)
      elseif e.type ~= "connect" then error("unexpected " .. e.type .. " event") end
    end
    for i = 1, count do
      for ch = 0, CH - 1 do
        for _, p in ipairs({ cpeer, speer }) do
          T.eq(p:send(N.msg("R", ch, i), ch), 0, "send")
          p:send(N.msg("U", ch, i), ch, "unreliable")
          p:send(N.msg("S", ch, i), ch, "unsequenced")
        end
      end
      -- interleave sending with servicing, so commands spread over many datagrams
      for _ = 1, 2 do
        for _, h in ipairs({ server, client }) do
          local e = h:service(1)
          while e do handler(h, e); e = h:check_events() end
        end
      end
    end
    local want = count * CH
    local ms = N.pump({ server, client }, 60000, function()
      return at[server].reliable == want and at[client].reliable == want
    end, handler)
    -- let late duplicates arrive: they must not be delivered again
    local settle = server:service_time() + 300
    N.pump({ server, client }, 2000, function() return server:service_time() > settle end, handler)
    for _, h in ipairs({ server, client }) do
      T.eq(at[h].reliable, want, "reliable messages")
      for ch = 0, CH - 1 do T.eq(at[h].next[ch], count + 1, "next on channel " .. ch) end
    end
    N.say(string.format("COUNT reliable checked %d, unreliable %d of %d, unsequenced %d of %d, in %d ms",
      2 * want, at[server].unreliable + at[client].unreliable, 2 * want,
      at[server].unsequenced + at[client].unsequenced, 2 * want, ms))
  end)
elseif scenario == "fragments" then
  T.test("large unreliable and unsequenced packets that fragment survive jitter", function()
    local server, client, cpeer = setup(2)
    local sent, got = {}, {}
    for i = 1, count do
      local size = 1365 + rng.next(12000)
      local flag = (i % 2 == 0) and "unsequenced" or "unreliable"
      local data = N.msg(flag == "unreliable" and "U" or "S", i % 2, i, size)
      sent[i] = data
      T.eq(cpeer:send(data, i % 2, flag), 0, "send")
      client:service(0)
    end
    local n = 0
    local ms = N.pump({ server, client }, 60000, function() return n == count end, function(h, e)
      if h == server and e.type == "receive" then
        local _, _, i = N.parse(e.data)
        T.ok(i and sent[i] == e.data, "fragmented payload intact")
        T.ok(not got[i], "delivered once")
        got[i] = true
        n = n + 1
      end
    end)
    N.say(string.format("COUNT fragmented packets checked %d (1365..13365 bytes), in %d ms", n, ms))
  end)
elseif scenario == "timeout" then
  T.test("a peer behind a relay that goes silent is disconnected within peer:timeout's bounds", function()
    local LIMIT, MIN, MAX, PING = 4, 600, 1500, 100
    local server, client, cpeer, speer = setup(1)
    for _, p in ipairs({ cpeer, speer }) do
      p:ping_interval(PING)
      p:timeout(LIMIT, MIN, MAX)
      local l, mn, mx = p:timeout()
      T.eq(l, LIMIT, "limit"); T.eq(mn, MIN, "minimum"); T.eq(mx, MAX, "maximum")
    end
    cpeer:send("before the silence")
    T.eq(#T.receive(server, 1, { client }), 1, "message before the silence")
    N.relay("silent", { server, client })
    local t0 = server:service_time()
    local gone = {}
    N.pump({ server, client }, MAX + 5000, function() return gone[server] and gone[client] end,
      function(h, e)
        if e.type == "disconnect" then gone[h] = h:service_time() - t0 end
      end)
    for _, h in ipairs({ server, client }) do
      T.ok(gone[h] >= MIN - 150, "disconnect after " .. gone[h] .. " ms, not before the minimum " .. MIN)
      T.ok(gone[h] <= MAX + PING + 400, "disconnect after " .. gone[h] .. " ms, within maximum " .. MAX .. " + ping interval")
    end
    T.eq(cpeer:state(), "disconnected", "client peer state")
    N.say(string.format("COUNT timeouts: server side after %d ms, client side after %d ms (bounds %d..%d)",
      gone[server], gone[client], MIN, MAX + PING))
  end)
else
  error("unknown scenario " .. scenario)
end
T.done()
