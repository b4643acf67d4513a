//! `docker save`: one tar holding both the docker-archive layout (`manifest.json`,
//! `repositories`) and the OCI layout (`oci-layout`, `index.json`), sharing
//! `blobs/sha256/<hex>` (Docker 25+'s format). Layers are uncompressed and named by diff
//! ID; every timestamp is zero. Blobs stream from the content store one at a time.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{Read, Write};
use std::str::FromStr;

use berth_core::{Digest, Reference};
use oci_spec::image::{
    Descriptor, ImageIndexBuilder, ImageManifestBuilder, MediaType, ANNOTATION_REF_NAME,
};
use serde::Serialize;

use crate::store::resolve_id;
use crate::{ImageError, ImageStore, Result};

/// Annotation containerd (and Docker 25+) put the full reference in.
pub const ANNOTATION_CONTAINERD_NAME: &str = "io.containerd.image.name";

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DockerManifestEntry {
    pub config: String,
    pub repo_tags: Option<Vec<String>>,
    pub layers: Vec<String>,
}

struct SavedImage {
    id: Digest,
    diff_ids: Vec<Digest>,
    refs: Vec<Reference>,
}

fn blob_path(d: &Digest) -> String {
    format!("blobs/sha256/{}", d.hex())
}

fn oci_digest(d: &Digest) -> Result<oci_spec::image::Digest> {
    oci_spec::image::Digest::from_str(&d.to_string())
        .map_err(|e| ImageError::Corrupt(format!("digest {d}: {e}")))
}

fn json(v: &impl Serialize) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| ImageError::Corrupt(e.to_string()))
}

impl ImageStore {
    /// Writes `names` (references or IDs) as one archive to `out`. A name without a tag
    /// saves every tag of that repository; an ID saves the image untagged.
    pub fn save(&self, names: &[String], out: &mut dyn Write) -> Result<()> {
        let images = self.select_for_save(names)?;

        let mut small_blobs: Vec<(Digest, Vec<u8>)> = Vec::new();
        let mut manifest_json = Vec::new();
        let mut index_manifests = Vec::new();
        let mut repositories: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for img in &images {
            let config = self.config_bytes(&img.id)?;
            let mut layer_descs = Vec::new();
            for d in &img.diff_ids {
                let size = self.content.info(d)?.size;
                layer_descs.push(Descriptor::new(MediaType::ImageLayer, size, oci_digest(d)?));
            }
            let manifest = ImageManifestBuilder::default()
                .schema_version(2u32)
                .media_type(MediaType::ImageManifest)
                .config(Descriptor::new(
                    MediaType::ImageConfig,
                    config.len() as u64,
                    oci_digest(&img.id)?,
                ))
                .layers(layer_descs)
                .build()
                .map_err(|e| ImageError::Corrupt(e.to_string()))?;
            let manifest_bytes = json(&manifest)?;
            let manifest_digest = Digest::of(&manifest_bytes);
            let descriptor = |annotations: Option<HashMap<String, String>>| -> Result<Descriptor> {
                let mut d = Descriptor::new(
                    MediaType::ImageManifest,
                    manifest_bytes.len() as u64,
                    oci_digest(&manifest_digest)?,
                );
                d.set_annotations(annotations);
                Ok(d)
            };
            if img.refs.is_empty() {
                index_manifests.push(descriptor(None)?);
            }
            for r in &img.refs {
                let tag = r.tag().unwrap_or("latest");
                index_manifests.push(descriptor(Some(HashMap::from([
                    (ANNOTATION_CONTAINERD_NAME.to_owned(), r.to_string()),
                    (ANNOTATION_REF_NAME.to_owned(), tag.to_owned()),
                ])))?);
                if let Some(top) = img.diff_ids.last() {
                    repositories
                        .entry(r.familiar_name())
                        .or_default()
                        .insert(tag.to_owned(), top.hex().to_owned());
                }
            }
            manifest_json.push(DockerManifestEntry {
                config: blob_path(&img.id),
                repo_tags: (!img.refs.is_empty())
                    .then(|| img.refs.iter().map(Reference::familiar_string).collect()),
                layers: img.diff_ids.iter().map(blob_path).collect(),
            });
            small_blobs.push((img.id.clone(), config));
            small_blobs.push((manifest_digest, manifest_bytes));
        }
        let index = ImageIndexBuilder::default()
            .schema_version(2u32)
            .media_type(MediaType::ImageIndex)
            .manifests(index_manifests)
            .build()
            .map_err(|e| ImageError::Corrupt(e.to_string()))?;

        let mut tar = tar::Builder::new(out);
        append_dir(&mut tar, "blobs/")?;
        append_dir(&mut tar, "blobs/sha256/")?;
        let mut written = HashSet::new();
        for img in &images {
            for d in &img.diff_ids {
                if written.insert(d.clone()) {
                    let size = self.content.info(d)?.size;
                    append_file(&mut tar, &blob_path(d), size, &mut self.content.open(d)?)?;
                }
            }
        }
        for (d, bytes) in &small_blobs {
            if written.insert(d.clone()) {
                append_file(&mut tar, &blob_path(d), bytes.len() as u64, &mut &bytes[..])?;
            }
        }
        let docs: [(&str, Vec<u8>); 4] = [
            ("index.json", json(&index)?),
            ("manifest.json", json(&manifest_json)?),
            ("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec()),
            ("repositories", json(&repositories)?),
        ];
        for (name, bytes) in docs {
            append_file(&mut tar, name, bytes.len() as u64, &mut &bytes[..])?;
        }
        tar.into_inner()?.flush()?;
        Ok(())
    }

    fn select_for_save(&self, names: &[String]) -> Result<Vec<SavedImage>> {
        if names.is_empty() {
            return Err(ImageError::InvalidParameter(
                "no images specified".to_owned(),
            ));
        }
        let state = self.lock();
        let mut order: Vec<Digest> = Vec::new();
        let mut refs: HashMap<Digest, Vec<Reference>> = HashMap::new();
        let mut add = |id: &Digest, r: Option<Reference>| {
            if !order.contains(id) {
                order.push(id.clone());
            }
            let entry = refs.entry(id.clone()).or_default();
            if let Some(r) = r.filter(|r| !entry.contains(r)) {
                entry.push(r);
            }
        };
        for name in names {
            let named = Reference::parse_normalized(name)
                .ok()
                .filter(|_| !is_id_like(name));
            match named {
                // A bare repository name saves every tag of it (moby's `parseNames`).
                Some(n) if n.is_name_only() => {
                    let tagged: Vec<(Reference, Digest)> = state
                        .refs
                        .iter()
                        .filter(|(r, _)| {
                            r.name() == n.name() && r.tag().is_some() && r.digest().is_none()
                        })
                        .map(|(r, id)| (r.clone(), id.clone()))
                        .collect();
                    if tagged.is_empty() {
                        return Err(ImageError::NotFound(n.familiar_string()));
                    }
                    for (r, id) in tagged {
                        add(&id, Some(r));
                    }
                }
                Some(n) => {
                    let id = resolve_id(&state, name)?;
                    add(&id, n.tag().and_then(|t| n.with_tag(t).ok()));
                }
                None => {
                    let id = resolve_id(&state, name)?;
                    add(&id, None);
                }
            }
        }
        Ok(order
            .into_iter()
            .map(|id| SavedImage {
                diff_ids: state.images[&id].diff_ids.clone(),
                refs: refs.remove(&id).unwrap_or_default(),
                id,
            })
            .collect())
    }
}

/// `sha256:…` or bare hex: an ID (prefix) rather than a repository name.
fn is_id_like(name: &str) -> bool {
    name.starts_with("sha256:") || berth_core::reference::is_full_hex_id(name)
}

fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_size(size);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h
}

fn append_dir<W: Write>(tar: &mut tar::Builder<W>, path: &str) -> Result<()> {
    let mut h = header(tar::EntryType::Directory, 0o755, 0);
    tar.append_data(&mut h, path, std::io::empty())?;
    Ok(())
}

fn append_file<W: Write>(
    tar: &mut tar::Builder<W>,
    path: &str,
    size: u64,
    data: &mut dyn Read,
) -> Result<()> {
    let mut h = header(tar::EntryType::Regular, 0o644, size);
    tar.append_data(&mut h, path, data.take(size))?;
    Ok(())
}
