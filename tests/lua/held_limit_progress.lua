-- A lowered limit of held data (host:maximum_waiting_data, and the host's and the address's)
-- slows a sender down, it must never stop it. The server's Lua takes every event as it comes.
--
-- 1,000 reliable messages of 1 KB against a limit of 100,000 bytes. Before vendor/enet 0043 a
-- message refused at the full limit could find the room taken, when it came again, by later
-- messages that waited for it: then nothing could be delivered or released, every
-- retransmission was refused and the client timed the server out (the acceptance review of
-- issue 21: 9 runs in 11 with both hosts in background mode, where the thread receives while
-- Lua drains; none in 10 in normal mode, where the same order of events is rarer).
-- tests/network's held_gap_filler makes that order on purpose; this is the real sender.
--
-- 30 messages of 25,000 bytes, larger than a 20,000-byte peer limit (so fragmented, each alone
-- past the limit). From the attack review of 0043: message k is refused while k-1 waits for the
-- program; k-1 is taken, and the first fragment of k+1 arrives while the peer holds nothing, so
-- it is held (one message larger than the limit when nothing else waits). k, the channel's next,
-- was then refused for good (1 of 200 delivered, before 0043 and with its first version). Slow
-- by nature: each message waits for a retransmission, about 27 ms here. Several channels under
-- such a limit still starve: tests/known/held_limit_channels.lua.
local T = require "t"
local timing = require "timing"

-- The server limited by `limit` (a host method) to `bytes`; `count` messages of `size` bytes.
local function run(server_background, client_background, limit, bytes, count, size)
  local server, client, cpeer = T.pair()
  server[limit](server, bytes)
  if server_background then assert(server:background(true)) end
  if client_background then assert(client:background(true)) end
  local body = string.rep("x", size)
  for i = 1, count do cpeer:send(i .. ":" .. body) end
  local got, order, other = 0, true, nil
  local event = {}
  local t0 = timing.now()
  -- 20 s: each case takes about a second; a wedged connection times out in 5-30 s.
  while got < count and timing.now() - t0 < 20000 do
    local e = server:service(5, event)
    while e do
      if e.type == "receive" then
        got = got + 1
        if tonumber(e.data:match("^(%d+):")) ~= got or #e.data ~= size + #tostring(got) + 1 then
          order = false
        end
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

local cases = {
  -- name, server and client in background mode, the limit, its bytes, messages, size, rounds
  { "normal mode", false, false, "maximum_waiting_data", 100000, 1000, 1000, 3 },
  { "both hosts in background mode", true, true, "maximum_waiting_data", 100000, 1000, 1000, 3 },
  { "the server in background mode", true, false, "maximum_waiting_data", 100000, 1000, 1000, 3 },
  { "both hosts in background mode", true, true, "maximum_host_waiting_data", 100000, 1000, 1000, 3 },
  { "both hosts in background mode", true, true, "maximum_address_waiting_data", 100000, 1000, 1000, 3 },
  { "normal mode", false, false, "maximum_waiting_data", 20000, 30, 25000, 1 },
  { "both hosts in background mode", true, true, "maximum_waiting_data", 20000, 30, 25000, 1 },
}
for _, c in ipairs(cases) do
  local name, limit, bytes, count, size, rounds = c[1], c[4], c[5], c[6], c[7], c[8]
  T.test(string.format("%s: %d messages of %d bytes arrive under a %d-byte %s", name, count, size,
    bytes, limit), function()
    for round = 1, rounds do
      local got, order, other, state = run(c[2], c[3], limit, bytes, count, size)
      T.eq(got, count, "round " .. round .. ": messages delivered")
      T.ok(order, "round " .. round .. ": whole and in order")
      T.eq(other, nil, "round " .. round .. ": no other event (a timeout would be a disconnect)")
      T.eq(state, "connected", "round " .. round .. ": the client's peer")
    end
  end)
end

T.done()
