-- One side of a session between a Windows process (under Wine) and a Linux one, run by
-- tests/windows/run with either side in either role:
--   session.lua server <bind address>            prints "listening <port>", echoes every message
--                                                back as "echo:<message>" and ends at the
--                                                client's disconnect: "done <n> <peer>"
--   session.lua client <server address> <name>   sends 3 messages on 2 channels, checks the
--                                                echoes, disconnects: "done 3 <peer>"
-- Every wait is bounded (10 s); anything unexpected ends the process with status 1.
require "enet"
local role, address, name = ...
io.stdout:setvbuf("line")

local function fail(why)
  print("FAILED: " .. why)
  os.exit(1)
end

local function pump(host, on_event)
  for _ = 1, 1000 do
    local e = host:service(10)
    while e do
      if on_event(e) then return end
      e = host:check_events()
    end
  end
  fail("no end within 10 s")
end

if role == "server" then
  local host, err = enet.host_create(address, 4, 2)
  if not host then fail(tostring(err)) end
  print("listening " .. host:get_socket_address():match(":(%d+)$"))
  local echoed = 0
  pump(host, function(e)
    if e.type == "receive" then
      e.peer:send("echo:" .. e.data, e.channel)
      echoed = echoed + 1
    elseif e.type == "disconnect" then
      host:flush()
      print(string.format("done %d %s", echoed, tostring(e.peer)))
      return true
    end
  end)
  host:destroy()
elseif role == "client" then
  local host = assert(enet.host_create(nil, 1, 2))
  local peer = host:connect(address, 2)
  local waiting, got = {}, 0 -- the echoes still to come (two channels: no order between them)
  pump(host, function(e)
    if e.type == "connect" then
      for i = 1, 3 do
        local text = string.format("%s %d %s", name, i, string.rep("x", i * 500))
        waiting["echo:" .. text] = true
        peer:send(text, i % 2)
      end
    elseif e.type == "receive" then
      if not waiting[e.data] then fail("unexpected message " .. e.data:sub(1, 20)) end
      waiting[e.data] = nil
      got = got + 1
      if got == 3 then
        print(string.format("done %d %s", got, tostring(e.peer)))
        peer:disconnect()
      end
    elseif e.type == "disconnect" then
      if got < 3 then fail("disconnected after " .. got .. " echoes") end
      return true
    end
  end)
  host:destroy()
else
  fail("usage: session.lua server <bind> | client <address> <name>")
end
