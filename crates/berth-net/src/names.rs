//! Interface names and MAC addresses: Docker's shapes, and the kernel's rules for names.

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use rand::Rng;

use crate::NetError;

/// The kernel's IFNAMSIZ minus the terminating NUL.
pub const MAX_IFNAME_LEN: usize = 15;

/// A host-side veth name in Docker's shape: `veth` and 7 random hex digits.
pub fn host_veth_name() -> String {
    let n: u32 = rand::thread_rng().gen_range(0..0x1000_0000);
    format!("veth{n:07x}")
}

/// Docker's MAC for a container address: `02:42:` followed by the four IPv4 bytes.
pub fn mac_for_ip(ip: Ipv4Addr) -> [u8; 6] {
    let [a, b, c, d] = ip.octets();
    [0x02, 0x42, a, b, c, d]
}

/// Parses `aa:bb:cc:dd:ee:ff` (also with `-` separators, any case).
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = s.split([':', '-']);
    for byte in &mut mac {
        let part = parts.next()?;
        if part.len() != 2 || !part.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        *byte = u8::from_str_radix(part, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

/// Lower-case, colon-separated, as Docker prints MAC addresses.
pub fn format_mac(m: &[u8; 6]) -> String {
    let mut out = String::with_capacity(17);
    for (i, b) in m.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Checks a network interface name against the kernel's rules, and keeps it to
/// characters that are safe to quote in an nftables script.
pub fn validate_ifname(name: &str) -> Result<(), NetError> {
    let reason = if name.is_empty() {
        Some("empty")
    } else if name.len() > MAX_IFNAME_LEN {
        Some("longer than 15 bytes")
    } else if name == "." || name == ".." {
        Some("reserved name")
    } else if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        Some("only letters, digits, '-', '_' and '.' are allowed")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(NetError::InvalidLinkName {
            name: name.to_string(),
            reason,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn veth_names_have_dockers_shape_and_fit_ifnamsiz() {
        let names: std::collections::HashSet<String> = (0..200).map(|_| host_veth_name()).collect();
        assert!(names.len() > 190, "names should be random: {}", names.len());
        for n in &names {
            assert_eq!(n.len(), 11, "{n}");
            assert!(n.starts_with("veth"));
            assert!(n[4..]
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
            validate_ifname(n).unwrap();
        }
    }

    #[test]
    fn mac_for_ip_is_02_42_then_the_address() {
        assert_eq!(
            mac_for_ip(Ipv4Addr::new(172, 17, 0, 2)),
            [0x02, 0x42, 172, 17, 0, 2]
        );
        assert_eq!(
            format_mac(&mac_for_ip(Ipv4Addr::new(172, 17, 0, 2))),
            "02:42:ac:11:00:02"
        );
    }

    #[test]
    fn parse_mac_round_trips_and_rejects_garbage() {
        let m = [0x02, 0x42, 0xac, 0x11, 0x00, 0xff];
        assert_eq!(parse_mac(&format_mac(&m)), Some(m));
        assert_eq!(parse_mac("02-42-AC-11-00-FF"), Some(m));
        for bad in [
            "",
            "02:42:ac:11:00",
            "02:42:ac:11:00:ff:01",
            "02:42:ac:11:00:f",
            "02:42:ac:11:00:fff",
            "zz:42:ac:11:00:ff",
            "02:42:ac:11:00:+f",
        ] {
            assert_eq!(parse_mac(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn ifname_rules() {
        for ok in ["eth0", "br-0123456789ab", "berth0", "a.b_c-d"] {
            validate_ifname(ok).unwrap();
        }
        for bad in ["", "0123456789abcdef", "a b", "a/b", "a\"b", "..", "eth0:1"] {
            assert!(validate_ifname(bad).is_err(), "{bad:?}");
        }
    }
}
