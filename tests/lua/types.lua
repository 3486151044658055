-- library/enet.lua (the lua-language-server type definitions) describes exactly what the module
-- exports: every function of the module table, every host method and every peer method has an
-- annotated definition there, and nothing is annotated that the module lacks.
local T = require "t"
require "enet"

local root = assert(os.getenv("ENET_TEST_ROOT"), "ENET_TEST_ROOT is not set")
local path = root .. "/library/enet.lua"
local file = assert(io.open(path, "r"))
local source = file:read("*a")
file:close()

-- Every `function <owner><sep><name>(<params>)` of the file, with the `---` lines above it.
local classes = { ["enet."] = "module", ["Host:"] = "host", ["Peer:"] = "peer" }
local defs = { module = {}, host = {}, peer = {} }
local doc = {}
local n = 0
for line in (source .. "\n"):gmatch("([^\n]*)\n") do
  n = n + 1
  if line:match("^%-%-%-") then
    doc[#doc + 1] = line
  else
    local owner, name, params = line:match("^function%s+([%a_]+[.:])([%w_]+)%s*%(([^)]*)%)")
    if owner then
      local class = classes[owner]
      T.ok(class, "known owner " .. owner .. " at line " .. n)
      defs[class][name] = { line = n, doc = doc, params = params }
    end
    doc = {}
  end
end

local function exported(t)
  local names = {}
  for k, v in pairs(t) do
    if type(v) == "function" then names[k] = true end
  end
  return names
end

local host = assert(enet.host_create(nil, 1))
local peer = host:get_peer(1)
local actual = {
  module = exported(enet),
  host = exported(getmetatable(host).__index),
  peer = exported(getmetatable(peer).__index),
}

for _, class in ipairs({ "module", "host", "peer" }) do
  T.test(class .. " functions all annotated in library/enet.lua", function()
    local missing = {}
    for name in pairs(actual[class]) do
      if not defs[class][name] then missing[#missing + 1] = name end
    end
    table.sort(missing)
    T.eq(table.concat(missing, ", "), "", class .. " functions without an annotation")
  end)

  T.test(class .. " annotations all exist in the module", function()
    local extra = {}
    for name in pairs(defs[class]) do
      if not actual[class][name] then extra[#extra + 1] = name end
    end
    table.sort(extra)
    T.eq(table.concat(extra, ", "), "", class .. " annotations of functions the module lacks")
  end)

  T.test(class .. " annotations describe every parameter", function()
    for name, def in pairs(defs[class]) do
      local text = table.concat(def.doc, "\n")
      T.ok(#def.doc > 0, name .. " has a description")
      for param in def.params:gmatch("[%w_]+") do
        T.ok(text:find("---@param " .. param .. " ", 1, true), name .. " documents @param " .. param)
      end
    end
  end)
end

T.test("the enet.PacketFlag alias lists exactly the flags send accepts", function()
  local alias = source:match("@alias enet%.PacketFlag\n(.-)\n\n")
  local flags = {}
  for flag in alias:gmatch('%-%-%-| "([%w_]+)"') do flags[#flags + 1] = flag end
  T.eq(#flags, 3, "number of flags")
  for _, flag in ipairs(flags) do
    T.eq(peer:send("x", 0, flag), -1, "send on a free slot with flag " .. flag)
  end
  T.raises("Unknown packet flag: bogus", peer.send, peer, "x", 0, "bogus")
end)

T.test("the enet.PeerState alias holds the state of a fresh slot and a connecting one", function()
  local alias = source:match("@alias enet%.PeerState\n(.-)\n\n")
  local states = {}
  for state in alias:gmatch('%-%-%-| "([%w_]+)"') do states[state] = true end
  T.ok(states[peer:state()], "state " .. peer:state() .. " is in the alias")
  local client = assert(enet.host_create())
  local p = client:connect("127.0.0.1:9")
  T.ok(states[p:state()], "state " .. p:state() .. " is in the alias")
  p:reset()
  client:destroy()
end)

T.test("the enet class declares the module's non-function fields", function()
  for k, v in pairs(enet) do
    if type(v) ~= "function" then
      T.ok(source:find("---@field " .. k .. " ", 1, true), "@field " .. k .. " in ---@class enet")
    end
  end
end)

host:destroy()
T.done()
