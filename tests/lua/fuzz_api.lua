-- valgrind
-- Lua-level fuzz: seeded random sequences of calls of every method with random arguments (wrong types,
-- huge, negative, NaN and infinite numbers, destroyed hosts, peers of other hosts), with
-- collectgarbage() between calls. Each call runs in pcall: only return values or plain string
-- errors may come out, never a crash (tests/lua.rs also runs this file under valgrind).
-- ENET_FUZZ_SEED replays a seed; ENET_FUZZ_CALLS sets the number of calls.
local T = require "t"
require "enet"

local seed = tonumber(os.getenv("ENET_FUZZ_SEED") or "") or os.time() % 1000000
local under_valgrind = (os.getenv("LD_PRELOAD") or ""):find("vgpreload") ~= nil
local CALLS = tonumber(os.getenv("ENET_FUZZ_CALLS") or "") or (under_valgrind and 1500 or 6000)

local s = seed % 2147483646 + 1
local function rnd(n) s = (s * 16807) % 2147483647; return s % n + 1 end
local function pick(t) return t[rnd(#t)] end

local hosts, peers, dead = {}, {}, {}
local function addr_of(h)
  local ok, a = pcall(h.get_socket_address, h)
  return ok and a or "127.0.0.1:1"
end

local numbers = { 0, 1, -1, 2, 255, 256, 4095, 4096, 65535, 65536, 2^31 - 1, 2^31, 2^32 - 1, 2^32,
  2^53, -2^31, -2^63, 1.5, -0.5, 1e300, -1e300, 0/0, 1/0, -1/0, "10", "0x10", " 7 ", "1e3" }
local function value()
  local k = rnd(12)
  if k <= 4 then return pick(numbers)
  elseif k == 5 then return pick({ "reliable", "unreliable", "unsequenced", "bogus", "", "\0" })
  elseif k == 6 then return string.rep(string.char(rnd(256) - 1), rnd(3000) - 1)
  elseif k == 7 then return pick({ true, false, {}, print, coroutine.create(function() end) })
  elseif k == 8 and #hosts > 0 then return pick(hosts)
  elseif k == 9 and #peers > 0 then return pick(peers)
  elseif k == 10 and #dead > 0 then return pick(dead)
  elseif k == 11 then
    -- addresses that never need a name lookup
    local own = #hosts > 0 and addr_of(pick(hosts)) or "127.0.0.1:1"
    return pick({ own, own, "127.0.0.1:*", "*:*", "*:0", ":5", "nohost", "[::1]:5",
      string.rep("a", 130) .. ":1", "127.0.0.1:" .. string.rep("9", 40), "127.0.0.1:99999999999" })
  end
  return nil
end

-- service and check_events: only timeouts that cannot block for long
local function short_timeout()
  if rnd(4) == 1 then return nil end
  return pick({ 0, 1, "0", 0/0, "x", {}, -0.0 })
end

-- Every method of both classes, read from the metatables: a new method is fuzzed at once.
local function methods_of(mt)
  local names = {}
  for name in pairs(mt.__index) do names[#names + 1] = name end
  table.sort(names) -- a fixed order, so that a seed replays the same calls
  return names
end
local probe = enet.host_create(nil, 1)
local host_methods = methods_of(getmetatable(probe))
local peer_methods = methods_of(getmetatable(probe:get_peer(1)))
probe:destroy()
probe = nil
-- calls that block for their timeout argument get short ones (short_timeout)
local blocking = { service = true, check_events = true, shutdown = true }

local stats = { calls = 0, errors = 0, hosts = 0, events = 0 }

local function remember(results)
  for i = 1, results.n do
    local v = results[i]
    if type(v) == "userdata" then
      local mt = getmetatable(v)
      if mt and mt.__index and mt.__index.send then peers[#peers + 1] = v end
    elseif type(v) == "table" and v.peer then
      peers[#peers + 1] = v.peer
      stats.events = stats.events + 1
    end
  end
  while #peers > 64 do table.remove(peers, rnd(#peers)) end
end

local function pack(...) return { n = select("#", ...), ... } end

local last_step = "start"
local function call(fn, ...)
  stats.calls = stats.calls + 1
  if stats.calls % 1000 == 0 then
    -- progress, so that a run killed by the runner's deadline shows where it was
    print(string.format("fuzz seed %d: %d calls, last step: %s", seed, stats.calls, last_step))
    io.stdout:flush()
  end
  local results = pack(pcall(fn, ...))
  if not results[1] then
    stats.errors = stats.errors + 1
    if type(results[2]) ~= "string" then
      error("a call raised a " .. type(results[2]) .. ", not a string (seed " .. seed .. ")")
    end
  end
  return results
end

local function step()
  local k = rnd(20)
  if k == 1 or #hosts == 0 then
    if #hosts >= 12 then
      local i = rnd(#hosts)
      local h = table.remove(hosts, i)
      if rnd(2) == 1 then h:destroy(); dead[#dead + 1] = h end -- else left to the collector
      if #dead > 8 then table.remove(dead, 1) end
      return
    end
    local r
    if rnd(3) > 1 then -- mostly hosts that work, so that there is traffic and events
      r = call(enet.host_create, rnd(4) == 1 and "127.0.0.1:*" or nil, rnd(8), rnd(4), pick({ 0, 0, 1000, 1 }))
    else
      r = call(enet.host_create, rnd(2) == 1 and "127.0.0.1:*" or value(), value(), value(), value(), value())
    end
    if r[1] and type(r[2]) == "userdata" then
      hosts[#hosts + 1] = r[2]
      stats.hosts = stats.hosts + 1
    end
  elseif k <= 11 then
    local self = rnd(10) == 1 and value() or (rnd(5) == 1 and #dead > 0 and pick(dead)) or pick(hosts)
    local m = pick(host_methods)
    last_step = "host:" .. m
    if m == "destroy" and rnd(4) ~= 1 then m = "flush" end
    local fn = getmetatable(hosts[1]).__index[m]
    if rnd(3) == 1 then
      -- keep the network moving: service every host a little
      for _, h in ipairs(hosts) do remember(call(h.service, h, rnd(2) - 1)) end
    end
    if blocking[m] then
      remember(call(fn, self, short_timeout(), rnd(3) == 1 and {} or value()))
    elseif m == "connect" then
      if rnd(2) == 1 then
        remember(call(fn, self, addr_of(pick(hosts)), rnd(4), rnd(100)))
      else
        remember(call(fn, self, rnd(3) == 1 and value() or addr_of(pick(hosts)), value(), value()))
      end
    else
      remember(call(fn, self, value(), value(), value()))
    end
  elseif #peers > 0 then
    local self = rnd(10) == 1 and value() or pick(peers)
    local m = pick(peer_methods)
    last_step = "peer:" .. m
    local fn = getmetatable(peers[1]).__index[m]
    if rnd(2) == 1 then
      local data = m == "send" and string.rep("x", rnd(3000)) or rnd(100)
      remember(call(fn, self, data, rnd(4) - 1, pick({ "reliable", "unreliable", "unsequenced" })))
    else
      remember(call(fn, self, value(), value(), value(), value()))
    end
    if rnd(8) == 1 then call(tostring, self) end
    if rnd(8) == 1 then call(function(a, b) return a == b end, self, pick(peers)) end
  end
  if rnd(3) == 1 then collectgarbage() end
end

print("fuzz seed " .. seed .. " (ENET_FUZZ_SEED=" .. seed .. " replays it)")
io.stdout:flush()
T.test("random API calls only return values or raise string errors (seed " .. seed .. ")", function()
  for _ = 1, CALLS do step() end
  for _, h in ipairs(hosts) do h:destroy() end
  hosts, peers = {}, {}
  collectgarbage(); collectgarbage()
  print(string.format("fuzz seed %d: %d calls, %d raised, %d hosts created, %d events",
    seed, stats.calls, stats.errors, stats.hosts, stats.events))
end)
T.done()
