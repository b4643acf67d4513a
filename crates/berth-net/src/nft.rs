//! Firewall and NAT rules in one nftables table of Berth's own, rebuilt whole from the
//! desired state every time anything changes.
//!
//! # Why the `nft` binary
//! nf_tables is programmed over netlink with batches of low-level expressions (registers,
//! payload offsets, set lookups); the only maintained encoders are libnftnl/libnftables
//! (C), and the Rust crates either bind those libraries or wrap the same `nft` binary.
//! Berth therefore renders a script in nft's own language — the text users read back
//! with `nft list table ip berth` — and feeds it to `nft -f -`. nft commits a whole file
//! as ONE netlink batch transaction, so `table` + `delete table` + the full definition
//! replaces the table atomically: no moment without rules, and re-applying is idempotent.
//! Links, addresses and routes still go through netlink directly (see `netlink.rs`).
//!
//! # What the table does (hooks other tables can rely on)
//! * `prerouting` (nat, dstnat) and `output` (nat, -100): traffic to a local address
//!   (`fib daddr type local`) jumps to `published`, which DNATs each published port
//!   (optionally only for its host IP) to the container. `output` makes ports reachable
//!   from the host itself, including 127.0.0.1 (bridges get `route_localnet=1`).
//! * `postrouting` (nat, srcnat): masquerade host-loopback sources leaving through a
//!   Berth bridge; masquerade DNATed traffic that goes back into the bridge it came from
//!   (hairpin: a container reaching a published port of its own network); masquerade a
//!   network's subnet leaving through any other interface (unless internal or
//!   masquerade is off).
//! * `forward` (filter, priority filter, policy accept): internal networks pass nothing in
//!   or out of their bridge; established/related and DNATed (published) traffic is
//!   accepted; any other traffic from one Berth bridge to another is dropped (network
//!   isolation); `icc=false` drops traffic between containers of the same bridge.
//!
//! Nothing outside the table is touched. nftables runs every table's base chains, and a
//! drop in any of them wins: a host firewall can filter published traffic with its own
//! `forward` chain (DNATed packets carry `ct status dnat`), which is where ufw-style
//! INPUT rules never see it (user-asks §9).
//! Ports of internal networks are not published (Docker ignores them too).

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};

use ipnet::Ipv4Net;

use crate::names::validate_ifname;
use crate::ports::Proto;
use crate::NetError;

/// The whole desired state of one Berth table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NftRuleset {
    /// Table name in the `ip` family, e.g. `berth` (tests and test daemons use
    /// `berth-<suffix>`).
    pub table: String,
    pub networks: Vec<NftNetwork>,
    pub ports: Vec<NftPort>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NftNetwork {
    pub bridge: String,
    pub subnet: Ipv4Net,
    pub internal: bool,
    pub masquerade: bool,
    /// Inter-container communication on the same bridge.
    pub icc: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NftPort {
    pub proto: Proto,
    /// `None` (or 0.0.0.0): every local address.
    pub host_ip: Option<Ipv4Addr>,
    pub host_port: u16,
    pub container_ip: Ipv4Addr,
    pub container_port: u16,
    /// The bridge the container is reached through.
    pub bridge: String,
}

fn validate_table(name: &str) -> Result<(), NetError> {
    let mut bytes = name.bytes();
    let ok = name.len() <= 64
        && bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(NetError::InvalidNftName {
            name: name.to_string(),
            reason: "a letter, then at most 63 letters, digits, '_' or '-'",
        })
    }
}

/// `table` + `delete table`: deleting a table that may not exist, in one transaction.
fn drop_table_lines(table: &str) -> String {
    format!("table ip {table}\ndelete table ip {table}\n")
}

impl NftRuleset {
    /// The nft script `nft_apply` runs.
    pub fn render(&self) -> Result<String, NetError> {
        validate_table(&self.table)?;
        for n in &self.networks {
            validate_ifname(&n.bridge)?;
        }
        for p in &self.ports {
            validate_ifname(&p.bridge)?;
        }
        let t = &self.table;
        let internal = |bridge: &str| {
            self.networks
                .iter()
                .any(|n| n.bridge == bridge && n.internal)
        };

        let mut s = drop_table_lines(t);
        let _ = writeln!(s, "table ip {t} {{");
        s.push_str("\tcomment \"managed by berth; rebuilt on every change\"\n");

        s.push_str("\tset bridges {\n\t\ttype ifname\n");
        if !self.networks.is_empty() {
            let names: Vec<String> = self
                .networks
                .iter()
                .map(|n| format!("\"{}\"", n.bridge))
                .collect();
            let _ = writeln!(s, "\t\telements = {{ {} }}", names.join(", "));
        }
        s.push_str("\t}\n");

        for (chain, hook, prio) in [
            ("prerouting", "prerouting", "dstnat"),
            ("output", "output", "-100"),
        ] {
            let _ = writeln!(
                s,
                "\tchain {chain} {{\n\t\ttype nat hook {hook} priority {prio}; policy accept;\n\t\tfib daddr type local jump published\n\t}}"
            );
        }

        s.push_str("\tchain published {\n");
        for p in self.ports.iter().filter(|p| !internal(&p.bridge)) {
            s.push_str("\t\t");
            if let Some(ip) = p.host_ip.filter(|ip| !ip.is_unspecified()) {
                let _ = write!(s, "ip daddr {ip} ");
            }
            let _ = writeln!(
                s,
                "{} dport {} dnat to {}:{}",
                p.proto, p.host_port, p.container_ip, p.container_port
            );
        }
        s.push_str("\t}\n");

        s.push_str("\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n");
        if !self.networks.is_empty() {
            s.push_str("\t\toifname @bridges ip saddr 127.0.0.0/8 masquerade\n");
        }
        for n in self.networks.iter().filter(|n| !n.internal) {
            let (b, sub) = (&n.bridge, n.subnet.trunc());
            let _ = writeln!(
                s,
                "\t\toifname \"{b}\" ip saddr {sub} ct status dnat masquerade"
            );
            if n.masquerade {
                let _ = writeln!(s, "\t\tip saddr {sub} oifname != \"{b}\" masquerade");
            }
        }
        s.push_str("\t}\n");

        s.push_str(
            "\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n",
        );
        for n in self.networks.iter().filter(|n| n.internal) {
            let b = &n.bridge;
            let _ = writeln!(s, "\t\tiifname \"{b}\" oifname != \"{b}\" drop");
            let _ = writeln!(s, "\t\toifname \"{b}\" iifname != \"{b}\" drop");
        }
        s.push_str("\t\tct state established,related accept\n\t\tct status dnat accept\n");
        for n in &self.networks {
            let b = &n.bridge;
            let _ = writeln!(
                s,
                "\t\tiifname \"{b}\" oifname @bridges oifname != \"{b}\" drop"
            );
            if !n.icc {
                let _ = writeln!(s, "\t\tiifname \"{b}\" oifname \"{b}\" drop");
            }
        }
        s.push_str("\t}\n}\n");
        Ok(s)
    }
}

fn run_nft(
    args: &[&str],
    stdin: Option<&str>,
    table: &str,
    op: &'static str,
) -> Result<String, NetError> {
    let mut child = Command::new("nft")
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(NetError::NftExec)?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes())
            .map_err(|e| NetError::io("writing the nft script", e))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| NetError::io("waiting for nft", e))?;
    if !out.status.success() {
        return Err(NetError::Nft {
            table: table.to_string(),
            op,
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Replaces the table with the ruleset, atomically.
pub fn nft_apply(rs: &NftRuleset) -> Result<(), NetError> {
    let script = rs.render()?;
    run_nft(&["-f", "-"], Some(&script), &rs.table, "apply")?;
    tracing::debug!(table = %rs.table, networks = rs.networks.len(), ports = rs.ports.len(), "nftables table applied");
    Ok(())
}

/// Deletes the table; a table that does not exist is fine.
pub fn nft_remove(table: &str) -> Result<(), NetError> {
    validate_table(table)?;
    run_nft(
        &["-f", "-"],
        Some(&drop_table_lines(table)),
        table,
        "remove",
    )?;
    Ok(())
}

/// The table as `nft list table ip <table>` prints it, `None` when it does not exist.
pub fn nft_list(table: &str) -> Result<Option<String>, NetError> {
    validate_table(table)?;
    match run_nft(&["list", "table", "ip", table], None, table, "list") {
        Ok(text) => Ok(Some(text)),
        Err(NetError::Nft { stderr, .. }) if stderr.contains("No such file or directory") => {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> NftRuleset {
        NftRuleset {
            table: "berth-t".into(),
            networks: vec![
                NftNetwork {
                    bridge: "berth0".into(),
                    subnet: "172.17.0.0/16".parse().unwrap(),
                    internal: false,
                    masquerade: true,
                    icc: true,
                },
                NftNetwork {
                    bridge: "br-a".into(),
                    subnet: "172.18.0.0/24".parse().unwrap(),
                    internal: false,
                    masquerade: false,
                    icc: false,
                },
                NftNetwork {
                    bridge: "br-int".into(),
                    subnet: "172.18.1.0/24".parse().unwrap(),
                    internal: true,
                    masquerade: true,
                    icc: true,
                },
            ],
            ports: vec![
                NftPort {
                    proto: Proto::Tcp,
                    host_ip: Some(Ipv4Addr::LOCALHOST),
                    host_port: 18080,
                    container_ip: "172.17.0.2".parse().unwrap(),
                    container_port: 80,
                    bridge: "berth0".into(),
                },
                NftPort {
                    proto: Proto::Udp,
                    host_ip: Some(Ipv4Addr::UNSPECIFIED),
                    host_port: 5353,
                    container_ip: "172.18.0.2".parse().unwrap(),
                    container_port: 53,
                    bridge: "br-a".into(),
                },
                NftPort {
                    proto: Proto::Tcp,
                    host_ip: None,
                    host_port: 9000,
                    container_ip: "172.18.1.2".parse().unwrap(),
                    container_port: 9000,
                    bridge: "br-int".into(),
                },
            ],
        }
    }

    fn lines(s: &str) -> Vec<&str> {
        s.lines().map(str::trim).collect()
    }

    #[test]
    fn script_replaces_the_table_in_one_transaction() {
        let s = sample().render().unwrap();
        let l = lines(&s);
        assert_eq!(
            &l[..3],
            [
                "table ip berth-t",
                "delete table ip berth-t",
                "table ip berth-t {"
            ]
        );
        assert_eq!(
            s.matches("table ip").count(),
            3,
            "only our table is named:\n{s}"
        );
    }

    #[test]
    fn published_ports_dnat_with_and_without_host_ip() {
        let s = sample().render().unwrap();
        let l = lines(&s);
        assert!(
            l.contains(&"ip daddr 127.0.0.1 tcp dport 18080 dnat to 172.17.0.2:80"),
            "{s}"
        );
        assert!(l.contains(&"udp dport 5353 dnat to 172.18.0.2:53"), "{s}");
        // Internal networks publish nothing.
        assert!(!s.contains("9000"), "{s}");
        assert_eq!(s.matches("fib daddr type local jump published").count(), 2);
        assert!(s.contains("type nat hook output priority -100"));
    }

    #[test]
    fn masquerade_follows_internal_and_masquerade_flags() {
        let s = sample().render().unwrap();
        let l = lines(&s);
        assert!(l.contains(&"ip saddr 172.17.0.0/16 oifname != \"berth0\" masquerade"));
        assert!(
            !s.contains("ip saddr 172.18.0.0/24 oifname != \"br-a\" masquerade"),
            "{s}"
        );
        assert!(!s.contains("172.18.1.0/24"), "internal gets no NAT:\n{s}");
        assert!(l.contains(&"oifname \"br-a\" ip saddr 172.18.0.0/24 ct status dnat masquerade"));
        assert!(l.contains(&"oifname @bridges ip saddr 127.0.0.0/8 masquerade"));
    }

    #[test]
    fn forward_isolates_bridges_and_seals_internal_ones() {
        let s = sample().render().unwrap();
        let l = lines(&s);
        let pos = |needle: &str| {
            l.iter()
                .position(|x| *x == needle)
                .unwrap_or_else(|| panic!("{needle:?} missing in\n{s}"))
        };
        let internal_out = pos("iifname \"br-int\" oifname != \"br-int\" drop");
        let internal_in = pos("oifname \"br-int\" iifname != \"br-int\" drop");
        let established = pos("ct state established,related accept");
        let isolation = pos("iifname \"br-a\" oifname @bridges oifname != \"br-a\" drop");
        // Internal networks are sealed even for DNATed/established traffic.
        assert!(internal_out < established && internal_in < established);
        assert!(established < isolation);
        assert!(
            l.contains(&"iifname \"br-a\" oifname \"br-a\" drop"),
            "icc=false"
        );
        assert!(
            !l.contains(&"iifname \"berth0\" oifname \"berth0\" drop"),
            "icc=true"
        );
        assert!(l.contains(&"elements = { \"berth0\", \"br-a\", \"br-int\" }"));
    }

    #[test]
    fn empty_state_renders_an_empty_but_valid_table() {
        let s = NftRuleset {
            table: "berth".into(),
            ..Default::default()
        }
        .render()
        .unwrap();
        assert!(!s.contains("elements"));
        assert!(!s.contains("masquerade"));
        assert!(!s.contains("dnat to"));
    }

    #[test]
    fn names_that_could_break_the_script_are_refused() {
        for bad in [
            "",
            "1berth",
            "ber th",
            "berth;flush ruleset",
            "a\"b",
            &"x".repeat(65),
        ] {
            let rs = NftRuleset {
                table: bad.to_string(),
                ..Default::default()
            };
            assert!(
                matches!(rs.render(), Err(NetError::InvalidNftName { .. })),
                "{bad:?}"
            );
        }
        let mut rs = sample();
        rs.networks[0].bridge = "evil\" accept".into();
        assert!(matches!(rs.render(), Err(NetError::InvalidLinkName { .. })));
    }
}
