-- Fixed-count driver for bench/profile: repeats one operation ENET_PROF_N times so that the
-- instruction count difference between N and 0 repetitions, divided by N, is the cost of one
-- operation (deterministic under callgrind, unlike time). Operations (ENET_PROF_OP):
--   state, round_trip_time, service_idle, send (32 bytes unsequenced, queued, never flushed),
--   total_sent_data, send_flushed (blocks of 256 sends, flushed, the server drained: per block),
--   burst_unsequenced, burst_reliable (N rounds of burst.lua's 64 sends + drains; the cost is per
--   delivered message: divide by 64 N).
local b = dofile((arg and arg[0] and arg[0]:match("^(.*)/") or ".") .. "/common.lua")

local op = os.getenv("ENET_PROF_OP") or "state"
local n = tonumber(os.getenv("ENET_PROF_N") or "0")
local server, client, peer = b.pair()
local msg = b.msg32
b.settle({ server, client })

if op == "state" then
  for _ = 1, n do peer:state() end
elseif op == "round_trip_time" then
  for _ = 1, n do peer:round_trip_time() end
elseif op == "service_idle" then
  for _ = 1, n do client:service(0) end
elseif op == "send" then
  for _ = 1, n do peer:send(msg, 0, "unsequenced") end
elseif op == "total_sent_data" then
  for _ = 1, n do client:total_sent_data() end
elseif op == "send_flushed" then
  -- calls.lua's call_send_flushed: blocks of 256 sends, each block flushed and the server
  -- drained (divide by 256 N for one message)
  for _ = 1, n do
    for _ = 1, 256 do peer:send(msg, 0, "unsequenced") end
    client:flush()
    b.drain(server)
  end
elseif op == "burst_unsequenced" or op == "burst_reliable" then
  local flag = op == "burst_reliable" and "reliable" or "unsequenced"
  local received = 0
  local function count(e) if e.type == "receive" then received = received + 1 end end
  for _ = 1, n do
    for _ = 1, 64 do peer:send(msg, 0, flag) end
    b.drain(client)
    b.drain(server, count)
  end
  -- reliable: make sure everything arrived so every run does the same work
  local check = b.guard("prof drain")
  while flag == "reliable" and received < 64 * n do
    check()
    b.drain(client)
    b.drain(server, count)
  end
  -- background mode (ENET_BENCH_BACKGROUND=1): who made the passes; under valgrind, which runs
  -- one thread at a time, the threads make passes that a real run does not (README.md, "The
  -- last gap, counted")
  if server.background_stats then
    local s, c = server:background_stats(), client:background_stats()
    io.stderr:write(string.format("passes: threads %d (server) %d (client), Lua's %d %d\n",
      s.passes, c.passes, s.lua_passes, c.lua_passes))
  end
else
  b.fail("unknown ENET_PROF_OP " .. op)
end
