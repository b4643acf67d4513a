//! The image service: the content store, the layer store and the image store opened on the
//! data root and used together, with an event published for every change (tag, untag,
//! delete, import, load, save), as moby's daemon does.

use std::collections::{BTreeMap, HashSet};
use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

use berth_api::events::event_type;
use berth_api::Filters;
use berth_content::LocalStore;
use berth_core::{ChainId, Digest};
use berth_image::{
    ContainerUse, DeleteItem, DeleteOptions, Image, ImageError, ImageStore, ImageSummary,
    ImportOptions, LayerError, ListFilters, LoadedImage,
};
use berth_snapshot::LayerStore;

use crate::error::EngineError;
use crate::events::EventsBus;

/// berth-snapshot's layer store, as the image store sees it.
struct SnapshotLayers(Arc<LayerStore>);

impl berth_image::LayerStore for SnapshotLayers {
    fn apply(
        &self,
        parent: Option<&ChainId>,
        diff_id: &Digest,
        uncompressed_tar: &mut dyn Read,
    ) -> Result<ChainId, LayerError> {
        let expected = ChainId::next(parent, diff_id);
        if self.0.layer(&expected).is_ok() {
            return Ok(expected);
        }
        let info = self.0.apply_layer(parent, uncompressed_tar)?;
        if &info.diff_id != diff_id {
            let _ = self.0.remove_layer(&info.chain_id);
            return Err(format!(
                "layer diff ID {} does not match the expected {diff_id}",
                info.diff_id
            )
            .into());
        }
        Ok(info.chain_id)
    }

    fn exists(&self, chain: &ChainId) -> bool {
        self.0.layer(chain).is_ok()
    }

    fn size(&self, chain: &ChainId) -> Option<u64> {
        self.0.layer_size(chain).ok()
    }

    fn remove(&self, chain: &ChainId) -> Result<(), LayerError> {
        Ok(self.0.remove_layer(chain)?)
    }
}

pub struct ImageService {
    store: ImageStore,
    layers: Arc<LayerStore>,
    content: Arc<LocalStore>,
}

/// What `prune` removed.
#[derive(Debug, Default)]
pub struct Pruned {
    pub items: Vec<DeleteItem>,
    pub space_reclaimed: u64,
}

fn image_err(e: ImageError) -> EngineError {
    EngineError::Image(e)
}

impl ImageService {
    pub fn open(data_root: &Path) -> Result<Self, EngineError> {
        Self::open_with_ids(data_root, berth_core::IdMapping::default())
    }

    /// [`ImageService::open`] with layers unpacked (and diffed back) through `ids`
    /// (`--userns-remap`).
    pub fn open_with_ids(
        data_root: &Path,
        ids: berth_core::IdMapping,
    ) -> Result<Self, EngineError> {
        let content = Arc::new(
            LocalStore::open(&data_root.join("content"))
                .map_err(|e| EngineError::Other(e.kind(), e.to_string()))?,
        );
        let layers = Arc::new(
            LayerStore::open(data_root)
                .map_err(|e| EngineError::Other(e.kind(), e.to_string()))?
                .with_id_mapping(ids),
        );
        let store = ImageStore::open(
            data_root,
            content.clone(),
            Arc::new(SnapshotLayers(layers.clone())),
        )
        .map_err(image_err)?;
        let service = Self {
            store,
            layers,
            content,
        };
        // Nothing is being written while the store opens: whatever no image references was
        // left by a crash (a load killed half-way) and goes now.
        service.collect_garbage()?;
        Ok(service)
    }

    /// Removes blobs and layers that no image references; returns how many of each.
    pub fn collect_garbage(&self) -> Result<(usize, usize), EngineError> {
        let images = self.store.all().map_err(image_err)?;
        let mut blobs = HashSet::new();
        let mut chains = HashSet::new();
        for image in &images {
            blobs.insert(image.id.clone());
            let diff_ids = image.config.diff_ids();
            blobs.extend(diff_ids.iter().cloned());
            chains.extend(ChainId::chain(diff_ids));
        }
        let removed_blobs = berth_content::Manager::gc(self.content.as_ref(), &blobs)
            .map_err(|e| EngineError::Other(e.kind(), e.to_string()))?
            .len();
        let other = |e: berth_snapshot::Error| EngineError::Other(e.kind(), e.to_string());
        let mut removed_layers = 0;
        // Children before parents: repeat until a pass removes nothing.
        loop {
            let orphans: Vec<_> = self
                .layers
                .list_layers()
                .map_err(other)?
                .into_iter()
                .filter(|l| !chains.contains(&l.chain_id))
                .collect();
            let before = removed_layers;
            for l in &orphans {
                if self.layers.remove_layer(&l.chain_id).is_ok() {
                    removed_layers += 1;
                }
            }
            if orphans.is_empty() || removed_layers == before {
                break;
            }
        }
        if removed_blobs + removed_layers > 0 {
            tracing::info!(
                blobs = removed_blobs,
                layers = removed_layers,
                "removed unreferenced image data"
            );
        }
        Ok((removed_blobs, removed_layers))
    }

    pub fn store(&self) -> &ImageStore {
        &self.store
    }

    /// The storage driver in use (`overlay2` or `vfs`).
    /// The layer store (containers' writable layers are snapshots in it).
    pub fn layers(&self) -> &LayerStore {
        &self.layers
    }

    pub fn driver(&self) -> &'static str {
        self.layers.driver().name()
    }

    /// `system df` for images, as moby computes it: the size of every layer some image
    /// uses, counted once, and per image its size and the part of it (layers, by chain ID)
    /// that other images share.
    pub fn disk_usage(&self) -> Result<(u64, Vec<(ImageSummary, u64)>), EngineError> {
        let rows = self.list(&Filters::default())?;
        let mut users: std::collections::HashMap<ChainId, usize> = std::collections::HashMap::new();
        for r in &rows {
            for c in ChainId::chain(r.image.config.diff_ids()) {
                *users.entry(c).or_default() += 1;
            }
        }
        let sizes: std::collections::HashMap<ChainId, u64> = users
            .keys()
            .map(|c| (c.clone(), self.layers.layer_size(c).unwrap_or(0)))
            .collect();
        let layers_size = sizes.values().sum();
        let out = rows
            .into_iter()
            .map(|r| {
                let shared = ChainId::chain(r.image.config.diff_ids())
                    .iter()
                    .filter(|c| users.get(*c).copied().unwrap_or(0) > 1)
                    .map(|c| sizes.get(c).copied().unwrap_or(0))
                    .sum();
                (r, shared)
            })
            .collect();
        Ok((layers_size, out))
    }

    pub fn count(&self) -> usize {
        self.store.len()
    }

    pub fn list(&self, filters: &Filters) -> Result<Vec<ImageSummary>, EngineError> {
        let mut args: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for key in ["before", "dangling", "label", "reference", "since"] {
            let values: Vec<String> = filters.get(key).map(str::to_owned).collect();
            if !values.is_empty() {
                args.insert(key.to_owned(), values);
            }
        }
        let f = ListFilters::from_args(&args).map_err(image_err)?;
        let mut rows = self.store.list(&f).map_err(image_err)?;
        // `until` (created before a time) is applied here, on the creation time.
        for u in filters.get("until") {
            let until = crate::timefilter::parse_until(u).map_err(EngineError::InvalidParameter)?;
            rows.retain(|r| r.created_unix < until);
        }
        Ok(rows)
    }

    pub fn resolve(&self, name: &str) -> Result<Image, EngineError> {
        self.store.resolve(name).map_err(image_err)
    }

    pub fn tag(&self, events: &EventsBus, source: &str, target: &str) -> Result<(), EngineError> {
        let image = self.resolve(source)?;
        let r = self.store.tag(source, target).map_err(image_err)?;
        events.publish(
            event_type::IMAGE,
            "tag",
            image.id.to_string(),
            name_attr(&r.familiar_string()),
        );
        Ok(())
    }

    pub fn delete(
        &self,
        events: &EventsBus,
        name: &str,
        force: bool,
        noprune: bool,
        in_use: &dyn Fn(&Digest) -> Option<ContainerUse>,
    ) -> Result<Vec<DeleteItem>, EngineError> {
        let id = self.resolve(name)?.id;
        let items = self
            .store
            .delete(name, DeleteOptions { force, noprune }, in_use)
            .map_err(image_err)?;
        for item in &items {
            match item {
                DeleteItem::Untagged(r) => {
                    events.publish(event_type::IMAGE, "untag", id.to_string(), name_attr(r));
                }
                DeleteItem::Deleted(d) if *d == id.to_string() => {
                    events.publish(
                        event_type::IMAGE,
                        "delete",
                        id.to_string(),
                        name_attr(&id.to_string()),
                    );
                }
                DeleteItem::Deleted(_) => {}
            }
        }
        Ok(items)
    }

    /// Removes dangling images, or (`dangling=false`) every image no container uses;
    /// `until`, `label` and `label!` narrow the set, and the space reclaimed is the size of
    /// the layers that went, as moby's `ImagesPrune` does.
    pub fn prune(
        &self,
        events: &EventsBus,
        filters: &Filters,
        in_use: &dyn Fn(&Digest) -> Option<ContainerUse>,
    ) -> Result<Pruned, EngineError> {
        let dangling: Vec<&str> = filters.get("dangling").collect();
        let all_unused =
            if dangling.is_empty() || dangling.iter().any(|v| matches!(*v, "true" | "1")) {
                false
            } else if dangling.iter().any(|v| matches!(*v, "false" | "0")) {
                true
            } else {
                return Err(EngineError::InvalidParameter(format!(
                    "Invalid filter 'dangling=[{}]'",
                    dangling.join(" ")
                )));
            };
        let until = filters
            .get("until")
            .next()
            .map(crate::timefilter::parse_until)
            .transpose()
            .map_err(EngineError::InvalidParameter)?;
        let mut pruned = Pruned::default();
        for image in self.store.all().map_err(image_err)? {
            if !all_unused && !image.repo_tags.is_empty() {
                continue;
            }
            if in_use(&image.id).is_some() {
                continue;
            }
            if until.is_some_and(|u| image.config.created_unix() > u) {
                continue;
            }
            let labels = image.config.labels();
            if !labels_match(filters, &labels) {
                continue;
            }
            let layer_sizes: std::collections::HashMap<String, u64> =
                ChainId::chain(image.config.diff_ids())
                    .into_iter()
                    .map(|c| {
                        let size = self.layers.layer_size(&c).unwrap_or(0);
                        (c.to_string(), size)
                    })
                    .collect();
            let name = image.id.to_string();
            match self.delete(events, &name, true, false, in_use) {
                Ok(items) => {
                    for item in &items {
                        if let DeleteItem::Deleted(d) = item {
                            pruned.space_reclaimed += layer_sizes.get(d).copied().unwrap_or(0);
                        }
                    }
                    pruned.items.extend(items);
                }
                Err(e) => tracing::warn!(image = %name, error = %e, "prune could not delete image"),
            }
        }
        events.publish(
            event_type::IMAGE,
            "prune",
            String::new(),
            BTreeMap::from([("reclaimed".to_owned(), pruned.space_reclaimed.to_string())]),
        );
        Ok(pruned)
    }

    pub fn import(
        &self,
        events: &EventsBus,
        src: &mut dyn Read,
        opts: &ImportOptions,
    ) -> Result<Digest, EngineError> {
        let id = self.store.import(src, opts).map_err(image_err)?;
        events.publish(
            event_type::IMAGE,
            "import",
            id.to_string(),
            name_attr(&id.to_string()),
        );
        Ok(id)
    }

    pub fn check_exist(&self, names: &[String]) -> Result<(), EngineError> {
        for n in names {
            self.resolve(n)?;
        }
        Ok(())
    }

    pub fn save(
        &self,
        events: &EventsBus,
        names: &[String],
        out: &mut dyn Write,
    ) -> Result<(), EngineError> {
        self.store.save(names, out).map_err(image_err)?;
        for n in names {
            if let Ok(image) = self.resolve(n) {
                events.publish(
                    event_type::IMAGE,
                    "save",
                    image.id.to_string(),
                    name_attr(n),
                );
            }
        }
        Ok(())
    }

    pub fn load(
        &self,
        events: &EventsBus,
        src: &mut dyn Read,
    ) -> Result<Vec<LoadedImage>, EngineError> {
        let loaded = self.store.load(src).map_err(image_err)?;
        let mut seen = HashSet::new();
        for l in &loaded {
            let name = l
                .reference
                .as_ref()
                .map_or_else(|| l.id.to_string(), |r| r.familiar_string());
            if seen.insert(name.clone()) {
                events.publish(
                    event_type::IMAGE,
                    "load",
                    l.id.to_string(),
                    name_attr(&name),
                );
            }
        }
        Ok(loaded)
    }
}

/// moby's `matchLabels`: every `label` must match, and an image is kept when it matches
/// every `label!` given.
fn labels_match(filters: &Filters, labels: &BTreeMap<String, String>) -> bool {
    let lookup = |k: &str| labels.get(k).map(String::as_str);
    filters.match_kv_list("label", lookup)
        && (filters.get("label!").next().is_none() || !filters.match_kv_list("label!", lookup))
}

fn name_attr(name: &str) -> BTreeMap<String, String> {
    BTreeMap::from([("name".to_owned(), name.to_owned())])
}
