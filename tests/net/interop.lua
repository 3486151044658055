-- Run by tests/network.rs as two processes on different Lua flavours (each with the module
-- built for its own flavour): ENET_ROLE=server prints "READY <address>" and echoes every
-- packet back on its channel until the client disconnects; ENET_ROLE=client sends packets of
-- fragmenting and non-fragmenting sizes on several channels and checks the echoes.
-- tests/net/c/stock_peer.c speaks the same protocol with the system's stock libenet.
-- ENET_BIND: the server's address ("*:*": our dual-stack socket, reached over IPv4 at
-- 127.0.0.1). ENET_STOCK=1 (inside LÖVE): use LÖVE's own bundled enet, a stock ENet 1.3.13.
-- ENET_BACKGROUND=1: the host runs in background mode (ours only).
local T = require "t"
local N = require "netlib"

local role = N.env("ENET_ROLE", "server")
local version = (jit and jit.version) or _VERSION
if love then version = version .. string.format(" in LÖVE %d.%d", love.getVersion()) end
if N.env("ENET_STOCK") then
  -- ours is never loaded then: it may be built for another Lua than LÖVE's LuaJIT
  enet = assert(LOVE_ENET_PRELOAD, "ENET_STOCK needs LÖVE's bundled enet")()
  version = version .. " with LÖVE's bundled enet"
else
  require "enet"
end

if role == "server" then
  T.test("server on " .. version .. " echoes a client of another flavour", function()
    local host = assert(enet.host_create(N.env("ENET_BIND", "127.0.0.1:*"), 4, 3))
    if N.env("ENET_BACKGROUND") then assert(host:background(true)) version = version .. " in background mode" end
    local address = host:get_socket_address():gsub("^0%.0%.0%.0:", "127.0.0.1:")
    N.say("READY " .. address)
    local echoed, done = 0, nil
    N.pump({ host }, 30000, function() return done ~= nil end, function(_, e)
      if e.type == "connect" then
        e.peer:send("hello from " .. version, 2)
      elseif e.type == "receive" then
        e.peer:send(e.data, e.channel)
        echoed = echoed + 1
      elseif e.type == "disconnect" then
        done = e.data
      end
    end)
    T.eq(done, 42, "disconnect data")
    N.say(string.format("COUNT server %s echoed %d packets", version, echoed))
    host:destroy()
  end)
else
  T.test("client on " .. version .. " talks to a server of another flavour", function()
    local host = assert(enet.host_create(nil, 1, 3))
    if N.env("ENET_BACKGROUND") then assert(host:background(true)) version = version .. " in background mode" end
    local peer = host:connect(assert(os.getenv("ENET_SERVER")), 3, 5)
    local sizes = { 0, 1, 100, 1363, 1364, 1365, 2728, 2729, 5000, 40000, 65536 }
    local sent, echoes, hello = {}, 0, nil
    N.pump({ host }, 10000, function() return peer:state() == "connected" end, function(_, e)
      if e.type == "receive" then hello = e.data end
    end)
    for i, n in ipairs(sizes) do
      local data = N.bytes(i, n)
      sent[#sent + 1] = data
      T.eq(peer:send(data, i % 3 == 2 and 0 or i % 3, "reliable"), 0, "send")
    end
    local index = 0
    N.pump({ host }, 20000, function() return echoes == #sizes and hello end, function(_, e)
      if e.type ~= "receive" then return end
      if e.channel == 2 and e.data:match("^hello from ") then
        hello = e.data
        return
      end
      local ok = false
      for _, d in ipairs(sent) do if d == e.data then ok = true break end end
      T.ok(ok, "echo of " .. #e.data .. " bytes intact")
      echoes = echoes + 1
    end)
    peer:disconnect(42)
    N.pump({ host }, 5000, function() return peer:state() == "disconnected" end)
    N.say(string.format("COUNT client %s got %d echoes (0..65536 bytes) and %q", version, echoes, hello))
    host:destroy()
  end)
end
T.done()
