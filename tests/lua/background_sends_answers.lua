-- From the attack review of the lock-free send (src/sendq.rs), kept as a regression test.
-- Attack: peer:send's answers (0/-1/raise) in background mode equal normal mode's for the same
-- random sequence of calls that never services (so no network event changes a peer's state):
-- sizes around 1024/1025 and the ring size, channels 0..300, negatives, huge and odd numbers,
-- every flag and bad ones, maximum_packet_size changes, flush, broadcast, ping, and a final
-- disconnect_later / disconnect / reset / disconnect_now.
local T = require "t"
require "enet"

local SIZES = { 0, 1, 7, 8, 9, 15, 16, 17, 100, 1000, 1007, 1008, 1009, 1016, 1017, 1023, 1024,
  1025, 1026, 1040, 2000, 65535, 65536, 65537 }
local CHANNELS = { 0, 1, 2, 3, 4, 255, 256, 257, 300, -1, -256, 2 ^ 31, 2 ^ 32, 2 ^ 32 + 1, 2 ^ 53,
  1e300, -1e300, 0.5, 1.5, "1", "x", true, {}, nil, 0 / 0, math.huge }
local FLAGS = { nil, "reliable", "unreliable", "unsequenced", "bogus", 5, "", true }
local MAXES = { 1, 10, 1023, 1024, 1025, 65536, 2 ^ 31 - 1, 0, -1, 2 ^ 31 }

local function show(ok, a)
  if ok then return tostring(a) end
  return "E:" .. tostring(a):gsub("^.-:%d+: ", "")
end

local function script(seed, background)
  math.randomseed(seed)
  local server, client, cpeer = T.pair({ client_channels = 4, connect_channels = 3 })
  client:background(background)
  local r = {}
  local nops = 300
  for i = 1, nops do
    local op = math.random(1, 20)
    if op <= 14 then
      local size = SIZES[math.random(#SIZES)]
      local data = string.rep("d", size)
      local c = CHANNELS[math.random(#CHANNELS + 1)]
      local f = FLAGS[math.random(#FLAGS + 1)]
      local n = math.random(1, 3)
      local ok, a
      if n == 1 then ok, a = pcall(cpeer.send, cpeer, data)
      elseif n == 2 then ok, a = pcall(cpeer.send, cpeer, data, c)
      else ok, a = pcall(cpeer.send, cpeer, data, c, f) end
      r[#r + 1] = i .. ":send(" .. size .. "," .. tostring(c) .. "," .. tostring(f) .. ")=" .. show(ok, a)
    elseif op == 15 then
      local m = MAXES[math.random(#MAXES)]
      r[#r + 1] = "max(" .. tostring(m) .. ")=" .. show(pcall(client.maximum_packet_size, client, m))
    elseif op == 16 then
      client:flush()
    elseif op == 17 then
      pcall(client.broadcast, client, "b" .. i, math.random(0, 3))
    elseif op == 18 then
      cpeer:ping()
    elseif op == 19 then
      r[#r + 1] = "max=" .. client:maximum_packet_size()
    else
      -- a non-string data argument
      local bad = ({ 12345, 1.5, true, {}, nil })[math.random(5)]
      r[#r + 1] = "sendbad=" .. show(pcall(cpeer.send, cpeer, bad))
    end
    if i == nops - 20 then
      local which = math.random(1, 4)
      if which == 1 then cpeer:disconnect_later()
      elseif which == 2 then cpeer:disconnect()
      elseif which == 3 then cpeer:reset()
      else cpeer:disconnect_now() end
      r[#r + 1] = "end" .. which
    end
  end
  client:destroy()
  server:destroy()
  return r
end

T.test("send's answers in background mode equal normal mode's (random sequences)", function()
  local rounds = tonumber(os.getenv("ENET_SENDQ_ROUNDS") or "20")
  for seed = 1, rounds do
    local a = script(seed, false)
    local b = script(seed, true)
    for i = 1, math.max(#a, #b) do
      if a[i] ~= b[i] then
        error(string.format("seed %d, step %d: normal %s, background %s", seed, i,
          tostring(a[i]), tostring(b[i])))
      end
    end
  end
end)

T.done()
