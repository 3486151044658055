//! How a Lua call reaches ENet: the call protocol every function of the module follows.
//!
//! A Lua API call that allocates can run a garbage-collection step, and with it any `__gc`
//! finalizer: arbitrary Lua code that may destroy, service or receive on the very host a call is
//! using. On Lua 5.1-5.3 and LuaJIT such a call can also raise (a finalizer's error, out of
//! memory), which `longjmp`s (PUC Lua) or unwinds as a foreign exception (LuaJIT) over our
//! frames. So every function is cut in three phases (docs/architecture.md):
//!
//! 1. **prepare**: the string arguments that hold numbers are converted in place (the one
//!    allocation an argument check needs), before anything else happens;
//! 2. **body**: a plain Rust function that gets only an [`Args`] view of the stack, whose reads
//!    never allocate, raise or run Lua code. It checks the arguments, works on ENet, and returns
//!    a reply (a [`Push`] type) or a [`Raise`]. It runs under `catch_unwind`, so a Rust panic
//!    becomes a Lua error;
//! 3. **reply**: outside `catch_unwind`, with no Rust value that owns anything alive, the reply
//!    is pushed (this allocates: finalizers may run, the host may be destroyed meanwhile, and on
//!    5.1-5.3/LuaJIT the push may raise, harmlessly) or the error is raised.
//!
//! The types keep the phases apart: a reply and a `Raise` are `Copy` (nothing with a destructor
//! that a raise could skip), `Send` (no raw pointer: no ENet pointer reaches the phase where a
//! finalizer may free what it points to) and `'static` (nothing borrowed from the call, such as
//! a host's core). The one pointer that must cross, a received packet, is `packet::Owned`,
//! whose `Send` is declared and argued in packet.rs.
//!
//! **The body contract.** A body is an `unsafe fn(Args) -> Ret<R>` (so is a body helper, which a
//! `methods!` line calls with extra arguments, such as `host_integer(|h| ...)`). `lua::call`
//! calls it in the body phase of the call that `args` views, and only there; the body in turn
//! makes no Lua API call, so no Lua code runs and the arguments stay on the stack until it
//! returns. That is what lets it use the ENet pointers and borrows that `Args` hands out: the
//! host it checked is alive and stays so. Every body's and helper's `# Safety` is this.
//!
//! Why raw `lua_CFunction`s and not mlua callbacks: they cost about half as much per call, and
//! they raise the reference's plain string errors instead of mlua's wrapped error userdata.
use crate::args::Args;
use std::ffi::CStr;
use std::os::raw::{c_char, c_int};

pub use mlua::ffi;
pub type State = *mut ffi::lua_State;

/// The upvalues every function of the module carries: the two class metatables (compared
/// directly by the type checks, the hottest read of all) and the module's constants table,
/// whose array part holds the interned [`Name`]s, then the values `K_*` below. Reading any of
/// them (`lua_pushvalue`, `lua_rawgeti`) never allocates. A script reaches all of them with
/// the debug library (`debug.getupvalue`), so every function among them must be harmless
/// whatever it is called with (docs/architecture.md, "What the debug library reaches").
pub const HOST_MT: c_int = 1;
pub const PEER_MT: c_int = 2;
pub const CONSTANTS: c_int = 3;
/// The metatable of a host's core (object.rs): on no object a script holds, so only the debug
/// library reaches it (here and in the registry).
pub const K_CORE_MT: ffi::lua_Integer = NAME_LIST.len() as ffi::lua_Integer + 1;
/// `packet::copy_string`, the protected helper of `packet::stage`: it takes no address, and
/// copies only the packet `stage` is delivering to the calling thread.
pub const K_COPY_STRING: ffi::lua_Integer = K_CORE_MT + 1;

/// Declares the interned names: the enum [`Name`] and the strings in [`NAME_LIST`], from one
/// list, so the two cannot drift apart.
macro_rules! names {
    ($($variant:ident = $text:literal,)*) => {
        /// Strings the hot paths push, interned once per module load in the constants table
        /// (an array in this order), so pushing one is an array read, not hashing a C string.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(i32)]
        pub enum Name { $($variant,)* }
        /// The text of every [`Name`], in declaration order (`Name::X as usize` indexes it).
        pub const NAME_LIST: &[&CStr] = &[$($text,)*];
    };
}

names! {
    Type = c"type",
    Peer = c"peer",
    Data = c"data",
    Channel = c"channel",
    Reason = c"reason",
    Connect = c"connect",
    Disconnect = c"disconnect",
    Receive = c"receive",
    None = c"none",
    Local = c"local",
    Remote = c"remote",
    Timeout = c"timeout",
    Refused = c"refused",
    Unknown = c"unknown",
    // Address families, as `peer:address()` and `host:get_socket_ip_port()` name them.
    Inet = c"inet",
    Inet6 = c"inet6",
    // The ten peer states, in ENet's ENetPeerState order (checked by a unit test).
    Disconnected = c"disconnected",
    Connecting = c"connecting",
    AcknowledgingConnect = c"acknowledging_connect",
    ConnectionPending = c"connection_pending",
    ConnectionSucceeded = c"connection_succeeded",
    Connected = c"connected",
    DisconnectLater = c"disconnect_later",
    Disconnecting = c"disconnecting",
    AcknowledgingDisconnect = c"acknowledging_disconnect",
    Zombie = c"zombie",
}

impl Name {
    /// The name of ENet peer state `state` (`"unknown"` outside ENetPeerState).
    pub fn of_state(state: c_int) -> Name {
        const STATES: [Name; 10] = [
            Name::Disconnected,
            Name::Connecting,
            Name::AcknowledgingConnect,
            Name::ConnectionPending,
            Name::ConnectionSucceeded,
            Name::Connected,
            Name::DisconnectLater,
            Name::Disconnecting,
            Name::AcknowledgingDisconnect,
            Name::Zombie,
        ];
        usize::try_from(state)
            .ok()
            .and_then(|i| STATES.get(i))
            .copied()
            .unwrap_or(Name::Unknown)
    }
}

/// An error to raise once the body is over. Every variant is plain data; the message is
/// assembled on the Lua stack in the reply phase, exactly as `luaL_argerror` / `luaL_error`
/// would produce it.
#[derive(Clone, Copy)]
pub enum Raise {
    /// `bad argument #N to 'name' (text)`, N being the stack index of the argument.
    Arg(c_int, &'static CStr),
    /// `bad argument #N to 'name' (<expected> expected, got <type of argument N>)`.
    Type(c_int, &'static CStr),
    /// `chunk:line: text`.
    Msg(&'static CStr),
    /// `chunk:line: <prefix><string argument N>` (the reference's `%s` of a Lua string).
    MsgArg(&'static CStr, c_int),
}

/// What a body hands to the reply phase: the values to return to Lua, as plain data. Each
/// body returns its own type. The bounds are the phase rule (module comment): `Copy`, it owns
/// nothing that a raise could skip; `Send`, it holds no raw pointer into ENet, which a
/// finalizer may free before the push; `'static`, it borrows nothing from the call.
pub trait Push: Copy + Send + 'static {
    /// Pushes the values and says how many there are.
    ///
    /// # Safety
    /// `l` runs the function whose body produced `self`, with its arguments still on the stack.
    unsafe fn push(self, l: State) -> c_int;
}

pub type Ret<T> = Result<T, Raise>;

// An error keeps the rule of replies (the bounds of `Push`).
const _: () = {
    const fn plain<T: Copy + Send + 'static>() {}
    plain::<Raise>()
};

/// Returns nothing.
impl Push for () {
    unsafe fn push(self, _: State) -> c_int {
        0
    }
}

impl Push for i64 {
    #[inline(always)]
    unsafe fn push(self, l: State) -> c_int {
        // SAFETY: a C function has LUA_MINSTACK free slots; pushing a number never allocates.
        unsafe { ffi::lua_pushinteger(l, self as ffi::lua_Integer) };
        1
    }
}

impl Push for (i64, i64) {
    unsafe fn push(self, l: State) -> c_int {
        // SAFETY: as for i64.
        unsafe { self.0.push(l) + self.1.push(l) }
    }
}

impl Push for (i64, i64, i64) {
    unsafe fn push(self, l: State) -> c_int {
        // SAFETY: as for i64.
        unsafe { self.0.push(l) + self.1.push(l) + self.2.push(l) }
    }
}

impl Push for (bool, i64, i64) {
    unsafe fn push(self, l: State) -> c_int {
        // SAFETY: as for bool and i64.
        unsafe { self.0.push(l) + self.1.push(l) + self.2.push(l) }
    }
}

impl Push for [i64; 5] {
    unsafe fn push(self, l: State) -> c_int {
        // SAFETY: as for i64; a C function has LUA_MINSTACK (20) free slots.
        unsafe { self.into_iter().map(|n| n.push(l)).sum() }
    }
}

impl Push for f64 {
    unsafe fn push(self, l: State) -> c_int {
        // SAFETY: as for i64.
        unsafe { ffi::lua_pushnumber(l, self) };
        1
    }
}

impl Push for bool {
    unsafe fn push(self, l: State) -> c_int {
        // SAFETY: as for i64.
        unsafe { ffi::lua_pushboolean(l, c_int::from(self)) };
        1
    }
}

impl Push for Name {
    #[inline(always)]
    unsafe fn push(self, l: State) -> c_int {
        // SAFETY: `l` runs a function of this module (the trait's contract).
        unsafe { push_name(l, self) };
        1
    }
}

/// Nothing, or the value.
impl<T: Push> Push for Option<T> {
    #[inline(always)]
    unsafe fn push(self, l: State) -> c_int {
        match self {
            // SAFETY: the trait's contract, forwarded to the value's push.
            Some(v) => unsafe { v.push(l) },
            None => 0,
        }
    }
}

/// Runs one Lua call through the three phases (module comment). `strings` are the stack
/// indices of the arguments read as strings, converted from numbers in place first (at most
/// `args::MAX_STRINGS`).
///
/// # Safety
/// `l` must be the state that called a C function of this module (with its upvalues), and
/// `body` must keep the body contract (module comment).
#[inline(always)]
pub unsafe fn call<R: Push, const N: usize>(
    l: State,
    strings: [c_int; N],
    body: impl FnOnce(Args<'_>) -> Ret<R> + std::panic::UnwindSafe,
) -> c_int {
    // SAFETY: `l` is the calling state; every phase keeps to its rules (module comment), and
    // the borrows of `args` end with the body (a reply is 'static).
    unsafe {
        let args = Args::prepare(l, strings);
        // A panic's payload is dropped here, before anything can raise.
        let outcome = std::panic::catch_unwind(move || body(args)).unwrap_or(Err(Raise::Msg(
            c"enet: internal error (Rust panic), please report it",
        )));
        // The host locks the body took (background.rs) are released before Lua can run, in
        // each arm, differently: one test shared by both (or hoisted above them, were they
        // the same) joins the arms, and LLVM then reloads the outcome and tests it again after
        // it (15 instructions more per idle `service` than the test itself).
        match outcome {
            Ok(reply) => {
                crate::held::release_all();
                reply.push(l)
            }
            Err(e) => {
                crate::held::release_all_raising();
                // Type checks leave metatables above the arguments (args.rs); the message
                // describes the arguments themselves.
                ffi::lua_settop(l, args.top());
                raise(l, e)
            }
        }
    }
}

/// Runs `work` under `catch_unwind` outside the method protocol (module setup, finalizers):
/// a panic becomes `Err`.
pub fn catch<T: Copy>(work: impl FnOnce() -> T) -> Result<T, Raise> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
        .map_err(|_| Raise::Msg(c"enet: internal error (Rust panic), please report it"))
}

/// Generates each function of a class and its entry in the class's table at once, one line
/// per Lua function:
///
/// - `"name" => body`: the body is `unsafe fn body(args: Args) -> Ret<R>`;
/// - `"name" [i, j] => body`: arguments `i` and `j` are read as strings (at most two: a third
///   index is a compile error);
/// - `"name" => helper(a, b)`: the body is `helper(args, a, b)`, for the getters and setters
///   that differ only by the field they read (`host_integer(|h| h.peerCount as u64)`).
macro_rules! methods {
    ($($name:literal $([$s1:literal $(, $s2:literal)?])? => $body:ident $(($($arg:expr),+ $(,)?))?,)*) => {
        &[$(($name, {
            /// The Lua-callable function (see lua.rs for the call protocol).
            unsafe extern "C-unwind" fn f(l: $crate::lua::State) -> ::std::os::raw::c_int {
                // SAFETY: Lua calls this with a valid state, as a function of this module; the
                // body (or helper) keeps the body contract, and lua::call calls it as it asks.
                unsafe {
                    $crate::lua::call(l, [$($s1 $(, $s2)?)?], |args| $body(args $($(, $arg)+)?))
                }
            }
            f as $crate::lua::ffi::lua_CFunction
        }),)*]
    };
}
pub(crate) use methods;

/// A class's functions, as `methods!` lists them.
pub type Methods = &'static [(&'static CStr, ffi::lua_CFunction)];

/// Pushes the constant `k` of the module (a name, a metatable, a helper function).
///
/// # Safety
/// `l` must run a function of this module.
#[inline(always)]
pub unsafe fn push_constant(l: State, k: ffi::lua_Integer) {
    // SAFETY: the upvalue is the constants table built in lib.rs; rawgeti never allocates.
    unsafe {
        ffi::lua_rawgeti(l, ffi::lua_upvalueindex(CONSTANTS), k);
    }
}

/// Pushes an interned name.
///
/// # Safety
/// As [`push_constant`].
#[inline(always)]
pub unsafe fn push_name(l: State, name: Name) {
    // SAFETY: the caller runs a function of this module (this fn's contract), so the constants
    // upvalue exists; the names sit at 1.. in declaration order.
    unsafe { push_constant(l, name as ffi::lua_Integer + 1) }
}

/// Pushes a binary-safe Lua string.
///
/// # Safety
/// `l` must be a valid state with a free stack slot. Allocates (see the module comment).
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

/// Raises `e` as a plain string error, assembled on the Lua stack.
///
/// # Safety
/// `l` must run a function of this module; no Rust value with a destructor may be alive in
/// any frame of ours.
#[cold]
#[inline(never)]
pub unsafe fn raise(l: State, e: Raise) -> ! {
    // SAFETY: every string is copied into Lua before it is used; nothing here owns memory.
    unsafe {
        match e {
            Raise::Arg(n, text) => {
                ffi::luaL_argerror(l, n, text.as_ptr());
            }
            Raise::Type(n, expected) => {
                push_type_name(l, n);
                let got = ffi::lua_tolstring(l, -1, std::ptr::null_mut());
                let message = ffi::lua_pushfstring(
                    l,
                    c"%s expected, got %s".as_ptr(),
                    expected.as_ptr(),
                    got,
                );
                ffi::luaL_argerror(l, n, message);
            }
            Raise::Msg(text) => {
                ffi::luaL_where(l, 1);
                ffi::lua_pushstring(l, text.as_ptr());
                ffi::lua_concat(l, 2);
            }
            Raise::MsgArg(prefix, n) => {
                // As the reference's luaL_error("...%s", s): the string up to its first NUL.
                let arg = ffi::lua_tolstring(l, n, std::ptr::null_mut());
                ffi::luaL_where(l, 1);
                ffi::lua_pushstring(l, prefix.as_ptr());
                ffi::lua_pushstring(l, if arg.is_null() { c"".as_ptr() } else { arg });
                ffi::lua_concat(l, 3);
            }
        }
        ffi::lua_error(l)
    }
}

/// Pushes the type name of argument `idx` as `luaL_typeerror` names it on this Lua version.
///
/// # Safety
/// `l` is a valid state with a free stack slot; `idx` an acceptable index.
unsafe fn push_type_name(l: State, idx: c_int) {
    // SAFETY: queries on a valid state; at most one value is left on the stack.
    unsafe {
        #[cfg(any(feature = "lua53", feature = "lua54", feature = "lua55"))]
        {
            // luaL_getmetafield pushes the field unless it is nil.
            match ffi::luaL_getmetafield(l, idx, c"__name".as_ptr()) {
                ffi::LUA_TNIL => {}
                ffi::LUA_TSTRING => return,
                _ => ffi::lua_pop(l, 1),
            }
            if ffi::lua_type(l, idx) == ffi::LUA_TLIGHTUSERDATA {
                ffi::lua_pushstring(l, c"light userdata".as_ptr());
                return;
            }
        }
        ffi::lua_pushstring(l, ffi::lua_typename(l, ffi::lua_type(l, idx)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi as enet;

    #[test]
    fn names_and_their_texts_agree() {
        assert_eq!(NAME_LIST.len(), Name::Zombie as usize + 1);
        assert_eq!(NAME_LIST[Name::Type as usize], c"type");
        assert_eq!(NAME_LIST[Name::Unknown as usize], c"unknown");
        assert_eq!(NAME_LIST[Name::Zombie as usize], c"zombie");
    }

    #[test]
    fn state_names_follow_enet_peer_states() {
        let states = [
            (enet::ENET_PEER_STATE_DISCONNECTED, "disconnected"),
            (enet::ENET_PEER_STATE_CONNECTING, "connecting"),
            (
                enet::ENET_PEER_STATE_ACKNOWLEDGING_CONNECT,
                "acknowledging_connect",
            ),
            (
                enet::ENET_PEER_STATE_CONNECTION_PENDING,
                "connection_pending",
            ),
            (
                enet::ENET_PEER_STATE_CONNECTION_SUCCEEDED,
                "connection_succeeded",
            ),
            (enet::ENET_PEER_STATE_CONNECTED, "connected"),
            (enet::ENET_PEER_STATE_DISCONNECT_LATER, "disconnect_later"),
            (enet::ENET_PEER_STATE_DISCONNECTING, "disconnecting"),
            (
                enet::ENET_PEER_STATE_ACKNOWLEDGING_DISCONNECT,
                "acknowledging_disconnect",
            ),
            (enet::ENET_PEER_STATE_ZOMBIE, "zombie"),
        ];
        for (state, text) in states {
            let name = Name::of_state(state);
            assert_eq!(NAME_LIST[name as usize].to_str().unwrap(), text);
        }
        assert_eq!(Name::of_state(10), Name::Unknown);
        assert_eq!(Name::of_state(-1), Name::Unknown);
    }
}
