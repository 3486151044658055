//! Background servicing (`host:background(true)`, docs/api.md "Staying connected while the game
//! stalls"): an OS thread owned by the host runs ENet for it, so acknowledgements, pings,
//! retransmissions, timeouts and queued sends do not wait for Lua's next `service`.
//!
//! - The thread never touches the Lua state, nor the host's core (Lua's memory): it has the
//!   ENet host, its socket and a [`Shared`] block.
//! - While the thread runs, the host's core keeps a null ENet host pointer (object.rs), so a
//!   method body finds out that the host is in background mode on the cold path of the null
//!   test it makes anyway: a host that never starts its thread pays nothing per call.
//! - One lock per host ([`Shared::lock`]) guards the ENet host. The thread waits on the socket
//!   and its [`Waker`] **without** it, then takes it and calls `enet_host_service(host, NULL,
//!   0)`: with no event to fill, ENet dispatches nothing; received packets stay queued on their
//!   peers (counted by the held-data limits, vendor/enet/patches/0014-held-data-limits.patch)
//!   and connects and disconnects wait in ENet's dispatch queue, bounded by the peer count. So
//!   there is no queue of our own: Lua's `service`/`check_events` take one event from ENet
//!   (`enet_host_check_events`).
//! - A method body takes the lock when it reaches the live host or a peer
//!   ([`Background::hold`], called by the cold paths of `HostCore::live` and `PeerUd::live`) and
//!   `lua::call` releases it when the body ends ([`release_all`]), before the reply phase, where
//!   Lua (and a finalizer) may run: no lock is ever held while Lua code runs.
//! - The getters of the peer fields the thread changes (state, round trip times, MTU, ...) take
//!   no lock: each peer slot has a row of atomics ([`FIELDS`]) that the holder of the lock
//!   publishes (relaxed stores) after the thread's every pass and after every body that held
//!   the lock (the slot it reached, or every slot in use after a host method), and a getter
//!   reads with a relaxed load. ENet's own fields are only ever touched under the lock, the
//!   rows only through atomics, so no memory is accessed both ways.
//! - A body that queued something to send asks for a wake-up ([`Access::WAKE`]), made after its
//!   lock is released and only when none is pending: a burst of sends costs one wake-up, and the
//!   thread's next pass sends everything queued.
//! - `service(timeout)` waits on [`Shared::ready`], which the thread signals after a pass that
//!   left ENet's dispatch queue non-empty.
//! - Stopping (`background(false)`, `HostCore::destroy`, so also `__gc`, `__close` and
//!   `lua_close`) sets [`Shared::stop`], wakes the thread and joins it before the ENet host is
//!   destroyed.
use crate::ffi::{self as enet, ENetEvent, ENetHost, ENetPeer, ENetSocket};
use crate::waker::{Waker, Woken};
use std::cell::{Cell, RefCell, UnsafeCell};
use std::ffi::CStr;
use std::os::raw::c_int;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// The longest the thread sleeps while any peer slot is in use: ENet's timers (pings every
/// 500 ms, retransmissions after a round trip and its variance, timeouts) are checked at least
/// this often. A datagram or a wake-up ends the sleep at once.
const TICK_MS: i32 = 10;
/// The longest it sleeps while no slot is in use (only a datagram can start work then).
const IDLE_MS: i32 = 1000;
/// How long a wake-up from Lua waits for more sends before the pass that sends them.
const GATHER_US: u64 = 100;

/// The counters of `host:background_stats()`, in this order.
const PASSES: usize = 0;
const SOCKET_WAKEUPS: usize = 1;
const LUA_WAKEUPS: usize = 2;
const TIMER_WAKEUPS: usize = 3;
const BUSY_US: usize = 4;
const ERRORS: usize = 5;
pub const COUNTERS: usize = 6;
/// Their names in `host:background_stats()`.
pub const COUNTER_NAMES: [&CStr; COUNTERS] = [
    c"passes",
    c"socket_wakeups",
    c"lua_wakeups",
    c"timer_wakeups",
    c"busy_us",
    c"errors",
];

/// The peer fields published per slot for the lock-free getters (peer.rs), by index.
pub mod field {
    pub const STATE: usize = 0;
    pub const ROUND_TRIP_TIME: usize = 1;
    pub const LAST_ROUND_TRIP_TIME: usize = 2;
    pub const ROUND_TRIP_TIME_VARIANCE: usize = 3;
    pub const CONNECT_ID: usize = 4;
    pub const MTU: usize = 5;
    pub const CHANNEL_COUNT: usize = 6;
    pub const PACKET_LOSS: usize = 7;
}
/// How many fields a slot's row has.
pub const FIELDS: usize = 8;

/// One slot's published fields (a 32-byte row).
type Row = [AtomicU32; FIELDS];

/// The fields of `peer`, in [`field`] order.
fn fields(peer: &ENetPeer) -> [u32; FIELDS] {
    [
        peer.state as u32,
        peer.roundTripTime,
        peer.lastRoundTripTime,
        peer.roundTripTimeVariance,
        peer.connectID,
        peer.mtu,
        peer.channelCount as u32,
        peer.packetLoss,
    ]
}

/// What a body's access to a background host asks for when its lock is released: bits.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Access(u8);

impl Access {
    /// Reads only, or changes nothing a getter publishes: nothing to do.
    pub const READ: Access = Access(0);
    /// Publish every slot in use (a host method, which may change any peer).
    pub const ALL: Access = Access(1);
    /// Wake the thread once the lock is released: the body queued something to send.
    pub const WAKE: Access = Access(2);

    /// Both.
    pub const fn with(self, other: Access) -> Access {
        Access(self.0 | other.0)
    }

    const fn has(self, other: Access) -> bool {
        self.0 & other.0 != 0
    }
}

/// What the Lua side and the thread share.
struct Shared {
    /// Held by whoever uses the ENet host: the thread for one pass, a method body for its
    /// body phase.
    lock: Mutex<()>,
    /// Signalled (lock released) after a pass that left events to dispatch.
    ready: Condvar,
    stop: AtomicBool,
    /// A wake-up is on its way: `wake` writes the waker only when this was clear.
    wake_pending: AtomicBool,
    /// Lua queued something to send since the thread's last pass began (set by `wake`, taken
    /// by the thread before each pass, which then sends it).
    queued: AtomicBool,
    /// The thread is between two waits (its next wait comes after it looks at `queued`
    /// again), so `wake` needs no system call.
    awake: AtomicBool,
    /// How many Lua bodies wait on `ready` (the thread signals it only then: a signal is a
    /// system call).
    waiting: AtomicUsize,
    /// ENet's dispatch queue was not empty when its last user released the lock: a
    /// `service(0)`/`check_events` that finds it clear returns no event without the lock (a
    /// hint only: a stale value costs a call's event or a lock, never correctness).
    events: AtomicBool,
    waker: Waker,
    counters: [AtomicU64; COUNTERS],
}

impl Shared {
    /// Tells the thread that Lua queued something to send, waking it only if it sleeps and no
    /// wake-up is on its way: a burst of sends costs one system call at most, none while the
    /// thread runs (it takes `queued` before its next wait and makes another pass).
    fn wake(&self) {
        // Already queued: the thread has not taken it yet, so its next pass, after this
        // body's lock was released, sends what this body queued too.
        if self.queued.load(Ordering::SeqCst) {
            return;
        }
        self.queued.store(true, Ordering::SeqCst);
        // With `run`'s `awake.store(false)` then `queued.load()`, both SeqCst: either the
        // thread sees `queued` before it waits, or this sees it asleep and writes the waker.
        if !self.awake.load(Ordering::SeqCst) && !self.wake_pending.swap(true, Ordering::SeqCst) {
            self.waker.wake();
        }
    }
}

/// A running thread and what it shares, in one block that `start` allocates without aborting
/// when memory is short (docs/contract.md §1.2) and `stop` frees after the join. The thread
/// reads `shared`, `host`, `socket`, `rows` and `used`; only the Lua side touches `thread`.
struct Running {
    shared: Shared,
    host: HostPtr,
    socket: ENetSocket,
    /// The published fields of every peer slot (`peerCount` rows): atomics only.
    rows: Box<[Row]>,
    /// A set bit for each slot whose published state is not DISCONNECTED (so it is published
    /// again after it leaves ENet's in-use bitmap). Touched only under `shared.lock`.
    used: UnsafeCell<Box<[u32]>>,
    thread: Option<Thread>,
}

#[cfg(unix)]
type Thread = libc::pthread_t;
#[cfg(windows)]
type Thread = std::thread::JoinHandle<()>;

/// `Running` handed to its thread (it outlives the thread: `stop` joins before freeing it).
struct RunningPtr(*const Running);
// SAFETY: the thread reads only `shared` (atomics, a Mutex, a Condvar, the Waker), `host` and
// `used` (under the lock, see HostPtr), `rows` (atomics) and `socket`, never `thread`.
unsafe impl Send for RunningPtr {}

/// The host's background state, in its core (object.rs). Only the Lua thread that owns the
/// core touches it, so its fields are `Cell`s.
pub struct Background {
    /// The running thread, or null (off).
    running: Cell<*mut Running>,
    /// The counters of earlier runs, added up.
    before: Cell<[u64; COUNTERS]>,
}

/// The ENet host, sent to its thread.
struct HostPtr(*mut ENetHost);
// SAFETY: the thread dereferences it only while holding the host's lock, which every other
// user (a method body) holds too; the host outlives the thread (`Background::stop` joins it
// before `HostCore::destroy` destroys the host).
unsafe impl Send for HostPtr {}

/// No slot reached (`Held::slot`).
const NO_SLOT: usize = usize::MAX;

/// A lock held by the running body, on behalf of a host, and what to do when it is released.
struct Held {
    running: *const Running,
    guard: MutexGuard<'static, ()>,
    access: Access,
    /// The one peer slot the body reached ([`NO_SLOT`]: none); a second one makes it
    /// [`Access::ALL`].
    slot: usize,
}

thread_local! {
    /// The locks the body running on this OS thread holds (at most two hosts per call).
    static HELD: RefCell<[Option<Held>; 2]> = const { RefCell::new([None, None]) };
    /// How many entries of `HELD` are set: `release_all`'s fast path.
    static HELD_COUNT: Cell<u8> = const { Cell::new(0) };
}

/// How many host locks method bodies hold in the process (any Lua state, any OS thread):
/// `HELD` entries, counted when made and when dropped. While it is 0, this OS thread's body
/// holds none, and [`release_all`] returns without touching the thread-locals: a thread-local
/// in a shared library costs a `__tls_get_addr` call, which on LuaJIT made every call of a
/// host that never uses the thread 2-3 ns slower (bench/run: `call_round_trip_time` 0.90 of
/// the build without this module). Counting the locks rather than the threads spares the
/// lock-free getters of a background host the thread-local too. The test is a load and a
/// branch per call.
static HOLDING: AtomicUsize = AtomicUsize::new(0);

/// Releases every host lock the body that just ended took (`lua::call`, after the body),
/// after publishing what it changed, and makes the wake-ups it asked for.
#[inline(always)]
pub fn release_all() {
    // A lock this OS thread's body holds was counted by this OS thread, before this load in
    // its program order, and is uncounted only when its entry is dropped: HOLDING is not 0.
    if HOLDING.load(Ordering::Relaxed) != 0 {
        release_held();
    }
}

/// [`release_all`] out of line, for the error arm of `lua::call`.
#[inline(never)]
pub fn release_all_raising() {
    release_all();
}

/// `release_all`'s thread-local part, out of line: inlined, LLVM hoists the thread-local's
/// address (a `__tls_get_addr` call) above the test of HOLDING.
#[cold]
#[inline(never)]
fn release_held() {
    if HELD_COUNT.with(Cell::get) != 0 {
        release_where(|_| true, true);
    }
}

/// Releases the held locks of the hosts that `matches`; `finish`: publish what the body
/// changed and make its wake-up first (not when the thread is being stopped).
#[cold]
fn release_where(matches: impl Fn(*const Running) -> bool, finish: bool) {
    let mut wake: [*const Running; 2] = [ptr::null(); 2];
    HELD.with_borrow_mut(|held| {
        for (slot, wake) in held.iter_mut().zip(wake.iter_mut()) {
            if !slot.as_ref().is_some_and(|h| matches(h.running)) {
                continue;
            }
            let Some(h) = slot.take() else { continue };
            HELD_COUNT.with(|n| n.set(n.get() - 1));
            HOLDING.fetch_sub(1, Ordering::Relaxed);
            if finish {
                // SAFETY: a held entry's block lives until `stop` releases it (this entry is
                // still held, so it has not), and its lock is held until `h.guard` drops.
                unsafe { publish_held(&*h.running, h.access, h.slot) };
                if h.access.has(Access::WAKE) {
                    *wake = h.running;
                }
            }
            drop(h.guard);
        }
    });
    // The wake-ups after every lock is released, so the thread does not wake only to wait.
    for running in wake.into_iter().filter(|r| !r.is_null()) {
        // SAFETY: as above: the block lives until `stop`, which only this OS thread calls, and
        // not between the release above and here.
        unsafe { (*running).shared.wake() };
    }
}

/// Publishes what a body that held the lock changed.
///
/// # Safety
/// The caller holds `running`'s lock.
unsafe fn publish_held(running: &Running, access: Access, slot: usize) {
    // SAFETY: the caller's contract.
    unsafe {
        publish_events(running);
        if access.has(Access::ALL) {
            publish_used(running);
        } else if slot != NO_SLOT {
            publish_slot(running, slot);
        }
    }
}

/// Publishes whether ENet's dispatch queue holds a peer ([`Shared::events`]).
///
/// # Safety
/// The caller holds `running`'s lock.
unsafe fn publish_events(running: &Running) {
    // SAFETY: the lock makes the host ours; the queue's sentinel lives with the host.
    let ready = unsafe {
        let queue = &(*running.host.0).dispatchQueue.sentinel;
        !ptr::eq(queue.next, queue)
    };
    if running.shared.events.load(Ordering::Relaxed) != ready {
        running.shared.events.store(ready, Ordering::Relaxed);
    }
}

/// Publishes one slot's fields (relaxed stores of the values that changed) and keeps `used`.
///
/// # Safety
/// The caller holds `running`'s lock; `slot < peerCount`.
unsafe fn publish_slot(running: &Running, slot: usize) {
    // SAFETY: the lock makes the ENet host (alive until the thread is joined) and `used` ours;
    // the slot is inside the peer array (the contract).
    unsafe {
        let peer = &*(*running.host.0).peers.add(slot);
        let values = fields(peer);
        let row = &running.rows[slot];
        for (cell, value) in row.iter().zip(values) {
            if cell.load(Ordering::Relaxed) != value {
                cell.store(value, Ordering::Relaxed);
            }
        }
        let used = &mut *running.used.get();
        let bit = 1u32 << (slot % 32);
        if values[field::STATE] != 0 {
            used[slot / 32] |= bit;
        } else {
            used[slot / 32] &= !bit;
        }
    }
}

/// Publishes every slot in use in ENet's bitmap, and every slot published as in use before.
///
/// # Safety
/// The caller holds `running`'s lock.
unsafe fn publish_used(running: &Running) {
    // SAFETY: the lock makes the host and `used` ours; ENet allocates `slotWords` words of
    // its free bitmap for the host's life, and `used` has as many.
    unsafe {
        let host = &*running.host.0;
        for word in 0..host.slotWords {
            let free = *host.slotBits.add(word);
            let mut bits = (!free & valid_bits(host, word)) | (*running.used.get())[word];
            while bits != 0 {
                let bit = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                publish_slot(running, word * 32 + bit);
            }
        }
    }
}

/// The bits of bitmap word `word` that stand for a slot (the last word may be partial).
fn valid_bits(host: &ENetHost, word: usize) -> u32 {
    let tail = host.peerCount % 32;
    if word + 1 < host.slotWords || tail == 0 {
        u32::MAX
    } else {
        (1u32 << tail) - 1
    }
}

impl Background {
    pub const fn new() -> Background {
        Background {
            running: Cell::new(ptr::null_mut()),
            before: Cell::new([0; COUNTERS]),
        }
    }

    pub fn running(&self) -> bool {
        !self.running.get().is_null()
    }

    fn get(&self) -> Option<&Running> {
        // SAFETY: a non-null `running` is a live block (until `stop` takes it), owned by this.
        unsafe { self.running.get().as_ref() }
    }

    fn shared(&self) -> Option<&Shared> {
        self.get().map(|r| &r.shared)
    }

    /// With the thread running: takes the host's lock for the rest of the running body
    /// (released by [`release_all`], which then does what `access` and `slot` ask: publish the
    /// slot the body reached, or every slot, and wake the thread) and returns the ENet host.
    /// `None` when off.
    #[inline(never)]
    pub fn hold(&self, access: Access, slot: Option<usize>) -> Option<*mut ENetHost> {
        let running = self.get()?;
        hold(running, access, slot.unwrap_or(NO_SLOT));
        Some(running.host.0)
    }

    /// The thread's ENet host, without its lock (`None` when off): for `service` and
    /// `check_events`, which take it in [`Background::next_event`] only when they need it.
    #[inline(never)]
    pub fn host(&self) -> Option<*mut ENetHost> {
        Some(self.get()?.host.0)
    }

    /// The published field `field` of peer slot `slot`, with the thread running (`None` when
    /// off). No lock: a relaxed load of what the last holder of the lock published.
    #[inline(never)]
    pub fn published(&self, slot: usize, field: usize) -> Option<u32> {
        let running = self.get()?;
        Some(running.rows.get(slot)?[field].load(Ordering::Relaxed))
    }

    /// Starts the thread for `host` (nothing if it runs); `false` when the system cannot
    /// (no memory, file descriptor or thread to spare: the OS error is still in `errno`).
    ///
    /// # Safety
    /// `host` is the live ENet host of the core that owns `self`, which reaches it only through
    /// [`Background::hold`] until [`Background::stop`] gives it back, and destroys it only after.
    pub unsafe fn start(&self, host: *mut ENetHost) -> bool {
        if self.running() {
            return true;
        }
        // SAFETY: a live host (the contract).
        let (peers, words, socket) =
            unsafe { ((*host).peerCount, (*host).slotWords, (*host).socket) };
        let (Some(rows), Some(used)) = (try_boxed_slice::<Row>(peers), try_boxed_slice(words))
        else {
            set_errno_enomem();
            return false;
        };
        let Some(waker) = Waker::new() else {
            return false;
        };
        pin_library();
        let running = Running {
            shared: Shared {
                lock: Mutex::new(()),
                ready: Condvar::new(),
                stop: AtomicBool::new(false),
                wake_pending: AtomicBool::new(false),
                queued: AtomicBool::new(false),
                awake: AtomicBool::new(true),
                waiting: AtomicUsize::new(0),
                events: AtomicBool::new(false),
                waker,
                counters: Default::default(),
            },
            host: HostPtr(host),
            socket,
            rows,
            used: UnsafeCell::new(used),
            thread: None,
        };
        let Some(running) = try_box(running) else {
            set_errno_enomem();
            return false;
        };
        // SAFETY: no thread runs yet, so this OS thread is the only user of the host and of
        // `used` (as if it held the lock); every slot is below peerCount.
        unsafe {
            publish_events(&*running);
            for slot in 0..peers {
                publish_slot(&*running, slot);
            }
        }
        // SAFETY: `running` is ours and outlives the thread (`stop` joins it first).
        match unsafe { spawn(RunningPtr(running)) } {
            Some(thread) => {
                // SAFETY: the thread never touches this field.
                unsafe { (*running).thread = Some(thread) };
                self.running.set(running);
                true
            }
            None => {
                // SAFETY: no thread saw it; it came from `try_box`.
                drop(unsafe { Box::from_raw(running) });
                false
            }
        }
    }

    /// Stops and joins the thread, and gives back its ENet host (`None` if it does not run).
    /// Releases this host's lock if the running body holds it, so the thread's last pass
    /// cannot wait for it.
    pub fn stop(&self) -> Option<*mut ENetHost> {
        let running = self.running.replace(ptr::null_mut());
        if running.is_null() {
            return None;
        }
        // SAFETY: `running` came from `try_box` in `start` and was just taken out.
        let mut running = unsafe { Box::from_raw(running) };
        let this: *const Running = &*running;
        release_where(|r| ptr::eq(r, this), false);
        running.shared.stop.store(true, Ordering::SeqCst);
        running.shared.waker.wake();
        if let Some(thread) = running.thread.take() {
            join(thread);
        }
        let mut before = self.before.get();
        for (sum, counter) in before.iter_mut().zip(&running.shared.counters) {
            *sum += counter.load(Ordering::Relaxed);
        }
        self.before.set(before);
        Some(running.host.0)
    }

    /// The next event for Lua: one ENet already has, or the first the thread makes ready
    /// within `timeout` ms (0: do not wait). Publishes the fields of the event's peer, which
    /// dispatching may change (a state, a reset).
    ///
    /// Takes the host's lock for the rest of the body, unless `timeout` is 0 and the thread
    /// published that ENet has no event ready (then returns 0 at once: a game loop's
    /// `service(0)` does not contend with the thread for nothing).
    ///
    /// # Safety
    /// The body contract (lua.rs); the thread runs and `host` is its ENet host
    /// ([`Background::host`]).
    pub unsafe fn next_event(
        &self,
        host: *mut ENetHost,
        event: &mut ENetEvent,
        timeout: u32,
    ) -> c_int {
        let Some(running) = self.get() else {
            return -1;
        };
        let timeout = enet_wait_ms(timeout);
        if timeout == 0 && !running.shared.events.load(Ordering::Relaxed) {
            return 0;
        }
        hold(running, Access::READ, NO_SLOT);
        // SAFETY: the lock is held (just taken), so ENet is ours.
        let mut rc = unsafe { enet::enet_host_check_events(host, event) };
        if rc == 0 && timeout != 0 {
            let deadline = Instant::now() + Duration::from_millis(timeout.into());
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                wait_ready(running, left);
                // SAFETY: `wait_ready` gives the lock back before it returns.
                rc = unsafe { enet::enet_host_check_events(host, event) };
                if rc != 0 {
                    break;
                }
            }
        }
        if rc > 0 && !event.peer.is_null() {
            // SAFETY: ENet filled `event.peer` with a peer of `host`'s array; the lock is held.
            unsafe {
                let slot = event.peer.offset_from((*host).peers) as usize;
                publish_slot(running, slot);
            }
        }
        rc
    }

    /// Whether the thread runs, and its counters (in [`COUNTER_NAMES`] order) over every run.
    pub fn stats(&self) -> (bool, [u64; COUNTERS]) {
        let mut counters = self.before.get();
        if let Some(shared) = self.shared() {
            for (sum, counter) in counters.iter_mut().zip(&shared.counters) {
                *sum += counter.load(Ordering::Relaxed);
            }
        }
        (self.running(), counters)
    }
}

/// ENet's clock wraps (vendor/enet/include/enet/time.h): `enet_host_service(host, event, t)`
/// adds `t` to its service time and compares with `ENET_TIME_OVERFLOW`, so a `t` within a day
/// below 2^32 (a negative timeout from Lua, wrapped like the C field, docs/contract.md §5) has
/// already expired and returns at once, and a `t` of a day or more waits `2^32 - t` ms. The
/// same wait here, so `service(-1)` keeps its meaning with the thread running.
fn enet_wait_ms(timeout: u32) -> u32 {
    const ENET_TIME_OVERFLOW: u32 = 86_400_000;
    if timeout < ENET_TIME_OVERFLOW {
        return timeout;
    }
    let back = timeout.wrapping_neg();
    if back < ENET_TIME_OVERFLOW {
        0
    } else {
        back
    }
}

/// Takes `running`'s lock for the running body, unless it holds it already, and adds `access`
/// and `slot` to what its release does.
fn hold(running: &Running, access: Access, slot: usize) {
    let this: *const Running = running;
    HELD.with_borrow_mut(|held| {
        if let Some(h) = held.iter_mut().flatten().find(|h| ptr::eq(h.running, this)) {
            h.access = Access(h.access.0 | access.0);
            if slot != NO_SLOT && h.slot != slot {
                if h.slot != NO_SLOT {
                    h.access = Access(h.access.0 | Access::ALL.0);
                }
                h.slot = slot;
            }
            return;
        }
        let guard = running
            .shared
            .lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // SAFETY: only the lifetime changes. The guard is dropped by `release_all` when the
        // body ends, or by `Background::stop` before the `Running` block can be freed (its
        // thread is joined there before the block is freed), so it never outlives the mutex.
        let guard: MutexGuard<'static, ()> = unsafe { std::mem::transmute(guard) };
        let free = held.iter_mut().find(|h| h.is_none());
        // No body reaches more than two hosts; a third would be a bug here, raised as one.
        let free = free.expect("enet: a body held more than two host locks");
        *free = Some(Held {
            running: this,
            guard,
            access,
            slot,
        });
        HELD_COUNT.with(|n| n.set(n.get() + 1));
        HOLDING.fetch_add(1, Ordering::Relaxed);
    });
}

/// Waits up to `left` for the thread to signal events, with the lock released meanwhile and
/// held again on return.
fn wait_ready(running: &Running, left: Duration) {
    let this: *const Running = running;
    HELD.with_borrow_mut(|held| {
        let Some(slot) = held
            .iter_mut()
            .find(|h| h.as_ref().is_some_and(|h| ptr::eq(h.running, this)))
        else {
            return;
        };
        let Some(Held {
            guard,
            access,
            slot: peer,
            ..
        }) = slot.take()
        else {
            return;
        };
        // Counted under the lock: the thread reads the count under it after its pass, so it
        // signals every waiter that waited before that pass.
        running.shared.waiting.fetch_add(1, Ordering::Relaxed);
        let (guard, _) = running
            .shared
            .ready
            .wait_timeout(guard, left)
            .unwrap_or_else(PoisonError::into_inner);
        running.shared.waiting.fetch_sub(1, Ordering::Relaxed);
        *slot = Some(Held {
            running: this,
            guard,
            access,
            slot: peer,
        });
    });
}

/// A boxed slice of `len` default values, or `None` instead of an abort when memory is short.
fn try_boxed_slice<T: Default>(len: usize) -> Option<Box<[T]>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).ok()?;
    v.resize_with(len, T::default);
    Some(v.into_boxed_slice())
}

/// `Box::new` that returns `None` instead of aborting when the allocation fails.
fn try_box<T>(value: T) -> Option<*mut T> {
    let layout = std::alloc::Layout::new::<T>();
    // SAFETY: `T` (Running) is not zero-sized; a block from the global allocator with `T`'s
    // layout is what `Box::from_raw` frees.
    let block = unsafe { std::alloc::alloc(layout) }.cast::<T>();
    if block.is_null() {
        return None;
    }
    // SAFETY: a fresh block for one `T`.
    unsafe { block.write(value) };
    Some(block)
}

/// Leaves ENOMEM in `errno` for the failure value (`Failure::os`) after `try_box` failed.
fn set_errno_enomem() {
    // SAFETY: the calling thread's errno.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    unsafe {
        *libc::__errno_location() = libc::ENOMEM;
    }
    // SAFETY: as above.
    #[cfg(target_vendor = "apple")]
    unsafe {
        *libc::__error() = libc::ENOMEM;
    }
}

/// Starts the thread with pthreads, whose only allocation (the stack) fails with an error code
/// rather than an abort (std::thread's spawn allocates with `Box::new` and `Arc::new`).
/// `None` with the reason in `errno` when it cannot.
///
/// # Safety
/// `running` outlives the thread (it is joined before it is freed).
#[cfg(unix)]
unsafe fn spawn(running: RunningPtr) -> Option<Thread> {
    extern "C" fn entry(arg: *mut std::ffi::c_void) -> *mut std::ffi::c_void {
        let running = arg.cast_const().cast::<Running>();
        // A panic must not unwind out of an extern "C" function (that aborts).
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            // SAFETY: `spawn`'s contract: `running` lives until this thread is joined.
            let running = unsafe { &*running };
            run(running);
        }));
        ptr::null_mut()
    }
    // SAFETY: plain pthread calls on local, initialised values.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_attr_init(&mut attr) != 0 {
            return None;
        }
        libc::pthread_attr_setstacksize(&mut attr, 1 << 20);
        let mut thread: libc::pthread_t = std::mem::zeroed();
        let arg = running.0.cast_mut().cast();
        let rc = libc::pthread_create(&mut thread, &attr, entry, arg);
        libc::pthread_attr_destroy(&mut attr);
        if rc != 0 {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            {
                *libc::__errno_location() = rc;
            }
            return None;
        }
        #[cfg(target_os = "linux")]
        libc::pthread_setname_np(thread, c"enet background".as_ptr());
        Some(thread)
    }
}

/// Windows: std::thread (whose spawn still aborts if memory runs out exactly then).
///
/// # Safety
/// As the Unix one.
#[cfg(windows)]
unsafe fn spawn(running: RunningPtr) -> Option<Thread> {
    std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || {
            let running = running;
            // SAFETY: `spawn`'s contract.
            let running = unsafe { &*running.0 };
            run(running);
        })
        .ok()
}

#[cfg(unix)]
fn join(thread: Thread) {
    // SAFETY: a joinable thread from `spawn`, joined once.
    unsafe { libc::pthread_join(thread, ptr::null_mut()) };
}

#[cfg(windows)]
fn join(thread: Thread) {
    let _ = thread.join();
}

/// The thread: waits without the lock, then services the host with it, until told to stop.
fn run(running: &Running) {
    let (shared, host, socket) = (&running.shared, running.host.0, running.socket);
    let mut active = true;
    let mut failing = false;
    let count = |i: usize, n: u64| shared.counters[i].fetch_add(n, Ordering::Relaxed);
    loop {
        let timeout = if active { TICK_MS } else { IDLE_MS };
        // `awake` cleared, then `queued` looked at (both SeqCst, see `Shared::wake`): what Lua
        // queued during the last pass is sent now, without a wait or a wake-up.
        shared.awake.store(false, Ordering::SeqCst);
        let woken = if shared.queued.load(Ordering::SeqCst) {
            Woken::Queued
        } else {
            // After a socket error, sleep a tick instead of finding the socket readable at
            // once.
            shared.waker.wait((!failing).then_some(socket), timeout)
        };
        shared.awake.store(true, Ordering::SeqCst);
        if woken == Woken::Wake {
            // Lua is queueing and woke the thread: let the burst gather (its other sends find
            // the thread awake and skip the system call) and go out in one pass, a fraction
            // of a frame later.
            std::thread::sleep(Duration::from_micros(GATHER_US));
        }
        if woken == Woken::Wake || shared.wake_pending.load(Ordering::SeqCst) {
            shared.waker.drain();
        }
        // Cleared after the drain and before the pass: a `wake` that finds it set queued its
        // work before this point, so the pass below sends it.
        shared.wake_pending.store(false, Ordering::SeqCst);
        let lua = shared.queued.swap(false, Ordering::SeqCst) || woken == Woken::Wake;
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        // A pass that serves Lua's sends counts as a Lua wake-up, whatever ended the wait.
        count(
            match woken {
                _ if lua => LUA_WAKEUPS,
                Woken::Socket => SOCKET_WAKEUPS,
                _ => TIMER_WAKEUPS,
            },
            1,
        );
        let start = Instant::now();
        let guard = shared.lock.lock().unwrap_or_else(PoisonError::into_inner);
        // SAFETY: the host lives until this thread is joined (HostPtr), and the lock makes it
        // ours: with no event, ENet sends, receives and checks timeouts, and dispatches nothing;
        // then the getters' rows and the events hint are published (their contract: the lock
        // is held).
        let rc = unsafe {
            let rc = enet::enet_host_service(host, ptr::null_mut(), 0);
            active = slots_in_use(&*host);
            publish_events(running);
            publish_used(running);
            rc
        };
        let signal =
            shared.events.load(Ordering::Relaxed) && shared.waiting.load(Ordering::Relaxed) != 0;
        drop(guard);
        if signal {
            shared.ready.notify_all();
        }
        failing = rc < 0;
        count(ERRORS, u64::from(failing));
        count(PASSES, 1);
        count(BUSY_US, start.elapsed().as_micros() as u64);
    }
}

/// Whether any peer slot is in use (not disconnected), from ENet's bitmap of free slots
/// (vendor/enet/patches/0024-handshake-records.patch: a set bit is a free slot).
fn slots_in_use(host: &ENetHost) -> bool {
    (0..host.slotWords).any(|word| {
        let valid = valid_bits(host, word);
        // SAFETY: ENet allocates 3 * slotWords + 1 words of bitmaps for the host's life.
        let free = unsafe { *host.slotBits.add(word) };
        !free & valid != 0
    })
}

/// Keeps this library loaded for the rest of the process once a thread runs from it: a thread
/// of a host that Lua never finalizes (one created by a finalizer during `lua_close`, which Lua
/// does not finalize) must not outlive the code it runs when Lua unloads the module.
fn pin_library() {
    static PINNED: std::sync::Once = std::sync::Once::new();
    PINNED.call_once(|| {
        #[cfg(unix)]
        // SAFETY: dladdr fills `info` for an address inside this library; dlopen with
        // RTLD_NOLOAD only adds a reference (never kept) to a library already loaded, and
        // RTLD_NODELETE makes it stay.
        unsafe {
            let mut info: libc::Dl_info = std::mem::zeroed();
            let here = pin_library as *const std::os::raw::c_void;
            if libc::dladdr(here, &mut info) != 0 && !info.dli_fname.is_null() {
                let flags = libc::RTLD_LAZY | libc::RTLD_NOLOAD | libc::RTLD_NODELETE;
                libc::dlopen(info.dli_fname, flags);
            }
        }
        #[cfg(windows)]
        // SAFETY: GetModuleHandleExW with FROM_ADDRESS | PIN pins the module that contains the
        // address (this function); the handle needs no release.
        unsafe {
            extern "system" {
                fn GetModuleHandleExW(flags: u32, name: *const u16, module: *mut isize) -> i32;
            }
            const FROM_ADDRESS: u32 = 0x4;
            const PIN: u32 = 0x1;
            let mut module = 0isize;
            let here = pin_library as *const u16;
            GetModuleHandleExW(FROM_ADDRESS | PIN, here, &mut module);
        }
    });
}
