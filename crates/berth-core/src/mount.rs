//! The mount description that storage hands to the runtime: what to mount, not how.

use serde::{Deserialize, Serialize};

/// One filesystem mount, in the shape of containerd's `mount.Mount` and the OCI runtime
/// spec's mount entry: `mount -t <kind> <source> <target> -o <options>`.
///
/// A snapshotter returns a `Vec<Mount>` for a container's root filesystem; whoever mounts
/// them supplies the target directory, so `target` is usually `None` there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mount {
    /// Filesystem type: `"overlay"`, `"bind"`, `"tmpfs"`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// The device or directory mounted (`"overlay"` for overlayfs).
    pub source: String,
    /// Where it goes, relative to the mount point the consumer chooses; `None` for the root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// `-o` options, one per element (`"lowerdir=..."`, `"rbind"`, `"ro"`, ...).
    #[serde(default)]
    pub options: Vec<String>,
}

impl Mount {
    /// The value of a `key=value` option, if present (e.g. `option("upperdir")`).
    pub fn option(&self, key: &str) -> Option<&str> {
        self.options
            .iter()
            .find_map(|o| o.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
    }

    /// Whether a bare flag option (e.g. `"ro"`) is present.
    pub fn has_flag(&self, flag: &str) -> bool {
        self.options.iter().any(|o| o == flag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_finds_value_by_exact_key() {
        let m = Mount {
            kind: "overlay".into(),
            source: "overlay".into(),
            target: None,
            options: vec!["lowerdir=/a:/b".into(), "upperdir=/u".into(), "ro".into()],
        };
        assert_eq!(m.option("lowerdir"), Some("/a:/b"));
        assert_eq!(m.option("upper"), None);
        assert!(m.has_flag("ro"));
        assert!(!m.has_flag("rw"));
    }
}
