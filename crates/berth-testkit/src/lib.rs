//! The test kit: [`TestDaemon`] starts `berth daemon` with its own temporary data root,
//! exec root, socket and pidfile, waits for `/_ping`, and on drop (also when the test
//! panics) stops it and removes every mount, process and file it made.
//!
//! Tests drive the daemon with the real docker CLI ([`TestDaemon::docker`]), with `berth`
//! ([`TestDaemon::berth`]), and with raw HTTP ([`TestDaemon::http`]) where the wire matters.

pub mod check;
mod http;
mod images;

pub use images::busybox_tar;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::kill;
use nix::unistd::Pid;

pub use http::{RawResponse, StreamReader};
pub mod cleanup;
pub use nix::sys::signal::Signal;

/// The real docker CLI the tests drive.
pub const DOCKER_CLI: &str = "/usr/local/bin/docker";

pub struct TestDaemon {
    bin: PathBuf,
    dir: tempfile::TempDir,
    pub data_root: PathBuf,
    pub exec_root: PathBuf,
    pub socket: PathBuf,
    pub pidfile: PathBuf,
    pub log: PathBuf,
    extra_args: Vec<String>,
    child: Option<Child>,
    /// Containers' cgroups go under this (relative to each hierarchy's root), so the kit
    /// can find and remove every one of them.
    pub cgroup_parent: String,
    /// The daemon's own default bridge device, gateway/prefix and user-network pool, so
    /// parallel test daemons never share a bridge, a subnet or an nftables table.
    pub bridge: String,
    pub bip: String,
    pub address_pool: String,
    /// Started inside the cgroup `cgroup_parent` names and without `--cgroup-parent`
    /// ([`TestDaemon::start_in_own_cgroup`]).
    in_own_cgroup: bool,
}

impl TestDaemon {
    /// Starts a daemon from the `berth` binary at `bin` (`env!("CARGO_BIN_EXE_berth")`).
    pub fn start(bin: &str) -> Self {
        Self::start_with(bin, &[])
    }

    /// Starts a daemon as a service manager would on a cgroup v2 host: alone in a cgroup
    /// of its own (`cgroup_parent`, made here) and without `--cgroup-parent`, so it nests
    /// its containers under that cgroup by itself. Panics on a v1 host.
    pub fn start_in_own_cgroup(bin: &str) -> Self {
        assert!(
            Path::new("/sys/fs/cgroup/cgroup.controllers").exists(),
            "start_in_own_cgroup needs a cgroup v2 host"
        );
        let mut d = Self::prepare(bin, &[]);
        d.in_own_cgroup = true;
        d.launch().unwrap_or_else(|e| panic!("{e}"));
        d
    }

    /// Starts a daemon with extra `berth daemon` arguments.
    pub fn start_with(bin: &str, extra_args: &[&str]) -> Self {
        let mut d = Self::prepare(bin, extra_args);
        d.launch().unwrap_or_else(|e| panic!("{e}"));
        d
    }

    /// Lays out the directories without starting anything.
    pub fn prepare(bin: &str, extra_args: &[&str]) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("berth-test-")
            .tempdir()
            .expect("create test dir");
        let root = dir.path().to_owned();
        Self {
            bin: PathBuf::from(bin),
            data_root: root.join("data"),
            exec_root: root.join("exec"),
            socket: root.join("berth.sock"),
            pidfile: root.join("berthd.pid"),
            log: root.join("daemon.log"),
            dir,
            extra_args: extra_args.iter().map(|s| s.to_string()).collect(),
            child: None,
            cgroup_parent: format!("berth-test-{}", std::process::id())
                + &format!("-{:x}", rand_suffix()),
            bridge: format!("bt{:08x}", rand_suffix()),
            bip: {
                let r = rand_suffix();
                format!("10.{}.{}.1/24", 200 + r % 50, (r >> 8) % 256)
            },
            // A /14 of /24s: room for the 300-network test, below the --bip range.
            address_pool: format!("base=10.{}.0.0/14,size=24", 4 * (rand_suffix() % 50)),
            in_own_cgroup: false,
        }
    }

    /// The nftables table this daemon writes (see berth-engine's networks module).
    pub fn nft_table(&self) -> String {
        format!("berth-{}", self.bridge)
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `unix:///…/berth.sock`
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// The arguments this daemon runs with (after `berth daemon`).
    pub fn daemon_args(&self) -> Vec<String> {
        let mut args: Vec<String> = vec![
            "--data-root".into(),
            self.data_root.display().to_string(),
            "--exec-root".into(),
            self.exec_root.display().to_string(),
            "--pidfile".into(),
            self.pidfile.display().to_string(),
            "--config-file".into(),
            self.config_file().display().to_string(),
        ];
        if !self.in_own_cgroup && !self.extra_args.iter().any(|a| a == "--cgroup-parent") {
            args.push("--cgroup-parent".into());
            args.push(format!("/{}", self.cgroup_parent));
        }
        if !self.extra_args.iter().any(|a| a == "--bridge" || a == "-b") {
            args.extend(["--bridge".into(), self.bridge.clone()]);
            if !self.extra_args.iter().any(|a| a == "--bip") {
                args.extend(["--bip".into(), self.bip.clone()]);
            }
        }
        if !self
            .extra_args
            .iter()
            .any(|a| a == "--default-address-pool")
        {
            args.extend(["--default-address-pool".into(), self.address_pool.clone()]);
        }
        // Always our own socket, plus whatever listeners the test adds.
        args.push("-H".into());
        args.push(self.host());
        args.extend(self.extra_args.iter().cloned());
        args
    }

    /// The daemon's config file (an empty JSON object unless a test writes one).
    pub fn config_file(&self) -> PathBuf {
        self.dir.path().join("daemon.json")
    }

    /// Starts (or restarts) the daemon process and waits until it answers `/_ping`.
    pub fn launch(&mut self) -> Result<(), String> {
        if !self.config_file().exists() {
            fs::write(self.config_file(), "{}").map_err(|e| e.to_string())?;
        }
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|e| e.to_string())?;
        let mut command = Command::new(&self.bin);
        if self.in_own_cgroup {
            // The shell moves itself into the cgroup, then becomes the daemon (same PID).
            let cgroup = Path::new("/sys/fs/cgroup").join(&self.cgroup_parent);
            fs::create_dir_all(&cgroup).map_err(|e| format!("{}: {e}", cgroup.display()))?;
            command = Command::new("sh");
            command
                .arg("-c")
                .arg(r#"echo $$ > "$0/cgroup.procs" && exec "$@""#)
                .arg(&cgroup)
                .arg(&self.bin);
        }
        let child = command
            .arg("daemon")
            .args(self.daemon_args())
            .env("BERTH_LOG", "debug")
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("spawn {}: {e}", self.bin.display()))?;
        self.child = Some(child);
        self.wait_ready(Duration::from_secs(20))
    }

    fn wait_ready(&mut self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    self.child = None;
                    return Err(format!(
                        "berth daemon exited during start ({status}); log:\n{}",
                        self.log_text()
                    ));
                }
            }
            if let Ok(r) = self.http("GET", "/_ping", &[], b"") {
                if r.status == 200 {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "berth daemon did not answer /_ping; log:\n{}",
                    self.log_text()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Sends `signal` to the daemon.
    pub fn signal(&self, signal: Signal) {
        if let Some(pid) = self.pid() {
            let _ = kill(Pid::from_raw(pid as i32), signal);
        }
    }

    /// SIGTERM, then waits for a clean exit; returns whether it exited 0 in time.
    pub fn stop(&mut self) -> bool {
        let Some(mut child) = self.child.take() else {
            return true;
        };
        let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return status.success(),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return false;
                }
            }
        }
    }

    /// `kill -9` of the daemon, as a crash.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Runs the real docker CLI against this daemon.
    pub fn docker(&self, args: &[&str]) -> Output {
        self.cli(DOCKER_CLI, args)
    }

    /// Runs `berth` (the CLI) against this daemon.
    pub fn berth(&self, args: &[&str]) -> Output {
        self.cli(&self.bin.display().to_string(), args)
    }

    fn cli(&self, program: &str, args: &[&str]) -> Output {
        self.cli_with(program, &["-H", &self.host()], args)
    }

    /// Runs a CLI (`DOCKER_CLI` or the berth binary, see [`TestDaemon::berth_bin`]) with
    /// the given global options instead of this daemon's socket, e.g. a TLS endpoint.
    pub fn cli_with(&self, program: &str, global: &[&str], args: &[&str]) -> Output {
        Command::new(program)
            .args(global)
            .args(args)
            .env("DOCKER_CONFIG", self.dir.path().join("docker-config"))
            .env("DOCKER_CLI_HINTS", "false")
            .env_remove("DOCKER_HOST")
            .env_remove("BERTH_HOST")
            .env_remove("DOCKER_API_VERSION")
            .env_remove("DOCKER_TLS_VERIFY")
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("run {program}: {e}"))
    }

    pub fn berth_bin(&self) -> String {
        self.bin.display().to_string()
    }

    /// One HTTP/1.1 request on the daemon's socket, read to the end.
    pub fn http(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<RawResponse> {
        http::request(&self.socket, method, path, headers, body)
    }

    /// Starts a request and returns the head plus a reader for a streaming body.
    pub fn http_stream(&self, method: &str, path: &str) -> std::io::Result<StreamReader> {
        http::stream(&self.socket, method, path)
    }
}

/// Mount points at or below `dir`, deepest first.
fn mounts_under(dir: &Path) -> Vec<PathBuf> {
    let text = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut mounts: Vec<PathBuf> = text
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|p| PathBuf::from(p.replace("\\040", " ")))
        .filter(|p| p.starts_with(dir))
        .collect();
    mounts.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    mounts
}

impl Drop for TestDaemon {
    fn drop(&mut self) {
        if !self.stop() && !std::thread::panicking() {
            eprintln!(
                "berth daemon did not stop cleanly; log:\n{}",
                self.log_text()
            );
        }
        cleanup::kill_shims(&self.exec_root);
        cleanup::remove_cgroups(&self.cgroup_parent);
        for m in mounts_under(self.dir.path()) {
            let _ = nix::mount::umount2(&m, nix::mount::MntFlags::MNT_DETACH);
        }
        cleanup::remove_network_state(&self.data_root, &self.bridge, &self.nft_table());
        if std::thread::panicking() {
            eprintln!(
                "--- daemon log ({}) ---\n{}",
                self.log.display(),
                self.log_text()
            );
        }
    }
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish() & 0xffff_ffff
}
