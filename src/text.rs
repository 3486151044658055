//! Text made in Rust for Lua without touching the heap: [`Text`] (an address, a version), and
//! the module's failure value [`Failure`] (`nil, "enet: ..."`). Both are plain data, so they
//! cross into the reply phase (lua.rs) and are turned into Lua strings only there.
use crate::address;
use crate::ffi::ENetAddress;
use crate::lua::{ffi, push_bytes, Name, Push, State};
use crate::os::OsError;
use std::os::raw::c_int;

/// A short string built in Rust (an address, an OS error), held inline so that it can cross
/// into the reply phase without owning heap memory. Longer text is cut at the capacity.
#[derive(Clone, Copy)]
pub struct Text {
    len: u8,
    buf: [u8; 200],
}

impl Text {
    pub fn new() -> Text {
        Text {
            len: 0,
            buf: [0; 200],
        }
    }

    /// `format_args!` rendered into a `Text`.
    pub fn from_fmt(args: std::fmt::Arguments<'_>) -> Text {
        let mut text = Text::new();
        // Writing into a Text never fails; overlong text is cut.
        let _ = std::fmt::Write::write_fmt(&mut text, args);
        text
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..usize::from(self.len)).unwrap_or_default()
    }
}

impl Default for Text {
    fn default() -> Self {
        Text::new()
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Without allocating: up to the first invalid byte (a character cut at the capacity).
        let bytes = self.as_bytes();
        let valid = match std::str::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default(),
        };
        f.write_str(valid)
    }
}

impl std::fmt::Write for Text {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        for &b in s.as_bytes() {
            let Some(slot) = self.buf.get_mut(usize::from(self.len)) else {
                break;
            };
            *slot = b;
            self.len += 1;
        }
        Ok(())
    }
}

/// `format!` into a [`Text`].
macro_rules! text {
    ($($arg:tt)*) => { $crate::text::Text::from_fmt(format_args!($($arg)*)) };
}
pub(crate) use text;

impl Push for Text {
    unsafe fn push(self, l: State) -> c_int {
        // SAFETY: one free slot; Lua copies the bytes.
        unsafe { push_bytes(l, self.as_bytes()) };
        1
    }
}

/// An address: its text, its port and its family.
impl Push for (Text, i64, Name) {
    unsafe fn push(self, l: State) -> c_int {
        // SAFETY: as for Text, i64 and Name.
        unsafe { self.0.push(l) + self.1.push(l) + self.2.push(l) }
    }
}

/// The module's failure value, `nil, "enet: <what>[ (<address>: <OS error>)]"`: what a
/// correct program can meet (a port in use, a socket error) is returned, not raised. Small
/// plain data; the text is assembled when it is pushed.
#[derive(Clone, Copy)]
pub struct Failure {
    what: &'static str,
    address: Option<ENetAddress>,
    /// The address was written `[::]`: it prints so, not as `0.0.0.0`.
    ipv6_any: bool,
    cause: Cause,
}

/// Why a [`Failure`] happened, when there is more to say than its `what`.
#[derive(Clone, Copy)]
enum Cause {
    None,
    Os(OsError),
    Text(&'static str),
}

impl Failure {
    pub fn new(what: &'static str) -> Failure {
        Failure {
            what,
            address: None,
            ipv6_any: false,
            cause: Cause::None,
        }
    }

    /// A failure caused by the last OS error, about `address` if given.
    pub fn os(what: &'static str, address: Option<ENetAddress>) -> Failure {
        Failure {
            what,
            address,
            ipv6_any: false,
            cause: Cause::Os(OsError::last()),
        }
    }

    /// The failure's address was written `[::]` (see [`address::DisplayIpv6Any`]).
    pub fn written_ipv6_any(self, ipv6_any: bool) -> Failure {
        Failure { ipv6_any, ..self }
    }

    /// A failure about `address` for a reason the OS did not report.
    pub fn because(what: &'static str, address: ENetAddress, reason: &'static str) -> Failure {
        Failure {
            what,
            address: Some(address),
            ipv6_any: false,
            cause: Cause::Text(reason),
        }
    }

    fn text(&self) -> Text {
        let what = self.what;
        let shown = |a| match self.ipv6_any {
            true => text!("{}", address::DisplayIpv6Any(a)),
            false => text!("{}", address::Display(a)),
        };
        match (&self.address, self.cause) {
            (Some(a), Cause::Os(e)) => text!("enet: {what} ({}: {e})", shown(a)),
            (Some(a), Cause::Text(why)) => text!("enet: {what} ({}: {why})", shown(a)),
            (None, Cause::Os(e)) => text!("enet: {what} ({e})"),
            (None, Cause::Text(why)) => text!("enet: {what} ({why})"),
            (_, Cause::None) => text!("enet: {what}"),
        }
    }
}

impl Push for Failure {
    unsafe fn push(self, l: State) -> c_int {
        // The text is formatted (any temporary freed) before Lua is called.
        let text = self.text();
        // SAFETY: two free slots; Lua copies the bytes.
        unsafe {
            ffi::lua_pushnil(l);
            push_bytes(l, text.as_bytes());
        }
        2
    }
}

/// The value, or the failure value.
impl<T: Push> Push for Result<T, Failure> {
    #[inline(always)]
    unsafe fn push(self, l: State) -> c_int {
        // SAFETY: the trait's contract, forwarded to the value's push.
        unsafe {
            match self {
                Ok(v) => v.push(l),
                Err(f) => f.push(l),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_cuts_at_its_capacity() {
        let t = text!("{}", "x".repeat(500));
        assert_eq!(t.as_bytes().len(), 200);
        assert_eq!(text!("a{}b", 1).as_bytes(), b"a1b");
    }

    #[test]
    fn failures_name_the_address_and_the_cause() {
        let a = ENetAddress {
            port: 6789,
            ..ENetAddress::default()
        };
        let f = |f: Failure| f.text().to_string();
        assert_eq!(f(Failure::new("x")), "enet: x");
        let os = Failure {
            cause: Cause::Os(OsError(98)),
            ..Failure::new("failed to create host")
        };
        assert_eq!(
            f(Failure {
                address: Some(a),
                ..os
            }),
            format!(
                "enet: failed to create host (0.0.0.0:6789: {})",
                std::io::Error::from_raw_os_error(98)
            )
        );
        let why = Failure::because("failed", a, "no IPv6");
        assert_eq!(f(why), "enet: failed (0.0.0.0:6789: no IPv6)");
        assert_eq!(
            f(why.written_ipv6_any(true)),
            "enet: failed ([::]:6789: no IPv6)"
        );
    }
}
