-- Channels client: lua client.lua <server address> [updates]   (default 100 updates)
-- Moves a point around a circle and sends its position 50 times a second on channel 1,
-- unsequenced, and a chat line on channel 0, reliable, every 25 updates. Then leaves.
require "enet"
io.stdout:setvbuf("no")

local CHAT, POSITION = 0, 1
local address = arg[1]
if not address then
  print("usage: lua client.lua <server address> [updates]")
  os.exit(2)
end
local total = tonumber(arg[2]) or 100

local host = enet.host_create()
local server = host:connect(address, 2) -- ask for 2 channels (the server allows 2)

local connected, seq, acks = false, 0, 0
for _ = 1, 1000 do -- 20 ms per round: at most 20 s
  local event = host:service(20)
  while event do
    if event.type == "connect" then
      connected = true
      print("channels client: connected to " .. tostring(event.peer))
    elseif event.type == "receive" then
      acks = acks + 1
      print("channels client: server says " .. event.data .. " (channel " .. event.channel .. ")")
    elseif event.type == "disconnect" then
      print("channels client: disconnected")
      os.exit(1)
    end
    event = host:check_events()
  end
  if connected and seq < total then
    seq = seq + 1
    local angle = seq / 10
    local x, y = math.floor(100 * math.cos(angle)), math.floor(100 * math.sin(angle))
    server:send(seq .. " " .. x .. " " .. y, POSITION, "unsequenced")
    if seq % 25 == 0 then
      server:send("at update " .. seq .. " I am at " .. x .. "," .. y, CHAT, "reliable")
      print("channels client: sent " .. seq .. " of " .. total .. " position updates")
    end
  end
  if seq == total and acks == math.floor(total / 25) then break end
end

print("channels client: sent " .. seq .. " updates, " .. acks .. " chat lines acknowledged")
server:disconnect_later() -- after everything queued has gone out
for _ = 1, 50 do
  local event = host:service(20)
  if event and event.type == "disconnect" then break end
end
host:destroy()
os.exit(acks == math.floor(total / 25) and 0 or 1)
