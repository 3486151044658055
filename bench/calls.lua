-- Per-call cost of the cheapest and the most frequent calls, in nanoseconds, with the cost of an
-- empty loop of the same length subtracted:
--   call_peer_state, call_round_trip_time: peer:state(), peer:round_trip_time()
--   call_total_sent_data: host:total_sent_data(), a host's counter
--   call_service_idle: host:service(0) on a connected client with nothing pending
--   call_send_unsequenced: peer:send(<32 bytes>, 0, "unsequenced"), timed in blocks of 256
--     sends; between blocks (untimed) the client is flushed and the server drained.
--   call_send_flushed: the same sends with the client's flush after each block timed too, per
--     message: what a send costs once its datagrams left (in background mode, a send of a small
--     message only queues it, and the flush, or the thread, hands it to ENet: src/sendq.rs).
local b = dofile((arg and arg[0] and arg[0]:match("^(.*)/") or ".") .. "/common.lua")

local server, client, peer = b.pair()
local msg = b.msg32

local function empty(n) for _ = 1, n do end end
local function state(n) for _ = 1, n do peer:state() end end
local function rtt(n) for _ = 1, n do peer:round_trip_time() end end
local function sent(n) for _ = 1, n do client:total_sent_data() end end
local function service(n) for _ = 1, n do client:service(0) end end

local function timed(f, n)
  local t0 = b.clock()
  f(n)
  return b.clock() - t0
end

-- Calibrates n so that f(n) takes about `seconds`, then returns ns per iteration of f minus
-- ns per iteration of the empty loop.
local function per_call(f, seconds)
  local n = 1000
  while true do
    local t = timed(f, n)
    if t >= 0.05 * seconds then
      n = math.floor(n * seconds / t)
      break
    end
    n = n * 4
    if n > 1e10 then b.fail("per_call: the loop takes no time") end
  end
  local t = timed(f, n)
  local t_empty = timed(empty, n)
  return (t - t_empty) / n * 1e9
end

b.report("call_peer_state", per_call(state, b.seconds), "ns")
b.report("call_round_trip_time", per_call(rtt, b.seconds), "ns")
b.report("call_total_sent_data", per_call(sent, b.seconds), "ns")
b.settle({ server, client })
b.report("call_service_idle", per_call(service, b.seconds), "ns")
b.settle({ server, client })

local BLOCK = 256
-- Seconds of the block's sends, and of its sends and the flush after them.
local function send_block()
  local t0 = b.clock()
  for _ = 1, BLOCK do peer:send(msg, 0, "unsequenced") end
  local t1 = b.clock()
  client:flush()
  return t1 - t0, b.clock() - t0
end
local function empty_block()
  local t0 = b.clock()
  for _ = 1, BLOCK do end
  return b.clock() - t0
end

local function send_cost(seconds)
  local busy, flushed, blocks = 0, 0, 0
  local check = b.guard("send")
  while busy < seconds do
    local sending, with_flush = send_block()
    busy, flushed = busy + sending, flushed + with_flush
    blocks = blocks + 1
    b.drain(server)
    if blocks % 64 == 0 then check() end
  end
  local idle = 0
  for _ = 1, blocks do idle = idle + empty_block() end
  return (busy - idle) / (blocks * BLOCK) * 1e9, (flushed - idle) / (blocks * BLOCK) * 1e9
end

send_cost(0.05 * b.seconds) -- warm-up
local send_ns, flushed_ns = send_cost(0.5 * b.seconds)
b.report("call_send_unsequenced", send_ns, "ns")
b.report("call_send_flushed", flushed_ns, "ns")
server:destroy()
client:destroy()
