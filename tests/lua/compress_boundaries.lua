-- valgrind: message sizes at the range coder's boundaries (vendor/enet patch 0040), both ways
-- and checked byte for byte and in order: runs of empty messages in one datagram (first, last,
-- all of its payloads empty), 1 and 2 bytes, several channels and every kind of send, sizes
-- around the MTU and fragmented ones, random bytes (which grow when compressed, so go
-- uncompressed) and repetitive ones, and compression switched off and on between services.
local T = require "t"
require "enet"

local s = 4242
local function rnd(n) s = (s * 16807) % 2147483647; return s % n + 1 end
local function random_bytes(n)
  local t = {}
  for i = 1, n do t[i] = string.char(rnd(256) - 1) end
  return table.concat(t)
end

local KINDS = { [0] = "reliable", [1] = "reliable", [2] = "unreliable", [3] = "unsequenced" }

-- Sends `batch` (a list of {channel, data}) from `from` to `to` through `peer`, flushing after
-- each message that has `flush` set (else they share datagrams), and checks that `to` receives
-- every one of them in order on each channel, byte for byte.
local function exchange(from, to, peer, batch)
  -- first let pending acknowledgements go, so that a datagram can carry only our messages
  for _ = 1, 3 do from:service(0); to:service(0) end
  local want = { [0] = {}, [1] = {}, [2] = {}, [3] = {} }
  for i, m in ipairs(batch) do
    T.eq(peer:send(m[2], m[1], KINDS[m[1]]), 0, "send " .. i)
    local w = want[m[1]]
    w[#w + 1] = m[2]
    if m.flush then from:flush() end
  end
  local got = { [0] = {}, [1] = {}, [2] = {}, [3] = {} }
  -- reliable ones must all arrive; unreliable ones may be dropped by ENet's throttle when a slow
  -- run (valgrind) makes round trips vary, so they are waited for a while but not required
  local function reliable_done() return #got[0] >= #want[0] and #got[1] >= #want[1] end
  local function all_done() return reliable_done() and #got[2] >= #want[2] and #got[3] >= #want[3] end
  local function handler(h, e)
    if h == to and e.type == "receive" then
      local g = got[e.channel]
      g[#g + 1] = e.data
    end
    T.ok(e.type ~= "disconnect", "no disconnect")
  end
  T.pump({ to, from }, reliable_done, handler)
  for _ = 1, 100 do
    if all_done() then break end
    for _, h in ipairs({ to, from }) do
      local e = h:service(1)
      while e do handler(h, e); e = h:check_events() end
    end
  end
  for ch = 0, 1 do
    T.eq(#got[ch], #want[ch], "channel " .. ch .. " count")
    for i = 1, #want[ch] do
      if got[ch][i] ~= want[ch][i] then
        error(string.format("channel %d message %d: sent %d bytes, got %d bytes (or other bytes)", ch, i,
          #want[ch][i], #got[ch][i]))
      end
    end
  end
  -- channel 2 (unreliable, sequenced): what arrived is what was sent, in order, maybe fewer
  local j = 1
  for i, d in ipairs(got[2]) do
    while j <= #want[2] and want[2][j] ~= d do j = j + 1 end
    T.ok(j <= #want[2], "channel 2 message " .. i .. " was sent, in this order")
    j = j + 1
  end
  -- channel 3 (unsequenced): each one that arrived was sent, once
  local left = {}
  for _, d in ipairs(want[3]) do left[d] = (left[d] or 0) + 1 end
  for i, d in ipairs(got[3]) do
    T.ok((left[d] or 0) > 0, "channel 3 message " .. i .. " was sent")
    left[d] = left[d] - 1
  end
end

local function batches(mtu)
  -- the largest payload of one reliable send command in one datagram: MTU less the header
  -- (4 with its sent time) and the command (6)
  local fit = mtu - 4 - 6
  local list = {
    -- only empty messages, in one datagram, one channel then all
    (function() local b = {} for i = 1, 30 do b[i] = { 0, "" } end return b end)(),
    (function() local b = {} for i = 1, 40 do b[i] = { (i - 1) % 4, "" } end return b end)(),
    -- the first, the last, both, empty; one byte; two bytes
    { { 0, "" }, { 0, "a" } }, { { 0, "a" }, { 0, "" } }, { { 1, "" }, { 1, "b" }, { 1, "" } },
    { { 0, "\0" }, { 1, "\0\0" }, { 2, "" }, { 3, "\255" }, { 0, "" }, { 2, "c" }, { 3, "" } },
    -- one message per datagram, an empty one last in each
    { { 0, "", flush = true }, { 1, "x", flush = true }, { 2, "", flush = true }, { 3, "", flush = true } },
    -- around one datagram's payload, with empty ones between
    { { 0, string.rep("m", fit - 1) }, { 0, "" }, { 1, string.rep("n", fit) }, { 1, "" },
      { 0, string.rep("o", fit + 1) }, { 0, "" } },
    { { 0, random_bytes(fit) }, { 0, "" }, { 1, random_bytes(fit + 1), flush = true }, { 1, "" } },
    -- fragmented, random (does not compress) and repetitive, then empty
    { { 0, random_bytes(3 * fit + 7) }, { 1, "" }, { 0, string.rep("\0", 5 * fit) }, { 0, "" },
      { 1, string.rep("ab", 4000) }, { 2, "" }, { 3, "" }, { 1, "" } },
  }
  -- random mixes: mostly empty and tiny, some large
  for _ = 1, 6 do
    local b = {}
    for i = 1, 25 do
      local k, n = rnd(10), 0
      if k >= 6 and k <= 8 then n = rnd(3)
      elseif k == 9 then n = fit - 2 + rnd(4)
      elseif k == 10 then n = rnd(5000) end
      b[i] = { rnd(4) - 1, rnd(2) == 1 and random_bytes(n) or string.rep(string.char(rnd(256) - 1), n),
        flush = rnd(6) == 1 }
    end
    list[#list + 1] = b
  end
  return list
end

T.test("empty, tiny and boundary messages, both ways, compressed on both ends", function()
  local server, client, cpeer, speer = T.pair({ server_channels = 4, client_channels = 4, connect_channels = 4 })
  server:compress_with_range_coder()
  client:compress_with_range_coder()
  local mtu = cpeer:mtu()
  for i, b in ipairs(batches(mtu)) do
    exchange(client, server, cpeer, b)
    exchange(server, client, speer, b)
    if i % 3 == 0 then
      -- switched off and on again on both ends between services
      T.eq(client:compression(false), false, "off")
      T.eq(server:compression(false), false, "off")
      exchange(client, server, cpeer, { { 0, "" }, { 1, "plain" }, { 0, "" } })
      T.eq(server:compression(true), true, "on")
      T.eq(client:compression(true), true, "on")
    end
  end
  client:destroy()
  server:destroy()
end)

T.test("one end compressing: it receives plain datagrams, and sends to a plain one once it stops", function()
  local server, client, cpeer, speer = T.pair({ server_channels = 4, client_channels = 4, connect_channels = 4 })
  server:compression(true)
  -- the server compresses and the client does not: the client drops the server's compressed
  -- datagrams, the server takes the client's plain ones
  exchange(client, server, cpeer, { { 0, "" }, { 0, string.rep("z", 500) }, { 1, "" }, { 1, "y" } })
  T.eq(speer:send(string.rep("q", 800), 0, "reliable"), 0, "compressible send")
  for _ = 1, 30 do
    server:service(1)
    local e = client:service(1)
    T.ok(not (e and e.type == "receive"), "a compressed datagram is not taken by a plain host")
  end
  -- the server stops compressing: its resends get through, intact and in order
  server:compression(false)
  local got = T.receive(client, 1, { server }, 8000)
  T.eq(got[1].data, string.rep("q", 800), "the resent message")
  exchange(server, client, speer, { { 0, "" }, { 0, "w" }, { 1, "" } })
  client:destroy()
  server:destroy()
end)

T.done()
