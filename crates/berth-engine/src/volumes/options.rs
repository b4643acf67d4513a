//! The local driver's options (`type`, `device`, `o`, `size`), checked as moby's
//! `validateOpts` does, with its messages.

use std::collections::BTreeMap;

const VALID: [&str; 4] = ["type", "o", "device", "size"];
/// Each option and the ones it needs (in moby a map, so its order varies; ours is fixed).
const REQUIRED: [(&str, &[&str]); 3] = [
    ("device", &["type"]),
    ("type", &["device"]),
    ("o", &["device", "type"]),
];

pub fn validate(opts: &BTreeMap<String, String>) -> Result<(), String> {
    if let Some(bad) = opts.keys().find(|k| !VALID.contains(&k.as_str())) {
        return Err(format!("invalid option: {bad:?}"));
    }
    if let (Some("cifs"), Some(device)) = (
        opts.get("type").map(String::as_str),
        opts.get("device").filter(|d| !d.is_empty()),
    ) {
        if url_has_port(device) {
            return Err("port not allowed in CIFS device URL, include 'port' in 'o='".into());
        }
    }
    if let Some(size) = opts.get("size") {
        let bytes =
            crate::containers::parse_size(size).ok_or_else(|| format!("invalid size: '{size}'"))?;
        // Sizes need project quotas on the volumes' filesystem, which we do not set up.
        if bytes > 0 {
            return Err("quota size requested but no quota support".into());
        }
    }
    for (opt, needs) in REQUIRED {
        if opts.contains_key(opt) {
            if let Some(missing) = needs.iter().find(|n| !opts.contains_key(**n)) {
                return Err(format!("missing required option: {missing:?}"));
            }
        }
    }
    Ok(())
}

/// Whether a `//host:port/share` URL names a port.
fn url_has_port(device: &str) -> bool {
    let Some(rest) = device
        .split_once("//")
        .filter(|(scheme, _)| scheme.is_empty() || scheme.ends_with(':'))
        .map(|(_, rest)| rest)
    else {
        return false;
    };
    let host = rest.split('/').next().unwrap_or_default();
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    // An IPv6 literal's colons are inside the brackets.
    let after_bracket = host.rsplit_once(']').map_or(host, |(_, tail)| tail);
    after_bracket
        .rsplit_once(':')
        .is_some_and(|(_, port)| !port.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn accepts_dockers_options() {
        assert!(validate(&opts(&[])).is_ok());
        assert!(validate(&opts(&[
            ("type", "tmpfs"),
            ("device", "tmpfs"),
            ("o", "size=1m")
        ]))
        .is_ok());
        assert!(validate(&opts(&[
            ("type", "none"),
            ("device", "/srv"),
            ("o", "bind")
        ]))
        .is_ok());
        assert!(validate(&opts(&[("size", "0")])).is_ok());
    }

    #[test]
    fn refuses_with_mobys_messages() {
        assert_eq!(
            validate(&opts(&[("foo", "bar")])).unwrap_err(),
            "invalid option: \"foo\""
        );
        assert_eq!(
            validate(&opts(&[("type", "tmpfs")])).unwrap_err(),
            "missing required option: \"device\""
        );
        assert_eq!(
            validate(&opts(&[("device", "tmpfs")])).unwrap_err(),
            "missing required option: \"type\""
        );
        assert_eq!(
            validate(&opts(&[("o", "size=1m"), ("type", "tmpfs")])).unwrap_err(),
            "missing required option: \"device\""
        );
        assert_eq!(
            validate(&opts(&[("size", "1g")])).unwrap_err(),
            "quota size requested but no quota support"
        );
        assert_eq!(
            validate(&opts(&[("size", "big")])).unwrap_err(),
            "invalid size: 'big'"
        );
        assert_eq!(
            validate(&opts(&[("type", "cifs"), ("device", "//srv:445/share")])).unwrap_err(),
            "port not allowed in CIFS device URL, include 'port' in 'o='"
        );
        assert!(validate(&opts(&[("type", "cifs"), ("device", "//srv/share")])).is_ok());
    }
}
