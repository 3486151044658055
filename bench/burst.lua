-- One-way burst: the client queues 32-byte messages in batches of 64 sends, then services
-- itself once (which sends them) and drains the server with service(0), counting receive
-- events. Reliable sends stop while more than 4096 are unacknowledged, so ENet's queues stay
-- bounded. Prints messages delivered per second:
--   burst_reliable <msgs/s> msgs/s
--   burst_unsequenced <msgs/s> msgs/s
-- ENET_BENCH_ROUNDS=N: a fixed amount of work instead of a fixed time, for instruction counts
-- (callgrind, which slows time 50-fold): N batches of each kind, run until all are delivered
-- (or, unsequenced, until 1000 rounds bring nothing more), no warm-up, a 600 s guard; prints
-- the messages delivered, the rounds and, in background mode, the passes of the threads and of
-- Lua (`burst_<kind>_messages <n> messages in <r> rounds ...`); ENET_BENCH_KIND=reliable or
-- =unsequenced runs that one only. See README.md, "The last gap, counted".
local b = dofile((arg and arg[0] and arg[0]:match("^(.*)/") or ".") .. "/common.lua")

local BATCH, CAP = 64, 4096

local ROUNDS = tonumber(os.getenv("ENET_BENCH_ROUNDS") or "")

local function burst(flag, seconds)
  local server, client, peer = b.pair()
  local msg = b.msg32
  local sent, received = 0, 0
  local function count(e)
    if e.type == "receive" then received = received + 1 end
  end
  local check = b.guard("burst " .. flag, ROUNDS and 600)
  local rounds = 0
  local t0 = b.clock()
  local elapsed = 0
  local want = ROUNDS and ROUNDS * BATCH
  local quiet, last = 0, 0
  while (want and received < want and quiet < 1000) or (not want and elapsed < seconds) do
    if (flag ~= "reliable" or sent - received < CAP) and not (want and sent >= want) then
      for _ = 1, BATCH do peer:send(msg, 0, flag) end
      sent = sent + BATCH
    end
    b.drain(client)
    b.drain(server, count)
    rounds = rounds + 1
    if want and sent >= want then
      quiet = received == last and quiet + 1 or 0
      last = received
    end
    if rounds % 16 == 0 then check() end
    elapsed = b.clock() - t0
  end
  if received == 0 then b.fail("burst " .. flag .. ": nothing delivered") end
  local passes = ""
  if want and server.background_stats then
    local s, c = server:background_stats(), client:background_stats()
    passes = string.format(" (thread passes: server %d, client %d; Lua's: %d, %d)",
      s.passes, c.passes, s.lua_passes, c.lua_passes)
  end
  server:destroy()
  client:destroy()
  if want then
    print(string.format("burst_%s_messages %d messages in %d rounds%s", flag, received, rounds, passes))
  end
  return received / elapsed
end

if ROUNDS then
  local kind = os.getenv("ENET_BENCH_KIND") -- one of the two only
  for _, flag in ipairs({"reliable", "unsequenced"}) do
    if not kind or kind == flag then burst(flag) end
  end
  return
end

burst("reliable", 0.1 * b.seconds) -- warm-up
b.report("burst_reliable", burst("reliable", b.seconds), "msgs/s")
b.report("burst_unsequenced", burst("unsequenced", b.seconds), "msgs/s")
