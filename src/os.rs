//! What only the operating system (or ENet's socket layer) can say about addresses and errors:
//! a host name's address, the network interfaces that IPv6 zones name, and an OS error's text.
//! Every call here is into C; address.rs and text.rs hold the logic around them, in plain Rust.
//!
//! Nothing here allocates: addresses are resolved and errors printed when memory may be short,
//! and an allocation failure would abort the process.
use crate::ffi::{enet_address_set_host, ENetAddress};
use std::fmt;

/// The longest name passed to C, in bytes (address.rs refuses longer host parts).
const MAX_NAME: usize = 127;

/// Resolves host name `name` into `address` (its host and scope), through ENet: blocking DNS,
/// IPv4 first (vendor/enet/patches/0021-resolve-ipv4-first.patch). `false` when the name does
/// not resolve, is too long or holds a NUL.
pub fn set_host(address: &mut ENetAddress, name: &[u8]) -> bool {
    let Some(name) = c_string(name) else {
        return false;
    };
    // SAFETY: `address` is a valid out-parameter and `name` a NUL-terminated string.
    unsafe { enet_address_set_host(address, name.as_ptr().cast()) == 0 }
}

/// `bytes` as a NUL-terminated C string on the stack, or `None` when it is too long or holds
/// a NUL.
fn c_string(bytes: &[u8]) -> Option<[u8; MAX_NAME + 1]> {
    if bytes.len() > MAX_NAME || bytes.contains(&0) {
        return None;
    }
    let mut name = [0u8; MAX_NAME + 1];
    name.get_mut(..bytes.len())?.copy_from_slice(bytes);
    Some(name)
}

/// The index of the network interface named `name` (`if_nametoindex`), if there is one.
#[cfg(unix)]
pub fn interface_index(name: &[u8]) -> Option<u32> {
    let name = c_string(name)?;
    // SAFETY: a NUL-terminated string; the function only reads it.
    let index = unsafe { libc::if_nametoindex(name.as_ptr().cast()) };
    (index != 0).then_some(index)
}

/// Interface names in zones are looked up on Unix only; elsewhere write the index (`%12`).
#[cfg(not(unix))]
pub fn interface_index(_name: &[u8]) -> Option<u32> {
    None
}

/// The name of the network interface with index `index` (`if_indextoname`), written into
/// `buf`, if there is one.
#[cfg(unix)]
pub fn interface_name(index: u32, buf: &mut [u8; 64]) -> Option<&str> {
    const _: () = assert!(libc::IF_NAMESIZE <= 64);
    // SAFETY: the buffer holds at least IF_NAMESIZE bytes; on success it holds a
    // NUL-terminated name.
    let name = unsafe { libc::if_indextoname(index, buf.as_mut_ptr().cast()) };
    if name.is_null() {
        return None;
    }
    let end = buf.iter().position(|&b| b == 0)?;
    std::str::from_utf8(buf.get(..end)?).ok()
}

#[cfg(not(unix))]
pub fn interface_name(_index: u32, _buf: &mut [u8; 64]) -> Option<&str> {
    None
}

/// An OS error as Rust's `io::Error` prints it (`Address already in use (os error 98)`), without
/// allocating.
#[derive(Clone, Copy)]
pub struct OsError(pub i32);

impl OsError {
    /// The calling thread's last OS error (`errno`, `GetLastError`).
    pub fn last() -> OsError {
        OsError(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    }
}

impl fmt::Display for OsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        #[cfg(unix)]
        {
            let mut buf = [0u8; 128];
            // SAFETY: `buf` is writable for its length; the XSI strerror_r (libc's binding)
            // writes a NUL-terminated message into it, or fails and leaves it untouched.
            let rc = unsafe { libc::strerror_r(self.0, buf.as_mut_ptr().cast(), buf.len()) };
            let end = buf.iter().position(|&b| b == 0).unwrap_or(0);
            if let (0, Some(message)) = (rc, buf.get(..end)) {
                if let Ok(message) = std::str::from_utf8(message) {
                    if !message.is_empty() {
                        return write!(f, "{message} (os error {})", self.0);
                    }
                }
            }
        }
        write!(f, "os error {}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_errors_print_as_io_error_does() {
        let e = std::io::Error::from_raw_os_error(98);
        assert_eq!(OsError(98).to_string(), e.to_string());
    }

    #[test]
    fn names_with_a_nul_or_too_long_are_not_passed_to_c() {
        let mut a = ENetAddress::default();
        assert!(!set_host(&mut a, b"local\0host"));
        assert!(!set_host(&mut a, "a".repeat(MAX_NAME + 1).as_bytes()));
        assert!(c_string(&[b'a'; MAX_NAME]).is_some());
    }
}
