-- The idle service by slots: the cost of server:service(0) when no peer has anything to send, at
-- 64 and 4,095 slots (the median of 101 rounds of 2,000 calls, os.clock; the clients are serviced
-- between rounds, untimed, so the server's pings are answered as a live client would).
-- IDLE_PEERS=n (default 1): n connected peers (from client hosts of up to 500 peers each; at
-- most the slots less one), idle but for ENet's own pings. Our flood defence is off (it limits handshakes per
-- address, and it is not what is measured).
-- Usage: LUA_CPATH="DIR/?.so;;" [IDLE_PEERS=4000] taskset -c 0 luajit bench/idle.lua
local enet = require "enet"
local wanted = tonumber(os.getenv("IDLE_PEERS") or "1")
for _, slots in ipairs{64, 4095} do
  local server = assert(enet.host_create("127.0.0.1:*", slots))
  if server.flood_defence then server:flood_defence(false) end
  local npeers = math.min(wanted, slots - 1)
  local clients, peers = {}, {}
  local function pump()
    for _, c in ipairs(clients) do while c:service(0) do end end
    while server:service(0) do end
  end
  local function joined()
    local n = 0
    for _, p in ipairs(peers) do if p:state() == "connected" then n = n + 1 end end
    return n
  end
  -- in batches of 100: thousands of CONNECTs at once overflow the server's socket buffer
  for first = 1, npeers, 100 do
    for i = first, math.min(first + 99, npeers) do
      local c = clients[math.floor((i - 1) / 500) + 1]
      if not c then
        c = assert(enet.host_create(nil, 500))
        clients[#clients + 1] = c
      end
      peers[i] = c:connect(server:get_socket_address())
    end
    local deadline = os.time() + 10
    repeat pump() until joined() == #peers or os.time() > deadline
  end
  for _ = 1, 50 do pump() end
  local rounds = {}
  for r = 1, 101 do
    local n, t0 = 2000, os.clock()
    for i = 1, n do server:service(0) end
    rounds[r] = (os.clock() - t0) / n * 1e9
    pump()
  end
  table.sort(rounds)
  print(string.format("%d slots, %d of %d peers connected: idle service(0) %.0f ns (median of 101 rounds)",
    slots, joined(), npeers, rounds[51]))
  for _, c in ipairs(clients) do c:destroy() end
  server:destroy()
end
