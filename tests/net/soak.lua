-- Run by tests/network.rs: long and wide traffic on loopback, then the process must be back
-- where it started (RSS, open descriptors) once its hosts are destroyed or collected.
local T = require "t"
local N = require "netlib"
require "enet"

local rng = N.rng(N.num("ENET_SEED", 1))

local function pair(channels)
  local server = assert(enet.host_create("127.0.0.1:*", 8, channels))
  local client = assert(enet.host_create(nil, 8, channels))
  local cpeer = client:connect(server:get_socket_address(), channels)
  local speer
  N.pump({ server, client }, 5000, function() return speer and cpeer:state() == "connected" end,
    function(h, e) if h == server and e.type == "connect" then speer = e.peer end end)
  return server, client, cpeer, speer
end

T.test("70,000 reliable messages on one channel arrive once and in order across the 16-bit sequence wrap", function()
  local TOTAL, WINDOW = 70000, 2000
  local server, client, cpeer = pair(1)
  local sent, nextwant = 0, 1
  local handler = function(h, e)
    if h == server and e.type == "receive" then
      if e.data ~= tostring(nextwant) then
        error("expected message " .. nextwant .. ", got " .. e.data:sub(1, 20))
      end
      nextwant = nextwant + 1
    end
  end
  local ms = N.pump({ server, client }, 60000, function()
    while sent < TOTAL and sent - nextwant < WINDOW do
      sent = sent + 1
      T.eq(cpeer:send(tostring(sent), 0), 0, "send")
    end
    return nextwant > TOTAL
  end, handler)
  T.eq(nextwant - 1, TOTAL, "messages")
  N.say(string.format("COUNT soak: %d reliable messages checked in order on one channel in %d ms", TOTAL, ms))
  server:destroy(); client:destroy()
end)

T.test("every size from 0 to 64 KiB around each fragment boundary arrives intact", function()
  -- ENet fragments a packet longer than mtu - sizeof(header) - sizeof(send fragment), 1364
  -- bytes at the default MTU of 1392 (1372 at 1400, older releases' default: tested too).
  local sizes, seen = {}, {}
  local function add(n) if n >= 0 and n <= 65536 and not seen[n] then seen[n] = true; sizes[#sizes + 1] = n end end
  for n = 0, 3 do add(n) end
  for _, frag in ipairs({ 1364, 1372 }) do
    for k = 1, math.floor(65536 / frag) + 1 do
      for d = -1, 1 do add(k * frag + d) end
    end
  end
  for _, n in ipairs({ 1382, 1383, 1392, 1393, 4095, 4096, 4097, 32767, 32768, 65534, 65535, 65536 }) do add(n) end
  for _ = 1, 40 do add(rng.next(65537) - 1) end
  local server, client, cpeer = pair(2)
  local expect, got, unreliable = {}, 0, 0
  for i, n in ipairs(sizes) do
    expect[i] = N.bytes(i, n)
    T.eq(cpeer:send(expect[i], 0), 0, "send reliable " .. n)
    cpeer:send(expect[i], 1, "unreliable")
  end
  local index = 1
  local ms = N.pump({ server, client }, 30000, function() return got == #sizes end, function(h, e)
    if h ~= server or e.type ~= "receive" then return end
    if e.channel == 0 then
      if e.data ~= expect[index] then
        error(string.format("size %d: got %d bytes, not the %d bytes sent", sizes[index], #e.data, #expect[index]))
      end
      index, got = index + 1, got + 1
    else
      local ok = false
      for i = 1, #sizes do if sizes[i] == #e.data and expect[i] == e.data then ok = true break end end
      T.ok(ok, "unreliable packet of " .. #e.data .. " bytes intact")
      unreliable = unreliable + 1
    end
  end)
  N.say(string.format("COUNT sizes: %d sizes 0..65536 checked (reliable), %d unreliable copies intact, in %d ms", #sizes, unreliable, ms))
  server:destroy(); client:destroy()
end)

T.test("connecting beyond peer_count raises 'Failed to create peer'", function()
  local server = assert(enet.host_create("127.0.0.1:*", 8, 1))
  local client = assert(enet.host_create(nil, 3, 1))
  local addr = server:get_socket_address()
  for _ = 1, 3 do T.ok(client:connect(addr), "connect within peer_count") end
  T.raises("Failed to create peer", client.connect, client, addr)
  T.raises("Failed to create peer", client.connect, client, addr)
  client:destroy(); server:destroy()
end)

local function statm_rss_kb()
  local f = assert(io.open("/proc/self/statm"))
  local _, rss = f:read("*n", "*n")
  f:close()
  return rss * 4 -- pages of 4 KiB on the platforms we test
end

local pid
local function open_fds()
  if not pid then
    local f = assert(io.open("/proc/self/stat"))
    pid = f:read("*n")
    f:close()
  end
  -- sockets only: pipes and /dev/null inherited from the test runner come and go with it
  local p = assert(io.popen("ls -l /proc/" .. pid .. "/fd | grep -c socket:"))
  local n = p:read("*n")
  p:close()
  return n
end

-- 24 hosts in one process, connected in pairs, talking; half destroyed, half dropped.
local function crowd(hosts_per_round)
  local hosts, peers = {}, {}
  for i = 1, hosts_per_round / 2 do
    local server = assert(enet.host_create("127.0.0.1:*", 4, 2))
    local client = assert(enet.host_create(nil, 4, 2))
    hosts[#hosts + 1] = server
    hosts[#hosts + 1] = client
    peers[i] = client:connect(server:get_socket_address(), 2)
  end
  local received = 0
  N.pump(hosts, 10000, function()
    for _, p in ipairs(peers) do if p:state() ~= "connected" then return false end end
    return true
  end)
  for i, p in ipairs(peers) do p:send(N.bytes(i, 3000), 1) end
  N.pump(hosts, 10000, function() return received == #peers end, function(_, e)
    if e.type == "receive" then received = received + 1 end
  end)
  for i = 1, #hosts, 2 do hosts[i]:destroy() end -- the others are left to the collector
  return received
end

T.test("RSS and open descriptors are flat once many hosts are destroyed or collected", function()
  local PER_ROUND, ROUNDS = 24, 8
  collectgarbage(); collectgarbage()
  local fds0 = open_fds()
  local checked = 0
  checked = checked + crowd(PER_ROUND)
  checked = checked + crowd(PER_ROUND)
  collectgarbage(); collectgarbage()
  local rss0 = statm_rss_kb()
  T.eq(open_fds(), fds0, "open descriptors after warm-up rounds")
  for _ = 3, ROUNDS do
    checked = checked + crowd(PER_ROUND)
    collectgarbage(); collectgarbage()
    T.eq(open_fds(), fds0, "open descriptors after a round")
  end
  local rss1 = statm_rss_kb()
  T.ok(rss1 - rss0 < 2048, "RSS grew by " .. (rss1 - rss0) .. " KiB over " .. (ROUNDS - 2) .. " rounds")
  N.say(string.format("COUNT hosts: %d hosts in %d rounds of %d, %d messages; fds %d before and after; RSS %d KiB -> %d KiB",
    PER_ROUND * ROUNDS, ROUNDS, PER_ROUND, checked, fds0, rss0, rss1))
end)
T.done()
