-- Attack review 3: a peer connecting to a broadcast address (host:connect("255.255.255.255:port"),
-- a LAN discovery) took the address of the first datagram for its slot's id, whatever it held
-- (stock ENet's way of finding who answers), and then retransmitted its CONNECT there on its own
-- timer. A blind spoofer that sends one 2-byte datagram (a bare header naming that id, a low and
-- easily guessed one) with a victim's source address made the host send the victim CONNECT after
-- CONNECT, 52 bytes each, for as long as the connection attempt lasts: reflection with no credit
-- (docs/handshake.md guarantee 3: at most 3 bytes and 2 datagrams out per byte and datagram in,
-- to an address that has not completed a handshake). It also let the spoofer end the discovery
-- (a wrong VERIFY_CONNECT refuses the attempt). Only the VERIFY_CONNECT that answers the peer's
-- CONNECT (its connect ID, which an off-path sender does not see) now tells it who answered.
-- luasocket stands for the spoofer (its socket is the victim's address) and for a LAN server.
local T = require "t"
require "enet"

-- Big-endian (`be`) and little-endian (`le`) unsigned integers of `n` bytes, without 5.3's
-- string.pack or bit operators, so that the script runs on every Lua.
local function be(n, v)
  local t = {}
  for i = n, 1, -1 do t[i] = string.char(v % 256); v = math.floor(v / 256) end
  return table.concat(t)
end
local function le(n, v)
  local t = {}
  for i = 1, n do t[i] = string.char(v % 256); v = math.floor(v / 256) end
  return table.concat(t)
end
-- A VERIFY_CONNECT datagram for peer id `id` (header with the session bits 0 and sent time
-- `sent`), its outgoing peer id and sessions, standard terms, and connect ID `connect_id`.
local function verify_connect(id, sent, outgoing, connect_id)
  return be(2, 0x8000 + id) .. be(2, sent) ..
    string.char(0x83, 0xFF) .. be(2, 1) .. be(2, outgoing) .. string.char(0, 0) ..
    be(4, 1392) .. be(4, 32768) .. be(4, 2) .. be(4, 0) .. be(4, 0) .. be(4, 5000) .. be(4, 2) .. be(4, 2) ..
    le(4, connect_id % 4294967296)
end
local raw = require "rawudp"
local socket = raw.socket(T, "broadcast reflection")
if not socket then return T.done() end

local function udp()
  local s = assert(socket.udp())
  assert(s:setsockname("127.0.0.1", 0))
  s:settimeout(0)
  return s
end

local function drain(s)
  local bytes, datagrams = 0, 0
  local d = s:receive()
  while d do
    bytes, datagrams = bytes + #d, datagrams + 1
    d = s:receive()
  end
  return bytes, datagrams
end

-- Services `host` for `ms`, counting what `s` receives meanwhile.
local function watch(host, s, ms)
  local bytes, datagrams = 0, 0
  local t0 = socket.gettime()
  while (socket.gettime() - t0) * 1000 < ms do
    host:service(5)
    local b, d = drain(s)
    bytes, datagrams = bytes + b, datagrams + d
  end
  return bytes, datagrams
end

local function port_of(host)
  return tonumber(host:get_socket_address():match(":(%d+)$"))
end

T.test("a forged datagram does not turn a broadcast connect towards its source", function()
  local host = assert(enet.host_create("127.0.0.1:*", 4, 2))
  local bpeer = assert(host:connect("255.255.255.255:9", 2))
  local id = bpeer:index() - 1
  T.eq(id, 0, "the broadcast peer holds the lowest slot")
  for _ = 1, 5 do host:service(1) end
  local victim = udp()
  -- a bare header: peer id, no sent time, no command
  victim:sendto(be(2, id), "127.0.0.1", port_of(host))
  local bytes, datagrams = watch(host, victim, 3000)
  T.ok(bytes <= 3 * 2 and datagrams <= 2,
       string.format("the host sent %d bytes in %d datagrams to an address that sent it 2 bytes in 1", bytes, datagrams))
  T.eq(tostring(bpeer), "255.255.255.255:9", "the broadcast peer kept its address")
  T.eq(bpeer:state(), "connecting", "and is still connecting")
  -- nor does a VERIFY_CONNECT with another connect ID end the discovery
  local wrong = verify_connect(id, 0, 0, bpeer:connect_id() + 1)
  victim:sendto(wrong, "127.0.0.1", port_of(host))
  watch(host, victim, 100)
  T.eq(bpeer:state(), "connecting", "a wrong VERIFY_CONNECT does not end it")
  T.eq(tostring(bpeer), "255.255.255.255:9", "nor take it")
  victim:close()
  host:destroy()
end)

T.test("the VERIFY_CONNECT that answers a broadcast connect still finds the server", function()
  local host = assert(enet.host_create("127.0.0.1:*", 4, 2))
  local bpeer = assert(host:connect("255.255.255.255:9", 2))
  local id = bpeer:index() - 1
  for _ = 1, 5 do host:service(1) end
  local server = udp()
  -- the server's answer, as a stock server sends it: header (client's id, session 0, sent
  -- time), VERIFY_CONNECT offering its slot 3 with the client's throttle terms and connect ID
  local verify = verify_connect(id, 1234, 3, bpeer:connect_id())
  server:sendto(verify, "127.0.0.1", port_of(host))
  local connected = false
  local t0 = socket.gettime()
  while not connected and socket.gettime() - t0 < 2 do
    local e = host:service(5)
    while e do
      if e.type == "connect" and e.peer == bpeer then connected = true end
      e = host:check_events()
    end
  end
  T.ok(connected, "the broadcast peer connected")
  T.eq(tostring(bpeer), "127.0.0.1:" .. select(2, server:getsockname()), "through the server's address")
  server:close()
  host:destroy()
end)

T.done()
