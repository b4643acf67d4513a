//! The address checks `network create` makes before it sends anything, with Go's `net`
//! rules and wording: `net.ParseCIDR`, `net.ParseIP` and `IPNet.Contains`.

use std::net::IpAddr;

/// A parsed `ADDR/BITS`: the address as written and the network it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub addr: IpAddr,
    network: IpAddr,
    bits: u8,
}

/// `net.ParseCIDR`: an address (no zone), `/`, then 0 to 32 (or 128) decimal bits.
pub fn parse_cidr(s: &str) -> Result<Cidr, String> {
    let invalid = || format!("invalid CIDR address: {s}");
    let (addr, bits) = s.split_once('/').ok_or_else(invalid)?;
    let addr: IpAddr = addr.parse().map_err(|_| invalid())?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    if bits.is_empty() || !bits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    let bits: u32 = bits.parse().map_err(|_| invalid())?;
    if bits > max {
        return Err(invalid());
    }
    // An IPv4-mapped IPv6 network is an IPv4 network for Go's `Contains`.
    let (network, bits) = match addr {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => (IpAddr::V4(v4), bits.saturating_sub(96)),
            None => (addr, bits),
        },
        IpAddr::V4(_) => (addr, bits),
    };
    Ok(Cidr {
        addr,
        network,
        bits: bits as u8,
    })
}

impl Cidr {
    /// `IPNet.Contains`: same family (IPv4-mapped addresses count as IPv4) and prefix.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let masked = |a: u128, width: u32| {
            let keep = u32::from(self.bits);
            if keep == 0 {
                0
            } else {
                a >> (width - keep)
            }
        };
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(n), IpAddr::V4(i)) => {
                masked(u32::from(n).into(), 32) == masked(u32::from(i).into(), 32)
            }
            (IpAddr::V6(n), IpAddr::V6(i)) => masked(n.into(), 128) == masked(i.into(), 128),
            _ => false,
        }
    }
}

/// docker/cli's `subnetMatches`: whether `data` (an address, or the address of a CIDR)
/// lies in `subnet`. An address that does not parse lies nowhere.
pub fn subnet_matches(subnet: &str, data: &str) -> Result<bool, String> {
    let net = parse_cidr(subnet).map_err(|e| format!("invalid subnet: {e}"))?;
    let ip = if data.contains('/') {
        Some(parse_cidr(data)?.addr)
    } else {
        data.parse().ok()
    };
    Ok(ip.is_some_and(|ip| net.contains(ip)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_go() {
        assert!(parse_cidr("10.0.0.1/8").is_ok());
        assert!(parse_cidr("fd00::/64").is_ok());
        for bad in [
            "bogus",
            "10.0.0.0",
            "10.0.0.0/33",
            "10.0.0.0/+8",
            "10.0.0.0/",
            "x/8",
        ] {
            assert_eq!(
                parse_cidr(bad).unwrap_err(),
                format!("invalid CIDR address: {bad}")
            );
        }
    }

    #[test]
    fn containment_follows_prefix_and_family() {
        let m = |s: &str, d: &str| subnet_matches(s, d).unwrap();
        assert!(m("10.5.0.0/16", "10.5.3.4"));
        assert!(m("10.5.0.0/16", "10.5.1.0/24"));
        assert!(!m("10.5.0.0/16", "10.6.0.1"));
        assert!(m("0.0.0.0/0", "192.168.1.1"));
        assert!(!m("0.0.0.0/0", "fd00::1"));
        assert!(m("fd00::/64", "fd00::1"));
        assert!(!m("fd00::/64", "fd00:0:0:1::1"));
        assert!(m("10.0.0.0/8", "::ffff:10.1.2.3"));
        assert!(m("::ffff:10.0.0.0/104", "10.1.2.3"));
        assert!(!m("10.0.0.0/8", "bogus"));
        assert!(!m("10.0.0.0/8", ""));
        assert_eq!(
            subnet_matches("bogus", "10.0.0.1").unwrap_err(),
            "invalid subnet: invalid CIDR address: bogus"
        );
        assert_eq!(
            subnet_matches("10.0.0.0/8", "x/8").unwrap_err(),
            "invalid CIDR address: x/8"
        );
    }
}
