-- Echo client: lua client.lua <server address>
-- Sends three messages, prints the echoes, then says goodbye properly.
require "enet"
local host = enet.host_create()
local address = assert(arg[1], "usage: client.lua <server address>")
local server = host:connect(address)

local echoed = 0
for _ = 1, 100 do -- at most 10 s
  local event = host:service(100)
  if event then
    if event.type == "connect" then
      print("client: connected to " .. tostring(event.peer))
      for i = 1, 3 do event.peer:send("hello " .. i) end
    elseif event.type == "receive" then
      print("client: echo " .. event.data)
      echoed = echoed + 1
      if echoed == 3 then break end
    end
  end
end

server:disconnect()
for _ = 1, 20 do -- wait for the server to acknowledge the goodbye
  local event = host:service(100)
  if event and event.type == "disconnect" then break end
end
print(echoed == 3 and "client: done" or "client: FAILED")
os.exit(echoed == 3 and 0 or 1)
