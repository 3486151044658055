//! Argument checks and conversions, with the reference's error texts (docs/api.md,
//! "Conventions"), through [`Args`]: the only view of the Lua stack a method body gets. Every
//! read here leaves the Lua state as it was and never allocates, raises or runs Lua code (lua.rs
//! says why that matters). The class checks are here too: [`Args::host`] and [`Args::peer`]
//! (and their `live_*` forms) are the one way a body reaches a host or a peer.
use crate::ffi::{ENetHost, ENetPeer};
use crate::lua::{ffi, Raise, State, HOST_MT, PEER_MT};
use crate::object::{HostCore, HostUd, PeerUd};
use crate::published::Access;
use std::marker::PhantomData;
use std::os::raw::{c_char, c_int, c_void};

/// How many string arguments one function may declare (`methods!`'s `[i, j]`): the slots of
/// [`Args`]. A third index is a compile error, in `methods!` and in [`Args::prepare`].
pub const MAX_STRINGS: usize = 2;

/// The arguments of the running call, read-only. `'call` is the call: what `Args` lends (string
/// bytes, a host's core, a peer's block) lives while the arguments stay on the stack, which is
/// at least the body phase (a body makes no Lua call: lua.rs), and no borrow can reach the
/// reply phase (a reply is `'static`: lua.rs, `Push`).
#[derive(Clone, Copy)]
pub struct Args<'call> {
    l: State,
    /// How many arguments the call got (the stack top when it started: a type check leaves a
    /// metatable above the arguments, see [`Args::udata`]).
    top: c_int,
    /// The string arguments the prepare phase read (`lua::call`): index, bytes (null when the
    /// argument is neither a string nor a number) and length.
    strings: [(c_int, *const c_char, usize); MAX_STRINGS],
    call: PhantomData<&'call ()>,
}

impl<'call> Args<'call> {
    /// Reads the string arguments `strings` (at most [`MAX_STRINGS`]), converting numbers to
    /// strings in place as `luaL_checklstring` would. This allocates: it is the prepare phase of
    /// a call (lua.rs), never a body.
    ///
    /// # Safety
    /// `l` must be the state of a running C function of this module, and `'call` must end
    /// before that function returns or changes its arguments on the stack.
    #[inline(always)]
    pub unsafe fn prepare<const N: usize>(l: State, strings: [c_int; N]) -> Args<'call> {
        const {
            assert!(
                N <= MAX_STRINGS,
                "at most MAX_STRINGS string arguments per function (Args.strings)"
            )
        };
        let mut args = Args {
            l,
            // SAFETY: lua_gettop only reads.
            top: unsafe { ffi::lua_gettop(l) },
            strings: [(0, std::ptr::null(), 0); MAX_STRINGS],
            call: PhantomData,
        };
        for (slot, idx) in args.strings.iter_mut().zip(strings) {
            let mut len = 0usize;
            // SAFETY: any acceptable index; the bytes live while the argument is on the stack.
            let p = unsafe { ffi::lua_tolstring(l, idx, &mut len) };
            *slot = (idx, p, len);
        }
        args
    }

    /// The type of argument `idx` (`LUA_TNONE` beyond the arguments).
    fn type_of(self, idx: c_int) -> c_int {
        if !self.passed(idx) {
            return ffi::LUA_TNONE;
        }
        // SAFETY: lua_type accepts any acceptable index and only reads.
        unsafe { ffi::lua_type(self.l, idx) }
    }

    /// How many arguments the call got.
    pub fn top(self) -> c_int {
        self.top
    }

    /// `true` when argument `idx` was passed (it may be nil). Cheaper than a type query: on
    /// the hot paths an optional argument is usually not passed at all.
    #[inline(always)]
    fn passed(self, idx: c_int) -> bool {
        idx <= self.top
    }

    /// `true` when argument `idx` is absent or nil (nil means absent everywhere: docs/api.md,
    /// "Conventions").
    #[inline]
    pub fn absent(self, idx: c_int) -> bool {
        !self.passed(idx) || self.type_of(idx) <= ffi::LUA_TNIL
    }

    #[inline]
    pub fn is_table(self, idx: c_int) -> bool {
        self.passed(idx) && self.type_of(idx) == ffi::LUA_TTABLE
    }

    /// Lua's truth of argument `idx` (only `nil` and `false` are false).
    pub fn truthy(self, idx: c_int) -> bool {
        // SAFETY: lua_toboolean only reads.
        self.passed(idx) && unsafe { ffi::lua_toboolean(self.l, idx) != 0 }
    }

    /// A required integer argument, wrapped to 32 bits (numbers and numeric strings accepted).
    #[inline]
    pub fn u32(self, idx: c_int) -> Result<u32, Raise> {
        if !self.passed(idx) {
            return Err(Raise::Type(idx, c"number"));
        }
        match self.integer(idx) {
            Some(n) => n.ok_or(no_integer(idx)),
            None => Err(Raise::Type(idx, c"number")),
        }
    }

    /// An optional integer argument: `default` when absent or nil.
    #[inline]
    pub fn opt_u32(self, idx: c_int, default: u32) -> Result<u32, Raise> {
        if !self.passed(idx) {
            return Ok(default);
        }
        match self.integer(idx) {
            Some(n) => n.ok_or(no_integer(idx)),
            None if self.type_of(idx) == ffi::LUA_TNIL => Ok(default),
            None => Err(Raise::Type(idx, c"number")),
        }
    }

    /// Argument `idx` as a wrapped 32-bit integer: `None` if it is neither a number nor a
    /// numeric string, `Some(None)` for NaN and infinities. One API call in the common case.
    #[inline(always)]
    fn integer(self, idx: c_int) -> Option<Option<u32>> {
        #[cfg(any(feature = "lua53", feature = "lua54", feature = "lua55"))]
        {
            let mut isnum: c_int = 0;
            // SAFETY: a read-only conversion (a numeric string is converted without changing the
            // argument or allocating).
            let i = unsafe { ffi::lua_tointegerx(self.l, idx, &mut isnum) };
            if isnum != 0 {
                return Some(Some(i as u32));
            }
        }
        self.number(idx).map(wrap_u32)
    }

    /// Argument `idx` as a number (numbers and numeric strings), with one API call where the
    /// Lua version allows it.
    #[inline(always)]
    fn number(self, idx: c_int) -> Option<f64> {
        // SAFETY: read-only conversions; converting a string to a number does not allocate
        // (nor change the argument) on any Lua version.
        unsafe {
            #[cfg(feature = "lua51")]
            {
                let n = ffi::lua_tonumber(self.l, idx);
                (n != 0.0 || ffi::lua_isnumber(self.l, idx) != 0).then_some(n)
            }
            #[cfg(not(feature = "lua51"))]
            {
                let mut isnum: c_int = 0;
                #[cfg(feature = "luajit")]
                let n = luajit_tonumberx(self.l, idx, &mut isnum);
                #[cfg(not(feature = "luajit"))]
                let n = ffi::lua_tonumberx(self.l, idx, &mut isnum);
                (isnum != 0).then_some(n)
            }
        }
    }

    /// A required string argument (numbers accepted, converted by the prepare phase). The
    /// slice borrows the Lua string, which stays alive while it sits on the stack ('call).
    #[inline]
    pub fn bytes(self, idx: c_int) -> Result<&'call [u8], Raise> {
        match self.string(idx) {
            Some(bytes) => Ok(bytes),
            None => Err(Raise::Type(idx, c"string")),
        }
    }

    /// An optional string argument: `None` when absent or nil.
    #[inline]
    pub fn opt_bytes(self, idx: c_int) -> Result<Option<&'call [u8]>, Raise> {
        match self.string(idx) {
            Some(bytes) => Ok(Some(bytes)),
            None if self.absent(idx) => Ok(None),
            None => Err(Raise::Type(idx, c"string")),
        }
    }

    /// The bytes of string argument `idx`: read by the prepare phase when the method lists it
    /// as a string argument (`methods!`), else only if it is a real string (reading one does
    /// not allocate; a number would have to be converted, which is refused here).
    #[inline]
    fn string(self, idx: c_int) -> Option<&'call [u8]> {
        if !self.passed(idx) {
            return None;
        }
        let (p, len) = match self.strings.iter().find(|s| s.0 == idx && idx != 0) {
            Some(&(_, p, len)) => (p, len),
            None if self.type_of(idx) == ffi::LUA_TSTRING => {
                let mut len = 0usize;
                // SAFETY: lua_tolstring on a string returns its bytes, owned by the string.
                (unsafe { ffi::lua_tolstring(self.l, idx, &mut len) }, len)
            }
            None => return None,
        };
        if p.is_null() {
            return None;
        }
        // SAFETY: `p` points to `len` bytes that live while the argument does.
        Some(unsafe { std::slice::from_raw_parts(p as *const u8, len) })
    }

    /// The block of argument `idx` if it is a userdata whose metatable is the upvalue `mt` of
    /// the running function; null otherwise.
    ///
    /// No separate `lua_type` check: `lua_touserdata` is null for everything but userdata, and a
    /// light userdata can only carry our metatable through `debug.setmetatable`, with which a
    /// script can just as well give it to any full userdata: the debug library is outside what
    /// any C module's type check (`luaL_checkudata` included) can defend against.
    #[inline]
    fn udata(self, idx: c_int, mt: c_int) -> *mut c_void {
        if !self.passed(idx) {
            return std::ptr::null_mut();
        }
        let l = self.l;
        // SAFETY: queries on a valid state; lua_getmetatable pushes an existing table (no
        // allocation) into one of the LUA_MINSTACK slots a C function has.
        unsafe {
            let block = ffi::lua_touserdata(l, idx);
            if block.is_null() || ffi::lua_getmetatable(l, idx) == 0 {
                return std::ptr::null_mut();
            }
            // The metatable stays on the stack: the reply pushes above it and returns only what
            // it pushed (a pop would be one more API call on the hottest path).
            if ffi::lua_rawequal(l, -1, ffi::lua_upvalueindex(mt)) != 0 {
                block
            } else {
                std::ptr::null_mut()
            }
        }
    }
}

/// The class checks: the one way a body reaches a host or a peer. They hand out shared
/// references only, so two arguments that are the same host (or a host and its peer) never
/// make two `&mut` to one core (object.rs).
impl<'call> Args<'call> {
    /// Argument `idx` as a host's core, or a type error naming `enet_host`.
    #[inline]
    pub fn host(self, idx: c_int) -> Result<&'call HostCore, Raise> {
        let ud = self.udata(idx, HOST_MT) as *const HostUd;
        if ud.is_null() {
            return Err(Raise::Type(idx, c"enet_host"));
        }
        // SAFETY: the metatable proves a HostUd (object.rs), set up completely by push_new_host,
        // which lives while the host is on the stack: for 'call.
        Ok(unsafe { &*ud }.core())
    }

    /// Argument `idx` as a live ENet host, with its core.
    #[inline]
    pub fn live_host(self, idx: c_int) -> Result<(&'call HostCore, *mut ENetHost), Raise> {
        let core = self.host(idx)?;
        Ok((core, core.live()?))
    }

    /// [`Args::live_host`] with what a background host's release does (object.rs).
    #[inline(always)]
    pub fn live_host_as(
        self,
        idx: c_int,
        access: Access,
    ) -> Result<(&'call HostCore, *mut ENetHost), Raise> {
        let core = self.host(idx)?;
        Ok((core, core.live_as(access)?))
    }

    /// Argument `idx` as a peer block, or a type error naming `enet_peer`.
    #[inline]
    pub fn peer(self, idx: c_int) -> Result<&'call PeerUd, Raise> {
        let ud = self.udata(idx, PEER_MT) as *const PeerUd;
        if ud.is_null() {
            return Err(Raise::Type(idx, c"enet_peer"));
        }
        // SAFETY: the metatable proves a PeerUd, set up completely by push_peer, which lives
        // while the peer is on the stack: for 'call.
        Ok(unsafe { &*ud })
    }

    /// Argument `idx` as the ENet peer of a live host, with its block.
    #[inline]
    pub fn live_peer(self, idx: c_int) -> Result<(&'call PeerUd, *mut ENetPeer), Raise> {
        let ud = self.peer(idx)?;
        Ok((ud, ud.live()?))
    }

    /// [`Args::live_peer`] with what a background host's release does (object.rs).
    #[inline(always)]
    pub fn live_peer_as(
        self,
        idx: c_int,
        access: Access,
    ) -> Result<(&'call PeerUd, *mut ENetPeer), Raise> {
        let ud = self.peer(idx)?;
        Ok((ud, ud.live_as(access)?))
    }
}

#[cfg(feature = "luajit")]
// On Windows the module imports the Lua API from the interpreter's DLL by name, as mlua does
// (raw-dylib); LuaJIT's is lua51.dll (LÖVE's included). Elsewhere the interpreter provides it.
#[cfg_attr(windows, link(name = "lua51", kind = "raw-dylib"))]
extern "C-unwind" {
    /// LuaJIT 2.1's own `lua_tonumberx` (mlua maps the name to a two-call 5.1 emulation).
    #[link_name = "lua_tonumberx"]
    fn luajit_tonumberx(l: State, idx: c_int, isnum: *mut c_int) -> ffi::lua_Number;
}

fn no_integer(idx: c_int) -> Raise {
    Raise::Arg(idx, c"number has no integer representation")
}

/// Truncates toward zero and wraps modulo 2^32, as the reference's `luaL_checkint` into a
/// uint32 field does on 5.1; `None` for NaN and infinities, which have no integer value.
#[inline(always)]
pub fn wrap_u32(n: f64) -> Option<u32> {
    // The common case first: already in range (every timeout, channel, count...).
    if (0.0..4_294_967_296.0).contains(&n) {
        return Some(n as u32);
    }
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
