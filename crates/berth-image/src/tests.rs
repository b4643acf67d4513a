//! Behaviour tests of the image store with an in-memory layer store.

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use berth_content::{LocalStore, Manager, Provider};
use berth_core::{ChainId, Digest, ErrorKind, Sha256Writer};

use crate::*;

/// Records applied layers; checks each tar's digest against the diff ID it was given.
#[derive(Default)]
struct FakeLayers {
    chains: Mutex<HashMap<ChainId, Vec<String>>>,
}

impl LayerStore for FakeLayers {
    fn apply(
        &self,
        parent: Option<&ChainId>,
        diff_id: &Digest,
        tar: &mut dyn Read,
    ) -> Result<ChainId, LayerError> {
        let mut w = Sha256Writer::new(Vec::new());
        std::io::copy(tar, &mut w)?;
        let (d, bytes) = w.finish();
        if &d != diff_id {
            return Err(format!("tar digest {d} != diff ID {diff_id}").into());
        }
        let mut names = Vec::new();
        for e in tar::Archive::new(&bytes[..]).entries()? {
            names.push(e?.path()?.to_string_lossy().into_owned());
        }
        let chain = ChainId::next(parent, diff_id);
        self.chains.lock().unwrap().insert(chain.clone(), names);
        Ok(chain)
    }

    fn exists(&self, chain: &ChainId) -> bool {
        self.chains.lock().unwrap().contains_key(chain)
    }

    fn remove(&self, chain: &ChainId) -> Result<(), LayerError> {
        self.chains
            .lock()
            .unwrap()
            .remove(chain)
            .map(|_| ())
            .ok_or_else(|| "no such layer".into())
    }
}

struct Env {
    dir: tempfile::TempDir,
    layers: Arc<FakeLayers>,
    content: Arc<LocalStore>,
    store: ImageStore,
}

fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let layers = Arc::new(FakeLayers::default());
    let content = Arc::new(LocalStore::open(&dir.path().join("content")).unwrap());
    let store = ImageStore::open(dir.path(), content.clone(), layers.clone()).unwrap();
    Env {
        dir,
        layers,
        content,
        store,
    }
}

fn reopen(e: &Env) -> ImageStore {
    ImageStore::open(e.dir.path(), e.content.clone(), e.layers.clone()).unwrap()
}

fn rootfs_tar(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_700_000_000);
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.into_inner().unwrap()
}

fn import(
    store: &ImageStore,
    files: &[(&str, &[u8])],
    repo: Option<&str>,
    changes: &[&str],
) -> Digest {
    let opts = ImportOptions {
        repo: repo.map(str::to_owned),
        changes: changes.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    store.import(&mut &rootfs_tar(files)[..], &opts).unwrap()
}

fn never_used(_: &Digest) -> Option<ContainerUse> {
    None
}

#[test]
fn import_stores_layer_config_and_tag() {
    let e = env();
    let tar = rootfs_tar(&[("etc/hostname", b"box\n")]);
    let opts = ImportOptions {
        repo: Some("example/imported".into()),
        tag: Some("v1".into()),
        changes: vec![
            "CMD [\"/bin/sh\"]".into(),
            "ENV A=b".into(),
            "LABEL x=y".into(),
        ],
        platform: Some("linux/arm64/v8".into()),
        ..Default::default()
    };
    let id = e.store.import(&mut &tar[..], &opts).unwrap();
    let img = e.store.resolve("example/imported:v1").unwrap();
    assert_eq!(img.id, id);
    assert_eq!(img.repo_tags, vec!["example/imported:v1"]);
    assert_eq!(img.config.diff_ids(), &[Digest::of(&tar)]);
    assert_eq!(img.size, tar.len() as u64);
    let raw = img.config.raw();
    assert_eq!(raw["comment"], "Imported from -");
    assert_eq!(raw["config"]["Cmd"], serde_json::json!(["/bin/sh"]));
    assert_eq!(raw["config"]["Env"], serde_json::json!(["A=b"]));
    assert_eq!(raw["architecture"], "arm64");
    assert_eq!(raw["variant"], "v8");
    assert_eq!(img.config.labels().get("x").map(String::as_str), Some("y"));
    assert!(img.last_tag_time.is_some());
    // The image ID is the digest of the stored config bytes.
    assert_eq!(Digest::of(&e.store.config_bytes(&id).unwrap()), id);
    // The layer went through the layer store.
    let chain = ChainId::of_stack(img.config.diff_ids()).unwrap();
    assert_eq!(
        e.layers.chains.lock().unwrap()[&chain],
        vec!["etc/hostname"]
    );
    // And all of it survives a reopen.
    let again = reopen(&e).resolve("example/imported:v1").unwrap();
    assert_eq!(again.id, id);
    assert_eq!(again.last_tag_time, img.last_tag_time);
}

#[test]
fn import_detects_gzip_and_zstd_and_rejects_bad_changes() {
    let e = env();
    let tar = rootfs_tar(&[("a", b"1")]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    let gz = gz.finish().unwrap();
    let zst = zstd::encode_all(&tar[..], 1).unwrap();
    for body in [&gz, &zst] {
        let id = e
            .store
            .import(&mut &body[..], &ImportOptions::default())
            .unwrap();
        assert_eq!(
            e.store.get(&id).unwrap().config.diff_ids(),
            &[Digest::of(&tar)]
        );
    }
    let err = e
        .store
        .import(
            &mut &tar[..],
            &ImportOptions {
                changes: vec!["RUN x".into()],
                ..Default::default()
            },
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidParameter);
}

#[test]
fn resolve_follows_dockers_lookup_order() {
    let e = env();
    let id = import(&e.store, &[("f", b"x")], Some("busybox"), &[]);
    assert_eq!(e.store.resolve("busybox").unwrap().id, id);
    assert_eq!(
        e.store
            .resolve("docker.io/library/busybox:latest")
            .unwrap()
            .id,
        id
    );
    assert_eq!(e.store.resolve(&id.to_string()).unwrap().id, id);
    assert_eq!(e.store.resolve(id.hex()).unwrap().id, id);
    assert_eq!(e.store.resolve(&id.hex()[..12]).unwrap().id, id);
    assert_eq!(
        e.store
            .resolve(&format!("sha256:{}", &id.hex()[..8]))
            .unwrap()
            .id,
        id
    );
    let err = e.store.resolve("alpine").unwrap_err();
    assert_eq!(err.to_string(), "No such image: alpine:latest");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let err = e.store.resolve("Upper").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidParameter);
}

#[test]
fn delete_follows_dockers_untag_and_conflict_rules() {
    let e = env();
    let id = import(&e.store, &[("f", b"x")], Some("one"), &[]);
    e.store.tag("one", "two:v2").unwrap();
    let chain = ChainId::of_stack(e.store.get(&id).unwrap().config.diff_ids()).unwrap();

    // By ID with references in two repositories: conflict unless forced.
    let err = e
        .store
        .delete(&id.hex()[..12], DeleteOptions::default(), &never_used)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(
        err.to_string(),
        format!("conflict: unable to delete {} (must be forced) - image is referenced in multiple repositories", short_id(&id))
    );

    // By reference while another reference remains: untag only.
    let items = e
        .store
        .delete("two:v2", DeleteOptions::default(), &never_used)
        .unwrap();
    assert_eq!(items, vec![DeleteItem::Untagged("two:v2".into())]);
    assert!(e.store.get(&id).is_ok());

    // The last reference while a container uses the image: conflict.
    let used = |_: &Digest| {
        Some(ContainerUse {
            container_id: "c0ffee0123456789".into(),
            running: false,
        })
    };
    let err = e
        .store
        .delete("one", DeleteOptions::default(), &used)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("container c0ffee012345 is using its referenced image"),
        "{err}"
    );
    // A running container blocks deletion by ID even with force.
    let running = |_: &Digest| {
        Some(ContainerUse {
            container_id: "c0ffee0123456789".into(),
            running: true,
        })
    };
    let err = e
        .store
        .delete(
            id.hex(),
            DeleteOptions {
                force: true,
                noprune: false,
            },
            &running,
        )
        .unwrap_err();
    assert!(err.to_string().contains("(cannot be forced)"), "{err}");

    // The last reference: untag and delete, layers and blobs released.
    let items = e
        .store
        .delete("one:latest", DeleteOptions::default(), &never_used)
        .unwrap();
    assert_eq!(
        items,
        vec![
            DeleteItem::Untagged("one:latest".into()),
            DeleteItem::Deleted(id.to_string()),
            DeleteItem::Deleted(chain.to_string()),
        ]
    );
    assert!(e.layers.chains.lock().unwrap().is_empty());
    assert!(e.content.list().unwrap().is_empty());
    assert_eq!(
        e.store.resolve(id.hex()).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert!(reopen(&e).all().unwrap().is_empty());
}

#[test]
fn delete_keeps_layers_other_images_share() {
    let e = env();
    let a = import(&e.store, &[("f", b"shared")], Some("a"), &["CMD a"]);
    let b = import(&e.store, &[("f", b"shared")], Some("b"), &["CMD b"]);
    assert_ne!(a, b);
    e.store
        .delete("a", DeleteOptions::default(), &never_used)
        .unwrap();
    assert_eq!(e.layers.chains.lock().unwrap().len(), 1);
    let img = e.store.get(&b).unwrap();
    assert!(e.content.exists(&img.config.diff_ids()[0]));
}

#[test]
fn list_filters_like_docker() {
    let e = env();
    let tagged = import(
        &e.store,
        &[("f", b"1")],
        Some("web/app:1.0"),
        &["LABEL tier=front"],
    );
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let dangling = import(&e.store, &[("f", b"2")], None, &["LABEL tier=back"]);
    let args = |pairs: &[(&str, &str)]| {
        let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in pairs {
            m.entry(k.to_string()).or_default().push(v.to_string());
        }
        ListFilters::from_args(&m).unwrap()
    };
    let ids = |f: &ListFilters| {
        e.store
            .list(f)
            .unwrap()
            .into_iter()
            .map(|s| s.image.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(&ListFilters::default()),
        vec![dangling.clone(), tagged.clone()],
        "newest first"
    );
    assert_eq!(ids(&args(&[("dangling", "true")])), vec![dangling.clone()]);
    assert_eq!(ids(&args(&[("dangling", "false")])), vec![tagged.clone()]);
    assert_eq!(ids(&args(&[("label", "tier=front")])), vec![tagged.clone()]);
    assert_eq!(ids(&args(&[("label", "tier")])).len(), 2);
    assert_eq!(ids(&args(&[("reference", "web/*")])), vec![tagged.clone()]);
    assert_eq!(
        ids(&args(&[("reference", "web/app:1.*")])),
        vec![tagged.clone()]
    );
    assert!(ids(&args(&[("reference", "other*")])).is_empty());
    assert_eq!(
        ids(&args(&[("before", dangling.hex())])),
        vec![tagged.clone()]
    );
    assert_eq!(
        ids(&args(&[("since", "web/app:1.0")])),
        vec![dangling.clone()]
    );
    let mut bad = BTreeMap::new();
    bad.insert("bogus".to_owned(), vec!["x".to_owned()]);
    assert_eq!(
        ListFilters::from_args(&bad).unwrap_err().to_string(),
        "invalid filter 'bogus'"
    );
}

#[test]
fn history_lists_steps_newest_first() {
    let e = env();
    let id = import(&e.store, &[("f", b"1234")], Some("h"), &[]);
    let h = e.store.history("h").unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].id, id.to_string());
    assert_eq!(h[0].tags, vec!["h:latest"]);
    assert_eq!(h[0].comment, "Imported from -");
    assert_eq!(h[0].size, e.store.get(&id).unwrap().size);
}

fn tar_entries(archive: &[u8]) -> BTreeMap<String, (u64, Vec<u8>)> {
    let mut out = BTreeMap::new();
    for entry in tar::Archive::new(archive).entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let mtime = entry.header().mtime().unwrap();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        out.insert(path, (mtime, data));
    }
    out
}

#[test]
fn save_writes_docker_and_oci_layouts_in_one_tar() {
    let e = env();
    let id = import(&e.store, &[("bin/x", b"binary")], Some("busybox:1.36"), &[]);
    let mut out = Vec::new();
    e.store.save(&["busybox:1.36".into()], &mut out).unwrap();
    let entries = tar_entries(&out);
    assert!(
        entries.values().all(|(mtime, _)| *mtime == 0),
        "timestamps are zeroed"
    );
    let manifest: serde_json::Value = serde_json::from_slice(&entries["manifest.json"].1).unwrap();
    let diff_id = e.store.get(&id).unwrap().config.diff_ids()[0].clone();
    assert_eq!(
        manifest,
        serde_json::json!([{
            "Config": format!("blobs/sha256/{}", id.hex()),
            "RepoTags": ["busybox:1.36"],
            "Layers": [format!("blobs/sha256/{}", diff_id.hex())],
        }])
    );
    let index: serde_json::Value = serde_json::from_slice(&entries["index.json"].1).unwrap();
    let desc = &index["manifests"][0];
    assert_eq!(
        desc["annotations"]["io.containerd.image.name"],
        "docker.io/library/busybox:1.36"
    );
    assert_eq!(
        desc["annotations"]["org.opencontainers.image.ref.name"],
        "1.36"
    );
    assert_eq!(
        entries["oci-layout"].1,
        br#"{"imageLayoutVersion":"1.0.0"}"#
    );
    // Every blob is named by its digest.
    for (path, (_, data)) in &entries {
        if let Some(hex) = path.strip_prefix("blobs/sha256/").filter(|h| !h.is_empty()) {
            assert_eq!(Digest::of(data).hex(), hex, "{path}");
        }
    }
    let manifest_digest: Digest = desc["digest"].as_str().unwrap().parse().unwrap();
    assert!(entries.contains_key(&format!("blobs/sha256/{}", manifest_digest.hex())));
}

#[test]
fn save_then_load_into_a_fresh_store_keeps_ids_and_tags() {
    let e = env();
    let a = import(&e.store, &[("a", b"A")], Some("repo/a:1"), &["CMD [\"a\"]"]);
    let b = import(&e.store, &[("b", b"B")], None, &[]);
    e.store.tag("repo/a:1", "quay.io/x/a:2").unwrap();
    let mut out = Vec::new();
    e.store
        .save(
            &["repo/a".into(), "quay.io/x/a:2".into(), b.to_string()],
            &mut out,
        )
        .unwrap();

    let fresh = env();
    let loaded = fresh.store.load(&mut &out[..]).unwrap();
    let messages: Vec<String> = loaded.iter().map(LoadedImage::message).collect();
    assert_eq!(
        messages,
        vec![
            "Loaded image: repo/a:1".to_owned(),
            "Loaded image: quay.io/x/a:2".to_owned(),
            format!("Loaded image ID: {b}"),
        ]
    );
    assert_eq!(fresh.store.resolve("repo/a:1").unwrap().id, a);
    assert_eq!(
        fresh.store.get(&b).unwrap().config.diff_ids(),
        e.store.get(&b).unwrap().config.diff_ids()
    );
    // Only blobs images use remain: two configs and two layers (no OCI manifests).
    assert_eq!(fresh.content.list().unwrap().len(), 4);
    assert_eq!(fresh.layers.chains.lock().unwrap().len(), 2);

    // A gzip-compressed archive loads the same way.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&out).unwrap();
    let third = env();
    let loaded = third.store.load(&mut &gz.finish().unwrap()[..]).unwrap();
    assert_eq!(loaded.len(), 3);
}

#[test]
fn load_of_a_pure_oci_layout_uses_index_annotations() {
    let e = env();
    let id = import(&e.store, &[("a", b"A")], Some("oci/only:v1"), &[]);
    let mut out = Vec::new();
    e.store.save(&["oci/only:v1".into()], &mut out).unwrap();
    let stripped = rewrite_tar(
        &out,
        |path| path != "manifest.json" && path != "repositories",
        |_, d| d,
    );
    let fresh = env();
    let loaded = fresh.store.load(&mut &stripped[..]).unwrap();
    assert_eq!(loaded[0].message(), "Loaded image: oci/only:v1");
    assert_eq!(loaded[0].id, id);
}

fn rewrite_tar(
    archive: &[u8],
    keep: impl Fn(&str) -> bool,
    edit: impl Fn(&str, Vec<u8>) -> Vec<u8>,
) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, (_, data)) in tar_entries(archive) {
        if !keep(&path) || path.ends_with('/') {
            continue;
        }
        let data = edit(&path, data);
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, &path, &data[..]).unwrap();
    }
    b.into_inner().unwrap()
}

#[test]
fn load_rejects_escaping_paths_and_tampered_blobs() {
    let e = env();
    import(&e.store, &[("a", b"A")], Some("t"), &[]);
    let mut out = Vec::new();
    e.store.save(&["t".into()], &mut out).unwrap();

    // A blob whose bytes do not match its name.
    let tampered = rewrite_tar(
        &out,
        |_| true,
        |path, data| {
            if path.starts_with("blobs/sha256/") && data.len() > 1000 {
                vec![0u8; data.len()]
            } else {
                data
            }
        },
    );
    let fresh = env();
    let err = fresh.store.load(&mut &tampered[..]).unwrap_err();
    assert!(err.to_string().contains("digest mismatch"), "{err}");
    assert!(fresh.store.all().unwrap().is_empty());

    // A manifest pointing outside the archive.
    let escaping = rewrite_tar(
        &out,
        |_| true,
        |path, data| {
            if path == "manifest.json" {
                let s = String::from_utf8(data).unwrap();
                s.replacen("blobs/sha256/", "../../etc/", 1).into_bytes()
            } else {
                data
            }
        },
    );
    let err = env().store.load(&mut &escaping[..]).unwrap_err();
    assert!(err.to_string().contains("unsafe path"), "{err}");
    assert_eq!(err.kind(), ErrorKind::InvalidParameter);

    // An entry with an absolute name (written raw: the tar crate refuses to build one).
    let mut h = tar::Header::new_old();
    h.as_old_mut().name[..10].copy_from_slice(b"/etc/evil\0");
    h.set_size(0);
    h.set_cksum();
    let mut raw = h.as_bytes().to_vec();
    raw.extend_from_slice(&[0u8; 1024]);
    let err = env().store.load(&mut &raw[..]).unwrap_err();
    assert!(err.to_string().contains("unsafe path"), "{err}");
}

// ---- skopeo interoperability (skips loudly when skopeo is absent) ----

fn skopeo() -> Option<&'static str> {
    let ok = Command::new("skopeo")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("!!!!! SKIPPED: skopeo not installed (apt-get install -y skopeo) !!!!!");
    }
    ok.then_some("skopeo")
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn unpack(archive: &[u8], dir: &Path) {
    tar::Archive::new(archive).unpack(dir).unwrap();
}

#[test]
fn skopeo_reads_our_docker_archive() {
    let Some(sk) = skopeo() else { return };
    let e = env();
    let id = import(
        &e.store,
        &[("hello", b"world")],
        Some("interop/saved:v1"),
        &[],
    );
    let path = e.dir.path().join("saved.tar");
    let mut f = std::fs::File::create(&path).unwrap();
    e.store.save(&["interop/saved:v1".into()], &mut f).unwrap();
    drop(f);
    let out = run(Command::new(sk).args([
        "inspect",
        "--config",
        &format!("docker-archive:{}", path.display()),
    ]));
    let config: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        config["rootfs"]["diff_ids"][0],
        e.store.get(&id).unwrap().config.diff_ids()[0].to_string()
    );
    // And its OCI half is a valid OCI layout for skopeo too.
    let dir = e.dir.path().join("layout");
    unpack(&std::fs::read(&path).unwrap(), &dir);
    let out =
        run(Command::new(sk).args(["inspect", "--raw", &format!("oci:{}:v1", dir.display())]));
    assert!(out.contains(&id.to_string()), "{out}");
}

#[test]
fn load_archives_written_by_skopeo() {
    let Some(sk) = skopeo() else { return };
    let e = env();
    let id = import(
        &e.store,
        &[("etc/os-release", b"ID=test\n")],
        Some("src/img:v1"),
        &["CMD [\"/hello\"]"],
    );
    let mut saved = Vec::new();
    e.store.save(&["src/img:v1".into()], &mut saved).unwrap();
    let layout = e.dir.path().join("layout");
    unpack(&saved, &layout);
    let src = format!("oci:{}:v1", layout.display());

    let docker_archive = e.dir.path().join("skopeo-docker.tar");
    run(Command::new(sk).args([
        "copy",
        &src,
        &format!("docker-archive:{}:skopeo/made:d1", docker_archive.display()),
    ]));
    let oci_archive = e.dir.path().join("skopeo-oci.tar");
    run(Command::new(sk).args([
        "copy",
        &src,
        &format!("oci-archive:{}:skopeo/made:o1", oci_archive.display()),
    ]));

    let fresh = env();
    let loaded = fresh
        .store
        .load(&mut std::fs::File::open(&docker_archive).unwrap())
        .unwrap();
    assert_eq!(
        loaded.iter().map(LoadedImage::message).collect::<Vec<_>>(),
        vec!["Loaded image: skopeo/made:d1"]
    );
    // skopeo keeps the config bytes, so the image ID is unchanged.
    assert_eq!(loaded[0].id, id);

    let loaded = fresh
        .store
        .load(&mut std::fs::File::open(&oci_archive).unwrap())
        .unwrap();
    assert_eq!(loaded[0].id, id);
    assert_eq!(loaded[0].message(), "Loaded image: skopeo/made:o1");
    assert_eq!(
        fresh.store.resolve("skopeo/made:o1").unwrap().repo_tags,
        vec!["skopeo/made:d1", "skopeo/made:o1"]
    );
}

#[test]
fn reopen_repairs_what_a_crash_left() {
    let e = env();
    let id = import(&e.store, &[("f", b"x")], Some("kept"), &[]);
    let image_dir = e.dir.path().join("image");
    // A temp file from an interrupted atomic write, a reference to a record that never
    // reached the disk, and a damaged record.
    std::fs::write(image_dir.join(".repositories.json.tmp-0011"), b"{\"refs\":").unwrap();
    let mut repos: serde_json::Value =
        serde_json::from_slice(&std::fs::read(image_dir.join("repositories.json")).unwrap())
            .unwrap();
    repos["refs"]["docker.io/library/ghost:latest"] =
        serde_json::json!(Digest::of(b"ghost").to_string());
    std::fs::write(
        image_dir.join("repositories.json"),
        serde_json::to_vec(&repos).unwrap(),
    )
    .unwrap();
    std::fs::write(image_dir.join("images").join("broken.json"), b"{\"id\":").unwrap();

    let store = reopen(&e);
    assert!(!image_dir.join(".repositories.json.tmp-0011").exists());
    assert_eq!(store.resolve("kept").unwrap().id, id);
    assert_eq!(
        store.resolve("ghost").unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(store.all().unwrap().len(), 1);
}

#[test]
fn failed_load_leaves_no_blobs_behind() {
    let e = env();
    import(&e.store, &[("a", b"A")], Some("t"), &[]);
    let mut out = Vec::new();
    e.store.save(&["t".into()], &mut out).unwrap();
    // Cut inside the header after the blobs: they were stored, then the read fails.
    let docs_start = out.windows(10).position(|w| w == b"index.json").unwrap();
    let cut = &out[..docs_start + 100];
    let fresh = env();
    assert!(fresh.store.load(&mut &cut[..]).is_err());
    assert!(fresh.content.list().unwrap().is_empty());
}

#[test]
fn commit_adds_the_layer_history_and_container_config() {
    let e = env();
    let base = import(&e.store, &[("etc/hostname", b"box\n")], Some("base"), &[]);
    let layer = rootfs_tar(&[("x", b"changed")]);
    let diff_id = e.store.put_layer(&mut |w| w.write_all(&layer)).unwrap();
    assert_eq!(diff_id, Digest::of(&layer));
    let opts = CommitOptions {
        parent: Some(base.clone()),
        author: "me <me@example.com>".into(),
        comment: "a message".into(),
        config: serde_json::json!({"Cmd": ["cat", "/x"]}),
        container_config: serde_json::json!({"Cmd": ["sh", "-c", "echo changed > /x"]}),
        container_id: "c0ffee".into(),
        created_by: "sh -c echo changed > /x".into(),
        os: "linux".into(),
    };
    let id = e.store.commit(&diff_id, &opts).unwrap();
    let img = e.store.get(&id).unwrap();
    let base_img = e.store.get(&base).unwrap();
    assert_eq!(img.config.diff_ids().len(), 2);
    assert_eq!(img.config.diff_ids()[0], base_img.config.diff_ids()[0]);
    assert_eq!(img.config.diff_ids()[1], diff_id);
    assert_eq!(img.size, base_img.size + layer.len() as u64);
    let raw = img.config.raw();
    assert_eq!(raw["author"], "me <me@example.com>");
    assert_eq!(raw["container"], "c0ffee");
    assert_eq!(raw["config"]["Cmd"], serde_json::json!(["cat", "/x"]));
    assert_eq!(
        raw["container_config"]["Cmd"],
        serde_json::json!(["sh", "-c", "echo changed > /x"])
    );
    assert!(
        raw.get("comment").is_none(),
        "dockerd keeps it in history only"
    );
    let h = e.store.history(&id.to_string()).unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(h[0].created_by, "sh -c echo changed > /x");
    assert_eq!(h[0].comment, "a message");
    assert_eq!(h[0].size, layer.len() as u64);
    assert_eq!(h[1].comment, "Imported from -");
    assert!(e
        .layers
        .exists(&ChainId::of_stack(img.config.diff_ids()).unwrap()));
}

#[test]
fn committing_no_changes_adds_an_empty_history_entry_and_no_layer() {
    let e = env();
    let base = import(&e.store, &[("f", b"1")], None, &[]);
    let diff_id = e
        .store
        .put_layer(&mut |w| w.write_all(&[0u8; 1024]))
        .unwrap();
    assert_eq!(diff_id.to_string(), EMPTY_LAYER_DIFF_ID);
    let id = e
        .store
        .commit(
            &diff_id,
            &CommitOptions {
                parent: Some(base.clone()),
                ..Default::default()
            },
        )
        .unwrap();
    let img = e.store.get(&id).unwrap();
    assert_eq!(
        img.config.diff_ids(),
        e.store.get(&base).unwrap().config.diff_ids()
    );
    let history = img.config.raw()["history"].as_array().unwrap().clone();
    assert_eq!(history.len(), 2);
    assert_eq!(history[1]["empty_layer"], true);
    assert_eq!(e.store.history(&id.to_string()).unwrap()[0].size, 0);
}
