-- Hostile compressed datagrams to a host that compresses with the range coder (vendor/enet
-- patch 0040 is in its compressor; this is its decompressor's side). A LuaSocket relay between a
-- client and a server forwards each datagram, then sends the server mangled copies of those with
-- the compressed flag (truncated, zero-length body, flipped bits, garbage appended or instead);
-- another socket sends connectionless ones, among them bodies that decompress to more than a
-- datagram can hold. Nothing may crash, and with checksums on the reliable messages arrive intact
-- and in order.
local T = require "t"
require "enet"

local raw = require "rawudp"
local socket = raw.socket(T, "hostile compressed datagrams")
if not socket then return T.done() end

local s = 12345
local function rnd(n) s = (s * 16807) % 2147483647; return s % n + 1 end
local function bytes(n, f)
  local t = {}
  for i = 1, n do t[i] = string.char(f and f(i) or rnd(256) - 1) end
  return table.concat(t)
end
local function unhex(h) return (h:gsub("..", function(x) return string.char(tonumber(x, 16)) end)) end

-- Range-coder output (enet_range_coder_compress of n zero bytes): each decodes to n bytes, so the
-- first fits a datagram with a 2-byte header (4096 - 2) and the others do not.
local ZEROS = {
  [4094] = unhex("0103e861fe9c47c2b67666"),
  [4095] = unhex("0103e861fe9c47c2b78af9"),
  [6000] = unhex("0103e861fe9c47c37d1a50d8bc"),
  [65536] = unhex("0103e861fe9c47c37d1bd7ae0e9ada32612cdc711654725cd943f0a1a4c577d7564b5dc0946581b045aec2aaba10882685b63238342579cf9c8d7c33096a49985980500ba9fddd56"),
}

local function udp() return raw.udp(socket) end
local port_of = raw.port_of

-- Mangled copies of a compressed datagram whose header is `hs` bytes long.
local function mangle(d, hs)
  local head, body = d:sub(1, hs), d:sub(hs + 1)
  local out = { head, head .. body:sub(1, 1), head .. body:sub(1, math.floor(#body / 2)), head .. body:sub(1, #body - 1),
    head .. body .. bytes(rnd(40)), head .. bytes(rnd(1200)), head .. string.rep("\255", #body),
    head .. string.rep("\0", #body), head .. ZEROS[4095], head .. ZEROS[6000], head .. ZEROS[65536] }
  for _ = 1, 4 do
    local i = rnd(#body)
    local b, bit = body:byte(i), 2 ^ (rnd(8) - 1)
    if b % (2 * bit) >= bit then b = b - bit else b = b + bit end
    out[#out + 1] = head .. body:sub(1, i - 1) .. string.char(b) .. body:sub(i + 1)
  end
  return out
end

local function run(checksum)
  local server = assert(enet.host_create("127.0.0.1:*", 4, 2))
  local client = assert(enet.host_create(nil, 1, 2))
  for _, h in ipairs({ server, client }) do
    T.eq(h:compression(true), true, "compression on")
    h:checksum(checksum)
  end
  local relay, attacker = udp(), udp()
  local sport = port_of(server)
  local _, rport = relay:getsockname()
  local cip, cport
  local stats = { forwarded = 0, compressed = 0, mangled = 0 }
  local hs = 2 + (checksum and 4 or 0)
  local function relay_pass()
    local d, ip, port = relay:receivefrom()
    while d do
      if port == sport then
        if cip then relay:sendto(d, cip, cport) end
      else
        cip, cport = ip, port
        relay:sendto(d, "127.0.0.1", sport)
        stats.forwarded = stats.forwarded + 1
        if #d >= 2 and d:byte(1) % 128 >= 64 then -- the compressed flag
          stats.compressed = stats.compressed + 1
          local h = hs + (d:byte(1) >= 128 and 2 or 0) -- with its sent time
          for _, m in ipairs(mangle(d, h)) do
            relay:sendto(m, "127.0.0.1", sport)
            stats.mangled = stats.mangled + 1
          end
        end
      end
      d, ip, port = relay:receivefrom()
    end
  end
  local got = {}
  local function pump(cond, ms)
    for _ = 1, ms or 5000 do
      for _, h in ipairs({ server, client }) do
        local e = h:service(0)
        while e do
          if h == server and e.type == "receive" then got[#got + 1] = e end
          e = h:check_events()
        end
      end
      relay_pass()
      if cond() then return true end
      socket.sleep(0.001)
    end
    return false
  end
  local cpeer = client:connect("127.0.0.1:" .. rport, 2)
  T.ok(pump(function() return cpeer:state() == "connected" end), "connected through the relay")
  -- connectionless datagrams with the compressed flag
  for _, body in ipairs({ "", "\0", "\255", bytes(3), bytes(100), string.rep("\255", 4000), ZEROS[4094],
    ZEROS[4095], ZEROS[6000], ZEROS[65536], bytes(4000) }) do
    for _, flags in ipairs({ "\79\255", "\207\255\0\0" }) do -- 0xFFF | compressed (| sent time)
      local head = flags .. (checksum and "\0\0\0\0" or "")
      attacker:sendto(head .. body, "127.0.0.1", sport)
    end
  end
  local sent = {}
  local sizes = { 0, 1, 2, 0, 0, 3, 1000, 0, 1380, 1381, 1382, 1383, 0, 2800, 0, 4000, 1, 0 }
  for round = 1, 3 do
    for i, n in ipairs(sizes) do
      local data = i % 3 == 0 and bytes(n) or string.rep(string.char(round + i), n)
      sent[#sent + 1] = data
      T.eq(cpeer:send(data, i % 2, "reliable"), 0, "send")
      if i % 4 == 0 then client:flush() end
    end
    pump(function() return false end, 20)
  end
  local delivered = pump(function() return #got >= #sent end, checksum and 8000 or 1500)
  T.ok(stats.compressed > 0, "compressed datagrams went through the relay")
  if checksum then
    -- the checksum rejects what decompressed to something else: everything arrives intact
    T.ok(delivered, "all delivered: " .. #got .. " of " .. #sent)
    local per = { [0] = {}, [1] = {} }
    for i, d in ipairs(sent) do local p = per[(i % #sizes) % 2]; p[#p + 1] = d end
    local seen = { [0] = 0, [1] = 0 }
    for _, e in ipairs(got) do
      seen[e.channel] = seen[e.channel] + 1
      T.eq(e.data, per[e.channel][seen[e.channel]], "channel " .. e.channel .. " message " .. seen[e.channel])
    end
  end
  -- without checksums a mangled copy may decompress to other commands: only no crash is asked,
  -- and the server still takes a new connection
  local other = assert(enet.host_create(nil, 1, 2))
  other:compression(true)
  other:checksum(checksum)
  local op = other:connect(server:get_socket_address(), 2, 77)
  local sp
  T.pump({ server, other }, function() return sp and op:state() == "connected" end, function(h, e)
    if h == server and e.type == "connect" and e.data == 77 then sp = e.peer end
  end)
  op:send("")
  op:send("x")
  local last = {}
  T.pump({ server, other }, function() return #last >= 2 end, function(h, e)
    if h == server and e.type == "receive" and e.peer == sp then last[#last + 1] = e.data end
  end)
  T.eq(last[1], "", "empty message after the attack")
  T.eq(last[2], "x", "one byte after the attack")
  relay:close()
  attacker:close()
  other:destroy()
  client:destroy()
  server:destroy()
  return stats
end

T.test("mangled compressed datagrams, checksums on: no crash, reliable data intact", function()
  run(true)
end)
T.test("mangled compressed datagrams, checksums off: no crash", function()
  run(false)
end)
T.done()
