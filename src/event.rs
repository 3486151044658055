//! An ENet event turned into the reference's plain Lua table:
//! `{type = "connect"|"disconnect"|"receive", peer = <peer>, data = <integer|string>[, channel]}`,
//! plus `reason` on disconnect events (an addition).
use crate::ffi::{self as enet, ENetEvent, ENetPacket};
use crate::host::{push_peer, slot_of, HostUd};
use crate::lua::{ffi, push_name, Name, State};
use std::os::raw::c_int;

/// Pushes the event as a table: a new one, or the caller's table at `target`, whose fields are
/// all overwritten (zero-garbage delivery). Keys are interned names, set with `rawset`.
///
/// # Safety
/// Argument 1 must be the live host userdata that produced `event`.
pub unsafe fn push_event(l: State, event: &ENetEvent, target: Option<c_int>) {
    // SAFETY: the event's peer points into the peer array of the host in argument 1; a received
    // packet is owned by us and handed to `deliver_packet`, which frees it.
    unsafe {
        let fresh = target.is_none();
        match target {
            Some(idx) => ffi::lua_pushvalue(l, idx),
            None => ffi::lua_createtable(l, 0, 4),
        }
        let kind = match event.r#type {
            enet::ENET_EVENT_TYPE_CONNECT => Name::Connect,
            enet::ENET_EVENT_TYPE_DISCONNECT => Name::Disconnect,
            enet::ENET_EVENT_TYPE_RECEIVE => Name::Receive,
            _ => Name::None,
        };
        push_name(l, Name::Type);
        push_name(l, kind);
        ffi::lua_rawset(l, -3);

        let hud = ffi::lua_touserdata(l, 1) as *mut HostUd;
        let slot = (!event.peer.is_null()).then(|| slot_of((*hud).host, event.peer));
        push_name(l, Name::Peer);
        match slot {
            Some(slot) => push_peer(l, slot),
            None => ffi::lua_pushnil(l),
        }
        ffi::lua_rawset(l, -3);

        push_name(l, Name::Data);
        match (event.r#type, slot) {
            (enet::ENET_EVENT_TYPE_RECEIVE, Some(slot)) => {
                (*hud).deliver_packet(l, slot, event.peer, event.packet);
                ffi::lua_rawset(l, -3);
                push_name(l, Name::Channel);
                ffi::lua_pushinteger(l, event.channelID.into());
                ffi::lua_rawset(l, -3);
            }
            (enet::ENET_EVENT_TYPE_NONE, _) => {
                ffi::lua_pushnil(l);
                ffi::lua_rawset(l, -3);
            }
            _ => {
                ffi::lua_pushinteger(l, event.data.into());
                ffi::lua_rawset(l, -3);
            }
        }
        if !fresh && event.r#type != enet::ENET_EVENT_TYPE_RECEIVE {
            push_name(l, Name::Channel);
            ffi::lua_pushnil(l);
            ffi::lua_rawset(l, -3);
        }

        // Addition: why a peer disconnected (vendor/enet/PATCHES.md §9).
        let reason = match event.r#type {
            enet::ENET_EVENT_TYPE_DISCONNECT => disconnect_reason(event),
            _ => None,
        };
        if reason.is_some() || !fresh {
            push_name(l, Name::Reason);
            match reason {
                Some(reason) => push_name(l, reason),
                None => ffi::lua_pushnil(l),
            }
            ffi::lua_rawset(l, -3);
        }
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
/// The bytes of a received packet. ENet gives an empty packet a null `data` pointer, which a
/// slice must never have, so that case is the empty slice.
///
/// # Safety
/// `packet` must be a valid packet that outlives the returned slice.
pub unsafe fn packet_bytes<'a>(packet: *const ENetPacket) -> &'a [u8] {
    // SAFETY: a valid packet's non-null `data` points to `dataLength` bytes.
    unsafe {
        let (data, len) = ((*packet).data, (*packet).dataLength);
        if data.is_null() || len == 0 {
            &[]
        } else {
            std::slice::from_raw_parts(data, len)
        }
    }
}
