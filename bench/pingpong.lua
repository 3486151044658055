-- Reliable ping-pong: 32-byte messages, one in flight. The client sends, the server echoes the
-- event's data back to its peer, the client sends again on receipt. Both hosts live in this
-- process and are serviced alternately with service(0).
-- Prints: pingpong_reliable <round trips per second> rt/s
local b = dofile((arg and arg[0] and arg[0]:match("^(.*)/") or ".") .. "/common.lua")

local server, client, peer = b.pair()
local msg = b.msg32

local function run(seconds)
  local trips, iter = 0, 0
  local check = b.guard("ping-pong")
  peer:send(msg)
  local t0 = b.clock()
  local elapsed = 0
  while true do
    local e = server:service(0)
    if e and e.type == "receive" then e.peer:send(e.data) end
    e = client:service(0)
    if e and e.type == "receive" then
      trips = trips + 1
      peer:send(msg)
    end
    iter = iter + 1
    if iter % 64 == 0 then
      elapsed = b.clock() - t0
      if elapsed >= seconds then break end
      check()
    end
  end
  -- let the last message come home so the next run starts with nothing in flight
  local check2 = b.guard("ping-pong drain")
  local done = false
  while not done do
    check2()
    b.drain(server, function(e) if e.type == "receive" then e.peer:send(e.data) end end)
    b.drain(client, function(e) if e.type == "receive" then done = true end end)
  end
  return trips, elapsed
end

run(0.1 * b.seconds) -- warm-up: RTT estimates, JIT traces
local trips, elapsed = run(b.seconds)
if trips == 0 then b.fail("ping-pong: no round trip completed") end
b.report("pingpong_reliable", trips / elapsed, "rt/s")
server:destroy()
client:destroy()
