//! The image routes' backend, implemented over the engine's image service: engine values
//! in, Engine API models out.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::Arc;

use berth_api::models::{HistoryResponseItem, ImageDeleteResponseItem, ImageSummary};
use berth_api::Filters;
use berth_core::Digest;
use berth_engine::{Engine, EngineError};
use berth_image::{ContainerUse, DeleteItem, Image};
use serde_json::{json, Value};

use super::backend::{BackendError, ImageBackend, ImportOptions, ListOptions, PruneReport};

pub struct EngineImages(pub Arc<Engine>);

impl EngineImages {
    /// The container store's answer to "does a container use this image?".
    fn in_use(&self, image: &Digest) -> Option<ContainerUse> {
        self.0.containers.image_user(&image.to_string())
    }
}

impl From<EngineError> for BackendError {
    fn from(e: EngineError) -> Self {
        BackendError::new(e.kind(), e.to_string())
    }
}

fn delete_items(items: Vec<DeleteItem>) -> Vec<ImageDeleteResponseItem> {
    items
        .into_iter()
        .map(|i| match i {
            DeleteItem::Untagged(r) => ImageDeleteResponseItem {
                untagged: Some(r),
                deleted: None,
            },
            DeleteItem::Deleted(d) => ImageDeleteResponseItem {
                untagged: None,
                deleted: Some(d),
            },
        })
        .collect()
}

fn inspect_json(image: &Image, driver: &str) -> Value {
    let raw = image.config.raw();
    let s = |k: &str| {
        raw.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    json!({
        "Id": image.id.to_string(),
        "RepoTags": image.repo_tags,
        "RepoDigests": image.repo_digests,
        "Parent": "",
        // As moby: a config without a comment shows its last history entry's (a commit's).
        "Comment": Some(s("comment")).filter(|c| !c.is_empty()).unwrap_or_else(|| {
            raw["history"]
                .as_array()
                .and_then(|h| h.last())
                .and_then(|h| h["comment"].as_str())
                .unwrap_or_default()
                .to_owned()
        }),
        "Created": raw.get("created").cloned().unwrap_or(Value::String("0001-01-01T00:00:00Z".into())),
        "DockerVersion": s("docker_version"),
        "Author": s("author"),
        "Config": raw.get("config").cloned().filter(|c| c.is_object()).unwrap_or_else(|| json!({})),
        "Architecture": s("architecture"),
        "Variant": raw.get("variant").cloned().unwrap_or(Value::Null),
        "Os": s("os"),
        "Size": image.size,
        "GraphDriver": {"Name": driver, "Data": {}},
        "RootFS": {"Type": "layers", "Layers": image.config.diff_ids().iter().map(|d| d.to_string()).collect::<Vec<_>>()},
        "Metadata": {"LastTagTime": image.last_tag_time.clone().unwrap_or_else(|| "0001-01-01T00:00:00Z".into())},
    })
}

impl ImageBackend for EngineImages {
    fn list(&self, opts: &ListOptions) -> Result<Vec<ImageSummary>, BackendError> {
        let rows = self.0.images.list(&opts.filters)?;
        Ok(rows
            .into_iter()
            .map(|r| ImageSummary {
                id: r.image.id.to_string(),
                parent_id: String::new(),
                repo_tags: r.repo_tags,
                repo_digests: r.repo_digests,
                created: r.created_unix,
                size: r.image.size as i64,
                shared_size: -1,
                virtual_size: None,
                labels: r
                    .image
                    .config
                    .labels()
                    .into_iter()
                    .collect::<HashMap<_, _>>(),
                containers: -1,
                manifests: None,
                descriptor: None,
            })
            .collect())
    }

    fn inspect(&self, name: &str) -> Result<Value, BackendError> {
        let image = self.0.images.resolve(name)?;
        Ok(inspect_json(&image, self.0.images.driver()))
    }

    fn history(&self, name: &str) -> Result<Vec<HistoryResponseItem>, BackendError> {
        let entries = self
            .0
            .images
            .store()
            .history(name)
            .map_err(EngineError::from)?;
        Ok(entries
            .into_iter()
            .map(|h| HistoryResponseItem {
                id: h.id,
                created: h.created_unix,
                created_by: h.created_by,
                tags: h.tags,
                size: h.size as i64,
                comment: h.comment,
            })
            .collect())
    }

    fn tag(&self, source: &str, repo: &str, tag: &str) -> Result<(), BackendError> {
        Ok(self
            .0
            .images
            .tag(&self.0.events, source, &format!("{repo}:{tag}"))?)
    }

    fn remove(
        &self,
        name: &str,
        force: bool,
        prune: bool,
    ) -> Result<Vec<ImageDeleteResponseItem>, BackendError> {
        let items = self
            .0
            .images
            .delete(&self.0.events, name, force, !prune, &|d: &Digest| {
                self.in_use(d)
            })?;
        Ok(delete_items(items))
    }

    fn prune(&self, filters: &Filters) -> Result<PruneReport, BackendError> {
        let pruned = self
            .0
            .images
            .prune(&self.0.events, filters, &|d: &Digest| self.in_use(d))?;
        Ok(PruneReport {
            deleted: delete_items(pruned.items),
            space_reclaimed: pruned.space_reclaimed,
        })
    }

    fn import(&self, src: &mut dyn Read, opts: &ImportOptions) -> Result<String, BackendError> {
        let opts = berth_image::ImportOptions {
            repo: opts.repo.clone(),
            tag: opts.tag.clone(),
            message: opts.message.clone(),
            changes: opts.changes.clone(),
            platform: opts.platform.clone(),
        };
        Ok(self
            .0
            .images
            .import(&self.0.events, src, &opts)?
            .to_string())
    }

    fn check_exist(&self, names: &[String]) -> Result<(), BackendError> {
        Ok(self.0.images.check_exist(names)?)
    }

    fn save(&self, names: &[String], out: &mut dyn Write) -> Result<(), BackendError> {
        Ok(self.0.images.save(&self.0.events, names, out)?)
    }

    fn load(&self, src: &mut dyn Read, quiet: bool) -> Result<Vec<String>, BackendError> {
        let _ = quiet;
        let loaded = self.0.images.load(&self.0.events, src)?;
        Ok(loaded.iter().map(|l| l.message()).collect())
    }
}
