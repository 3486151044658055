-- valgrind
-- Finalizers everywhere: the collector runs without pause, and a finalizer that re-arms itself
-- runs at the end of every cycle, so it fires at many allocation points inside our calls, not
-- only at the first one as in the re-entrancy matrix (the middle of an event table, between a
-- received packet's copy and its peer object, inside a peer's creation, inside error texts).
-- Each time it does a random thing to a random host or peer: destroy, service, receive, send,
-- set_data, create a host, get a peer, raise. The main loop makes random calls of every method.
-- Only values or plain string errors may come out, and valgrind (PUC Lua) must see no invalid
-- access and no leak. ENET_FUZZ_SEED replays a seed.
local T = require "t"
require "enet"

-- LuaJIT 2.1.0-beta3 (Debian 12's) crashes by itself (SIGSEGV, no C module involved) when a
-- finalizer raises while a trace runs: `for` loops calling pcall with a finalizer that errors
-- every 16th run are enough. Our functions are C functions, which traces do not compile, so
-- the interpreter loses nothing of what this file tests.
if jit then jit.off() end

local seed = tonumber(os.getenv("ENET_FUZZ_SEED") or "") or os.time() % 1000000
local under_valgrind = (os.getenv("LD_PRELOAD") or ""):find("vgpreload") ~= nil
local CALLS = tonumber(os.getenv("ENET_FUZZ_CALLS") or "") or (under_valgrind and 400 or 3000)

local s = seed % 2147483646 + 1
local function rnd(n) s = (s * 16807) % 2147483647; return s % n + 1 end
local function pick(t) return t[rnd(#t)] end

local hosts, peers = {}, {}
local stats = { calls = 0, fired = 0, errors = 0, events = 0 }
local armed = true

local function addr_of(h)
  local ok, a = pcall(h.get_socket_address, h)
  return ok and a or "127.0.0.1:1"
end

local arm
local function finalizer()
  if not armed then return end
  stats.fired = stats.fired + 1
  arm()
  local k = rnd(16)
  local h = #hosts > 0 and pick(hosts) or nil
  local p = #peers > 0 and pick(peers) or nil
  if k == 1 and h and rnd(4) == 1 then
    h:destroy()
  elseif k <= 4 and h then
    pcall(h.service, h, 0)
  elseif k == 5 and h then
    pcall(h.check_events, h, {})
  elseif k <= 7 and p then
    pcall(p.receive, p)
  elseif k == 8 and p then
    pcall(p.send, p, string.rep("f", rnd(2) == 1 and 10 or 3000), 0, "reliable")
  elseif k == 9 and p then
    pcall(p.set_data, p, { rnd(100) })
    pcall(p.get_data, p)
  elseif k == 10 and #hosts < 10 then
    local nh = enet.host_create(rnd(2) == 1 and "127.0.0.1:*" or nil, 4, 2)
    if nh then hosts[#hosts + 1] = nh end
  elseif k == 11 and h then
    local ok, q = pcall(h.get_peer, h, rnd(4))
    if ok then peers[#peers + 1] = q end
  elseif k == 12 and p then
    local _ = tostring(p)
    pcall(p.stats, p, {})
  elseif k == 13 and h and #hosts > 1 then
    pcall(h.connect, h, addr_of(pick(hosts)), 2)
  elseif k == 14 then
    error("finalizer raised")
  end
end

arm = function()
  if _VERSION == "Lua 5.1" then
    local proxy = newproxy(true)
    getmetatable(proxy).__gc = finalizer
  else
    setmetatable({}, { __gc = finalizer })
  end
end

local function pack(...) return { n = select("#", ...), ... } end

local function remember(r)
  for i = 2, r.n do
    local v = r[i]
    if type(v) == "userdata" then
      local mt = getmetatable(v)
      if mt and mt.__index and mt.__index.send then peers[#peers + 1] = v end
    elseif type(v) == "table" and v.peer then
      peers[#peers + 1] = v.peer
      stats.events = stats.events + 1
    end
  end
  while #peers > 32 do table.remove(peers, rnd(#peers)) end
end

local function call(fn, ...)
  stats.calls = stats.calls + 1
  local r = pack(pcall(fn, ...))
  if not r[1] then
    stats.errors = stats.errors + 1
    if type(r[2]) ~= "string" then
      error("a call raised a " .. type(r[2]) .. ", not a string (seed " .. seed .. ")")
    end
  end
  remember(r)
  return r
end

local probe = enet.host_create(nil, 1)
local host_mt, peer_mt = getmetatable(probe), getmetatable(probe:get_peer(1))
probe:destroy()
local function names(mt)
  local t = {}
  for k in pairs(mt.__index) do t[#t + 1] = k end
  table.sort(t)
  return t
end
local host_methods, peer_methods = names(host_mt), names(peer_mt)
local args = { 0, 1, 3, "7", 1000, "127.0.0.1:1", "reliable", "unsequenced", {}, true, nil,
  string.rep("d", 100), string.rep("D", 5000), 4294967295, -1, 0.5 }

local function step()
  -- forget destroyed hosts, so that most calls reach live ones
  for i = #hosts, 1, -1 do
    if not pcall(hosts[i].flush, hosts[i]) then table.remove(hosts, i) end
  end
  local k = rnd(10)
  if #hosts < 2 or k == 1 then
    if #hosts < 10 then
      local r = call(enet.host_create, rnd(3) > 1 and "127.0.0.1:*" or nil, rnd(6), rnd(3))
      if r[1] and r[2] then hosts[#hosts + 1] = r[2] end
    else
      table.remove(hosts, rnd(#hosts))
    end
    return
  end
  if k <= 4 then
    for _, h in ipairs(hosts) do call(h.service, h, 0, rnd(2) == 1 and {} or nil) end
  end
  if k <= 6 and #hosts > 1 then
    local a, b = pick(hosts), pick(hosts)
    call(host_mt.__index.connect, a, addr_of(b), rnd(3))
  end
  if k <= 7 then
    local m = pick(host_methods)
    if m == "shutdown" then
      call(host_mt.__index[m], pick(hosts), 0)
    elseif m == "service" or m == "check_events" then
      call(host_mt.__index[m], pick(hosts), 0, {})
    elseif m ~= "destroy" or rnd(8) == 1 then
      call(host_mt.__index[m], pick(hosts), pick(args), pick(args), pick(args))
    end
  elseif #peers > 0 then
    local m = pick(peer_methods)
    call(peer_mt.__index[m], pick(peers), pick(args), pick(args), pick(args))
    if rnd(4) == 1 then call(tostring, pick(peers)) end
  end
end

print("fuzz_finalizers seed " .. seed .. " (ENET_FUZZ_SEED=" .. seed .. " replays it)")
T.test("finalizers at every GC cycle, random calls: values or string errors only (seed " .. seed .. ")", function()
  collectgarbage("collect")
  if _VERSION == "Lua 5.4" and seed % 2 == 1 then
    -- odd seeds: the generational collector, whose handling of resurrected and old objects
    -- differs from the incremental one that the re-entrancy matrix uses
    collectgarbage("generational", 1, 100)
  elseif _VERSION == "Lua 5.4" then
    collectgarbage("incremental", 100, 400, 0)
  elseif _VERSION ~= "Lua 5.5" then
    collectgarbage("setpause", 0)
    collectgarbage("setstepmul", 400)
  end
  collectgarbage("stop")
  collectgarbage("restart")
  arm()
  for _ = 1, CALLS do
    -- a finalizer's error may also surface between our calls
    local ok, err = pcall(step)
    if not ok and not tostring(err):find("finalizer raised", 1, true) then error(err, 0) end
  end
  armed = false
  if _VERSION == "Lua 5.4" then collectgarbage("incremental", 200, 100, 13)
  elseif _VERSION ~= "Lua 5.5" then collectgarbage("setpause", 200); collectgarbage("setstepmul", 200) end
  for _, h in ipairs(hosts) do pcall(h.destroy, h) end
  hosts, peers = {}, {}
  collectgarbage(); collectgarbage()
  print(string.format("seed %d: %d calls, %d raised, %d finalizer runs, %d events",
    seed, stats.calls, stats.errors, stats.fired, stats.events))
  T.ok(stats.fired > 5, "finalizers ran")
end)
T.done()
