-- Bulk transfer: the client sends one 1 MiB reliable message (ENet fragments it), both hosts are
-- serviced alternately (drained with service(0)) until the server has received it; repeated
-- for about a second. Prints the payload rate in MB/s (10^6 bytes per second):
--   bulk_1mib <MB/s> MB/s
local b = dofile((arg and arg[0] and arg[0]:match("^(.*)/") or ".") .. "/common.lua")

local SIZE = 1024 * 1024
local server, client, peer = b.pair()
local payload = string.rep("0123456789abcdef", SIZE / 16)

local function transfer()
  local got = false
  local check = b.guard("bulk transfer")
  local rounds = 0
  peer:send(payload, 0, "reliable")
  while not got do
    b.drain(client)
    b.drain(server, function(e)
      if e.type == "receive" then
        if #e.data ~= SIZE then b.fail("bulk: received " .. #e.data .. " bytes") end
        got = true
      end
    end)
    rounds = rounds + 1
    if rounds % 64 == 0 then check() end
  end
end

local function run(seconds)
  local n = 0
  local t0 = b.clock()
  local elapsed = 0
  repeat
    transfer()
    n = n + 1
    elapsed = b.clock() - t0
  until elapsed >= seconds
  return n * SIZE / elapsed / 1e6
end

run(0.1 * b.seconds) -- warm-up
b.report("bulk_1mib", run(b.seconds), "MB/s")
server:destroy()
client:destroy()
