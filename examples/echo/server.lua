-- Echo server: lua server.lua [bind address]   (default "127.0.0.1:*", an ephemeral port)
-- Prints its address, echoes every message back, and exits once its client has gone.
require "enet"
local host = assert(enet.host_create(arg[1] or "127.0.0.1:*"))
print("server: listening on " .. host:get_socket_address())
io.stdout:flush()

local clients, served = 0, 0
for _ = 1, 300 do -- at most 30 s
  local event = host:service(100)
  while event do
    if event.type == "connect" then
      clients = clients + 1
      print("server: " .. tostring(event.peer) .. " connected")
    elseif event.type == "receive" then
      print("server: got " .. event.data .. " from " .. tostring(event.peer))
      event.peer:send(event.data, event.channel)
    elseif event.type == "disconnect" then
      served = served + 1
      print("server: " .. tostring(event.peer) .. " disconnected")
    end
    io.stdout:flush()
    event = host:check_events()
  end
  if clients > 0 and served == clients then break end
end
host:destroy()
