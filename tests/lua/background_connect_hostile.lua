-- valgrind: hostile datagrams to a background server while a peer's connect event waits for
-- Lua (vendor/enet patch 0041: the peer is connected, flagged CONNECT_PENDING). A LuaSocket
-- relay stands between a client and the server (so its forgeries come from the client's
-- address, with the client's peer id and session): it duplicates every datagram, replays old
-- ones, adds forged acknowledgements (of VERIFY_CONNECT too) and pings, and forges DISCONNECTs,
-- in the handshake's own burst too. The server's Lua takes nothing until the end. Nothing may
-- crash; the server's events stay one connect, first, with its data, then the messages once each
-- and in order, then at most one disconnect, last.
local T = require "t"
local enet = require "enet"
local timing = require "timing"

local raw = require "rawudp"
local socket = raw.socket(T, "hostile datagrams to a pending peer")
if not socket then return T.done() end

local s = 4242
local function rnd(n) s = (s * 16807) % 2147483647; return s % n end
local function u16(n) return string.char(math.floor(n / 256) % 256, n % 256) end
local function u32(n) return u16(math.floor(n / 65536) % 65536) .. u16(n % 65536) end

local function udp() return raw.udp(socket) end
local port_of = raw.port_of

-- The peer id and session a datagram's header carries (nil before the handshake), and the
-- header itself (4 bytes with a sent time, else 2).
local function header_of(d)
  if #d < 2 then return end
  local b1, b2 = d:byte(1, 2)
  local id = (b1 % 16) * 256 + b2
  if id == 0xFFF then return end
  local len = b1 >= 128 and 4 or 2
  if #d < len then return end
  return d:sub(1, len)
end

local ACK, DISCONNECT, PING = 1, 4, 5
local FLAG_ACK, FLAG_UNSEQ = 128, 64

local function forged_extras(head)
  local out = {}
  -- acknowledgements of what the server sent: VERIFY_CONNECT (seq 1, channel 0xFF) and random
  -- ones, with random sent times
  for _ = 1, 3 do
    out[#out + 1] = head .. string.char(ACK, 0xFF) .. u16(rnd(65536)) .. u16(1) .. u16(rnd(65536))
    out[#out + 1] = head .. string.char(ACK, rnd(2) == 0 and 0xFF or 0) .. u16(rnd(65536)) .. u16(rnd(8)) .. u16(rnd(65536))
  end
  -- pings with random sequence numbers
  out[#out + 1] = head .. string.char(PING + FLAG_ACK, 0xFF) .. u16(rnd(65536))
  -- garbage after a valid header
  out[#out + 1] = head .. string.char(rnd(256), rnd(256), rnd(256))
  return out
end

local function disconnect_of(head, acked)
  if acked then
    -- with a sent time, which the acknowledgement echoes (without one the slot is wedged:
    -- tests/lua/disconnect_ack_no_sent_time.lua)
    local timed = string.char(head:byte(1) % 64 + 128, head:byte(2)) .. u16(rnd(65536))
    return timed .. string.char(DISCONNECT + FLAG_ACK, 0xFF) .. u16(rnd(65536)) .. u32(48879)
  end
  return head .. string.char(DISCONNECT + FLAG_UNSEQ, 0xFF) .. u16(0) .. u32(48879)
end

local function run(mode)
  local server = assert(enet.host_create("127.0.0.1:*", 4))
  server:background(true)
  local client = assert(enet.host_create(nil, 1))
  local relay = udp()
  local sport = port_of(server)
  local _, rport = relay:getsockname()
  local cip, cport, head
  local old = {}
  local forged = 0
  local burst_done = false
  local function relay_pass()
    local d, ip, port = relay:receivefrom()
    while d do
      if port == sport then
        if cip then relay:sendto(d, cip, cport) end
      else
        cip, cport = ip, port
        for _ = 1, 3 do relay:sendto(d, "127.0.0.1", sport) end
        local h = header_of(d)
        if h then
          head = h
          if mode == "in the handshake's burst" and not burst_done then
            -- the datagram that completes the handshake, and a goodbye right behind it
            burst_done = true
            relay:sendto(disconnect_of(h, false), "127.0.0.1", sport)
            forged = forged + 1
          end
          for _, f in ipairs(forged_extras(h)) do relay:sendto(f, "127.0.0.1", sport); forged = forged + 1 end
        end
        old[#old + 1] = d
        if #old > 4 and rnd(3) == 0 then
          relay:sendto(old[rnd(#old) + 1], "127.0.0.1", sport)
        end
      end
      d, ip, port = relay:receivefrom()
    end
  end
  local function pump(ms, cond)
    local t0 = timing.now()
    repeat
      local e = client:service(0)
      while e do e = client:check_events() end
      relay_pass()
      if cond and cond() then return true end
      socket.sleep(0.0005)
    until timing.now() - t0 > ms
    return cond == nil
  end
  local cpeer = client:connect("127.0.0.1:" .. rport, 1, 123)
  T.ok(pump(5000, function() return cpeer:state() == "connected" or cpeer:state() == "disconnected" end),
    mode .. ": the handshake ended")
  local N = 12
  if mode ~= "in the handshake's burst" then
    for i = 1, N do cpeer:send("m" .. i) end
    client:flush()
    pump(5000, function() return cpeer:stats().reliable_data_in_transit == 0 end)
    pump(200)
    if mode:find("disconnect", 1, true) then
      for _ = 1, 3 do relay:sendto(disconnect_of(head, mode:find("acknowledged") ~= nil), "127.0.0.1", sport) end
      forged = forged + 3
    end
    pump(500)
  else
    pump(300)
  end
  T.ok(forged > 0, mode .. ": forged datagrams went out (" .. forged .. ")")
  -- Lua takes the server's events now.
  local got = {}
  local t0 = timing.now()
  repeat
    local e = server:service(1)
    while e do
      if e.type == "receive" then got[#got + 1] = e.data
      elseif e.type == "disconnect" then got[#got + 1] = "disconnect:" .. e.data .. ":" .. tostring(e.reason)
      else got[#got + 1] = e.type .. ":" .. e.data end
      e = server:check_events()
    end
    client:service(0)
    relay_pass()
  until timing.now() - t0 > 300
  local seq = table.concat(got, ",")
  local msgs = {}
  for i = 1, N do msgs[i] = "m" .. i end
  if mode == "duplicates, replays, forged acknowledgements" then
    T.eq(seq, "connect:123," .. table.concat(msgs, ","), mode .. ": every message once, in order")
    T.eq(cpeer:state(), "connected", mode .. ": the client stays connected")
    T.eq(server:connected_peers(), 1, mode .. ": and counted")
  elseif mode == "in the handshake's burst" then
    T.eq(seq, "connect:123,disconnect:48879:remote", mode .. ": connect, then disconnect")
  else
    T.eq(seq, "connect:123," .. table.concat(msgs, ",") .. ",disconnect:48879:remote",
      mode .. ": connect, the messages, one disconnect")
    T.eq(server:connected_peers(), 0, mode .. ": not counted")
  end
  client:destroy()
  server:destroy()
  relay:close()
end

for _, mode in ipairs({ "duplicates, replays, forged acknowledgements", "forged disconnect",
  "forged acknowledged disconnect", "in the handshake's burst" }) do
  T.test(mode, function() run(mode) end)
end

T.done()
