//! The sends of a background host that wait for its lock: `peer:send` of a small message copies
//! it here, with no lock, and whoever takes the host's lock next (the thread before its pass, a
//! method body, `service`'s own pass; held.rs `lock`, background.rs `run`) hands the queued
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
//! A peer that ENet resets between the two (a timeout or a DISCONNECT that the thread's pass
//! found) loses the message, as a message ENet had queued is lost with its peer; so is one
//! whose slot holds another connection by then (the connect ID is compared), and one ENet has
//! no memory for.
//!
//! A ring of [`CAPACITY`] bytes, one writer (Lua's thread, which owns the host) and one reader
//! at a time (the holder of the lock). An entry is a 16-byte header and the data, padded to 8
//! bytes; one that does not fit before the end of the ring is written at its start, after a
//! [`WRAP`] mark. Positions only grow (wrapping at 2^64 never happens: 2^64 bytes queued).

use crate::ffi::{self as enet, ENetHost};
use crate::published::{field, host_field, Published};
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

/// `peer:send` of `data` to slot `slot` of a background host without the lock: queued in
/// `sends` when the slot's row in `published` says ENet would accept it (connected, the channel
/// below its count, within the host's maximum packet size) and the queue has room. Returns the
/// connection's ID when queued (the caller then wakes the thread), `None` when the caller must
/// send under the lock (ENet's own answer).
///
/// # Safety
/// Called only by the Lua thread that owns the host (the queue's one writer).
pub unsafe fn try_queue(
    published: &Published,
    sends: &SendQueue,
    slot: usize,
    channel: u8,
    flags: u32,
    data: &[u8],
) -> Option<u32> {
    if published.get(slot, field::STATE)? != enet::ENET_PEER_STATE_CONNECTED as u32
        || u32::from(channel) >= published.get(slot, field::CHANNEL_COUNT)?
        || data.len() > published.get_host(host_field::MAXIMUM_PACKET_SIZE)? as usize
    {
        return None;
    }
    let connect_id = published.get(slot, field::CONNECT_ID)?;
    let entry = Entry {
        slot: slot as u32,
        connect_id,
        channel,
        flags,
        data,
    };
    // SAFETY: the caller's contract: the one writer.
    unsafe { sends.push(entry) }.then_some(connect_id)
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

    /// Passes every queued entry to `each`, oldest first, and frees their room.
    ///
    /// # Safety
    /// One reader at a time: the caller holds the host's lock (or the thread is joined).
    pub unsafe fn take_all(&self, mut each: impl FnMut(Entry)) {
        let tail = self.tail.load(Ordering::Acquire);
        let mut head = self.head.load(Ordering::Relaxed);
        let base = self.bytes();
        while head != tail {
            let at = head % CAPACITY;
            // SAFETY: [head, tail) was written by `push` before its Release store of `tail`,
            // loaded above with Acquire, and the writer does not touch it before the Release
            // store of `head` below; headers are aligned, and a length of at most LARGEST
            // keeps the data inside the ring (`push` never wraps an entry).
            let entry = unsafe {
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
                head += padded(len);
                let word = header.add(3).read();
                Entry {
                    slot: header.add(1).read(),
                    connect_id: header.add(2).read(),
                    channel: word as u8,
                    flags: word >> 8,
                    data: std::slice::from_raw_parts(base.add(at + HEADER), len),
                }
            };
            each(entry);
        }
        self.head.store(head, Ordering::Release);
    }

    /// Hands every queued message to ENet, oldest first: each to the peer of its slot if that
    /// still holds the same connection, connected; else it is dropped.
    ///
    /// # Safety
    /// The caller holds the host's lock (or the thread is joined), and `host` is the live ENet
    /// host the entries were queued for.
    pub unsafe fn hand_over(&self, host: *mut ENetHost) {
        // SAFETY: the caller's contract: one reader, and the lock makes the host ours;
        // `slot < peerCount` is checked before the peer is reached.
        unsafe {
            self.take_all(|entry| {
                let slot = entry.slot as usize;
                if slot >= (*host).peerCount {
                    return;
                }
                let peer = (*host).peers.add(slot);
                if (*peer).connectID != entry.connect_id
                    || (*peer).state != enet::ENET_PEER_STATE_CONNECTED
                {
                    return;
                }
                let data = entry.data;
                let packet =
                    enet::enet_packet_create(data.as_ptr().cast(), data.len(), entry.flags);
                if packet.is_null() {
                    return;
                }
                if enet::enet_peer_send(peer, entry.channel, packet) < 0
                    && (*packet).referenceCount == 0
                {
                    enet::enet_packet_destroy(packet);
                }
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{padded, Entry, SendQueue, CAPACITY, LARGEST};
    use std::collections::VecDeque;

    /// A model of the ring: FIFO contents and the bytes they take, wrap marks included.
    #[test]
    fn fifo_with_wraps_and_a_full_ring() {
        let q = SendQueue::new().unwrap();
        let mut model: VecDeque<(u32, Vec<u8>)> = VecDeque::new();
        // xorshift: a fixed seed, so a failure replays
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let (mut pushed, mut refused, mut wraps) = (0u32, 0u32, 0u32);
        let mut tail = 0usize; // the model's write position, to predict refusals
        let mut head = 0usize;
        for round in 0..20_000u32 {
            let r = next();
            if r % 151 == 0 {
                let mut got = Vec::new();
                // SAFETY: one reader (this test).
                unsafe {
                    q.take_all(|e| {
                        got.push((e.slot, e.connect_id, e.channel, e.flags, e.data.to_vec()))
                    })
                };
                for (slot, id, channel, flags, data) in got {
                    let (n, want) = model.pop_front().expect("an entry the model does not have");
                    assert_eq!((slot, id, channel, flags), (n, !n, n as u8, n >> 8));
                    assert_eq!(data, want, "entry {n}");
                }
                assert!(model.is_empty(), "take_all left entries");
                head = tail;
                continue;
            }
            let len = match r % 5 {
                0 => 0,
                1 => LARGEST,
                2 => (r >> 8) as usize % 16,
                _ => (r >> 8) as usize % (LARGEST + 1),
            };
            let data: Vec<u8> = (0..len).map(|i| (i as u32 ^ round) as u8).collect();
            let at = tail % CAPACITY;
            let skip = if at + padded(len) > CAPACITY {
                CAPACITY - at
            } else {
                0
            };
            let fits = CAPACITY - (tail - head) >= skip + padded(len);
            let entry = Entry {
                slot: round,
                connect_id: !round,
                channel: round as u8,
                flags: round >> 8,
                data: &data,
            };
            // SAFETY: one writer (this test).
            let ok = unsafe { q.push(entry) };
            assert_eq!(
                ok,
                fits,
                "push {round} of {len} bytes at {at}, {} used",
                tail - head
            );
            if ok {
                tail += skip + padded(len);
                wraps += u32::from(skip != 0);
                model.push_back((round, data));
                pushed += 1;
            } else {
                refused += 1;
            }
        }
        assert!(
            pushed > 10_000 && refused > 100 && wraps > 50,
            "{pushed} {refused} {wraps}"
        );
        // SAFETY: as above.
        assert!(!unsafe { q.push(entry(&[0; LARGEST + 1])) });
    }

    fn entry(data: &[u8]) -> Entry<'_> {
        Entry {
            slot: 1,
            connect_id: 2,
            channel: 3,
            flags: 4,
            data,
        }
    }

    /// Room at the end of the ring but not after the wrap: refused, so unread entries at the
    /// start stay intact.
    #[test]
    fn the_wrap_needs_room_at_the_start_too() {
        let q = SendQueue::new().unwrap();
        let mut n = 0;
        // SAFETY: one writer and one reader, this test.
        unsafe {
            // head and tail at 512
            assert!(q.push(entry(&[7; 496])));
            q.take_all(|_| n += 1);
            // tail at 65520: 62 entries of 1040 bytes and one of 528
            for _ in 0..62 {
                assert!(q.push(entry(&[8; LARGEST])));
            }
            assert!(q.push(entry(&[9; 512])));
            // 528 bytes free: 16 at the end, 512 at the start; 520 fit only without the wrap
            assert!(!q.push(entry(&[1; 500])), "pushed over unread entries");
            // 8 + 16 bytes: wraps, into the 512 at the start
            assert!(q.push(entry(&[2; 8])));
            let mut got = Vec::new();
            q.take_all(|e| got.push(e.data.to_vec()));
            assert_eq!(got.len(), 64);
            assert!(got[..62].iter().all(|d| d[..] == [8; LARGEST]));
            assert_eq!(got[62], [9; 512]);
            assert_eq!(got[63], [2; 8]);
        }
        assert_eq!(n, 1);
    }
}
