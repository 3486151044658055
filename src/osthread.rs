//! The OS side of background.rs's thread: starting it without aborting when memory is short
//! (docs/contract.md §1.2), joining it, and keeping the module loaded while one runs.

/// What a thread runs ([`spawn`]).
pub trait Run {
    fn run(&self);
}

#[cfg(unix)]
pub type Thread = libc::pthread_t;
#[cfg(windows)]
pub type Thread = std::thread::JoinHandle<()>;

/// Starts the thread with pthreads, whose only allocation (the stack) fails with an error code
/// rather than an abort (std::thread's spawn allocates with `Box::new` and `Arc::new`).
/// `None` with the reason in `errno` when it cannot.
///
/// # Safety
/// `arg` outlives the thread (it is joined before it is freed), and `T::run` may use it from
/// another thread.
#[cfg(unix)]
pub unsafe fn spawn<T: Run + 'static>(arg: *const T) -> Option<Thread> {
    extern "C" fn entry<T: Run>(arg: *mut std::ffi::c_void) -> *mut std::ffi::c_void {
        let arg = arg.cast_const().cast::<T>();
        // A panic must not unwind out of an extern "C" function (that aborts).
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            // SAFETY: `spawn`'s contract: `arg` lives until this thread is joined.
            unsafe { &*arg }.run();
        }));
        std::ptr::null_mut()
    }
    // SAFETY: plain pthread calls on local, initialised values.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_attr_init(&mut attr) != 0 {
            return None;
        }
        libc::pthread_attr_setstacksize(&mut attr, 1 << 20);
        let mut thread: libc::pthread_t = std::mem::zeroed();
        let rc = libc::pthread_create(&mut thread, &attr, entry::<T>, arg.cast_mut().cast());
        libc::pthread_attr_destroy(&mut attr);
        if rc != 0 {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            {
                *libc::__errno_location() = rc;
            }
            return None;
        }
        #[cfg(target_os = "linux")]
        libc::pthread_setname_np(thread, c"enet background".as_ptr());
        Some(thread)
    }
}

/// Windows: std::thread (whose spawn still aborts if memory runs out exactly then).
///
/// # Safety
/// As the Unix one.
#[cfg(windows)]
pub unsafe fn spawn<T: Run + 'static>(arg: *const T) -> Option<Thread> {
    /// `arg`, sent to the thread.
    struct Arg<T>(*const T);
    // SAFETY: `spawn`'s contract: `T::run` may use it from another thread.
    unsafe impl<T> Send for Arg<T> {}
    let arg = Arg(arg);
    std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || {
            let arg = arg;
            // SAFETY: `spawn`'s contract.
            unsafe { &*arg.0 }.run();
        })
        .ok()
}

#[cfg(unix)]
pub fn join(thread: Thread) {
    // SAFETY: a joinable thread from `spawn`, joined once.
    unsafe { libc::pthread_join(thread, std::ptr::null_mut()) };
}

#[cfg(windows)]
pub fn join(thread: Thread) {
    let _ = thread.join();
}

/// `Box::new` that returns `None` instead of aborting when the allocation fails.
pub fn try_box<T>(value: T) -> Option<*mut T> {
    let layout = std::alloc::Layout::new::<T>();
    // SAFETY: `T` is not zero-sized (the caller's types); a block from the global allocator with `T`'s
    // layout is what `Box::from_raw` frees.
    let block = unsafe { std::alloc::alloc(layout) }.cast::<T>();
    if block.is_null() {
        return None;
    }
    // SAFETY: a fresh block for one `T`.
    unsafe { block.write(value) };
    Some(block)
}

/// Leaves ENOMEM in `errno` for the failure value (`Failure::os`) after `try_box` failed.
pub fn set_errno_enomem() {
    // SAFETY: the calling thread's errno.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    unsafe {
        *libc::__errno_location() = libc::ENOMEM;
    }
    // SAFETY: as above.
    #[cfg(target_vendor = "apple")]
    unsafe {
        *libc::__error() = libc::ENOMEM;
    }
}

/// Keeps this library loaded for the rest of the process once a thread runs from it: a thread
/// of a host that Lua never finalizes (one created by a finalizer during `lua_close`, which Lua
/// does not finalize) must not outlive the code it runs when Lua unloads the module.
pub fn pin_library() {
    static PINNED: std::sync::Once = std::sync::Once::new();
    PINNED.call_once(|| {
        #[cfg(unix)]
        // SAFETY: dladdr fills `info` for an address inside this library; dlopen with
        // RTLD_NOLOAD only adds a reference (never kept) to a library already loaded, and
        // RTLD_NODELETE makes it stay.
        unsafe {
            let mut info: libc::Dl_info = std::mem::zeroed();
            let here = pin_library as *const std::os::raw::c_void;
            if libc::dladdr(here, &mut info) != 0 && !info.dli_fname.is_null() {
                let flags = libc::RTLD_LAZY | libc::RTLD_NOLOAD | libc::RTLD_NODELETE;
                libc::dlopen(info.dli_fname, flags);
            }
        }
        #[cfg(windows)]
        // SAFETY: GetModuleHandleExW with FROM_ADDRESS | PIN pins the module that contains the
        // address (this function); the handle needs no release.
        unsafe {
            extern "system" {
                fn GetModuleHandleExW(flags: u32, name: *const u16, module: *mut isize) -> i32;
            }
            const FROM_ADDRESS: u32 = 0x4;
            const PIN: u32 = 0x1;
            let mut module = 0isize;
            let here = pin_library as *const u16;
            GetModuleHandleExW(FROM_ADDRESS | PIN, here, &mut module);
        }
    });
}
