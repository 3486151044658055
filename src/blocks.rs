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
//! larger block, or one beyond that, goes to `free`.
//! `ENET_BLOCK_CACHE=off` in the environment when the module loads leaves ENet on plain
//! `malloc` and `free`: the test suite sets it under valgrind and AddressSanitizer, which see
//! a use after free only in memory that went back to `free`.

use crate::ffi;
use std::cell::UnsafeCell;
use std::ffi::c_void;
use std::ptr;

/// Size classes: blocks of `SMALLEST + 16 k` bytes, up to `LARGEST` (on 64-bit glibc, the
/// usable sizes its chunks have, so a class's block wastes nothing).
const SMALLEST: usize = 24;
const LARGEST: usize = 520;
const CLASSES: usize = (LARGEST - SMALLEST) / 16 + 1;
/// Bytes a thread keeps cached, all classes together, before freeing for real.
const CACHED_BYTES: usize = 256 * 1024;

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
    /// How many bytes the block `malloc` returned at `p` holds (at least what was asked).
    #[cfg_attr(windows, link_name = "_msize")]
    #[cfg_attr(target_vendor = "apple", link_name = "malloc_size")]
    fn malloc_usable_size(p: *mut c_void) -> usize;
    fn enet_initialize_with_callbacks(version: u32, inits: *const ENetCallbacks) -> i32;
}

/// A cached block: its first word (after the header) links to the next one.
struct Free {
    next: *mut Free,
}

struct Cache {
    heads: [*mut Free; CLASSES],
    /// Bytes on the lists, headers included.
    bytes: usize,
}

impl Drop for Cache {
    fn drop(&mut self) {
        for head in &mut self.heads {
            let mut p = *head;
            while !p.is_null() {
                // SAFETY: every cached block came from `malloc` and is on exactly one list, which
                // is this thread's own.
                unsafe {
                    let next = (*p).next;
                    free(p.cast());
                    p = next;
                }
            }
            *head = ptr::null_mut();
        }
    }
}

thread_local! {
    static CACHE: UnsafeCell<Cache> = const {
        UnsafeCell::new(Cache { heads: [ptr::null_mut(); CLASSES], bytes: 0 })
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
extern "C" fn block_malloc(size: usize) -> *mut c_void {
    let Some(c) = class_of(size) else {
        // SAFETY: malloc with any size; a null result is passed on (ENet checks for it).
        return unsafe { malloc(size) };
    };
    // try_with fails only while this thread's cache is being destroyed: allocate afresh.
    let cached = CACHE
        .try_with(|cache| {
            // SAFETY: the cache is this thread's; nothing here calls out, so there is no other
            // reference to it while this one lives.
            let cache = unsafe { &mut *cache.get() };
            let p = cache.heads[c];
            if !p.is_null() {
                // SAFETY: a listed block is a live allocation this list owns.
                cache.heads[c] = unsafe { (*p).next };
                cache.bytes -= size_of_class(c);
            }
            p
        })
        .unwrap_or(ptr::null_mut());
    if !cached.is_null() {
        return cached.cast();
    }
    // SAFETY: malloc with any size; a null result is passed on (ENet checks for it).
    unsafe { malloc(size_of_class(c)) }
}

/// `ENetCallbacks::free`.
extern "C" fn block_free(p: *mut c_void) {
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
                if cache.bytes + size_of_class(class) > CACHED_BYTES {
                    return false;
                }
                let block = p.cast::<Free>();
                // SAFETY: the block holds at least SMALLEST bytes, room for the link (malloc
                // aligns it for any type); ENet gave it up, so this list owns it now.
                unsafe {
                    block.write(Free {
                        next: cache.heads[class],
                    })
                };
                cache.heads[class] = block;
                cache.bytes += size_of_class(class);
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
    fn classes_hold_their_blocks() {
        assert_eq!(class_of(0), Some(0));
        assert_eq!(class_of(24), Some(0));
        assert_eq!(class_of(25), Some(1));
        assert_eq!(class_of(LARGEST), Some(CLASSES - 1));
        assert_eq!(class_of(LARGEST + 1), None);
        assert_eq!(class_of(usize::MAX), None);
        for size in 0..=LARGEST {
            let c = class_of(size).expect("a class");
            assert!(size <= size_of_class(c), "{size} fits its class");
            assert!(
                size_of_class(c) < size.max(SMALLEST) + 16,
                "{size} wastes < 16 bytes"
            );
            // a block malloc gave that class's size back to comes back to that class
            assert_eq!(class_holding(size_of_class(c)), Some(c));
        }
        for usable in 0..2 * LARGEST {
            match class_holding(usable) {
                Some(c) => assert!(size_of_class(c) <= usable && usable < size_of_class(c) + 16),
                None => assert!(!(SMALLEST..LARGEST + 16).contains(&usable)),
            }
        }
    }

    #[test]
    fn blocks_are_reused_and_aligned() {
        let a = block_malloc(40);
        assert_eq!(a as usize % 16, 0);
        // SAFETY: a has 40 writable bytes.
        unsafe { ptr::write_bytes(a.cast::<u8>(), 0xab, 40) };
        block_free(a);
        let b = block_malloc(33);
        assert_eq!(a, b, "the freed block of the same class comes back");
        // SAFETY: b is a live block from malloc.
        assert!(unsafe { malloc_usable_size(b) } >= 33);
        let big = block_malloc(100_000);
        assert!(!big.is_null());
        block_free(big);
        block_free(b);
        assert!(block_malloc(usize::MAX - 8).is_null());
    }
}
