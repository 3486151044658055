-- KNOWN TO FAIL (tests/known/README.md).
-- Attack review of vendor/enet 0043 (branch atk43): several honest senders share a lowered host
-- limit. 3 clients each send 500 reliable 1,000-byte messages (one channel) to a server whose
-- maximum_host_waiting_data is 50,000 and whose Lua takes every event. Each peer's 64 KiB reserve
-- fills with later messages (the address and host limits apply only past it), so the host holds
-- about 194,000 bytes, more than twice its limit: 0043's "within twice" never applies, and past
-- twice the channel's next message is let in only while the peer has nothing for the program.
-- In a retransmission burst (next, then the later ones again) the next is let in and delivered,
-- and the one after it, now the next, is refused because that message waits for the program:
-- one message per burst. The sender's retransmission timeouts double each burst, and it times
-- the server out: 186 of 1,500 delivered, then a disconnect (deterministic here, normal mode).
local T = require "t"
local enet = require "enet"
local timing = require "timing"

local LIMIT, SIZE, COUNT, NC = 50000, 1000, 500, 3

local function run(limit_method, background)
  local server = assert(enet.host_create("127.0.0.1:*", 8, 2))
  server[limit_method](server, LIMIT)
  local clients, peers = {}, {}
  for i = 1, NC do
    clients[i] = assert(enet.host_create(nil, 1, 2))
    peers[i] = clients[i]:connect(server:get_socket_address(), 2)
  end
  local up = 0
  local t0 = timing.now()
  while up < NC and timing.now() - t0 < 5000 do
    local e = server:service(5)
    while e do if e.type == "connect" then up = up + 1 end; e = server:check_events() end
    for i = 1, NC do clients[i]:service(0) end
  end
  assert(up == NC, "connected")
  if background then
    assert(server:background(true))
    for i = 1, NC do assert(clients[i]:background(true)) end
  end
  local body = string.rep("y", SIZE)
  for i = 1, NC do for k = 1, COUNT do peers[i]:send(k .. ":" .. body) end end
  local got, other, order, last = 0, nil, true, {}
  t0 = timing.now()
  while got < COUNT * NC and timing.now() - t0 < 40000 do
    local e = server:service(5)
    while e do
      if e.type == "receive" then
        got = got + 1
        local n = tonumber(e.data:match("^(%d+):"))
        if n ~= (last[e.peer] or 0) + 1 then order = false end
        last[e.peer] = n
      else
        other = other or e.type
      end
      e = server:check_events()
    end
    if not background then
      for i = 1, NC do
        local c = clients[i]:service(0)
        while c do other = other or ("client " .. c.type); c = clients[i]:check_events() end
      end
    end
  end
  local ms, waiting = timing.now() - t0, server:waiting_data()
  for i = 1, NC do clients[i]:destroy() end
  server:destroy()
  return got, other, order, ms, waiting
end

for _, mode in ipairs({
  { "maximum_host_waiting_data", false },
  { "maximum_host_waiting_data", true },
  { "maximum_address_waiting_data", false },
}) do
  T.test(string.format("%d clients, %d x %d bytes each, %s %d%s", NC, COUNT, SIZE, mode[1], LIMIT,
      mode[2] and ", background mode" or ""), function()
    local got, other, order, ms, waiting = run(mode[1], mode[2])
    print(string.format("  %d/%d delivered in %d ms, other=%s, server waiting=%d", got, COUNT * NC, ms, tostring(other), waiting))
    T.eq(got, COUNT * NC, "messages delivered")
    T.ok(order, "in order")
    T.eq(other, nil, "no other event (a timeout would be a disconnect)")
  end)
end

T.done()
