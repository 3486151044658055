//! An ENet event turned into the reference's plain Lua table:
//! `{type = "connect"|"disconnect"|"receive", peer = <peer>, data = <integer|string>[, channel]}`,
//! plus `reason` on disconnect events (an addition).
use crate::ffi::{self as enet, ENetEvent, ENetPacket};
use crate::host::{push_peer, slot_of, HostUd};
use crate::lua::{ffi, push_cstr, State};
use std::os::raw::c_int;

/// Pushes the event as a table: a new one, or the caller's table at `target`, whose fields are
/// all overwritten (zero-garbage delivery).
///
/// # Safety
/// Argument 1 must be the live host userdata that produced `event`.
pub unsafe fn push_event(l: State, event: &ENetEvent, target: Option<c_int>) {
    // SAFETY: the event's peer points into the peer array of the host in argument 1; a received
    // packet is owned by us and parked in `pending` until Lua has copied it.
    unsafe {
        match target {
            Some(idx) => ffi::lua_pushvalue(l, idx),
            None => ffi::lua_createtable(l, 0, 4),
        }
        let kind = match event.r#type {
            enet::ENET_EVENT_TYPE_CONNECT => c"connect",
            enet::ENET_EVENT_TYPE_DISCONNECT => c"disconnect",
            enet::ENET_EVENT_TYPE_RECEIVE => c"receive",
            _ => c"none",
        };
        push_cstr(l, kind);
        ffi::lua_setfield(l, -2, c"type".as_ptr());

        let hud = ffi::lua_touserdata(l, 1) as *mut HostUd;
        if event.peer.is_null() {
            ffi::lua_pushnil(l);
        } else {
            push_peer(l, slot_of((*hud).host, event.peer));
        }
        ffi::lua_setfield(l, -2, c"peer".as_ptr());

        match event.r#type {
            enet::ENET_EVENT_TYPE_RECEIVE => {
                let slot = slot_of((*hud).host, event.peer);
                (*hud).deliver_packet(l, slot, event.peer, event.packet);
                ffi::lua_setfield(l, -2, c"data".as_ptr());
                ffi::lua_pushinteger(l, event.channelID.into());
            }
            enet::ENET_EVENT_TYPE_NONE => {
                ffi::lua_pushnil(l);
                ffi::lua_setfield(l, -2, c"data".as_ptr());
                ffi::lua_pushnil(l);
            }
            _ => {
                ffi::lua_pushinteger(l, event.data.into());
                ffi::lua_setfield(l, -2, c"data".as_ptr());
                ffi::lua_pushnil(l);
            }
        }
        ffi::lua_setfield(l, -2, c"channel".as_ptr());

        // Addition: why a peer disconnected (vendor/enet/PATCHES.md §9).
        match (event.r#type, disconnect_reason(event)) {
            (enet::ENET_EVENT_TYPE_DISCONNECT, Some(reason)) => push_cstr(l, reason),
            _ => ffi::lua_pushnil(l),
        }
        ffi::lua_setfield(l, -2, c"reason".as_ptr());
    }
}

/// `"local"`, `"remote"`, `"timeout"` or `"refused"` for a disconnect event.
fn disconnect_reason(event: &ENetEvent) -> Option<&'static std::ffi::CStr> {
    if event.peer.is_null() {
        return None;
    }
    // SAFETY: the event's peer points into its live host's peer array.
    let reason = unsafe { (*event.peer).disconnectReason };
    match reason {
        enet::ENET_DISCONNECT_REASON_LOCAL => Some(c"local"),
        enet::ENET_DISCONNECT_REASON_REMOTE => Some(c"remote"),
        enet::ENET_DISCONNECT_REASON_TIMEOUT => Some(c"timeout"),
        enet::ENET_DISCONNECT_REASON_REFUSED => Some(c"refused"),
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
