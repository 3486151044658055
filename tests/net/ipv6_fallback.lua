-- Run by tests/network.rs (network/stock.rs) with the LD_PRELOAD shim of tests/net/c/shim.c,
-- which makes this Linux machine behave like one without IPv6 or without dual stack
-- (ENET_SHIM=socket6, v6only or bind6), like macOS and FreeBSD, whose AF_INET6 sockets refuse an
-- IPv4 sockaddr_in (strict), or like a machine where AI_ADDRCONFIG hides localhost (addrconfig).
local T = require "t"
local N = require "netlib"
require "enet"

local shim = assert(os.getenv("ENET_SHIM"), "ENET_SHIM")
local function mode(m) return shim:find(m, 1, true) ~= nil end
local no_dual = mode("socket6") or mode("v6only") or mode("bind6")
-- Without an AF_INET6 socket, nothing IPv6 works; without dual stack, IPv6-only sockets still do.
local no_ipv6 = mode("socket6") or mode("bind6")

local function port_of(address) return tonumber(address:match(":(%d+)$")) end

-- One round trip between a server and a client host over `address`.
local function session(server, client, address, text)
  local cpeer = client:connect(address, 1, 9)
  local speer, connected
  N.pump({ server, client }, 8000, function() return speer and connected end, function(h, e)
    if e.type == "connect" then
      if h == server then speer = e.peer else connected = true end
    end
  end)
  T.eq(speer and cpeer:send(text), 0, "send")
  local got
  N.pump({ server, client }, 8000, function() return got end, function(h, e)
    if h == server and e.type == "receive" then got = e.data end
  end)
  T.eq(got, text, "received over " .. address)
  return speer
end

if no_dual then
  T.test("'*' and no address fall back to IPv4, exactly as before (" .. shim .. ")", function()
    local server = assert(enet.host_create("*:*"))
    T.ok(server:get_socket_address():match("^0%.0%.0%.0:%d+$"), "prints " .. server:get_socket_address())
    local msg = T.raises("Cannot connect to an IPv6 address from an IPv4-only host",
      function() server:connect("[::1]:1") end)
    T.ok(msg:find("no IPv6", 1, true), msg)
    local client = assert(enet.host_create())
    if not mode("bind6") then -- an unbound host never calls bind: it stays dual stack there
      T.raises("IPv4-only host", function() client:connect("[::1]:1") end)
    end
    local speer = session(server, client, "127.0.0.1:" .. port_of(server:get_socket_address()), "over IPv4")
    T.ok(tostring(speer):match("^127%.0%.0%.1:%d+$"), "an IPv4 peer " .. tostring(speer))
    server:destroy() client:destroy()
  end)

  T.test("[::] does not fall back: a clean failure (" .. shim .. ")", function()
    local host, msg = enet.host_create("[::]:*")
    T.eq(host, nil, "no host")
    T.ok(msg:find("^enet: failed to create host %(%[::%]:0: "), msg)
  end)

  T.test("[::1] gives a clean failure without IPv6, works with IPv6 but no dual stack (" .. shim .. ")", function()
    local host, msg = enet.host_create("[::1]:*")
    if no_ipv6 then
      T.eq(host, nil, "no host")
      T.ok(msg:find("^enet: failed to create host %(%[::1%]:0: "), msg)
    else
      T.ok(host, "an IPv6-only host: " .. tostring(msg))
      T.raises("Cannot connect to an IPv4 address from an IPv6-only host", function() host:connect("127.0.0.1:1") end)
      local client = assert(enet.host_create("[::1]:*"))
      session(host, client, host:get_socket_address(), "over IPv6 only")
      host:destroy() client:destroy()
    end
  end)
end

if mode("strict") then
  T.test("IPv4 peers of a dual-stack socket are sent mapped sockaddr_in6 (macOS rules)", function()
    local server = assert(enet.host_create("*:*", 4))
    local port = port_of(server:get_socket_address())
    local four = assert(enet.host_create("127.0.0.1:*"))
    session(server, four, "127.0.0.1:" .. port, "IPv4 client, dual-stack server")
    local dual = assert(enet.host_create())
    session(server, dual, "127.0.0.1:" .. port, "dual-stack client, dual-stack server")
    local six = assert(enet.host_create("[::1]:*"))
    session(server, six, "[::1]:" .. port, "IPv6 client, dual-stack server")
    server:destroy() four:destroy() dual:destroy() six:destroy()
  end)
end

if mode("addrconfig") then
  T.test("names resolve without AI_ADDRCONFIG when it finds nothing", function()
    local server = assert(enet.host_create("localhost:*"))
    T.ok(server:get_socket_address():match("^127%.0%.0%.1:%d+$"), "bound " .. server:get_socket_address())
    local client = assert(enet.host_create())
    session(server, client, "localhost:" .. port_of(server:get_socket_address()), "by name")
    server:destroy() client:destroy()
  end)
end

T.done()
