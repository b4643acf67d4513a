//! `--userns-remap` in the layer store: layers are unpacked with owners shifted into the
//! subordinate range, snapshots belong to the remapped root, diffs come back with container
//! IDs, and an owner outside the range refuses the layer. Runs as root, on both drivers.

mod common;

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use berth_core::{IdMap, IdMapping};
use berth_snapshot::{mount_all, unmount, Driver, InitPaths, LayerStore};
use common::{Kind, LayerTar};

const BASE: u32 = 300_000;

fn mapping() -> IdMapping {
    let range = vec![IdMap {
        container_id: 0,
        host_id: BASE,
        size: 65536,
    }];
    IdMapping {
        uids: range.clone(),
        gids: range,
    }
}

fn each_driver(test: impl Fn(&LayerStore, &Path)) {
    for driver in [Driver::Overlay2, Driver::Vfs] {
        let tmp = tempfile::tempdir().unwrap();
        let store = LayerStore::open_with_driver(tmp.path(), driver)
            .unwrap()
            .with_id_mapping(mapping());
        test(&store, tmp.path());
    }
}

fn owned_layer() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, uid, gid) in [("root-file", 0u64, 0u64), ("user-file", 1000, 50)] {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(1);
        h.set_mode(0o644);
        h.set_uid(uid);
        h.set_gid(gid);
        b.append_data(&mut h, name, &b"x"[..]).unwrap();
    }
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    h.set_mode(0o777);
    h.set_uid(2);
    h.set_gid(3);
    b.append_link(&mut h, "link", "root-file").unwrap();
    b.into_inner().unwrap()
}

fn with_mounted(store: &LayerStore, key: &str, tmp: &Path, f: impl FnOnce(&Path)) {
    let target = tmp.join(format!("mnt-{key}"));
    std::fs::create_dir_all(&target).unwrap();
    mount_all(&store.mounts(key).unwrap(), &target).unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&target)));
    unmount(&target).unwrap();
    if let Err(p) = result {
        std::panic::resume_unwind(p);
    }
}

fn owner(p: &Path) -> (u32, u32) {
    let m = std::fs::symlink_metadata(p).unwrap();
    (m.uid(), m.gid())
}

#[test]
fn layers_unpack_shifted_and_snapshots_belong_to_the_remapped_root() {
    each_driver(|store, tmp| {
        let id = store
            .apply_layer(None, &owned_layer()[..])
            .unwrap()
            .chain_id;
        store.prepare("c", Some(&id)).unwrap();
        with_mounted(store, "c", tmp, |root| {
            assert_eq!(owner(&root.join("root-file")), (BASE, BASE));
            assert_eq!(owner(&root.join("user-file")), (BASE + 1000, BASE + 50));
            assert_eq!(owner(&root.join("link")), (BASE + 2, BASE + 3));
            // The container's `/` is its root's, so root inside can write there.
            assert_eq!(owner(root), (BASE, BASE));
        });
        // A snapshot with no parent is an empty root of the remapped root's too.
        store.prepare("empty", None).unwrap();
        with_mounted(store, "empty", tmp, |root| {
            assert_eq!(owner(root), (BASE, BASE))
        });
        for k in ["c", "empty"] {
            store.remove(k).unwrap();
        }
    });
}

#[test]
fn diffs_carry_container_ids_and_fail_on_an_unmapped_owner() {
    each_driver(|store, tmp| {
        let id = store
            .apply_layer(None, &LayerTar::new().dir("etc").finish()[..])
            .unwrap()
            .chain_id;
        store.prepare("w", Some(&id)).unwrap();
        with_mounted(store, "w", tmp, |root| {
            let f = root.join("etc/made");
            std::fs::write(&f, b"m").unwrap();
            std::os::unix::fs::chown(&f, Some(BASE + 7), Some(BASE + 8)).unwrap();
            std::fs::create_dir(root.join("dir")).unwrap();
            std::os::unix::fs::chown(root.join("dir"), Some(BASE), Some(BASE)).unwrap();
            std::os::unix::fs::symlink("made", root.join("etc/ln")).unwrap();
            std::os::unix::fs::lchown(root.join("etc/ln"), Some(BASE + 1), Some(BASE + 1)).unwrap();
        });
        let tar = store.diff("w", &InitPaths::default(), Vec::new()).unwrap();
        let mut owners = std::collections::BTreeMap::new();
        for e in tar::Archive::new(&tar[..]).entries().unwrap() {
            let e = e.unwrap();
            let h = e.header();
            owners.insert(
                String::from_utf8_lossy(&e.path_bytes()).into_owned(),
                (h.uid().unwrap(), h.gid().unwrap(), h.entry_type()),
            );
        }
        assert_eq!(owners["etc/made"], (7, 8, tar::EntryType::Regular));
        assert_eq!(owners["dir"], (0, 0, tar::EntryType::Directory));
        assert_eq!(owners["etc/ln"], (1, 1, tar::EntryType::Symlink));

        // A file whose owner has no container ID (host root's) cannot go into a layer.
        with_mounted(store, "w", tmp, |root| {
            std::os::unix::fs::chown(root.join("etc/made"), Some(0), Some(0)).unwrap();
        });
        let err = store
            .diff("w", &InitPaths::default(), Vec::new())
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "host ID 0 cannot be mapped to a container ID"
        );
        store.remove("w").unwrap();
    });
}

#[test]
fn an_owner_outside_the_range_refuses_the_layer() {
    each_driver(|store, _| {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(0);
        h.set_mode(0o644);
        h.set_uid(70_000);
        h.set_gid(0);
        b.append_data(&mut h, "far", &b""[..]).unwrap();
        let layer = b.into_inner().unwrap();
        let err = store.apply_layer(None, &layer[..]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "container ID 70000 cannot be mapped to a host ID"
        );
        assert!(store.list_layers().unwrap().is_empty());
    });
}

#[test]
fn overlay_whiteouts_belong_to_the_remapped_root() {
    let tmp = tempfile::tempdir().unwrap();
    let store = LayerStore::open_with_driver(tmp.path(), Driver::Overlay2)
        .unwrap()
        .with_id_mapping(mapping());
    let base = store
        .apply_layer(None, &LayerTar::new().file("gone", b"g").finish()[..])
        .unwrap();
    let top = store
        .apply_layer(
            Some(&base.chain_id),
            &LayerTar::new()
                .entry(".wh.gone", Kind::File(b""), 0o600)
                .finish()[..],
        )
        .unwrap();
    store.prepare("t", Some(&top.chain_id)).unwrap();
    with_mounted(&store, "t", tmp.path(), |root| {
        assert!(!root.join("gone").exists())
    });
    store.remove("t").unwrap();
}
