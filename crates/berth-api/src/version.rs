use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// The API version this daemon advertises (docker CLI 28.2's own maximum: no downgrade).
pub const API_VERSION: ApiVersion = ApiVersion::new(1, 50);
/// The oldest API version served.
pub const MIN_API_VERSION: ApiVersion = ApiVersion::new(1, 24);

/// An Engine API version `MAJOR.MINOR`, ordered numerically (so 1.9 < 1.24 < 1.50).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ApiVersion {
    pub major: u32,
    pub minor: u32,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid API version {0:?}")]
pub struct InvalidVersion(pub String);

impl ApiVersion {
    pub const fn new(major: u32, minor: u32) -> Self {
        Self { major, minor }
    }

    /// The version both sides speak: the lower of ours and the server's.
    pub fn negotiate(self, server: ApiVersion) -> ApiVersion {
        self.min(server)
    }
}

impl Ord for ApiVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor).cmp(&(other.major, other.minor))
    }
}

impl PartialOrd for ApiVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl FromStr for ApiVersion {
    type Err = InvalidVersion;

    /// Accepts `1.50` and, as moby's `versions.Compare` does, a bare major (`1` = `1.0`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || InvalidVersion(s.to_owned());
        let (major, minor) = match s.split_once('.') {
            Some((a, b)) => (a, b),
            None => (s, "0"),
        };
        let num = |p: &str| {
            if p.is_empty() || p.len() > 9 || !p.bytes().all(|b| b.is_ascii_digit()) {
                Err(bad())
            } else {
                p.parse::<u32>().map_err(|_| bad())
            }
        };
        Ok(Self::new(num(major)?, num(minor)?))
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_order_numerically_not_lexically() {
        let v = |s: &str| s.parse::<ApiVersion>().unwrap();
        assert!(v("1.9") < v("1.24"));
        assert!(v("1.24") < v("1.50"));
        assert!(v("2") > v("1.50"));
        assert_eq!(v("1.50").to_string(), "1.50");
    }

    #[test]
    fn malformed_versions_are_rejected() {
        for s in ["", "1.", ".5", "a.b", "1.2.3", "1.-2", "v1.40"] {
            assert!(s.parse::<ApiVersion>().is_err(), "{s:?}");
        }
    }

    #[test]
    fn negotiation_picks_the_lower() {
        assert_eq!(
            API_VERSION.negotiate(ApiVersion::new(1, 41)),
            ApiVersion::new(1, 41)
        );
        assert_eq!(API_VERSION.negotiate(ApiVersion::new(1, 53)), API_VERSION);
    }
}
