-- Shared helpers of the benchmarks. Only the lua-enet API is used (enet.host_create,
-- host:service/connect/broadcast/flush/get_socket_address/destroy, peer:send/state/...), so the
-- scripts run unchanged on leafo/lua-enet and LÖVE's copy.
--
-- Time is measured with os.clock() (process CPU time): everything runs in one thread, busy
-- polling with service(0), so CPU time is the work done, and on a shared machine it does not
-- count the time we were descheduled. Stall guards use os.time() (wall clock) instead.
local enet = require "enet"

local M = {}

M.enet = enet
M.clock = os.clock
-- ENET_BENCH_WALL=1 (LuaJIT): wall-clock time instead (CLOCK_MONOTONIC), for background mode,
-- where a second thread works beside Lua and CPU time adds both threads' work;
-- ENET_BENCH_WALL=thread: the CPU time of Lua's thread alone (CLOCK_THREAD_CPUTIME_ID), what a
-- call costs the game's own thread
local wall = os.getenv("ENET_BENCH_WALL")
if wall == "1" or wall == "thread" then
  local clock_id = wall == "1" and 1 or 3
  local ffi = require "ffi"
  ffi.cdef "typedef struct { long tv_sec; long tv_nsec; } bench_timespec; int clock_gettime(int, bench_timespec *);"
  local ts = ffi.new("bench_timespec")
  M.clock = function()
    ffi.C.clock_gettime(clock_id, ts)
    return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
  end
end
-- Seconds of measurement per figure (ENET_BENCH_SECONDS overrides; the runner may shorten it).
M.seconds = tonumber(os.getenv("ENET_BENCH_SECONDS") or "") or 1.0
M.msg32 = string.rep("x", 32)

function M.fail(text)
  io.stderr:write("bench failure: ", text, "\n")
  os.exit(1)
end

function M.report(name, value, unit)
  io.write(string.format("%s %.6g %s\n", name, value, unit))
  io.flush()
end

-- A wall-clock guard: returns a function that fails loudly once `limit` seconds have passed.
function M.guard(what, limit)
  local deadline = os.time() + (limit or 20)
  return function()
    if os.time() > deadline then M.fail(what .. ": no progress before the deadline") end
  end
end

local hosts_made = 0
function M.host(peer_count)
  local host, err = enet.host_create("127.0.0.1:*", peer_count or 1)
  if not host then M.fail("host_create: " .. tostring(err)) end
  hosts_made = hosts_made + 1
  -- ENET_BENCH_BACKGROUND=1: every host serviced by its background thread (our module only);
  -- =server: only the first host made, the one the others connect to (a game server in
  -- background mode, its clients elsewhere, as broadcast.lua's 200 clients would be);
  -- =clients: every host but the first (calls.lua: the caller's host in background mode, the
  -- other side's receiving not counted in the process's CPU time).
  local background = os.getenv("ENET_BENCH_BACKGROUND")
  if background == "1" or (background == "server" and hosts_made == 1)
      or (background == "clients" and hosts_made > 1) then
    if not host.background then M.fail("ENET_BENCH_BACKGROUND: this enet has no host:background") end
    host:background(true)
  end
  return host
end

-- Services `host` with service(0) until it has no event; calls on_event(e) for each.
-- Returns the number of events (bounded, so a runaway peer fails instead of spinning forever).
function M.drain(host, on_event)
  local n = 0
  while true do
    local e = host:service(0)
    if not e then return n end
    n = n + 1
    if on_event then on_event(e) end
    if n > 1000000 then M.fail("drain: more than 10^6 events in one drain") end
  end
end

-- Connects `clients` (a list of hosts) to `server`; returns the client-side peers and the
-- server-side peers (in connection order). Fails loudly after 20 s.
function M.connect(server, clients)
  local address = server:get_socket_address()
  local cpeers, speers = {}, {}
  local connected = 0
  for i, c in ipairs(clients) do cpeers[i] = c:connect(address) end
  local check = M.guard("connect")
  while #speers < #clients or connected < #clients do
    check()
    M.drain(server, function(e)
      if e.type == "connect" then speers[#speers + 1] = e.peer end
    end)
    for _, c in ipairs(clients) do
      M.drain(c, function(e)
        if e.type == "connect" then connected = connected + 1 end
      end)
    end
  end
  for i, p in ipairs(cpeers) do
    if p:state() ~= "connected" then M.fail("client " .. i .. " is " .. p:state()) end
  end
  return cpeers, speers
end

-- A server and one client host, connected: server, client, client's peer, server's peer.
function M.pair()
  local server, client = M.host(1), M.host(1)
  local cpeers, speers = M.connect(server, { client })
  return server, client, cpeers[1], speers[1]
end

-- Services both hosts a little so acknowledgements and pings are answered between figures.
function M.settle(hosts)
  for _ = 1, 20 do
    for _, h in ipairs(hosts) do M.drain(h) end
  end
end

return M
