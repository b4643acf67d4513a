//! `docker load`: docker-archive (`manifest.json`) or pure OCI layout (`index.json`),
//! optionally gzip/zstd-compressed.
//!
//! Spooling choice: the archive is read once, front to back. Every regular file other than
//! the small layout documents is streamed straight into the content store (verified
//! against its `blobs/sha256/<hex>` name where it has one), so nothing is held in memory
//! and uncompressed layers are written to disk exactly once, already in their final place.
//! Blobs the archive carried but no image ended up using are deleted afterwards.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Component, Path};

use berth_content::{ContentError, MAX_DOCUMENT_SIZE};
use berth_core::{Digest, Reference};
use oci_spec::image::{ImageIndex, ImageManifest, MediaType, ANNOTATION_REF_NAME};
use serde::Deserialize;

use crate::archive::save::ANNOTATION_CONTAINERD_NAME;
use crate::compression::decompress;
use crate::{ImageConfig, ImageError, ImageStore, Platform, Result};

/// One image the load produced; `message()` is the line Docker prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedImage {
    pub id: Digest,
    pub reference: Option<Reference>,
}

impl LoadedImage {
    /// `Loaded image: name:tag` or `Loaded image ID: sha256:…` (docker-py matches these).
    pub fn message(&self) -> String {
        match &self.reference {
            Some(r) => format!("Loaded image: {}", r.familiar_string()),
            None => format!("Loaded image ID: {}", self.id),
        }
    }
}

const DOCS: [&str; 4] = ["manifest.json", "index.json", "repositories", "oci-layout"];
const MAX_LINK_DEPTH: usize = 16;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ManifestEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// What the single pass over the tar collected.
#[derive(Default)]
struct Spooled {
    docs: HashMap<String, Vec<u8>>,
    files: HashMap<String, Digest>,
    links: HashMap<String, String>,
}

impl Spooled {
    /// Follows in-archive symlinks and hardlinks to a stored file.
    fn blob(&self, path: &str) -> Result<Digest> {
        let mut p = clean_path(path)?;
        for _ in 0..MAX_LINK_DEPTH {
            if let Some(d) = self.files.get(&p) {
                return Ok(d.clone());
            }
            match self.links.get(&p) {
                Some(t) => p = t.clone(),
                None => break,
            }
        }
        Err(ImageError::InvalidArchive(format!(
            "file {path:?} not found in archive"
        )))
    }
}

impl ImageStore {
    /// Loads every image of the archive; returns them in archive order.
    pub fn load(&self, input: &mut dyn Read) -> Result<Vec<LoadedImage>> {
        let mut spooled = Spooled::default();
        let spool_result = self.spool(input, &mut spooled);
        let result = spool_result.and_then(|()| self.load_spooled(&spooled));
        // On success and on failure alike, blobs no image uses do not stay behind.
        self.drop_unused(spooled.files.values())?;
        result
    }

    fn load_spooled(&self, spooled: &Spooled) -> Result<Vec<LoadedImage>> {
        if let Some(m) = spooled.docs.get("manifest.json") {
            let entries: Vec<ManifestEntry> = serde_json::from_slice(m)
                .map_err(|e| ImageError::InvalidArchive(format!("manifest.json: {e}")))?;
            self.load_docker_archive(spooled, entries)
        } else if let Some(i) = spooled.docs.get("index.json") {
            let index: ImageIndex = serde_json::from_slice(i)
                .map_err(|e| ImageError::InvalidArchive(format!("index.json: {e}")))?;
            self.load_oci_layout(spooled, &index)
        } else {
            Err(ImageError::InvalidArchive(
                "no manifest.json or index.json found (pre-1.10 archives are not supported)"
                    .to_owned(),
            ))
        }
    }

    /// One pass over the archive, recording into `out` as it goes (so a failure midway
    /// still lets the caller clean up what was already stored).
    fn spool(&self, input: &mut dyn Read, out: &mut Spooled) -> Result<()> {
        let mut archive = tar::Archive::new(decompress(Box::new(input))?);
        for entry in archive.entries()? {
            let mut entry = entry?;
            let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let path = clean_path(&raw)?;
            let kind = entry.header().entry_type();
            if kind.is_symlink() || kind.is_hard_link() {
                let target = entry
                    .link_name_bytes()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .ok_or_else(|| {
                        ImageError::InvalidArchive(format!("link {raw:?} without target"))
                    })?;
                let base = if kind.is_symlink() {
                    Path::new(&path)
                        .parent()
                        .map(|p| p.to_string_lossy().into_owned())
                        .unwrap_or_default()
                } else {
                    String::new()
                };
                let joined = if base.is_empty() {
                    target
                } else {
                    format!("{base}/{target}")
                };
                out.links.insert(path, resolve_link(&joined)?);
                continue;
            }
            if !kind.is_file() {
                continue;
            }
            if DOCS.contains(&path.as_str()) {
                let mut buf = Vec::new();
                (&mut entry)
                    .take(MAX_DOCUMENT_SIZE + 1)
                    .read_to_end(&mut buf)?;
                if buf.len() as u64 > MAX_DOCUMENT_SIZE {
                    return Err(ImageError::InvalidArchive(format!(
                        "{path} is larger than {MAX_DOCUMENT_SIZE} bytes"
                    )));
                }
                out.docs.insert(path, buf);
                continue;
            }
            let expected = path
                .strip_prefix("blobs/sha256/")
                .map(|hex| {
                    Digest::from_hex(hex).map_err(|_| {
                        ImageError::InvalidArchive(format!("invalid blob name {path:?}"))
                    })
                })
                .transpose()?;
            let size = entry.header().size()?;
            let info = self
                .content
                .ingest(&mut entry, None, Some(size), expected.as_ref())
                .map_err(|e| match e {
                    ContentError::DigestMismatch { expected, actual } => {
                        ImageError::InvalidArchive(format!(
                            "{path}: digest mismatch: archive says {expected}, content is {actual}"
                        ))
                    }
                    other => other.into(),
                })?;
            out.files.insert(path, info.digest);
        }
        Ok(())
    }

    fn load_docker_archive(
        &self,
        sp: &Spooled,
        entries: Vec<ManifestEntry>,
    ) -> Result<Vec<LoadedImage>> {
        let mut loaded = Vec::new();
        for e in entries {
            let config_digest = sp.blob(&e.config)?;
            let layers = e
                .layers
                .iter()
                .map(|l| sp.blob(l))
                .collect::<Result<Vec<_>>>()?;
            let id = self.import_image(&config_digest, &layers)?;
            let tags = e.repo_tags.unwrap_or_default();
            if tags.is_empty() {
                loaded.push(LoadedImage {
                    id: id.clone(),
                    reference: None,
                });
            }
            for t in tags {
                let r = Reference::parse_normalized_tagged(&t)?;
                self.set_ref(r.clone(), &id)?;
                loaded.push(LoadedImage {
                    id: id.clone(),
                    reference: Some(r),
                });
            }
        }
        Ok(loaded)
    }

    fn load_oci_layout(&self, sp: &Spooled, index: &ImageIndex) -> Result<Vec<LoadedImage>> {
        let mut loaded = Vec::new();
        for desc in index.manifests() {
            let name = image_name(desc.annotations().as_ref())?;
            let manifest_digest = self.pick_manifest(sp, desc, 0)?;
            let bytes = self
                .content
                .read_document(&manifest_digest, MAX_DOCUMENT_SIZE)?;
            let manifest: ImageManifest = serde_json::from_slice(&bytes).map_err(|e| {
                ImageError::InvalidArchive(format!("manifest {manifest_digest}: {e}"))
            })?;
            let config_digest = checked_digest(sp, manifest.config().digest().as_ref())?;
            let layers = manifest
                .layers()
                .iter()
                .map(|l| checked_digest(sp, l.digest().as_ref()))
                .collect::<Result<Vec<_>>>()?;
            let id = self.import_image(&config_digest, &layers)?;
            if let Some(r) = &name {
                self.set_ref(r.clone(), &id)?;
            }
            loaded.push(LoadedImage {
                id,
                reference: name,
            });
        }
        Ok(loaded)
    }

    /// A manifest descriptor as-is; a nested index resolved to the host's platform.
    fn pick_manifest(
        &self,
        sp: &Spooled,
        desc: &oci_spec::image::Descriptor,
        depth: usize,
    ) -> Result<Digest> {
        let digest = checked_digest(sp, desc.digest().as_ref())?;
        let is_index = matches!(desc.media_type(), MediaType::ImageIndex)
            || desc.media_type().to_string()
                == "application/vnd.docker.distribution.manifest.list.v2+json";
        if !is_index {
            return Ok(digest);
        }
        if depth > 4 {
            return Err(ImageError::InvalidArchive(
                "index nesting too deep".to_owned(),
            ));
        }
        let bytes = self.content.read_document(&digest, MAX_DOCUMENT_SIZE)?;
        let nested: ImageIndex = serde_json::from_slice(&bytes)
            .map_err(|e| ImageError::InvalidArchive(format!("index {digest}: {e}")))?;
        let host = Platform::host();
        let chosen = nested
            .manifests()
            .iter()
            .filter(|m| {
                sp.files
                    .values()
                    .any(|d| d.to_string() == m.digest().to_string())
            })
            .find(|m| {
                m.platform().as_ref().is_none_or(|p| {
                    p.architecture().to_string() == host.architecture
                        && p.os().to_string() == host.os
                })
            })
            .ok_or_else(|| {
                ImageError::InvalidArchive(format!(
                    "no manifest for {}/{} in {digest}",
                    host.os, host.architecture
                ))
            })?;
        self.pick_manifest(sp, chosen, depth + 1)
    }

    /// Checks the config and layers (uncompressing layers whose blob is not their diff
    /// ID), then registers the image. Returns its ID.
    fn import_image(&self, config_digest: &Digest, layer_blobs: &[Digest]) -> Result<Digest> {
        let config_bytes = self
            .content
            .read_document(config_digest, MAX_DOCUMENT_SIZE)?;
        let config = ImageConfig::parse(&config_bytes)?;
        if config.diff_ids().len() != layer_blobs.len() {
            return Err(ImageError::InvalidArchive(format!(
                "image {config_digest} lists {} diff IDs but {} layers",
                config.diff_ids().len(),
                layer_blobs.len()
            )));
        }
        for (blob, diff_id) in layer_blobs.iter().zip(config.diff_ids()) {
            if blob == diff_id || self.content.exists(diff_id) {
                continue;
            }
            let mut tar = decompress(self.content.open(blob)?)?;
            self.content
                .ingest(&mut tar, None, None, Some(diff_id))
                .map_err(|e| match e {
                    ContentError::DigestMismatch { actual, .. } => {
                        ImageError::InvalidArchive(format!(
                            "layer {blob} uncompresses to {actual}, but the config says {diff_id}"
                        ))
                    }
                    other => other.into(),
                })?;
        }
        self.register(&config_bytes)
    }

    /// Deletes blobs the archive brought in that no image uses.
    fn drop_unused<'a>(&self, spooled: impl Iterator<Item = &'a Digest>) -> Result<()> {
        let mut used = HashSet::new();
        for image in self.lock().images.values() {
            used.insert(image.id.clone());
            used.extend(image.diff_ids.iter().cloned());
        }
        for d in spooled {
            if !used.contains(d) {
                match self.content.delete(d) {
                    Ok(()) | Err(ContentError::NotFound(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(())
    }
}

/// A digest from a document, which must name a blob the archive carried.
fn checked_digest(sp: &Spooled, s: &str) -> Result<Digest> {
    let d: Digest = s
        .parse()
        .map_err(|e| ImageError::InvalidArchive(format!("descriptor digest: {e}")))?;
    sp.blob(&format!("blobs/sha256/{}", d.hex()))
}

/// The name an OCI index entry gives: containerd's full-name annotation, else
/// `org.opencontainers.image.ref.name` when it is more than a bare tag.
fn image_name(annotations: Option<&HashMap<String, String>>) -> Result<Option<Reference>> {
    let Some(a) = annotations else {
        return Ok(None);
    };
    if let Some(n) = a.get(ANNOTATION_CONTAINERD_NAME) {
        return Ok(Some(Reference::parse_normalized_tagged(n)?));
    }
    match a.get(ANNOTATION_REF_NAME) {
        Some(n) if n.contains(['/', ':']) => Ok(Reference::parse_normalized_tagged(n).ok()),
        _ => Ok(None),
    }
}

/// Resolves a link target lexically inside the archive: `..` may climb only up to the
/// archive's root.
fn resolve_link(p: &str) -> Result<String> {
    let mut parts: Vec<String> = Vec::new();
    for c in Path::new(p).components() {
        match c {
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            Component::CurDir => {}
            Component::ParentDir if !parts.is_empty() => {
                parts.pop();
            }
            _ => {
                return Err(ImageError::InvalidArchive(format!(
                    "unsafe link target {p:?} in archive"
                )))
            }
        }
    }
    Ok(parts.join("/"))
}

/// Normalises a path inside the archive; refuses absolute paths and `..`.
pub(crate) fn clean_path(p: &str) -> Result<String> {
    let mut parts = Vec::new();
    for c in Path::new(p).components() {
        match c {
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                return Err(ImageError::InvalidArchive(format!(
                    "unsafe path {p:?} in archive"
                )))
            }
        }
    }
    if parts.is_empty() {
        return Ok(String::new());
    }
    Ok(parts.join("/"))
}
