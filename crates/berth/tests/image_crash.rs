//! Crash consistency of the image store: `kill -9` of the daemon in the middle of loading
//! a large image, repeated. After each restart the store opens, the image is either absent
//! or complete, no orphan blob or layer directory is left, and other images are intact.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use berth_testkit::TestDaemon;

const BIN: &str = env!("CARGO_BIN_EXE_berth");

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn entries(dir: &Path, skip: &[&str]) -> usize {
    std::fs::read_dir(dir)
        .map(|r| {
            r.filter_map(Result::ok)
                .filter(|e| !skip.contains(&e.file_name().to_string_lossy().as_ref()))
                .count()
        })
        .unwrap_or(0)
}

/// (blobs, layer directories) in the data root.
fn store_counts(data_root: &Path) -> (usize, usize) {
    let blobs = entries(&data_root.join("content/blobs/sha256"), &[]);
    let skip = ["l", "active"];
    let layers =
        entries(&data_root.join("overlay"), &skip) + entries(&data_root.join("vfs"), &skip);
    (blobs, layers)
}

#[test]
fn kill_9_during_load_leaves_the_image_absent_or_complete_and_no_orphans() {
    let mut d = TestDaemon::start(BIN);
    let busybox = d.load_busybox();

    // A large image: 96 MiB of incompressible data in one layer.
    let root = d.dir().join("big-root");
    std::fs::create_dir_all(&root).unwrap();
    for i in 0..3 {
        let out = Command::new("head")
            .args(["-c", "33554432", "/dev/urandom"])
            .output()
            .unwrap();
        std::fs::write(root.join(format!("blob{i}")), out.stdout).unwrap();
    }
    let rootfs_tar = d.dir().join("big-root.tar");
    ok(Command::new("tar")
        .arg("-C")
        .arg(&root)
        .arg("-cf")
        .arg(&rootfs_tar)
        .arg(".")
        .output()
        .unwrap());
    std::fs::remove_dir_all(&root).unwrap();
    ok(d.docker(&["import", rootfs_tar.to_str().unwrap(), "big:1"]));
    let big_id = ok(d.docker(&["image", "inspect", "big:1", "--format", "{{.Id}}"]))
        .trim()
        .to_owned();
    let archive = d.dir().join("big.tar");
    ok(d.docker(&["save", "-o", archive.to_str().unwrap(), "big:1"]));
    ok(d.docker(&["rmi", "big:1"]));
    let baseline = store_counts(&d.data_root);

    let mut outcomes = Vec::new();
    for round in 0..4u64 {
        let mut load = Command::new(berth_testkit::DOCKER_CLI)
            .args(["-H", &d.host(), "load", "-i", archive.to_str().unwrap()])
            .env("DOCKER_CONFIG", d.dir().join("docker-config"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Early, middle, late, and (last round) most likely after the load completed.
        std::thread::sleep(Duration::from_millis(
            [150, 500, 1200, 6000][round as usize],
        ));
        d.kill9();
        let _ = load.wait();
        d.launch()
            .expect("the daemon restarts after kill -9 during a load");

        // Other images are intact.
        let id = ok(d.docker(&["image", "inspect", "busybox", "--format", "{{.Id}}"]));
        assert_eq!(id.trim(), busybox);
        let bb = d.dir().join("bb.tar");
        ok(d.docker(&["save", "-o", bb.to_str().unwrap(), "busybox"]));
        std::fs::remove_file(&bb).unwrap();

        // The big image is absent or complete.
        let inspect = d.docker(&["image", "inspect", "big:1", "--format", "{{.Id}}"]);
        if inspect.status.success() {
            assert_eq!(String::from_utf8_lossy(&inspect.stdout).trim(), big_id);
            let copy = d.dir().join("copy.tar");
            ok(d.docker(&["save", "-o", copy.to_str().unwrap(), "big:1"]));
            assert!(std::fs::metadata(&copy).unwrap().len() > 96 << 20);
            std::fs::remove_file(&copy).unwrap();
            ok(d.docker(&["rmi", "big:1"]));
            outcomes.push("complete");
        } else {
            outcomes.push("absent");
        }
        ok(d.docker(&["image", "prune", "-f"]));
        assert_eq!(
            store_counts(&d.data_root),
            baseline,
            "round {round}: orphan blobs or layers"
        );
    }
    eprintln!("load outcomes after kill -9: {outcomes:?}");
}
