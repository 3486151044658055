-- From the attack review of the lock-free send (src/sendq.rs), kept as a regression test.
-- Attack: lock-free sends made from finalizers that run in the middle of other calls (the GC
-- runs as often as it can), finalizers that destroy the host or switch its thread off and on
-- while messages are queued, <close> variables (Lua 5.4), coroutines, and many background hosts.
-- Nothing may crash, leak (valgrind) or race (TSan); every call's answer stays in its domain.
local T = require "t"
require "enet"

pcall(collectgarbage, "setpause", 1) -- collect as often as possible (where the option exists)
pcall(collectgarbage, "setstepmul", 1000)

local function armed(fn, n)
  -- n objects whose finalizers call fn, left for the GC to find during later calls
  for _ = 1, n do setmetatable({}, { __gc = function() pcall(fn) end }) end
end

T.test("finalizers send, destroy and toggle the thread during other calls", function()
  for round = 1, tonumber(os.getenv("ENET_SENDQ_ROUNDS") or "30") do
    math.randomseed(round)
    local server, client, cpeer = T.pair({ client_channels = 3, connect_channels = 3 })
    client:background(true)
    local actions = {
      function() cpeer:send(string.rep("f", math.random(0, 1030)), math.random(0, 3)) end,
      function() for _ = 1, 100 do cpeer:send(string.rep("g", math.random(1000, 1024))) end end,
      function() client:background(math.random(2) == 1) end,
      function() client:maximum_packet_size(math.random(1, 2000)) end,
      function() client:flush() end,
      function() cpeer:disconnect_later() end,
      function() cpeer:reset() end,
      function() if math.random(8) == 1 then client:destroy() end end,
      function() client:broadcast("bb", 0) end,
    }
    for _ = 1, 200 do
      armed(actions[math.random(#actions)], math.random(0, 3))
      local op = math.random(1, 8)
      local ok, err = pcall(function()
        if op == 1 then cpeer:send(string.rep("x", math.random(0, 1100)), math.random(0, 2))
        elseif op == 2 then local e = client:service(math.random(0, 1)); if e then local _ = e.peer end
        elseif op == 3 then local e = client:check_events()
        elseif op == 4 then local _ = cpeer:state(), client:get_peer(1), cpeer:stats()
        elseif op == 5 then local e = server:service(0); while e do e = server:check_events() end
        elseif op == 6 then client:flush()
        elseif op == 7 then local _ = tostring(cpeer) .. tostring(client)
        else
          local co = coroutine.create(function()
            for k = 1, 50 do cpeer:send(tostring(k)); coroutine.yield() end
          end)
          for _ = 1, math.random(1, 60) do coroutine.resume(co) end
        end
      end)
      if not ok then
        T.ok(tostring(err):find("destroyed", 1, true) or tostring(err):find("nil host", 1, true),
          "only a destroyed host raises: " .. tostring(err))
      end
      collectgarbage("step")
    end
    collectgarbage()
    pcall(client.destroy, client)
    server:destroy()
  end
end)

T.test("many background hosts with queued sends, dropped to the GC", function()
  local server = assert(enet.host_create("127.0.0.1:*", 64, 2))
  local addr = server:get_socket_address()
  local clients, peers = {}, {}
  for i = 1, 24 do
    clients[i] = assert(enet.host_create(nil, 1, 2))
    peers[i] = clients[i]:connect(addr, 2)
  end
  local connected = 0
  T.pump({ server, (table.unpack or unpack)(clients) }, function() return connected >= 24 end, function(h, e)
    if h == server and e.type == "connect" then connected = connected + 1 end
  end, 20000)
  for i = 1, 24 do clients[i]:background(true) end
  for k = 1, 300 do
    for i = 1, 24 do peers[i]:send(i .. ":" .. k .. string.rep("m", k % 1030)) end
    if k % 50 == 0 then collectgarbage("step") end
  end
  local got = 0
  T.pump({ server }, function() return got >= 24 * 300 end, function(_, e)
    if e.type == "receive" then got = got + 1 end
  end, 30000)
  T.eq(got, 24 * 300, "every queued message arrived")
  -- half destroyed, half dropped to the GC with messages queued
  for i = 1, 24 do
    for k = 1, 50 do peers[i]:send("late" .. k) end
    if i % 2 == 0 then clients[i]:destroy() end
  end
  clients, peers = nil, nil
  collectgarbage()
  collectgarbage()
  server:destroy()
end)

if _VERSION == "Lua 5.4" then
  T.test("<close> a host with queued sends", assert(load([[
    local T = ...
    return function()
      for _ = 1, 20 do
        local server <close> = assert(enet.host_create("127.0.0.1:*", 2, 2))
        do
          local client <close> = assert(enet.host_create(nil, 1, 2))
          local p = client:connect(server:get_socket_address(), 2)
          T.pump({ server, client }, function() return p:state() == "connected" end)
          client:background(true)
          for k = 1, 200 do p:send(tostring(k)) end
        end
        -- the client is closed: destroyed with messages queued
      end
    end
  ]]))(T))
end

T.done()
