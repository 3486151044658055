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
//!   there is no queue of our own: Lua's `service`/`check_events` take their events from ENet.
//! - A method body takes the lock when it reaches the live host or a peer
//!   ([`Background::hold`], called by the cold paths of `HostCore::live` and `PeerUd::live`) and
//!   `lua::call` releases it when the body ends (`held::release_all`), before the reply phase, where
//!   Lua (and a finalizer) may run: no lock is ever held while Lua code runs.
//! - The getters of the peer fields the thread changes take no lock: the holder of the lock
//!   publishes them into atomics (published.rs) after each of the thread's passes and when a
//!   body releases the lock ([`Access`] says what it changed); a getter reads with a relaxed load.
//! - A body that queued something to send asks for a wake-up ([`Access::WAKE`]), made after its
//!   lock is released, with no system call while the thread is awake (`Shared::wake`).
//! - `service` makes a pass of its own when the lock is free ([`lua_pass`]), as
//!   `enet_host_service` does without the thread, and the thread then stays out of its way
//!   for [`BACKOFF_MS`]: a game that services often does its network work on its own thread,
//!   at the cost it has without the thread (with glibc's malloc, a block allocated on one
//!   thread and freed on another costs several times a local one), and the thread takes over
//!   within [`BACKOFF_MS`] when the game stops servicing.
//! - `service(timeout)` then waits on [`Shared::ready`], which the thread signals after a pass
//!   that left ENet's dispatch queue non-empty; `check_events` with none takes no lock.
//! - Stopping (`background(false)`, `HostCore::destroy`, so also `__gc`, `__close` and
//!   `lua_close`) sets [`Shared::stop`], wakes the thread and joins it before the ENet host is
//!   destroyed.
use crate::blocks;
use crate::ffi::{self as enet, ENetEvent, ENetHost};
use crate::held::{
    hold, lock, release_where, wait_ready, HostPtr, Running, Shared, BUSY_US, ERRORS, LUA_PASSES,
    LUA_WAKEUPS, NO_SLOT, PASSES, SOCKET_WAKEUPS, TIMER_WAKEUPS,
};
pub use crate::held::{COUNTERS, COUNTER_NAMES};
use crate::osthread;
use crate::published::{slots_in_use, Access, Published};
use crate::sendq::SendQueue;
use crate::waker::{enet_wait_ms, Waker, Woken};
use std::cell::Cell;
use std::os::raw::c_int;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The longest the thread sleeps while any peer slot is in use: ENet's timers (pings every
/// 500 ms, retransmissions after a round trip and its variance, timeouts) are checked at least
/// this often. A datagram or a wake-up ends the sleep at once.
const TICK_MS: i32 = 10;
/// The longest it sleeps while no slot is in use (only a datagram can start work then).
const IDLE_MS: i32 = 1000;
/// How long a wake-up from Lua waits for more sends before the pass that sends them.
const GATHER_US: u64 = 100;
/// How long the thread stays out of the way after Lua's `service` made a pass of its own
/// ([`Background::next_event`]): a loop that services at least this often does the network
/// work on its own thread, as without the thread, and the thread takes over within this long
/// after it stops.
const BACKOFF_MS: i32 = 2;
const BACKOFF: Duration = Duration::from_millis(BACKOFF_MS as u64);
/// How long, in steps of how many microseconds, the thread waits before a pass while a body
/// waits for the lock (`run`).
const CONTENDED_WAITS: u32 = 20;
const CONTENDED_WAIT_US: u64 = 50;

/// The thread reads only `shared` (atomics, a Mutex, a Condvar, the Waker), `host` and
/// `published` (under the lock, see HostPtr, or atomics) and `socket`, never `thread`.
impl osthread::Run for Running {
    fn run(&self) {
        run(self);
    }
}

/// The host's background state, in its core (object.rs). Only the Lua thread that owns the
/// core touches it, so its fields are `Cell`s.
pub struct Background {
    /// The running thread, or null (off).
    running: Cell<*mut Running>,
    /// The counters of earlier runs, added up.
    before: Cell<[u64; COUNTERS]>,
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
    /// (released by [`crate::held::release_all`], which then does what `access` and `slot`
    /// ask: publish the slot the body reached, or every slot, and wake the thread) and returns
    /// the ENet host.
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
    /// off). No lock: a relaxed load of what the last holder of the lock published. Inlined
    /// into its one caller, the getters' cold path (`PeerUd::published`): one call a getter.
    #[inline]
    pub fn published(&self, slot: usize, field: usize) -> Option<u32> {
        let running = self.get()?;
        running.published.get(slot, field)
    }

    /// The published host field `field` ([`crate::published::host_field`]), with the thread
    /// running (`None` when off). No lock, as [`Background::published`]. Inlined into the host
    /// counters' background branch (`host_counter`), as `published` is into the getters'.
    #[inline]
    pub fn published_host(&self, field: usize) -> Option<u32> {
        self.get()?.published.get_host(field)
    }

    /// `peer:send` without the lock ([`crate::sendq::try_queue`]; `None`: send under it).
    #[inline(never)]
    pub fn try_queue(&self, slot: usize, channel: u8, flags: u32, data: &[u8]) -> Option<u32> {
        let running = self.get()?;
        let (published, sends) = (&running.published, &running.sends);
        // SAFETY: `Background` is only used by the Lua thread that owns the host (its core's
        // `Cell`s), the queue's one writer.
        let id = unsafe { crate::sendq::try_queue(published, sends, slot, channel, flags, data) }?;
        // As the release of a body that queued a send does (held.rs `release_where`).
        running.lua_changed.store(true, Ordering::Relaxed);
        running.shared.wake();
        Some(id)
    }

    /// After Lua's `host:flush()`, under the lock: Lua sends for itself, so the thread stands
    /// aside until [`BACKOFF`] after its last pass (`run`).
    pub fn flushed(&self) {
        if let Some(running) = self.get() {
            running.shared.flushes.fetch_add(1, Ordering::Relaxed);
        }
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
        let (socket, published) = unsafe { ((*host).socket, Published::new(&*host)) };
        let Some(published) = published else {
            osthread::set_errno_enomem();
            return false;
        };
        let Some(sends) = SendQueue::new() else {
            osthread::set_errno_enomem();
            return false;
        };
        let Some(waker) = Waker::new() else {
            return false;
        };
        osthread::pin_library();
        let running = Running {
            shared: Shared {
                lock: Mutex::new(()),
                ready: Condvar::new(),
                stop: AtomicBool::new(false),
                wake_pending: AtomicBool::new(false),
                queued: AtomicBool::new(false),
                awake: AtomicBool::new(true),
                active: AtomicBool::new(true),
                waiting: AtomicUsize::new(0),
                contending: AtomicUsize::new(0),
                waker,
                flushes: AtomicU64::new(0),
                counters: Default::default(),
            },
            host: HostPtr(host),
            socket,
            published,
            sends,
            lua_published: AtomicU32::new(0),
            lua_pass_at: AtomicU64::new(0),
            lua_heard_at: AtomicU64::new(0),
            epoch: Instant::now(),
            lua_changed: AtomicBool::new(false),
            thread: None,
        };
        let Some(running) = osthread::try_box(running) else {
            osthread::set_errno_enomem();
            return false;
        };
        // SAFETY: no thread runs yet, so this OS thread is the only user of the host (as if it
        // held the lock).
        unsafe { (*running).published.publish_all(host) };
        // SAFETY: `running` is ours and outlives the thread (`stop` joins it first); the thread
        // uses only what it may (see `Running`).
        match unsafe { osthread::spawn(running.cast_const()) } {
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
            osthread::join(thread);
        }
        // SAFETY: the thread is joined and no body holds the lock (released above), so the
        // host is this OS thread's alone, and still live (the caller destroys it after).
        unsafe { running.sends.hand_over(running.host.0) };
        let mut before = self.before.get();
        for (sum, counter) in before.iter_mut().zip(&running.shared.counters) {
            *sum += counter.load(Ordering::Relaxed);
        }
        self.before.set(before);
        Some(running.host.0)
    }

    /// The next event for Lua, passed to `reply` with ENet's return code (as
    /// `enet_host_service` gives them; -1 when the thread does not run): one ENet already has,
    /// or the first the thread makes ready within `timeout` ms (0: do not wait). Publishes the
    /// fields of a connect's or a disconnect's peer, which dispatching changes (a state, a
    /// reset).
    ///
    /// With `help` (`service`), when the thread is not in a pass (the lock is free), makes a
    /// pass itself first ([`lua_pass`]), which may find the event. Otherwise (`check_events`,
    /// or the thread is in a pass) takes the host's lock, unless `timeout` is 0 and the thread
    /// published that ENet has no event ready (then replies 0 at once: a game loop's
    /// `check_events` does not contend with the thread for nothing).
    ///
    /// The lock is taken here and released before this returns, without the thread-local of
    /// the body's locks (`held::lock`): `reply` runs under it, so it may read the event's peer,
    /// and must not call the Lua API nor reach this host through `HostCore::live`.
    ///
    /// # Safety
    /// The body contract (lua.rs); `host` is the thread's ENet host ([`Background::host`]),
    /// and the body holds no lock of this host yet.
    pub unsafe fn next_event<R>(
        &self,
        host: *mut ENetHost,
        timeout: u32,
        help: bool,
        reply: impl FnOnce(c_int, &ENetEvent) -> R,
    ) -> R {
        let mut event = ENetEvent::empty();
        let Some(running) = self.get() else {
            return reply(-1, &event);
        };
        let timeout = enet_wait_ms(timeout);
        let mut rc = 0;
        let mut wake = false;
        // An event already received is returned first, as `enet_host_service` returns one
        // before any network work: without a pass, or a look at the clock for one.
        let ready = timeout == 0 && running.published.events();
        let mut guard = None;
        if help && !ready && (timeout != 0 || running.pass_due()) {
            guard = lock(running, false);
            if guard.is_some() {
                // SAFETY: the lock is held (just taken).
                rc = unsafe { lua_pass(running, host, &mut event, &mut wake) };
            }
        }
        let mut guard = match guard {
            Some(guard) => guard,
            None if timeout == 0 && !running.published.events() => return reply(0, &event),
            None => {
                let guard = lock(running, true);
                // SAFETY: the lock is held (just taken), so ENet is ours.
                rc = unsafe { enet::enet_host_check_events(host, &mut event) };
                match guard {
                    Some(guard) => guard,
                    None => return reply(rc, &event), // unreachable: `lock` waits
                }
            }
        };
        if rc == 0 && timeout != 0 {
            let deadline = Instant::now() + Duration::from_millis(timeout.into());
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                guard = wait_ready(running, guard, left);
                // SAFETY: `wait_ready` gives the lock back before it returns.
                rc = unsafe { enet::enet_host_check_events(host, &mut event) };
                if rc != 0 {
                    break;
                }
            }
        }
        // SAFETY: the lock is held. ENet filled `event.peer` with a peer of `host`'s array. A
        // receive changes none of the published fields (a state, the round trip...): only a
        // connect or a disconnect, which may reset the slot, is published here; then whether
        // events are left, as the release of a body's lock publishes it.
        let out = unsafe {
            if rc > 0 && !event.peer.is_null() && event.r#type != enet::ENET_EVENT_TYPE_RECEIVE {
                let slot = event.peer.offset_from((*host).peers) as usize;
                running.published.publish_slot(host, slot);
            }
            let out = reply(rc, &event);
            running.published.publish_events(host);
            out
        };
        drop(guard);
        if wake {
            // As the release of a body that asked for a wake-up (held.rs `release_where`).
            running.lua_changed.store(true, Ordering::Relaxed);
            running.shared.wake();
        }
        out
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

/// Lua's own pass (`service`, when the thread is not in one): what the thread's pass does,
/// with the first event dispatched into `event` as without the thread. The thread stays out
/// of the way for [`BACKOFF_MS`] after it (`run`), so a game that services often does its
/// network work on its own thread, with its own allocations freed there, as without the
/// thread. Publishes every slot in use when a datagram came in, an event is returned, the
/// count of connected peers changed (a disconnect_later peer whose last message left, a
/// timeout) or [`TICK_MS`] passed since it last did (timeouts reset half-open peers without
/// any of these), else nothing: a `service(0)` loop over many idle peers costs what it costs
/// without the thread.
///
/// # Safety
/// The caller holds `running`'s lock and `host` is its ENet host.
unsafe fn lua_pass(
    running: &Running,
    host: *mut ENetHost,
    event: &mut ENetEvent,
    wake: &mut bool,
) -> c_int {
    let shared = &running.shared;
    // An event ENet already has is returned before any network work, as `enet_host_service`
    // returns it: not a pass, so the thread does not back off (and stop acknowledging) while a
    // loop takes a backlog one event a call.
    // SAFETY: the caller holds the lock, so the host is ours; ENet fills `event`.
    unsafe {
        let queue = &(*host).dispatchQueue.sentinel;
        if !ptr::eq(queue.next, queue) {
            let rc = enet::enet_host_check_events(host, event);
            if rc != 0 {
                return rc;
            }
        }
    }
    // One writer at a time (the lock), so a load and a store.
    let passes = &shared.counters[LUA_PASSES];
    passes.store(passes.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    // `queued` stays as it is, although this pass sends what it stands for: while it is set a
    // send skips the wake-up (`Shared::wake`), so a loop that sends and services often makes
    // no system call to wake a thread that is backing off; the thread's next pass, once Lua
    // stops servicing, clears it.
    // SAFETY: the caller holds the lock, so the host is ours; ENet fills `event`.
    unsafe {
        let received = (*host).totalReceivedPackets;
        // A peer that leaves or enters the connected states without a datagram or an event
        // changes this count.
        let connected = (*host).connectedPeers;
        let rc = enet::enet_host_service(host, event, 0);
        // A slot this pass put in use (a connect it received) while the thread, which saw
        // none, sleeps a second at a time or backs off: have it make a pass of its own, which
        // sees the slot, before its next long sleep (`queued` is looked at before each). The
        // wake-up is made once the caller released the lock (`Background::next_event`).
        if !shared.active.load(Ordering::Relaxed) && slots_in_use(&*host) {
            shared.active.store(true, Ordering::Relaxed);
            *wake = true;
        }
        // An event returned: traffic flows (`Running::pass_due`). Datagrams without one (the
        // acknowledgements of what this side sends) do not make the coalescing stop.
        if rc > 0 {
            running
                .lua_heard_at
                .store(running.now_us(), Ordering::Relaxed);
        }
        // The host's counters and service time change with every pass.
        running.published.publish_host(host);
        let heard = rc != 0 || (*host).totalReceivedPackets != received;
        let now = (*host).serviceTime;
        let last = running.lua_published.load(Ordering::Relaxed);
        if heard || (*host).connectedPeers != connected || now.wrapping_sub(last) >= TICK_MS as u32
        {
            running.lua_published.store(now, Ordering::Relaxed);
            running.published.publish_used(host);
        }
        rc
    }
}

/// The thread: waits without the lock, then services the host with it, until told to stop.
fn run(running: &Running) {
    let (shared, host, socket) = (&running.shared, running.host.0, running.socket);
    let mut active = true;
    let mut failing = false;
    let count = |i: usize, n: u64| shared.counters[i].fetch_add(n, Ordering::Relaxed);
    let lua_passes = || shared.counters[LUA_PASSES].load(Ordering::Relaxed);
    let mut seen = lua_passes();
    let mut last_pass = Instant::now();
    let mut flushes_at_pass = 0;
    loop {
        // Lua's `service` made a pass since the last look, and no body waits for events: Lua
        // is doing the network work, so stay out of its way (no socket, no pass) for a while.
        let passes = lua_passes();
        let back_off = passes != seen && shared.waiting.load(Ordering::Relaxed) == 0;
        seen = passes;
        // Lua's own `flush` came since the last pass, less than BACKOFF ago, and a slot is in
        // use (an idle thread passes at once: only its pass sees a slot a connect put in use):
        // Lua sends for itself, so stand aside until then (its sends find `queued` set and
        // make no system call), and pass once it is up: one pass per BACKOFF while a loop
        // sends and flushes without `service`, for what comes in.
        let flushed = active && shared.flushes.load(Ordering::Relaxed) != flushes_at_pass;
        let rest = BACKOFF.saturating_sub(last_pass.elapsed());
        let aside = flushed && !rest.is_zero();
        let timeout = match () {
            _ if back_off => BACKOFF_MS,
            _ if aside => rest.as_micros().div_ceil(1000) as i32,
            _ if active => TICK_MS,
            _ => IDLE_MS,
        };
        if timeout == IDLE_MS {
            // Nothing in use: what this thread freed goes back to the C library.
            blocks::give_back();
        }
        // `awake` cleared, then `queued` looked at (both SeqCst, see `Shared::wake`): what Lua
        // queued during the last pass is sent now, without a wait or a wake-up.
        shared.awake.store(false, Ordering::SeqCst);
        let woken = if !back_off && !aside && shared.queued.load(Ordering::SeqCst) {
            Woken::Queued
        } else {
            // After a socket error, sleep a tick instead of finding the socket readable at
            // once; while backing off or aside, datagrams wait for Lua's next pass (or the
            // end of this wait).
            let watch = !failing && !back_off && !aside;
            shared.waker.wait(watch.then_some(socket), timeout)
        };
        shared.awake.store(true, Ordering::SeqCst);
        if back_off || aside {
            if back_off && woken == Woken::Wake {
                // A send (or a waiting body) woke it: give Lua's next `service` the moment it
                // usually comes within, then look again.
                std::thread::sleep(Duration::from_micros(GATHER_US));
            }
            if woken == Woken::Wake || shared.wake_pending.load(Ordering::SeqCst) {
                shared.waker.drain();
            }
            shared.wake_pending.store(false, Ordering::SeqCst);
            if shared.stop.load(Ordering::SeqCst) {
                break;
            }
            continue;
        }
        if woken == Woken::Wake {
            // Lua is queueing and woke the thread: let the burst gather (its other sends find
            // the thread awake and skip the system call) and go out in one pass, a fraction
            // of a frame later, unless Lua flushes it meanwhile (then stand aside, above).
            std::thread::sleep(Duration::from_micros(GATHER_US));
            let flushed = active && shared.flushes.load(Ordering::Relaxed) != flushes_at_pass;
            if flushed && last_pass.elapsed() < BACKOFF {
                continue;
            }
        }
        if woken == Woken::Wake || shared.wake_pending.load(Ordering::SeqCst) {
            shared.waker.drain();
        }
        // Cleared after the drain and before the pass: a `wake` that finds it set queued its
        // work before this point, so the pass below sends it.
        shared.wake_pending.store(false, Ordering::SeqCst);
        let queued = shared.queued.swap(false, Ordering::SeqCst);
        let lua = queued || woken == Woken::Wake;
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
        // A mutex is not fair: released at the end of a pass and taken again at once for the
        // next (a flood keeps the socket readable), it could starve a body waiting for it,
        // which needs the scheduler to wake it first. So a waiting body goes first (the pass
        // waits 50 us at a time, up to 1 ms, then goes ahead: a body never holds the lock
        // long).
        for _ in 0..CONTENDED_WAITS {
            if shared.contending.load(Ordering::SeqCst) == 0 {
                break;
            }
            std::thread::sleep(Duration::from_micros(CONTENDED_WAIT_US));
        }
        let start = Instant::now();
        last_pass = start;
        flushes_at_pass = shared.flushes.load(Ordering::Relaxed);
        let guard = shared.lock.lock().unwrap_or_else(PoisonError::into_inner);
        // SAFETY: the host lives until this thread is joined (HostPtr), and the lock makes it
        // ours: with no event, ENet sends, receives and checks timeouts, and dispatches nothing;
        // then the getters' rows and the events hint are published (their contract: the lock
        // is held).
        let rc = unsafe {
            running.sends.hand_over(host);
            let rc = enet::enet_host_service(host, ptr::null_mut(), 0);
            active = slots_in_use(&*host);
            shared.active.store(active, Ordering::Relaxed);
            running.published.publish_events(host);
            running.published.publish_used(host);
            rc
        };
        let signal = running.published.events() && shared.waiting.load(Ordering::Relaxed) != 0;
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
