-- Channels server: lua server.lua [bind address]   (default "127.0.0.1:*")
-- One connection, two channels used two ways:
--   channel 0, "reliable": chat lines; each arrives exactly once, in order.
--   channel 1, "unsequenced": position updates; some may be lost or arrive out of order, so each
--   carries a sequence number and the server keeps only the newest.
-- Serves one client, prints what it got, and exits when that client leaves.
require "enet"
io.stdout:setvbuf("no")

local CHAT, POSITION = 0, 1
local host = assert(enet.host_create(arg[1] or "127.0.0.1:*", 8, 2)) -- 2 channels per connection
print("channels server: listening on " .. host:get_socket_address())

local newest, x, y = -1, 0, 0
local updates, stale, lines = 0, 0, 0
local done = false
while not done do
  local event, problem = host:service(100)
  if problem then print("channels server: " .. problem) end
  while event do
    if event.type == "connect" then
      print("channels server: " .. tostring(event.peer) .. " connected")
    elseif event.type == "receive" and event.channel == CHAT then
      lines = lines + 1
      print("channels server: chat (channel 0, reliable): " .. event.data)
      event.peer:send("ok " .. event.data, CHAT) -- reliable is the default flag
    elseif event.type == "receive" and event.channel == POSITION then
      updates = updates + 1
      local seq, px, py = event.data:match("^(%d+) (%-?%d+) (%-?%d+)$")
      seq = tonumber(seq)
      if seq and seq > newest then
        newest, x, y = seq, tonumber(px), tonumber(py)
      else
        stale = stale + 1 -- an older update overtaken by a newer one: ignore it
      end
    elseif event.type == "disconnect" then
      print("channels server: " .. tostring(event.peer) .. " left")
      done = true
    end
    event = host:check_events()
  end
end

print(string.format("channels server: %d chat lines; %d position updates (%d stale), newest #%d at %d,%d",
  lines, updates, stale, newest, x, y))
host:destroy()
