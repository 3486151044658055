-- Chat client: lua client.lua <server address> <name> [--until TEXT] [message ...]
-- (an IPv6 server works the same: lua client.lua "[::1]:6789" alice "hello over IPv6")
-- Joins the chat as <name>, sends each message (one every 100 ms), prints everything the server
-- relays, then leaves: one second after its last message, or, with --until TEXT, once a line
-- containing TEXT arrived (at most 30 s). Pure Lua cannot read the keyboard without blocking the
-- network loop, so the messages come from the command line; see examples/love for a program
-- that reacts to key presses.
require "enet"
io.stdout:setvbuf("no")

local address, name = arg[1], arg[2]
if not (address and name) then
  print("usage: lua client.lua <server address> <name> [--until TEXT] [message ...]")
  os.exit(2)
end
local wait_for, messages = nil, {}
local i = 3
while arg[i] do
  if arg[i] == "--until" then
    wait_for, i = arg[i + 1], i + 2
  else
    messages[#messages + 1], i = arg[i], i + 1
  end
end

local host = enet.host_create()
local server = host:connect(address)
local tag = "chat " .. name .. ": "

local connected, sent, leave_at, seen = false, 0, nil, false
local clock = 0 -- milliseconds, advanced by the service timeouts
while clock < 30000 do
  local event = host:service(50)
  clock = clock + 50
  while event do
    if event.type == "connect" then
      connected = true
      server:send(name) -- the first packet is our name
    elseif event.type == "receive" then
      print(tag .. event.data)
      if wait_for and event.data:find(wait_for, 1, true) then seen = true end
    elseif event.type == "disconnect" then
      print(tag .. (connected and "the server went away" or "could not connect to " .. address))
      os.exit(1)
    end
    event = host:check_events()
  end
  if connected and sent < #messages and clock % 100 == 0 then
    sent = sent + 1
    server:send(messages[sent])
  end
  if connected and sent == #messages then
    if wait_for then
      if seen then break end
    else
      leave_at = leave_at or clock + 1000
      if clock >= leave_at then break end
    end
  end
end

-- disconnect_later: the goodbye leaves after everything queued before it, and the server sees
-- a clean "disconnect" event instead of a timeout. Wait for the acknowledgement.
server:disconnect_later()
local left = false
for _ = 1, 40 do
  local event = host:service(50)
  if event and event.type == "disconnect" then left = true break end
end
print(tag .. (left and "left" or "left without an acknowledgement"))
host:destroy()
os.exit((seen or not wait_for) and 0 or 1)
