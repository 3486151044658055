//! `enet`: the Lua C module. ENet's C core (vendor/enet) does the networking; this crate gives
//! it leafo/lua-enet's Lua API, memory-safe.
//!
//! Layout: `lua.rs` is the raw Lua glue (raising, argument checks), `host.rs` and `peer.rs` are
//! the two Lua classes, `event.rs` turns ENet events into tables, `address.rs` parses
//! `"host:port"`, `ffi.rs` is the part of ENet's C API we use.
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

#[cfg(not(any(
    feature = "lua51",
    feature = "lua52",
    feature = "lua53",
    feature = "lua54",
    feature = "lua55",
    feature = "luajit"
)))]
compile_error!("enet: pick a Lua flavour, e.g. `cargo build --release --features lua54`");

mod address;
mod event;
mod ffi;
mod host;
mod lua;
mod peer;

use lua::{ffi as lua_ffi, push_method, State};
use std::ffi::CStr;
use std::os::raw::c_int;

/// Registry keys of our metatables: our own names, never LÖVE's `enet_host` / `enet_peer`.
const HOST_MT_KEY: &CStr = c"enet.rs:host";
const PEER_MT_KEY: &CStr = c"enet.rs:peer";

#[mlua::lua_module(name = "enet")]
fn enet(lua: &mlua::Lua) -> mlua::Result<mlua::Table> {
    init_enet()?;
    // SAFETY: exec_raw runs `open` in a protected call on this state and takes the one value it
    // leaves on the stack.
    unsafe { lua.exec_raw((), |l| open(l)) }
}

/// `enet_initialize` once per process; never deinitialized (no `atexit` from a loadable module).
fn init_enet() -> mlua::Result<()> {
    static INIT: std::sync::OnceLock<c_int> = std::sync::OnceLock::new();
    // SAFETY: enet_initialize has no preconditions and runs once.
    let rc = *INIT.get_or_init(|| unsafe { ffi::enet_initialize() });
    if rc != 0 {
        return Err(mlua::Error::runtime("enet: enet_initialize failed"));
    }
    Ok(())
}

/// Builds the module table (and the global `enet`), leaving it on the stack.
unsafe fn open(l: State) {
    // SAFETY: runs inside exec_raw's protected call, so API errors are caught; stack indices
    // 1..=4 are the two metatables, the names array and the module table, as pushed below.
    unsafe {
        lua_ffi::lua_settop(l, 0);
        let host_mt = shared_metatable(l, HOST_MT_KEY, c"enet_host");
        let peer_mt = shared_metatable(l, PEER_MT_KEY, c"enet_peer");
        lua_ffi::lua_createtable(l, lua::NAME_LIST.len() as c_int, 0);
        for (i, name) in lua::NAME_LIST.iter().enumerate() {
            lua_ffi::lua_pushstring(l, name.as_ptr());
            lua_ffi::lua_rawseti(l, -2, i as lua_ffi::lua_Integer + 1);
        }
        let upvalues = host_mt; // host_mt, peer_mt, names: consecutive stack slots
        set_methods(l, host_mt, upvalues, host::METHODS, host::META);
        set_methods(l, peer_mt, upvalues, peer::METHODS, peer::META);

        lua_ffi::lua_createtable(l, 0, 2);
        for (name, f) in [
            (
                c"host_create",
                host::lua_host_create as lua_ffi::lua_CFunction,
            ),
            (c"linked_version", lua_linked_version),
        ] {
            push_method(l, f, upvalues);
            lua_ffi::lua_setfield(l, -2, name.as_ptr());
        }
        // This module's own version (enet.linked_version() is ENet's).
        let version = env!("CARGO_PKG_VERSION");
        lua::push_bytes(l, version.as_bytes());
        lua_ffi::lua_setfield(l, -2, c"version".as_ptr());
        lua::push_bytes(l, format!("enet {version}").as_bytes());
        lua_ffi::lua_setfield(l, -2, c"_VERSION".as_ptr());
        // The tutorial uses the global `enet` after `require "enet"`, on every Lua version.
        lua_ffi::lua_pushvalue(l, -1);
        lua_ffi::lua_setglobal(l, c"enet".as_ptr());
        lua_ffi::lua_replace(l, 1);
        lua_ffi::lua_settop(l, 1);
    }
}

/// Pushes the metatable stored in the registry under `key`, creating it on first load, so that
/// loading the module twice in one state keeps existing objects valid. Returns its index.
unsafe fn shared_metatable(l: State, key: &CStr, name: &CStr) -> c_int {
    // SAFETY: registry access in a protected call.
    unsafe {
        if lua_ffi::lua_getfield(l, lua_ffi::LUA_REGISTRYINDEX, key.as_ptr()) != lua_ffi::LUA_TTABLE
        {
            lua_ffi::lua_pop(l, 1);
            lua_ffi::lua_createtable(l, 0, 4);
            if cfg!(any(feature = "lua53", feature = "lua54", feature = "lua55")) {
                // As luaL_newmetatable would: `tostring(host)` is `enet_host: 0x...` on 5.3+.
                lua_ffi::lua_pushstring(l, name.as_ptr());
                lua_ffi::lua_setfield(l, -2, c"__name".as_ptr());
            }
            lua_ffi::lua_pushvalue(l, -1);
            lua_ffi::lua_setfield(l, lua_ffi::LUA_REGISTRYINDEX, key.as_ptr());
        }
        lua_ffi::lua_gettop(l)
    }
}

type Methods = &'static [(&'static CStr, lua_ffi::lua_CFunction)];

/// Fills metatable `mt` with a fresh `__index` table of `methods` and the metamethods `meta`.
unsafe fn set_methods(l: State, mt: c_int, upvalues: c_int, methods: Methods, meta: Methods) {
    // SAFETY: `mt` and `upvalues` are absolute indices of the tables pushed by `open`.
    unsafe {
        lua_ffi::lua_createtable(l, 0, methods.len() as c_int);
        for (name, f) in methods {
            push_method(l, *f, upvalues);
            lua_ffi::lua_setfield(l, -2, name.as_ptr());
        }
        lua_ffi::lua_setfield(l, mt, c"__index".as_ptr());
        for (name, f) in meta {
            push_method(l, *f, upvalues);
            lua_ffi::lua_setfield(l, mt, name.as_ptr());
        }
    }
}

/// `enet.linked_version()`: the vendored ENet's version, "MAJOR.MINOR.PATCH".
unsafe fn linked_version(l: State) -> lua::Ret {
    // SAFETY: enet_linked_version has no preconditions.
    let v = unsafe { ffi::enet_linked_version() };
    let text = format!("{}.{}.{}", (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff);
    // SAFETY: one free stack slot.
    unsafe { lua::push_bytes(l, text.as_bytes()) };
    Ok(1)
}

lua::lua_fn!(lua_linked_version => linked_version);
