//! Packets both ways. A message to send becomes an ENet packet only once its arguments are all
//! checked ([`Message`]); a received packet ([`Owned`]) goes into Lua as a string and is freed
//! exactly once, whatever a finalizer does meanwhile (docs/architecture.md, "Object lifetime").
use crate::args::Args;
use crate::ffi::{self as enet, ENetPacket};
use crate::lua::{ffi, push_bytes, push_constant, Raise, State, K_COPY_STRING};
use std::cell::Cell;
use std::os::raw::c_int;

/// A message to send, its arguments checked in the reference's order: data (argument 2),
/// flag (4), channel (3). Nothing is allocated until [`Message::packet`].
pub struct Message<'a> {
    pub data: &'a [u8],
    pub flags: u32,
    pub channel: u8,
}

impl<'a> Message<'a> {
    pub fn from_args(args: Args<'a>) -> Result<Message<'a>, Raise> {
        let data = args.bytes(2)?;
        let flags = match args.opt_bytes(4)? {
            None | Some(b"reliable") => enet::ENET_PACKET_FLAG_RELIABLE,
            Some(b"unreliable") => 0,
            Some(b"unsequenced") => enet::ENET_PACKET_FLAG_UNSEQUENCED,
            Some(_) => return Err(Raise::MsgArg(c"Unknown packet flag: ", 4)),
        };
        let channel = args.opt_u32(3, 0)? as u8;
        Ok(Message {
            data,
            flags,
            channel,
        })
    }

    /// A new ENet packet holding a copy of the data; the caller owns it.
    pub fn packet(&self) -> Result<*mut ENetPacket, Raise> {
        // SAFETY: `data` is a valid slice; ENet copies it.
        let packet = unsafe {
            enet::enet_packet_create(self.data.as_ptr().cast(), self.data.len(), self.flags)
        };
        if packet.is_null() {
            return Err(Raise::Msg(c"Failed to create packet"));
        }
        Ok(packet)
    }
}

/// A received packet that ENet has handed over: the module owns it until [`stage`] frees it in
/// the reply phase. It is the one pointer a reply carries (lua.rs, `Push`), and it is `Copy`
/// like every reply (nothing with a destructor may cross into the reply phase): the body that
/// takes it puts it in exactly one reply, whose push stages it exactly once.
#[derive(Clone, Copy)]
pub struct Owned(*mut ENetPacket);

// SAFETY: replies must be `Send` so that no ENet pointer reaches the reply phase, where a
// finalizer may destroy the host and free what the pointer points to. This one may: ENet gave
// the packet away (enet_peer_receive, a RECEIVE event), so it belongs to no host, no queue
// refers to it and nothing but `stage` frees it, whatever a finalizer does. It never crosses a
// thread: a host and what it delivers belong to the Lua state that made them.
unsafe impl Send for Owned {}

impl Owned {
    /// Takes over a packet that ENet has just handed over.
    ///
    /// # Safety
    /// `packet` is a valid packet that nothing else refers to or frees (what
    /// `enet_peer_receive` and a RECEIVE event give).
    pub unsafe fn take(packet: *mut ENetPacket) -> Owned {
        Owned(packet)
    }
}

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

/// The bytes that [`stage`] is copying into a Lua string, and the thread it copies them for:
/// all that [`copy_string`] can ever copy.
#[derive(Clone, Copy)]
struct Pending {
    l: State,
    data: *const u8,
    len: usize,
}

impl Pending {
    const NONE: Pending = Pending {
        l: std::ptr::null_mut(),
        data: std::ptr::null(),
        len: 0,
    };
}

thread_local! {
    /// The copy in progress on this OS thread, if any. A script can call [`copy_string`] with
    /// the debug library (the constants table is an upvalue of every function, and a call hook
    /// sees the helper being called), so the helper takes nothing from its arguments: it copies
    /// what `stage` published here, which stays readable until `stage` takes it back.
    /// Its value has no destructor, and `LocalKey` accessors panic only for a value whose
    /// destructor is running or has run: reading or setting it cannot panic.
    static PENDING: Cell<Pending> = const { Cell::new(Pending::NONE) };
}

/// Frees a received packet once its bytes are on their way into Lua, so that whatever a
/// finalizer does while the Lua string is made, the packet is freed exactly once and never read
/// after. A small packet is copied to `buf` and freed before any Lua call (the caller pushes the
/// copy); a large one is copied into a Lua string inside a protected call, so that a raise
/// cannot leak it.
///
/// # Safety
/// `packet` has not been staged before (no copy of it); `l` runs a function of this module.
pub unsafe fn stage<'b>(
    l: State,
    packet: Owned,
    buf: &'b mut std::mem::MaybeUninit<[u8; SMALL_PACKET]>,
) -> Staged<'b> {
    let Owned(packet) = packet;
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
        // The helper comes from the constants table (no allocation before the call) and gets
        // no arguments: the bytes are published in PENDING for exactly the protected call.
        // lua_pcall returns whatever happens inside (a raise, a hook's error, a nested stage
        // on another host that publishes and takes back its own bytes), so the previous value
        // is always restored before the packet is freed or anything is raised: PENDING never
        // names freed bytes. Nothing between the two `PENDING` calls can panic.
        push_constant(l, K_COPY_STRING);
        let previous = PENDING.replace(Pending {
            l,
            data: data.as_ptr(),
            len,
        });
        let status = ffi::lua_pcall(l, 0, 1, 0);
        PENDING.set(previous);
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
pub unsafe fn push(l: State, packet: Owned) {
    let mut buf = std::mem::MaybeUninit::uninit();
    // SAFETY: the caller stages `packet` once and `l` runs one of our functions, which is all
    // `stage` asks; a small packet's bytes live in `buf`, which outlives the push that copies them.
    unsafe {
        if let Staged::Small(bytes) = stage(l, packet, &mut buf) {
            push_bytes(l, bytes);
        }
    }
}

/// The protected helper of [`stage`]: the bytes `stage` is copying, as a string, or nothing
/// when no copy is in progress for the calling thread (coroutine).
///
/// A script can reach this function through the debug library and call it with anything; it
/// reads no argument, so the most it can get is a second copy of the packet being delivered to
/// it, during that delivery (from a call hook, or a finalizer that runs inside the copy).
///
/// # Safety
/// Called by Lua only, with a valid state (any arguments).
pub unsafe extern "C-unwind" fn copy_string(l: State) -> c_int {
    let pending = PENDING.get();
    if pending.data.is_null() || pending.l != l {
        return 0;
    }
    // SAFETY: `stage` publishes the bytes of a packet it owns only for the duration of its
    // protected call and restores the previous value before it frees the packet, so published
    // bytes are live; nested stages restore in the order they published (their calls nest).
    // Lua copies the bytes; a raise here (out of memory) returns to that protected call.
    unsafe {
        push_bytes(l, std::slice::from_raw_parts(pending.data, pending.len));
    }
    1
}
