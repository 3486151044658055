-- Bad arguments and their exact error texts (docs/contract.md §4, §6): wrong types, missing values,
-- address errors, packet flags, peer indexes, destroyed hosts, a host method called on a peer and
-- the other way round. Every error must be a plain string.
local T = require "t"
require "enet"

local is53 = _VERSION == "Lua 5.3" or _VERSION == "Lua 5.4" or _VERSION == "Lua 5.5"
-- What luaL_typeerror names a userdata of the other class: its __name on 5.3+.
local function other(name) return is53 and name or "userdata" end

local h = enet.host_create(nil, 64)
local p = h:get_peer(1)

T.test("errors are plain strings with the caller's position, no traceback, no mlua wrapper", function()
  local msg = T.raises("Failed to parse address", function() enet.host_create("") end)
  T.ok(msg:match("api_errors%.lua:%d+: Failed to parse address$"), "position prefix: " .. msg)
  msg = T.raises("bad argument #1 to 'service'", function() h:service("x") end)
  T.ok(msg:match("api_errors%.lua:%d+: bad argument #1 to 'service' %(number expected, got string%)$"),
    "argerror shape: " .. msg)
  for _, m in ipairs({ msg }) do
    T.ok(not m:find("traceback", 1, true), "no traceback")
    T.ok(not m:find("runtime error", 1, true), "no mlua prefix")
  end
  -- called straight from pcall there is no Lua caller: no position, name unknown
  local ok, err = pcall(enet.host_create, {})
  T.eq(ok, false, "raised")
  T.eq(type(err), "string", "string error")
  T.ok(err:find("bad argument #1 to '", 1, true) and err:find("(string expected, got table)", 1, true),
    "direct pcall: " .. err)
  -- code like this from docs/contract.md §4 must work
  local _, e = pcall(function() enet.host_create(string.rep("a", 200) .. ":1") end)
  T.ok(e:match("Hostname"), "err:match works")
end)

T.test("host_create: argument types", function()
  T.raises("bad argument #1 to 'host_create' (string expected, got table)", function() enet.host_create({}) end)
  T.raises("bad argument #1 to 'host_create' (string expected, got boolean)", function() enet.host_create(true) end)
  T.raises("bad argument #2 to 'host_create' (number expected, got string)", function() enet.host_create(nil, "x") end)
  T.raises("bad argument #3 to 'host_create' (number expected, got string)",
    function() enet.host_create(nil, "x", "y") end) -- checked from the last one down
  T.raises("bad argument #4 to 'host_create' (number expected, got table)", function() enet.host_create(nil, 1, 1, {}) end)
  T.raises("bad argument #5 to 'host_create' (number expected, got boolean)",
    function() enet.host_create(nil, 1, 1, 0, false) end)
  T.raises("Failed to parse address", function() enet.host_create("", "x") end) -- address first
end)

T.test("addresses: parse, missing port, resolve, unbracketed IPv6", function()
  for _, a in ipairs({ "", ":80", ":", ":*" }) do
    T.raises("Failed to parse address", function() enet.host_create(a) end)
    T.raises("Failed to parse address", function() h:connect(a) end)
  end
  for _, a in ipairs({ "localhost", "localhost:", "127.0.0.1", 123 }) do
    T.raises("Missing port in address", function() enet.host_create(a) end)
    T.raises("Missing port in address", function() h:connect(a) end)
  end
  T.raises("Failed to resolve host name", function() enet.host_create("no.such.host.invalid:1234") end)
  T.raises("Failed to resolve host name", function() h:connect("no.such.host.invalid:1234") end)
  -- IPv6 literals need brackets (tests/lua/ipv6.lua has the rest)
  for _, a in ipairs({ "::1:80", "fe80::1:80", "::" }) do
    local msg = T.raises("Failed to parse address", function() enet.host_create(a) end)
    T.ok(msg:find("brackets", 1, true), "says why: " .. msg)
    T.raises("Failed to parse address", function() h:connect(a) end)
  end
  T.raises("bad argument #1 to 'connect' (string expected, got no value)", function() h:connect() end)
  T.raises("bad argument #1 to 'connect' (string expected, got nil)", function() h:connect(nil) end)
  T.raises("bad argument #1 to 'connect' (string expected, got table)", function() h:connect({}) end)
end)

T.test("addresses: Hostname too long at 128 host / 32 port characters, no overrun", function()
  local h127, h128 = string.rep("a", 127), string.rep("a", 128)
  T.raises("Failed to resolve host name", function() enet.host_create(h127 .. ":1") end)
  T.raises("Hostname too long", function() enet.host_create(h128 .. ":1") end)
  T.raises("Hostname too long", function() enet.host_create(h128) end) -- no colon: no overrun
  T.raises("Hostname too long", function() enet.host_create(string.rep("b", 4000) .. ":1") end)
  T.raises("Hostname too long", function() h:connect(h128 .. ":1") end)
  T.raises("Hostname too long", function() enet.host_create("127.0.0.1:" .. string.rep("1", 32)) end)
  T.raises("Hostname too long", function() enet.host_create("127.0.0.1:" .. string.rep("0", 33)) end)
  T.raises("Hostname too long", function() h:connect("127.0.0.1:" .. string.rep("9", 32)) end)
  -- 31 port characters are fine: a zero-padded free port binds there
  local probe = assert(enet.host_create("127.0.0.1:*"))
  local port = tonumber(probe:get_socket_address():match(":(%d+)$"))
  probe:destroy()
  local padded = string.rep("0", 31 - #tostring(port)) .. port
  T.eq(#padded, 31, "31 characters")
  local bound, msg = enet.host_create("127.0.0.1:" .. padded)
  T.ok(bound, "bound with a 31-character port: " .. tostring(msg))
  T.eq(bound:get_socket_address(), "127.0.0.1:" .. port, "on that port")
  bound:destroy()
end)

T.test("addresses: the port keeps atoi's meaning, then wraps to 16 bits", function()
  local c = enet.host_create(nil, 16)
  local cases = {
    { "127.0.0.1:112344", 46808 }, { "127.0.0.1: 1234x", 1234 }, { "127.0.0.1:1235:34", 1235 },
    { "127.0.0.1:abc", 0 }, { "127.0.0.1:70000", 4464 }, { "127.0.0.1:-1", 65535 },
    { "127.0.0.1:99999999999", 59391 }, { "127.0.0.1:+80", 80 },
    { "127.0.0.1:1236\0zzz", 1236 }, { "127.0.0.1:" .. string.rep("0", 27) .. "4321", 4321 },
  }
  for _, case in ipairs(cases) do
    local peer = c:connect(case[1])
    T.eq(tostring(peer), "127.0.0.1:" .. case[2], string.format("%q", case[1]))
    peer:reset()
  end
  c:destroy()
end)

T.test("host methods: argument errors", function()
  T.raises("bad argument #1 to 'service' (number expected, got string)", function() h:service("x") end)
  T.raises("bad argument #1 to 'service' (number expected, got table)", function() h:service({}) end)
  T.raises("bad argument #1 to 'channel_limit' (number expected, got no value)", function() h:channel_limit() end)
  T.raises("bad argument #1 to 'channel_limit' (number expected, got nil)", function() h:channel_limit(nil) end)
  T.raises("bad argument #1 to 'bandwidth_limit' (number expected, got no value)", function() h:bandwidth_limit() end)
  T.raises("bad argument #2 to 'bandwidth_limit' (number expected, got table)", function() h:bandwidth_limit(1, {}) end)
  T.raises("bad argument #2 to 'connect' (number expected, got string)", function() h:connect("127.0.0.1:1", "x") end)
  T.raises("bad argument #3 to 'connect' (number expected, got string)", function() h:connect("127.0.0.1:1", 1, "x") end)
  T.raises("bad argument #3 to 'connect' (number expected, got string)",
    function() h:connect("127.0.0.1:1", "x", "y") end) -- data before channel_count
  T.raises("Failed to parse address", function() h:connect("", "x", "y") end) -- address first
  T.raises("bad argument #1 to 'broadcast' (string expected, got no value)", function() h:broadcast() end)
  T.raises("bad argument #1 to 'broadcast' (string expected, got table)", function() h:broadcast({}) end)
  T.raises("Unknown packet flag: bogus", function() h:broadcast("x", 0, "bogus") end)
  T.raises("Unknown packet flag: bogus", function() h:broadcast("x", "abc", "bogus") end)
  T.raises("bad argument #2 to 'broadcast' (number expected, got string)", function() h:broadcast("x", "abc") end)
  T.raises("bad argument #1 to 'get_peer' (number expected, got no value)", function() h:get_peer() end)
  T.raises("bad argument #1 to 'get_peer' (number expected, got string)", function() h:get_peer("x") end)
end)

T.test("get_peer: Invalid peer index, counted as Lua counts", function()
  for _, i in ipairs({ 0, 65, -1, -0.5, 2 ^ 31, 1e10 + 0.5 }) do
    T.raises("bad argument #1 to 'get_peer' (Invalid peer index)", function() h:get_peer(i) end)
  end
  T.raises("bad argument #2 to 'get_peer' (Invalid peer index)", function() h.get_peer(h, 0) end)
  T.ok(h:get_peer(64), "64 is the last slot")
end)

T.test("peer methods: argument errors", function()
  T.raises("bad argument #1 to 'send' (string expected, got table)", function() p:send({}) end)
  T.raises("bad argument #1 to 'send' (string expected, got no value)", function() p:send() end)
  T.raises("bad argument #1 to 'send' (string expected, got nil)", function() p:send(nil) end)
  T.raises("bad argument #1 to 'send' (string expected, got boolean)", function() p:send(true) end)
  T.raises("Unknown packet flag: bogus", function() p:send("x", 0, "bogus") end)
  T.raises("Unknown packet flag: Reliable", function() p:send("x", 0, "Reliable") end)
  T.raises("Unknown packet flag: 5", function() p:send("x", 0, 5) end)
  T.raises("Unknown packet flag: ", function() p:send("x", 0, "") end)
  T.raises("Unknown packet flag: bogus", function() p:send("x", "abc", "bogus") end) -- flag first
  T.raises("bad argument #2 to 'send' (number expected, got string)", function() p:send("x", "abc") end)
  T.raises("bad argument #3 to 'send' (string expected, got table)", function() p:send("x", 0, {}) end)
  T.raises("bad argument #1 to 'throttle_configure' (number expected, got no value)", function() p:throttle_configure() end)
  T.raises("bad argument #2 to 'throttle_configure' (number expected, got no value)", function() p:throttle_configure(1000) end)
  T.raises("bad argument #3 to 'throttle_configure' (number expected, got no value)", function() p:throttle_configure(1000, 2) end)
  T.raises("bad argument #1 to 'round_trip_time' (number expected, got string)", function() p:round_trip_time("x") end)
  T.raises("bad argument #1 to 'last_round_trip_time' (number expected, got table)", function() p:last_round_trip_time({}) end)
  T.raises("bad argument #1 to 'ping_interval' (number expected, got boolean)", function() p:ping_interval(true) end)
  T.raises("bad argument #1 to 'timeout' (number expected, got string)", function() p:timeout("x") end)
  T.raises("bad argument #3 to 'timeout' (number expected, got string)", function() p:timeout(1, 2, "x") end)
  T.raises("bad argument #2 to 'timeout' (number expected, got string)", function() p:timeout("x", "y") end) -- last first
  T.raises("bad argument #1 to 'disconnect' (number expected, got string)", function() p:disconnect("x") end)
  T.raises("bad argument #1 to 'disconnect_now' (number expected, got table)", function() p:disconnect_now({}) end)
  T.raises("bad argument #1 to 'disconnect_later' (number expected, got boolean)", function() p:disconnect_later(false) end)
  T.raises("bad argument #1 to 'receive' (number expected, got string)", function() p:receive("x") end)
end)

T.test("enet_host expected / enet_peer expected: methods on the wrong object", function()
  T.raises("bad argument #1 to 'service' (enet_host expected, got " .. other("enet_peer") .. ")",
    function() h.service(p) end)
  T.raises("enet_host expected, got number", function() h.flush(42) end)
  T.raises("enet_host expected, got no value", function() h.peer_count() end)
  T.raises("enet_host expected, got table", function() h.destroy({}) end)
  T.raises("enet_host expected, got " .. other("enet_peer"), function() getmetatable(h).__gc(p) end)
  T.raises("bad argument #1 to 'state' (enet_peer expected, got " .. other("enet_host") .. ")",
    function() p.state(h) end)
  T.raises("enet_peer expected, got string", function() p.send("x", "y") end)
  T.raises("enet_peer expected, got " .. other("enet_host"), function() getmetatable(p).__tostring(h) end)
  -- method syntax on a foreign object: self is the bad argument
  local fake = setmetatable({}, { __index = getmetatable(h).__index })
  T.raises("calling 'service' on bad self (enet_host expected, got table)", function() fake:service() end)
  local fakep = setmetatable({}, { __index = getmetatable(p).__index })
  T.raises("calling 'index' on bad self (enet_peer expected, got table)", function() fakep:index() end)
  -- another module's userdata of the same shape is not ours
  local io_ud = io.stdout
  T.raises("enet_host expected, got " .. (is53 and "FILE*" or "userdata"), function() h.flush(io_ud) end)
end)

T.test("a destroyed host: Tried to index a nil host!, its peers a clear error", function()
  local d = enet.host_create(nil, 2)
  local dp = d:get_peer(2)
  d:destroy()
  local msg = T.raises("Tried to index a nil host!", function() d:service() end)
  T.ok(msg:match("api_errors%.lua:%d+: Tried to index a nil host!$"), "luaL_error shape: " .. msg)
  T.raises("Tried to index a nil host!", function() d:get_peer(1) end)
  T.raises("Tried to index a nil host!", function() d:get_socket_address() end)
  T.raises("enet: peer of a destroyed host", function() dp:send("x") end)
  T.raises("enet: peer of a destroyed host", function() dp:index() end)
  T.raises("enet: peer of a destroyed host", function() dp:state() end)
  T.eq(tostring(dp), "0.0.0.0:0", "tostring still works")
  -- argument errors of a destroyed host's methods: the host is checked first
  T.raises("Tried to index a nil host!", function() d:service("x") end)
end)

h:destroy()
T.done()
