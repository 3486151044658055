-- Run by tests/network.rs (network/hostile.rs, case hostile_fragments): a server and a
-- legitimate client talk through a clean relay, which lets the Rust side send crafted fragments
-- from the client's own address, as that peer, on channels 2 and up, until it creates
-- ENET_STOP_FILE.
-- The server prints every packet it receives on those channels as "RECV <channel> <length>
-- <hex>", and the Rust side checks each byte against what it sent. The client's large
-- (multi-fragment) messages on channels 0 and 1 must arrive intact and in order before the
-- attack (READY is printed only then), during it, and after it.
-- The stop file holds the number of bytes that the attack's unfinished reassemblies may still
-- claim; once every legitimate message has been received, the server peer's waiting data must
-- be that plus their bookkeeping, and the server's resident memory must not have grown by
-- those claims.
local T = require "t"
local N = require "netlib"
require "enet"

local relay = assert(os.getenv("ENET_RELAY"), "ENET_RELAY")
local stop_file = assert(os.getenv("ENET_STOP_FILE"), "ENET_STOP_FILE")
local CHANNELS = 64
local MAX_WAITING = assert(N.num("ENET_MAX_WAITING"), "ENET_MAX_WAITING")
local BATCH = 5 -- large messages per channel that must arrive before, and again after

local function rss_kb()
  local f = assert(io.open("/proc/self/status", "r"))
  local status = f:read("*a")
  f:close()
  return assert(tonumber(status:match("VmRSS:%s*(%d+)")), "VmRSS")
end

local function hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

-- 1 to 31 KB: one to two dozen fragments, every size a different remainder
local function size(i)
  return 1000 + (i * 3779) % 30000
end

T.test("crafted fragments deliver only bytes that were sent; large messages still arrive", function()
  local server = assert(enet.host_create("127.0.0.1:*", 8, CHANNELS))
  local client = assert(enet.host_create(nil, 1, CHANNELS))
  T.eq(server:maximum_waiting_data(MAX_WAITING), MAX_WAITING, "maximum waiting data")
  -- one peer here: its address's share and the host's total must not be what refuses claims
  server:maximum_address_waiting_data(MAX_WAITING)
  server:maximum_host_waiting_data(MAX_WAITING)
  N.relay("server " .. server:get_socket_address(), { server, client })

  local cpeer = client:connect(relay, CHANNELS)
  local speer
  local sent, got = { [0] = 0, [1] = 0 }, { [0] = 0, [1] = 0 }
  local attack = 0

  local function handler(h, e)
    T.ok(e.type ~= "disconnect", "the legitimate connection stays up")
    if e.type == "connect" then
      if h == server then
        T.eq(speer, nil, "one connection")
        speer = e.peer
      end
      return
    end
    T.eq(h, server, "only the server receives")
    if e.channel >= 2 then
      attack = attack + 1
      N.say(string.format("RECV %d %d %s", e.channel, #e.data, hex(e.data)))
      return
    end
    local kind, ch, i = N.parse(e.data)
    T.eq(kind, "B", "kind of a legitimate message")
    T.eq(ch, e.channel, "channel of a legitimate message")
    T.eq(i, got[ch] + 1, "message number on channel " .. ch)
    T.eq(e.data, N.msg("B", ch, i, size(i)), "legitimate message " .. ch .. "/" .. i)
    got[ch] = i
  end

  -- keeps a few large messages in flight on channels 0 and 1
  local sending = true
  local function talk()
    for ch = 0, 1 do
      if sending and sent[ch] - got[ch] < 4 then
        sent[ch] = sent[ch] + 1
        T.eq(cpeer:send(N.msg("B", ch, sent[ch], size(sent[ch])), ch), 0, "send")
      end
    end
  end

  local function arrived(target)
    return function()
      talk()
      return got[0] >= target and got[1] >= target
    end
  end

  N.pump({ server, client }, 10000, function()
    return speer ~= nil and cpeer:state() == "connected"
  end, handler)
  N.pump({ server, client }, 20000, arrived(BATCH), handler)
  local rss_before = rss_kb()
  local before = got[0] + got[1]
  N.say("READY " .. server:get_socket_address())

  local claims
  N.pump({ server, client }, 60000, function()
    talk()
    local f = io.open(stop_file, "r")
    if not f then return false end
    claims = tonumber(f:read("*a"))
    f:close()
    return claims ~= nil
  end, handler)
  local during = got[0] + got[1] - before

  local base = math.max(got[0], got[1])
  N.pump({ server, client }, 20000, arrived(base + BATCH), handler)
  sending = false
  N.pump({ server, client }, 20000, function()
    return got[0] == sent[0] and got[1] == sent[1]
  end, handler)
  local after = got[0] + got[1] - before - during

  T.eq(cpeer:state(), "connected", "client state")
  -- What the unfinished reassemblies claim, plus ENet's bookkeeping for them (a few hundred
  -- bytes each, and one bit per fragment), which waiting data counts too.
  local waiting = speer:stats().waiting_data
  T.ok(waiting >= claims and waiting - claims < 32 * 1024, "the server peer's waiting data, "
    .. waiting .. " bytes, is what the unfinished reassemblies claim, " .. claims
    .. " bytes, plus their bookkeeping")
  local grown = rss_kb() - rss_before
  local memory
  if (os.getenv("LD_PRELOAD") or ""):find("libasan") then
    -- AddressSanitizer's allocator makes what it allocates resident (tests/sanitize)
    memory = "resident memory not checked under AddressSanitizer"
  else
    T.ok(grown < 24 * 1024, "resident memory grew by " .. grown .. " KB, less than 24 MB although "
      .. waiting .. " bytes are claimed")
    memory = "resident memory +" .. grown .. " KB"
  end
  N.say(string.format("COUNT large messages intact and in order: %d before, %d during, %d after the attack; %d attack packets delivered; %d bytes claimed, %s",
    before, during, after, attack, waiting, memory))
  server:destroy()
  client:destroy()
end)
T.done()
