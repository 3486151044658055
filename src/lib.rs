//! `enet`: the Lua C module. ENet's C core (vendor/enet) does the networking; this crate gives
//! it leafo/lua-enet's Lua API, memory-safe. docs/architecture.md is the map:
//!
//! - `lua.rs`: how a Lua call reaches ENet (the three phases), replies and errors;
//! - `args.rs`: the argument checks a method body may make, the class checks included;
//! - `object.rs`: object lifetime (who owns the ENet host, the peer table, per-peer data);
//! - `host.rs`, `config.rs`, `peer.rs`: the two Lua classes; `event.rs`: events as tables;
//! - `packet.rs`: a message to send, and a received packet into a Lua string, freed once;
//! - `text.rs`: text and the failure value, without the heap;
//! - `address.rs`: `"host:port"` strings; `os.rs`: what only the system knows about them;
//! - `ffi.rs`: the part of ENet's C API we use.
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
mod args;
mod background;
mod blocks;
mod config;
mod event;
mod ffi;
mod held;
mod host;
mod lua;
mod object;
mod os;
mod osthread;
mod packet;
mod peer;
mod published;
mod sendq;
mod text;
mod waker;

use args::Args;
use lua::{ffi as lua_ffi, methods, Methods, Ret, State};
use std::ffi::CStr;
use std::os::raw::c_int;
use text::{text, Text};

/// Registry keys of our metatables: our own names, never LÖVE's `enet_host` / `enet_peer`.
const HOST_MT_KEY: &CStr = c"enet.rs:host";
const PEER_MT_KEY: &CStr = c"enet.rs:peer";
const CORE_MT_KEY: &CStr = c"enet.rs:core";

/// `require "enet"`: checks that the module was built for the Lua that loads it and for this
/// ENet, then builds the module table (and the global `enet`).
///
/// # Safety
/// Called by Lua only (`require`), with a valid state.
#[no_mangle]
pub unsafe extern "C-unwind" fn luaopen_enet(l: State) -> c_int {
    // SAFETY: `l` is the state running `require`; no Rust value owning memory is alive when a
    // Lua call here raises (the messages are plain data, see lua.rs).
    unsafe {
        check_lua_version(l);
        let ready = lua::catch(|| {
            if !init_enet() {
                return Err(None);
            }
            ffi::check_layout().map_err(Some)
        });
        match ready {
            Ok(Ok(())) => {}
            Ok(Err(mismatch)) => {
                let message = match mismatch {
                    None => text!("enet: enet_initialize failed"),
                    Some(m) => text!(
                        "enet: ABI mismatch ({}: Rust has {}, C has {})",
                        m.what,
                        m.rust,
                        m.c
                    ),
                };
                lua::push_bytes(l, message.as_bytes());
                lua_ffi::lua_error(l);
            }
            Err(e) => lua::raise(l, e),
        }
        open(l);
        1
    }
}

/// A module built for one Lua 5.x and loaded into another would corrupt memory: Lua's own check
/// refuses it (`version mismatch`). 5.1 and LuaJIT builds cannot load elsewhere (their symbols
/// differ).
///
/// # Safety
/// `l` is the state running `require` (it may raise there).
#[cfg(not(any(feature = "lua51", feature = "luajit")))]
unsafe fn check_lua_version(l: State) {
    // SAFETY: luaL_checkversion_ exists in every Lua 5.2+ and only reads or raises.
    unsafe {
        #[cfg(feature = "lua52")]
        lua_ffi::luaL_checkversion_(l, 502.0);
        #[cfg(any(feature = "lua53", feature = "lua54", feature = "lua55"))]
        lua_ffi::luaL_checkversion_(l, LUA_VERSION_NUM, LUAL_NUMSIZES);
    }
}

/// # Safety
/// Nothing to check: safe to call anywhere (the same signature as the other flavours').
#[cfg(any(feature = "lua51", feature = "luajit"))]
unsafe fn check_lua_version(_: State) {}

#[cfg(feature = "lua53")]
const LUA_VERSION_NUM: f64 = 503.0;
#[cfg(feature = "lua54")]
const LUA_VERSION_NUM: f64 = 504.0;
#[cfg(feature = "lua55")]
const LUA_VERSION_NUM: f64 = 505.0;
/// `LUAL_NUMSIZES` of lauxlib.h: the sizes of lua_Integer and lua_Number.
#[cfg(any(feature = "lua53", feature = "lua54", feature = "lua55"))]
const LUAL_NUMSIZES: usize =
    std::mem::size_of::<lua_ffi::lua_Integer>() * 16 + std::mem::size_of::<lua_ffi::lua_Number>();

/// `enet_initialize` once per process; never deinitialized (no `atexit` from a loadable module).
fn init_enet() -> bool {
    static INIT: std::sync::OnceLock<c_int> = std::sync::OnceLock::new();
    *INIT.get_or_init(blocks::initialize) == 0
}

/// Builds the module table (and the global `enet`), leaving it on the stack.
///
/// # Safety
/// `l` is the state running `require`, with no Rust value that owns memory alive (a raise here
/// is a module-load error).
unsafe fn open(l: State) {
    // SAFETY: runs for `require` (a raise is an ordinary module-load error; nothing owning memory
    // is alive here); stack indices 1..=4 are the three upvalues of every function and the module
    // table, as pushed below.
    unsafe {
        lua_ffi::lua_settop(l, 0);
        let host_mt = shared_metatable(l, HOST_MT_KEY, c"enet_host");
        let peer_mt = shared_metatable(l, PEER_MT_KEY, c"enet_peer");
        let constants = push_constants(l);
        debug_assert_eq!((host_mt, peer_mt, constants), (1, 2, 3));
        set_methods(l, host_mt, &[host::METHODS, config::METHODS], host::META);
        set_methods(l, peer_mt, &[peer::METHODS], peer::META);

        lua_ffi::lua_createtable(l, 0, 4);
        for (name, f) in MODULE_FUNCTIONS {
            push_function(l, *f);
            lua_ffi::lua_setfield(l, -2, name.as_ptr());
        }
        // This module's own version (enet.linked_version() is ENet's).
        let version = env!("CARGO_PKG_VERSION");
        lua::push_bytes(l, version.as_bytes());
        lua_ffi::lua_setfield(l, -2, c"version".as_ptr());
        lua::push_bytes(l, concat!("enet ", env!("CARGO_PKG_VERSION")).as_bytes());
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
///
/// # Safety
/// As [`open`], which calls it.
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

/// Pushes the module's constants table (lua.rs, `CONSTANTS`): the interned names, then the
/// core metatable and the string-copy helper (both reachable with the debug library, both
/// harmless to call with any arguments). Returns its index.
///
/// # Safety
/// As [`open`], called after the two class metatables are at stack indices 1 and 2.
unsafe fn push_constants(l: State) -> c_int {
    // SAFETY: table construction in a protected call; the core metatable's `__gc` closure gets
    // the same upvalues as every method (the constants table is complete by then).
    unsafe {
        lua_ffi::lua_createtable(l, lua::K_COPY_STRING as c_int, 0);
        for (i, name) in lua::NAME_LIST.iter().enumerate() {
            lua_ffi::lua_pushstring(l, name.as_ptr());
            lua_ffi::lua_rawseti(l, -2, i as lua_ffi::lua_Integer + 1);
        }
        let constants = lua_ffi::lua_gettop(l);
        shared_metatable(l, CORE_MT_KEY, c"enet_core");
        lua_ffi::lua_rawseti(l, constants, lua::K_CORE_MT);
        lua_ffi::lua_pushcfunction(l, packet::copy_string);
        lua_ffi::lua_rawseti(l, constants, lua::K_COPY_STRING);

        lua_ffi::lua_rawgeti(l, constants, lua::K_CORE_MT);
        push_function(l, object::core_gc);
        lua_ffi::lua_setfield(l, -2, c"__gc".as_ptr());
        lua_ffi::lua_pop(l, 1);
        constants
    }
}

/// Pushes a new C closure carrying the module's upvalues (lua.rs: `HOST_MT`, `PEER_MT`,
/// `CONSTANTS`), which `open` keeps at stack indices 1..=3.
///
/// # Safety
/// As [`open`], once stack indices 1..=3 hold the upvalues.
unsafe fn push_function(l: State, f: lua_ffi::lua_CFunction) {
    // SAFETY: indices 1..=3 hold the upvalues (open); lua_pushcclosure pops the copies.
    unsafe {
        for i in 1..=3 {
            lua_ffi::lua_pushvalue(l, i);
        }
        lua_ffi::lua_pushcclosure(l, f, 3);
    }
}

/// Fills metatable `mt` with a fresh `__index` table of `methods` and the metamethods `meta`.
///
/// # Safety
/// As [`push_function`]; `mt` is the absolute index of a table.
unsafe fn set_methods(l: State, mt: c_int, methods: &[Methods], meta: Methods) {
    // SAFETY: `mt` is an absolute index of a table pushed by `open`.
    unsafe {
        let count: usize = methods.iter().map(|m| m.len()).sum();
        lua_ffi::lua_createtable(l, 0, count as c_int);
        for (name, f) in methods.iter().flat_map(|m| m.iter()) {
            push_function(l, *f);
            lua_ffi::lua_setfield(l, -2, name.as_ptr());
        }
        lua_ffi::lua_setfield(l, mt, c"__index".as_ptr());
        for (name, f) in meta {
            push_function(l, *f);
            lua_ffi::lua_setfield(l, mt, name.as_ptr());
        }
    }
}

/// `enet.linked_version()`: the vendored ENet's version, "MAJOR.MINOR.PATCH".
unsafe fn linked_version(_: Args) -> Ret<Text> {
    // SAFETY: enet_linked_version has no preconditions.
    let v = unsafe { ffi::enet_linked_version() };
    Ok(text!(
        "{}.{}.{}",
        (v >> 16) & 0xff,
        (v >> 8) & 0xff,
        v & 0xff
    ))
}

/// The functions of the module table.
const MODULE_FUNCTIONS: &[(&CStr, lua_ffi::lua_CFunction)] = &[
    (c"host_create", host::lua_host_create),
    (c"linked_version", LINKED_VERSION[0].1),
];
const LINKED_VERSION: Methods = methods! {
    c"linked_version" => linked_version,
};
