-- Run by tests/network.rs (network/stock.rs, case ipv6_only_resolution) in a network namespace
-- of its own shaped like an IPv6-only host or container: its IPv4 has only loopback (127.0.0.1 on
-- lo), its IPv6 has a global address (2001:db8::1 on lo, with ::1), and no DNS server answers.
-- There glibc's getaddrinfo with AI_ADDRCONFIG considers IPv4 unconfigured: it refuses
-- "127.0.0.1" (EAI_ADDRFAMILY) and asks DNS only for localhost's IPv6 address (EAI_AGAIN), so
-- ENet used to fail both with "Failed to resolve host name" (before vendor patch 0021). A numeric
-- address now
-- needs no lookup, and a name is looked up again without AI_ADDRCONFIG.
local T = require "t"
local N = require "netlib"
require "enet"

local function port_of(address) return tonumber(address:match(":(%d+)$")) end

-- host_create, with the error it raises as a second value instead.
local function create(address, ...)
  local ok, host, msg = pcall(enet.host_create, address, ...)
  if not ok then return nil, host end
  return host, msg
end

-- One round trip between a server and a client host over `address`.
local function session(server, client, address, text)
  local cpeer = client:connect(address, 1, 5)
  local speer, connected
  N.pump({ server, client }, 8000, function() return speer and connected end, function(h, e)
    if e.type == "connect" then
      if h == server then speer = e.peer else connected = true end
    end
  end)
  T.ok(speer and connected, "connected over " .. address)
  T.eq(cpeer:send(text), 0, "send")
  local got
  N.pump({ server, client }, 8000, function() return got end, function(h, e)
    if h == server and e.type == "receive" then got = e.data end
  end)
  T.eq(got, text, "received over " .. address)
end

T.test("host_create('127.0.0.1:*') binds without a lookup", function()
  local server, msg = create("127.0.0.1:*")
  T.ok(server, "127.0.0.1:*: " .. tostring(msg))
  T.ok(server:get_socket_address():match("^127%.0%.0%.1:%d+$"), "bound " .. server:get_socket_address())
  local client = assert(create("127.0.0.1:*"))
  session(server, client, server:get_socket_address(), "over 127.0.0.1")
  server:destroy() client:destroy()
end)

T.test("host_create('localhost:*') resolves to 127.0.0.1 without AI_ADDRCONFIG", function()
  local server, msg = create("localhost:*")
  T.ok(server, "localhost:*: " .. tostring(msg))
  T.ok(server:get_socket_address():match("^127%.0%.0%.1:%d+$"), "bound " .. server:get_socket_address())
  local client = assert(create())
  session(server, client, "localhost:" .. port_of(server:get_socket_address()), "by name")
  server:destroy() client:destroy()
end)

T.test("::1, the global address, and '*' reached at 127.0.0.1", function()
  for _, address in ipairs({ "[::1]:*", "[2001:db8::1]:*", "*:*" }) do
    local server, msg = create(address)
    T.ok(server, address .. ": " .. tostring(msg))
    local client = assert(create())
    local target = server:get_socket_address()
    if address == "*:*" then target = "127.0.0.1:" .. port_of(target) end
    session(server, client, target, "over " .. address)
    server:destroy() client:destroy()
  end
end)

T.test("a name that does not exist still fails cleanly", function()
  local host, msg = create("no-such-host.invalid:*")
  T.eq(host, nil, "no host")
  T.ok(tostring(msg):find("Failed to resolve host name", 1, true), tostring(msg))
end)

T.done()
