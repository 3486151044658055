//! A received packet on its way into Lua: its bytes become a Lua string and the packet is freed,
//! exactly once, whatever a finalizer does meanwhile (docs/architecture.md, "Object lifetime").
use crate::ffi::{self as enet, ENetPacket};
use crate::lua::{ffi, push_bytes, push_constant, State, K_COPY_STRING};
use std::os::raw::c_int;

/// The bytes of a received packet. ENet gives an empty packet a null `data` pointer, which a
/// slice must never have, so that case is the empty slice.
///
/// # Safety
/// `packet` must be a valid packet that outlives the returned slice.
pub unsafe fn bytes<'a>(packet: *const ENetPacket) -> &'a [u8] {
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

/// Packets up to this size are copied to the C stack and freed before Lua sees their bytes.
pub const SMALL_PACKET: usize = 2048;

/// A received packet's bytes on their way into Lua (see [`stage`]).
pub enum Staged<'b> {
    /// Copied to the caller's buffer; the packet is freed.
    Small(&'b [u8]),
    /// Pushed as a string on the top of the stack; the packet is freed.
    Pushed,
}

/// Takes over a received packet, which the caller owns and which nothing else can reach, so
/// that whatever a finalizer does while the Lua string is made, the packet is freed exactly
/// once and never read after. A small packet is copied to `buf` and freed before any Lua call
/// (the caller pushes the copy); a large one is copied into a Lua string inside a protected
/// call, so that a raise cannot leak it.
///
/// # Safety
/// `packet` is a valid packet that the caller owns; `l` runs a function of this module.
pub unsafe fn stage<'b>(
    l: State,
    packet: *mut ENetPacket,
    buf: &'b mut std::mem::MaybeUninit<[u8; SMALL_PACKET]>,
) -> Staged<'b> {
    // SAFETY: a valid packet's bytes are readable until it is destroyed, which happens here
    // once, after the last read; `buf` has room for SMALL_PACKET bytes, of which only the
    // copied ones are exposed.
    unsafe {
        let data = bytes(packet);
        let len = data.len();
        if len <= SMALL_PACKET {
            let to = buf.as_mut_ptr() as *mut u8;
            std::ptr::copy_nonoverlapping(data.as_ptr(), to, len);
            enet::enet_packet_destroy(packet);
            return Staged::Small(std::slice::from_raw_parts(to, len));
        }
        // The helper comes from the constants table (no allocation before the call); the
        // pointer travels as two 32-bit halves, exact on every Lua's number type.
        let address = data.as_ptr() as usize as u64;
        push_constant(l, K_COPY_STRING);
        ffi::lua_pushinteger(l, (address >> 32) as ffi::lua_Integer);
        ffi::lua_pushinteger(l, (address & 0xFFFF_FFFF) as ffi::lua_Integer);
        ffi::lua_pushnumber(l, len as f64);
        let status = ffi::lua_pcall(l, 3, 1, 0);
        enet::enet_packet_destroy(packet);
        if status != ffi::LUA_OK {
            ffi::lua_error(l);
        }
        Staged::Pushed
    }
}

/// Pushes a received packet's bytes as a Lua string and frees the packet ([`stage`]).
///
/// # Safety
/// As [`stage`].
pub unsafe fn push(l: State, packet: *mut ENetPacket) {
    let mut buf = std::mem::MaybeUninit::uninit();
    // SAFETY: the caller owns `packet` and `l` runs one of our functions, which is all `stage`
    // asks; a small packet's bytes live in `buf`, which outlives the push that copies them.
    unsafe {
        if let Staged::Small(bytes) = stage(l, packet, &mut buf) {
            push_bytes(l, bytes);
        }
    }
}

/// The protected helper of [`stage`]: `(high, low, length)` to a string.
///
/// # Safety
/// Called only by `stage`, with the address and length of bytes that stay valid.
pub unsafe extern "C-unwind" fn copy_string(l: State) -> c_int {
    // SAFETY: the arguments are exactly what `stage` pushed, describing live bytes. A
    // script cannot reach this function (it sits only in the constants table).
    unsafe {
        let high = ffi::lua_tonumber(l, 1) as u64;
        let low = ffi::lua_tonumber(l, 2) as u64;
        let len = ffi::lua_tonumber(l, 3) as usize;
        let address = ((high << 32) | low) as usize;
        if address == 0 {
            return 0;
        }
        push_bytes(l, std::slice::from_raw_parts(address as *const u8, len));
        1
    }
}
