-- The tutorial's echo server and client (lua-enet-docs.txt), kept verbatim in examples/tutorial,
-- run unmodified: as two processes of this same interpreter, and in-process as two coroutines
-- (the only way inside LÖVE). They use the fixed port localhost:6789, so runs on this machine
-- take a lock on it first.
local T = require "t"
require "enet"

local ROOT = os.getenv("ENET_TEST_ROOT") or "."
local DIR = ROOT .. "/examples/tutorial"
local LOCK = "/tmp/enet-tutorial-6789.lock"

local napper = enet.host_create()
local function nap(ms) napper:service(ms) end

local function exists(path)
  local f = io.open(path, "r")
  if f then f:close() return true end
  return false
end

local function slurp(path)
  local f = io.open(path, "r")
  if not f then return "" end
  local s = f:read("*a")
  f:close()
  return s
end

local function sh_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- Holds the port lock in a background `flock` until the returned function is called; where
-- the caller already holds it (tests/windows/run, whose Wine processes have no flock), says so
-- with ENET_TUTORIAL_LOCK_HELD=1.
local function take_port_lock()
  if os.getenv("ENET_TUTORIAL_LOCK_HELD") == "1" then return function() end end
  local flag = os.tmpname() -- exists while we want the lock
  local held = flag .. ".held"
  os.execute(string.format(
    "timeout 120 flock -w 60 %s sh -c 'touch %s; while [ -e %s ]; do sleep 0.05; done' >/dev/null 2>&1 &",
    sh_quote(LOCK), sh_quote(held), sh_quote(flag)))
  for _ = 1, 1300 do
    if exists(held) then
      return function() os.remove(flag) os.remove(held) end
    end
    nap(50)
  end
  os.remove(flag)
  error("could not take " .. LOCK .. " within 65 s")
end

local function check_outputs(server_out, client_out)
  T.ok(client_out:find("Connected to\t127.0.0.1:6789\n", 1, true), "client connected: " .. client_out)
  T.ok(client_out:find("Got message: \thello world\t127.0.0.1:6789\n", 1, true), "client got the echo: " .. client_out)
  T.ok(server_out:find("^Got message: \thello world\t127%.0%.0%.1:%d+\n"), "server got the message: " .. server_out)
  T.ok(not server_out:find("traceback", 1, true), "no error in the server")
end

T.test("the tutorial's files are the documented ones", function()
  local server, client = slurp(DIR .. "/server.lua"), slurp(DIR .. "/client.lua")
  T.ok(server:find('local host = enet.host_create"localhost:6789"', 1, true), "server binds localhost:6789")
  T.ok(client:find('local server = host:connect("localhost:6789")', 1, true), "client connects there")
  T.ok(server:find('require "enet"', 1, true) and client:find('require "enet"', 1, true), "both require enet")
end)

-- Runs a chunk as a coroutine in an environment where `enet.host_create` makes hosts whose
-- service(timeout) yields first, so that the two endless loops can take turns.
local function load_turn_taking(path, hosts, lines)
  local real = enet
  local function wrap(h)
    hosts[#hosts + 1] = h
    return setmetatable({}, { __index = function(_, name)
      return function(_, ...)
        if name == "service" then
          coroutine.yield()
          local timeout = ...
          return h:service(math.min(timeout or 0, 5))
        end
        return h[name](h, ...)
      end
    end })
  end
  local fake = { linked_version = real.linked_version }
  function fake.host_create(...)
    local h, err = real.host_create(...)
    if not h then error("host_create failed: " .. tostring(err)) end
    return wrap(h)
  end
  local env = setmetatable({
    enet = fake,
    print = function(...)
      local parts = {}
      for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
      lines[#lines + 1] = table.concat(parts, "\t") .. "\n"
    end,
  }, { __index = _G })
  local chunk
  if setfenv then
    chunk = assert(loadfile(path))
    setfenv(chunk, env)
  else
    chunk = assert(loadfile(path, "t", env))
  end
  return coroutine.create(chunk)
end

T.test("server and client run in-process as two coroutines", function()
  local unlock = take_port_lock()
  local hosts, server_lines, client_lines = {}, {}, {}
  local ok, err = pcall(function()
    local server = load_turn_taking(DIR .. "/server.lua", hosts, server_lines)
    local client = load_turn_taking(DIR .. "/client.lua", hosts, client_lines)
    assert(coroutine.resume(server)) -- binds, then waits in its first service
    for _ = 1, 2000 do
      local sok, serr = coroutine.resume(server)
      if not sok then error("server: " .. tostring(serr)) end
      local cok, cerr = coroutine.resume(client)
      if not cok then error("client: " .. tostring(cerr)) end
      if coroutine.status(client) == "dead" then break end
    end
    T.eq(coroutine.status(client), "dead", "the client finished")
    T.eq(coroutine.status(server), "suspended", "the server is still serving")
  end)
  for _, h in ipairs(hosts) do h:destroy() end
  unlock()
  if not ok then error(err, 0) end
  check_outputs(table.concat(server_lines), table.concat(client_lines))
end)

local interp = arg and arg[-1]
if T.windows then
  -- sh, timeout and kill are not there: tests/windows/run starts the two processes itself.
  T.skip("server and client run unmodified as two processes", "done by tests/windows/run on Windows")
elseif not love and interp and os.execute and io.popen then
  T.test("server and client run unmodified as two processes of " .. interp, function()
    local unlock = take_port_lock()
    local out = os.tmpname()
    local script = table.concat({
      "cd " .. sh_quote(DIR) .. " || exit 90",
      "timeout 30 " .. interp .. " -e \"io.stdout:setvbuf('line')\" server.lua >" .. out .. ".server 2>&1 &",
      "spid=$!",
      "timeout 20 " .. interp .. " -e \"io.stdout:setvbuf('line')\" client.lua >" .. out .. ".client 2>&1",
      "echo $? >" .. out .. ".client_rc",
      "kill $spid 2>/dev/null; echo $? >" .. out .. ".kill_rc",
      "wait $spid 2>/dev/null",
    }, "\n")
    os.execute("sh -c " .. sh_quote(script))
    unlock()
    local server_out, client_out = slurp(out .. ".server"), slurp(out .. ".client")
    local client_rc, kill_rc = slurp(out .. ".client_rc"), slurp(out .. ".kill_rc")
    for _, ext in ipairs({ "", ".server", ".client", ".client_rc", ".kill_rc" }) do os.remove(out .. ext) end
    T.eq(client_rc, "0\n", "client exit status (client said: " .. client_out .. ")")
    T.eq(kill_rc, "0\n", "the server was still running at the end (server said: " .. server_out .. ")")
    check_outputs(server_out, client_out)
  end)
end

napper:destroy()
T.done()
