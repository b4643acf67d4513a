//! A network's persistent record, one JSON file per network under `<data-root>/network/`,
//! rewritten atomically.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::EngineError;
use crate::fsutil::atomic_write;

/// What `docker network inspect` shows about one network, minus its containers (those
/// come from the container records, the one source of truth for endpoints).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NetworkRecord {
    pub id: String,
    pub name: String,
    /// `bridge`, `host` or `null`.
    pub driver: String,
    pub created: String,
    #[serde(default)]
    pub internal: bool,
    #[serde(default)]
    pub attachable: bool,
    #[serde(default)]
    pub enable_ipv6: bool,
    /// The predefined `bridge`, `host` and `none`: never removed, not prunable.
    #[serde(default)]
    pub predefined: bool,
    #[serde(default)]
    pub ipam_driver: String,
    #[serde(default)]
    pub ipam_options: BTreeMap<String, String>,
    /// IPv4 subnet (bridge driver only), e.g. `172.18.0.0/24`.
    #[serde(default)]
    pub subnet: String,
    #[serde(default)]
    pub gateway: String,
    #[serde(default)]
    pub ip_range: String,
    #[serde(default)]
    pub aux_addresses: BTreeMap<String, String>,
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// The Linux bridge device (bridge driver only).
    #[serde(default)]
    pub bridge: String,
}

impl NetworkRecord {
    pub fn is_bridge(&self) -> bool {
        self.driver == "bridge"
    }

    /// The default `bridge` network: /etc/hosts and links instead of embedded DNS.
    pub fn is_default_bridge(&self) -> bool {
        self.predefined && self.is_bridge()
    }

    pub fn path(dir: &Path, id: &str) -> PathBuf {
        dir.join(format!("{id}.json"))
    }

    pub fn save(&self, dir: &Path) -> Result<(), EngineError> {
        let path = Self::path(dir, &self.id);
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| {
            EngineError::Other(
                berth_core::ErrorKind::Internal,
                format!("network record: {e}"),
            )
        })?;
        atomic_write(&path, &bytes, 0o600).map_err(|e| EngineError::io("write", &path, e))
    }

    pub fn delete(dir: &Path, id: &str) -> Result<(), EngineError> {
        let path = Self::path(dir, id);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(EngineError::io("remove", &path, e)),
        }
    }

    /// Every readable record in `dir`; unreadable files are logged and skipped.
    pub fn load_all(dir: &Path) -> Result<Vec<Self>, EngineError> {
        let mut out = Vec::new();
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(EngineError::io("read", dir, e)),
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|x| x != "json") {
                continue;
            }
            match std::fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|b| serde_json::from_slice::<Self>(&b).map_err(|e| e.to_string()))
            {
                Ok(r) => out.push(r),
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "skipping an unreadable network record")
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_delete_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let rec = NetworkRecord {
            id: "ab".repeat(32),
            name: "net1".into(),
            driver: "bridge".into(),
            created: "2026-01-01T00:00:00Z".into(),
            internal: true,
            attachable: false,
            enable_ipv6: false,
            predefined: false,
            ipam_driver: "default".into(),
            ipam_options: BTreeMap::new(),
            subnet: "10.1.2.0/24".into(),
            gateway: "10.1.2.1".into(),
            ip_range: String::new(),
            aux_addresses: BTreeMap::new(),
            options: BTreeMap::new(),
            labels: [("a".to_string(), "b".to_string())].into(),
            bridge: "br-abababababab".into(),
        };
        rec.save(dir.path()).unwrap();
        std::fs::write(dir.path().join("junk.json"), b"{").unwrap();
        let all = NetworkRecord::load_all(dir.path()).unwrap();
        assert_eq!(all, vec![rec.clone()]);
        NetworkRecord::delete(dir.path(), &rec.id).unwrap();
        NetworkRecord::delete(dir.path(), &rec.id).unwrap();
        assert!(NetworkRecord::load_all(dir.path())
            .unwrap()
            .iter()
            .all(|r| r.id != rec.id));
    }
}
