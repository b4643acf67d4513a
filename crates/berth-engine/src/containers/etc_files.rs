//! The per-container /etc/hostname, /etc/hosts and /etc/resolv.conf, written on the data
//! root and bind-mounted into the container, as Docker does.

/// /etc/hosts: Docker's loopback block, then `--add-host` entries (`host-gateway` standing
/// for `host_gateway`, the default bridge's gateway as dockerd's `--host-gateway-ip`), then
/// `links` lines, then the container's own address line when it has one.
pub fn hosts(
    extra_hosts: &[String],
    host_gateway: Option<&str>,
    links: &[String],
    own: Option<(&str, &str)>,
) -> Result<String, String> {
    let mut s = String::from(
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n\
         fe00::\tip6-localnet\nff00::\tip6-mcastprefix\nff02::1\tip6-allnodes\n\
         ff02::2\tip6-allrouters\n",
    );
    for entry in extra_hosts {
        // host:ip, or host=ip (API ≥ 1.44); the IP may itself contain colons (IPv6).
        let (host, ip) = entry
            .split_once('=')
            .or_else(|| entry.split_once(':'))
            .ok_or_else(|| format!("invalid extra host entry: {entry}"))?;
        let ip = match (ip, host_gateway) {
            ("host-gateway", Some(gw)) => gw,
            _ => ip.trim_start_matches('[').trim_end_matches(']'),
        };
        if host.is_empty() || ip.parse::<std::net::IpAddr>().is_err() {
            return Err(format!("invalid IP address in add-host: \"{ip}\""));
        }
        s.push_str(&format!("{ip}\t{host}\n"));
    }
    for line in links {
        s.push_str(line);
        s.push('\n');
    }
    if let Some((ip, name)) = own {
        s.push_str(&format!("{ip}\t{name}\n"));
    }
    Ok(s)
}

/// /etc/resolv.conf from the host's, with loopback nameservers dropped (they cannot be
/// reached from the container's namespace) and Google's resolvers as Docker's fallback;
/// `--dns`, `--dns-search`, `--dns-option` replace the respective lines.
pub fn resolv_conf(host: &str, dns: &[String], search: &[String], options: &[String]) -> String {
    let mut servers = Vec::new();
    let mut host_search = Vec::new();
    let mut host_options = Vec::new();
    for line in host.lines() {
        let mut f = line.split_whitespace();
        match f.next() {
            Some("nameserver") => {
                if let Some(ip) = f.next() {
                    let loopback = ip
                        .parse::<std::net::IpAddr>()
                        .map(|a| a.is_loopback())
                        .unwrap_or(false);
                    if !loopback {
                        servers.push(ip.to_owned());
                    }
                }
            }
            Some("search") | Some("domain") => host_search = f.map(str::to_owned).collect(),
            Some("options") => host_options.extend(f.map(str::to_owned)),
            _ => {}
        }
    }
    if !dns.is_empty() {
        servers = dns.to_vec();
    } else if servers.is_empty() {
        servers = vec!["8.8.8.8".into(), "8.8.4.4".into()];
    }
    let search = if search.is_empty() {
        host_search
    } else {
        search
            .iter()
            .filter(|s| s.as_str() != ".")
            .cloned()
            .collect()
    };
    let options = if options.is_empty() {
        host_options
    } else {
        options.to_vec()
    };
    let mut out = String::new();
    for s in &servers {
        out.push_str(&format!("nameserver {s}\n"));
    }
    if !search.is_empty() {
        out.push_str(&format!("search {}\n", search.join(" ")));
    }
    if !options.is_empty() {
        out.push_str(&format!("options {}\n", options.join(" ")));
    }
    out
}

/// The host's resolv.conf as containers should see it: when the host runs systemd-resolved
/// (only 127.0.0.53 listed), its real upstreams in /run/systemd/resolve/resolv.conf.
pub fn host_resolv_conf() -> String {
    let text = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let only_stub = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .all(|ip| ip.trim() == "127.0.0.53");
    if only_stub && text.contains("127.0.0.53") {
        if let Ok(real) = std::fs::read_to_string("/run/systemd/resolve/resolv.conf") {
            return real;
        }
    }
    text
}

/// resolv.conf on a user-defined network: the embedded DNS server, the host's search
/// domains (or `--dns-search`), `ndots:0` as Docker writes it (plus `--dns-option`).
pub fn embedded_resolv_conf(host: &str, search: &[String], options: &[String]) -> String {
    let base = resolv_conf(host, &["127.0.0.11".into()], search, &[]);
    let mut opts: Vec<String> = vec!["ndots:0".into()];
    let host_opts: Vec<String> = host
        .lines()
        .filter_map(|l| l.trim().strip_prefix("options"))
        .flat_map(|o| o.split_whitespace().map(str::to_owned))
        .collect();
    for o in host_opts.into_iter().chain(options.iter().cloned()) {
        if o.starts_with("ndots:") {
            opts.retain(|x| !x.starts_with("ndots:"));
        }
        if !opts.contains(&o) {
            opts.push(o);
        }
    }
    let mut out: String = base
        .lines()
        .filter(|l| !l.starts_with("options"))
        .map(|l| format!("{l}\n"))
        .collect();
    out.push_str(&format!("options {}\n", opts.join(" ")));
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn embedded_resolv_conf_points_at_the_embedded_server() {
        let r = embedded_resolv_conf("nameserver 10.0.0.1\nsearch corp\n", &[], &[]);
        assert_eq!(r, "nameserver 127.0.0.11\nsearch corp\noptions ndots:0\n");
        let r = embedded_resolv_conf("nameserver 10.0.0.1\n", &[], &["ndots:3".into()]);
        assert_eq!(r, "nameserver 127.0.0.11\noptions ndots:3\n");
    }

    use super::*;

    #[test]
    fn hosts_has_the_loopback_block_and_extra_hosts() {
        let h = hosts(
            &[
                "db:10.0.0.5".into(),
                "v6=::1".into(),
                "gw:host-gateway".into(),
            ],
            Some("172.17.0.1"),
            &["10.1.1.9\tdb-alias db".into()],
            Some(("10.1.1.2", "abc")),
        )
        .unwrap();
        assert!(h.contains("172.17.0.1\tgw\n"), "{h}");
        assert!(h.contains("10.1.1.9\tdb-alias db\n10.1.1.2\tabc\n"), "{h}");
        assert!(h.starts_with("127.0.0.1\tlocalhost\n"));
        assert!(h.contains("10.0.0.5\tdb\n"));
        assert!(h.contains("::1\tv6\n"));
        assert!(h.ends_with("10.1.1.2\tabc\n"));
        assert!(hosts(&["bad".into()], None, &[], None).is_err());
        assert!(hosts(&["x:notanip".into()], None, &[], None).is_err());
        assert!(hosts(&["x:host-gateway".into()], None, &[], None).is_err());
    }

    #[test]
    fn resolv_conf_drops_loopback_and_applies_overrides() {
        let host = "nameserver 127.0.0.53\nsearch corp\noptions edns0\n";
        assert_eq!(
            resolv_conf(host, &[], &[], &[]),
            "nameserver 8.8.8.8\nnameserver 8.8.4.4\nsearch corp\noptions edns0\n"
        );
        let host = "nameserver 10.0.0.1\nnameserver ::1\n";
        assert_eq!(resolv_conf(host, &[], &[], &[]), "nameserver 10.0.0.1\n");
        assert_eq!(
            resolv_conf(
                host,
                &["1.1.1.1".into()],
                &["a.b".into()],
                &["ndots:2".into()]
            ),
            "nameserver 1.1.1.1\nsearch a.b\noptions ndots:2\n"
        );
    }
}
