-- Messages larger than a lowered per-peer limit (25,000 bytes against maximum_waiting_data
-- 20,000, so fragmented, each alone past the limit) must keep flowing. From the attack review of
-- vendor/enet 0043: message k is refused while k-1 waits for the program; k-1 is taken, and the
-- first fragment of k+1 arrives while the peer holds nothing, so it is held (one message larger
-- than the limit when nothing else waits). k, the channel's next, was then refused for good: the
-- peer held more than its limit, and nothing could be delivered until the sender timed out (1 of
-- 200 delivered, before 0043 and with its first version). Now the first fragment of the
-- channel's next message is held while the peer holds at most one message of the largest size.
-- Slow by nature (about 27 ms a message here: each waits for a retransmission), so 30 messages,
-- in normal mode and with both hosts in background mode.
-- Several channels under such a limit still starve: tests/known/held_limit_channels.lua.
local T = require "t"
local timing = require "timing"

local COUNT, LIMIT, SIZE = 30, 20000, 25000

local function run(server_background, client_background)
  local server, client, cpeer = T.pair()
  server:maximum_waiting_data(LIMIT)
  if server_background then assert(server:background(true)) end
  if client_background then assert(client:background(true)) end
  local body = string.rep("x", SIZE)
  for i = 1, COUNT do cpeer:send(i .. ":" .. body) end
  local got, order, other = 0, true, nil
  local event = {}
  local t0 = timing.now()
  -- 20 s: 30 messages take about 0.8 s; a wedged connection times out in 5-30 s.
  while got < COUNT and timing.now() - t0 < 20000 do
    local e = server:service(5, event)
    while e do
      if e.type == "receive" then
        got = got + 1
        if tonumber(e.data:match("^(%d+):")) ~= got or #e.data ~= SIZE + #tostring(got) + 1 then
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
  client:destroy()
  server:destroy()
  return got, order, other
end

for _, mode in ipairs({
  { "normal mode", false, false },
  { "both hosts in background mode", true, true },
}) do
  T.test(mode[1] .. ": " .. COUNT .. " messages of " .. SIZE .. " bytes under a " .. LIMIT .. "-byte limit", function()
    local got, order, other = run(mode[2], mode[3])
    T.eq(got, COUNT, "messages delivered")
    T.ok(order, "whole and in order")
    T.eq(other, nil, "no other event (a timeout would be a disconnect)")
  end)
end

T.done()
