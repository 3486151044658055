-- Chat server: lua server.lua [bind address] [--exit-when-empty]
-- Binds "127.0.0.1:*" (a free port on this machine) unless given an address such as "*:6789",
-- prints the address, and relays every message to everyone. A client's first packet is its
-- name. With --exit-when-empty it stops once its last client has left (the tests use that);
-- otherwise it runs until interrupted (Ctrl-C).
require "enet"
io.stdout:setvbuf("no")

local address, exit_when_empty = "127.0.0.1:*", false
for _, a in ipairs(arg) do
  if a == "--exit-when-empty" then exit_when_empty = true else address = a end
end

local host, err = enet.host_create(address, 32, 1)
if not host then
  print("chat server: " .. err)
  os.exit(1)
end
print("chat server: listening on " .. host:get_socket_address())

-- Peer objects are stable (one per slot), so they can key a table.
local names, count, served = {}, 0, 0

local function say(line)
  print("chat server: " .. line)
  host:broadcast(line)
end

while not (exit_when_empty and served > 0 and count == 0) do
  local event, problem = host:service(100)
  if problem then print("chat server: " .. problem) end
  while event do
    local peer = event.peer
    if event.type == "connect" then
      print("chat server: " .. tostring(peer) .. " connected")
    elseif event.type == "receive" then
      if names[peer] == nil then
        names[peer] = event.data
        count = count + 1
        say("* " .. event.data .. " joined (" .. count .. " here)")
      else
        say(names[peer] .. ": " .. event.data)
      end
    elseif event.type == "disconnect" then
      -- a goodbye or a timeout; the slot is free again from here on
      local name = names[peer]
      if name then
        names[peer] = nil
        count, served = count - 1, served + 1
        say("* " .. name .. " left (" .. count .. " here)")
      end
    end
    event = host:check_events()
  end
end

host:flush() -- the last "left" line goes out before the socket closes
host:destroy()
print("chat server: everyone left, bye")
