//! The per-container /etc/hostname, /etc/hosts and /etc/resolv.conf, written on the data
//! root and bind-mounted into the container, as Docker does.

/// /etc/hosts: Docker's loopback block, then `--add-host` entries, then the container's
/// own address line when it has one.
pub fn hosts(extra_hosts: &[String], own: Option<(&str, &str)>) -> Result<String, String> {
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
        let ip = ip.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() || ip.parse::<std::net::IpAddr>().is_err() {
            return Err(format!("invalid IP address in add-host: \"{ip}\""));
        }
        s.push_str(&format!("{ip}\t{host}\n"));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_has_the_loopback_block_and_extra_hosts() {
        let h = hosts(
            &["db:10.0.0.5".into(), "v6=::1".into()],
            Some(("10.1.1.2", "abc")),
        )
        .unwrap();
        assert!(h.starts_with("127.0.0.1\tlocalhost\n"));
        assert!(h.contains("10.0.0.5\tdb\n"));
        assert!(h.contains("::1\tv6\n"));
        assert!(h.ends_with("10.1.1.2\tabc\n"));
        assert!(hosts(&["bad".into()], None).is_err());
        assert!(hosts(&["x:notanip".into()], None).is_err());
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
