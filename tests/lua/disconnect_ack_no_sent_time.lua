-- A DISCONNECT that asks for an acknowledgement (FLAG_ACKNOWLEDGE) in a datagram without a sent
-- time (no ENET_PROTOCOL_HEADER_FLAG_SENT_TIME) wedges the server's slot for good: stock
-- enet_protocol_handle_disconnect moves a CONNECTED peer to ACKNOWLEDGING_DISCONNECT and
-- clears its queues, but the acknowledgement is queued only when the datagram has a sent time
-- (enet_protocol_handle_incoming_commands), and only the sending of that acknowledgement makes
-- the peer a ZOMBIE. Nothing is in flight, ENet pings only CONNECTED peers, so nothing ever
-- times out: the slot stays "acknowledging_disconnect" until the host is destroyed, and the
-- program never gets a disconnect event. Any client can send it (3 bytes of header and a
-- command), then leave, and do it again from another port.
--
-- With vendor/enet 0041 the same datagram reaches a background server's peer whose connect
-- event Lua has not taken yet (CONNECTED, flagged CONNECT_PENDING): Lua then never gets that
-- connect event, the messages the thread acknowledged, nor a disconnect. Before 0041 such a
-- peer was CONNECTION_PENDING, which handle_disconnect resets at once (the slot was freed).
--
-- Found by the attack review of 0041 (tests/lua/background_connect_hostile.lua's forged
-- acknowledged disconnect, whose header had no sent time). Fixed by vendor/enet patch 0042:
-- such a peer is a zombie at once (its messages, then its disconnect event; the slot is freed).
local T = require "t"
local enet = require "enet"
local timing = require "timing"

local raw = require "rawudp"
local socket = raw.socket(T, "disconnect without a sent time")
if not socket then return T.done() end

local port_of = raw.port_of

-- server: a host, in background mode or not; take_connect: whether its Lua takes the connect
-- event before the datagram. Returns the server's events after it, as a string, and the slot.
local function run(background, take_connect)
  local server = assert(enet.host_create("127.0.0.1:*", 1))
  if background then server:background(true) end
  local client = assert(enet.host_create(nil, 1))
  local relay = assert(socket.udp())
  assert(relay:setsockname("127.0.0.1", 0))
  relay:settimeout(0)
  local sport = port_of(server)
  local _, rport = relay:getsockname()
  local cip, cport, id
  local events = {}
  local function pass(with_server)
    local d, ip, port = relay:receivefrom()
    while d do
      if port == sport then
        if cip then relay:sendto(d, cip, cport) end
      else
        cip, cport = ip, port
        local b1, b2 = d:byte(1, 2)
        -- the peer id and session the client addresses the server's peer with
        if b1 and (b1 % 16) * 256 + b2 ~= 0xFFF then id = string.char(b1 % 64, b2) end
        relay:sendto(d, "127.0.0.1", sport)
      end
      d, ip, port = relay:receivefrom()
    end
    local e = client:service(0)
    while e do e = client:check_events() end
    if with_server then
      e = server:service(0)
      while e do
        if e.type == "receive" then events[#events + 1] = e.data
        else events[#events + 1] = e.type .. ":" .. tostring(e.data) end
        e = server:check_events()
      end
    end
  end
  local cpeer = client:connect("127.0.0.1:" .. rport, 1, 7)
  local speer = server:get_peer(1)
  timing.within(5, function()
    pass(take_connect or not background)
    return cpeer:state() == "connected" and speer:state() == "connected"
  end)
  cpeer:send("m1")
  client:flush()
  timing.within(5, function()
    pass(take_connect or not background)
    return cpeer:stats().reliable_data_in_transit == 0
  end)
  T.ok(id ~= nil, "the relay saw the client's peer id")
  speer:timeout(32, 200, 500)
  -- DISCONNECT | ACKNOWLEDGE, channel 0xFF, sequence 2, data 99; no sent time in the header
  relay:sendto(id .. "\132\255\0\2\0\0\0\99", "127.0.0.1", sport)
  cpeer:reset() -- the client goes away
  events = take_connect and {} or events
  local t0 = timing.now()
  repeat pass(true) until speer:state() == "disconnected" or timing.now() - t0 > 3000
  local state = speer:state()
  client:destroy()
  server:destroy()
  relay:close()
  return table.concat(events, ","), state
end

T.test("normal mode, a connected peer: the slot is freed and the program told", function()
  local got, state = run(false, true)
  T.eq(state, "disconnected", "the slot is freed within 3 s (its peer's timeout is 0.5 s)")
  T.eq(got, "disconnect:99", "one disconnect event")
end)

T.test("background mode, a connected peer: the slot is freed and the program told", function()
  local got, state = run(true, true)
  T.eq(state, "disconnected", "the slot is freed within 3 s (its peer's timeout is 0.5 s)")
  T.eq(got, "disconnect:99", "one disconnect event")
end)

T.test("background mode, a pending peer (0041): connect, its message, disconnect", function()
  local got, state = run(true, false)
  T.eq(state, "disconnected", "the slot is freed within 3 s (its peer's timeout is 0.5 s)")
  T.eq(got, "connect:7,m1,disconnect:99", "the connect, the message, the disconnect")
end)

T.done()
