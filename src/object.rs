//! Object lifetime: how an ENet host is tied to Lua objects, when it may be freed, and what a
//! finalizer may do meanwhile. Every class file trusts these rules instead of re-deriving them.
//!
//! ```text
//!   host userdata H ──user value──▶ peer table T ◀──user value── peer userdata P (per slot)
//!   [HostUd: core ptr]               T[slot+1] = P                [PeerUd: core ptr, slot]
//!                                    T[0] = per-peer data (slot+1 -> any Lua value)
//!                                    T[H] = true, T[C] = true
//!   core userdata C [HostCore: the ENetHost*, per-slot info, admission]
//! ```
//!
//! - The ENet host is owned by the **core** C, a userdata that a script reaches only with the
//!   debug library (its metatable is private: on no object a script holds), whose `__gc`
//!   destroys the host. So destruction never depends on a field a script can remove:
//!   `getmetatable(host).__gc = nil` cannot leak (docs/architecture.md, "Object lifetime"). A
//!   script that reaches C and its `__gc` with the debug library and calls it only destroys the
//!   host early, as `host:destroy()` would ([`core_gc`]).
//! - H and every P reach T, and T reaches H and C: a peer keeps its host alive, the same slot
//!   always gives the same P, and peers of different hosts are never equal. T holds its peers
//!   strongly (at most one small object per slot, freed with the host): a weak table would
//!   lose a peer that a finalizer resurrects (Lua clears weak values of objects reachable only
//!   from finalized ones; 5.1 and LuaJIT keep clearing a finalized userdata forever), and the
//!   slot would then hand out a second object. Without the debug library only this module
//!   reaches T.
//! - H's and P's blocks point into C's block. That memory lives while H or P is reachable, and
//!   while any of them is being finalized (Lua keeps everything a finalized object reaches
//!   until the next cycle), so following the pointer from an object on the stack is always safe.
//! - A method body reaches a core by shared reference only ([`HostUd::core`],
//!   [`PeerUd::core`]), and what it changes there sits in `Cell`s: two arguments of one call may
//!   be the same host, or a host and one of its peers, so two references to one core can be
//!   live at once, and both are `&`. A `&mut HostCore` is made only where nothing else can see
//!   the core: right after it is created (host.rs, `create`), and in its finalizer
//!   ([`core_gc`]), which only Lua runs, and Lua code never runs during a body.
//! - `host:destroy()`, H's `__gc`/`__close` and C's `__gc` all end in [`HostCore::destroy`],
//!   which runs once; afterwards `enet` is null and every use raises `Tried to index a nil
//!   host!` (peers: `enet: peer of a destroyed host`).
//! - A method body (lua.rs) runs no Lua code, so the ENet host cannot vanish under it; the
//!   reply phase that follows may run finalizers, and uses only plain data and these objects.
use crate::background::Background;
use crate::ffi::{self as enet, ENetAddress, ENetHost, ENetPeer};
use crate::lua::{self, ffi, push_constant, Push, Raise, State, HOST_MT, K_CORE_MT, PEER_MT};
use crate::published::Access;
use std::cell::Cell;
use std::os::raw::c_int;
use std::ptr;

/// Where the per-peer data table sits in the peer table (peers are at slot + 1).
const T_DATA: ffi::lua_Integer = 0;

/// The block of a host userdata.
#[repr(C)]
pub struct HostUd {
    core: *mut HostCore,
}

/// The block of a peer userdata.
#[repr(C)]
pub struct PeerUd {
    core: *mut HostCore,
    /// 0-based slot in the host's peer array (always < peerCount).
    slot: usize,
}

/// The block of a host's core userdata: everything the module keeps for one ENet host.
/// Lua frees this memory without running Rust destructors, so [`HostCore::finalize`] releases
/// what it owns. Bodies share it (module comment): what they change is in `Cell`s.
pub struct HostCore {
    /// The ENet host; null before creation, once destroyed, and while the background thread
    /// has it ([`HostCore::live`]'s cold path reaches it then).
    enet: Cell<*mut ENetHost>,
    /// What the binding remembers per peer slot (empty until the host exists).
    slots: Vec<Slot>,
    /// Who may connect.
    pub admission: Admission,
    /// Bound to `"[::]"` written out: its socket address prints as `[::]`, not as the
    /// `0.0.0.0` that `"*"` and unbound hosts keep (docs/api.md, "Addresses").
    pub bound_ipv6_any: bool,
    /// The thread of `host:background(true)`, if it runs (background.rs).
    pub background: Background,
}

/// What the binding remembers about one peer slot: the counters of its current connection,
/// who owns its per-peer data, and its address once the host is gone.
#[derive(Default)]
pub struct Slot {
    /// The connection (`connectID`) the counters belong to.
    connect_id: Cell<u32>,
    messages_sent: Cell<u64>,
    bytes_sent: Cell<u64>,
    messages_received: Cell<u64>,
    bytes_received: Cell<u64>,
    /// The connection that `peer:set_data` was called for.
    data_connect_id: Cell<u32>,
    /// The slot's address when the host was destroyed, for `tostring(peer)` afterwards.
    last_address: Cell<ENetAddress>,
}

/// The four message counters of a connection, in `peer:stats()` order: messages sent, bytes
/// sent, messages received, bytes received.
pub type Counters = [u64; 4];

impl Slot {
    /// One message of `bytes` sent on the current connection.
    pub fn count_sent(&self, bytes: usize) {
        self.messages_sent.set(self.messages_sent.get() + 1);
        self.bytes_sent.set(self.bytes_sent.get() + bytes as u64);
    }

    /// One message of `bytes` received on the current connection.
    pub fn count_received(&self, bytes: usize) {
        self.messages_received.set(self.messages_received.get() + 1);
        self.bytes_received
            .set(self.bytes_received.get() + bytes as u64);
    }

    pub fn counters(&self) -> Counters {
        [
            self.messages_sent.get(),
            self.bytes_sent.get(),
            self.messages_received.get(),
            self.bytes_received.get(),
        ]
    }

    /// The connection whose per-peer data the slot holds.
    pub fn data_connect_id(&self) -> u32 {
        self.data_connect_id.get()
    }

    pub fn set_data_connect_id(&self, connect_id: u32) {
        self.data_connect_id.set(connect_id);
    }
}

/// Who may open a connection to a host. ENet has one knob for it, `duplicatePeers` (how many
/// peers may come from one IP address; 0 refuses everyone); refusing connections holds it at 0
/// while remembering the value the program chose. A host created without an address starts
/// refusing ([`Admission::for_new_host`]). It lives in the host's core, which bodies share
/// (module comment), so its fields are `Cell`s. The Lua methods that change it
/// (`host:refuse_connections`, `host:duplicate_peers`) are in config.rs.
#[derive(Default)]
pub struct Admission {
    refusing: Cell<bool>,
    /// The program's `duplicate_peers` while refusing (ENet's field holds 0 meanwhile).
    duplicate_peers: Cell<usize>,
}

impl Admission {
    /// What a new host admits: anyone when it was given an address to bind, nobody when it was
    /// not, as lua-enet's documentation says of such a host ("can not be connected to"; ENet
    /// itself accepted connections on whatever port the OS gave its first datagram).
    /// `host:refuse_connections(false)` opens it.
    pub fn for_new_host(host: &mut ENetHost, bound: bool) -> Admission {
        let admission = Admission::default();
        admission.set_refusing(host, !bound);
        admission
    }

    pub fn refusing(&self) -> bool {
        self.refusing.get()
    }

    /// The program's setting for peers per IP address.
    pub fn duplicate_peers(&self, host: &ENetHost) -> usize {
        if self.refusing.get() {
            self.duplicate_peers.get()
        } else {
            host.duplicatePeers
        }
    }

    pub fn set_duplicate_peers(&self, host: &mut ENetHost, n: usize) {
        if self.refusing.get() {
            self.duplicate_peers.set(n);
        } else {
            host.duplicatePeers = n;
        }
    }

    pub fn set_refusing(&self, host: &mut ENetHost, on: bool) {
        if on == self.refusing.get() {
            return;
        }
        if on {
            self.duplicate_peers.set(host.duplicatePeers);
            host.duplicatePeers = 0;
        } else {
            host.duplicatePeers = self.duplicate_peers.get();
        }
        self.refusing.set(on);
    }
}

impl HostCore {
    /// The live ENet host, or the reference's error once it is destroyed. A background host's
    /// lock is held by the body from here on, and every slot in use published when it ends.
    #[inline]
    pub fn live(&self) -> Result<*mut ENetHost, Raise> {
        self.live_as(Access::ALL)
    }

    /// [`HostCore::live`], with what the release of a background host's lock does (the test is
    /// the one a host with no thread makes anyway: `access` costs nothing then).
    #[inline(always)]
    pub fn live_as(&self, access: Access) -> Result<*mut ENetHost, Raise> {
        let host = self.enet.get();
        if host.is_null() {
            return self.live_background(access);
        }
        Ok(host)
    }

    /// [`HostCore::live`] for `service` and `check_events`: `true` with the host while its thread
    /// runs, **without** its lock (`Background::next_event` takes it), from the cold path.
    #[inline(always)]
    pub fn live_events(&self) -> Result<(*mut ENetHost, bool), Raise> {
        let host = self.enet.get();
        if host.is_null() {
            return self.live_events_background();
        }
        Ok((host, false))
    }

    #[cold]
    #[inline(never)]
    fn live_events_background(&self) -> Result<(*mut ENetHost, bool), Raise> {
        Ok((self.background.host().ok_or(NIL_HOST)?, true))
    }

    /// The ENet host of a background host, its lock held by the body; or the destroyed error.
    #[cold]
    #[inline(never)]
    fn live_background(&self, access: Access) -> Result<*mut ENetHost, Raise> {
        self.background.hold(access, None).ok_or(NIL_HOST)
    }

    /// Starts the background thread (background.rs) for the live host; `false` (the reason in
    /// `errno`) when it cannot. The host is then reached only through `live`'s cold path.
    pub fn start_background(&self) -> bool {
        let host = self.enet.get();
        if host.is_null() {
            return self.background.running();
        }
        // SAFETY: the live host of this core, which reaches it only through the background's
        // `hold` while the thread runs, and joins it (`stop`) before destroying the host.
        if !unsafe { self.background.start(host) } {
            return false;
        }
        self.enet.set(ptr::null_mut());
        true
    }

    /// Stops and joins the background thread, if it runs, and takes the host back.
    pub fn stop_background(&self) {
        if let Some(host) = self.background.stop() {
            self.enet.set(host);
        }
    }

    /// Makes room for `peers` slots before the ENet host exists; `false` when memory is
    /// short (a failure value, never an abort).
    pub fn reserve(&mut self, peers: usize) -> bool {
        let mut slots = Vec::new();
        if slots.try_reserve_exact(peers).is_err() {
            return false;
        }
        slots.resize_with(peers, Slot::default);
        self.slots = slots;
        true
    }

    /// Takes ownership of a new ENet host, whose peer count `reserve` made room for.
    pub fn adopt(&mut self, host: *mut ENetHost) {
        self.enet.set(host);
    }

    /// The slot's record for connection `connect_id` (the peer's `connectID` now): its counters
    /// restart when a new connection is seen on the slot.
    pub fn connection(&self, slot: usize, connect_id: u32) -> Option<&Slot> {
        let info = self.slots.get(slot)?;
        if connect_id != 0 && info.connect_id.get() != connect_id {
            info.connect_id.set(connect_id);
            for counter in [
                &info.messages_sent,
                &info.bytes_sent,
                &info.messages_received,
                &info.bytes_received,
            ] {
                counter.set(0);
            }
        }
        Some(info)
    }

    /// The slot's record without touching its counters (a destroyed host keeps them).
    pub fn slot(&self, slot: usize) -> Option<&Slot> {
        self.slots.get(slot)
    }

    /// Destroys the ENet host once (after joining its thread); every slot keeps its last address.
    pub fn destroy(&self) {
        self.stop_background();
        let host = self.enet.replace(ptr::null_mut());
        if host.is_null() {
            return;
        }
        // SAFETY: `host` was live until now, with `peerCount` peers; nothing else frees it.
        unsafe {
            for (i, info) in self.slots.iter().enumerate().take((*host).peerCount) {
                info.last_address.set((*(*host).peers.add(i)).address);
            }
            enet::enet_host_destroy(host);
        }
    }

    /// Releases everything the core owns (its finalizer).
    fn finalize(&mut self) {
        self.destroy();
        self.slots = Vec::new();
    }
}

impl HostUd {
    /// The host's core. Safe: a `&HostUd` exists only while its userdata is alive, which keeps
    /// the core alive, and `core` is set before the block gets its metatable.
    #[inline]
    pub fn core(&self) -> &HostCore {
        // SAFETY: as above; cores are shared by `&` only while Lua code cannot run (module
        // comment), so this reference aliases no `&mut`.
        unsafe { &*self.core }
    }
}

/// A peer's method once its host is destroyed.
const DESTROYED: Raise = Raise::Msg(c"enet: peer of a destroyed host");
/// A host's method once it is destroyed (the reference's words).
const NIL_HOST: Raise = Raise::Msg(c"Tried to index a nil host!");

impl PeerUd {
    pub fn slot(&self) -> usize {
        self.slot
    }

    /// The host core this peer belongs to. Safe: a `&PeerUd` exists only while its userdata is
    /// alive, which keeps the core alive (module comment).
    #[inline]
    pub fn core(&self) -> &HostCore {
        // SAFETY: as above; push_peer sets `core` before the block gets its metatable, and cores
        // are shared by `&` only (module comment).
        unsafe { &*self.core }
    }

    /// The live ENet peer, or a clear error once the host is destroyed. A background host's
    /// lock is held by the body from here on, and the slot published when it ends.
    #[inline]
    pub fn live(&self) -> Result<*mut ENetPeer, Raise> {
        self.live_as(Access::READ)
    }

    /// [`PeerUd::live`], with what a background host's release does besides publishing the slot.
    #[inline(always)]
    pub fn live_as(&self, access: Access) -> Result<*mut ENetPeer, Raise> {
        let host = self.core().enet.get();
        if host.is_null() {
            return self.live_background(access);
        }
        // SAFETY: a live host has `peerCount` peers, and `slot < peerCount` (push_peer's
        // contract), so the result stays inside its peer array.
        Ok(unsafe { (*host).peers.add(self.slot) })
    }

    #[cold]
    #[inline(never)]
    fn live_background(&self, access: Access) -> Result<*mut ENetPeer, Raise> {
        let background = &self.core().background;
        let host = background.hold(access, Some(self.slot)).ok_or(DESTROYED)?;
        // SAFETY: as in `live_as`: the thread's host is the live one.
        Ok(unsafe { (*host).peers.add(self.slot) })
    }

    /// One field of the live peer: `read` of the ENet peer, or the slot's published `field`
    /// (published.rs) while the thread runs, without its lock.
    #[inline(always)]
    pub fn read(&self, read: fn(&ENetPeer) -> u32, field: usize) -> Result<u32, Raise> {
        let host = self.core().enet.get();
        if host.is_null() {
            return self.published(field);
        }
        // SAFETY: as in `live_as`; the peer is read by shared reference during `read` only
        // (a body runs no Lua code, and nothing else uses the host meanwhile).
        Ok(read(unsafe { &*(*host).peers.add(self.slot) }))
    }

    #[cold]
    #[inline(never)]
    fn published(&self, field: usize) -> Result<u32, Raise> {
        self.core()
            .background
            .published(self.slot, field)
            .ok_or(DESTROYED)
    }

    /// The slot's current address, or the last known one once the host is gone.
    pub fn address(&self) -> ENetAddress {
        match self.live() {
            // SAFETY: a live host's peer, read at once.
            Ok(peer) => unsafe { (*peer).address },
            Err(_) => self
                .core()
                .slot(self.slot)
                .map(|i| i.last_address.get())
                .unwrap_or_default(),
        }
    }
}

/// Creates a host object without an ENet host yet (see [`HostCore::adopt`]) and leaves it on
/// the top of the stack. Everything is allocated before ENet is asked for anything, so a raise
/// here (out of memory, a finalizer's error) leaves only garbage behind.
///
/// # Safety
/// `l` must run a function of this module, with room for six values.
pub unsafe fn push_new_host(l: State) -> *mut HostCore {
    // SAFETY: plain object construction; each block is initialised before its metatable is set
    // (so neither a finalizer nor a type check can see it uninitialised).
    unsafe {
        let ud = ffi::lua_newuserdata(l, std::mem::size_of::<HostUd>()) as *mut HostUd;
        ptr::write(
            ud,
            HostUd {
                core: ptr::null_mut(),
            },
        );
        let core = ffi::lua_newuserdata(l, std::mem::size_of::<HostCore>()) as *mut HostCore;
        ptr::write(
            core,
            HostCore {
                enet: Cell::new(ptr::null_mut()),
                slots: Vec::new(),
                admission: Admission::default(),
                bound_ipv6_any: false,
                background: Background::new(),
            },
        );
        push_constant(l, K_CORE_MT);
        ffi::lua_setmetatable(l, -2);
        // Stack: H, C. The peer table T.
        ffi::lua_createtable(l, 0, 3);
        ffi::lua_createtable(l, 0, 0);
        ffi::lua_rawseti(l, -2, T_DATA);
        for owner in [-3, -2] {
            ffi::lua_pushvalue(l, owner);
            ffi::lua_pushboolean(l, 1);
            ffi::lua_rawset(l, -3);
        }
        // Stack: H, C, T.
        ffi::lua_setuservalue(l, -3);
        ffi::lua_settop(l, -2);
        (*ud).core = core;
        ffi::lua_pushvalue(l, ffi::lua_upvalueindex(HOST_MT));
        ffi::lua_setmetatable(l, -2);
        core
    }
}

/// The peer object of slot `slot` of the host userdata at stack index `host`, as a reply.
#[derive(Clone, Copy)]
pub struct PeerObject {
    pub host: c_int,
    pub slot: usize,
}

impl Push for PeerObject {
    unsafe fn push(self, l: State) -> c_int {
        // SAFETY: the body that made this checked the host at `host` has (or had) `slot`.
        unsafe { push_peer(l, self.host, self.slot) };
        1
    }
}

/// Pushes the one peer object of slot `slot` of the host userdata at stack index `host`,
/// creating and keeping it on first use.
///
/// # Safety
/// `l` must run a function of this module; `host` is a host userdata of this module whose ENet
/// host has (or had) `slot`.
pub unsafe fn push_peer(l: State, host: c_int, slot: usize) {
    // SAFETY: the peer table is the host's user value (push_new_host); the new peer block is
    // initialised before anything can observe it, from the host block, which is on the stack.
    unsafe {
        let key = slot as ffi::lua_Integer + 1;
        ffi::lua_getuservalue(l, host);
        if ffi::lua_rawgeti(l, -1, key) == ffi::LUA_TUSERDATA {
            ffi::lua_replace(l, -2);
            return;
        }
        ffi::lua_settop(l, -2);
        // Stack: T.
        let ud = ffi::lua_newuserdata(l, std::mem::size_of::<PeerUd>()) as *mut PeerUd;
        let core = (*(ffi::lua_touserdata(l, host) as *mut HostUd)).core;
        ptr::write(ud, PeerUd { core, slot });
        ffi::lua_pushvalue(l, ffi::lua_upvalueindex(PEER_MT));
        ffi::lua_setmetatable(l, -2);
        ffi::lua_pushvalue(l, -2);
        ffi::lua_setuservalue(l, -2);
        ffi::lua_pushvalue(l, -1);
        ffi::lua_rawseti(l, -3, key);
        // Stack: T, P.
        ffi::lua_replace(l, -2);
    }
}

/// Pushes the per-peer data store of the peer userdata at stack index 1.
///
/// # Safety
/// `l` runs a peer method of this module (reply phase) whose argument 1 is a checked peer.
unsafe fn push_data_store(l: State) {
    // SAFETY: argument 1 is a checked peer; its user value is its host's peer table, which
    // push_new_host made with the data table in it.
    unsafe {
        ffi::lua_getuservalue(l, 1);
        ffi::lua_rawgeti(l, -1, T_DATA);
        ffi::lua_replace(l, -2);
    }
}

/// `peer:set_data(value)`, the Lua part: stores argument 2 for the peer's slot (argument 1
/// is a checked peer of that slot).
#[derive(Clone, Copy)]
pub struct SetData(pub usize);

impl Push for SetData {
    unsafe fn push(self, l: State) -> c_int {
        // SAFETY: a raw set into the module's own table.
        unsafe {
            ffi::lua_settop(l, 2);
            push_data_store(l);
            ffi::lua_pushvalue(l, 2);
            ffi::lua_rawseti(l, -2, self.0 as ffi::lua_Integer + 1);
        }
        0
    }
}

/// `peer:get_data()`, the Lua part: the value stored for `slot`, cleared first if it belongs
/// to an earlier connection (`stale`).
#[derive(Clone, Copy)]
pub struct GetData {
    pub slot: usize,
    pub stale: bool,
}

impl Push for GetData {
    unsafe fn push(self, l: State) -> c_int {
        // SAFETY: raw reads and writes of the module's own table.
        unsafe {
            ffi::lua_settop(l, 1);
            push_data_store(l);
            let key = self.slot as ffi::lua_Integer + 1;
            if self.stale {
                ffi::lua_pushnil(l);
                ffi::lua_rawseti(l, -2, key);
            }
            ffi::lua_rawgeti(l, -1, key);
        }
        1
    }
}

/// `__gc` of a host's core: destroys the ENet host if nothing did before, and frees the rest.
///
/// Lua calls it as the finalizer of a core; a script can also reach it with the debug library
/// (the core metatable is in the constants table and the registry) and call it with anything.
/// It acts only on a core (the private metatable proves one), and running it early on a live
/// core is `host:destroy()`: the host's methods then raise `Tried to index a nil host!`, its
/// peers `enet: peer of a destroyed host`, and a second run does nothing. The slot records it
/// frees are read through `Option`s only (a destroyed host's `tostring(peer)` falls back to
/// `0.0.0.0:0`).
///
/// # Safety
/// Called by Lua only, with a valid state (any arguments).
pub unsafe extern "C-unwind" fn core_gc(l: State) -> c_int {
    // SAFETY: the metatable (private, compared through the constants table) proves a HostCore:
    // no other object gets it, except through debug.setmetatable, which is outside the safety
    // claim (README, "Known limits"); finalize runs no Lua code, and a panic in it is caught and
    // dropped before returning.
    unsafe {
        let core = ffi::lua_touserdata(l, 1) as *mut HostCore;
        if core.is_null() || ffi::lua_getmetatable(l, 1) == 0 {
            return 0;
        }
        push_constant(l, K_CORE_MT);
        let ours = ffi::lua_rawequal(l, -1, -2) != 0;
        ffi::lua_settop(l, 1);
        if ours {
            let _ = lua::catch(|| (*core).finalize());
        }
        0
    }
}
