//! Image references with Docker's normalisation (distribution/reference's
//! `ParseNormalizedNamed`): `busybox` means `docker.io/library/busybox`, and the
//! "familiar" form prints it back as `busybox`.

use std::fmt;
use std::str::FromStr;

use crate::Digest;

/// The registry Docker Hub references normalise to.
pub const DEFAULT_DOMAIN: &str = "docker.io";
/// The legacy Hub host name that normalises to [`DEFAULT_DOMAIN`].
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
/// Namespace of Docker Hub's official images.
const OFFICIAL_REPO_PREFIX: &str = "library/";
/// The tag a name without tag or digest gets.
pub const DEFAULT_TAG: &str = "latest";
/// Longest allowed `domain/path`.
const NAME_TOTAL_LENGTH_MAX: usize = 255;
/// Longest allowed tag.
const TAG_LENGTH_MAX: usize = 128;

/// Errors worded as Docker words them (the CLI prints them verbatim).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error("invalid reference format")]
    InvalidFormat,
    #[error("invalid reference format: repository name ({0}) must be lowercase")]
    ContainsUppercase(String),
    #[error("repository name must have at least one component")]
    NameEmpty,
    #[error("repository name must not be more than 255 characters")]
    NameTooLong,
    #[error("invalid repository name ({0}), cannot specify 64-byte hexadecimal strings")]
    HexIdentifier(String),
    #[error("invalid reference format: {0}")]
    InvalidDigest(String),
}

/// A normalised, named reference: `domain/path[:tag][@digest]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl Reference {
    /// Parses and normalises like Docker's `ParseNormalizedNamed`; no default tag is added
    /// (see [`Reference::with_default_tag`]).
    pub fn parse_normalized(s: &str) -> Result<Self, ReferenceError> {
        if is_full_hex_id(s) {
            return Err(ReferenceError::HexIdentifier(s.to_owned()));
        }
        let (domain, remainder) = split_docker_domain(s);
        let remote = remainder.split(':').next().unwrap_or_default();
        if remote.to_lowercase() != remote {
            return Err(ReferenceError::ContainsUppercase(remote.to_owned()));
        }
        Self::parse_parts(&domain, &remainder)
    }

    /// Parses and normalises, then adds `:latest` when neither tag nor digest is given
    /// (Docker's `ParseNormalizedNamed` + `TagNameOnly`).
    pub fn parse_normalized_tagged(s: &str) -> Result<Self, ReferenceError> {
        Self::parse_normalized(s).map(Self::with_default_tag)
    }

    /// Validates an explicit `domain` and `remainder` (`path[:tag][@digest]`).
    fn parse_parts(domain: &str, remainder: &str) -> Result<Self, ReferenceError> {
        let (rest, digest) = match remainder.split_once('@') {
            Some((rest, d)) => (rest, Some(parse_digest(d)?)),
            None => (remainder, None),
        };
        // The tag follows the last ':'; the path contains no ':' (the port is in `domain`).
        let (path, tag) = match rest.rsplit_once(':') {
            Some((p, t)) => (p, Some(t)),
            None => (rest, None),
        };
        if path.is_empty() {
            return Err(ReferenceError::NameEmpty);
        }
        if !is_valid_domain(domain) || !path.split('/').all(is_valid_path_component) {
            let lower_ok = is_valid_domain(domain)
                && path.to_lowercase().split('/').all(is_valid_path_component);
            return Err(if lower_ok {
                ReferenceError::ContainsUppercase(path.to_owned())
            } else {
                ReferenceError::InvalidFormat
            });
        }
        if let Some(t) = tag {
            if !is_valid_tag(t) {
                return Err(ReferenceError::InvalidFormat);
            }
        }
        if domain.len() + 1 + path.len() > NAME_TOTAL_LENGTH_MAX {
            return Err(ReferenceError::NameTooLong);
        }
        Ok(Self {
            domain: domain.to_owned(),
            path: path.to_owned(),
            tag: tag.map(str::to_owned),
            digest,
        })
    }

    /// The registry host (with port, if any).
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The repository path inside the registry, e.g. `library/busybox`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The full repository name, e.g. `docker.io/library/busybox`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }

    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// True when the reference carries neither tag nor digest.
    pub fn is_name_only(&self) -> bool {
        self.tag.is_none() && self.digest.is_none()
    }

    /// Adds `:latest` if the reference is name-only.
    pub fn with_default_tag(self) -> Self {
        if self.is_name_only() {
            self.with_tag(DEFAULT_TAG)
                .expect("the default tag is a valid tag")
        } else {
            self
        }
    }

    /// The same repository with `tag` (and no digest).
    pub fn with_tag(&self, tag: &str) -> Result<Self, ReferenceError> {
        if !is_valid_tag(tag) {
            return Err(ReferenceError::InvalidFormat);
        }
        Ok(Self {
            domain: self.domain.clone(),
            path: self.path.clone(),
            tag: Some(tag.to_owned()),
            digest: None,
        })
    }

    /// The same repository with `digest` (and no tag), as in a RepoDigest.
    pub fn with_digest(&self, digest: Digest) -> Self {
        Self {
            domain: self.domain.clone(),
            path: self.path.clone(),
            tag: None,
            digest: Some(digest),
        }
    }

    /// The name alone, without tag or digest.
    pub fn without_tag_or_digest(&self) -> Self {
        Self {
            domain: self.domain.clone(),
            path: self.path.clone(),
            tag: None,
            digest: None,
        }
    }

    /// The name as users type it: `busybox`, `user/repo`, `quay.io/x/y`.
    pub fn familiar_name(&self) -> String {
        if self.domain != DEFAULT_DOMAIN {
            return self.name();
        }
        match self.path.strip_prefix(OFFICIAL_REPO_PREFIX) {
            Some(short) if !short.contains('/') => short.to_owned(),
            _ => self.path.clone(),
        }
    }

    /// The whole reference in familiar form: `busybox:latest`, `user/repo@sha256:…`.
    pub fn familiar_string(&self) -> String {
        let mut s = self.familiar_name();
        self.push_tag_and_digest(&mut s);
        s
    }

    fn push_tag_and_digest(&self, s: &mut String) {
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(&d.to_string());
        }
    }
}

impl fmt::Display for Reference {
    /// The canonical form: `docker.io/library/busybox:latest`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = self.name();
        self.push_tag_and_digest(&mut s);
        f.write_str(&s)
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_normalized(s)
    }
}

impl serde::Serialize for Reference {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Reference {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <String as serde::Deserialize>::deserialize(deserializer)?;
        Self::parse_normalized(&s).map_err(serde::de::Error::custom)
    }
}

/// True for exactly 64 lowercase hex characters (a full image ID without `sha256:`).
pub fn is_full_hex_id(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Docker's `splitDockerDomain`: the first component is a registry host only if it
/// looks like one (has `.` or `:`, is `localhost`, or has uppercase letters).
fn split_docker_domain(s: &str) -> (String, String) {
    let (mut domain, mut remainder) = match s.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.to_lowercase() != first =>
        {
            (first.to_owned(), rest.to_owned())
        }
        _ => (DEFAULT_DOMAIN.to_owned(), s.to_owned()),
    };
    if domain == LEGACY_DEFAULT_DOMAIN {
        domain = DEFAULT_DOMAIN.to_owned();
    }
    if domain == DEFAULT_DOMAIN && !remainder.contains('/') {
        remainder = format!("{OFFICIAL_REPO_PREFIX}{remainder}");
    }
    (domain, remainder)
}

fn parse_digest(s: &str) -> Result<Digest, ReferenceError> {
    let (algo, hex_part) = s.split_once(':').ok_or(ReferenceError::InvalidFormat)?;
    let algo_ok = algo.split(['-', '_', '+', '.']).all(|c| {
        c.chars().next().is_some_and(|f| f.is_ascii_alphabetic())
            && c.chars().all(|ch| ch.is_ascii_alphanumeric())
    });
    if !algo_ok || hex_part.len() < 32 || !hex_part.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ReferenceError::InvalidFormat);
    }
    s.parse::<Digest>()
        .map_err(|e| ReferenceError::InvalidDigest(e.to_string()))
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
fn is_valid_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        // A separator run: ".", "_", "__", or one or more "-".
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = matches!(sep, "." | "_" | "__") || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// Host name, IPv4 or `[IPv6]`, with an optional numeric port.
fn is_valid_domain(d: &str) -> bool {
    let (host, port) = if let Some(rest) = d.strip_prefix('[') {
        let Some((v6, after)) = rest.split_once(']') else {
            return false;
        };
        if v6.is_empty() || !v6.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return false;
        }
        match after {
            "" => return true,
            p => match p.strip_prefix(':') {
                Some(port) => ("[v6]", Some(port)),
                None => return false,
            },
        }
    } else {
        match d.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (d, None),
        }
    };
    if let Some(p) = port {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
    }
    host == "[v6]"
        || (!host.is_empty()
            && host.split('.').all(|label| {
                let b = label.as_bytes();
                !b.is_empty()
                    && b[0].is_ascii_alphanumeric()
                    && b[b.len() - 1].is_ascii_alphanumeric()
                    && b.iter().all(|x| x.is_ascii_alphanumeric() || *x == b'-')
            }))
}

/// `[\w][\w.-]{0,127}`
fn is_valid_tag(t: &str) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= TAG_LENGTH_MAX
        && word(b[0])
        && b.iter().all(|&x| word(x) || x == b'.' || x == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";

    /// (input, canonical string, familiar string) from distribution/reference's tables.
    #[test]
    fn normalises_like_docker() {
        let d = format!("sha256:{HEX}");
        let cases: Vec<(String, String, String)> = vec![
            ("busybox", "docker.io/library/busybox", "busybox"),
            (
                "busybox:latest",
                "docker.io/library/busybox:latest",
                "busybox:latest",
            ),
            ("library/busybox", "docker.io/library/busybox", "busybox"),
            ("docker.io/busybox", "docker.io/library/busybox", "busybox"),
            (
                "index.docker.io/busybox",
                "docker.io/library/busybox",
                "busybox",
            ),
            (
                "docker.io/library/busybox",
                "docker.io/library/busybox",
                "busybox",
            ),
            ("user/repo", "docker.io/user/repo", "user/repo"),
            ("user/repo:tag", "docker.io/user/repo:tag", "user/repo:tag"),
            ("docker.io/user/repo", "docker.io/user/repo", "user/repo"),
            (
                "library/foo/bar",
                "docker.io/library/foo/bar",
                "library/foo/bar",
            ),
            ("localhost/x", "localhost/x", "localhost/x"),
            (
                "localhost:5000/x/y:1.0",
                "localhost:5000/x/y:1.0",
                "localhost:5000/x/y:1.0",
            ),
            (
                "example.com:8000/a/b/c:v_1-2.3",
                "example.com:8000/a/b/c:v_1-2.3",
                "example.com:8000/a/b/c:v_1-2.3",
            ),
            (
                "127.0.0.1:5000/foo",
                "127.0.0.1:5000/foo",
                "127.0.0.1:5000/foo",
            ),
            (
                "[::1]:5000/foo:bar",
                "[::1]:5000/foo:bar",
                "[::1]:5000/foo:bar",
            ),
            ("Foo/bar", "Foo/bar", "Foo/bar"),
            (
                "a__b/c---d/e.f_g",
                "docker.io/a__b/c---d/e.f_g",
                "a__b/c---d/e.f_g",
            ),
            ("foo:TAG_up", "docker.io/library/foo:TAG_up", "foo:TAG_up"),
        ]
        .into_iter()
        .map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()))
        .chain([
            (
                format!("busybox@{d}"),
                format!("docker.io/library/busybox@{d}"),
                format!("busybox@{d}"),
            ),
            (
                format!("user/repo:t@{d}"),
                format!("docker.io/user/repo:t@{d}"),
                format!("user/repo:t@{d}"),
            ),
            (
                format!("sha256:{HEX}"),
                format!("docker.io/library/sha256:{HEX}"),
                format!("sha256:{HEX}"),
            ),
        ])
        .collect();
        for (input, canonical, familiar) in cases {
            let r = Reference::parse_normalized(&input)
                .unwrap_or_else(|e| panic!("{input:?} should parse: {e}"));
            assert_eq!(r.to_string(), canonical, "canonical form of {input:?}");
            assert_eq!(r.familiar_string(), familiar, "familiar form of {input:?}");
            // Round trip: the canonical form parses to the same reference.
            assert_eq!(Reference::parse_normalized(&canonical).unwrap(), r);
        }
    }

    #[test]
    fn rejects_what_docker_rejects_with_its_messages() {
        let long = "a".repeat(256);
        let cases: Vec<(String, &str)> = vec![
            ("".into(), "invalid reference format"),
            (":justtag".into(), "invalid reference format"),
            ("@sha256:abc".into(), "invalid reference format"),
            ("a/a/a/".into(), "invalid reference format"),
            ("-foo".into(), "invalid reference format"),
            ("foo-".into(), "invalid reference format"),
            ("foo..bar".into(), "invalid reference format"),
            ("foo___bar".into(), "invalid reference format"),
            ("foo:-tag".into(), "invalid reference format"),
            ("foo:tag with space".into(), "invalid reference format"),
            ("aa/asdf$$^/aa".into(), "invalid reference format"),
            ("example.com:port/foo".into(), "invalid reference format"),
            (format!("foo:{}", "t".repeat(129)), "invalid reference format"),
            ("foo@sha256:tooshort".into(), "invalid reference format"),
            (
                "Busybox".into(),
                "invalid reference format: repository name (library/Busybox) must be lowercase",
            ),
            (
                "user/Repo:tag".into(),
                "invalid reference format: repository name (user/Repo) must be lowercase",
            ),
            (
                "example.com/Upper".into(),
                "invalid reference format: repository name (Upper) must be lowercase",
            ),
            (
                HEX.into(),
                "invalid repository name (ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff), cannot specify 64-byte hexadecimal strings",
            ),
            (format!("{long}/b"), "repository name must not be more than 255 characters"),
        ];
        for (input, msg) in cases {
            let err = Reference::parse_normalized(&input)
                .expect_err(&format!("{input:?} must be rejected"));
            assert_eq!(err.to_string(), msg, "message for {input:?}");
        }
    }

    /// Inputs from distribution/reference's `TestValidateReferenceName` and
    /// `TestValidateRemoteName`.
    #[test]
    fn validity_matches_distribution_reference() {
        let valid = [
            "docker/docker",
            "library/debian",
            "debian",
            "docker.io/docker/docker",
            "index.docker.io/library/debian",
            "127.0.0.1:5000/library/debian",
            "192.168.0.1",
            "192.168.0.1:80",
            "192.168.0.1:8/debian",
            "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
            "[fc00::1]:5000/docker",
            "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
            "docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
            "Docker/docker",
            "DOCKER/docker",
            "docker---rules/docker",
            "d/docker",
            "jess/t",
            "dock__er/docker",
            "test-com:8080/foo",
            "xn--n3h.com:18080/foo",
        ];
        for v in valid {
            assert!(Reference::parse_normalized(v).is_ok(), "{v:?} must parse");
        }
        let invalid = [
            "https://github.com/docker/docker",
            "docker/Docker",
            "-docker",
            "-docker/docker",
            "-docker.io/docker/docker",
            "docker///docker",
            "docker.io/docker/Docker",
            "[fc00::1]",
            "[fc00::1]:5000",
            "fc00::1:5000/debian",
            "[fe80::1%eth0]:5000/debian",
            "[2001:db8:3:4::192.0.2.33]:5000/debian",
            "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
            "docker-/docker",
            "____/____",
            "_docker/_docker",
            "dock..er/docker",
            "dock_.er/docker",
            "dock-.er/docker",
            "docker/",
        ];
        for i in invalid {
            assert!(
                Reference::parse_normalized(i).is_err(),
                "{i:?} must be rejected"
            );
        }
        let r = Reference::parse_normalized("FOO/bar").unwrap();
        assert_eq!((r.domain(), r.path()), ("FOO", "bar"));
        let r = Reference::parse_normalized("test_com/foo").unwrap();
        assert_eq!((r.domain(), r.path()), ("docker.io", "test_com/foo"));
    }

    #[test]
    fn default_tag_is_added_only_to_name_only_references() {
        let r = Reference::parse_normalized_tagged("busybox").unwrap();
        assert_eq!(r.tag(), Some("latest"));
        assert_eq!(r.familiar_string(), "busybox:latest");
        let digested = format!("busybox@sha256:{HEX}");
        let r = Reference::parse_normalized_tagged(&digested).unwrap();
        assert_eq!(r.tag(), None);
        assert!(r.digest().is_some());
    }

    #[test]
    fn accessors_split_the_reference() {
        let r = Reference::parse_normalized("localhost:5000/ns/app:v2").unwrap();
        assert_eq!(r.domain(), "localhost:5000");
        assert_eq!(r.path(), "ns/app");
        assert_eq!(r.name(), "localhost:5000/ns/app");
        assert_eq!(r.tag(), Some("v2"));
        assert_eq!(r.familiar_name(), "localhost:5000/ns/app");
        assert_eq!(
            r.without_tag_or_digest().to_string(),
            "localhost:5000/ns/app"
        );
        let d = Digest::of(b"x");
        assert_eq!(
            r.with_digest(d.clone()).to_string(),
            format!("localhost:5000/ns/app@{d}")
        );
        assert!(r.with_tag("bad tag").is_err());
    }
}
