-- What the scripts that send raw datagrams share: LuaSocket, and a host's port.
local M = {}

-- LuaSocket, or nil once `T.skip(what)` said why not. tests/install-deps installs Debian's
-- lua-socket, built for 5.1-5.4 (LuaJIT uses 5.1's): under CI its absence is an error there.
-- Debian has none for 5.5, and the Windows interpreters of tests/windows/run have none.
function M.socket(T, what)
  local ok, socket = pcall(require, "socket")
  if ok then return socket end
  if os.getenv("CI") and _VERSION ~= "Lua 5.5" then error("luasocket is needed: " .. tostring(socket), 2) end
  T.skip(what, "no LuaSocket for " .. _VERSION .. " here")
  return nil
end

-- A non-blocking UDP socket of LuaSocket's, bound to an ephemeral port of 127.0.0.1.
function M.udp(socket)
  local u = assert(socket.udp())
  assert(u:setsockname("127.0.0.1", 0))
  u:settimeout(0)
  return u
end

-- The port of a host bound on 127.0.0.1.
function M.port_of(host) return tonumber(host:get_socket_address():match(":(%d+)$")) end

return M
