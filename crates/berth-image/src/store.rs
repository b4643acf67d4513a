//! The image metadata store: image records and the reference index, persisted under
//! `<data-root>/image/` (`images/<hex>.json` per image, `repositories.json` for tags and
//! digests), every file replaced atomically.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use berth_content::{Store as ContentStore, MAX_DOCUMENT_SIZE};
use berth_core::{reference::is_full_hex_id, ChainId, Digest, Reference};
use serde::{Deserialize, Serialize};

use crate::fsutil::{atomic_write, remove_and_sync, remove_stale_temps};
use crate::{HistoryEntry, ImageConfig, ImageError, LayerStore, Result};

/// What is persisted per image.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct ImageRecord {
    /// The image ID: the config's digest.
    pub id: Digest,
    /// Layer diff IDs, bottom first; each is also an uncompressed blob in the content store.
    pub diff_ids: Vec<Digest>,
    /// RFC 3339 time a reference last pointed here (Docker's `Metadata.LastTagTime`).
    #[serde(default)]
    pub last_tag_time: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Repositories {
    /// Canonical reference (`docker.io/library/busybox:latest`, or `name@sha256:…`) → image ID.
    refs: BTreeMap<String, Digest>,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub images: BTreeMap<Digest, ImageRecord>,
    pub refs: BTreeMap<Reference, Digest>,
}

/// A read-only view of one image.
#[derive(Debug, Clone)]
pub struct Image {
    pub id: Digest,
    /// Familiar `name:tag` strings, sorted.
    pub repo_tags: Vec<String>,
    /// Familiar `name@sha256:…` strings, sorted.
    pub repo_digests: Vec<String>,
    pub config: ImageConfig,
    /// Sum of the uncompressed layer sizes.
    pub size: u64,
    /// `Metadata.LastTagTime`, RFC 3339 (None: never tagged; report `0001-01-01T00:00:00Z`).
    pub last_tag_time: Option<String>,
}

/// Whether and how a container uses an image (answered by the engine's hook).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerUse {
    pub container_id: String,
    pub running: bool,
}

/// Options of `DELETE /images/{name}`.
#[derive(Debug, Clone, Copy, Default)]
pub struct DeleteOptions {
    pub force: bool,
    /// Accepted for the API; the store keeps no parent chains, so there is nothing to prune.
    pub noprune: bool,
}

/// One line of the delete response (`[{"Untagged": …}, {"Deleted": …}]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteItem {
    Untagged(String),
    Deleted(String),
}

/// The image store. Cheap to share behind an `Arc`; all methods take `&self`.
pub struct ImageStore {
    dir: PathBuf,
    pub(crate) content: Arc<dyn ContentStore>,
    pub(crate) layers: Arc<dyn LayerStore>,
    state: Mutex<State>,
}

impl ImageStore {
    /// Opens (creating) `<data_root>/image`, loading every record and the reference index.
    pub fn open(
        data_root: &Path,
        content: Arc<dyn ContentStore>,
        layers: Arc<dyn LayerStore>,
    ) -> Result<Self> {
        let dir = data_root.join("image");
        fs::create_dir_all(dir.join("images"))?;
        remove_stale_temps(&dir)?;
        remove_stale_temps(&dir.join("images"))?;
        let mut state = State::default();
        for entry in fs::read_dir(dir.join("images"))? {
            let entry = entry?;
            let bytes = fs::read(entry.path())?;
            match serde_json::from_slice::<ImageRecord>(&bytes) {
                Ok(rec) => {
                    state.images.insert(rec.id.clone(), rec);
                }
                // Records are written atomically, so this is damage from outside: one bad
                // record must not keep the daemon from starting.
                Err(e) => {
                    tracing::warn!(path = %entry.path().display(), "skipping unreadable image record: {e}")
                }
            }
        }
        let repos_path = dir.join("repositories.json");
        if repos_path.exists() {
            let repos: Repositories = serde_json::from_slice(&fs::read(&repos_path)?)
                .map_err(|e| ImageError::Corrupt(format!("repositories.json: {e}")))?;
            for (r, id) in repos.refs {
                // A reference to a record that never made it to disk is dropped.
                if state.images.contains_key(&id) {
                    state.refs.insert(Reference::parse_normalized(&r)?, id);
                }
            }
        }
        Ok(Self {
            dir,
            content,
            layers,
            state: Mutex::new(state),
        })
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn record_path(&self, id: &Digest) -> PathBuf {
        self.dir.join("images").join(format!("{}.json", id.hex()))
    }

    pub(crate) fn persist_record(&self, rec: &ImageRecord) -> Result<()> {
        let bytes = serde_json::to_vec(rec).map_err(|e| ImageError::Corrupt(e.to_string()))?;
        atomic_write(&self.record_path(&rec.id), &bytes)?;
        Ok(())
    }

    fn persist_refs(&self, state: &State) -> Result<()> {
        let repos = Repositories {
            refs: state
                .refs
                .iter()
                .map(|(r, id)| (r.to_string(), id.clone()))
                .collect(),
        };
        let bytes = serde_json::to_vec(&repos).map_err(|e| ImageError::Corrupt(e.to_string()))?;
        atomic_write(&self.dir.join("repositories.json"), &bytes)?;
        Ok(())
    }

    /// Reads and parses an image's config from the content store.
    pub fn config(&self, id: &Digest) -> Result<ImageConfig> {
        let bytes = self.content.read_document(id, MAX_DOCUMENT_SIZE)?;
        ImageConfig::parse(&bytes)
    }

    /// The raw config bytes (their digest is the image ID).
    pub fn config_bytes(&self, id: &Digest) -> Result<Vec<u8>> {
        Ok(self.content.read_document(id, MAX_DOCUMENT_SIZE)?)
    }

    fn view(&self, state: &State, rec: &ImageRecord) -> Result<Image> {
        let mut repo_tags = Vec::new();
        let mut repo_digests = Vec::new();
        for (r, id) in &state.refs {
            if id == &rec.id {
                if r.digest().is_some() {
                    repo_digests.push(r.familiar_string());
                } else {
                    repo_tags.push(r.familiar_string());
                }
            }
        }
        let size = self.layer_sizes(&rec.diff_ids).iter().sum();
        Ok(Image {
            id: rec.id.clone(),
            repo_tags,
            repo_digests,
            config: self.config(&rec.id)?,
            size,
            last_tag_time: rec.last_tag_time.clone(),
        })
    }

    /// Each layer's size (bottom first): the layer store's measure, or the tar's size.
    pub fn layer_sizes(&self, diff_ids: &[Digest]) -> Vec<u64> {
        ChainId::chain(diff_ids)
            .iter()
            .zip(diff_ids)
            .map(|(chain, d)| {
                self.layers
                    .size(chain)
                    .unwrap_or_else(|| self.content.info(d).map_or(0, |i| i.size))
            })
            .collect()
    }

    /// How many images there are, from memory (no config is read).
    pub fn len(&self) -> usize {
        self.lock().images.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every image, in ID order.
    pub fn all(&self) -> Result<Vec<Image>> {
        let state = self.lock();
        state
            .images
            .values()
            .map(|r| self.view(&state, r))
            .collect()
    }

    /// Looks an image up by full ID.
    pub fn get(&self, id: &Digest) -> Result<Image> {
        let state = self.lock();
        let rec = state
            .images
            .get(id)
            .ok_or_else(|| ImageError::NotFound(id.to_string()))?;
        self.view(&state, rec)
    }

    /// Resolves what a user typed (Docker's `GetImage` order): a full ID
    /// (`sha256:…` or 64 hex), a reference (`:latest` implied), then an ID prefix.
    pub fn resolve(&self, name_or_id: &str) -> Result<Image> {
        let state = self.lock();
        let id = resolve_id(&state, name_or_id)?;
        let rec = &state.images[&id];
        self.view(&state, rec)
    }

    /// `docker tag SOURCE TARGET`: points `target` (`:latest` implied) at the image.
    pub fn tag(&self, source: &str, target: &str) -> Result<Reference> {
        let target = Reference::parse_normalized_tagged(target)?;
        if target.digest().is_some() {
            return Err(ImageError::InvalidParameter(
                "refusing to create a tag with a digest reference".to_owned(),
            ));
        }
        let mut state = self.lock();
        let id = resolve_id(&state, source)?;
        self.add_ref(&mut state, target.clone(), &id)?;
        Ok(target)
    }

    /// Points `r` at `id`, moving it from any other image, and stamps LastTagTime.
    pub(crate) fn add_ref(&self, state: &mut State, r: Reference, id: &Digest) -> Result<()> {
        state.refs.insert(r, id.clone());
        self.persist_refs(state)?;
        if let Some(rec) = state.images.get_mut(id) {
            rec.last_tag_time = Some(now_rfc3339());
            let rec = rec.clone();
            self.persist_record(&rec)?;
        }
        Ok(())
    }

    /// Removes one tag or digest reference; returns the image it pointed to.
    pub fn untag(&self, r: &str) -> Result<Digest> {
        let r = Reference::parse_normalized_tagged(r)?;
        let mut state = self.lock();
        let id = state
            .refs
            .remove(&r)
            .ok_or_else(|| ImageError::NotFound(r.familiar_string()))?;
        self.persist_refs(&state)?;
        Ok(id)
    }

    /// `DELETE /images/{name}` with Docker's untag-vs-delete rules. `in_use` reports
    /// a container using an image, if any (the engine's veto).
    pub fn delete(
        &self,
        name: &str,
        opts: DeleteOptions,
        in_use: &dyn Fn(&Digest) -> Option<ContainerUse>,
    ) -> Result<Vec<DeleteItem>> {
        let mut state = self.lock();
        let id = resolve_id(&state, name)?;
        let mut items = Vec::new();
        let refs_of = |state: &State| -> Vec<Reference> {
            state
                .refs
                .iter()
                .filter(|(_, v)| **v == id)
                .map(|(r, _)| r.clone())
                .collect()
        };
        let repo_refs = refs_of(&state);
        let using = in_use(&id);
        let short = short_id(&id);

        if !is_id_prefix(&id, name) {
            // The user named a reference: untag it, and delete only if it was the last.
            let named = Reference::parse_normalized_tagged(name)?;
            if let Some(u) = &using {
                if repo_refs.len() == 1 && !opts.force {
                    return Err(ImageError::Conflict(format!(
                        "conflict: unable to remove repository reference \"{}\" (must force) - container {} is using its referenced image {}",
                        named.familiar_string(),
                        short_container(&u.container_id),
                        short
                    )));
                }
            }
            state.refs.remove(&named);
            items.push(DeleteItem::Untagged(named.familiar_string()));
            // With the last tag of a repository gone, its digest references go too.
            let same_repo_tag_left = state
                .refs
                .iter()
                .any(|(r, v)| *v == id && r.digest().is_none() && r.name() == named.name());
            if !same_repo_tag_left {
                let digests: Vec<Reference> = state
                    .refs
                    .iter()
                    .filter(|(r, v)| **v == id && r.digest().is_some() && r.name() == named.name())
                    .map(|(r, _)| r.clone())
                    .collect();
                for r in digests {
                    state.refs.remove(&r);
                    items.push(DeleteItem::Untagged(r.familiar_string()));
                }
            }
            self.persist_refs(&state)?;
            if !refs_of(&state).is_empty() {
                return Ok(items);
            }
            // Last reference gone: delete the image unless a container holds it.
            if using.is_some() {
                return Ok(items);
            }
        } else {
            let repos: HashSet<String> = repo_refs.iter().map(Reference::name).collect();
            if repos.len() > 1 && !opts.force {
                return Err(ImageError::Conflict(format!(
                    "conflict: unable to delete {short} (must be forced) - image is referenced in multiple repositories"
                )));
            }
            if let Some(u) = &using {
                if u.running {
                    return Err(ImageError::Conflict(format!(
                        "conflict: unable to delete {short} (cannot be forced) - image is being used by running container {}",
                        short_container(&u.container_id)
                    )));
                }
                if !opts.force {
                    return Err(ImageError::Conflict(format!(
                        "conflict: unable to delete {short} (must be forced) - image is being used by stopped container {}",
                        short_container(&u.container_id)
                    )));
                }
            }
            for r in repo_refs {
                state.refs.remove(&r);
                items.push(DeleteItem::Untagged(r.familiar_string()));
            }
            self.persist_refs(&state)?;
        }

        let rec = state
            .images
            .remove(&id)
            .ok_or_else(|| ImageError::NotFound(name.to_owned()))?;
        remove_and_sync(&self.record_path(&id))?;
        items.push(DeleteItem::Deleted(id.to_string()));
        for chain in self.release_layers(&state, &rec)? {
            items.push(DeleteItem::Deleted(chain.to_string()));
        }
        Ok(items)
    }

    /// Removes layers and blobs of a deleted image that no remaining image uses.
    fn release_layers(&self, state: &State, rec: &ImageRecord) -> Result<Vec<ChainId>> {
        let mut used_chains = HashSet::new();
        let mut used_blobs = HashSet::new();
        for other in state.images.values() {
            used_chains.extend(ChainId::chain(&other.diff_ids));
            used_blobs.extend(other.diff_ids.iter().cloned());
            used_blobs.insert(other.id.clone());
        }
        let mut removed = Vec::new();
        for chain in ChainId::chain(&rec.diff_ids).into_iter().rev() {
            if !used_chains.contains(&chain) && self.layers.exists(&chain) {
                self.layers.remove(&chain).map_err(ImageError::Layer)?;
                removed.push(chain);
            }
        }
        for blob in rec.diff_ids.iter().chain([&rec.id]) {
            if !used_blobs.contains(blob) {
                match self.content.delete(blob) {
                    Ok(()) | Err(berth_content::ContentError::NotFound(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(removed)
    }

    /// `docker history`: newest first; layer-making steps get their layer's size.
    pub fn history(&self, name_or_id: &str) -> Result<Vec<HistoryEntry>> {
        let image = self.resolve(name_or_id)?;
        let sizes = self.layer_sizes(image.config.diff_ids());
        let mut layer = 0usize;
        let mut out = Vec::new();
        let history = image.config.oci().history().clone().unwrap_or_default();
        for h in history {
            let empty = h.empty_layer().unwrap_or(false);
            let size = if empty {
                0
            } else {
                let s = sizes.get(layer).copied().unwrap_or(0);
                layer += 1;
                s
            };
            out.push(HistoryEntry {
                id: "<missing>".to_owned(),
                created_unix: h
                    .created()
                    .as_deref()
                    .and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok())
                    .map_or(0, |t| t.timestamp()),
                created_by: h.created_by().clone().unwrap_or_default(),
                tags: Vec::new(),
                size,
                comment: h.comment().clone().unwrap_or_default(),
            });
        }
        out.reverse();
        if let Some(top) = out.first_mut() {
            top.id = image.id.to_string();
            top.tags = image.repo_tags.clone();
        }
        Ok(out)
    }

    /// Registers an image whose config and layer blobs are already in the content store:
    /// applies missing layers, writes the record. Returns the image ID.
    pub(crate) fn register(&self, config_bytes: &[u8]) -> Result<Digest> {
        let config = ImageConfig::parse(config_bytes)?;
        let id = self.content.put_bytes(config_bytes)?.digest;
        let mut parent: Option<ChainId> = None;
        for diff_id in config.diff_ids() {
            let chain = ChainId::next(parent.as_ref(), diff_id);
            if !self.layers.exists(&chain) {
                let mut tar: Box<dyn Read + Send> = self.content.open(diff_id)?;
                let got = self
                    .layers
                    .apply(parent.as_ref(), diff_id, &mut tar)
                    .map_err(ImageError::Layer)?;
                if got != chain {
                    return Err(ImageError::Corrupt(format!(
                        "layer store returned chain {got}, expected {chain}"
                    )));
                }
            }
            parent = Some(chain);
        }
        let mut state = self.lock();
        if !state.images.contains_key(&id) {
            let rec = ImageRecord {
                id: id.clone(),
                diff_ids: config.diff_ids().to_vec(),
                last_tag_time: None,
            };
            self.persist_record(&rec)?;
            state.images.insert(id.clone(), rec);
        }
        Ok(id)
    }

    /// Points `r` at `id` (used by import and load).
    pub(crate) fn set_ref(&self, r: Reference, id: &Digest) -> Result<()> {
        let mut state = self.lock();
        self.add_ref(&mut state, r, id)
    }
}

/// Docker's lookup order; the error names what the user typed (`:latest` added).
pub(crate) fn resolve_id(state: &State, name_or_id: &str) -> Result<Digest> {
    let not_found = || match Reference::parse_normalized_tagged(name_or_id) {
        Ok(r) if !name_or_id.starts_with("sha256:") && !is_full_hex_id(name_or_id) => {
            ImageError::NotFound(r.familiar_string())
        }
        _ => ImageError::NotFound(name_or_id.to_owned()),
    };
    let full = name_or_id
        .parse::<Digest>()
        .ok()
        .or_else(|| Digest::from_hex(name_or_id).ok());
    if let Some(d) = full {
        return state
            .images
            .contains_key(&d)
            .then_some(d)
            .ok_or_else(not_found);
    }
    if let Ok(r) = Reference::parse_normalized_tagged(name_or_id) {
        if let Some(id) = state.refs.get(&r) {
            return Ok(id.clone());
        }
    } else if !name_or_id.starts_with("sha256:") {
        // Not a reference and not an ID prefix: report the parse error, as Docker does.
        Reference::parse_normalized_tagged(name_or_id)?;
    }
    let prefix = name_or_id.strip_prefix("sha256:").unwrap_or(name_or_id);
    if !prefix.is_empty() && prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
        let matches: Vec<&Digest> = state
            .images
            .keys()
            .filter(|d| d.hex().starts_with(prefix))
            .collect();
        match matches.as_slice() {
            [one] => return Ok((*one).clone()),
            [] => {}
            _ => {
                return Err(ImageError::InvalidParameter(format!(
                    "multiple IDs found with provided prefix: {prefix}"
                )))
            }
        }
    }
    Err(not_found())
}

/// True when `name` is (a prefix of) the ID rather than a reference.
fn is_id_prefix(id: &Digest, name: &str) -> bool {
    let p = name.strip_prefix("sha256:").unwrap_or(name);
    !p.is_empty() && id.hex().starts_with(p)
}

/// Docker's 12-character short ID.
pub fn short_id(id: &Digest) -> String {
    id.hex()[..12].to_owned()
}

fn short_container(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

pub(crate) fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}
