-- valgrind: the address conversions and the dual-stack receive path under memcheck too.
-- IPv6 and dual stack (docs/contract.md §6): addresses in and out, and real sessions over ::1.
-- tests/lua.rs makes sure this machine has ::1 (or runs the suite in a network namespace that
-- has it); a missing ::1 under CI is a failure, not a skip.
local T = require "t"
require "enet"

local function port_of(address) return tonumber(address:match(":(%d+)$")) end

-- Every host in `hosts` services until `cond()`; events go to handler(host, event).
local function pump(hosts, cond, handler) return T.pump(hosts, cond, handler, 8000) end

-- Connects client to `address`; returns the client-side and the server-side peer.
local function join(server, client, address, data)
  local cpeer = client:connect(address, 1, data)
  local speer, connected
  pump({ server, client }, function() return speer and connected end, function(h, e)
    if e.type == "connect" then
      if h == server then speer = e.peer else connected = true end
    end
  end)
  return cpeer, speer
end

-- One reliable message each way between two connected peers.
local function round_trip(server, client, cpeer, speer, text)
  T.eq(cpeer:send("ping " .. text), 0, "client sends")
  local got = T.receive(server, 1, { client })[1]
  T.eq(got.data, "ping " .. text, "server receives")
  T.ok(got.peer == speer, "from the same peer")
  T.eq(speer:send("pong " .. text), 0, "server sends")
  got = T.receive(client, 1, { server })[1]
  T.eq(got.data, "pong " .. text, "client receives")
end

T.test("bracketed literals: printed addresses and the family value", function()
  local h = enet.host_create(nil, 8)
  local cases = {
    { "[::1]:6789", "[::1]:6789", "::1" },
    { "[2001:DB8:0:0:0:0:0:7]:80", "[2001:db8::7]:80", "2001:db8::7" },
    { "[2001:db8:0:0:1:0:0:1]:*", "[2001:db8::1:0:0:1]:0", "2001:db8::1:0:0:1" },
    { "[::ffff:192.0.2.1]:1", "192.0.2.1:1", "192.0.2.1" }, -- mapped: an IPv4 peer
    { "[::1]:112344", "[::1]:46808", "::1" },                -- the port keeps atoi and wraps
  }
  for _, case in ipairs(cases) do
    local peer = h:connect(case[1])
    T.eq(tostring(peer), case[2], case[1])
    local ip, port, family = peer:address()
    T.eq(ip, case[3], case[1] .. " address()")
    T.eq(port, port_of(case[2]), case[1] .. " port")
    T.eq(family, case[3]:find(":", 1, true) and "inet6" or "inet", case[1] .. " family")
    peer:reset()
  end
  local p = h:connect("127.0.0.1:9")
  T.eq(select(3, p:address()), "inet", "IPv4 family")
  T.eq(tostring(p), "127.0.0.1:9", "IPv4 prints as before")
  h:destroy()
end)

if T.windows then
  -- Interface names in zones are looked up on Unix only (docs/api.md): Windows writes the index.
  T.test("zones: by index on Windows, printed as given; names are refused", function()
    local h = enet.host_create(nil, 4)
    local p = h:connect("[fe80::1%1]:6789")
    T.eq(tostring(p), "[fe80::1%1]:6789", "index kept")
    T.eq(p:address(), "fe80::1%1", "address() has the zone")
    local msg = T.raises("Failed to parse address", function() h:connect("[fe80::1%lo]:1") end)
    T.ok(msg:find("names no network interface", 1, true), "a name is no zone here: " .. msg)
    msg = T.raises("Failed to parse address", function() h:connect("[fe80::1]:1") end)
    T.ok(msg:find("zone", 1, true), "a link-local address needs a zone: " .. msg)
    h:destroy()
  end)
end

if not T.windows then T.test("zones: by interface name or index, printed with the name", function()
  local lo = enet.host_create(nil, 4)
  local p = lo:connect("[fe80::1%lo]:6789")
  T.eq(tostring(p), "[fe80::1%lo]:6789", "name kept")
  local ip = p:address()
  T.eq(ip, "fe80::1%lo", "address() has the zone")
  local q = lo:connect("[fe80::2%1]:6789") -- lo is interface 1 on Linux
  T.eq(tostring(q), "[fe80::2%lo]:6789", "index shown as its name")
  T.raises("Failed to parse address", function() lo:connect("[fe80::1%no-such-if9]:1") end)
  local msg = T.raises("Failed to parse address", function() lo:connect("[fe80::1]:1") end)
  T.ok(msg:find("zone", 1, true), "a link-local address needs a zone: " .. msg)
  lo:destroy()
end) end

T.test("malformed and unbracketed addresses are clean errors", function()
  local h = enet.host_create()
  local cases = {
    { "::1:80", "brackets" }, { "fe80::1:80", "brackets" },
    { "[::1:80", "']'" }, { "[", "']'" }, { "[]:80", "IPv6 address" }, { "[::1]80", "']'" },
    { "[localhost]:80", "IPv6 address" }, { "[1.2.3.4]:80", "IPv6 address" },
    { "[fe80::1%]:80", "zone" }, { "[::1]]:80", "']'" },
  }
  for _, case in ipairs(cases) do
    for _, call in ipairs({ function() enet.host_create(case[1]) end, function() h:connect(case[1]) end }) do
      local msg = T.raises("Failed to parse address", call)
      T.ok(msg:find(case[2], 1, true), string.format("%q: %s", case[1], msg))
    end
  end
  for _, a in ipairs({ "[::1]", "[::1]:" }) do
    T.raises("Missing port in address", function() enet.host_create(a) end)
    T.raises("Missing port in address", function() h:connect(a) end)
  end
  T.raises("Hostname too long", function() h:connect("[fe80::1%" .. string.rep("z", 130) .. "]:1") end)
  T.raises("Hostname too long", function() h:connect("[::1]:" .. string.rep("1", 32)) end)
  h:destroy()
end)

T.test("get_socket_address: '*' and unbound keep 0.0.0.0, [::] and IPv6 literals are bracketed", function()
  local any = assert(enet.host_create("*:*"))
  T.ok(any:get_socket_address():match("^0%.0%.0%.0:%d+$"), "'*': " .. any:get_socket_address())
  local ip, port, family = any:get_socket_ip_port()
  T.eq(ip, "0.0.0.0", "'*' ip")
  T.eq(family, "inet", "'*' family as printed")
  T.eq(port, port_of(any:get_socket_address()), "'*' port")
  local six_any = assert(enet.host_create("[::]:*"))
  T.ok(six_any:get_socket_address():match("^%[::%]:%d+$"), "[::]: " .. six_any:get_socket_address())
  T.eq(select(1, six_any:get_socket_ip_port()), "::", "[::] ip")
  T.eq(select(3, six_any:get_socket_ip_port()), "inet6", "[::] family")
  local lo6 = assert(enet.host_create("[::1]:*"))
  T.ok(lo6:get_socket_address():match("^%[::1%]:%d+$"), "[::1]: " .. lo6:get_socket_address())
  T.eq(select(3, lo6:get_socket_ip_port()), "inet6", "[::1] family")
  local c = enet.host_create()
  T.eq(c:get_socket_address(), "0.0.0.0:0", "unbound before any traffic")
  c:connect("[::1]:" .. port_of(lo6:get_socket_address()))
  c:flush()
  local after = c:get_socket_address()
  T.ok(after:match("^0%.0%.0%.0:%d+$") and port_of(after) > 0, "unbound after an IPv6 send: " .. after)
  any:destroy() six_any:destroy() lo6:destroy() c:destroy()
end)

T.test("host names resolve IPv4 first", function()
  local h = enet.host_create()
  T.eq(tostring(h:connect("localhost:5678")), "127.0.0.1:5678", "localhost is 127.0.0.1")
  h:destroy()
end)

T.test("session over ::1: server [::1]:*, client unbound", function()
  local server = assert(enet.host_create("[::1]:*", 4))
  local client = assert(enet.host_create(nil, 2))
  local address = server:get_socket_address()
  local cpeer, speer = join(server, client, address, 7)
  T.eq(tostring(cpeer), address, "client side shows the server")
  T.ok(tostring(speer):match("^%[::1%]:%d+$"), "server side shows an IPv6 client: " .. tostring(speer))
  T.eq(select(3, speer:address()), "inet6", "family")
  round_trip(server, client, cpeer, speer, "v6")
  -- fragmented, both ways
  local big = string.rep("0123456789", 1000)
  T.eq(cpeer:send(big), 0, "big send")
  T.eq(T.receive(server, 1, { client })[1].data, big, "big packet over IPv6")
  server:destroy() client:destroy()
end)

T.test("dual stack: one '*' server, an IPv4 and an IPv6 client at once", function()
  local server = assert(enet.host_create("*:*", 8))
  local port = port_of(server:get_socket_address())
  local c4 = assert(enet.host_create("127.0.0.1:*", 1))
  local c6 = assert(enet.host_create("[::1]:*", 1))
  local p4 = c4:connect("127.0.0.1:" .. port, 1, 4)
  local p6 = c6:connect("[::1]:" .. port, 1, 6)
  local by_data, connected = {}, 0
  pump({ server, c4, c6 }, function() return connected == 2 and by_data[4] and by_data[6] end, function(h, e)
    if e.type ~= "connect" then return end
    if h == server then by_data[e.data] = e.peer else connected = connected + 1 end
  end)
  T.eq(tostring(by_data[4]), "127.0.0.1:" .. port_of(c4:get_socket_address()),
    "the IPv4 client prints as a dotted quad, not ::ffff:")
  T.eq(select(3, by_data[4]:address()), "inet", "IPv4 client family")
  T.eq(tostring(by_data[6]), "[::1]:" .. port_of(c6:get_socket_address()), "the IPv6 client")
  round_trip(server, c4, p4, by_data[4], "v4")
  round_trip(server, c6, p6, by_data[6], "v6")
  server:broadcast("to both")
  local got = {}
  pump({ server, c4, c6 }, function() return got[c4] and got[c6] end, function(h, e)
    if e.type == "receive" then got[h] = e.data end
  end)
  T.eq(got[c4], "to both", "broadcast reaches IPv4")
  T.eq(got[c6], "to both", "broadcast reaches IPv6")
  server:destroy() c4:destroy() c6:destroy()
end)

T.test("one client host reaches an IPv4 and an IPv6 server at once", function()
  local s4 = assert(enet.host_create("127.0.0.1:*", 2))
  local s6 = assert(enet.host_create("[::1]:*", 2))
  local client = assert(enet.host_create(nil, 2))
  local p4 = client:connect(s4:get_socket_address())
  local p6 = client:connect(s6:get_socket_address())
  local speers, up = {}, {}
  pump({ s4, s6, client }, function() return speers[s4] and speers[s6] and up[p4] and up[p6] end, function(h, e)
    if e.type ~= "connect" then return end
    if h == client then up[e.peer] = true else speers[h] = e.peer end
  end)
  T.ok(tostring(speers[s4]):match("^127%.0%.0%.1:%d+$"), "IPv4 server sees 127.0.0.1: " .. tostring(speers[s4]))
  T.ok(tostring(speers[s6]):match("^%[::1%]:%d+$"), "IPv6 server sees ::1: " .. tostring(speers[s6]))
  T.eq(port_of(tostring(speers[s4])), port_of(tostring(speers[s6])), "from one socket")
  round_trip(s4, client, p4, speers[s4], "to v4")
  round_trip(s6, client, p6, speers[s6], "to v6")
  s4:destroy() s6:destroy() client:destroy()
end)

T.test("a host refuses at connect a family its socket cannot reach", function()
  local four = assert(enet.host_create("127.0.0.1:*"))
  local msg = T.raises("Cannot connect to an IPv6 address", function() four:connect("[::1]:5") end)
  T.ok(msg:find("IPv4-only host", 1, true), msg)
  T.eq(four:get_peer(1):state(), "disconnected", "no slot used")
  local six = assert(enet.host_create("[::1]:*"))
  T.raises("Cannot connect to an IPv4 address from an IPv6-only host", function() six:connect("127.0.0.1:5") end)
  T.raises("Cannot connect to an IPv4 address", function() six:connect("*:5") end)
  -- the reference's checks still come first
  T.raises("Missing port in address", function() four:connect("[::1]") end)
  local dual = assert(enet.host_create("[::]:*"))
  T.ok(dual:connect("127.0.0.1:5") and dual:connect("[::1]:5"), "[::] reaches both families")
  four:destroy() six:destroy() dual:destroy()
end)

T.test("[::] host: a dual-stack socket that IPv4 clients reach too", function()
  local server = assert(enet.host_create("[::]:*", 2))
  local port = port_of(server:get_socket_address())
  local c4 = assert(enet.host_create("127.0.0.1:*", 1))
  local cpeer, speer = join(server, c4, "127.0.0.1:" .. port)
  T.eq(tostring(speer), "127.0.0.1:" .. port_of(c4:get_socket_address()), "IPv4 client of [::]")
  round_trip(server, c4, cpeer, speer, "v4 to [::]")
  server:destroy() c4:destroy()
end)

T.test("an address in use is a clean failure, whatever the family", function()
  local a = assert(enet.host_create("[::1]:*"))
  local again, msg = enet.host_create(a:get_socket_address())
  T.eq(again, nil, "second bind fails")
  T.ok(msg:find("^enet: failed to create host %(%[::1%]:%d+: "), msg)
  a:destroy()
end)

T.done()
