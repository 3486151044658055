-- A tiny test library for the Lua test scripts: run by tests/lua.rs in every interpreter.
-- Each script ends with T.done(), which prints "N passed, N failed" and sets the exit code.
local T = {}
local passed, failed, skipped = 0, 0, 0
T.interp = (jit and jit.version) or _VERSION
-- Windows (tests/windows/run runs these scripts under Wine): its directory separator.
T.windows = package.config:sub(1, 1) == "\\"

-- A command line for io.popen/os.execute that runs the program args[1] with the other
-- arguments, each quoted for the shell that runs it: sh, or cmd.exe on Windows, which strips
-- the first and last quote of a line that has more than two, hence the outer pair.
function T.command(...)
  local args = { ... }
  for i, a in ipairs(args) do
    if T.windows then args[i] = '"' .. a .. '"' else args[i] = "'" .. a:gsub("'", "'\\''") .. "'" end
  end
  local line = table.concat(args, " ")
  if T.windows then return '"' .. line .. '"' end
  return line
end

local function where(level)
  local info = debug.getinfo(level + 1, "Sl")
  return info and (info.short_src .. ":" .. info.currentline) or "?"
end

-- Runs fn as one named test; an error or a failed check fails it, the rest of the file goes on.
function T.test(name, fn)
  local ok, err = xpcall(fn, debug.traceback)
  if ok then
    passed = passed + 1
    print("ok - " .. name)
  else
    failed = failed + 1
    print("FAIL - " .. name .. "\n" .. tostring(err))
  end
end

local function show(v)
  if type(v) == "string" then return string.format("%q", v) end
  return tostring(v)
end

-- Reports a test that cannot run here (and why): counted as skipped, never as passed.
function T.skip(name, why)
  skipped = skipped + 1
  print("skip - " .. name .. ": " .. why)
end

function T.eq(actual, expected, what)
  if actual ~= expected then
    error(string.format("%s: expected %s, got %s", what or "value", show(expected), show(actual)), 2)
  end
end

function T.ok(cond, what)
  if not cond then error((what or "condition") .. " is false at " .. where(2), 2) end
  return cond
end

-- Calls fn(...) and checks that it raises a *string* error containing `needle` (plain text).
-- Returns the message.
function T.raises(needle, fn, ...)
  local ok, err = pcall(fn, ...)
  if ok then error("expected an error containing " .. show(needle) .. ", got success", 2) end
  if type(err) ~= "string" then
    error("expected a string error, got " .. type(err) .. ": " .. tostring(err), 2)
  end
  if not err:find(needle, 1, true) then
    error("expected an error containing " .. show(needle) .. ", got " .. show(err), 2)
  end
  return err
end

-- Services every host until cond() is true, or fails after `ms` milliseconds of service time.
-- handler(host, event) sees every event.
function T.pump(hosts, cond, handler, ms)
  ms = ms or 5000
  -- each host waits at least 1 ms (service truncates fractions), so `ms` is real time
  local wait = math.max(1, math.floor(2 / #hosts))
  for _ = 1, ms / (wait * #hosts) do
    for _, h in ipairs(hosts) do
      local e = h:service(wait)
      while e do
        if handler then handler(h, e) end
        e = h:check_events()
      end
    end
    if cond() then return true end
  end
  error("timed out after " .. ms .. " ms", 2)
end

-- A bound server and a client connected to it. Returns server, client, client-side peer,
-- server-side peer. opts: server_peers, server_channels, client_channels, connect_data.
function T.pair(opts)
  opts = opts or {}
  local server = assert(enet.host_create("127.0.0.1:*", opts.server_peers or 8, opts.server_channels or 2))
  local client = assert(enet.host_create(nil, opts.client_peers or 2, opts.client_channels or 4))
  local cpeer = client:connect(server:get_socket_address(), opts.connect_channels or 2, opts.connect_data)
  local speer, connected
  T.pump({ server, client }, function() return speer and connected end, function(h, e)
    if e.type == "connect" then
      if h == server then speer = e.peer else connected = true end
    end
  end)
  return server, client, cpeer, speer
end

-- Collects the next `n` receive events on `host` (servicing `others` too).
function T.receive(host, n, others, ms)
  local got = {}
  local hosts = { host }
  for _, o in ipairs(others or {}) do hosts[#hosts + 1] = o end
  T.pump(hosts, function() return #got >= n end, function(h, e)
    if h == host and e.type == "receive" then got[#got + 1] = e end
  end, ms)
  return got
end

function T.done()
  if skipped > 0 then
    print(string.format("%d passed, %d failed, %d skipped", passed, failed, skipped))
  else
    print(string.format("%d passed, %d failed", passed, failed))
  end
  collectgarbage()
  collectgarbage()
  if os.exit then
    -- close the state (runs every __gc) where Lua can, so valgrind sees everything freed
    if _VERSION ~= "Lua 5.1" then os.exit(failed == 0 and 0 or 1, true) end
    os.exit(failed == 0 and 0 or 1)
  end
end

return T
