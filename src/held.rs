//! The host locks that method bodies hold on behalf of background hosts (background.rs): taken
//! on a body's first use of a background host ([`hold`]), remembered per OS thread, and
//! released by `lua::call` when the body ends ([`release_all`]), after publishing what the body
//! changed and before the reply phase, where Lua (and a finalizer) may run: no lock is ever held
//! while Lua code runs. `service` and `check_events` take it for a stretch of their body of
//! their own instead ([`lock`]). Also what the thread and the bodies share (`Shared`,
//! `Running`) and the thread's counters.
use crate::ffi::{ENetHost, ENetSocket};
use crate::osthread::Thread;
use crate::published::{Access, Published};
use crate::sendq::SendQueue;
use crate::waker::Waker;
use std::cell::RefCell;
use std::ffi::CStr;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError, TryLockError};
use std::time::{Duration, Instant};

/// The counters of `host:background_stats()`, in this order.
pub(crate) const PASSES: usize = 0;
pub(crate) const SOCKET_WAKEUPS: usize = 1;
pub(crate) const LUA_WAKEUPS: usize = 2;
pub(crate) const TIMER_WAKEUPS: usize = 3;
pub(crate) const BUSY_US: usize = 4;
pub(crate) const ERRORS: usize = 5;
/// Passes Lua's `service` made itself. Written with a load and a store under the lock (one
/// writer at a time); the thread backs off while it grows.
pub(crate) const LUA_PASSES: usize = 6;
pub const COUNTERS: usize = 7;
/// Their names in `host:background_stats()`.
pub const COUNTER_NAMES: [&CStr; COUNTERS] = [
    c"passes",
    c"socket_wakeups",
    c"lua_wakeups",
    c"timer_wakeups",
    c"busy_us",
    c"errors",
    c"lua_passes",
];

/// What the Lua side and the thread share.
pub(crate) struct Shared {
    /// Held by whoever uses the ENet host: the thread for one pass, a method body for its
    /// body phase.
    pub(crate) lock: Mutex<()>,
    /// Signalled (lock released) after a pass that left events to dispatch.
    pub(crate) ready: Condvar,
    pub(crate) stop: AtomicBool,
    /// A wake-up is on its way: `wake` writes the waker only when this was clear.
    pub(crate) wake_pending: AtomicBool,
    /// Lua queued something to send since the thread's last pass began (set by `wake`, taken
    /// by the thread before each pass, which then sends it).
    pub(crate) queued: AtomicBool,
    /// The thread is between two waits (its next wait comes after it looks at `queued`
    /// again), so `wake` needs no system call.
    pub(crate) awake: AtomicBool,
    /// The thread's last pass found a peer slot in use, so it ticks every `TICK_MS` (else it
    /// sleeps `IDLE_MS`; background.rs). Written under the lock, by the thread after its pass
    /// and by `lua_pass`, which wakes the thread when its own pass put a slot in use first.
    pub(crate) active: AtomicBool,
    /// How many Lua bodies wait on `ready` (the thread signals it only then: a signal is a
    /// system call).
    pub(crate) waiting: AtomicUsize,
    /// How many Lua bodies wait for the lock (`lock`): the thread lets them have it before its
    /// next pass.
    pub(crate) contending: AtomicUsize,
    pub(crate) waker: Waker,
    /// Lua's `host:flush()` calls (`Background::flushed`): while they come, the thread leaves
    /// the sending to them (background.rs `run`).
    pub(crate) flushes: AtomicU64,
    pub(crate) counters: [AtomicU64; COUNTERS],
}

impl Shared {
    /// Wakes the thread if it sleeps and no wake-up is on its way, without queueing anything.
    pub(crate) fn nudge(&self) {
        if !self.awake.load(Ordering::SeqCst) && !self.wake_pending.swap(true, Ordering::SeqCst) {
            self.waker.wake();
        }
    }

    /// Tells the thread that Lua queued something to send, waking it only if it sleeps and no
    /// wake-up is on its way: a burst of sends costs one system call at most, none while the
    /// thread runs (it takes `queued` before its next wait and makes another pass).
    pub(crate) fn wake(&self) {
        // Already queued: the thread has not taken it yet, so its next pass, after this
        // body's lock was released, sends what this body queued too.
        if self.queued.load(Ordering::SeqCst) {
            return;
        }
        self.queued.store(true, Ordering::SeqCst);
        // With `run`'s `awake.store(false)` then `queued.load()`, both SeqCst: either the
        // thread sees `queued` before it waits, or this sees it asleep and writes the waker.
        self.nudge();
    }
}

/// A running thread and what it shares, in one block that `start` allocates without aborting
/// when memory is short (docs/contract.md §1.2) and `stop` frees after the join. The thread
/// reads `shared`, `host`, `socket` and `published`; only the Lua side touches `thread`.
pub(crate) struct Running {
    pub(crate) shared: Shared,
    pub(crate) host: HostPtr,
    pub(crate) socket: ENetSocket,
    /// What the getters and `service(0)` read without the lock (published.rs).
    pub(crate) published: Published,
    /// Small sends queued without the lock, handed to ENet by the next holder of it (sendq.rs).
    pub(crate) sends: SendQueue,
    /// ENet's service time when Lua's own pass last published every slot (`lua_pass`).
    pub(crate) lua_published: AtomicU32,
    /// When `service(0)` last made a pass of its own, in microseconds after `epoch`
    /// ([`Running::pass_due`]; the Lua side's only).
    pub(crate) lua_pass_at: AtomicU64,
    /// When Lua's own pass last returned an event, in microseconds after `epoch` (`lua_pass`;
    /// the Lua side's only): while events flow, every `service(0)` makes a pass.
    pub(crate) lua_heard_at: AtomicU64,
    pub(crate) epoch: Instant,
    /// A body queued or changed something since `service(0)`'s last pass of its own (set when
    /// a body with [`Access::WAKE`] or [`Access::ALL`] releases the lock; the Lua side's only).
    pub(crate) lua_changed: AtomicBool,
    pub(crate) thread: Option<Thread>,
}

/// The ENet host, sent to its thread.
pub(crate) struct HostPtr(pub(crate) *mut ENetHost);
// SAFETY: the thread dereferences it only while holding the host's lock, which every other
// user (a method body) holds too; the host outlives the thread (`Background::stop` joins it
// before `HostCore::destroy` destroys the host).
unsafe impl Send for HostPtr {}

/// No slot reached (`Held::slot`).
pub const NO_SLOT: usize = usize::MAX;

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
/// address (a `__tls_get_addr` call) above the test of HOLDING. One thread-local access: a
/// second thread-local that counted the entries, to skip looking at two, cost a
/// `__tls_get_addr` call of its own at every take and release (a background host's `send` made
/// five, now two; bench/calls.lua showed no difference either way).
#[cold]
#[inline(never)]
fn release_held() {
    release_where(|_| true, true);
}

/// Releases the held locks of the hosts that `matches`; `finish`: publish what the body
/// changed and make its wake-up first (not when the thread is being stopped).
#[cold]
pub fn release_where(matches: impl Fn(*const Running) -> bool, finish: bool) {
    let mut wake: [*const Running; 2] = [ptr::null(); 2];
    HELD.with_borrow_mut(|held| {
        for (slot, wake) in held.iter_mut().zip(wake.iter_mut()) {
            if !slot.as_ref().is_some_and(|h| matches(h.running)) {
                continue;
            }
            let Some(h) = slot.take() else { continue };
            HOLDING.fetch_sub(1, Ordering::Relaxed);
            if finish {
                // SAFETY: a held entry's block lives until `stop` releases it (this entry is
                // still held, so it has not), and its lock is held until `h.guard` drops.
                unsafe { publish_held(&*h.running, h.access, h.slot) };
                if h.access.has(Access::WAKE) {
                    *wake = h.running;
                }
                if h.access.has(Access::WAKE.with(Access::ALL)) {
                    // SAFETY: as above.
                    unsafe { (*h.running).lua_changed.store(true, Ordering::Relaxed) };
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
    let (published, host) = (&running.published, running.host.0);
    // SAFETY: the caller's contract; a held slot is one of the host's.
    unsafe {
        published.publish_events(host);
        if access.has(Access::ALL) {
            published.publish_used(host);
        } else if slot != NO_SLOT {
            published.publish_slot(host, slot);
        }
    }
}

/// Takes `running`'s lock for the running body, unless it holds it already, and adds `access`
/// and `slot` to what its release does.
pub fn hold(running: &Running, access: Access, slot: usize) {
    let this: *const Running = running;
    HELD.with_borrow_mut(|held| {
        if let Some(h) = held.iter_mut().flatten().find(|h| ptr::eq(h.running, this)) {
            h.access = h.access.with(access);
            if slot != NO_SLOT && h.slot != slot {
                if h.slot != NO_SLOT {
                    h.access = h.access.with(Access::ALL);
                }
                h.slot = slot;
            }
            return;
        }
        let Some(guard) = lock(running, true) else {
            return;
        };
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
        HOLDING.fetch_add(1, Ordering::Relaxed);
    })
}

/// Takes `running`'s lock (with `wait` false: `None` when another holds it) and hands ENet what
/// Lua queued without it, for a caller that releases it itself: [`hold`], and `service` and
/// `check_events` (`Background::next_event`), which hold it for a stretch of their body that
/// calls no Lua API, without the thread-local of `hold` (a `__tls_get_addr` call at each take
/// and release). The body must not hold this lock through [`hold`] already: it would wait for
/// itself.
pub(crate) fn lock(running: &Running, wait: bool) -> Option<MutexGuard<'_, ()>> {
    let lock = &running.shared.lock;
    let guard = match lock.try_lock() {
        Ok(guard) => guard,
        Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
        Err(TryLockError::WouldBlock) if !wait => return None,
        Err(TryLockError::WouldBlock) => {
            // Counted while it waits: the thread lets it go first (`run`).
            let contending = &running.shared.contending;
            contending.fetch_add(1, Ordering::SeqCst);
            let guard = lock.lock().unwrap_or_else(PoisonError::into_inner);
            contending.fetch_sub(1, Ordering::SeqCst);
            guard
        }
    };
    // What Lua queued without the lock goes to ENet before the holder's own calls, in order.
    if !running.sends.is_empty() {
        // SAFETY: the lock is held (just taken) and the host is the thread's live one.
        unsafe { running.sends.hand_over(running.host.0) };
    }
    Some(guard)
}

/// Waits up to `left` for the thread to signal events, with the lock (`guard`, taken by
/// [`lock`]) released meanwhile and held again on return.
pub(crate) fn wait_ready<'a>(
    running: &'a Running,
    guard: MutexGuard<'a, ()>,
    left: Duration,
) -> MutexGuard<'a, ()> {
    // Counted under the lock: the thread reads the count under it after its pass, so it
    // signals every waiter that waited before that pass.
    running.shared.waiting.fetch_add(1, Ordering::Relaxed);
    // A thread backing off after a pass of Lua's (`run`) looks at `waiting` again now.
    running.shared.nudge();
    let (guard, _) = running
        .shared
        .ready
        .wait_timeout(guard, left)
        .unwrap_or_else(PoisonError::into_inner);
    running.shared.waiting.fetch_sub(1, Ordering::Relaxed);
    guard
}

/// `service(0)` makes a pass of its own at most this often (microseconds), unless Lua queued
/// or changed something since the last, or traffic flows ([`Running::pass_due`]); a call in
/// between returns an event already received, or none, without the lock when none is ready.
/// An idle loop calling `service(0)` millions of times a second then costs a clock read a
/// call, not a pass.
const COALESCE_US: u64 = 50;
/// Traffic flows while Lua's own last pass that returned an event was less than this long ago
/// (microseconds): then every `service(0)` makes a pass, as without the thread. Coalescing
/// there made each hop of a ping-pong between two hosts of one loop wait for the next 50 us
/// (bench/pingpong.lua: 14,800 round trips per CPU second against 147,000 in normal mode).
const TRAFFIC_US: u64 = 1000;

impl Running {
    /// Whether `service(0)` should make a pass of its own: Lua queued or changed something
    /// since its last one, traffic flows ([`TRAFFIC_US`]), or the last was at least
    /// [`COALESCE_US`] ago (then this one counts as made). Only the Lua side calls it.
    pub(crate) fn pass_due(&self) -> bool {
        let now = self.now_us();
        let changed = self.lua_changed.swap(false, Ordering::Relaxed);
        let flowing = now.wrapping_sub(self.lua_heard_at.load(Ordering::Relaxed)) < TRAFFIC_US;
        if !changed
            && !flowing
            && now.wrapping_sub(self.lua_pass_at.load(Ordering::Relaxed)) < COALESCE_US
        {
            return false;
        }
        self.lua_pass_at.store(now, Ordering::Relaxed);
        true
    }

    /// Microseconds since `epoch`.
    pub(crate) fn now_us(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }
}
