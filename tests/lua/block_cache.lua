-- valgrind
-- ENet's blocks from the per-thread cache of src/blocks.rs: messages whose blocks sit on both
-- sides of size classes (24 + 16 k bytes up to 520, then the uncached sizes and fragments)
-- arrive intact and in order, in normal mode and in background mode, where a block allocated
-- on one thread is freed on the other and threads end with full caches; and the memory the
-- caches hold stays within their bound (256 KB a thread) however much a burst frees through
-- them. The suite runs valgrind and ASan with ENET_BLOCK_CACHE=off, except for this script,
-- which valgrind runs with the cache on (tests/lua.rs).
local T = require "t"
require "enet"

-- Payload sizes: ENet mallocs a packet's data at exactly its length, so these put the data
-- block on both sides of class boundaries (24/25, 40/41, ... 504/505, 520/521) and past them.
local SIZES = { 1, 24, 25, 40, 41, 100, 248, 249, 504, 505, 520, 521, 1000, 4081, 5000, 70000 }

-- A message that names its index and size in every part of it: a block handed out twice, or
-- reused while queued, shows as a wrong byte.
local function message(i, size)
  local stamp = string.format("<%d:%d>", i, size)
  local s = string.rep(stamp, math.floor(size / #stamp) + 1)
  return s:sub(1, size)
end

-- Sends every size `rounds` times each way (reliable, channel 0) and checks what arrives.
local function burst(server, client, cpeer, speer, rounds)
  local want = {}
  for r = 1, rounds do
    for _, size in ipairs(SIZES) do
      want[#want + 1] = message(#want + 1, size)
    end
  end
  for _, m in ipairs(want) do
    cpeer:send(m, 0, "reliable")
    speer:send(m, 0, "reliable")
  end
  local got = { [server] = {}, [client] = {} }
  T.pump({ server, client }, function()
    return #got[server] == #want and #got[client] == #want
  end, function(h, e)
    if e.type == "receive" then
      local list = got[h]
      list[#list + 1] = e.data
    end
  end, 20000)
  for _, h in ipairs({ server, client }) do
    for i, m in ipairs(want) do
      if got[h][i] ~= m then
        error(string.format("message %d (%d bytes) arrived as %d bytes %q...", i, #m,
          #got[h][i], got[h][i]:sub(1, 24)))
      end
    end
  end
end

T.test("every size class, normal mode: messages intact and in order", function()
  local server, client, cpeer, speer = T.pair()
  burst(server, client, cpeer, speer, 3)
  server:destroy()
  client:destroy()
end)

T.test("background mode, threads started and ended between bursts: messages intact", function()
  local server, client, cpeer, speer = T.pair()
  for cycle = 1, 6 do
    server:background(cycle % 2 == 1)
    client:background(cycle % 3 ~= 0)
    burst(server, client, cpeer, speer, 2)
  end
  -- hosts with threads left to their finalizers
  server, client, cpeer, speer = T.pair()
  server:background(true)
  client:background(true)
  burst(server, client, cpeer, speer, 1)
  server, client, cpeer, speer = nil, nil, nil, nil
  collectgarbage()
  collectgarbage()
end)

-- The bound: a child process sends through background pairs, one way, 20 times what a thread
-- may keep, once with the cache and once without; the cache may add what it holds (256 KB of
-- blocks a thread, and malloc's overhead), not what went through it.
if love or T.windows or not (arg and arg[-1] and io.popen and os.tmpname) then
  T.skip("the caches' memory stays bounded", "needs an interpreter to spawn and /proc")
elseif (os.getenv("LD_PRELOAD") or ""):find("san", 1, true) then
  T.skip("the caches' memory stays bounded", "a sanitizer's allocator: resident memory means little")
else
  T.test("the caches' memory stays bounded: about 256 KB a thread at most", function()
    local name = os.tmpname()
    local f = assert(io.open(name, "w"))
    f:write([==[
require "enet"
local T = require "t"
local PAIRS = 4
local function rss()
  local f = io.open("/proc/self/status")
  local s = f and f:read("*a") or ""
  if f then f:close() end
  return tonumber(s:match("VmRSS:%s*(%d+)"))
end
local list = {}
for i = 1, PAIRS do
  local s, c, cp, sp = T.pair()
  s:background(true)
  c:background(true)
  list[i] = { s, c, cp, sp }
end
collectgarbage()
collectgarbage()
local before = rss()
-- One way, in small bursts: the client's thread frees what Lua allocated, about 10 MB of
-- blocks in all, while little is in flight at once (an unbounded cache would keep it all).
for _ = 1, 40 do
  for _, p in ipairs(list) do
    for _, size in ipairs({ 100, 1000, 4000 }) do
      local m = string.rep("x", size)
      for _ = 1, 50 do p[3]:send(m, 0, "reliable") end
    end
  end
  for _, p in ipairs(list) do
    local n = 0
    T.pump({ p[1], p[2] }, function() return n == 150 end,
      function(h, e) if e.type == "receive" then n = n + 1 end end, 20000)
  end
end
collectgarbage()
collectgarbage()
print(string.format("GROWTH %d THREADS %d", rss() - before, 2 * PAIRS))
]==])
    f:close()
    local function growth(cache)
      local cmd = string.format("ENET_BLOCK_CACHE=%s exec %s %s 2>&1", cache,
        T.command(arg[-1]), T.command(name))
      local p = assert(io.popen(cmd))
      local out = p:read("*a")
      p:close()
      local kb, threads = out:match("GROWTH (%-?%d+) THREADS (%d+)")
      T.ok(kb, "the child with ENET_BLOCK_CACHE=" .. cache .. " reported: " .. out:sub(1, 300))
      return tonumber(kb), tonumber(threads)
    end
    local off, threads = growth("off")
    local on = growth("on")
    os.remove(name)
    local per_thread = (on - off) / threads
    print(string.format("# resident growth: %d kB without the cache, %d kB with it (%+.0f kB a thread, %d threads)",
      off, on, per_thread, threads))
    -- 256 KB of cached blocks a thread, and the noise of two runs' resident memory
    T.ok(per_thread < 500, string.format("the cache kept %.0f kB a thread", per_thread))
  end)
end

T.done()
