-- The idle service by slots: an echo-less server with one connected client, the cost of
-- server:service(0) at 64 and 4,095 slots (best of 5 rounds of 200,000 calls, os.clock).
-- Usage: LUA_CPATH="DIR/?.so;;" taskset -c 0 luajit bench/idle.lua
local enet = require "enet"
for _, slots in ipairs{64, 4095} do
  local server = assert(enet.host_create("127.0.0.1:*", slots))
  local client = assert(enet.host_create(nil, 1))
  local peer = client:connect(server:get_socket_address())
  for _ = 1, 200 do client:service(1); server:service(1); if peer:state() == "connected" then break end end
  local best = math.huge
  for r = 1, 5 do
    local n, t0 = 200000, os.clock()
    for i = 1, n do server:service(0) end
    best = math.min(best, (os.clock() - t0) / n * 1e9)
    client:service(0)
  end
  print(string.format("%d slots: idle service(0) %.0f ns (best of 5)", slots, best))
  server:destroy() client:destroy()
end
