//! Image configs: kept as the exact bytes whose digest is the image ID, read through
//! `oci-spec` for the typed fields and as raw JSON for Docker-only fields
//! (`Healthcheck`, `OnBuild`, `ArgsEscaped`, `docker_version`, ...).

use berth_core::Digest;
use oci_spec::image::ImageConfiguration;

use crate::{ImageError, Result};

/// A parsed image config.
#[derive(Debug, Clone)]
pub struct ImageConfig {
    raw: serde_json::Value,
    oci: ImageConfiguration,
    diff_ids: Vec<Digest>,
}

impl ImageConfig {
    /// Parses untrusted config bytes; every diff ID must be a valid sha256 digest.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let raw: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| ImageError::InvalidArchive(format!("image config: {e}")))?;
        let oci: ImageConfiguration = serde_json::from_value(raw.clone())
            .map_err(|e| ImageError::InvalidArchive(format!("image config: {e}")))?;
        let diff_ids = oci
            .rootfs()
            .diff_ids()
            .iter()
            .map(|d| {
                d.parse::<Digest>()
                    .map_err(|e| ImageError::InvalidArchive(format!("image config diff ID: {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { raw, oci, diff_ids })
    }

    /// The whole config as JSON, for fields `oci-spec` does not model.
    pub fn raw(&self) -> &serde_json::Value {
        &self.raw
    }

    pub fn oci(&self) -> &ImageConfiguration {
        &self.oci
    }

    pub fn diff_ids(&self) -> &[Digest] {
        &self.diff_ids
    }

    /// `created` as given (RFC 3339), if any.
    pub fn created(&self) -> Option<&str> {
        self.oci.created().as_deref()
    }

    /// `created` in unix seconds (0 when missing or unparsable, as Docker shows it).
    pub fn created_unix(&self) -> i64 {
        self.created()
            .and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok())
            .map_or(0, |t| t.timestamp())
    }

    /// The runtime config's labels (`config.Labels`).
    pub fn labels(&self) -> std::collections::BTreeMap<String, String> {
        self.raw
            .get("config")
            .and_then(|c| c.get("Labels"))
            .and_then(|l| serde_json::from_value(l.clone()).ok())
            .unwrap_or_default()
    }
}

/// One entry of `docker history`, newest first, with the layer it made (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// `sha256:<id>` for the top entry, `<missing>` for the others (as Docker shows).
    pub id: String,
    pub created_unix: i64,
    pub created_by: String,
    pub tags: Vec<String>,
    /// Size of the layer this step made; 0 for empty layers.
    pub size: u64,
    pub comment: String,
}
