-- valgrind: a peer that the thread connects is connected at once (vendor/enet patch 0041), and
-- its connect event waits for Lua. Stock ENet left it in a pending state until Lua took the
-- event, refusing the remote's pings and messages unacknowledged: a background client that
-- connected and then loaded a level was timed out by its server, and a background server
-- dropped the first messages of a client that joined during a hitch.
local T = require "t"
local enet = require "enet"
local timing = require "timing"

-- Services `hosts` (never the host under test) for `ms` of wall time; returns their events'
-- types, in order, by host.
local function service_only(hosts, ms, on_event)
  local seen = {}
  for _, h in ipairs(hosts) do seen[h] = {} end
  local t0 = timing.now()
  while timing.now() - t0 < ms do
    for _, h in ipairs(hosts) do
      local e = h:service(1)
      while e do
        table.insert(seen[h], e.type)
        if on_event then on_event(h, e) end
        e = h:check_events()
      end
    end
  end
  return seen
end

-- Every event `host` has within `ms`, as "type" or "type:data" strings.
local function events_of(host, ms, others)
  local got = {}
  local t0 = timing.now()
  repeat
    local e = host:service(1)
    while e do
      if e.type == "receive" then got[#got + 1] = "receive:" .. e.data
      else got[#got + 1] = e.type .. ":" .. tostring(e.data) end
      e = host:check_events()
    end
    for _, h in ipairs(others or {}) do h:service(0) end
  until timing.now() - t0 > ms
  return got
end

local function wait_state(peer, state, others, ms)
  timing.within(ms / 1000, function()
    for _, h in ipairs(others or {}) do h:service(0) end
    return peer:state() == state
  end)
end

T.test("a background client that connects and stalls keeps its session", function()
  local server = assert(enet.host_create("127.0.0.1:*", 4))
  local client = assert(enet.host_create(nil, 1))
  client:background(true)
  local cpeer = client:connect(server:get_socket_address(), 1, 77)
  -- Lua never calls the client for 1.5 s; the server drops a peer that is silent for 0.6 s.
  local seen = service_only({ server }, 1500, function(_, e)
    if e.type == "connect" then
      T.eq(e.data, 77, "the server's connect event carries the data")
      e.peer:timeout(32, 200, 600)
      e.peer:send("hello")
    end
  end)
  T.eq(table.concat(seen[server], ","), "connect", "the server kept the client")
  T.eq(cpeer:state(), "connected", "connected before Lua took its connect event")
  local got = events_of(client, 300)
  T.eq(got[1], "connect:0", "then Lua gets the connect event first")
  T.eq(got[2], "receive:hello", "and the message the server sent meanwhile")
  T.eq(#got, 2, "nothing else")
  client:destroy()
  server:destroy()
end)

T.test("a background server takes a client's messages before Lua takes its connect", function()
  local server = assert(enet.host_create("127.0.0.1:*", 4))
  server:background(true)
  local client = assert(enet.host_create(nil, 1))
  local cpeer = client:connect(server:get_socket_address(), 1, 42)
  cpeer:timeout(32, 200, 600)
  -- the client is connected once it has the server's answer; the server's peer once the
  -- client's acknowledgement of it arrives, with the first messages
  local seen = service_only({ client }, 0)
  timing.within(5, function()
    local e = client:service(1)
    if e then table.insert(seen[client], e.type) end
    return e and e.type == "connect"
  end)
  for i = 1, 20 do cpeer:send("m" .. i) end
  -- Lua never calls the server for 1.5 s: the client's messages and pings are acknowledged.
  local more = service_only({ client }, 1500)[client]
  for _, t in ipairs(more) do table.insert(seen[client], t) end
  T.eq(table.concat(seen[client], ","), "connect", "the client stayed connected")
  -- Everything is in ENet already: the events come without more network work.
  local got = {}
  local e = server:check_events()
  while e do
    got[#got + 1] = e.type == "receive" and e.data or (e.type .. ":" .. tostring(e.data))
    e = server:check_events()
  end
  T.eq(got[1], "connect:42", "the connect first, with its data")
  T.eq(#got, 21, "then every message, already received")
  local ok = true
  for i = 1, 20 do if got[i + 1] ~= "m" .. i then ok = false end end
  T.ok(ok, "in order")
  client:destroy()
  server:destroy()
end)

T.test("connect, messages and goodbye while Lua is busy: all three, in that order", function()
  for _, how in ipairs({ "disconnect_later", "disconnect" }) do
    local server = assert(enet.host_create("127.0.0.1:*", 4))
    server:background(true)
    local client = assert(enet.host_create(nil, 1))
    local cpeer = client:connect(server:get_socket_address(), 1, 9)
    wait_state(cpeer, "connected", { client }, 5000)
    for i = 1, 10 do cpeer:send("m" .. i) end
    client:flush()
    if how == "disconnect" then
      -- the messages are acknowledged first, so that the goodbye does not overtake them
      service_only({ client }, 300)
    end
    cpeer[how](cpeer, 3)
    wait_state(cpeer, "disconnected", { client }, 5000)
    local got = events_of(server, 300)
    local want = { "connect:9" }
    for i = 1, 10 do want[#want + 1] = "receive:m" .. i end
    want[#want + 1] = "disconnect:3"
    T.eq(table.concat(got, ","), table.concat(want, ","), how .. ": every event, in order")
    client:destroy()
    server:destroy()
  end
end)

T.test("a background client's own disconnect before Lua took its connect event", function()
  for _, how in ipairs({ "disconnect", "disconnect_later", "disconnect_now", "reset" }) do
    local server = assert(enet.host_create("127.0.0.1:*", 4))
    local client = assert(enet.host_create(nil, 1))
    client:background(true)
    local cpeer = client:connect(server:get_socket_address(), 1, 5)
    wait_state(cpeer, "connected", { server }, 5000)
    if how == "reset" then cpeer:reset() else cpeer[how](cpeer, 6) end
    local got = events_of(client, 500, { server })
    if how == "disconnect_now" or how == "reset" then
      -- as without the thread: these end the connection with no event
      T.eq(table.concat(got, ","), "", how .. ": no event")
    else
      T.eq(table.concat(got, ","), "connect:0,disconnect:0", how .. ": the connect, then the disconnect")
    end
    T.eq(cpeer:state(), "disconnected", how .. ": disconnected")
    client:destroy()
    server:destroy()
  end
end)

T.test("the connected count and the slot's getters see the peer before its event", function()
  local server = assert(enet.host_create("127.0.0.1:*", 4))
  server:background(true)
  local client = assert(enet.host_create(nil, 1))
  local cpeer = client:connect(server:get_socket_address(), 1)
  wait_state(cpeer, "connected", { client }, 5000)
  timing.within(2, function() client:service(0) return server:connected_peers() == 1 end)
  local speer = server:get_peer(1)
  T.eq(speer:state(), "connected", "the server's slot is connected")
  local got = events_of(server, 200, { client })
  T.eq(got[1], "connect:0", "its connect event is still Lua's to take")
  T.eq(#got, 1, "once")
  client:destroy()
  server:destroy()
end)

T.done()
