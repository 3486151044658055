-- Numbers (docs/contract.md §5): numeric strings accepted, truncation toward zero, wrapping to the
-- C field (uint32 modulo 2^32, channel ids modulo 256), NaN and infinities refused, explicit nil
-- means absent, extra arguments ignored without changing the documented ones.
local T = require "t"
require "enet"

local NaN, INF = 0 / 0, math.huge
local NOINT = "number has no integer representation"

local h = enet.host_create(nil, 8)
local p = h:get_peer(1)

T.test("uint32 fields: truncation toward zero and wrapping modulo 2^32", function()
  local cases = {
    { 1.9, 1 }, { -0.5, 0 }, { 0.99, 0 }, { -1, 4294967295 }, { -2, 4294967294 },
    { 2 ^ 32, 0 }, { 2 ^ 32 + 5, 5 }, { 3e9, 3000000000 }, { 2 ^ 31, 2147483648 },
    { -(2 ^ 31), 2147483648 }, { 2 ^ 53, 0 }, { 2 ^ 52 + 2 ^ 33 + 7, 7 }, { 2 ^ 64 + 2 ^ 33, 0 },
    { -(2 ^ 32) - 1, 4294967295 }, { 1e300, 0 }, { -3.7, 4294967293 },
    { "10", 10 }, { " 7 ", 7 }, { "0x10", 16 }, { "1e3", 1000 }, { "2.9", 2 }, { "-1", 4294967295 },
  }
  for _, case in ipairs(cases) do
    local what = string.format("%s (%s)", tostring(case[1]), type(case[1]))
    T.eq(p:round_trip_time(case[1]), case[2], "round_trip_time " .. what)
    T.eq(p:last_round_trip_time(case[1]), case[2], "last_round_trip_time " .. what)
  end
  T.eq(p:ping_interval(2 ^ 32 + 5), 5, "ping_interval wraps")
  T.eq(p:ping_interval(-1), 4294967295, "ping_interval -1")
  T.eq(table.concat({ p:timeout(-1, -1, -1) }, ","), "4294967295,4294967295,4294967295", "timeout -1")
  T.eq(table.concat({ p:timeout(1.5, "2", 2 ^ 32 + 3) }, ","), "1,2,3", "timeout mixed")
end)

if math.type then
  T.test("5.3+ integers wrap the same way", function()
    T.eq(p:round_trip_time(math.maxinteger), 4294967295, "maxinteger")
    T.eq(p:round_trip_time(math.mininteger), 0, "mininteger")
    T.eq(p:round_trip_time(math.mininteger + 5), 5, "mininteger + 5")
    T.eq(p:round_trip_time(4294967296 + 9), 9, "integer 2^32 + 9")
    T.eq(p:round_trip_time(-1), 4294967295, "integer -1")
    T.eq(math.type(p:round_trip_time()), "integer", "results are integers")
    T.eq(math.type(h:peer_count()), "integer", "peer_count integer")
    T.eq(p:round_trip_time(7.0), 7, "float with integral value")
  end)
end

T.test("NaN and infinities: number has no integer representation, everywhere", function()
  local s = enet.host_create(nil, 2)
  local sp = s:get_peer(1)
  for _, bad in ipairs({ NaN, INF, -INF, "1e999", "-1e999" }) do
    local what = " for " .. tostring(bad)
    T.raises("bad argument #1 to 'round_trip_time' (" .. NOINT .. ")", function() sp:round_trip_time(bad) end)
    T.raises("bad argument #1 to 'last_round_trip_time' (" .. NOINT .. ")", function() sp:last_round_trip_time(bad) end)
    T.raises("bad argument #1 to 'ping_interval' (" .. NOINT .. ")", function() sp:ping_interval(bad) end)
    T.raises("bad argument #1 to 'timeout' (" .. NOINT .. ")", function() sp:timeout(bad) end)
    T.raises("bad argument #3 to 'timeout' (" .. NOINT .. ")", function() sp:timeout(1, 1, bad) end)
    T.raises("bad argument #1 to 'disconnect' (" .. NOINT .. ")", function() sp:disconnect(bad) end)
    T.raises("bad argument #1 to 'disconnect_now' (" .. NOINT .. ")", function() sp:disconnect_now(bad) end)
    T.raises("bad argument #1 to 'disconnect_later' (" .. NOINT .. ")", function() sp:disconnect_later(bad) end)
    T.raises("bad argument #1 to 'receive' (" .. NOINT .. ")", function() sp:receive(bad) end)
    T.raises("bad argument #2 to 'send' (" .. NOINT .. ")", function() sp:send("x", bad) end)
    T.raises("bad argument #3 to 'throttle_configure' (" .. NOINT .. ")", function() sp:throttle_configure(1, 1, bad) end)
    T.raises("bad argument #1 to 'service' (" .. NOINT .. ")", function() s:service(bad) end)
    T.raises("bad argument #1 to 'channel_limit' (" .. NOINT .. ")", function() s:channel_limit(bad) end)
    T.raises("bad argument #1 to 'bandwidth_limit' (" .. NOINT .. ")", function() s:bandwidth_limit(bad) end)
    T.raises("bad argument #2 to 'bandwidth_limit' (" .. NOINT .. ")", function() s:bandwidth_limit(1, bad) end)
    T.raises("bad argument #1 to 'get_peer' (" .. NOINT .. ")", function() s:get_peer(bad) end)
    T.raises("bad argument #2 to 'broadcast' (" .. NOINT .. ")", function() s:broadcast("x", bad) end)
    T.raises("bad argument #2 to 'connect' (" .. NOINT .. ")", function() s:connect("127.0.0.1:1", bad) end)
    T.raises("bad argument #3 to 'connect' (" .. NOINT .. ")", function() s:connect("127.0.0.1:1", 1, bad) end)
    for i = 2, 5 do
      local args = { nil, 1, 1, 0, 0 }
      args[i] = bad
      T.raises("bad argument #" .. i .. " to 'host_create' (" .. NOINT .. ")",
        function() enet.host_create(args[1], args[2], args[3], args[4], args[5]) end)
    end
    T.eq(sp:round_trip_time(), 500, "nothing changed" .. what)
  end
  -- whether "nan" / "inf" are numeric strings is the Lua version's own coercion (strtod on 5.1)
  for _, text in ipairs({ "nan", "inf" }) do
    local want = tonumber(text) and NOINT or "number expected, got string"
    T.raises(want, function() sp:round_trip_time(text) end)
  end
  s:destroy()
end)

T.test("host_create numbers: strings, truncation, wrapping", function()
  T.eq(enet.host_create(nil, "10"):peer_count(), 10, "numeric string")
  T.eq(enet.host_create(nil, 1.7):peer_count(), 1, "truncated")
  T.eq(enet.host_create(nil, 2 ^ 32 + 3):peer_count(), 3, "wrapped")
  T.eq(enet.host_create(nil, " 4 "):peer_count(), 4, "blank-padded string")
  T.ok(enet.host_create(nil, 1, -1, -1, -1), "negative channel and bandwidths wrap, accepted")
  T.eq(enet.host_create(nil, 2 ^ 32 + 4096), nil, "wraps to 4096: too many")
end)

T.test("get_peer index: truncated and wrapped like the reference (leafo)", function()
  T.ok(h:get_peer(1.9) == h:get_peer(1), "1.9 is slot 1")
  T.ok(h:get_peer(2 ^ 32 + 1) == h:get_peer(1), "2^32+1 is slot 1")
  T.ok(h:get_peer("2") == h:get_peer(2), "numeric string")
  T.ok(h:get_peer(8.999) == h:get_peer(8), "8.999 is slot 8")
end)

T.test("explicit nil is absent everywhere", function()
  local s = assert(enet.host_create(nil, nil, nil, nil, nil))
  T.eq(s:peer_count(), 64, "host_create nils are defaults")
  local sp = s:get_peer(1)
  T.eq(select("#", s:service(nil)), 0, "service(nil)")
  T.eq(sp:round_trip_time(nil), 500, "round_trip_time(nil)")
  T.eq(sp:last_round_trip_time(nil), 500, "last_round_trip_time(nil)")
  T.eq(sp:ping_interval(nil), 500, "ping_interval(nil)")
  T.eq(select("#", sp:receive(nil)), 0, "receive(nil)")
  T.eq(select("#", sp:disconnect(nil)), 0, "disconnect(nil)")
  T.eq(select("#", sp:disconnect_now(nil)), 0, "disconnect_now(nil)")
  T.eq(select("#", sp:disconnect_later(nil)), 0, "disconnect_later(nil)")
  T.eq(table.concat({ sp:timeout(nil, nil, nil) }, ","), "32,5000,30000", "timeout(nil, nil, nil)")
  T.eq(sp:send("x", nil, nil), -1, "send nils")
  T.eq(select("#", s:broadcast("x", nil, nil)), 0, "broadcast nils")
  T.eq(select("#", s:bandwidth_limit(5, nil)), 0, "bandwidth_limit outgoing nil")
  local q = s:connect("127.0.0.1:9", nil, nil)
  T.eq(q:state(), "connecting", "connect nils")
  s:destroy()
end)

T.test("extra arguments are ignored and the documented ones keep their meaning", function()
  local s = assert(enet.host_create(nil, 3, 1, 0, 0, "junk", {}))
  T.eq(s:peer_count(), 3, "host_create keeps peer_count")
  local sp = s:get_peer(1)
  T.eq(sp:round_trip_time(5, "junk"), 5, "round_trip_time keeps its value")
  T.eq(sp:ping_interval(60, {}), 60, "ping_interval keeps its value")
  T.eq(table.concat({ sp:timeout(1, 2, 3, "junk") }, ","), "1,2,3", "timeout keeps its values")
  T.eq(s:peer_count("junk"), 3, "getter ignores extras")
  T.eq(select("#", s:service(0, nil, "junk")), 0, "service ignores extras")
  s:destroy()
end)

T.test("over the wire: connect data, disconnect data and channels wrap", function()
  local server = assert(enet.host_create("127.0.0.1:*", 8, 2))
  local client = assert(enet.host_create(nil, 8))
  local addr = server:get_socket_address()
  local datas = { { 2 ^ 32 + 7, 7 }, { -1, 4294967295 }, { 3e9, 3000000000 }, { 1.5, 1 }, { "42", 42 } }
  local got = {}
  local peers = {}
  for i, d in ipairs(datas) do peers[i] = client:connect(addr, 2, d[1], "junk") end
  T.pump({ server, client }, function() return #got == #datas end, function(hh, e)
    if hh == server and e.type == "connect" then got[#got + 1] = e.data end
  end)
  table.sort(got)
  local want = {}
  for i, d in ipairs(datas) do want[i] = d[2] end
  table.sort(want)
  T.eq(table.concat(got, ","), table.concat(want, ","), "connect data as uint32")
  T.pump({ server, client }, function()
    for _, pp in ipairs(peers) do if pp:state() ~= "connected" then return false end end
    return true
  end)

  local cp = peers[1]
  local sends = { { 256, 0 }, { 257, 1 }, { -255, 1 }, { 1.9, 1 }, { "1", 1 }, { 512 + 0.5, 0 } }
  for i, s in ipairs(sends) do T.eq(cp:send("ch" .. i, s[1]), 0, "send on " .. tostring(s[1])) end
  T.eq(cp:send("x", -1), -1, "-1 is 255: beyond 2 channels")
  local rec = T.receive(server, #sends, { client })
  for _, e in ipairs(rec) do
    local i = tonumber(e.data:match("^ch(%d+)$"))
    T.eq(e.channel, sends[i][2], "channel of send " .. tostring(sends[i][1]))
  end
  server:broadcast("b", 257)
  local b = T.receive(client, 1, { server })[1]
  T.eq(b.channel, 1, "broadcast channel 257 is 1")

  local ddata
  cp:disconnect(2 ^ 32 + 3)
  T.pump({ server, client }, function() return ddata end, function(hh, e)
    if hh == server and e.type == "disconnect" then ddata = e.data end
  end)
  T.eq(ddata, 3, "disconnect data wraps")
  ddata = nil
  peers[2]:disconnect_now(-2)
  T.pump({ server, client }, function() return ddata end, function(hh, e)
    if hh == server and e.type == "disconnect" then ddata = e.data end
  end)
  T.eq(ddata, 4294967294, "disconnect_now data -2")
  server:destroy() client:destroy()
end)

T.test("service with a negative timeout returns at once", function()
  local s = enet.host_create(nil, 1)
  T.eq(select("#", s:service(-1)), 0, "service(-1)")
  T.eq(select("#", s:service(-0.5)), 0, "service(-0.5) truncates to 0")
  T.eq(select("#", s:service("0")), 0, "service('0')")
  s:destroy()
end)

T.test("data arguments: numbers are coerced to strings", function()
  local server, client, cpeer = T.pair()
  cpeer:send(12.5)
  cpeer:send(7)
  local got = T.receive(server, 2, { client })
  local seen = {}
  for _, e in ipairs(got) do seen[#seen + 1] = e.data end
  table.sort(seen)
  T.eq(seen[1], tostring(12.5), "float as tostring")
  T.eq(seen[2], tostring(7), "integer as tostring")
  server:broadcast(99)
  T.eq(T.receive(client, 1, { server })[1].data, "99", "broadcast number")
  server:destroy() client:destroy()
end)

h:destroy()
T.done()
