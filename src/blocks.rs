//! ENet's memory: a small per-thread cache of freed blocks in front of the C library's
//! `malloc`, installed with `enet_initialize_with_callbacks`.
//!
//! Why: ENet allocates and frees a packet, its data and a command for every message, on both
//! sides. With one thread, glibc's `malloc` takes a fast path; once the process has a second
//! thread (a background host, docs/api.md) every `malloc` and `free` that misses glibc's small
//! per-thread cache (7 blocks a size) takes an arena lock, and a burst of messages misses it
//! all the time: bench/README.md "Background servicing" measured normal mode 7-20 % slower with
//! an idle background host elsewhere in the process, and background mode at 0.73 of normal.
//!
//! How: a block of up to [`LARGEST`] bytes belongs to a size class, 16 bytes apart (a
//! packet, its command and a small message's data: what ENet allocates for every message).
//! `enet_malloc` pops one from the calling thread's list for its class, or asks `malloc` for
//! the class's size. `enet_free` reads the block's size back from the C library
//! (`malloc_usable_size`, `_msize`, `malloc_size`), so a block carries no header and holds
//! no more memory than `malloc` would have given it (a hostile peer's held messages stay
//! within docs/contract.md's bounds), and pushes it on the freeing thread's list for the
//! largest class it can hold while the thread's lists hold less than [`CACHED_BYTES`]; a
//! larger block, or one beyond that, goes to `free`. So a thread holds at most 256 KB of
//! cached blocks; a thread's lists go back to `free` when it ends, the main thread's at
//! `exit`, and a background host's thread's whenever it sleeps with no peer slot in use
//! ([`give_back`]).
//!
//! As glibc's own per-thread cache does, a cached block's second word holds a per-process key
//! (a second free of a block still on the list is then found and ignored) and its link is
//! masked with its own address and that key: a write into a freed block cannot choose the
//! address a later allocation returns (it does not know the key), and a link that unmasks to
//! a misaligned pointer (15 times in 16) drops the rest of the list.
//!
//! `ENET_BLOCK_CACHE=off` (or `0`, `no`, `false`) in the environment when the module loads
//! leaves ENet on plain `malloc` and `free` (docs/api.md, "ENet's own allocations"): the test
//! suite sets it under valgrind and AddressSanitizer, which see a use after free only in
//! memory given back to `free`, except for tests/lua/block_cache.lua, which checks the cache
//! under valgrind.

use crate::ffi;
use std::cell::UnsafeCell;
use std::collections::hash_map::RandomState;
use std::ffi::c_void;
use std::hash::{BuildHasher, Hasher};
use std::ptr;

/// Size classes: blocks of `SMALLEST + 16 k` bytes, up to `LARGEST` (on 64-bit glibc, the
/// usable sizes its chunks have, so a class's block wastes nothing).
const SMALLEST: usize = 24;
const LARGEST: usize = 520;
const CLASSES: usize = (LARGEST - SMALLEST) / 16 + 1;
/// What `malloc` aligns every block to (`MALLOC_ALIGNMENT`): a link to a block is a multiple.
const ALIGN: usize = 2 * std::mem::size_of::<usize>();
/// Bytes a thread keeps cached, all classes together, before freeing for real.
const CACHED_BYTES: usize = 256 * 1024;

/// `ENetCallbacks` of vendor/enet/include/enet/callbacks.h (`ENET_CALLBACK` is the C
/// convention on every target we build).
#[repr(C)]
struct ENetCallbacks {
    malloc: Option<unsafe extern "C" fn(usize) -> *mut c_void>,
    free: Option<unsafe extern "C" fn(*mut c_void)>,
    no_memory: Option<extern "C" fn()>,
}

extern "C" {
    fn malloc(size: usize) -> *mut c_void;
    fn free(p: *mut c_void);
    /// How many bytes the block `malloc` returned at `p` holds (at least what was asked).
    #[cfg_attr(windows, link_name = "_msize")]
    #[cfg_attr(target_vendor = "apple", link_name = "malloc_size")]
    fn malloc_usable_size(p: *mut c_void) -> usize;
    fn enet_initialize_with_callbacks(version: u32, inits: *const ENetCallbacks) -> i32;
}

/// A cached block: its first word links to the next one (masked, [`mask`]), its second holds
/// [`key`]. Every class's blocks have room for both (SMALLEST bytes).
struct Free {
    next: usize,
    key: usize,
}

/// The per-process key of cached blocks, set once by [`initialize`] before ENet can allocate.
static KEY: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn key() -> usize {
    KEY.load(std::sync::atomic::Ordering::Relaxed)
}

/// The stored form of a link from the block at `at` to `next` (and back: it is its own
/// inverse), as glibc's safe-linking: the address bits that vary, and the key.
fn mask(at: *mut Free, next: usize) -> usize {
    next ^ (at as usize >> 12) ^ key()
}

struct Cache {
    heads: [*mut Free; CLASSES],
    /// Bytes on the lists, all classes together.
    bytes: usize,
    /// Blocks on each class's list.
    counts: [u32; CLASSES],
}

impl Drop for Cache {
    fn drop(&mut self) {
        self.empty();
    }
}

impl Cache {
    /// Gives every listed block back to `free`.
    fn empty(&mut self) {
        self.bytes = 0;
        self.counts = [0; CLASSES];
        for head in &mut self.heads {
            let mut p = *head;
            while !p.is_null() {
                // SAFETY: every cached block came from `malloc` and is on exactly one list, which
                // is this thread's own.
                unsafe {
                    let next = mask(p, (*p).next);
                    (*p).key = 0;
                    free(p.cast());
                    if !next.is_multiple_of(ALIGN) {
                        break;
                    }
                    p = next as *mut Free;
                }
            }
            *head = ptr::null_mut();
        }
    }
}

/// Gives the calling thread's cached blocks back to `free`. A background host's thread calls it
/// before it sleeps with no peer slot in use, so an idle host keeps no cached memory.
pub fn give_back() {
    // Err only while the cache is being destroyed, which empties it anyway.
    let _ = CACHE.try_with(|cache| {
        // SAFETY: this thread's cache; `empty` calls only `free`, never back into this module.
        let cache = unsafe { &mut *cache.get() };
        if cache.bytes != 0 {
            cache.empty();
        }
    });
}

thread_local! {
    static CACHE: UnsafeCell<Cache> = const {
        UnsafeCell::new(Cache { heads: [ptr::null_mut(); CLASSES], bytes: 0, counts: [0; CLASSES] })
    };
}

/// The class to allocate `size` bytes from, or None for a larger block.
fn class_of(size: usize) -> Option<usize> {
    (size <= LARGEST).then(|| size.saturating_sub(SMALLEST).div_ceil(16))
}

/// The class a block that holds `usable` bytes can serve, or None for a smaller or larger one.
fn class_holding(usable: usize) -> Option<usize> {
    (SMALLEST..LARGEST + 16)
        .contains(&usable)
        .then(|| (usable - SMALLEST) / 16)
}

/// The size of a block of class `c`.
const fn size_of_class(c: usize) -> usize {
    SMALLEST + 16 * c
}

/// `ENetCallbacks::malloc`.
///
/// # Safety
/// None beyond C's `malloc`: unsafe only to match [`block_free`]'s pointer type.
unsafe extern "C" fn block_malloc(size: usize) -> *mut c_void {
    // SAFETY: the caller's contract is this function's.
    keeping_last_error(|| unsafe { cached_malloc(size) })
}

/// [`block_malloc`]'s work.
///
/// # Safety
/// As [`block_malloc`].
unsafe fn cached_malloc(size: usize) -> *mut c_void {
    let Some(c) = class_of(size) else {
        // SAFETY: malloc with any size; a null result is passed on (ENet checks for it).
        return unsafe { fresh(malloc(size)) };
    };
    // try_with fails only while this thread's cache is being destroyed: allocate afresh.
    let cached = CACHE
        .try_with(|cache| {
            // SAFETY: the cache is this thread's; nothing here calls out, so there is no other
            // reference to it while this one lives.
            let cache = unsafe { &mut *cache.get() };
            let p = cache.heads[c];
            if p.is_null() {
                return p;
            }
            // SAFETY: a listed block is a live allocation this list owns.
            let next = mask(p, unsafe { (*p).next });
            if !next.is_multiple_of(ALIGN) {
                // A link that something wrote over after the free: drop the rest of the list
                // (leaked, not reused) rather than follow it; this block is still good.
                cache.heads[c] = ptr::null_mut();
                cache.bytes -= cache.counts[c] as usize * size_of_class(c);
                cache.counts[c] = 0;
                // SAFETY: as below.
                unsafe { (*p).key = 0 };
                return p;
            }
            // SAFETY: as above; clearing the key keeps ENet's use of the block from looking
            // cached to a later free.
            unsafe { (*p).key = 0 };
            cache.heads[c] = next as *mut Free;
            cache.bytes -= size_of_class(c);
            cache.counts[c] -= 1;
            p
        })
        .unwrap_or(ptr::null_mut());
    if !cached.is_null() {
        return cached.cast();
    }
    // SAFETY: malloc with any size; a null result is passed on (ENet checks for it).
    unsafe { fresh(malloc(size_of_class(c))) }
}

/// Runs `f` with the thread's last OS error kept: ENet frees memory between a failed socket call
/// and the module's reading of its cause (`host_create`'s "failed to create host (...: Only one
/// usage of each socket address ...)"). On Windows (under Wine) that cause read as 0, "Success",
/// once these callbacks ran in between: a successful Win32 call may reset the last error, and
/// the thread-local and the C library's calls here are not promised to keep it. glibc's `free`
/// keeps `errno`, and nothing else here sets it but a failed `malloc`, which is the cause then.
#[inline(always)]
fn keeping_last_error<T>(f: impl FnOnce() -> T) -> T {
    #[cfg(windows)]
    {
        extern "system" {
            fn GetLastError() -> u32;
            fn SetLastError(code: u32);
        }
        // SAFETY: both only read or write the calling thread's last-error value.
        let saved = unsafe { GetLastError() };
        let result = f();
        // SAFETY: as above.
        unsafe { SetLastError(saved) };
        result
    }
    #[cfg(not(windows))]
    f()
}

/// A block straight from `malloc`, with its key word cleared: `block_free` reads that word of
/// every block it may cache, and it must not read memory nobody wrote.
///
/// # Safety
/// `p` is null or a block of at least SMALLEST bytes from `malloc`, aligned for a Free.
unsafe fn fresh(p: *mut c_void) -> *mut c_void {
    if !p.is_null() {
        // SAFETY: the caller's contract: the block has room for a Free.
        unsafe { (*p.cast::<Free>()).key = 0 };
    }
    p
}

/// `ENetCallbacks::free`.
///
/// # Safety
/// `p` is null or a block [`block_malloc`] returned that nothing uses any more.
unsafe extern "C" fn block_free(p: *mut c_void) {
    // SAFETY: the caller's contract is this function's.
    keeping_last_error(|| unsafe { cached_free(p) })
}

/// [`block_free`]'s work.
///
/// # Safety
/// As [`block_free`].
unsafe fn cached_free(p: *mut c_void) {
    if p.is_null() {
        return;
    }
    // SAFETY: ENet frees only what block_malloc returned, which came from malloc.
    let class = class_holding(unsafe { malloc_usable_size(p) });
    if let Some(class) = class {
        let kept = CACHE
            .try_with(|cache| {
                // SAFETY: as in block_malloc: this thread's cache, no other reference.
                let cache = unsafe { &mut *cache.get() };
                let block = p.cast::<Free>();
                // SAFETY: the block holds at least SMALLEST bytes, room for a Free, and malloc
                // aligned it for any type; ENet gave it up, so reading it is ours.
                if unsafe { (*block).key } == key() && cache.holds(class, block) {
                    // Freed twice and still on this list: the first free stands.
                    return true;
                }
                if cache.bytes + size_of_class(class) > CACHED_BYTES {
                    return false;
                }
                let next = mask(block, cache.heads[class] as usize);
                // SAFETY: as above; this list owns the block now.
                unsafe { block.write(Free { next, key: key() }) };
                cache.heads[class] = block;
                cache.bytes += size_of_class(class);
                cache.counts[class] += 1;
                true
            })
            .unwrap_or(false);
        if kept {
            return;
        }
    }
    // SAFETY: p came from malloc and ENet gave it up.
    unsafe { free(p) }
}

impl Cache {
    /// Whether `block` is on the list of `class` (a rare walk: only for a block that carries
    /// the key, so that was freed before).
    #[cold]
    fn holds(&self, class: usize, block: *mut Free) -> bool {
        let mut p = self.heads[class];
        while !p.is_null() {
            if p == block {
                return true;
            }
            // SAFETY: a listed block is a live allocation this list owns.
            let next = mask(p, unsafe { (*p).next });
            if !next.is_multiple_of(ALIGN) {
                return false;
            }
            p = next as *mut Free;
        }
        false
    }
}

/// Initializes ENet with the cache unless `ENET_BLOCK_CACHE=off` (then plain `enet_initialize`).
/// Returns ENet's result (0 on success).
pub fn initialize() -> i32 {
    let off = std::env::var("ENET_BLOCK_CACHE").is_ok_and(|v| {
        ["off", "0", "no", "false"]
            .iter()
            .any(|o| v.trim().eq_ignore_ascii_case(o))
    });
    if off {
        // SAFETY: enet_initialize has no preconditions; called once (lib.rs's OnceLock).
        return unsafe { ffi::enet_initialize() };
    }
    // A key no datagram can predict: std's hasher keys come from the OS's random source.
    let key = RandomState::new().build_hasher().finish() as usize;
    KEY.store(key | 1, std::sync::atomic::Ordering::Relaxed);
    // The caches live in this library's thread-locals until their threads end: keep it loaded
    // (glibc already does while a thread-local destructor is pending; Windows would not).
    crate::osthread::pin_library();
    let callbacks = ENetCallbacks {
        malloc: Some(block_malloc),
        free: Some(block_free),
        no_memory: None,
    };
    // SAFETY: called once, before any host exists, so nothing ENet allocated earlier goes to
    // block_free; ENet copies the callbacks. The version asked for is the vendored ENet's own
    // (enet_linked_version has no preconditions).
    unsafe { enet_initialize_with_callbacks(ffi::enet_linked_version(), &callbacks) }
}

#[cfg(test)]
mod tests;
