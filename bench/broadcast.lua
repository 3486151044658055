-- Broadcast to 200 connected clients (200 client hosts in this process): the server broadcasts
-- 4 reliable 32-byte messages per round, services itself, then every client is drained with
-- service(0). Prints messages delivered (receive events over all clients) per second:
--   broadcast_200 <msgs/s> msgs/s
local b = dofile((arg and arg[0] and arg[0]:match("^(.*)/") or ".") .. "/common.lua")

local CLIENTS, PER_ROUND = 200, 4
local server = b.host(CLIENTS)
local clients = {}
for i = 1, CLIENTS do clients[i] = b.host(1) end
b.connect(server, clients)
local msg = b.msg32

local function run(seconds)
  local received = 0
  local function count(e)
    if e.type == "receive" then received = received + 1 end
  end
  local check = b.guard("broadcast")
  local t0 = b.clock()
  local elapsed = 0
  while elapsed < seconds do
    for _ = 1, PER_ROUND do server:broadcast(msg, 0, "reliable") end
    b.drain(server)
    for i = 1, CLIENTS do b.drain(clients[i], count) end
    check()
    elapsed = b.clock() - t0
  end
  if received == 0 then b.fail("broadcast: nothing delivered") end
  return received / elapsed
end

run(0.1 * b.seconds) -- warm-up
b.report("broadcast_200", run(b.seconds), "msgs/s")
for i = 1, CLIENTS do clients[i]:destroy() end
server:destroy()
