//! Base images for tests: the busybox rootfs tar is built once per machine and test run
//! (by `scripts/mkrootfs-busybox.sh`, under a file lock so parallel test processes share
//! it) and imported into each daemon that asks for it.

use std::fs::{self, File};
use std::path::PathBuf;
use std::process::Command;

use nix::fcntl::{Flock, FlockArg};

use crate::TestDaemon;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The busybox rootfs tar, built on first use.
pub fn busybox_tar() -> PathBuf {
    let dir = std::env::temp_dir().join("berth-testkit");
    fs::create_dir_all(&dir).expect("create testkit cache dir");
    let tar = dir.join("busybox.tar");
    let lock = File::create(dir.join("busybox.lock")).expect("create lock file");
    let _guard = Flock::lock(lock, FlockArg::LockExclusive)
        .map_err(|(_, e)| e)
        .expect("lock");
    if !tar.exists() {
        let tmp = dir.join("busybox.tar.tmp");
        let status = Command::new("bash")
            .arg(repo_root().join("scripts/mkrootfs-busybox.sh"))
            .arg(&tmp)
            .status()
            .expect("run mkrootfs-busybox.sh");
        assert!(status.success(), "mkrootfs-busybox.sh failed");
        fs::rename(&tmp, &tar).expect("publish busybox.tar");
    }
    tar
}

impl TestDaemon {
    /// Imports the busybox rootfs as `busybox:latest` with `CMD ["sh"]` (as Docker's
    /// busybox image has); returns the image ID.
    pub fn load_busybox(&self) -> String {
        let body = fs::read(busybox_tar()).expect("read busybox.tar");
        let r = self
            .http(
                "POST",
                "/images/create?fromSrc=-&repo=busybox&tag=latest&changes=CMD%20%5B%22sh%22%5D",
                &[("Content-Type", "application/x-tar")],
                &body,
            )
            .expect("import busybox");
        assert_eq!(r.status, 200, "{}", r.text());
        let last = r.text().lines().last().unwrap_or_default().to_owned();
        let v: serde_json::Value =
            serde_json::from_str(&last).unwrap_or_else(|_| panic!("import said {last}"));
        v["status"]
            .as_str()
            .filter(|s| s.starts_with("sha256:"))
            .unwrap_or_else(|| panic!("import failed: {last}"))
            .to_owned()
    }
}
