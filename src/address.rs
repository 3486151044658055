//! `"host:port"` strings: parsing with the reference's rules and texts (docs/api.md, "Addresses"),
//! resolving through ENet, and formatting as `a.b.c.d:port`.
use crate::ffi::{enet_address_set_host, ENetAddress};
use std::ffi::CStr;
use std::fmt;

/// Host parts of 128 characters or more, and port parts of 32 or more, are refused (the
/// reference's buffer sizes, without its overrun).
const MAX_HOST: usize = 128;
const MAX_PORT: usize = 32;

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum AddressError {
    TooLong,
    Ipv6,
    Parse,
    MissingPort,
    Resolve,
}

impl AddressError {
    pub fn message(self) -> &'static CStr {
        match self {
            AddressError::TooLong => c"Hostname too long",
            AddressError::Ipv6 => {
                c"Failed to parse address: IPv6 is not supported (ENet 1.3 speaks IPv4 only)"
            }
            AddressError::Parse => c"Failed to parse address",
            AddressError::MissingPort => c"Missing port in address",
            AddressError::Resolve => c"Failed to resolve host name",
        }
    }
}

/// An address string split into its parts, before name resolution.
#[derive(Debug, PartialEq, Eq)]
pub struct Parsed<'a> {
    /// `None` for `*` (any address).
    pub host: Option<&'a [u8]>,
    pub port: u16,
}

/// Splits at the first `:`, checks the parts in the reference's order (length, empty host,
/// empty port) and converts the port.
pub fn parse(text: &[u8]) -> Result<Parsed<'_>, AddressError> {
    // The reference reads a C string: everything from the first NUL on is ignored.
    let text = text.split(|&b| b == 0).next().unwrap_or_default();
    let (host, port) = match text.iter().position(|&b| b == b':') {
        Some(colon) => (&text[..colon], &text[colon + 1..]),
        None => (text, &text[text.len()..]),
    };
    if host.len() >= MAX_HOST || port.len() >= MAX_PORT {
        return Err(AddressError::TooLong);
    }
    if looks_like_ipv6(text) {
        return Err(AddressError::Ipv6);
    }
    if host.is_empty() {
        return Err(AddressError::Parse);
    }
    if port.is_empty() {
        return Err(AddressError::MissingPort);
    }
    Ok(Parsed {
        host: if host == b"*" { None } else { Some(host) },
        port: if port == b"*" { 0 } else { atoi(port) as u16 },
    })
}

/// `[::1]:80`, `::1:80`, `fe80::1:80`: bracketed or `::`-compressed forms.
fn looks_like_ipv6(text: &[u8]) -> bool {
    text.first() == Some(&b'[') || text.windows(2).any(|w| w == b"::")
}

/// glibc's `atoi`: optional leading blanks and sign, digits up to the first non-digit, no digits
/// is 0. Accumulates in 64 bits and saturates as `strtol` does, instead of overflowing.
pub fn atoi(s: &[u8]) -> i64 {
    let mut rest = s;
    while let [b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r', tail @ ..] = rest {
        rest = tail;
    }
    let negative = match rest {
        [b'-', tail @ ..] => {
            rest = tail;
            true
        }
        [b'+', tail @ ..] => {
            rest = tail;
            false
        }
        _ => false,
    };
    let mut value: i64 = 0;
    for &b in rest.iter().take_while(|b| b.is_ascii_digit()) {
        let digit = i64::from(b - b'0');
        value = if negative {
            value.saturating_mul(10).saturating_sub(digit)
        } else {
            value.saturating_mul(10).saturating_add(digit)
        };
    }
    value
}

/// Parses and resolves (blocking DNS, as ENet does) into an `ENetAddress`.
pub fn resolve(text: &[u8]) -> Result<ENetAddress, AddressError> {
    let parsed = parse(text)?;
    let mut address = ENetAddress {
        host: 0,
        port: parsed.port,
    };
    if let Some(host) = parsed.host {
        // A C string on the stack (no allocation: this may run when memory is short). `parse`
        // cut the text at its first NUL and refused host parts of MAX_HOST bytes or more.
        let mut name = [0u8; MAX_HOST + 1];
        name.get_mut(..host.len())
            .ok_or(AddressError::TooLong)?
            .copy_from_slice(host);
        // SAFETY: `address` is a valid out-parameter and `name` a NUL-terminated string.
        if unsafe { enet_address_set_host(&mut address, name.as_ptr().cast()) } != 0 {
            return Err(AddressError::Resolve);
        }
    }
    Ok(address)
}

/// Formats an address as `a.b.c.d:port`, correct on any byte order (the host field is in
/// network order in memory).
pub struct Display<'a>(pub &'a ENetAddress);

impl fmt::Display for Display<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", Ip(self.0), self.0.port)
    }
}

/// Formats an address's host as `a.b.c.d`.
pub struct Ip<'a>(pub &'a ENetAddress);

impl fmt::Display for Ip<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d] = self.0.host.to_ne_bytes();
        write!(f, "{a}.{b}.{c}.{d}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(text: &str) -> u16 {
        parse(text.as_bytes()).unwrap().port
    }

    #[test]
    fn splits_at_the_first_colon() {
        let p = parse(b"127.0.0.1:1235:34").unwrap();
        assert_eq!(p.host, Some(&b"127.0.0.1"[..]));
        assert_eq!(p.port, 1235);
        assert_eq!(
            parse(b"*:*").unwrap(),
            Parsed {
                host: None,
                port: 0
            }
        );
    }

    #[test]
    fn ports_follow_atoi_then_wrap_to_16_bits() {
        assert_eq!(port("h: 1234x"), 1234);
        assert_eq!(port("h:abc"), 0);
        assert_eq!(port("h:70000"), 4464);
        assert_eq!(port("h:-1"), 65535);
        assert_eq!(port("localhost:112344"), 46808);
        assert_eq!(port("h:99999999999"), 59391);
        assert_eq!(port("h:9999999999999999999999999"), 65535);
        assert_eq!(port("h:-9999999999999999999999999"), 0);
        assert_eq!(port(&format!("h:{:0>31}", 4321)), 4321);
    }

    #[test]
    fn errors_in_the_reference_order() {
        assert_eq!(parse(b""), Err(AddressError::Parse));
        assert_eq!(parse(b":80"), Err(AddressError::Parse));
        assert_eq!(parse(b"localhost"), Err(AddressError::MissingPort));
        assert_eq!(parse(b"localhost:"), Err(AddressError::MissingPort));
        assert_eq!(parse(b"123"), Err(AddressError::MissingPort));
        assert_eq!(parse(b"[::1]:80"), Err(AddressError::Ipv6));
        assert_eq!(parse(b"::1:80"), Err(AddressError::Ipv6));
        assert_eq!(parse(b"fe80::1:80"), Err(AddressError::Ipv6));
    }

    #[test]
    fn length_limits_without_overrun() {
        let h127 = "a".repeat(127);
        let h128 = "a".repeat(128);
        assert!(parse(format!("{h127}:1").as_bytes()).is_ok());
        assert_eq!(
            parse(format!("{h128}:1").as_bytes()),
            Err(AddressError::TooLong)
        );
        assert_eq!(parse(h128.as_bytes()), Err(AddressError::TooLong));
        assert_eq!(
            parse(format!("h:{}", "1".repeat(32)).as_bytes()),
            Err(AddressError::TooLong)
        );
        assert!(parse(format!("h:{}", "1".repeat(31)).as_bytes()).is_ok());
    }

    #[test]
    fn stops_at_nul() {
        assert_eq!(parse(b"127.0.0.1:1236\0zzz").unwrap().port, 1236);
        assert_eq!(parse(b"\x00127.0.0.1:1"), Err(AddressError::Parse));
    }

    #[test]
    fn formats_in_network_order() {
        let a = ENetAddress {
            host: u32::from_ne_bytes([127, 0, 0, 1]),
            port: 5678,
        };
        assert_eq!(Display(&a).to_string(), "127.0.0.1:5678");
        assert_eq!(Display(&ENetAddress::default()).to_string(), "0.0.0.0:0");
    }
}
