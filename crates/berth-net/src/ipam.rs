//! IP address management: which subnet a new network gets, and which address in a
//! network a new endpoint gets. Pure logic, no I/O: callers pass in what is in use (their
//! stored networks and the host's routes) and persist what they hand out.
//!
//! Docker splits 172.17–31 into /16s and 192.168/16 into /20s, so a host runs out after
//! 31 networks (user-asks §9). Berth keeps 172.17.0.0/16 for the default bridge and gives
//! user networks /24s: 14×256 out of 172.18.0.0/16–172.31.0.0/16 and 256 out of
//! 192.168.0.0/16, 3840 in all, skipping whatever the host already routes (VPNs).

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use crate::NetError;

/// One pool: `base` cut into subnets of prefix length `size`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Pool {
    base: Ipv4Net,
    size: u8,
}

/// The address pools user-defined networks take their subnets from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubnetPools {
    pools: Vec<Pool>,
}

fn net(a: u8, b: u8, c: u8, d: u8, len: u8) -> Ipv4Net {
    Ipv4Net::new(Ipv4Addr::new(a, b, c, d), len).expect("prefix length is at most 32")
}

/// True when the two networks share at least one address.
pub fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

impl SubnetPools {
    /// Berth's defaults: /24s out of 172.18.0.0/16..172.31.0.0/16, then out of
    /// 192.168.0.0/16. 172.17.0.0/16 is left to the default bridge.
    pub fn default_pools() -> Self {
        let mut pools: Vec<Pool> = (18..=31)
            .map(|b| Pool {
                base: net(172, b, 0, 0, 16),
                size: 24,
            })
            .collect();
        pools.push(Pool {
            base: net(192, 168, 0, 0, 16),
            size: 24,
        });
        SubnetPools { pools }
    }

    /// Custom pools, like dockerd's `default-address-pools` (`base`, `size`).
    pub fn new(pools: &[(Ipv4Net, u8)]) -> Result<Self, NetError> {
        let mut out = Vec::with_capacity(pools.len());
        for &(base, size) in pools {
            if base.trunc() != base {
                return Err(NetError::InvalidPool(format!(
                    "base {base} is not a network address (should be {})",
                    base.trunc()
                )));
            }
            if size < base.prefix_len() || size > 30 {
                return Err(NetError::InvalidPool(format!(
                    "size /{size} must be between /{} and /30 for base {base}",
                    base.prefix_len()
                )));
            }
            out.push(Pool { base, size });
        }
        Ok(SubnetPools { pools: out })
    }

    /// How many subnets the pools hold in all.
    pub fn capacity(&self) -> u64 {
        self.pools
            .iter()
            .map(|p| 1u64 << (p.size - p.base.prefix_len()))
            .sum()
    }

    /// The first subnet of the pools that overlaps neither a network in use nor a host
    /// route. A default route (`/0`) is not taken as covering everything.
    pub fn next_subnet(&self, in_use: &[Ipv4Net], host_routes: &[Ipv4Net]) -> Option<Ipv4Net> {
        let taken = merged_ranges(
            in_use
                .iter()
                .chain(host_routes)
                .filter(|n| n.prefix_len() > 0),
        );
        self.pools.iter().find_map(|pool| first_free(pool, &taken))
    }

    /// Subnets for the default bridge, best first: Docker's 172.17.0.0/16, then other
    /// /16s of 172.16.0.0/12, then /20s of 192.168.0.0/16. The caller takes the first
    /// that overlaps no host route and no existing network, and counts it as in use
    /// when it later asks [`SubnetPools::next_subnet`] (the fallbacks share the user
    /// pools' ranges).
    pub fn default_bridge_candidates() -> Vec<Ipv4Net> {
        let mut out = vec![net(172, 17, 0, 0, 16), net(172, 16, 0, 0, 16)];
        out.extend((18..=31).map(|b| net(172, b, 0, 0, 16)));
        out.extend((0..16).map(|i| net(192, 168, i * 16, 0, 20)));
        out
    }
}

/// The address ranges of `nets` as sorted, disjoint, inclusive integer intervals.
fn merged_ranges<'a>(nets: impl Iterator<Item = &'a Ipv4Net>) -> Vec<(u64, u64)> {
    let mut r: Vec<(u64, u64)> = nets
        .map(|n| {
            (
                u64::from(u32::from(n.network())),
                u64::from(u32::from(n.broadcast())),
            )
        })
        .collect();
    r.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(r.len());
    for (lo, hi) in r {
        match out.last_mut() {
            Some(last) if lo <= last.1 + 1 => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

/// The first subnet of `pool` that meets no interval of `taken`; jumps past each
/// taken interval instead of testing every candidate, so thousands of networks stay cheap.
fn first_free(pool: &Pool, taken: &[(u64, u64)]) -> Option<Ipv4Net> {
    let step = 1u64 << (32 - u32::from(pool.size));
    let end = u64::from(u32::from(pool.base.broadcast()));
    let mut start = u64::from(u32::from(pool.base.network()));
    while start + step - 1 <= end {
        let last = start + step - 1;
        let i = taken.partition_point(|&(_, hi)| hi < start);
        match taken.get(i) {
            Some(&(lo, hi)) if lo <= last => start = (hi + 1).div_ceil(step) * step,
            _ => {
                let addr = Ipv4Addr::from(u32::try_from(start).ok()?);
                return Ipv4Net::new(addr, pool.size).ok();
            }
        }
    }
    None
}

/// The first host address of a subnet, Docker's default gateway.
pub fn default_gateway(subnet: Ipv4Net) -> Ipv4Addr {
    let first = u32::from(subnet.network());
    if subnet.prefix_len() >= 31 {
        Ipv4Addr::from(first)
    } else {
        Ipv4Addr::from(first + 1)
    }
}

/// The addresses of one network: which are free, which are taken.
#[derive(Clone, Debug)]
pub struct AddressPool {
    subnet: Ipv4Net,
    gateway: Ipv4Addr,
    /// Inclusive bounds, as integers, of where `allocate` looks.
    range: (u32, u32),
    /// Never handed out: network, broadcast, gateway, aux addresses.
    reserved: BTreeSet<u32>,
    in_use: BTreeSet<u32>,
    /// The last address `allocate` handed out; the next search starts after it.
    last: Option<u32>,
}

/// The usable host addresses of `net`, as inclusive integer bounds.
fn host_bounds(net: &Ipv4Net) -> (u32, u32) {
    let (first, last) = (u32::from(net.network()), u32::from(net.broadcast()));
    if net.prefix_len() >= 31 {
        (first, last)
    } else {
        (first + 1, last - 1)
    }
}

impl AddressPool {
    /// Validates the network's IPAM settings as Docker does: subnet and ip range given
    /// as network addresses, range inside the subnet, gateway and aux addresses inside
    /// the subnet.
    pub fn new(
        subnet: Ipv4Net,
        ip_range: Option<Ipv4Net>,
        gateway: Ipv4Addr,
        aux: &[Ipv4Addr],
    ) -> Result<Self, NetError> {
        if subnet.trunc() != subnet {
            return Err(NetError::NonCanonicalSubnet {
                given: subnet,
                canonical: subnet.trunc(),
            });
        }
        if !subnet.contains(&gateway) {
            return Err(NetError::GatewayOutsideSubnet(gateway));
        }
        let range = match ip_range {
            None => host_bounds(&subnet),
            Some(r) => {
                if r.trunc() != r {
                    return Err(NetError::NonCanonicalRange {
                        given: r,
                        canonical: r.trunc(),
                    });
                }
                if !subnet.contains(&r) {
                    return Err(NetError::RangeOutsideSubnet(r));
                }
                let (sub_lo, sub_hi) = host_bounds(&subnet);
                let (lo, hi) = (u32::from(r.network()), u32::from(r.broadcast()));
                (lo.max(sub_lo), hi.min(sub_hi))
            }
        };
        let mut reserved = BTreeSet::new();
        if subnet.prefix_len() < 31 {
            reserved.insert(u32::from(subnet.network()));
            reserved.insert(u32::from(subnet.broadcast()));
        }
        reserved.insert(u32::from(gateway));
        for a in aux {
            if !subnet.contains(a) {
                return Err(NetError::AuxOutsideSubnet(*a));
            }
            reserved.insert(u32::from(*a));
        }
        Ok(AddressPool {
            subnet,
            gateway,
            range,
            reserved,
            in_use: BTreeSet::new(),
            last: None,
        })
    }

    pub fn subnet(&self) -> Ipv4Net {
        self.subnet
    }

    pub fn gateway(&self) -> Ipv4Addr {
        self.gateway
    }

    /// Addresses handed out or reserved for endpoints, in order.
    pub fn in_use(&self) -> impl Iterator<Item = Ipv4Addr> + '_ {
        self.in_use.iter().map(|&a| Ipv4Addr::from(a))
    }

    fn is_free(&self, a: u32) -> bool {
        !self.reserved.contains(&a) && !self.in_use.contains(&a)
    }

    /// The next free address after the last one handed out (wrapping around), so an
    /// address just released is not given to the next container (Docker's serial
    /// allocation).
    pub fn allocate(&mut self) -> Option<Ipv4Addr> {
        let (lo, hi) = self.range;
        if lo > hi {
            return None;
        }
        let start = match self.last {
            Some(l) if l >= lo && l < hi => l + 1,
            _ => lo,
        };
        let found = (start..=hi).chain(lo..start).find(|&a| self.is_free(a))?;
        self.in_use.insert(found);
        self.last = Some(found);
        Some(Ipv4Addr::from(found))
    }

    /// Takes a given address: a static `--ip`, or one restored after a restart. It
    /// may lie outside the ip range but not outside the subnet.
    pub fn reserve(&mut self, ip: Ipv4Addr) -> Result<(), NetError> {
        let (lo, hi) = host_bounds(&self.subnet);
        let a = u32::from(ip);
        if !self.subnet.contains(&ip) || a < lo || a > hi {
            return Err(NetError::AddressOutsideSubnet(ip));
        }
        if !self.is_free(a) {
            return Err(NetError::AddressInUse(ip));
        }
        self.in_use.insert(a);
        Ok(())
    }

    /// Gives an address back; unknown addresses are ignored.
    pub fn release(&mut self, ip: Ipv4Addr) {
        self.in_use.remove(&u32::from(ip));
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn n(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }
    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn default_pools_hold_thousands_of_distinct_24s() {
        let pools = SubnetPools::default_pools();
        assert_eq!(pools.capacity(), 14 * 256 + 256);
        let mut in_use = Vec::new();
        while let Some(s) = pools.next_subnet(&in_use, &[]) {
            assert_eq!(s.prefix_len(), 24);
            assert!(
                !in_use.iter().any(|u| overlaps(u, &s)),
                "{s} handed out twice"
            );
            assert!(
                !overlaps(&s, &n("172.17.0.0/16")),
                "{s} is the default bridge's"
            );
            in_use.push(s);
        }
        assert_eq!(in_use.len() as u64, pools.capacity());
        let distinct: HashSet<_> = in_use.iter().collect();
        assert_eq!(distinct.len(), in_use.len());
        assert_eq!(in_use[0], n("172.18.0.0/24"));
        assert_eq!(in_use[1], n("172.18.1.0/24"));
        assert_eq!(*in_use.last().unwrap(), n("192.168.255.0/24"));
    }

    #[test]
    fn next_subnet_skips_host_routes_but_not_for_a_default_route() {
        let pools = SubnetPools::default_pools();
        // A VPN that routes all of 172.16.0.0/12 pushes networks to 192.168.
        let routes = [n("0.0.0.0/0"), n("172.16.0.0/12"), n("192.168.0.0/24")];
        assert_eq!(pools.next_subnet(&[], &routes), Some(n("192.168.1.0/24")));
        // A small route only takes out the /24 it touches.
        let routes = [n("172.18.0.128/25")];
        assert_eq!(pools.next_subnet(&[], &routes), Some(n("172.18.1.0/24")));
        // A host address inside the pool, as a /32.
        let routes = [n("172.18.1.7/32")];
        let in_use = [n("172.18.0.0/24")];
        assert_eq!(
            pools.next_subnet(&in_use, &routes),
            Some(n("172.18.2.0/24"))
        );
        // A user network bigger than a /24 blocks every /24 inside it.
        let in_use = [n("172.18.0.0/16")];
        assert_eq!(pools.next_subnet(&in_use, &[]), Some(n("172.19.0.0/24")));
    }

    #[test]
    fn next_subnet_reports_exhaustion() {
        let pools = SubnetPools::new(&[(n("10.9.0.0/23"), 24)]).unwrap();
        assert_eq!(pools.capacity(), 2);
        let in_use = [n("10.9.0.0/24"), n("10.9.1.0/24")];
        assert_eq!(pools.next_subnet(&in_use, &[]), None);
        assert_eq!(pools.next_subnet(&in_use[..1], &[]), Some(n("10.9.1.0/24")));
    }

    #[test]
    fn custom_pools_are_validated() {
        assert!(SubnetPools::new(&[(n("10.9.0.1/16"), 24)]).is_err());
        assert!(SubnetPools::new(&[(n("10.9.0.0/16"), 8)]).is_err());
        assert!(SubnetPools::new(&[(n("10.9.0.0/16"), 31)]).is_err());
    }

    #[test]
    fn default_bridge_candidates_start_with_dockers_and_are_distinct() {
        let c = SubnetPools::default_bridge_candidates();
        assert_eq!(c[0], n("172.17.0.0/16"));
        for (i, a) in c.iter().enumerate() {
            for b in &c[i + 1..] {
                assert!(!overlaps(a, b), "{a} and {b}");
            }
        }
        // With 172.17 taken by the host, the next free candidate is not 172.17.
        let routes = [n("172.17.0.0/16")];
        let first_free = c.iter().find(|x| !routes.iter().any(|r| overlaps(x, r)));
        assert_eq!(first_free, Some(&n("172.16.0.0/16")));
    }

    #[test]
    fn default_gateway_is_the_first_host() {
        assert_eq!(default_gateway(n("172.17.0.0/16")), ip("172.17.0.1"));
        assert_eq!(default_gateway(n("10.1.2.0/24")), ip("10.1.2.1"));
    }

    #[test]
    fn allocation_skips_network_gateway_aux_and_broadcast() {
        let mut p =
            AddressPool::new(n("10.0.0.0/29"), None, ip("10.0.0.1"), &[ip("10.0.0.3")]).unwrap();
        let got: Vec<_> = std::iter::from_fn(|| p.allocate()).collect();
        assert_eq!(
            got,
            vec![
                ip("10.0.0.2"),
                ip("10.0.0.4"),
                ip("10.0.0.5"),
                ip("10.0.0.6")
            ]
        );
        assert_eq!(p.in_use().count(), 4);
    }

    #[test]
    fn allocation_is_serial_so_freed_addresses_are_not_reused_at_once() {
        let mut p = AddressPool::new(n("10.0.0.0/24"), None, ip("10.0.0.1"), &[]).unwrap();
        assert_eq!(p.allocate(), Some(ip("10.0.0.2")));
        assert_eq!(p.allocate(), Some(ip("10.0.0.3")));
        p.release(ip("10.0.0.2"));
        assert_eq!(p.allocate(), Some(ip("10.0.0.4")));
        // Once the end is reached the search wraps around to the freed address.
        let mut last = None;
        while let Some(a) = p.allocate() {
            last = Some(a);
        }
        assert_eq!(last, Some(ip("10.0.0.2")));
        assert_eq!(p.in_use().count(), 253);
    }

    #[test]
    fn a_hundred_allocations_are_distinct() {
        let mut p = AddressPool::new(n("172.18.0.0/24"), None, ip("172.18.0.1"), &[]).unwrap();
        let got: HashSet<_> = (0..100).map(|_| p.allocate().unwrap()).collect();
        assert_eq!(got.len(), 100);
        assert!(!got.contains(&ip("172.18.0.1")));
    }

    #[test]
    fn ip_range_limits_allocation_but_not_reservation() {
        let mut p = AddressPool::new(
            n("10.1.0.0/16"),
            Some(n("10.1.5.0/30")),
            ip("10.1.0.1"),
            &[],
        )
        .unwrap();
        let got: Vec<_> = std::iter::from_fn(|| p.allocate()).collect();
        // The range's own network/broadcast addresses are ordinary hosts of the subnet.
        assert_eq!(
            got,
            vec![
                ip("10.1.5.0"),
                ip("10.1.5.1"),
                ip("10.1.5.2"),
                ip("10.1.5.3")
            ]
        );
        p.reserve(ip("10.1.9.9")).unwrap();
        assert_eq!(p.allocate(), None);
    }

    #[test]
    fn reserve_rejects_taken_and_foreign_addresses() {
        let mut p =
            AddressPool::new(n("10.0.0.0/24"), None, ip("10.0.0.1"), &[ip("10.0.0.9")]).unwrap();
        p.reserve(ip("10.0.0.5")).unwrap();
        assert!(matches!(
            p.reserve(ip("10.0.0.5")),
            Err(NetError::AddressInUse(_))
        ));
        assert!(matches!(
            p.reserve(ip("10.0.0.1")),
            Err(NetError::AddressInUse(_))
        ));
        assert!(matches!(
            p.reserve(ip("10.0.0.9")),
            Err(NetError::AddressInUse(_))
        ));
        for outside in ["10.0.1.5", "10.0.0.0", "10.0.0.255"] {
            assert!(
                matches!(
                    p.reserve(ip(outside)),
                    Err(NetError::AddressOutsideSubnet(_))
                ),
                "{outside}"
            );
        }
        // A reserved address is skipped by allocation; released, it can be taken again.
        let got: Vec<_> = (0..4).map(|_| p.allocate().unwrap()).collect();
        assert_eq!(
            got,
            vec![
                ip("10.0.0.2"),
                ip("10.0.0.3"),
                ip("10.0.0.4"),
                ip("10.0.0.6")
            ]
        );
        p.release(ip("10.0.0.5"));
        p.reserve(ip("10.0.0.5")).unwrap();
    }

    #[test]
    fn construction_is_validated_like_docker() {
        let sub = n("10.0.0.0/24");
        let gw = ip("10.0.0.1");
        let e = AddressPool::new(n("10.0.0.5/24"), None, gw, &[]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid subnet 10.0.0.5/24: it should be 10.0.0.0/24"
        );
        let e = AddressPool::new(sub, None, ip("10.0.1.1"), &[]).unwrap_err();
        assert_eq!(e.to_string(), "no matching subnet for gateway 10.0.1.1");
        let e = AddressPool::new(sub, Some(n("10.0.1.0/25")), gw, &[]).unwrap_err();
        assert_eq!(e.to_string(), "no matching subnet for range 10.0.1.0/25");
        let e = AddressPool::new(sub, Some(n("10.0.0.0/23")), gw, &[]).unwrap_err();
        assert!(matches!(e, NetError::RangeOutsideSubnet(_)));
        let e = AddressPool::new(sub, Some(n("10.0.0.3/25")), gw, &[]).unwrap_err();
        assert!(matches!(e, NetError::NonCanonicalRange { .. }));
        let e = AddressPool::new(sub, None, gw, &[ip("10.9.0.1")]).unwrap_err();
        assert_eq!(e.to_string(), "no matching subnet for aux-address 10.9.0.1");
    }
}
