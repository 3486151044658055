//! What a background host publishes for the Lua side to read without its lock (background.rs):
//! a row of atomics per peer slot with the fields the lock-free getters return (peer.rs), and
//! whether ENet has an event ready. Whoever holds the host's lock publishes (the thread after
//! each pass, a body for what it changed); ENet's own fields are read only under that lock and
//! the rows only through atomics, so no memory is accessed both ways.
use crate::ffi::{ENetHost, ENetPeer};
use std::cell::UnsafeCell;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// The published peer fields, by index (peer.rs names them in its getters).
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
const FIELDS: usize = 8;

/// The published host fields, by index (host.rs names them in its getters).
pub mod host_field {
    pub const CONNECTED_PEERS: usize = 0;
    pub const TOTAL_SENT_DATA: usize = 1;
    pub const TOTAL_RECEIVED_DATA: usize = 2;
    pub const TOTAL_SENT_PACKETS: usize = 3;
    pub const TOTAL_RECEIVED_PACKETS: usize = 4;
    pub const SERVICE_TIME: usize = 5;
    pub const PEER_COUNT: usize = 6;
    /// ENet's `maximumPacketSize` (at most 2^31 - 1: `host:maximum_packet_size`), for
    /// `send`'s queue (sendq.rs).
    pub const MAXIMUM_PACKET_SIZE: usize = 7;
}
/// How many fields the host's row has.
const HOST_FIELDS: usize = 8;

/// The fields of `host`, in [`host_field`] order. ENet's counts are 32-bit, and a host has at
/// most 4095 slots.
fn host_fields(host: &ENetHost) -> [u32; HOST_FIELDS] {
    [
        host.connectedPeers as u32,
        host.totalSentData,
        host.totalReceivedData,
        host.totalSentPackets,
        host.totalReceivedPackets,
        host.serviceTime,
        host.peerCount as u32,
        host.maximumPacketSize.min(u32::MAX as usize) as u32,
    ]
}

/// Relaxed stores of the values of `values` that differ from `cells`'.
fn store_changed(cells: &[AtomicU32], values: &[u32]) {
    for (cell, &value) in cells.iter().zip(values) {
        if cell.load(Ordering::Relaxed) != value {
            cell.store(value, Ordering::Relaxed);
        }
    }
}

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

    pub const fn has(self, other: Access) -> bool {
        self.0 & other.0 != 0
    }
}

/// The rows of one host, and its events hint.
pub struct Published {
    /// `peerCount` rows: atomics only.
    rows: Box<[Row]>,
    /// The host's own row: its counters change in a pass and its connected peers when a peer's
    /// state does, so it is published after every pass and with every state change.
    host: [AtomicU32; HOST_FIELDS],
    /// A set bit for each slot whose published state is not DISCONNECTED (so it is published
    /// again after it leaves ENet's in-use bitmap). Touched only under the host's lock.
    used: UnsafeCell<Box<[u32]>>,
    /// ENet's dispatch queue held a peer when the lock was last released: a `service(0)` or
    /// `check_events` that finds it clear returns no event without the lock (a hint only: a
    /// stale value costs a call's event or a lock, never correctness).
    events: AtomicBool,
}

impl Published {
    /// Rows for `host` (nothing published yet), or `None` instead of an abort when memory is
    /// short.
    pub fn new(host: &ENetHost) -> Option<Published> {
        Some(Published {
            rows: try_boxed_slice(host.peerCount)?,
            host: Default::default(),
            used: UnsafeCell::new(try_boxed_slice(host.slotWords)?),
            events: AtomicBool::new(false),
        })
    }

    /// The published field `field` of slot `slot`: a relaxed load.
    #[inline(always)]
    pub fn get(&self, slot: usize, field: usize) -> Option<u32> {
        Some(self.rows.get(slot)?[field].load(Ordering::Relaxed))
    }

    /// The published host field `field`: a relaxed load.
    #[inline(always)]
    pub fn get_host(&self, field: usize) -> Option<u32> {
        Some(self.host.get(field)?.load(Ordering::Relaxed))
    }

    /// Publishes the host's own row.
    ///
    /// # Safety
    /// As [`Published::publish_events`].
    pub unsafe fn publish_host(&self, host: *mut ENetHost) {
        // SAFETY: the lock makes the host ours (the contract).
        store_changed(&self.host, &host_fields(unsafe { &*host }));
    }

    /// The events hint.
    #[inline(always)]
    pub fn events(&self) -> bool {
        self.events.load(Ordering::Relaxed)
    }

    /// Publishes whether ENet's dispatch queue holds a peer.
    ///
    /// # Safety
    /// The caller holds the lock of `host`, the live host these rows were made for.
    pub unsafe fn publish_events(&self, host: *mut ENetHost) {
        // SAFETY: the lock makes the host ours; the queue's sentinel lives with the host.
        let ready = unsafe {
            let queue = &(*host).dispatchQueue.sentinel;
            !ptr::eq(queue.next, queue)
        };
        if self.events.load(Ordering::Relaxed) != ready {
            self.events.store(ready, Ordering::Relaxed);
        }
    }

    /// Publishes one slot's fields (relaxed stores of the values that changed), and the host's
    /// row when the slot's state changed (a peer entering or leaving the connected states
    /// changes the host's count of them).
    ///
    /// # Safety
    /// As [`Published::publish_events`]; `slot < peerCount`.
    pub unsafe fn publish_slot(&self, host: *mut ENetHost, slot: usize) {
        // SAFETY: the lock makes the host and `used` ours (no other reference to `used` lives
        // meanwhile); the slot is inside the peer array (the contract).
        unsafe {
            let values = fields(&*(*host).peers.add(slot));
            let row = &self.rows[slot];
            if row[field::STATE].load(Ordering::Relaxed) != values[field::STATE] {
                self.publish_host(host);
            }
            store_changed(row, &values);
            let used = &mut *self.used.get();
            let bit = 1u32 << (slot % 32);
            if values[field::STATE] != 0 {
                used[slot / 32] |= bit;
            } else {
                used[slot / 32] &= !bit;
            }
        }
    }

    /// Publishes the host's row, every slot in use in ENet's bitmap, and every slot published as
    /// in use before.
    ///
    /// # Safety
    /// As [`Published::publish_events`].
    pub unsafe fn publish_used(&self, host: *mut ENetHost) {
        // SAFETY: the lock makes the host and `used` ours; ENet allocates `slotWords` words of
        // its free bitmap for the host's life, and `used` has as many.
        unsafe {
            self.publish_host(host);
            let h = &*host;
            for word in 0..h.slotWords {
                let free = *h.slotBits.add(word);
                let mut bits = (!free & valid_bits(h, word)) | (*self.used.get())[word];
                while bits != 0 {
                    let bit = bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    self.publish_slot(host, word * 32 + bit);
                }
            }
        }
    }

    /// Publishes every slot, in use or not.
    ///
    /// # Safety
    /// As [`Published::publish_events`].
    pub unsafe fn publish_all(&self, host: *mut ENetHost) {
        // SAFETY: the contract; every slot is below peerCount.
        unsafe {
            self.publish_events(host);
            self.publish_host(host);
            for slot in 0..self.rows.len() {
                self.publish_slot(host, slot);
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

/// Whether any peer slot is in use (not disconnected), from ENet's bitmap of free slots
/// (vendor/enet/patches/0024-handshake-records.patch: a set bit is a free slot).
pub fn slots_in_use(host: &ENetHost) -> bool {
    (0..host.slotWords).any(|word| {
        // SAFETY: ENet allocates 3 * slotWords + 1 words of bitmaps for the host's life.
        let free = unsafe { *host.slotBits.add(word) };
        !free & valid_bits(host, word) != 0
    })
}

/// A boxed slice of `len` default values, or `None` instead of an abort when memory is short.
fn try_boxed_slice<T: Default>(len: usize) -> Option<Box<[T]>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).ok()?;
    v.resize_with(len, T::default);
    Some(v.into_boxed_slice())
}
