//! Raw Lua C API glue: the one way to raise an error, check an argument, and recognise our own
//! userdata.
//!
//! Every Lua-visible function of the module is a raw `lua_CFunction` built by [`lua_fn!`]: the
//! body returns `Result<c_int, Raise>` and never calls a Lua API function that raises (other than
//! on out-of-memory); [`guard`] turns an `Err` into a plain-string Lua error exactly as
//! `luaL_argerror` / `luaL_error` would, after every Rust value with a destructor is gone.
//! Why raw functions: they cost about half of an mlua callback per call, and they raise the
//! reference's plain string errors instead of mlua's wrapped error userdata.
use std::borrow::Cow;
use std::os::raw::{c_char, c_int, c_void};

pub use mlua::ffi;
pub type State = *mut ffi::lua_State;

/// Upvalue slots that every function of the module carries.
pub const HOST_MT: c_int = 1;
pub const PEER_MT: c_int = 2;
pub const NAMES: c_int = 3;

/// Strings the hot paths push, interned once per module load in the `NAMES` upvalue (an array
/// in this order), so pushing one is an array read instead of hashing a C string.
#[derive(Clone, Copy)]
#[repr(i32)]
pub enum Name {
    Type = 1,
    Peer,
    Data,
    Channel,
    Reason,
    Connect,
    Disconnect,
    Receive,
    None,
    Local,
    Remote,
    Timeout,
    Refused,
    Unknown,
    /// The ten peer state names follow, in ENet's `ENetPeerState` order.
    Disconnected,
}

pub const NAME_LIST: [&std::ffi::CStr; 24] = [
    c"type",
    c"peer",
    c"data",
    c"channel",
    c"reason",
    c"connect",
    c"disconnect",
    c"receive",
    c"none",
    c"local",
    c"remote",
    c"timeout",
    c"refused",
    c"unknown",
    c"disconnected",
    c"connecting",
    c"acknowledging_connect",
    c"connection_pending",
    c"connection_succeeded",
    c"connected",
    c"disconnect_later",
    c"disconnecting",
    c"acknowledging_disconnect",
    c"zombie",
];

/// Pushes the interned string number `index` of [`NAME_LIST`] (1-based).
///
/// # Safety
/// `l` must run a function of this module (so the `NAMES` upvalue exists).
#[inline]
pub unsafe fn push_name_at(l: State, index: i32) {
    // SAFETY: the upvalue is the names array built in lib.rs.
    unsafe {
        ffi::lua_rawgeti(l, ffi::lua_upvalueindex(NAMES), index.into());
    }
}

/// Pushes an interned name.
///
/// # Safety
/// As [`push_name_at`].
#[inline]
pub unsafe fn push_name(l: State, name: Name) {
    // SAFETY: forwarded.
    unsafe { push_name_at(l, name as i32) }
}

/// An error to raise in Lua once the Rust frame is clean.
pub enum Raise {
    /// `bad argument #N to 'name' (text)`, N being the absolute stack index.
    Arg(c_int, Cow<'static, str>),
    /// `chunk:line: text`, as `luaL_error` would produce it.
    Msg(Cow<'static, str>),
}

pub type Ret = Result<c_int, Raise>;

/// Declares `extern "C-unwind" fn $name(L)` that runs `$body` under [`guard`].
macro_rules! lua_fn {
    ($(#[$m:meta])* $name:ident => $body:path) => {
        $(#[$m])*
        /// # Safety
        /// Called by Lua only, as a C function of this module (with its upvalues).
        pub unsafe extern "C-unwind" fn $name(l: $crate::lua::State) -> ::std::os::raw::c_int {
            // SAFETY: Lua calls this with a valid state; `guard` upholds the raise rules.
            unsafe { $crate::lua::guard(l, $body) }
        }
    };
}
pub(crate) use lua_fn;

/// Runs a function body and converts its error (or a Rust panic) into a Lua error.
///
/// The body runs inside `catch_unwind` on every flavour. On PUC Lua a Lua error is a `longjmp`,
/// which passes over the `catch_unwind` frame without running anything. LuaJIT raises with the
/// platform unwinder instead, and cannot be left to catch a panic itself (it deletes the foreign
/// exception, which makes Rust abort). The one cost: a LuaJIT *memory* error raised inside a
/// body would reach `catch_unwind` as a foreign exception and abort; with LuaJIT's GC64 (the
/// x64/arm64 default) that only happens when the whole system is out of memory.
///
/// # Safety
/// `l` must be the state that called the C function, with its arguments on the stack.
#[inline(always)]
pub unsafe fn guard(l: State, body: unsafe fn(State) -> Ret) -> c_int {
    let result = match std::panic::catch_unwind(|| {
        // SAFETY: forwarded from the caller's contract.
        unsafe { body(l) }
    }) {
        Ok(result) => result,
        Err(_) => Err(Raise::Msg(
            "enet: internal error (Rust panic), please report it".into(),
        )),
    };
    match result {
        Ok(n) => n,
        // SAFETY: `l` is the calling state; `raise` owns the only value with a destructor.
        Err(e) => unsafe { raise(l, e) },
    }
}

/// Raises `e` as a plain string error. The message is copied into Lua and dropped before the
/// jump, so nothing leaks when `lua_error` skips this frame.
#[cold]
#[inline(never)]
unsafe fn raise(l: State, e: Raise) -> ! {
    // SAFETY: `l` is a running state with at least LUA_MINSTACK free slots (a C function gets
    // 20); every pushed string is copied by Lua, and `text` is dropped before raising.
    unsafe {
        match e {
            Raise::Arg(n, text) => {
                push_bytes(l, text.as_bytes());
                drop(text);
                // The extra message stays alive on the Lua stack while luaL_argerror formats it.
                let extra = ffi::lua_tolstring(l, -1, std::ptr::null_mut());
                ffi::luaL_argerror(l, n, extra);
            }
            Raise::Msg(text) => {
                ffi::luaL_where(l, 1);
                push_bytes(l, text.as_bytes());
                drop(text);
                ffi::lua_concat(l, 2);
            }
        }
        ffi::lua_error(l)
    }
}

/// Pushes a binary-safe Lua string.
///
/// # Safety
/// `l` must be a valid state with a free stack slot.
#[inline]
pub unsafe fn push_bytes(l: State, bytes: &[u8]) {
    // SAFETY: `bytes` is a valid slice for its length; Lua copies it. On 5.1/LuaJIT the raw
    // function skips mlua's compat wrapper, which calls lua_tolstring only to return a pointer.
    unsafe {
        #[cfg(any(feature = "lua51", feature = "luajit"))]
        ffi::lua_pushlstring_(l, bytes.as_ptr() as *const c_char, bytes.len());
        #[cfg(not(any(feature = "lua51", feature = "luajit")))]
        ffi::lua_pushlstring(l, bytes.as_ptr() as *const c_char, bytes.len());
    }
}

/// Pushes a static, NUL-terminated name (`c"..."`).
///
/// # Safety
/// `l` must be a valid state with a free stack slot.
#[inline]
pub unsafe fn push_cstr(l: State, s: &'static std::ffi::CStr) {
    // SAFETY: `s` is NUL-terminated and lives forever.
    unsafe {
        ffi::lua_pushstring(l, s.as_ptr());
    }
}

/// `true` when argument `idx` is absent or nil (SPEC §5: nil means absent everywhere).
///
/// # Safety
/// `l` must be a valid state.
#[inline]
pub unsafe fn is_absent(l: State, idx: c_int) -> bool {
    // SAFETY: lua_type accepts any acceptable index.
    unsafe { ffi::lua_type(l, idx) <= ffi::LUA_TNIL }
}

/// The `got ...` part of a type error, as `luaL_typeerror` names it on this Lua version.
unsafe fn type_name(l: State, idx: c_int) -> String {
    // SAFETY: read-only queries on a valid state; the metafield is popped before returning.
    unsafe {
        #[cfg(any(feature = "lua53", feature = "lua54", feature = "lua55"))]
        {
            // luaL_getmetafield pushes the field unless it is nil.
            match ffi::luaL_getmetafield(l, idx, c"__name".as_ptr()) {
                ffi::LUA_TNIL => {}
                ffi::LUA_TSTRING => {
                    let name = cstr_to_string(ffi::lua_tolstring(l, -1, std::ptr::null_mut()));
                    ffi::lua_pop(l, 1);
                    return name;
                }
                _ => ffi::lua_pop(l, 1),
            }
            if ffi::lua_type(l, idx) == ffi::LUA_TLIGHTUSERDATA {
                return "light userdata".to_owned();
            }
        }
        cstr_to_string(ffi::lua_typename(l, ffi::lua_type(l, idx)))
    }
}

unsafe fn cstr_to_string(p: *const c_char) -> String {
    if p.is_null() {
        return String::from("?");
    }
    // SAFETY: Lua returns NUL-terminated strings that live while we read them.
    unsafe { std::ffi::CStr::from_ptr(p) }
        .to_string_lossy()
        .into_owned()
}

/// `bad argument #idx (<expected> expected, got <type>)`.
///
/// # Safety
/// `l` must be a valid state.
pub unsafe fn type_error(l: State, idx: c_int, expected: &str) -> Raise {
    // SAFETY: forwarded.
    let got = unsafe { type_name(l, idx) };
    Raise::Arg(idx, format!("{expected} expected, got {got}").into())
}

/// Truncates toward zero and wraps modulo 2^32, as the reference's `luaL_checkint` into a
/// uint32 field does on 5.1; `None` for NaN and infinities, which have no integer value.
pub fn wrap_u32(n: f64) -> Option<u32> {
    if !n.is_finite() {
        return None;
    }
    // Below 2^63 in magnitude, `as i64` truncates toward zero exactly and `as u32` wraps.
    if n.abs() < 9_223_372_036_854_775_808.0 {
        return Some(n as i64 as u32);
    }
    // fmod is exact for doubles, so this is the true remainder even for huge values.
    Some(n.trunc().rem_euclid(4_294_967_296.0) as u32)
}

/// A required integer argument, wrapped to 32 bits (numbers and numeric strings accepted).
///
/// # Safety
/// `l` must be a valid state.
#[inline]
pub unsafe fn check_u32(l: State, idx: c_int) -> Result<u32, Raise> {
    // SAFETY: forwarded.
    unsafe { u32_of_type(l, idx, ffi::lua_type(l, idx)) }
}

/// An optional integer argument: `default` when absent or nil.
///
/// # Safety
/// `l` must be a valid state.
#[inline]
pub unsafe fn opt_u32(l: State, idx: c_int, default: u32) -> Result<u32, Raise> {
    // SAFETY: forwarded.
    unsafe {
        match ffi::lua_type(l, idx) {
            ffi::LUA_TNONE | ffi::LUA_TNIL => Ok(default),
            t => u32_of_type(l, idx, t),
        }
    }
}

/// Argument `idx`, whose type is `t`, as a wrapped 32-bit integer.
#[inline]
unsafe fn u32_of_type(l: State, idx: c_int, t: c_int) -> Result<u32, Raise> {
    // SAFETY: read-only conversions on a valid state.
    unsafe {
        if t == ffi::LUA_TNUMBER {
            #[cfg(any(feature = "lua53", feature = "lua54", feature = "lua55"))]
            if ffi::lua_isinteger(l, idx) != 0 {
                return Ok(ffi::lua_tointeger(l, idx) as u32);
            }
            let n = ffi::lua_tonumber(l, idx);
            return wrap_u32(n).ok_or(Raise::Arg(
                idx,
                "number has no integer representation".into(),
            ));
        }
        // Strings that convert to numbers are accepted, as luaL_checkinteger does.
        let mut isnum: c_int = 0;
        let n = if t == ffi::LUA_TSTRING {
            ffi::lua_tonumberx(l, idx, &mut isnum)
        } else {
            0.0
        };
        if isnum == 0 {
            return Err(type_error(l, idx, "number"));
        }
        wrap_u32(n).ok_or(Raise::Arg(
            idx,
            "number has no integer representation".into(),
        ))
    }
}

/// A required string argument (numbers are coerced in place, as `luaL_checklstring` does).
/// The slice borrows the Lua string, which stays alive while it sits on the stack.
///
/// # Safety
/// `l` must be a valid state, and the caller must not pop argument `idx` while using the slice.
#[inline]
pub unsafe fn check_bytes<'a>(l: State, idx: c_int) -> Result<&'a [u8], Raise> {
    // SAFETY: forwarded.
    unsafe { bytes_of_type(l, idx, ffi::lua_type(l, idx)) }
}

/// An optional string argument: `None` when absent or nil.
///
/// # Safety
/// As [`check_bytes`].
#[inline]
pub unsafe fn opt_bytes<'a>(l: State, idx: c_int) -> Result<Option<&'a [u8]>, Raise> {
    // SAFETY: forwarded.
    unsafe {
        match ffi::lua_type(l, idx) {
            ffi::LUA_TNONE | ffi::LUA_TNIL => Ok(None),
            t => bytes_of_type(l, idx, t).map(Some),
        }
    }
}

/// Argument `idx`, whose type is `t`, as the bytes of a string.
#[inline]
unsafe fn bytes_of_type<'a>(l: State, idx: c_int, t: c_int) -> Result<&'a [u8], Raise> {
    // SAFETY: lua_tolstring returns a pointer to `len` bytes owned by the Lua string at `idx`.
    unsafe {
        if t == ffi::LUA_TSTRING || t == ffi::LUA_TNUMBER {
            let mut len = 0usize;
            let p = ffi::lua_tolstring(l, idx, &mut len);
            if !p.is_null() {
                return Ok(std::slice::from_raw_parts(p as *const u8, len));
            }
        }
        Err(type_error(l, idx, "string"))
    }
}

/// The block of argument `idx` if it is a userdata whose metatable is the one in upvalue `mt`;
/// null otherwise.
///
/// No separate `lua_type` check: `lua_touserdata` is null for everything but userdata, and a
/// light userdata can only carry our metatable through `debug.setmetatable`, with which a
/// script can just as well give it to any full userdata: the debug library is outside what any
/// C module's type check (`luaL_checkudata` included) can defend against.
///
/// # Safety
/// `l` must be a valid state running a function of this module (so upvalue `mt` exists).
#[inline]
pub unsafe fn to_udata(l: State, idx: c_int, mt: c_int) -> *mut c_void {
    // SAFETY: queries on a valid state; the metatable pushed by lua_getmetatable is popped.
    unsafe {
        let block = ffi::lua_touserdata(l, idx);
        if block.is_null() || ffi::lua_getmetatable(l, idx) == 0 {
            return std::ptr::null_mut();
        }
        let ours = ffi::lua_rawequal(l, -1, ffi::lua_upvalueindex(mt)) != 0;
        ffi::lua_pop(l, 1);
        if ours {
            block
        } else {
            std::ptr::null_mut()
        }
    }
}

/// Pushes a new C closure carrying the module's upvalues (`HOST_MT`, `PEER_MT`, `NAMES`).
///
/// # Safety
/// The host metatable, peer metatable and names array must be at the absolute stack indices
/// `upvalues`, `upvalues + 1` and `upvalues + 2`.
pub unsafe fn push_method(l: State, f: ffi::lua_CFunction, upvalues: c_int) {
    // SAFETY: the indices are valid by contract; lua_pushcclosure pops the upvalues.
    unsafe {
        for i in 0..3 {
            ffi::lua_pushvalue(l, upvalues + i);
        }
        ffi::lua_pushcclosure(l, f, 3);
    }
}

#[cfg(test)]
mod tests {
    use super::wrap_u32;

    #[test]
    fn wraps_like_the_reference() {
        assert_eq!(wrap_u32(1.9), Some(1));
        assert_eq!(wrap_u32(-0.5), Some(0));
        assert_eq!(wrap_u32(-1.0), Some(u32::MAX));
        assert_eq!(wrap_u32(4_294_967_296.0 + 5.0), Some(5));
        assert_eq!(wrap_u32(3e9), Some(3_000_000_000));
        assert_eq!(wrap_u32(2f64.powi(64) + 2f64.powi(33)), Some(0));
        assert_eq!(wrap_u32(-(2f64.powi(63))), Some(0));
        assert_eq!(wrap_u32(2f64.powi(63) + 2f64.powi(40) * 3.0), Some(0));
        assert_eq!(wrap_u32(-4_294_967_297.5), Some(u32::MAX));
        assert_eq!(
            wrap_u32(2f64.powi(62) + 7.0 * 2f64.powi(10)),
            Some(7 * 1024)
        );
        assert_eq!(wrap_u32(f64::NAN), None);
        assert_eq!(wrap_u32(f64::INFINITY), None);
    }
}
