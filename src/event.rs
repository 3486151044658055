//! An ENet event turned into the reference's plain Lua table:
//! `{type = "connect"|"disconnect"|"receive", peer = <peer>, data = <integer|string>[, channel]}`,
//! plus `reason` on disconnect events (an addition).
//!
//! The body turns ENet's event into an [`Event`] (plain data and the received packet, which is
//! ours from then on); the reply phase builds the table ([`Event::push`]).
use crate::ffi::{self as enet, ENetEvent, ENetHost};
use crate::lua::{ffi, push_bytes, push_name, Name, Push, State};
use crate::object::{self, HostCore};
use crate::packet::{self, Owned, Staged};
use std::os::raw::c_int;

/// An event, ready to become a table.
#[derive(Clone, Copy)]
pub struct Event {
    kind: Name,
    /// Stack index of the host userdata that produced the event.
    host: c_int,
    /// The peer's slot, if the event has a peer.
    slot: Option<usize>,
    channel: u8,
    data: u32,
    /// A received packet, owned by the event until it is pushed.
    packet: Option<Owned>,
    reason: Option<Name>,
    /// The caller's table to fill (`service(timeout, t)`), or a new one.
    target: Option<c_int>,
}

impl Event {
    /// Takes over what ENet reported: reads everything the table needs now, while the host is
    /// certainly alive, and counts a received packet on its slot.
    ///
    /// # Safety
    /// `event` was just filled by ENet for the live `host`, owned by `core`, which is the host
    /// userdata at stack index `host_idx`.
    #[inline(never)]
    pub unsafe fn take(
        event: &ENetEvent,
        core: &HostCore,
        host: *mut ENetHost,
        host_idx: c_int,
        target: Option<c_int>,
    ) -> Event {
        // SAFETY: the event's peer points into the host's peer array; the packet is ours.
        unsafe {
            let slot =
                (!event.peer.is_null()).then(|| event.peer.offset_from((*host).peers) as usize);
            let kind = match event.r#type {
                enet::ENET_EVENT_TYPE_CONNECT => Name::Connect,
                enet::ENET_EVENT_TYPE_DISCONNECT => Name::Disconnect,
                enet::ENET_EVENT_TYPE_RECEIVE => Name::Receive,
                _ => Name::None,
            };
            let mut packet = None;
            if kind == Name::Receive {
                if let Some(info) = slot.and_then(|s| core.connection(s, (*event.peer).connectID)) {
                    info.count_received(packet::bytes(event.packet).len());
                }
                packet = Some(Owned::take(event.packet));
            }
            Event {
                kind,
                host: host_idx,
                slot,
                channel: event.channelID,
                data: event.data,
                packet,
                reason: (kind == Name::Disconnect)
                    .then(|| disconnect_reason(event))
                    .flatten(),
                target,
            }
        }
    }
}

/// The event as a table: a new one, or the caller's table, whose fields are all overwritten
/// (zero-garbage delivery). Keys are interned names, set with `rawset`.
impl Push for Event {
    unsafe fn push(self, l: State) -> c_int {
        // SAFETY: the packet is staged (freed) before anything else allocates, and a small copy
        // lives in `buf` until pushed; the rest is plain data and the module's own objects.
        unsafe {
            let fresh = self.target.is_none();
            let mut buf = std::mem::MaybeUninit::uninit();
            let data = self.packet.map(|packet| packet::stage(l, packet, &mut buf));
            match self.target {
                Some(idx) => ffi::lua_pushvalue(l, idx),
                None => ffi::lua_createtable(l, 0, 4),
            }
            push_name(l, Name::Type);
            push_name(l, self.kind);
            ffi::lua_rawset(l, -3);

            push_name(l, Name::Peer);
            match self.slot {
                Some(slot) => object::push_peer(l, self.host, slot),
                None => ffi::lua_pushnil(l),
            }
            ffi::lua_rawset(l, -3);

            push_name(l, Name::Data);
            if let Some(Staged::Small(bytes)) = data {
                push_bytes(l, bytes);
            } else if let Some(Staged::Pushed) = data {
                ffi::lua_pushvalue(l, -3);
            } else if self.kind == Name::None {
                ffi::lua_pushnil(l);
            } else {
                ffi::lua_pushinteger(l, self.data.into());
            }
            ffi::lua_rawset(l, -3);

            if self.kind == Name::Receive {
                push_name(l, Name::Channel);
                ffi::lua_pushinteger(l, self.channel.into());
                ffi::lua_rawset(l, -3);
            } else if !fresh {
                push_name(l, Name::Channel);
                ffi::lua_pushnil(l);
                ffi::lua_rawset(l, -3);
            }

            // Addition: why a peer disconnected (vendor/enet/patches/0007-disconnect-reason.patch).
            if self.reason.is_some() || !fresh {
                push_name(l, Name::Reason);
                match self.reason {
                    Some(reason) => push_name(l, reason),
                    None => ffi::lua_pushnil(l),
                }
                ffi::lua_rawset(l, -3);
            }
            if let Some(Staged::Pushed) = data {
                ffi::lua_replace(l, -2); // drop the data string below the table
            }
        }
        1
    }
}

/// `"local"`, `"remote"`, `"timeout"` or `"refused"` for a disconnect event.
fn disconnect_reason(event: &ENetEvent) -> Option<Name> {
    if event.peer.is_null() {
        return None;
    }
    // SAFETY: the event's peer points into its live host's peer array.
    let reason = unsafe { (*event.peer).disconnectReason };
    match reason {
        enet::ENET_DISCONNECT_REASON_LOCAL => Some(Name::Local),
        enet::ENET_DISCONNECT_REASON_REMOTE => Some(Name::Remote),
        enet::ENET_DISCONNECT_REASON_TIMEOUT => Some(Name::Timeout),
        enet::ENET_DISCONNECT_REASON_REFUSED => Some(Name::Refused),
        _ => None,
    }
}
