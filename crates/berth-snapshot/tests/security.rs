//! Crafted layers that try to write outside the layer directory. Each must be refused whole
//! (kind InvalidParameter), leave no layer behind, and leave a sentinel beside the store
//! untouched. Runs as root (device nodes, chown).

mod common;

use berth_core::ErrorKind;
use berth_snapshot::{Driver, LayerStore};
use common::{snapshot_tree, Kind, LayerTar};

struct Fixture {
    _tmp: tempfile::TempDir,
    root: std::path::PathBuf,
    sentinel: std::path::PathBuf,
    store: LayerStore,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let sentinel = tmp.path().join("sentinel");
    std::fs::create_dir_all(&sentinel).unwrap();
    std::fs::write(sentinel.join("keep"), b"precious").unwrap();
    let store = LayerStore::open_with_driver(&root, Driver::Overlay2).unwrap();
    Fixture {
        _tmp: tmp,
        root,
        sentinel,
        store,
    }
}

/// Applies `layer`, expects a refusal, and checks nothing changed outside the store.
fn assert_refused(layer: Vec<u8>) {
    assert_refused_with(|_| layer);
}

/// As [`assert_refused`], for layers that name the sentinel directory's absolute path.
fn assert_refused_with(make_layer: impl FnOnce(&std::path::Path) -> Vec<u8>) {
    let f = fixture();
    let layer = make_layer(&f.sentinel);
    let outside_before = snapshot_tree(f.root.parent().unwrap())
        .into_iter()
        .filter(|(p, _)| !p.starts_with("root"))
        .collect::<Vec<_>>();
    let err = f
        .store
        .apply_layer(None, &layer[..])
        .expect_err("layer must be refused");
    assert_eq!(err.kind(), ErrorKind::InvalidParameter, "{err}");
    assert!(f.store.list_layers().unwrap().is_empty());
    let leftovers: Vec<_> = std::fs::read_dir(f.root.join("overlay"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "partial layer left: {leftovers:?}");
    let outside_after = snapshot_tree(f.root.parent().unwrap())
        .into_iter()
        .filter(|(p, _)| !p.starts_with("root"))
        .collect::<Vec<_>>();
    assert_eq!(outside_before, outside_after);
    assert_eq!(std::fs::read(f.sentinel.join("keep")).unwrap(), b"precious");
    assert_eq!(std::fs::read_dir(&f.sentinel).unwrap().count(), 1);
}

#[test]
fn dotdot_name_is_refused() {
    assert_refused(LayerTar::new().file("../../sentinel/evil", b"x").finish());
}

#[test]
fn dotdot_inside_name_is_refused() {
    assert_refused(
        LayerTar::new()
            .dir("a")
            .file("a/../../../sentinel/keep", b"x")
            .finish(),
    );
}

#[test]
fn absolute_name_is_refused() {
    assert_refused(LayerTar::new().file("/tmp/berth-evil", b"x").finish());
    assert!(!std::path::Path::new("/tmp/berth-evil").exists());
}

#[test]
fn write_through_planted_symlink_is_refused() {
    assert_refused_with(|sentinel| {
        let target = sentinel.display().to_string();
        LayerTar::new()
            .entry("a", Kind::Symlink(&target), 0o777)
            .file("a/keep", b"overwritten")
            .finish()
    });
    assert_refused_with(|sentinel| {
        let target = sentinel.display().to_string();
        LayerTar::new()
            .entry("a", Kind::Symlink(&target), 0o777)
            .file("a/new-file", b"planted")
            .finish()
    });
}

#[test]
fn hardlink_through_symlink_to_sentinel_is_refused() {
    assert_refused_with(|sentinel| {
        let target = sentinel.display().to_string();
        LayerTar::new()
            .entry("s", Kind::Symlink(&target), 0o777)
            .entry("h", Kind::Hardlink("s/keep"), 0o644)
            .finish()
    });
}

#[test]
fn symlink_dotdot_chain_is_refused() {
    assert_refused(
        LayerTar::new()
            .entry("up", Kind::Symlink(".."), 0o777)
            .entry("up2", Kind::Symlink("up/.."), 0o777)
            .file("up2/up/sentinel/evil", b"x")
            .finish(),
    );
}

#[test]
fn hardlink_to_outside_is_refused() {
    assert_refused(
        LayerTar::new()
            .entry("h", Kind::Hardlink("../../sentinel/keep"), 0o644)
            .finish(),
    );
    assert_refused(
        LayerTar::new()
            .entry("h", Kind::Hardlink("/etc/passwd"), 0o644)
            .finish(),
    );
}

#[test]
fn hardlink_through_symlink_is_refused() {
    assert_refused(
        LayerTar::new()
            .entry("s", Kind::Symlink("/etc"), 0o777)
            .entry("h", Kind::Hardlink("s/passwd"), 0o644)
            .finish(),
    );
}

#[test]
fn hardlink_to_missing_lower_file_is_refused() {
    assert_refused(
        LayerTar::new()
            .entry("h", Kind::Hardlink("bin/sh"), 0o644)
            .finish(),
    );
}

#[test]
fn whiteout_of_dotdot_is_refused() {
    assert_refused(LayerTar::new().file(".wh...", b"").finish());
    assert_refused(LayerTar::new().file("../.wh.x", b"").finish());
    assert_refused(LayerTar::new().file(".wh.../x", b"").finish());
}

#[test]
fn device_node_is_created_inside_the_layer_only() {
    let f = fixture();
    let layer = LayerTar::new()
        .entry("dev/null", Kind::Char(1, 3), 0o666)
        .entry("fifo", Kind::Fifo, 0o600)
        .finish();
    let info = f.store.apply_layer(None, &layer[..]).unwrap();
    let diff = f
        .root
        .join("overlay")
        .join(info.chain_id.digest().hex())
        .join("diff");
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let m = std::fs::symlink_metadata(diff.join("dev/null")).unwrap();
    assert!(m.file_type().is_char_device());
    assert_eq!(m.rdev(), nix::sys::stat::makedev(1, 3));
    assert!(std::fs::symlink_metadata(diff.join("fifo"))
        .unwrap()
        .file_type()
        .is_fifo());
    assert_eq!(std::fs::read_dir(&f.sentinel).unwrap().count(), 1);
}
