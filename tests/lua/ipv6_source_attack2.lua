-- valgrind: the per-source rules over a dual-stack socket under memcheck too.
-- Attack review 2: enet_address_same_source (vendor patch 0028) on a dual-stack host. An IPv4
-- client is held as ::ffff:a.b.c.d, whose first 64 bits are zero, as are those of ::1 (and of
-- every address of ::/64). same_source compared an IPv4-mapped address exactly only when the
-- *first* argument was mapped, so with a peer from ::1 first, every IPv4 address counted as the
-- same source as it: `duplicate_peers(1)` kept every IPv4 client out once a local process had
-- connected over ::1 (and the per-address waiting-data share of 0014 was one for all of them).
-- tests/lua.rs gives this script ::1 (ipv6*.lua).
local T = require "t"
require "enet"

local function port_of(address) return tonumber(address:match(":(%d+)$")) end

-- Connects `client` to `address`; returns whether each side saw the connection within `ms`.
local function try_join(server, client, address, ms)
  local cpeer = client:connect(address, 1)
  local server_saw, client_saw, client_lost = false, false, false
  local hosts = { server, client }
  local deadline = 0
  while deadline < ms and not (server_saw and client_saw) and not client_lost do
    for _, h in ipairs(hosts) do
      local e = h:service(1)
      while e do
        if e.type == "connect" then
          if h == server then server_saw = true else client_saw = true end
        elseif e.type == "disconnect" and h == client then
          client_lost = true
        end
        e = h:check_events()
      end
    end
    deadline = deadline + 2
  end
  -- A client told it joined and then DISCONNECT is not in.
  return server_saw and client_saw and not client_lost, cpeer
end

T.test("a ::1 peer does not make every IPv4 address its source (duplicate_peers 1)", function()
  local server = assert(enet.host_create("[::]:*", 8))
  server:duplicate_peers(1)
  local port = port_of(server:get_socket_address())
  local six = assert(enet.host_create("[::1]:*", 1))
  local four = assert(enet.host_create("127.0.0.1:*", 1))
  local ok6 = try_join(server, six, "[::1]:" .. port, 3000)
  T.ok(ok6, "the ::1 client joins")
  local ok4 = try_join(server, four, "127.0.0.1:" .. port, 3000)
  T.ok(ok4, "an IPv4 client (another address) joins beside the ::1 one")
  server:destroy() six:destroy() four:destroy()
end)

T.test("the same with the defence off (stock handshake, same rule)", function()
  local server = assert(enet.host_create("[::]:*", 8))
  server:duplicate_peers(1)
  server:flood_defence(false)
  local port = port_of(server:get_socket_address())
  local six = assert(enet.host_create("[::1]:*", 1))
  local four = assert(enet.host_create("127.0.0.1:*", 1))
  T.ok(try_join(server, six, "[::1]:" .. port, 3000), "the ::1 client joins")
  T.ok(try_join(server, four, "127.0.0.1:" .. port, 3000), "an IPv4 client joins beside it")
  server:destroy() six:destroy() four:destroy()
end)

-- The address a server sees for a client bound to 127.0.0.2: Wine 8 sends from 127.0.0.1
-- whatever loopback address the socket is bound to.
local function seen_from_127_0_0_2()
  local server = assert(enet.host_create("127.0.0.1:*", 2))
  local client = assert(enet.host_create("127.0.0.2:*", 1))
  client:connect("127.0.0.1:" .. port_of(server:get_socket_address()), 1)
  local seen
  for _ = 1, 500 do
    local e = server:service(1)
    if e and e.type == "connect" then seen = tostring(e.peer):match("^(.*):%d+$") break end
    client:service(1)
  end
  server:destroy() client:destroy()
  return seen
end

T.test("and the other order: IPv4 first, then ::1, then another IPv4 address", function()
  local seen = seen_from_127_0_0_2()
  if seen ~= "127.0.0.2" then
    T.skip("IPv4 first, then ::1, then 127.0.0.2",
      "a socket bound to 127.0.0.2 is seen here as " .. tostring(seen) .. " (Wine)")
    return
  end
  local server = assert(enet.host_create("[::]:*", 8))
  server:duplicate_peers(1)
  local port = port_of(server:get_socket_address())
  local a = assert(enet.host_create("127.0.0.1:*", 1))
  local six = assert(enet.host_create("[::1]:*", 1))
  local b = assert(enet.host_create("127.0.0.2:*", 1))
  T.ok(try_join(server, a, "127.0.0.1:" .. port, 3000), "127.0.0.1 joins")
  T.ok(try_join(server, six, "[::1]:" .. port, 3000), "::1 joins")
  T.ok(try_join(server, b, "127.0.0.1:" .. port, 3000), "127.0.0.2 joins")
  -- and the rule still holds where it should: a second client from 127.0.0.1 is kept out
  local a2 = assert(enet.host_create("127.0.0.1:*", 1))
  T.ok(not try_join(server, a2, "127.0.0.1:" .. port, 1500), "a second 127.0.0.1 client is refused")
  server:destroy() a:destroy() six:destroy() b:destroy() a2:destroy()
end)

T.done()
