-- Garbage per received event: `host:service(0)` returning a new table per event (the lua-enet
-- way) against `host:service(0, event)` filling one reused table (this module's zero-garbage
-- form; lua-enet ignores the extra argument, so there both lines cost the same).
-- Counts Lua heap growth with the collector stopped while N identical 32-byte messages are
-- received (identical payloads are one interned string, so only the event tables differ).
-- Prints:
--   gc_bytes_per_event_new <bytes> bytes
--   gc_bytes_per_event_reused <bytes> bytes
local b = dofile((arg and arg[0] and arg[0]:match("^(.*)/") or ".") .. "/common.lua")
local N = 20000

local function measure(reuse)
  local server, client, peer = b.pair()
  local event = reuse and {} or nil
  local received, sent = 0, 0
  local check = b.guard("gc " .. tostring(reuse))
  collectgarbage("collect")
  collectgarbage("stop")
  local before = collectgarbage("count")
  while received < N do
    if sent < N and sent - received < 1024 then
      for _ = 1, 64 do peer:send(b.msg32, 0, "unsequenced") end
      sent = sent + 64
    end
    client:service(0)
    local e = server:service(0, event)
    while e do
      if e.type == "receive" then received = received + 1 end
      e = server:service(0, event)
    end
    check()
    if sent >= N and received < N then
      -- unsequenced messages can be dropped: top up so that exactly N arrive
      sent = received
    end
  end
  local grown = (collectgarbage("count") - before) * 1024
  collectgarbage("restart")
  server:destroy()
  client:destroy()
  return grown / N
end

b.report("gc_bytes_per_event_new", string.format("%.1f", measure(false)), "bytes")
b.report("gc_bytes_per_event_reused", string.format("%.1f", measure(true)), "bytes")
