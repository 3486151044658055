-- A lowered limit of held data (host:maximum_waiting_data, and the host's and the address's)
-- slows a sender down, it must never stop it: 1,000 reliable messages of 1 KB against a limit of
-- 100,000 bytes, the server's Lua taking every event as it comes. Before vendor/enet 0043 a message refused at the full
-- limit could find the room taken, when it came again, by later messages that waited for it:
-- then nothing could be delivered or released, every retransmission was refused and the client
-- timed the server out (the acceptance review of issue 21: 9 runs in 11 with both hosts in
-- background mode, where the thread receives while Lua drains; none in 10 in normal mode, where
-- the same order of events is rarer). tests/network's held_gap_filler makes that order on
-- purpose; this is the real sender, in each mode.
local T = require "t"
local enet = require "enet"
local timing = require "timing"

local COUNT, LIMIT = 1000, 100000

local function run(server_background, client_background, limit)
  local server, client, cpeer = T.pair()
  server[limit](server, LIMIT)
  if server_background then assert(server:background(true)) end
  if client_background then assert(client:background(true)) end
  local body = string.rep("x", 1000)
  for i = 1, COUNT do cpeer:send(i .. ":" .. body) end
  local got, order, other = 0, true, nil
  local event = {}
  local t0 = timing.now()
  -- 20 s: all of it takes well under a second; a wedged connection times out in 5-30 s.
  while got < COUNT and timing.now() - t0 < 20000 do
    local e = server:service(5, event)
    while e do
      if e.type == "receive" then
        got = got + 1
        if tonumber(e.data:match("^(%d+):")) ~= got then order = false end
      else
        other = other or e.type
      end
      e = server:check_events(event)
    end
    if not client_background then
      local c = client:service(0)
      while c do other = other or ("client " .. c.type); c = client:check_events() end
    end
  end
  local state = cpeer:state()
  client:destroy()
  server:destroy()
  return got, order, other, state
end

for _, mode in ipairs({
  { "normal mode", false, false, "maximum_waiting_data" },
  { "both hosts in background mode", true, true, "maximum_waiting_data" },
  { "the server in background mode", true, false, "maximum_waiting_data" },
  { "both hosts in background mode, the host's limit", true, true, "maximum_host_waiting_data" },
  { "both hosts in background mode, the address's limit", true, true, "maximum_address_waiting_data" },
}) do
  T.test(mode[1] .. ": every message arrives under a 100,000-byte " .. mode[4], function()
    for round = 1, 3 do
      local got, order, other, state = run(mode[2], mode[3], mode[4])
      T.eq(got, COUNT, "round " .. round .. ": messages delivered")
      T.ok(order, "round " .. round .. ": in order")
      T.eq(other, nil, "round " .. round .. ": no other event (a timeout would be a disconnect)")
      T.eq(state, "connected", "round " .. round .. ": the client's peer")
    end
  end)
end

T.done()
