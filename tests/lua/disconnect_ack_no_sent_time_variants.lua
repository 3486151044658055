-- Variants of disconnect_ack_no_sent_time.lua (vendor/enet 0042, from its attack review): a
-- DISCONNECT asking for an acknowledgement, in a datagram without a sent time, reaching a peer
-- in other ways. Each left the slot taken for good, without a disconnect event, before 0042
-- (all but the spoofed case fail with c716bd9^): after other commands in the same datagram (the
-- messages come first, 0039), with checksums on, to a peer in disconnect_later, inside the
-- datagram of acknowledgements that completes the handshake (connect, then disconnect, also to
-- a background host whose Lua has not taken the connect yet, 0041), from new ports again and
-- again, and to a client's own peer. A copy from another port is ignored.
local T = require "t"
local enet = require "enet"
local timing = require "timing"

local raw = require "rawudp"
local socket = raw.socket(T, "disconnect without a sent time, variants")
if not socket then return T.done() end

local port_of = raw.port_of

-- Without the bit operators of Lua 5.3 (the scripts run in every interpreter).
local function xor(a, b)
  local r, bit = 0, 1
  while a > 0 or b > 0 do
    if a % 2 ~= b % 2 then r = r + bit end
    a, b, bit = math.floor(a / 2), math.floor(b / 2), bit * 2
  end
  return r
end
local function u16(n) return string.char(math.floor(n / 256) % 256, n % 256) end
local function u32(n) return u16(math.floor(n / 65536) % 65536) .. u16(n % 65536) end

-- CRC32 as enet_crc32 computes it, as the bytes on the wire (big-endian)
local crc_table = {}
for i = 0, 255 do
  local c = i
  for _ = 1, 8 do if c % 2 == 1 then c = xor(0xEDB88320, math.floor(c / 2)) else c = math.floor(c / 2) end end
  crc_table[i] = c
end
local function crc32(s)
  local c = 0xFFFFFFFF
  for i = 1, #s do c = xor(crc_table[xor(c % 256, s:byte(i))], math.floor(c / 256)) end
  return u32(0xFFFFFFFF - c)
end
local C = {}
function C.disc(ack, data, chan, seq)
  return string.char(ack and 0x84 or 0x04, chan or 0xFF) .. u16(seq or 2) .. u32(data or 99)
end
function C.unseq(data, group) return string.char(0x49, 0) .. u16(0) .. u16(group or 1) .. u16(#data) .. data end
function C.reliable(data, seq) return string.char(0x86, 0) .. u16(seq) .. u16(#data) .. data end
function C.ping(seq) return string.char(0x85, 0xFF) .. u16(seq) end

-- A datagram to the server's peer: id (2 bytes, session bits, no flags), optional sent time,
-- checksum when ctx.connect_id, then the commands.
local function datagram(ctx, cmds, sent_time)
  local b1, b2 = ctx.id:byte(1, 2)
  local head = string.char(b1 + (sent_time and 0x80 or 0), b2) .. (sent_time and u16(sent_time) or "")
  if ctx.connect_id then
    local d = head .. ctx.connect_id .. cmds
    return head .. crc32(d) .. cmds
  end
  return head .. cmds
end

-- o: background, take_connect, checksum, server (shared), before(ctx), forge(ctx) -> datagram
-- or nil, spoof (send from another socket), on_handshake (rewrite the handshake's ack datagram)
local function run(o)
  local server = o.server or assert(enet.host_create("127.0.0.1:*", o.slots or 1))
  if o.background and not o.server then server:background(true) end
  if o.checksum then server:checksum(true) end
  local client = assert(enet.host_create(nil, 1))
  if o.checksum then client:checksum(true) end
  local relay = assert(socket.udp())
  assert(relay:setsockname("127.0.0.1", 0))
  relay:settimeout(0)
  local sport = port_of(server)
  local _, rport = relay:getsockname()
  local ctx = { relay = relay, sport = sport, to_client = {} }
  local cip, cport
  local events = {}
  local verified = false
  local function pass(with_server)
    local d, ip, port = relay:receivefrom()
    while d do
      if port == sport then
        ctx.to_client[#ctx.to_client + 1] = d
        local hs = o.checksum and 4 or 0
        -- VERIFY_CONNECT seen (command 3)
        local off = (d:byte(1) >= 0x80 and 5 or 3) + hs
        if d:byte(off) and d:byte(off) % 16 == 3 then verified = true end
        if cip and not ctx.drop_to_client then relay:sendto(d, cip, cport) end
      else
        cip, cport = ip, port
        local b1, b2 = d:byte(1, 2)
        if b1 and (b1 % 16) * 256 + b2 ~= 0xFFF then ctx.id = string.char(b1 % 64, b2)
        elseif b1 and o.checksum and not ctx.connect_id then
          -- CONNECT: header 4 (sent time), checksum 4, connectID at command offset 40
          ctx.connect_id = d:sub(9 + 40, 9 + 43)
        end
        if o.on_handshake and verified and not ctx.hs_done and ctx.id then
          ctx.hs_done = true
          local off = (b1 >= 0x80 and 5 or 3) + (o.checksum and 4 or 0)
          d = datagram(ctx, d:sub(off, off + 7) .. C.disc(true, 99), nil)
        end
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
        elseif e.type == "disconnect" then events[#events + 1] = "disconnect:" .. tostring(e.data) .. ":" .. tostring(e.reason)
        else events[#events + 1] = e.type .. ":" .. tostring(e.data) end
        e = server:check_events()
      end
    end
  end
  ctx.pass = pass
  local cpeer = client:connect("127.0.0.1:" .. rport, 1, 7)
  local speer
  timing.within(5, function()
    pass(o.take_connect or not o.background)
    if o.on_handshake then
      speer = server:get_peer(1)
      return ctx.hs_done
    end
    if cpeer:state() ~= "connected" then return false end
    for i = 1, server:peer_count() do
      local p = server:get_peer(i)
      if p:state() == "connected" then speer = p end
    end
    return speer
  end)
  if not o.on_handshake then
    cpeer:send("m1")
    client:flush()
    timing.within(5, function()
      pass(o.take_connect or not o.background)
      return cpeer:stats().reliable_data_in_transit == 0
    end)
    T.ok(ctx.id ~= nil, "the relay saw the client's peer id")
    speer:timeout(32, 200, 500)
    ctx.speer, ctx.cpeer, ctx.server, ctx.client = speer, cpeer, server, client
    if o.before then o.before(ctx) end
    ctx.state_before = speer:state()
    local d = o.forge(ctx)
    if o.spoof then
      local other = assert(socket.udp())
      assert(other:setsockname("127.0.0.1", 0))
      other:sendto(d, "127.0.0.1", sport)
      other:close()
    elseif d then
      relay:sendto(d, "127.0.0.1", sport)
    end
    if o.spoof then
      cpeer:send("m2")
      client:flush()
      events = {}
      timing.within(5, function() pass(true); return #events > 0 end)
      local got = table.concat(events, ",")
      local state = speer:state()
      client:destroy(); if not o.server then server:destroy() end; relay:close()
      return got, state, ctx
    end
    cpeer:reset()
    if o.take_connect or not o.background then events = {} end
  else
    cpeer:reset()
    ctx.state_before = speer:state()
  end
  local t0 = timing.now()
  repeat pass(true) until speer:state() == "disconnected" or timing.now() - t0 > 3000
  if o.after then o.after(ctx) end
  local state = speer:state()
  client:destroy()
  if not o.server then server:destroy() end
  relay:close()
  return table.concat(events, ","), state, ctx
end

local function case(name, o, want_events, want_state)
  T.test(name, function()
    local got, state = run(o)
    T.eq(state, want_state or "disconnected", "the slot's state")
    T.eq(got, want_events, "the server's events")
  end)
end

for _, bg in ipairs { false, true } do
  local tag = bg and "background: " or "normal: "
  local function with(t) t.background, t.take_connect, t.checksum = bg, true, true; return t end
  case(tag .. "a message, then [unsequenced, DISCONNECT+ack] with no sent time: both messages first",
    with { forge = function(c)
      c.relay:sendto(datagram(c, C.reliable("r2", 2), 1000), "127.0.0.1", c.sport)
      return datagram(c, C.unseq("u3") .. C.disc(true, 99))
    end }, "r2,u3,disconnect:99:remote")
  case(tag .. "a peer in disconnect_later", with {
    before = function(c) c.drop_to_client = true; c.speer:send("x"); c.speer:disconnect_later(5); c.pass(true) end,
    forge = function(c) return datagram(c, C.disc(true, 99)) end }, "disconnect:99:remote")
  case(tag .. "in the acknowledgement that completes the handshake: connect, then disconnect",
    with { on_handshake = true }, "connect:7,disconnect:99:remote")
  case(tag .. "from another port: ignored", with { spoof = true, forge = function(c) return datagram(c, C.disc(true, 99)) end }, "m2", "connected")
end
case("background, Lua has not taken the connect (0041), in the handshake's acknowledgement",
  { background = true, on_handshake = true, checksum = true }, "connect:7,disconnect:99:remote")

T.test("background server, 2 slots: 6 rounds from new ports, every slot comes back", function()
  local server = assert(enet.host_create("127.0.0.1:*", 2))
  server:background(true)
  for i = 1, 6 do
    local got, state = run { server = server, take_connect = true, forge = function(c) return datagram(c, C.disc(true, 99)) end }
    T.eq(state, "disconnected", "round " .. i)
    T.eq(got, "disconnect:99:remote", "round " .. i)
  end
  for i = 1, 2 do T.eq(server:get_peer(i):state(), "disconnected", "slot " .. i) end
  server:destroy()
end)

-- the client's own peer (connected out) gets the forged datagram from the server's address (the relay)
for _, bg in ipairs { false, true } do
  T.test((bg and "background" or "normal") .. " client: its own peer gets it from the server's address", function()
    local server = assert(enet.host_create("127.0.0.1:*", 1))
    local client = assert(enet.host_create(nil, 1))
    if bg then client:background(true) end
    local relay = assert(socket.udp())
    assert(relay:setsockname("127.0.0.1", 0)); relay:settimeout(0)
    local sport = port_of(server); local _, rport = relay:getsockname()
    local cip, cport, cid
    local cev = {}
    local function pass()
      local d, ip, port = relay:receivefrom()
      while d do
        if port == sport then
          cid = string.char(d:byte(1) % 64, d:byte(2))
          if cip then relay:sendto(d, cip, cport) end
        else cip, cport = ip, port; relay:sendto(d, "127.0.0.1", sport) end
        d, ip, port = relay:receivefrom()
      end
      local e = server:service(0); while e do e = server:check_events() end
      e = client:service(0)
      while e do
        cev[#cev + 1] = e.type .. ":" .. tostring(e.data) .. (e.reason and (":" .. e.reason) or "") .. (e.type == "receive" and ":" .. e.data or "")
        e = client:check_events()
      end
    end
    local cpeer = client:connect("127.0.0.1:" .. rport, 1, 7)
    local speer = server:get_peer(1)
    timing.within(5, function() pass(); return cpeer:state() == "connected" and speer:state() == "connected" end)
    speer:send("s1"); server:flush()
    timing.within(5, function() pass(); return #cev >= 2 end)
    cev = {}
    relay:sendto(datagram({ id = cid }, C.disc(true, 99)), cip, cport)
    speer:reset()
    local t0 = timing.now()
    repeat pass() until cpeer:state() == "disconnected" or timing.now() - t0 > 3000
    T.eq(cpeer:state(), "disconnected", "client's slot")
    T.eq(table.concat(cev, ","), "disconnect:99:remote", "client events")
    client:destroy(); server:destroy(); relay:close()
  end)
end
T.done()
