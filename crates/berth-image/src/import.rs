//! `POST /images/create?fromSrc=-`: a rootfs tarball becomes a one-layer image.

use std::io::Read;

use berth_core::{Digest, Reference};
use serde_json::{json, Map, Value};

use crate::changes::apply_changes;
use crate::compression::decompress;
use crate::store::now_rfc3339;
use crate::{ImageError, ImageStore, Result};

/// Query parameters of an import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// `repo` (may carry a tag) and `tag`; no reference when both are empty.
    pub repo: Option<String>,
    pub tag: Option<String>,
    /// Defaults to `Imported from -`.
    pub message: Option<String>,
    /// Dockerfile-syntax lines (`CMD`, `ENV`, ...).
    pub changes: Vec<String>,
    /// `os[/arch[/variant]]`; defaults to the host's.
    pub platform: Option<String>,
}

/// A parsed `os/arch/variant`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    /// The host, in Go's names (`amd64`, `arm64`, ...).
    pub fn host() -> Self {
        let architecture = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "powerpc64" => "ppc64le",
            other => other,
        };
        Self {
            os: "linux".to_owned(),
            architecture: architecture.to_owned(),
            variant: None,
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        let parts: Vec<&str> = s.split('/').collect();
        let bad = || {
            ImageError::InvalidParameter(format!(
                "\"{s}\": unknown operating system or architecture: invalid argument"
            ))
        };
        match parts.as_slice() {
            [os] if !os.is_empty() => Ok(Self {
                os: os.to_lowercase(),
                ..Self::host()
            }),
            [os, arch] if !os.is_empty() && !arch.is_empty() => Ok(Self {
                os: os.to_lowercase(),
                architecture: arch.to_lowercase(),
                variant: None,
            }),
            [os, arch, variant] if !os.is_empty() && !arch.is_empty() && !variant.is_empty() => {
                Ok(Self {
                    os: os.to_lowercase(),
                    architecture: arch.to_lowercase(),
                    variant: Some(variant.to_lowercase()),
                })
            }
            _ => Err(bad()),
        }
    }
}

impl ImageStore {
    /// Imports a (raw, gzip or zstd) rootfs tar stream; returns the image ID
    /// (the final progress message is `{"status":"sha256:<id>"}`).
    pub fn import(&self, body: &mut dyn Read, opts: &ImportOptions) -> Result<Digest> {
        let target = import_reference(opts)?;
        let platform = match &opts.platform {
            Some(p) if !p.is_empty() => Platform::parse(p)?,
            _ => Platform::host(),
        };
        let mut container_config = Map::new();
        apply_changes(&mut container_config, &opts.changes)?;

        let mut tar = decompress(Box::new(body))?;
        let layer = self.content.ingest(&mut tar, None, None, None)?;

        let message = opts
            .message
            .clone()
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "Imported from -".to_owned());
        let created = now_rfc3339();
        let mut config = Map::new();
        config.insert("architecture".into(), json!(platform.architecture));
        config.insert("comment".into(), json!(message));
        config.insert("config".into(), Value::Object(container_config));
        config.insert("created".into(), json!(created));
        config.insert(
            "history".into(),
            json!([{ "created": created, "comment": message }]),
        );
        config.insert("os".into(), json!(platform.os));
        config.insert(
            "rootfs".into(),
            json!({ "type": "layers", "diff_ids": [layer.digest.to_string()] }),
        );
        if let Some(v) = &platform.variant {
            config.insert("variant".into(), json!(v));
        }
        let bytes = serde_json::to_vec(&Value::Object(config))
            .map_err(|e| ImageError::Corrupt(e.to_string()))?;
        let id = self.register(&bytes)?;
        if let Some(r) = target {
            self.set_ref(r, &id)?;
        }
        Ok(id)
    }
}

/// `repo` + `tag` as Docker combines them (`repo` may already carry a tag).
fn import_reference(opts: &ImportOptions) -> Result<Option<Reference>> {
    let Some(repo) = opts.repo.as_deref().filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    let r = Reference::parse_normalized(repo)?;
    let r = match opts.tag.as_deref().filter(|t| !t.is_empty()) {
        Some(t) => r.with_tag(t)?,
        None => r.with_default_tag(),
    };
    Ok(Some(r))
}
