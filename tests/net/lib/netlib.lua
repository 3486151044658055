-- Helpers for the network scripts (tests/net/*.lua), which tests/network.rs runs with a relay,
-- raw datagrams or other processes around them. Lines starting with "RELAY " on stdout are
-- commands for the Rust side; "COUNT " lines are counts it prints.
local N = {}

function N.say(line)
  io.stdout:write(line, "\n")
  io.stdout:flush()
end

function N.env(name, default)
  local v = os.getenv(name)
  if v == nil or v == "" then return default end
  return v
end

function N.num(name, default)
  return tonumber(N.env(name)) or default
end

-- Sends a command to the Rust relay ("server <addr>", "impair", "silent") and waits until it is
-- in effect: the Rust side acknowledges command n by creating $ENET_ACK_DIR/ack-n. Meanwhile
-- the hosts are serviced and their events go to handler (an event with no handler is an error).
local commands = 0
function N.relay(command, hosts, handler)
  N.say("RELAY " .. command)
  commands = commands + 1
  local dir = os.getenv("ENET_ACK_DIR")
  if not dir then return end
  local path = dir .. "/ack-" .. commands
  for _ = 1, 10000 do
    local f = io.open(path, "r")
    if f then
      f:close()
      return
    end
    for _, h in ipairs(hosts) do
      local e = h:service(1)
      while e do
        if not handler then error("unexpected " .. e.type .. " event while waiting for the relay") end
        handler(h, e)
        e = h:check_events()
      end
    end
  end
  error("the relay did not acknowledge " .. command)
end

-- A small seeded PRNG (same sequence on every Lua version, unlike math.random).
function N.rng(seed)
  local s = seed % 2147483647
  if s <= 0 then s = s + 2147483646 end
  local r = {}
  function r.next(n) -- 1..n
    s = (s * 16807) % 2147483647
    return s % n + 1
  end
  return r
end

-- `n` bytes whose value depends on position and on `salt`: misplaced fragments show.
local blocks = {}
function N.bytes(salt, n)
  salt = salt % 256
  local block = blocks[salt]
  if not block then
    local t = {}
    for i = 0, 255 do t[#t + 1] = string.char((i * 7 + salt) % 256) end
    block = table.concat(t)
    blocks[salt] = block
  end
  if n <= 0 then return "" end
  return string.rep(block, math.ceil(n / 256)):sub(1, n)
end

-- A message that names itself: kind|channel|number|filler.
function N.msg(kind, ch, i, len)
  return kind .. "|" .. ch .. "|" .. i .. "|" .. N.bytes(i, len or (i % 40))
end

-- Parses N.msg; nil for anything else.
function N.parse(data)
  local kind, ch, i = data:match("^(%a)|(%d+)|(%d+)|")
  if not kind then return nil end
  return kind, tonumber(ch), tonumber(i)
end

-- Services every host (1 ms each) until cond() is true; fails after `ms` ms of wall time.
-- handler(host, event) sees every event. Returns the elapsed ms.
function N.pump(hosts, ms, cond, handler)
  local clock = hosts[1]
  local function drain(h, timeout)
    local e = h:service(timeout)
    while e do
      if handler then handler(h, e) end
      e = h:check_events()
    end
  end
  drain(clock, 0) -- brings service_time up to date
  local start = clock:service_time()
  while true do
    for _, h in ipairs(hosts) do drain(h, 1) end
    if cond() then return clock:service_time() - start end
    if clock:service_time() - start > ms then error("timed out after " .. ms .. " ms", 2) end
  end
end

-- True once the Rust side has created the file named by ENET_STOP_FILE.
function N.stop_requested()
  local path = os.getenv("ENET_STOP_FILE")
  if not path then return false end
  local f = io.open(path, "r")
  if f then f:close() return true end
  return false
end

return N
