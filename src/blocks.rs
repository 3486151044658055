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
//! How: every block carries a 16-byte header that names its size class (a power of two from
//! 64 to 4096 bytes, the header included) or [`NO_CLASS`] for a larger block. `enet_free`
//! pushes a block of a class on the freeing thread's list for that class, up to
//! [`CACHED_BYTES`] a class, and gives the rest to `free`; `enet_malloc` pops from the
//! allocating thread's list. A block may be freed on another thread than the one that
//! allocated it (the background thread frees what Lua sent): it joins that thread's lists.
//! A thread's lists go back to `free` when the thread ends; the main thread's stay cached
//! until the process exits (reachable memory, not a leak).
//!
//! `ENET_BLOCK_CACHE=off` in the environment when the module loads leaves ENet on plain
//! `malloc` and `free`: the test suite sets it under valgrind and AddressSanitizer, which see
//! a use after free only in memory that went back to `free`.

use crate::ffi;
use std::cell::UnsafeCell;
use std::ffi::c_void;
use std::ptr;

/// Header bytes before every block ENet gets: keeps the C library's 16-byte alignment.
const HEADER: usize = 16;
/// Size classes: block sizes (header included) of 64 << k bytes.
const CLASSES: usize = 7;
const SMALLEST: usize = 64;
/// The header's class of a block too large for a class (allocated and freed directly).
const NO_CLASS: usize = usize::MAX;
/// Bytes a thread keeps cached per class before freeing for real.
const CACHED_BYTES: usize = 64 * 1024;

/// `ENetCallbacks` of vendor/enet/include/enet/callbacks.h (`ENET_CALLBACK` is the C
/// convention on every target we build).
#[repr(C)]
struct ENetCallbacks {
    malloc: Option<extern "C" fn(usize) -> *mut c_void>,
    free: Option<extern "C" fn(*mut c_void)>,
    no_memory: Option<extern "C" fn()>,
}

/// `ENET_VERSION` of the vendored enet.h (1.3.18); ENet accepts any from 1.3.0.
const ENET_VERSION: u32 = (1 << 16) | (3 << 8) | 18;

extern "C" {
    fn malloc(size: usize) -> *mut c_void;
    fn free(p: *mut c_void);
    fn enet_initialize_with_callbacks(version: u32, inits: *const ENetCallbacks) -> i32;
}

/// A cached block: its first word (after the header) links to the next one.
struct Free {
    next: *mut Free,
}

struct Cache {
    heads: [*mut Free; CLASSES],
    counts: [usize; CLASSES],
}

impl Drop for Cache {
    fn drop(&mut self) {
        for head in &mut self.heads {
            let mut p = *head;
            while !p.is_null() {
                // SAFETY: every cached block came from `malloc` (its header starts HEADER bytes
                // before the link) and is on exactly one list, which is this thread's own.
                unsafe {
                    let next = (*p).next;
                    free(p.cast::<u8>().sub(HEADER).cast());
                    p = next;
                }
            }
            *head = ptr::null_mut();
        }
    }
}

thread_local! {
    static CACHE: UnsafeCell<Cache> = const {
        UnsafeCell::new(Cache { heads: [ptr::null_mut(); CLASSES], counts: [0; CLASSES] })
    };
}

/// The class of a block of `size` bytes, or None for a larger one.
fn class_of(size: usize) -> Option<usize> {
    let total = size.checked_add(HEADER)?;
    (0..CLASSES).find(|&c| total <= SMALLEST << c)
}

/// `ENetCallbacks::malloc`.
extern "C" fn block_malloc(size: usize) -> *mut c_void {
    let class = class_of(size);
    if let Some(c) = class {
        // try_with fails only while this thread's cache is being destroyed: allocate afresh.
        let cached = CACHE
            .try_with(|cache| {
                // SAFETY: the cache is this thread's; nothing here calls out, so there is no
                // other reference to it while this one lives.
                let cache = unsafe { &mut *cache.get() };
                let p = cache.heads[c];
                if !p.is_null() {
                    // SAFETY: a listed block is a live allocation this list owns.
                    cache.heads[c] = unsafe { (*p).next };
                    cache.counts[c] -= 1;
                }
                p
            })
            .unwrap_or(ptr::null_mut());
        if !cached.is_null() {
            return cached.cast();
        }
    }
    let total = match class {
        Some(c) => SMALLEST << c,
        None => match size.checked_add(HEADER) {
            Some(t) => t,
            None => return ptr::null_mut(),
        },
    };
    // SAFETY: malloc with any size; a null result is passed on (ENet checks for it).
    let base = unsafe { malloc(total) }.cast::<u8>();
    if base.is_null() {
        return ptr::null_mut();
    }
    // SAFETY: base has at least HEADER + size bytes, 16-aligned; the header holds one word.
    unsafe {
        base.cast::<usize>().write(class.unwrap_or(NO_CLASS));
        base.add(HEADER).cast()
    }
}

/// `ENetCallbacks::free`.
extern "C" fn block_free(p: *mut c_void) {
    if p.is_null() {
        return;
    }
    // SAFETY: ENet frees only what block_malloc returned, so a header precedes p.
    let base = unsafe { p.cast::<u8>().sub(HEADER) };
    // SAFETY: the header's first word was written by block_malloc.
    let class = unsafe { base.cast::<usize>().read() };
    if class < CLASSES {
        let kept = CACHE
            .try_with(|cache| {
                // SAFETY: as in block_malloc: this thread's cache, no other reference.
                let cache = unsafe { &mut *cache.get() };
                if cache.counts[class] >= CACHED_BYTES / (SMALLEST << class) {
                    return false;
                }
                let block = p.cast::<Free>();
                // SAFETY: the block is at least SMALLEST - HEADER bytes, room for the link;
                // ENet gave it up, so this list owns it now.
                unsafe {
                    block.write(Free {
                        next: cache.heads[class],
                    })
                };
                cache.heads[class] = block;
                cache.counts[class] += 1;
                true
            })
            .unwrap_or(false);
        if kept {
            return;
        }
    }
    // SAFETY: base is what malloc returned for this block.
    unsafe { free(base.cast()) }
}

/// Initializes ENet with the cache unless `ENET_BLOCK_CACHE=off` (then plain `enet_initialize`).
/// Returns ENet's result (0 on success).
pub fn initialize() -> i32 {
    let off = std::env::var_os("ENET_BLOCK_CACHE").is_some_and(|v| v == "off");
    if off {
        // SAFETY: enet_initialize has no preconditions; called once (lib.rs's OnceLock).
        return unsafe { ffi::enet_initialize() };
    }
    let callbacks = ENetCallbacks {
        malloc: Some(block_malloc),
        free: Some(block_free),
        no_memory: None,
    };
    // SAFETY: called once, before any host exists, so nothing ENet allocated earlier goes to
    // block_free; ENet copies the callbacks.
    unsafe { enet_initialize_with_callbacks(ENET_VERSION, &callbacks) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_hold_the_header() {
        assert_eq!(class_of(0), Some(0));
        assert_eq!(class_of(48), Some(0));
        assert_eq!(class_of(49), Some(1));
        assert_eq!(class_of(4080), Some(6));
        assert_eq!(class_of(4081), None);
        assert_eq!(class_of(usize::MAX), None);
    }

    #[test]
    fn blocks_are_reused_and_aligned() {
        let a = block_malloc(40);
        assert_eq!(a as usize % 16, 0);
        // SAFETY: a has 40 writable bytes.
        unsafe { ptr::write_bytes(a.cast::<u8>(), 0xab, 40) };
        block_free(a);
        let b = block_malloc(30);
        assert_eq!(a, b, "the freed block of the same class comes back");
        let big = block_malloc(100_000);
        assert!(!big.is_null());
        block_free(big);
        block_free(b);
        assert!(block_malloc(usize::MAX - 8).is_null());
    }
}
