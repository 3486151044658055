-- KNOWN TO FAIL (tests/known/README.md): several channels under a lowered limit starve; the
-- single-channel cases are in tests/lua/held_limit_progress.lua, which pass.
-- Attack review of vendor/enet 0043 (atk43): an honest sender under a lowered limit, with
-- reliable messages LARGER than the limit (so fragmented, and each alone past the limit).
-- 0043 claims: "with the program draining events, a connection never wedges on the limits".
-- Scenario: message k is refused while k-1 waits for the program; k-1 is taken, and the first
-- fragment of message k+1 (in the sender's window at once) arrives while the peer holds nothing:
-- it is held (one message larger than the limit when nothing else waits). Message k, the
-- channel's next, is now refused forever: the peer holds more than its limit (k+1), k is a
-- fragment, and 0043 admits a first fragment past twice the limit only while the peer is within
-- its own limit. Nothing can be delivered; the sender times out.
local T = require "t"
local enet = require "enet"
local timing = require "timing"

local COUNT = tonumber(os.getenv("ATK_COUNT") or "200")
local LIMIT = tonumber(os.getenv("ATK_LIMIT") or "20000")
local SIZE = tonumber(os.getenv("ATK_SIZE") or "25000")
local ROUNDS = tonumber(os.getenv("ATK_ROUNDS") or "3")
local WAIT = tonumber(os.getenv("ATK_WAIT") or "20000")

local function run(server_background, client_background, limit, channels)
  local server, client, cpeer = T.pair({ server_channels = channels, connect_channels = channels })
  server[limit](server, LIMIT)
  if server_background then assert(server:background(true)) end
  if client_background then assert(client:background(true)) end
  local body = string.rep("x", SIZE)
  for i = 1, COUNT do cpeer:send(i .. ":" .. body, (i - 1) % channels) end
  local got, order, other = 0, true, nil
  local last = {}
  local event = {}
  local t0 = timing.now()
  while got < COUNT and timing.now() - t0 < WAIT do
    local e = server:service(5, event)
    while e do
      if e.type == "receive" then
        got = got + 1
        local n = tonumber(e.data:match("^(%d+):"))
        local ch = e.channel
        if last[ch] and n <= last[ch] then order = false end
        last[ch] = n
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
  local waiting = server:waiting_data()
  client:destroy()
  server:destroy()
  return got, order, other, state, waiting, timing.now() - t0
end

for _, mode in ipairs({
  { "normal mode, 4 channels", false, false, "maximum_waiting_data", 4 },
  { "both background, 4 channels", true, true, "maximum_waiting_data", 4 },
}) do
  if os.getenv("ATK_MODE") and not mode[1]:find(os.getenv("ATK_MODE"), 1, true) then goto continue end
  T.test(mode[1] .. ": " .. COUNT .. " messages of " .. SIZE .. " bytes under a " .. LIMIT .. "-byte " .. mode[4], function()
    for round = 1, ROUNDS do
      local got, order, other, state, waiting, ms = run(mode[2], mode[3], mode[4], mode[5])
      print(string.format("  round %d: %d/%d delivered in %d ms, other=%s, state=%s, server waiting=%d",
        round, got, COUNT, ms, tostring(other), state, waiting))
      T.eq(got, COUNT, "round " .. round .. ": messages delivered")
      T.ok(order, "round " .. round .. ": in order")
      T.eq(other, nil, "round " .. round .. ": no other event (a timeout would be a disconnect)")
    end
  end)
  ::continue::
end

T.done()
