rockspec_format = "3.0"
package = "enet"
version = "0.1.0-1"
source = {
   url = "git+https://github.com/enet-rs/lua-enet-rs.git",
   tag = "v0.1.0",
}
description = {
   summary = "ENet for Lua: reliable UDP for games, a drop-in replacement for leafo/lua-enet",
   detailed = [[
The `enet` module that Lua and LÖVE programs already use (host_create, service, connect,
send, ...), rebuilt in Rust over ENet's original C core, which is bundled: no system libenet is
needed. Runs on Lua 5.1, 5.2, 5.3, 5.4, 5.5 and LuaJIT; memory-safe whatever the script does.
Building needs a Rust toolchain (cargo) on the PATH.
]],
   homepage = "https://github.com/enet-rs/lua-enet-rs",
   license = "MIT",
   labels = { "networking", "udp", "enet", "games", "love" },
}
dependencies = {
   "lua >= 5.1, < 5.6",
}
build = {
   type = "command",
   -- luarocks substitutes $(LUA): the interpreter it builds for; the script asks it its version.
   build_command = [[sh rockspec/build.sh "$(LUA)"]],
   install = {
      lib = { enet = "enet.so" },
   },
   -- Copied into the rock's directory (`luarocks show --rock-dir enet`): library/enet.lua is the
   -- lua-language-server type definitions (docs/api.md says how to use them).
   copy_directories = { "library", "docs" },
}
