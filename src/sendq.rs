//! The sends of a background host that wait for its lock: `peer:send` of a small message copies
//! it here, with no lock, and whoever takes the host's lock next (the thread before its pass, a
//! method body, `service`'s own pass; held.rs `take`, background.rs `run`) hands the queued
//! messages to ENet first, in the order they were sent, so that nothing queued here is passed
//! by a later call. `Background::stop` hands over what is left once the thread is joined.
//!
//! Why: with the lock, a send in background mode cost 2-3 times normal mode's (bench/README.md
//! "Sends without the lock"): the lock, publishing the peer's row, and ENet's blocks allocated
//! on Lua's thread and freed on the other. Here Lua's thread copies the bytes, and the packet
//! is made, sent and freed on one thread.
//!
//! `send` answers at once, as ENet's `enet_peer_send` would: it takes this path only when the
//! peer's published row says ENet accepts the message (connected, the channel in range, the
//! size within the host's limit; published.rs), else the locked path gives ENet's own answer.
//! A peer that ENet resets between the two (a timeout the thread found) loses the message, as
//! a message ENet had queued is lost with its peer; so is one whose slot holds another
//! connection by then (the connect ID is compared), and one ENet has no memory for.
//!
//! A ring of [`CAPACITY`] bytes, one writer (Lua's thread, which owns the host) and one reader
//! at a time (the holder of the lock). An entry is a 16-byte header and the data, padded to 8
//! bytes; one that does not fit before the end of the ring is written at its start, after a
//! [`WRAP`] mark. Positions only grow (wrapping at 2^64 never happens: 2^64 bytes queued).

use crate::ffi::{self as enet, ENetHost};
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Bytes in the ring (a power of two).
pub const CAPACITY: usize = 64 * 1024;
/// The largest message queued here; a larger one takes the lock.
pub const LARGEST: usize = 1024;
const HEADER: usize = 16;
/// The length word of a header that says: the rest of the ring is empty, go on at its start.
const WRAP: u32 = u32::MAX;

/// One queued message, as sent.
#[derive(Clone, Copy)]
pub struct Entry<'a> {
    pub slot: u32,
    pub connect_id: u32,
    pub channel: u8,
    pub flags: u32,
    pub data: &'a [u8],
}

pub struct SendQueue {
    /// The ring, as 8-byte words (headers are aligned).
    ring: Box<[UnsafeCell<u64>]>,
    /// Where the writer writes next (written by it alone, Release).
    tail: AtomicUsize,
    /// Where the reader reads next (written by the holder of the lock, Release, after reading).
    head: AtomicUsize,
}

// SAFETY: the bytes in [head, tail) are written by the one writer before its Release store of
// `tail` and read only by a reader that loaded that `tail` with Acquire; the bytes outside
// are written only by the writer, after its Acquire load of a `head` the reader stored with
// Release once it had read them. Readers are one at a time (the host's lock), and the writer
// is the Lua thread that owns the host (a Lua state runs on one OS thread at a time).
unsafe impl Sync for SendQueue {}

fn padded(len: usize) -> usize {
    (HEADER + len).div_ceil(8) * 8
}

impl SendQueue {
    /// An empty ring, or `None` when memory is short (no abort, docs/contract.md §1.2).
    pub fn new() -> Option<SendQueue> {
        let mut words = Vec::new();
        words.try_reserve_exact(CAPACITY / 8).ok()?;
        words.resize_with(CAPACITY / 8, || UnsafeCell::new(0));
        Some(SendQueue {
            ring: words.into_boxed_slice(),
            tail: AtomicUsize::new(0),
            head: AtomicUsize::new(0),
        })
    }

    fn bytes(&self) -> *mut u8 {
        UnsafeCell::raw_get(self.ring.as_ptr()).cast()
    }

    /// Whether anything is queued (a hint for a reader that does not hold the lock).
    pub fn is_empty(&self) -> bool {
        self.head.load(Ordering::Relaxed) == self.tail.load(Ordering::Relaxed)
    }

    /// Queues `entry`; `false` when it is larger than [`LARGEST`] or the ring has no room for
    /// it (then the caller sends it under the lock, which empties the ring first).
    ///
    /// # Safety
    /// Called only by the Lua thread that owns the host (the one writer).
    pub unsafe fn push(&self, entry: Entry) -> bool {
        let len = entry.data.len();
        if len > LARGEST {
            return false;
        }
        let size = padded(len);
        let tail = self.tail.load(Ordering::Relaxed);
        let head = self.head.load(Ordering::Acquire);
        let at = tail % CAPACITY;
        // The end of the ring is skipped when the entry does not fit before it.
        let skip = if at + size > CAPACITY {
            CAPACITY - at
        } else {
            0
        };
        if CAPACITY - (tail - head) < skip + size {
            return false;
        }
        let base = self.bytes();
        // SAFETY: [tail, tail + skip + size) is free (checked above against `head`, whose
        // bytes the reader has finished with), inside the ring (`at + skip` wraps to 0 when
        // skipping, `size` fits after it), and 8-byte aligned for the header words; `data`
        // does not overlap the ring.
        unsafe {
            if skip != 0 {
                base.add(at).cast::<u32>().write(WRAP);
            }
            let at = (at + skip) % CAPACITY;
            let header = base.add(at).cast::<u32>();
            header.write(len as u32);
            header.add(1).write(entry.slot);
            header.add(2).write(entry.connect_id);
            header
                .add(3)
                .write(entry.flags << 8 | u32::from(entry.channel));
            std::ptr::copy_nonoverlapping(entry.data.as_ptr(), base.add(at + HEADER), len);
        }
        self.tail.store(tail + skip + size, Ordering::Release);
        true
    }

    /// Hands every queued message to ENet, oldest first: each to the peer of its slot if that
    /// still holds the same connection, connected; else it is dropped. Returns how many were
    /// handed over.
    ///
    /// # Safety
    /// The caller holds the host's lock (or the thread is joined), and `host` is the live ENet
    /// host the entries were queued for.
    pub unsafe fn hand_over(&self, host: *mut ENetHost) -> usize {
        let tail = self.tail.load(Ordering::Acquire);
        let mut head = self.head.load(Ordering::Relaxed);
        let base = self.bytes();
        let mut count = 0;
        while head != tail {
            let at = head % CAPACITY;
            // SAFETY: [head, tail) was written by `push` before its Release store of `tail`,
            // loaded above with Acquire; headers are aligned; a header's length is at most
            // LARGEST, so the data lies inside the ring; the lock makes the host ours and
            // `slot < peerCount` is checked before the peer is reached.
            unsafe {
                let header = base.add(at).cast::<u32>();
                let len = header.read();
                if len == WRAP {
                    head += CAPACITY - at;
                    continue;
                }
                let len = len as usize;
                if len > LARGEST {
                    // Only `push` writes here, and it never queues more: unreachable, but a
                    // length past the ring must not be followed.
                    head = tail;
                    break;
                }
                let slot = header.add(1).read() as usize;
                let connect_id = header.add(2).read();
                let word = header.add(3).read();
                head += padded(len);
                if slot >= (*host).peerCount {
                    continue;
                }
                let peer = (*host).peers.add(slot);
                if (*peer).connectID != connect_id
                    || (*peer).state != enet::ENET_PEER_STATE_CONNECTED
                {
                    continue;
                }
                let packet = enet::enet_packet_create(base.add(at + HEADER).cast(), len, word >> 8);
                if packet.is_null() {
                    continue;
                }
                if enet::enet_peer_send(peer, word as u8, packet) < 0 {
                    if (*packet).referenceCount == 0 {
                        enet::enet_packet_destroy(packet);
                    }
                    continue;
                }
                count += 1;
            }
        }
        self.head.store(head, Ordering::Release);
        count
    }
}
