//! What the background thread (background.rs) waits on: its host's socket and a wake-up that
//! Lua can trigger, with a bounded timeout, and no lock held. Unix: `poll` on the socket and a
//! non-blocking pipe. Windows: `WSAPoll` on the socket and a loopback UDP socket that the
//! wake-up sends one byte to (made through ENet's own socket layer, so it needs no more code).
use crate::ffi::ENetSocket;

/// Why a wait ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Woken {
    /// The host's socket has a datagram (or an error) to read.
    Socket,
    /// [`Waker::wake`] was called (maybe as well as a datagram).
    Wake,
    /// The timeout passed, or the wait failed (EINTR): the caller services anyway.
    Timer,
    /// No wait: Lua had queued something already (background.rs).
    Queued,
}

impl Woken {
    /// What ended a `poll`/`WSAPoll` that returned `rc`, the waker's entry first.
    fn from_poll(rc: std::os::raw::c_int, waker_ready: bool) -> Woken {
        if rc <= 0 {
            Woken::Timer
        } else if waker_ready {
            Woken::Wake
        } else {
            Woken::Socket
        }
    }
}

/// ENet's clock wraps (vendor/enet/include/enet/time.h): `enet_host_service(host, event, t)`
/// adds `t` to its service time and compares with `ENET_TIME_OVERFLOW`, so a `t` within a day
/// below 2^32 (a negative timeout from Lua, wrapped like the C field, docs/contract.md §5) has
/// already expired and returns at once, and a `t` of a day or more waits `2^32 - t` ms. The
/// same wait here, so `service(-1)` keeps its meaning with the thread running.
pub fn enet_wait_ms(timeout: u32) -> u32 {
    const ENET_TIME_OVERFLOW: u32 = 86_400_000;
    if timeout < ENET_TIME_OVERFLOW {
        return timeout;
    }
    let back = timeout.wrapping_neg();
    if back < ENET_TIME_OVERFLOW {
        0
    } else {
        back
    }
}

#[cfg(unix)]
pub use unix::Waker;
#[cfg(windows)]
pub use windows::Waker;

#[cfg(unix)]
mod unix {
    use super::{ENetSocket, Woken};

    /// A non-blocking pipe: a byte written to `write` wakes a `poll` on `read`.
    pub struct Waker {
        read: libc::c_int,
        write: libc::c_int,
    }

    impl Waker {
        /// `None` when the system has no file descriptor to spare.
        pub fn new() -> Option<Waker> {
            let mut fds = [0 as libc::c_int; 2];
            // SAFETY: `fds` has room for the two descriptors pipe writes.
            if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
                return None;
            }
            let waker = Waker {
                read: fds[0],
                write: fds[1],
            };
            for fd in fds {
                // SAFETY: fcntl on descriptors we own; failure leaves them blocking, which
                // `drain` and `wake` would then wait on, so it is refused below.
                let ok = unsafe {
                    libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) == 0
                        && libc::fcntl(fd, libc::F_SETFL, libc::O_NONBLOCK) == 0
                };
                if !ok {
                    return None; // `waker` closes both
                }
            }
            Some(waker)
        }

        /// Wakes the waiting thread (a full pipe already wakes it: the error is ignored).
        pub fn wake(&self) {
            let byte = 1u8;
            // SAFETY: writes one byte from a valid buffer to our non-blocking pipe.
            unsafe { libc::write(self.write, (&byte as *const u8).cast(), 1) };
        }

        /// Empties the pipe, so that the next wait sleeps again.
        pub fn drain(&self) {
            let mut buf = [0u8; 64];
            // SAFETY: reads into a valid buffer of its length from our non-blocking pipe.
            while unsafe { libc::read(self.read, buf.as_mut_ptr().cast(), buf.len()) } > 0 {}
        }

        /// Waits until `socket` is readable (unless `None`), [`Waker::wake`] was called, or
        /// `timeout_ms` passed.
        pub fn wait(&self, socket: Option<ENetSocket>, timeout_ms: i32) -> Woken {
            let mut fds = [
                libc::pollfd {
                    fd: self.read,
                    events: libc::POLLIN,
                    revents: 0,
                },
                libc::pollfd {
                    fd: socket.unwrap_or(-1),
                    events: libc::POLLIN,
                    revents: 0,
                },
            ];
            let count = if socket.is_some() { 2 } else { 1 };
            // SAFETY: `fds` holds `count` valid pollfd entries for the duration of the call.
            let rc = unsafe { libc::poll(fds.as_mut_ptr(), count, timeout_ms) };
            Woken::from_poll(rc, fds[0].revents != 0)
        }
    }

    impl Drop for Waker {
        fn drop(&mut self) {
            // SAFETY: both descriptors are ours and closed once.
            unsafe {
                libc::close(self.read);
                libc::close(self.write);
            }
        }
    }
}

#[cfg(windows)]
mod windows {
    use super::{ENetSocket, Woken};
    use crate::ffi::{self as enet, ENetAddress, ENetBuffer};
    use std::os::raw::{c_int, c_short, c_void};

    const ENET_SOCKET_TYPE_DATAGRAM: c_int = 2;
    const ENET_SOCKOPT_NONBLOCK: c_int = 1;
    const ENET_SOCKET_NULL: ENetSocket = !0;
    const POLLRDNORM: c_short = 0x0100;

    #[repr(C)]
    struct WsaPollFd {
        fd: ENetSocket,
        events: c_short,
        revents: c_short,
    }

    extern "system" {
        fn WSAPoll(fds: *mut WsaPollFd, count: u32, timeout: c_int) -> c_int;
    }
    extern "C" {
        fn enet_socket_create(kind: c_int, family: c_int) -> ENetSocket;
        fn enet_socket_bind(
            socket: ENetSocket,
            family: c_int,
            address: *const ENetAddress,
        ) -> c_int;
        fn enet_socket_send(
            socket: ENetSocket,
            family: c_int,
            address: *const ENetAddress,
            buffers: *const ENetBuffer,
            count: usize,
        ) -> c_int;
        fn enet_socket_receive(
            socket: ENetSocket,
            address: *mut ENetAddress,
            buffers: *mut ENetBuffer,
            count: usize,
        ) -> c_int;
        fn enet_socket_destroy(socket: ENetSocket);
    }

    /// A loopback UDP socket bound to 127.0.0.1 on a port of the system's choice: a byte sent
    /// to it wakes a `WSAPoll` on it.
    pub struct Waker {
        socket: ENetSocket,
        address: ENetAddress,
    }

    impl Waker {
        /// `None` when no loopback socket can be made.
        pub fn new() -> Option<Waker> {
            let mut address = ENetAddress::default();
            address.host[10] = 0xff;
            address.host[11] = 0xff;
            address.host[12..].copy_from_slice(&[127, 0, 0, 1]);
            // SAFETY: ENet's socket calls with valid arguments; the socket is ours, and closed
            // by Drop (also when a step fails).
            unsafe {
                let family = enet::ENET_ADDRESS_FAMILY_IPV4;
                let socket = enet_socket_create(ENET_SOCKET_TYPE_DATAGRAM, family);
                if socket == ENET_SOCKET_NULL {
                    return None;
                }
                let mut waker = Waker { socket, address };
                if enet_socket_bind(socket, family, &address) < 0
                    || enet::enet_socket_set_option(socket, ENET_SOCKOPT_NONBLOCK, 1) < 0
                    || enet::enet_socket_get_address(socket, &mut waker.address) < 0
                {
                    return None;
                }
                waker.address.host = address.host;
                Some(waker)
            }
        }

        pub fn wake(&self) {
            let mut byte = 1u8;
            let buffer = ENetBuffer {
                dataLength: 1,
                data: (&mut byte as *mut u8).cast::<c_void>(),
            };
            // SAFETY: one valid buffer sent to our own bound loopback socket; the result does
            // not matter (a byte already queued wakes the thread as well).
            unsafe {
                enet_socket_send(
                    self.socket,
                    enet::ENET_ADDRESS_FAMILY_IPV4,
                    &self.address,
                    &buffer,
                    1,
                )
            };
        }

        pub fn drain(&self) {
            let mut buf = [0u8; 64];
            loop {
                let mut buffer = ENetBuffer {
                    dataLength: buf.len(),
                    data: buf.as_mut_ptr().cast::<c_void>(),
                };
                let mut from = ENetAddress::default();
                // SAFETY: a valid buffer on our non-blocking socket.
                if unsafe { enet_socket_receive(self.socket, &mut from, &mut buffer, 1) } <= 0 {
                    break;
                }
            }
        }

        pub fn wait(&self, socket: Option<ENetSocket>, timeout_ms: i32) -> Woken {
            let mut fds = [
                WsaPollFd {
                    fd: self.socket,
                    events: POLLRDNORM,
                    revents: 0,
                },
                WsaPollFd {
                    fd: socket.unwrap_or(ENET_SOCKET_NULL),
                    events: POLLRDNORM,
                    revents: 0,
                },
            ];
            let count = if socket.is_some() { 2 } else { 1 };
            // SAFETY: `fds` holds `count` valid entries for the duration of the call.
            let rc = unsafe { WSAPoll(fds.as_mut_ptr(), count, timeout_ms) };
            Woken::from_poll(rc, fds[0].revents != 0)
        }
    }

    impl Drop for Waker {
        fn drop(&mut self) {
            // SAFETY: the socket is ours and closed once.
            unsafe { enet_socket_destroy(self.socket) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wake_ends_the_wait_and_a_drain_rearms_it() {
        let waker = Waker::new().expect("a waker");
        assert_eq!(waker.wait(None, 0), Woken::Timer);
        waker.wake();
        waker.wake();
        assert_eq!(waker.wait(None, 1000), Woken::Wake);
        waker.drain();
        assert_eq!(waker.wait(None, 0), Woken::Timer);
    }
}
