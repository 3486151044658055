-- Run by tests/network.rs (network/stock.rs) inside its own network namespace, where
-- 255.255.255.255 is routed to lo: nothing leaves the machine. A client connects to the IPv4
-- broadcast address; the server answers from its own address, which ENet accepts only for a
-- peer whose address is the broadcast one (vendor/enet 0019 compares against the IPv4-mapped
-- broadcast address), and the peer then takes the server's real address.
local T = require "t"
local N = require "netlib"
require "enet"

local cases = {
  { "*:*", nil, "dual-stack server and client" },
  { "0.0.0.0:*", "0.0.0.0:*", "IPv4 server and client" },
  { "*:*", "0.0.0.0:*", "dual-stack server, IPv4 client" },
}
for _, case in ipairs(cases) do
  T.test("connect to 255.255.255.255 finds the server: " .. case[3], function()
    local server = assert(enet.host_create(case[1], 2))
    local port = server:get_socket_address():match(":(%d+)$")
    local client = assert(enet.host_create(case[2], 1))
    local peer = client:connect("255.255.255.255:" .. port, 1, 7)
    T.eq(tostring(peer), "255.255.255.255:" .. port, "the broadcast address at first")
    local data
    N.pump({ server, client }, 8000, function() return data and peer:state() == "connected" end,
      function(h, e) if h == server and e.type == "connect" then data = e.data end end)
    T.eq(data, 7, "the server saw the connection")
    T.ok(tostring(peer):match("^127%.%d+%.%d+%.%d+:" .. port .. "$"), "then the server's address: " .. tostring(peer))
    T.eq(peer:send("after broadcast"), 0, "send")
    local got
    N.pump({ server, client }, 8000, function() return got end,
      function(h, e) if h == server and e.type == "receive" then got = e.data end end)
    T.eq(got, "after broadcast", "traffic flows")
    N.say("COUNT broadcast " .. case[3] .. ": connected through " .. tostring(peer))
    server:destroy() client:destroy()
  end)
end
T.done()
