-- One-way burst: the client queues 32-byte messages in batches of 64 sends, then services
-- itself once (which sends them) and drains the server with service(0), counting receive
-- events. Reliable sends stop while more than 4096 are unacknowledged, so ENet's queues stay
-- bounded. Prints messages delivered per second:
--   burst_reliable <msgs/s> msgs/s
--   burst_unsequenced <msgs/s> msgs/s
local b = dofile((arg and arg[0] and arg[0]:match("^(.*)/") or ".") .. "/common.lua")

local BATCH, CAP = 64, 4096

local function burst(flag, seconds)
  local server, client, peer = b.pair()
  local msg = b.msg32
  local sent, received = 0, 0
  local function count(e)
    if e.type == "receive" then received = received + 1 end
  end
  local check = b.guard("burst " .. flag)
  local rounds = 0
  local t0 = b.clock()
  local elapsed = 0
  while elapsed < seconds do
    if flag ~= "reliable" or sent - received < CAP then
      for _ = 1, BATCH do peer:send(msg, 0, flag) end
      sent = sent + BATCH
    end
    b.drain(client)
    b.drain(server, count)
    rounds = rounds + 1
    if rounds % 16 == 0 then check() end
    elapsed = b.clock() - t0
  end
  if received == 0 then b.fail("burst " .. flag .. ": nothing delivered") end
  server:destroy()
  client:destroy()
  return received / elapsed
end

burst("reliable", 0.1 * b.seconds) -- warm-up
b.report("burst_reliable", burst("reliable", b.seconds), "msgs/s")
b.report("burst_unsequenced", burst("unsequenced", b.seconds), "msgs/s")
