//! `docker commit`: a container's writable layer on top of its image becomes a new image,
//! with the config dockerd writes (`image.NewChildImage`): the parent's rootfs plus the new
//! layer (none when the container changed nothing), the parent's history plus one entry,
//! and the container's ID and config.

use std::io::Write;

use berth_core::Digest;
use serde_json::{json, Map, Value};

use crate::store::now_rfc3339;
use crate::{ImageError, ImageStore, Result};

/// The diff ID of an empty tar (1024 zero bytes): dockerd's `layer.EmptyLayer`, which a
/// commit does not add to the rootfs.
pub const EMPTY_LAYER_DIFF_ID: &str =
    "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef";

/// What the new image is made of, besides its layer.
#[derive(Debug, Clone, Default)]
pub struct CommitOptions {
    /// The container's image; None for a container without one.
    pub parent: Option<Digest>,
    pub author: String,
    pub comment: String,
    /// The new image's runtime config (`config`), Docker's field names.
    pub config: Value,
    /// The committed container's config (`container_config`).
    pub container_config: Value,
    pub container_id: String,
    /// The history entry's `created_by` (dockerd: the container's `Cmd` joined by spaces).
    pub created_by: String,
    /// The container's OS.
    pub os: String,
}

impl ImageStore {
    /// Stores the uncompressed layer tar that `write` produces; returns its diff ID.
    pub fn put_layer(
        &self,
        write: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<Digest> {
        let mut w = self.content.writer()?;
        write(&mut w)?;
        Ok(w.commit(None, None)?.digest)
    }

    /// Registers the image made of `opts.parent` plus the layer `diff_id` (stored with
    /// [`ImageStore::put_layer`]); returns its ID.
    pub fn commit(&self, diff_id: &Digest, opts: &CommitOptions) -> Result<Digest> {
        let parent = match &opts.parent {
            Some(id) => Some(self.config(id)?),
            None => None,
        };
        let parent_raw = parent.as_ref().map(|p| p.raw().clone()).unwrap_or_default();
        let empty = diff_id.to_string() == EMPTY_LAYER_DIFF_ID;
        let mut diff_ids: Vec<Value> = parent
            .as_ref()
            .map(|p| p.diff_ids().iter().map(|d| json!(d.to_string())).collect())
            .unwrap_or_default();
        if !empty {
            diff_ids.push(json!(diff_id.to_string()));
        }
        let created = now_rfc3339();
        let mut entry = Map::new();
        entry.insert("created".into(), json!(created));
        for (key, value) in [
            ("author", &opts.author),
            ("created_by", &opts.created_by),
            ("comment", &opts.comment),
        ] {
            if !value.is_empty() {
                entry.insert(key.into(), json!(value));
            }
        }
        if empty {
            entry.insert("empty_layer".into(), json!(true));
        }
        let mut history = parent_raw
            .get("history")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        history.push(Value::Object(entry));

        let mut config = Map::new();
        let host = crate::Platform::host();
        config.insert(
            "architecture".into(),
            parent_raw
                .get("architecture")
                .filter(|a| a.as_str().is_some_and(|s| !s.is_empty()))
                .cloned()
                .unwrap_or_else(|| json!(host.architecture)),
        );
        for key in ["variant", "os.version", "os.features"] {
            if let Some(v) = parent_raw.get(key) {
                config.insert(key.into(), v.clone());
            }
        }
        if !opts.author.is_empty() {
            config.insert("author".into(), json!(opts.author));
        }
        config.insert("config".into(), opts.config.clone());
        config.insert("container".into(), json!(opts.container_id));
        config.insert("container_config".into(), opts.container_config.clone());
        config.insert("created".into(), json!(created));
        config.insert("history".into(), Value::Array(history));
        let os = if opts.os.is_empty() {
            host.os
        } else {
            opts.os.clone()
        };
        config.insert("os".into(), json!(os));
        config.insert(
            "rootfs".into(),
            json!({ "type": "layers", "diff_ids": diff_ids }),
        );
        let bytes = serde_json::to_vec(&Value::Object(config))
            .map_err(|e| ImageError::Corrupt(e.to_string()))?;
        self.register(&bytes)
    }
}
