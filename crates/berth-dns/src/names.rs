//! Name handling: the form names are handed to the [`crate::Resolver`] in, reverse-lookup
//! names, and search-domain stripping.

use std::net::Ipv4Addr;

use hickory_proto::rr::Name;

const IPV4_ARPA_SUFFIX: &str = ".in-addr.arpa";

/// `name` as the resolver sees it: lower-case ASCII (IDNA) without the trailing root dot.
pub(crate) fn normalize(name: &Name) -> String {
    let mut ascii = name.to_lowercase().to_ascii();
    if ascii.ends_with('.') {
        ascii.pop();
    }
    ascii
}

/// The address a normalized `d.c.b.a.in-addr.arpa` name stands for; `None` for anything else
/// (partial zones such as `b.a.in-addr.arpa`, IPv6 names, octets out of range).
pub(crate) fn parse_ipv4_arpa(name: &str) -> Option<Ipv4Addr> {
    let reversed = name.strip_suffix(IPV4_ARPA_SUFFIX)?;
    let mut octets = [0u8; 4];
    let mut labels = reversed.split('.');
    for slot in octets.iter_mut().rev() {
        let label = labels.next()?;
        // Reject "+1", "01x" and the like that `u8::from_str` would not, or would, accept.
        if label.is_empty() || label.len() > 3 || !label.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *slot = label.parse().ok()?;
    }
    if labels.next().is_some() {
        return None;
    }
    Some(Ipv4Addr::from(octets))
}

/// `name` without `.domain` at its end, if it ends so and something is left.
pub(crate) fn strip_search_domain<'a>(name: &'a str, domain: &str) -> Option<&'a str> {
    let domain = domain.trim_end_matches('.');
    if domain.is_empty() || name.len() <= domain.len() + 1 {
        return None;
    }
    let split = name.len() - domain.len() - 1;
    if !name.is_char_boundary(split) {
        return None;
    }
    let (head, tail) = name.split_at(split);
    let tail = tail.strip_prefix('.')?;
    tail.eq_ignore_ascii_case(domain).then_some(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_lowercases_and_drops_root_dot() {
        let name = Name::from_ascii("Web.MyNet.").unwrap();
        assert_eq!(normalize(&name), "web.mynet");
        let relative = Name::from_ascii("DB").unwrap();
        assert_eq!(normalize(&relative), "db");
    }

    #[test]
    fn arpa_names_parse_to_addresses() {
        assert_eq!(
            parse_ipv4_arpa("5.0.18.172.in-addr.arpa"),
            Some(Ipv4Addr::new(172, 18, 0, 5))
        );
        assert_eq!(
            parse_ipv4_arpa("255.0.0.10.in-addr.arpa"),
            Some(Ipv4Addr::new(10, 0, 0, 255))
        );
    }

    #[test]
    fn arpa_names_that_are_not_single_addresses_are_rejected() {
        for name in [
            "0.18.172.in-addr.arpa",
            "1.5.0.18.172.in-addr.arpa",
            "256.0.18.172.in-addr.arpa",
            "+5.0.18.172.in-addr.arpa",
            "5..18.172.in-addr.arpa",
            "5.0.18.172.ip6.arpa",
            "web.mynet",
        ] {
            assert_eq!(parse_ipv4_arpa(name), None, "{name}");
        }
    }

    #[test]
    fn search_domain_is_stripped_only_at_a_label_boundary() {
        assert_eq!(
            strip_search_domain("web.corp.example", "corp.example"),
            Some("web")
        );
        assert_eq!(
            strip_search_domain("web.corp.example", "Corp.Example."),
            Some("web")
        );
        assert_eq!(strip_search_domain("webcorp.example", "corp.example"), None);
        assert_eq!(strip_search_domain("corp.example", "corp.example"), None);
        assert_eq!(strip_search_domain("web.other", "corp.example"), None);
        assert_eq!(strip_search_domain("web.corp.example", ""), None);
    }
}
