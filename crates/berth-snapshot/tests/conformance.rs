//! The snapshotter conformance suite (after containerd's core/snapshots/testsuite), run
//! against both drivers. Runs as root.

mod common;

use std::path::Path;

use berth_core::{ChainId, ErrorKind};
use berth_snapshot::{mount_all, unmount, ChangeKind, Driver, InitPaths, LayerStore};
use common::{snapshot_tree, Kind, LayerTar};

struct Mounted<'a>(&'a Path);

impl Drop for Mounted<'_> {
    fn drop(&mut self) {
        let _ = unmount(self.0);
    }
}

fn stack(store: &LayerStore, layers: &[Vec<u8>]) -> Option<ChainId> {
    let mut parent: Option<ChainId> = None;
    for l in layers {
        parent = Some(store.apply_layer(parent.as_ref(), &l[..]).unwrap().chain_id);
    }
    parent
}

fn base_layers() -> Vec<Vec<u8>> {
    vec![
        LayerTar::new()
            .dir("etc")
            .file("etc/hostname", b"base")
            .file("etc/gone", b"bye")
            .dir("opt")
            .file("opt/old", b"old")
            .entry("bin/tool", Kind::File(b"#!"), 0o4755)
            .finish(),
        LayerTar::new()
            .file("etc/.wh.gone", b"")
            .file("opt/.wh..wh..opq", b"")
            .file("opt/new", b"new")
            .file("etc/hostname", b"top")
            .finish(),
    ]
}

fn each_driver(test: impl Fn(&LayerStore, &Path)) {
    for driver in [Driver::Overlay2, Driver::Vfs] {
        let tmp = tempfile::tempdir().unwrap();
        let store = LayerStore::open_with_driver(tmp.path(), driver).unwrap();
        assert_eq!(store.driver(), driver);
        test(&store, tmp.path());
    }
}

fn read_in(store: &LayerStore, key: &str, tmp: &Path, mut check: impl FnMut(&Path)) {
    let target = tmp.join(format!("mnt-{key}"));
    std::fs::create_dir_all(&target).unwrap();
    mount_all(&store.mounts(key).unwrap(), &target).unwrap();
    let guard = Mounted(&target);
    check(&target);
    drop(guard);
}

#[test]
fn whiteouts_and_opaque_dirs_hide_lower_files() {
    each_driver(|store, tmp| {
        let top = stack(store, &base_layers());
        store.prepare("c1", top.as_ref()).unwrap();
        read_in(store, "c1", tmp, |root| {
            assert_eq!(std::fs::read(root.join("etc/hostname")).unwrap(), b"top");
            assert!(!root.join("etc/gone").exists());
            assert!(!root.join("opt/old").exists());
            assert_eq!(std::fs::read(root.join("opt/new")).unwrap(), b"new");
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(root.join("bin/tool"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o7777, 0o4755);
        });
        store.remove("c1").unwrap();
    });
}

#[test]
fn overlay_whiteouts_are_char_devices_and_opaque_xattrs() {
    let tmp = tempfile::tempdir().unwrap();
    let store = LayerStore::open_with_driver(tmp.path(), Driver::Overlay2).unwrap();
    let layers = base_layers();
    let base = store.apply_layer(None, &layers[0][..]).unwrap();
    let top = store
        .apply_layer(Some(&base.chain_id), &layers[1][..])
        .unwrap();
    let diff = tmp
        .path()
        .join("overlay")
        .join(top.chain_id.digest().hex())
        .join("diff");
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let wh = std::fs::symlink_metadata(diff.join("etc/gone")).unwrap();
    assert!(wh.file_type().is_char_device());
    assert_eq!((wh.rdev(), wh.uid(), wh.gid()), (0, 0, 0));
    assert!(!diff.join("etc/.wh.gone").exists());
    assert_eq!(
        xattr::get(diff.join("opt"), "trusted.overlay.opaque")
            .unwrap()
            .as_deref(),
        Some(&b"y"[..])
    );
    assert!(!diff.join("opt/.wh..wh..opq").exists());
}

#[test]
fn diff_id_and_chain_id_match_the_uncompressed_tar() {
    each_driver(|store, _| {
        let layers = base_layers();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &layers[0]).unwrap();
        let a = store.apply_layer(None, &gz.finish().unwrap()[..]).unwrap();
        assert_eq!(a.diff_id, berth_core::Digest::of(&layers[0]));
        let zst = zstd::encode_all(&layers[1][..], 3).unwrap();
        let b = store.apply_layer(Some(&a.chain_id), &zst[..]).unwrap();
        assert_eq!(b.diff_id, berth_core::Digest::of(&layers[1]));
        assert_eq!(b.chain_id, ChainId::next(Some(&a.chain_id), &b.diff_id));
        assert_eq!(
            store.layer(&b.chain_id).unwrap().parent,
            Some(a.chain_id.clone())
        );
        // Applying the same layer again is a no-op returning the same identity.
        assert_eq!(store.apply_layer(None, &layers[0][..]).unwrap(), a);
        assert_eq!(store.list_layers().unwrap().len(), 2);
    });
}

#[test]
fn remove_layer_refuses_while_referenced() {
    each_driver(|store, _| {
        let layers = base_layers();
        let a = store.apply_layer(None, &layers[0][..]).unwrap().chain_id;
        let b = store
            .apply_layer(Some(&a), &layers[1][..])
            .unwrap()
            .chain_id;
        assert_eq!(
            store.remove_layer(&a).unwrap_err().kind(),
            ErrorKind::Conflict
        );
        store.prepare("c", Some(&b)).unwrap();
        assert_eq!(
            store.prepare("c", Some(&b)).unwrap_err().kind(),
            ErrorKind::Conflict
        );
        assert_eq!(
            store.remove_layer(&b).unwrap_err().kind(),
            ErrorKind::Conflict
        );
        store.remove("c").unwrap();
        assert_eq!(store.mounts("c").unwrap_err().kind(), ErrorKind::NotFound);
        store.remove_layer(&b).unwrap();
        store.remove_layer(&a).unwrap();
        assert!(store.list_layers().unwrap().is_empty());
        assert_eq!(store.layer(&a).unwrap_err().kind(), ErrorKind::NotFound);
    });
}

#[test]
fn reopening_removes_unfinished_layers() {
    let tmp = tempfile::tempdir().unwrap();
    drop(LayerStore::open_with_driver(tmp.path(), Driver::Overlay2).unwrap());
    let half = tmp.path().join("overlay/.tmp-crashed/diff");
    std::fs::create_dir_all(&half).unwrap();
    std::os::unix::fs::symlink("../nothing/diff", tmp.path().join("overlay/l/DANGLING")).unwrap();
    let store = LayerStore::open_with_driver(tmp.path(), Driver::Overlay2).unwrap();
    assert!(!half.exists());
    assert!(std::fs::symlink_metadata(tmp.path().join("overlay/l/DANGLING")).is_err());
    assert!(store.list_layers().unwrap().is_empty());
}

#[test]
fn metadata_is_preserved() {
    each_driver(|store, tmp| {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(2);
        h.set_mode(0o2750);
        h.set_uid(1234);
        h.set_gid(5678);
        h.set_mtime(1_500_000_000);
        b.append_pax_extensions([
            (
                "SCHILY.xattr.security.capability",
                &[1u8, 0, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0][..],
            ),
            ("SCHILY.xattr.user.note", b"hi"),
            ("SCHILY.xattr.trusted.overlay.opaque", b"y"),
        ])
        .unwrap();
        b.append_data(&mut h, "ping", &b"ok"[..]).unwrap();
        let layer = b.into_inner().unwrap();
        let id = store.apply_layer(None, &layer[..]).unwrap().chain_id;
        store.prepare("m", Some(&id)).unwrap();
        read_in(store, "m", tmp, |root| {
            use std::os::unix::fs::MetadataExt;
            let m = std::fs::symlink_metadata(root.join("ping")).unwrap();
            assert_eq!(
                (m.mode() & 0o7777, m.uid(), m.gid(), m.mtime()),
                (0o2750, 1234, 5678, 1_500_000_000)
            );
            assert_eq!(
                xattr::get(root.join("ping"), "user.note")
                    .unwrap()
                    .as_deref(),
                Some(&b"hi"[..])
            );
            assert!(xattr::get(root.join("ping"), "security.capability")
                .unwrap()
                .is_some());
            assert!(xattr::get(root.join("ping"), "trusted.overlay.opaque")
                .unwrap()
                .is_none());
        });
        store.remove("m").unwrap();
    });
}

#[test]
fn hardlinks_and_symlinks_survive() {
    each_driver(|store, tmp| {
        let layer = LayerTar::new()
            .file("a", b"shared")
            .entry("b", Kind::Hardlink("a"), 0o644)
            .entry("s", Kind::Symlink("/etc/passwd"), 0o777)
            .finish();
        let id = store.apply_layer(None, &layer[..]).unwrap().chain_id;
        store.prepare("h", Some(&id)).unwrap();
        read_in(store, "h", tmp, |root| {
            use std::os::unix::fs::MetadataExt;
            let (a, b) = (
                std::fs::metadata(root.join("a")).unwrap(),
                std::fs::metadata(root.join("b")).unwrap(),
            );
            assert_eq!(a.ino(), b.ino());
            assert_eq!(
                std::fs::read_link(root.join("s")).unwrap(),
                Path::new("/etc/passwd")
            );
        });
        store.remove("h").unwrap();
    });
}

#[test]
fn diff_round_trip_reproduces_the_tree() {
    each_driver(|store, tmp| {
        let parent = stack(store, &base_layers());
        store.prepare("w", parent.as_ref()).unwrap();
        read_in(store, "w", tmp, |root| {
            std::fs::write(root.join("etc/hostname"), b"changed").unwrap();
            std::fs::remove_file(root.join("opt/new")).unwrap();
            std::fs::create_dir_all(root.join("var/lib")).unwrap();
            std::fs::write(root.join("var/lib/data"), b"d").unwrap();
            std::fs::hard_link(root.join("var/lib/data"), root.join("var/lib/data2")).unwrap();
            std::fs::remove_dir_all(root.join("bin")).unwrap();
            std::fs::create_dir(root.join("bin")).unwrap();
            std::fs::write(root.join("bin/fresh"), b"f").unwrap();
        });
        let changes = store.changes("w", &InitPaths::default()).unwrap();
        let find = |p: &str| changes.iter().find(|c| c.path == p).map(|c| c.kind);
        assert_eq!(find("/etc/hostname"), Some(ChangeKind::Modified));
        assert_eq!(find("/opt/new"), Some(ChangeKind::Deleted));
        assert_eq!(find("/var/lib/data"), Some(ChangeKind::Added));
        let tar1 = store.diff("w", &InitPaths::default(), Vec::new()).unwrap();
        let tar2 = store.diff("w", &InitPaths::default(), Vec::new()).unwrap();
        assert_eq!(tar1, tar2, "diff output must be deterministic");

        // Applying the diff on the parent gives the same tree as the container's.
        let applied = store
            .apply_layer(parent.as_ref(), &tar1[..])
            .unwrap()
            .chain_id;
        store.prepare("check", Some(&applied)).unwrap();
        let mut want = Vec::new();
        read_in(store, "w", tmp, |root| want = snapshot_tree(root));
        let mut got = Vec::new();
        read_in(store, "check", tmp, |root| got = snapshot_tree(root));
        let ignore_dirs = |v: Vec<(String, String)>| {
            v.into_iter()
                .filter(|(_, m)| !m.starts_with("mode=4"))
                .collect::<Vec<_>>()
        };
        assert_eq!(ignore_dirs(got), ignore_dirs(want));
        for k in ["w", "check"] {
            store.remove(k).unwrap();
        }
    });
}

#[test]
fn changes_list_exactly_what_docker_diff_lists() {
    each_driver(|store, tmp| {
        let parent = stack(store, &base_layers());
        store.prepare("d", parent.as_ref()).unwrap();
        assert!(store
            .changes("d", &InitPaths::default())
            .unwrap()
            .is_empty());
        read_in(store, "d", tmp, |root| {
            std::fs::write(root.join("etc/hostname"), b"changed").unwrap();
            std::fs::remove_file(root.join("opt/new")).unwrap();
            std::fs::create_dir_all(root.join("var/lib")).unwrap();
            std::fs::write(root.join("var/lib/data"), b"d").unwrap();
            // Replaced whole: an opaque directory over the lower one.
            std::fs::remove_dir_all(root.join("bin")).unwrap();
            std::fs::create_dir(root.join("bin")).unwrap();
            std::fs::write(root.join("bin/fresh"), b"f").unwrap();
            // Made and removed again: no trace.
            std::fs::write(root.join("etc/temp"), b"t").unwrap();
            std::fs::remove_file(root.join("etc/temp")).unwrap();
        });
        let got: Vec<String> = store
            .changes("d", &InitPaths::default())
            .unwrap()
            .iter()
            .map(|c| format!("{} {}", c.kind.letter(), c.path))
            .collect();
        assert_eq!(
            got,
            [
                "C /bin",
                "A /bin/fresh",
                "D /bin/tool",
                "C /etc",
                "C /etc/hostname",
                "C /opt",
                "D /opt/new",
                "A /var",
                "A /var/lib",
                "A /var/lib/data",
            ],
            "{:?}",
            store.driver()
        );
        store.remove("d").unwrap();
    });
}

#[test]
fn init_paths_are_neither_changes_nor_in_the_diff() {
    each_driver(|store, tmp| {
        let parent = stack(store, &base_layers());
        store.prepare("i", parent.as_ref()).unwrap();
        // What a runtime makes as mount targets: dockerd keeps them in its init layer.
        read_in(store, "i", tmp, |root| {
            std::fs::write(root.join("etc/hosts"), b"").unwrap();
            std::fs::create_dir_all(root.join("dev/pts")).unwrap();
            std::fs::create_dir(root.join("proc")).unwrap();
        });
        let init = InitPaths::new(["/etc/hosts", "/dev/pts", "/proc", "/sys"]);
        assert!(store.changes("i", &init).unwrap().is_empty());
        let tar = store.diff("i", &init, Vec::new()).unwrap();
        assert!(
            tar == vec![0u8; 1024],
            "{:?}: not the empty layer",
            store.driver()
        );
        // Without them declared, they are plain additions.
        assert!(!store
            .changes("i", &InitPaths::default())
            .unwrap()
            .is_empty());
        read_in(store, "i", tmp, |root| {
            std::fs::write(root.join("dev/mine"), b"m").unwrap();
        });
        let got: Vec<String> = store
            .changes("i", &init)
            .unwrap()
            .iter()
            .map(|c| format!("{} {}", c.kind.letter(), c.path))
            .collect();
        assert_eq!(got, ["C /dev", "A /dev/mine"]);
        let tar = store.diff("i", &init, Vec::new()).unwrap();
        let names: Vec<String> = tar::Archive::new(&tar[..])
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(names, ["dev", "dev/mine"], "{:?}", store.driver());
        store.remove("i").unwrap();
    });
}

#[test]
fn an_unchanged_snapshot_diffs_to_the_empty_layer() {
    each_driver(|store, _| {
        let parent = stack(store, &base_layers());
        store.prepare("e", parent.as_ref()).unwrap();
        let tar = store.diff("e", &InitPaths::default(), Vec::new()).unwrap();
        assert!(
            tar == vec![0u8; 1024],
            "{:?}: not the empty layer",
            store.driver()
        );
        store.remove("e").unwrap();
    });
}

#[test]
fn sizes_are_apparent_file_bytes_as_dockerd_counts_them() {
    each_driver(|store, tmp| {
        let layer = LayerTar::new()
            .dir("d")
            .file("d/a", &[1u8; 3000])
            .file("b", &[2u8; 500])
            .finish();
        let id = store.apply_layer(None, &layer[..]).unwrap().chain_id;
        assert_eq!(store.layer_size(&id).unwrap(), 3500);
        let top = LayerTar::new().file("c", &[3u8; 20]).finish();
        let top = store.apply_layer(Some(&id), &top[..]).unwrap().chain_id;
        assert_eq!(store.layer_size(&top).unwrap(), 20, "{:?}", store.driver());
        store.prepare("s", Some(&top)).unwrap();
        assert_eq!(store.snapshot_size("s").unwrap(), 0);
        read_in(store, "s", tmp, |root| {
            std::fs::write(root.join("new"), vec![0u8; 12345]).unwrap();
            std::fs::create_dir(root.join("newdir")).unwrap();
            std::fs::write(root.join("newdir/x"), b"xyz").unwrap();
        });
        assert_eq!(store.snapshot_size("s").unwrap(), 12348);
        store.remove("s").unwrap();
    });
}

#[test]
fn deep_image_of_128_layers_mounts() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("data");
    let store = LayerStore::open_with_driver(&root, Driver::Overlay2).unwrap();
    let mut parent = None;
    for i in 0..128 {
        let layer = LayerTar::new()
            .file("which", format!("layer {i}").as_bytes())
            .file(&format!("only-{i}"), b"x")
            .finish();
        parent = Some(
            store
                .apply_layer(parent.as_ref(), &layer[..])
                .unwrap()
                .chain_id,
        );
    }
    let mounts = store.prepare("deep", parent.as_ref()).unwrap();
    let opts: usize = mounts[0].options.iter().map(|o| o.len() + 1).sum();
    assert!(
        opts > 4096,
        "test must exercise the long-option path ({opts} bytes)"
    );
    read_in(&store, "deep", tmp.path(), |r| {
        assert_eq!(std::fs::read(r.join("which")).unwrap(), b"layer 127");
        assert!(r.join("only-0").exists() && r.join("only-127").exists());
    });
    store.remove("deep").unwrap();
}

#[test]
fn open_probe_picks_a_driver() {
    let tmp = tempfile::tempdir().unwrap();
    let store = LayerStore::open(tmp.path()).unwrap();
    // On this ext4 host overlay works; on an overlay root the copy driver takes over.
    let on_overlay = nix::sys::statfs::statfs(tmp.path())
        .unwrap()
        .filesystem_type()
        == nix::sys::statfs::OVERLAYFS_SUPER_MAGIC;
    let want = if on_overlay {
        Driver::Vfs
    } else {
        Driver::Overlay2
    };
    assert_eq!(store.driver(), want);
    assert!(std::fs::read_dir(tmp.path()).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with(".overlay-probe")));
}

#[test]
fn usage_counts_layer_and_snapshot_bytes() {
    each_driver(|store, tmp| {
        let big = vec![7u8; 256 << 10];
        let layer = LayerTar::new().file("blob", &big).finish();
        let id = store.apply_layer(None, &layer[..]).unwrap().chain_id;
        assert!(store.layer_usage(&id).unwrap() >= big.len() as u64);
        store.prepare("u", Some(&id)).unwrap();
        let before = store.snapshot_usage("u").unwrap();
        read_in(store, "u", tmp, |root| {
            std::fs::write(root.join("new"), &big).unwrap()
        });
        let after = store.snapshot_usage("u").unwrap();
        assert!(after >= before + big.len() as u64, "{before} -> {after}");
        store.remove("u").unwrap();
        assert_eq!(
            store.snapshot_usage("u").unwrap_err().kind(),
            ErrorKind::NotFound
        );
    });
}

#[test]
fn a_volatile_overlay_mounts_again_and_keeps_its_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let store = LayerStore::open_with_driver(tmp.path(), Driver::Overlay2).unwrap();
    let top = stack(&store, &base_layers());
    store.prepare("v", top.as_ref()).unwrap();
    let mut mounts = store.mounts("v").unwrap();
    mounts[0].options.push("volatile".into());
    let target = tmp.path().join("mnt-v");
    std::fs::create_dir_all(&target).unwrap();
    // The kernel leaves a marker in the workdir that refuses a second mount; the mounter
    // clears it, so a container started twice (restart) mounts both times.
    for round in 0..2 {
        mount_all(&mounts, &target).unwrap();
        let guard = Mounted(&target);
        assert_eq!(std::fs::read(target.join("etc/hostname")).unwrap(), b"top");
        if round == 0 {
            std::fs::write(target.join("written"), b"kept").unwrap();
        } else {
            assert_eq!(std::fs::read(target.join("written")).unwrap(), b"kept");
        }
        drop(guard);
    }
    store.remove("v").unwrap();
}
