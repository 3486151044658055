-- Sending 100,000 refused packets (closed peer, channel out of range) leaves the process's
-- memory flat: the Lua heap (collectgarbage "count") and the resident set (/proc/self/statm).
local T = require "t"
require "enet"

local N = 100000

local function page_size()
  local f = io.popen and io.popen("getconf PAGESIZE 2>/dev/null")
  local n = f and tonumber(f:read("*l") or "")
  if f then f:close() end
  return n or 4096
end
local PAGE = page_size()

-- Resident set in bytes, or nil where /proc is missing (Windows: the /proc that Wine lets a
-- program open is the emulator's view, not a measure a Windows program has).
local function rss()
  if T.windows then return nil end
  local f = io.open("/proc/self/statm", "r")
  if not f then return nil end
  local line = f:read("*l")
  f:close()
  local pages = tonumber(line:match("^%d+%s+(%d+)"))
  return pages and pages * PAGE
end

local function lua_kb()
  collectgarbage("collect")
  collectgarbage("collect")
  return collectgarbage("count")
end

-- Runs `body(i)` n times after a warm-up of n runs and returns the RSS and Lua heap growth in
-- bytes. The warm-up lets malloc's free lists settle (after heap churn the first round can
-- re-touch pages without leaking anything); a leak keeps growing in the measured round.
local function growth(n, body)
  for i = 1, n do body(i) end
  local rss0, lua0 = rss(), lua_kb()
  for i = 1, n do body(i) end
  local rss1, lua1 = rss(), lua_kb()
  return rss0 and (rss1 - rss0), (lua1 - lua0) * 1024
end

local function check(what, drss, dlua)
  T.ok(dlua < 256 * 1024, string.format("%s: Lua heap grew by %d bytes", what, dlua))
  if drss then
    T.ok(drss < 2 * 1024 * 1024, string.format("%s: RSS grew by %d bytes", what, drss))
  end
end

T.test("100,000 sends to a closed peer", function()
  local h = enet.host_create(nil, 2)
  local p = h:get_peer(1)
  local payload = string.rep("c", 200)
  local refused = 0
  local drss, dlua = growth(N, function()
    if p:send(payload) == -1 then refused = refused + 1 end
  end)
  T.eq(refused, 2 * N, "all refused")
  check("closed peer", drss, dlua)
  h:destroy()
end)

T.test("100,000 sends on a channel out of range", function()
  local server, client, cpeer = T.pair({ server_channels = 1, connect_channels = 1 })
  local payload = string.rep("o", 200)
  local refused = 0
  local drss, dlua = growth(N, function(i)
    if cpeer:send(payload, 1 + i % 200, i % 2 == 0 and "reliable" or "unsequenced") == -1 then
      refused = refused + 1
    end
  end)
  T.eq(refused, 2 * N, "all refused")
  check("channel out of range", drss, dlua)
  T.eq(cpeer:send("still fine"), 0, "connection intact")
  server:destroy() client:destroy()
end)

T.test("100,000 sends that raise after the packet exists", function()
  local h = enet.host_create(nil, 1)
  local p = h:get_peer(1)
  local payload = string.rep("r", 200)
  local drss, dlua = growth(N, function()
    pcall(p.send, p, payload, 0 / 0)
  end)
  check("raising sends", drss, dlua)
  h:destroy()
end)

T.test("100,000 broadcasts to nobody", function()
  local h = enet.host_create(nil, 4)
  local payload = string.rep("b", 200)
  local drss, dlua = growth(N, function() h:broadcast(payload) end)
  check("broadcast", drss, dlua)
  h:destroy()
end)

local seen_by_rss = "(last: it churns the heap) this test can see a leak: /proc/self/statm tracks allocations"
if T.windows then
  T.skip(seen_by_rss, "no /proc on Windows: the heap measure above is the one that ran")
else
  T.test(seen_by_rss, function()
    if not rss() then return end
    local before = rss()
    local keep = {}
    for i = 1, 200 do keep[i] = string.rep(string.char(i % 256), 64 * 1024) end
    T.ok(rss() - before > 4 * 1024 * 1024, "12 MB of strings show in the RSS")
    keep = nil
  end)
end

T.done()
