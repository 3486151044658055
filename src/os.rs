//! What only the operating system (or ENet's socket layer) can say about addresses and errors:
//! a host name's address, the network interfaces that IPv6 zones name, and an OS error's text.
//! On Windows the socket errors ENet meets are WSA codes (10000 and up), which Windows words in
//! long sentences of the user's language and Wine often not at all: those get the words Linux
//! prints for the same condition (`Address already in use (os error 10048)`), every other code
//! the system's own text (`FormatMessageW`).
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
        if describe(self.0, f)? {
            write!(f, " (os error {})", self.0)
        } else {
            write!(f, "os error {}", self.0)
        }
    }
}

/// Writes the message of `code`; `Ok(false)` (nothing written) when the system has none.
#[cfg(unix)]
fn describe(code: i32, f: &mut fmt::Formatter<'_>) -> Result<bool, fmt::Error> {
    let mut buf = [0u8; 128];
    // SAFETY: `buf` is writable for its length; the XSI strerror_r (libc's binding) writes a
    // NUL-terminated message into it, or fails and leaves it untouched.
    let rc = unsafe { libc::strerror_r(code, buf.as_mut_ptr().cast(), buf.len()) };
    let end = buf.iter().position(|&b| b == 0).unwrap_or(0);
    match (rc, buf.get(..end).map(std::str::from_utf8)) {
        (0, Some(Ok(message))) if !message.is_empty() => f.write_str(message).map(|()| true),
        _ => Ok(false),
    }
}

#[cfg(windows)]
fn describe(code: i32, f: &mut fmt::Formatter<'_>) -> Result<bool, fmt::Error> {
    if let Some(message) = wsa_message(code) {
        return f.write_str(message).map(|()| true);
    }
    let mut buf = [0u16; 256];
    // SAFETY: `buf` is writable for the length given (in UTF-16 units); with
    // FORMAT_MESSAGE_FROM_SYSTEM and IGNORE_INSERTS, FormatMessageW reads neither the source
    // nor the arguments, and returns how many units it wrote (0 on failure).
    let written = unsafe {
        windows::FormatMessageW(
            windows::FORMAT_MESSAGE_FROM_SYSTEM | windows::FORMAT_MESSAGE_IGNORE_INSERTS,
            std::ptr::null(),
            code as u32,
            0,
            buf.as_mut_ptr(),
            buf.len() as u32,
            std::ptr::null_mut(),
        )
    };
    let text = buf.get(..written as usize).unwrap_or_default();
    // Windows ends its sentences with ".\r\n": trimmed, as the table's words are.
    let trimmed = |u: &u16| matches!(*u, 0x20 | 0x0d | 0x0a | 0x2e);
    let end = text.iter().rposition(|u| !trimmed(u)).map_or(0, |i| i + 1);
    let Some(text) = text.get(..end).filter(|t| !t.is_empty()) else {
        return Ok(false);
    };
    for c in char::decode_utf16(text.iter().copied()) {
        fmt::Write::write_char(f, c.unwrap_or(char::REPLACEMENT_CHARACTER))?;
    }
    Ok(true)
}

/// The WSA codes (winerror.h), in the words glibc's strerror gives their POSIX twins.
#[cfg(any(windows, test))]
fn wsa_message(code: i32) -> Option<&'static str> {
    Some(match code {
        10004 => "Interrupted system call",                  // WSAEINTR
        10009 => "Bad file descriptor",                      // WSAEBADF
        10013 => "Permission denied",                        // WSAEACCES
        10014 => "Bad address",                              // WSAEFAULT
        10022 => "Invalid argument",                         // WSAEINVAL
        10024 => "Too many open files",                      // WSAEMFILE
        10035 => "Resource temporarily unavailable",         // WSAEWOULDBLOCK
        10036 => "Operation now in progress",                // WSAEINPROGRESS
        10037 => "Operation already in progress",            // WSAEALREADY
        10038 => "Socket operation on non-socket",           // WSAENOTSOCK
        10039 => "Destination address required",             // WSAEDESTADDRREQ
        10040 => "Message too long",                         // WSAEMSGSIZE
        10041 => "Protocol wrong type for socket",           // WSAEPROTOTYPE
        10042 => "Protocol not available",                   // WSAENOPROTOOPT
        10043 => "Protocol not supported",                   // WSAEPROTONOSUPPORT
        10044 => "Socket type not supported",                // WSAESOCKTNOSUPPORT
        10045 => "Operation not supported",                  // WSAEOPNOTSUPP
        10046 => "Protocol family not supported",            // WSAEPFNOSUPPORT
        10047 => "Address family not supported by protocol", // WSAEAFNOSUPPORT
        10048 => "Address already in use",                   // WSAEADDRINUSE
        10049 => "Cannot assign requested address",          // WSAEADDRNOTAVAIL
        10050 => "Network is down",                          // WSAENETDOWN
        10051 => "Network is unreachable",                   // WSAENETUNREACH
        10052 => "Network dropped connection on reset",      // WSAENETRESET
        10053 => "Software caused connection abort",         // WSAECONNABORTED
        10054 => "Connection reset by peer",                 // WSAECONNRESET
        10055 => "No buffer space available",                // WSAENOBUFS
        10056 => "Transport endpoint is already connected",  // WSAEISCONN
        10057 => "Transport endpoint is not connected",      // WSAENOTCONN
        10058 => "Cannot send after transport endpoint shutdown", // WSAESHUTDOWN
        10060 => "Connection timed out",                     // WSAETIMEDOUT
        10061 => "Connection refused",                       // WSAECONNREFUSED
        10064 => "Host is down",                             // WSAEHOSTDOWN
        10065 => "No route to host",                         // WSAEHOSTUNREACH
        10091 => "Network subsystem is unavailable",         // WSASYSNOTREADY
        10092 => "Winsock version not supported",            // WSAVERNOTSUPPORTED
        10093 => "Winsock is not initialised (WSAStartup)",  // WSANOTINITIALISED
        11001 => "Host not found",                           // WSAHOST_NOT_FOUND
        11002 => "Temporary failure in name resolution",     // WSATRY_AGAIN
        11003 => "Non-recoverable failure in name resolution", // WSANO_RECOVERY
        11004 => "No address associated with hostname",      // WSANO_DATA
        _ => return None,
    })
}

#[cfg(windows)]
mod windows {
    use std::os::raw::c_void;

    pub const FORMAT_MESSAGE_IGNORE_INSERTS: u32 = 0x0000_0200;
    pub const FORMAT_MESSAGE_FROM_SYSTEM: u32 = 0x0000_1000;

    #[link(name = "kernel32")]
    extern "system" {
        pub fn FormatMessageW(
            flags: u32,
            source: *const c_void,
            message_id: u32,
            language_id: u32,
            buffer: *mut u16,
            size: u32,
            arguments: *mut c_void,
        ) -> u32;
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

    #[test]
    #[cfg(unix)]
    fn unix_reads_as_io_error_does() {
        for code in [libc::EADDRINUSE, libc::EACCES, libc::EAFNOSUPPORT] {
            let io = std::io::Error::from_raw_os_error(code).to_string();
            assert_eq!(OsError(code).to_string(), io);
        }
        assert_eq!(OsError(-12345).to_string().matches("12345").count(), 1);
    }

    #[test]
    fn wsa_table_words_the_socket_errors() {
        assert_eq!(wsa_message(10048), Some("Address already in use"));
        assert_eq!(wsa_message(10049), Some("Cannot assign requested address"));
        assert_eq!(wsa_message(10040), Some("Message too long"));
        assert_eq!(wsa_message(98), None);
        // every code of the table is in the WSA ranges, worded, without a final period
        for code in (10_000..10_100).chain(11_000..11_010) {
            if let Some(m) = wsa_message(code) {
                assert!(m.len() > 8 && !m.ends_with('.'), "{code}: {m}");
            }
        }
    }
}
