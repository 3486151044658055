-- Run by tests/network.rs (network/hostile.rs): a server and a legitimate client (through a
-- clean relay) keep talking while the Rust side throws malformed, forged and mutated datagrams
-- at both hosts, until it creates ENET_STOP_FILE.
-- ENET_MODE=strict: the legitimate connection must not notice anything: no disconnect, every
--   reliable message exactly once and in order on channels 0 and 1, both ways.
-- ENET_MODE=fuzz: datagrams from the client's own address may end the connection (a mutated
--   DISCONNECT is a valid one); the client then reconnects. At the end the hosts must still
--   serve: a fresh round trip works. In both modes service never raises.
local T = require "t"
local N = require "netlib"
require "enet"

local relay = assert(os.getenv("ENET_RELAY"), "ENET_RELAY")
local strict = N.env("ENET_MODE", "strict") == "strict"
local compress = N.env("ENET_COMPRESS") ~= nil
local slow = N.env("ENET_SLOW") ~= nil -- under valgrind

T.test("hosts keep serving the legitimate client under hostile datagrams", function()
  -- ENET_BIND: "[::1]:*" for the IPv6 cases; the client (no address) is dual stack anyway.
  local server = assert(enet.host_create(N.env("ENET_BIND", "127.0.0.1:*"), 64, 4))
  local client = assert(enet.host_create(nil, 1, 4))
  if compress then
    T.eq(server:compress_with_range_coder(), true, "server compresses")
    T.eq(client:compress_with_range_coder(), true, "client compresses")
  end
  N.relay("server " .. server:get_socket_address(), { server, client })

  local c = { foreign = 0, foreign_events = 0, disconnects = 0, reconnects = 0, rounds = 0 }
  local cpeer, speer
  -- per direction: next number to send and next number expected, per channel
  local sent, want, got
  local function fresh()
    sent = { [server] = { [0] = 0, [1] = 0 }, [client] = { [0] = 0, [1] = 0 } }
    want = { [server] = { [0] = 1, [1] = 1 }, [client] = { [0] = 1, [1] = 1 } }
  end
  got = {}
  fresh()
  local timeout_min = slow and 20000 or 5000

  local function handler(h, e)
    if h == server and e.type == "connect" then
      if speer == nil and cpeer and cpeer:state() ~= "disconnected" then
        speer = e.peer
        speer:timeout(0, timeout_min, 2 * timeout_min)
      else
        c.foreign_events = c.foreign_events + 1
        e.peer:reset()
      end
      return
    end
    local legit = (h == client) or (e.peer == speer)
    if not legit then
      c.foreign_events = c.foreign_events + 1
      return
    end
    if e.type == "disconnect" then
      T.ok(not strict, "the legitimate connection was never disturbed (got a disconnect)")
      c.disconnects = c.disconnects + 1
      -- start over: forget both ends, reconnect
      if speer then speer:reset() end
      cpeer:reset()
      speer, cpeer = nil, nil
      return
    end
    if e.type ~= "receive" then return end
    local kind, ch, i = N.parse(e.data)
    if kind == "U" and e.channel == 0 and e.data == N.msg("U", 0, i) then return end
    if kind ~= "R" or (e.channel ~= 0 and e.channel ~= 1) or ch ~= e.channel then
      -- forged traffic on the channels the attacker uses (2, 3), or mutated payloads
      T.ok(not strict or e.channel >= 2, "only forged channels carry foreign data")
      c.foreign = c.foreign + 1
      return
    end
    if strict then
      T.eq(e.data, N.msg("R", ch, i), "payload")
      T.eq(i, want[h][ch], "reliable number on channel " .. ch)
    end
    if i == want[h][ch] then want[h][ch] = i + 1 end
    got[h] = (got[h] or 0) + 1
  end

  local function service_all()
    for _, h in ipairs({ server, client }) do
      local e = h:service(1)
      while e do
        handler(h, e)
        e = h:check_events()
      end
    end
  end

  -- (Re)connects; in the fuzz a replayed VERIFY_CONNECT can fail a handshake: try again.
  local function connect()
    for _ = 1, 20 do
      cpeer = client:connect(relay, 4)
      cpeer:timeout(0, timeout_min, 2 * timeout_min)
      fresh()
      N.pump({ server, client }, slow and 60000 or 10000, function()
        return cpeer == nil or (speer ~= nil and cpeer:state() == "connected")
      end, handler)
      if cpeer then return end
      c.reconnects = c.reconnects + 1
    end
    error("could not reconnect")
  end

  connect()
  N.say("READY " .. server:get_socket_address())

  local function talk()
    for _, pair in ipairs({ { client, cpeer }, { server, speer } }) do
      local h, p = pair[1], pair[2]
      local other = (h == client) and server or client
      for ch = 0, 1 do
        -- a bounded number in flight
        if sent[h][ch] - (want[other][ch] - 1) < 32 then
          sent[h][ch] = sent[h][ch] + 1
          local rc = p:send(N.msg("R", ch, sent[h][ch]), ch)
          if strict then T.eq(rc, 0, "send") end
        end
      end
      p:send(N.msg("U", 0, sent[h][0]), 0, "unreliable")
    end
  end

  local start = server:service_time()
  while true do
    c.rounds = c.rounds + 1
    if cpeer == nil then
      -- during the fuzz, reconnect without waiting: the attempt may be disrupted again
      c.reconnects = c.reconnects + 1
      cpeer = client:connect(relay, 4)
      cpeer:timeout(0, timeout_min, 2 * timeout_min)
      fresh()
    end
    if speer and cpeer:state() == "connected" then talk() end
    service_all()
    if c.rounds % 25 == 0 and N.stop_requested() then break end
    if server:service_time() - start > (slow and 200000 or 60000) then error("no stop signal") end
  end

  -- Everything sent must now arrive (strict), or a fresh exchange must work (fuzz).
  if strict then
    N.pump({ server, client }, 10000, function()
      for _, h in ipairs({ server, client }) do
        local other = (h == client) and server or client
        for ch = 0, 1 do
          if want[other][ch] - 1 ~= sent[h][ch] then return false end
        end
      end
      return true
    end, handler)
    T.eq(c.disconnects, 0, "disconnects")
  else
    local answered, attempts = false, 0
    while not answered and attempts < 4 do
      attempts = attempts + 1
      -- Replayed CONNECTs from the client's address leave half-open peers on the server that
      -- keep sending VERIFY_CONNECT and DISCONNECT to that address until they time out (up to
      -- 30 s); a connecting peer accepts them (it has no session yet) and is refused. A server
      -- under such an attack resets its stale peers, as this one does.
      for i = 1, server:peer_count() do server:get_peer(i):reset() end
      client:get_peer(1):reset()
      if attempts > 2 then
        -- a new client host (a new address): tells a wedged client host from a wedged server
        print("final round trip, attempt " .. attempts .. ": from a new client host")
        client:destroy()
        client = assert(enet.host_create(nil, 1, 4))
        if compress then client:compress_with_range_coder() end
      end
      cpeer, speer = nil, nil
      local ok, err = pcall(function()
        connect()
        cpeer:send("final?")
        N.pump({ server, client }, slow and 30000 or 5000, function()
          return answered or cpeer == nil
        end, function(h, e)
          if e.type == "receive" and e.data == "final?" and h == server then
            e.peer:send("final!")
          elseif e.type == "receive" and e.data == "final!" and h == client then
            answered = true
          else
            handler(h, e)
          end
        end)
      end)
      if not ok then print("final round trip, attempt " .. attempts .. ": " .. tostring(err)) end
    end
    T.ok(answered, "a fresh round trip after the fuzz")
    c.final_attempts = attempts
  end
  local checked = 0
  for _, n in pairs(got) do checked = checked + n end
  T.ok(checked > 0, "legitimate messages arrived")
  N.say(string.format("COUNT %s%s: legitimate reliable messages checked %d, forged deliveries %d, foreign events %d, reconnects %d, service rounds %d%s",
    strict and "strict" or "fuzz", compress and "+compression" or "", checked,
    c.foreign, c.foreign_events, c.reconnects, c.rounds,
    c.final_attempts and (", final round trip on attempt " .. c.final_attempts) or ""))
  server:destroy()
  client:destroy()
end)
T.done()
