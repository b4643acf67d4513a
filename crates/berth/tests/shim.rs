//! `berth shim` end to end: real containers (a busybox root in a temp dir) created,
//! attached, signalled and reaped through the shim's socket, as the daemon drives it.
//! Every test removes what it made (shims, container processes, cgroups), also on failure.

use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::DirBuilderExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use berth_shim::protocol::{CONFIG_FILE, PID_FILE, SOCKET_FILE};
use berth_shim::{LogTarget, ProcessStatus, ShimClient, ShimConfig, ShimError, ShimKind};
use berth_testkit::cleanup;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BIN: &str = env!("CARGO_BIN_EXE_berth");
const LIMIT: Duration = Duration::from_secs(30);

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// One test's world: a busybox root, a libcontainer root, a cgroup parent; all removed
/// on drop.
struct Fixture {
    dir: tempfile::TempDir,
    rootfs: PathBuf,
    runtime_root: PathBuf,
    cgroup_parent: String,
    tag: String,
}

impl Fixture {
    fn new() -> Self {
        let tag = format!(
            "shimtest-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let dir = tempfile::tempdir().unwrap();
        let rootfs = dir.path().join("rootfs");
        fs::create_dir(&rootfs).unwrap();
        let status = Command::new("tar")
            .arg("-xf")
            .arg(berth_testkit::busybox_tar())
            .arg("-C")
            .arg(&rootfs)
            .status()
            .unwrap();
        assert!(status.success(), "unpacking busybox");
        let runtime_root = dir.path().join("runtime");
        fs::create_dir(&runtime_root).unwrap();
        Fixture {
            rootfs,
            runtime_root,
            cgroup_parent: format!("/berth-{tag}"),
            tag,
            dir,
        }
    }

    fn id(&self, name: &str) -> String {
        format!("{}-{name}", self.tag)
    }

    fn state_dir(&self, name: &str) -> PathBuf {
        let dir = self.dir.path().join("state").join(name);
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .unwrap();
        dir
    }

    /// A container's bundle and shim configuration.
    fn container(&self, name: &str, args: &[&str], tty: bool) -> (PathBuf, ShimConfig) {
        self.container_with(name, args, tty, |_| {})
    }

    fn container_with(
        &self,
        name: &str,
        args: &[&str],
        tty: bool,
        tweak: impl FnOnce(&mut berth_runtime::ContainerSpec),
    ) -> (PathBuf, ShimConfig) {
        let id = self.id(name);
        let mut container = berth_runtime::ContainerSpec {
            rootfs: self.rootfs.clone(),
            args: args.iter().map(|s| s.to_string()).collect(),
            env: vec!["PATH=/bin:/usr/bin".into(), "HOME=/root".into()],
            cwd: "/".into(),
            hostname: name.into(),
            tty,
            cgroups_path: format!("{}/{id}", self.cgroup_parent),
            ..Default::default()
        };
        tweak(&mut container);
        let spec = berth_runtime::build_spec(&container).unwrap();
        let bundle = self.dir.path().join("bundles").join(name);
        fs::create_dir_all(&bundle).unwrap();
        fs::write(
            bundle.join("config.json"),
            serde_json::to_vec(&spec).unwrap(),
        )
        .unwrap();
        let cfg = ShimConfig {
            id,
            runtime_root: self.runtime_root.clone(),
            kind: ShimKind::Container { bundle },
            tty,
            open_stdin: false,
            stdin_once: false,
            console_size: None,
            log: None,
            seccomp_program: None,
        };
        (self.state_dir(name), cfg)
    }

    /// An exec's process file and shim configuration.
    fn exec(&self, name: &str, container: &str, args: &[&str]) -> (PathBuf, ShimConfig) {
        self.exec_with(name, container, args, false)
    }

    fn exec_with(
        &self,
        name: &str,
        container: &str,
        args: &[&str],
        tty: bool,
    ) -> (PathBuf, ShimConfig) {
        let process = json!({
            "terminal": tty,
            "user": {"uid": 0, "gid": 0},
            "args": args,
            "env": ["PATH=/bin:/usr/bin"],
            "cwd": "/",
        });
        let state_dir = self.state_dir(name);
        let file = state_dir.join("process.json");
        fs::write(&file, serde_json::to_vec(&process).unwrap()).unwrap();
        let cfg = ShimConfig {
            id: name.into(),
            runtime_root: self.runtime_root.clone(),
            kind: ShimKind::Exec {
                container_id: self.id(container),
                process: file,
            },
            tty,
            open_stdin: false,
            stdin_once: false,
            console_size: None,
            log: None,
            seccomp_program: None,
        };
        (state_dir, cfg)
    }

    fn container_cgroups(&self, name: &str) -> Vec<PathBuf> {
        cleanup::cgroup_dirs(&format!("{}/{}", self.cgroup_parent, self.id(name)))
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        cleanup::kill_shims(self.dir.path());
        cleanup::remove_cgroups(&self.cgroup_parent);
    }
}

async fn spawn(state_dir: &Path, cfg: &ShimConfig) -> ShimClient {
    match ShimClient::spawn(Path::new(BIN), state_dir, cfg).await {
        Ok(c) => c,
        Err(e) => panic!("spawn {}: {e}", cfg.id),
    }
}

async fn wait(client: &ShimClient) -> berth_shim::ExitStatus {
    tokio::time::timeout(LIMIT, client.wait())
        .await
        .expect("wait timed out")
        .expect("wait")
}

/// Everything an attach stream carries until it closes.
async fn read_all(stream: &mut tokio::net::UnixStream) -> Vec<u8> {
    let mut out = Vec::new();
    tokio::time::timeout(LIMIT, stream.read_to_end(&mut out))
        .await
        .expect("attach stream did not end")
        .expect("read attach stream");
    out
}

/// Splits Docker's multiplexed frames into (stdout, stderr).
fn demux(mut bytes: &[u8]) -> (String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    while !bytes.is_empty() {
        assert!(bytes.len() >= 8, "truncated frame header: {bytes:?}");
        let len = u32::from_be_bytes(bytes[4..8].try_into().unwrap()) as usize;
        assert_eq!(&bytes[1..4], &[0, 0, 0], "frame header padding");
        let payload = &bytes[8..8 + len];
        match bytes[0] {
            1 => out.extend_from_slice(payload),
            2 => err.extend_from_slice(payload),
            s => panic!("unknown stream {s}"),
        }
        bytes = &bytes[8 + len..];
    }
    (
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

/// Reads `stream` into `seen` until `needle` shows up in it.
async fn read_until(stream: &mut tokio::net::UnixStream, seen: &mut Vec<u8>, needle: &str) {
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(seen).contains(needle) {
        let n = tokio::time::timeout(LIMIT, stream.read(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("no {needle:?} in {:?}", String::from_utf8_lossy(seen)))
            .unwrap();
        assert!(
            n > 0,
            "stream ended before {needle:?}: {:?}",
            String::from_utf8_lossy(seen)
        );
        seen.extend_from_slice(&buf[..n]);
    }
}

fn shim_pid(state_dir: &Path) -> i32 {
    fs::read_to_string(state_dir.join(PID_FILE))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// True if `pid` no longer runs (gone, or a zombie waiting for its new parent).
fn process_ended(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z') || rest.starts_with('X')),
    }
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < LIMIT, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test]
async fn output_arrives_framed_on_attach_and_in_the_json_log_and_nothing_is_left() {
    let fx = Fixture::new();
    let (state_dir, mut cfg) =
        fx.container("echo", &["sh", "-c", "echo hello; echo oops >&2"], false);
    let log = fx.dir.path().join("echo-json.log");
    cfg.log = Some(LogTarget {
        driver: "json-file".into(),
        path: log.clone(),
        max_size: None,
        max_file: 1,
        attrs: Default::default(),
    });
    let client = spawn(&state_dir, &cfg).await;
    let shim = shim_pid(&state_dir);
    assert_eq!(client.state().await.unwrap().status, ProcessStatus::Created);
    assert!(
        !fx.container_cgroups("echo").is_empty(),
        "the container's cgroup exists"
    );

    let mut attach = client.attach(false, true, true).await.unwrap();
    let pid = client.start().await.unwrap();
    assert!(pid > 0);
    let (stdout, stderr) = demux(&read_all(&mut attach).await);
    assert_eq!(stdout, "hello\n");
    assert_eq!(stderr, "oops\n");

    let exit = wait(&client).await;
    assert_eq!(exit.exit_code, 0);
    assert!(!exit.oom_killed);
    assert!(exit.error.is_none());
    assert!(exit.finished_at.ends_with('Z'), "{}", exit.finished_at);
    assert_eq!(ShimClient::read_exit(&state_dir), Some(exit));

    let lines: Vec<Value> = fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let logged: Vec<(&str, &str)> = lines
        .iter()
        .map(|v| (v["stream"].as_str().unwrap(), v["log"].as_str().unwrap()))
        .collect();
    assert!(logged.contains(&("stdout", "hello\n")), "{lines:?}");
    assert!(logged.contains(&("stderr", "oops\n")), "{lines:?}");

    // Nothing is left: no cgroup, no libcontainer state, no socket, no shim.
    assert!(fx.container_cgroups("echo").is_empty());
    assert!(!fx.runtime_root.join(&cfg.id).exists());
    assert!(!state_dir.join(SOCKET_FILE).exists());
    assert!(!state_dir.join(PID_FILE).exists());
    wait_until("the shim to exit", || process_ended(shim));
    assert!(!client.alive().await);
}

#[tokio::test]
async fn exit_code_is_the_process_s() {
    let fx = Fixture::new();
    let (state_dir, cfg) = fx.container("three", &["sh", "-c", "exit 3"], false);
    let client = spawn(&state_dir, &cfg).await;
    client.start().await.unwrap();
    assert_eq!(wait(&client).await.exit_code, 3);
}

#[tokio::test]
async fn sigkill_gives_128_plus_9() {
    let fx = Fixture::new();
    let (state_dir, cfg) = fx.container("sleeper", &["sleep", "1000"], false);
    let client = spawn(&state_dir, &cfg).await;
    let pid = client.start().await.unwrap();
    let state = client.state().await.unwrap();
    assert_eq!(state.status, ProcessStatus::Running);
    assert_eq!(state.pid, pid);
    client.signal(9).await.unwrap();
    assert_eq!(wait(&client).await.exit_code, 137);
    assert!(fx.container_cgroups("sleeper").is_empty());
}

#[tokio::test]
async fn sigkill_works_while_the_container_is_only_created() {
    let fx = Fixture::new();
    let (state_dir, cfg) = fx.container("created", &["sleep", "1000"], false);
    let client = spawn(&state_dir, &cfg).await;
    client.signal(9).await.unwrap();
    assert_eq!(wait(&client).await.exit_code, 137);
    assert!(fx.container_cgroups("created").is_empty());
    assert!(!fx.runtime_root.join(&cfg.id).exists());
}

#[tokio::test]
async fn stdin_once_feeds_cat_and_its_end_ends_cat() {
    let fx = Fixture::new();
    let (state_dir, mut cfg) = fx.container("cat", &["cat"], false);
    cfg.open_stdin = true;
    cfg.stdin_once = true;
    let client = spawn(&state_dir, &cfg).await;
    let mut attach = client.attach(true, true, true).await.unwrap();
    client.start().await.unwrap();
    attach.write_all(b"ping\npong\n").await.unwrap();
    attach.shutdown().await.unwrap();
    let (stdout, stderr) = demux(&read_all(&mut attach).await);
    assert_eq!(stdout, "ping\npong\n");
    assert_eq!(stderr, "");
    assert_eq!(wait(&client).await.exit_code, 0);
}

#[tokio::test]
async fn several_attaches_see_the_same_output() {
    let fx = Fixture::new();
    let (state_dir, cfg) = fx.container("fan", &["sh", "-c", "echo one; echo two >&2"], false);
    let client = spawn(&state_dir, &cfg).await;
    let mut both = client.attach(false, true, true).await.unwrap();
    let mut only_err = client.attach(false, false, true).await.unwrap();
    client.start().await.unwrap();
    assert_eq!(
        demux(&read_all(&mut both).await),
        ("one\n".to_owned(), "two\n".to_owned())
    );
    assert_eq!(
        demux(&read_all(&mut only_err).await),
        (String::new(), "two\n".to_owned())
    );
    assert_eq!(wait(&client).await.exit_code, 0);
}

#[tokio::test]
async fn tty_output_is_raw_and_resize_reaches_the_terminal() {
    let fx = Fixture::new();
    let (state_dir, mut cfg) =
        fx.container("tty", &["sh", "-c", "stty size; read x; stty size"], true);
    cfg.open_stdin = true;
    cfg.console_size = Some([10, 20]);
    let client = spawn(&state_dir, &cfg).await;
    let mut attach = client.attach(true, true, true).await.unwrap();
    client.start().await.unwrap();

    let mut seen = Vec::new();
    read_until(&mut attach, &mut seen, "10 20").await;
    // Raw terminal bytes: no frame headers, and the terminal's CRLF.
    assert!(String::from_utf8_lossy(&seen).contains("10 20\r\n"));
    client.resize(30, 100).await.unwrap();
    attach.write_all(b"go\n").await.unwrap();
    read_until(&mut attach, &mut seen, "30 100").await;
    assert_eq!(wait(&client).await.exit_code, 0);
}

#[tokio::test]
async fn resize_without_a_tty_is_harmless() {
    let fx = Fixture::new();
    let (state_dir, cfg) = fx.container("notty", &["sh", "-c", "exit 0"], false);
    let client = spawn(&state_dir, &cfg).await;
    client.resize(24, 80).await.unwrap();
    client.start().await.unwrap();
    assert_eq!(wait(&client).await.exit_code, 0);
}

#[tokio::test]
async fn the_shim_outlives_the_process_that_spawned_it() {
    let fx = Fixture::new();
    let (state_dir, cfg) = fx.container("orphan", &["sh", "-c", "read x; exit 7"], false);
    let mut cfg = cfg;
    cfg.open_stdin = true;
    cfg.stdin_once = true;
    fs::write(
        state_dir.join(CONFIG_FILE),
        serde_json::to_vec(&cfg).unwrap(),
    )
    .unwrap();
    // The spawner: a shell in its own process group that runs `berth shim`, says so, and
    // stays, until it is killed with its whole group.
    let mut spawner = Command::new("sh")
        .arg("-c")
        .arg(r#""$0" shim "$1" && echo ready && exec sleep 1000"#)
        .arg(BIN)
        .arg(&state_dir)
        .process_group(0)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(spawner.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready");
    let group = spawner.id() as i32;
    nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(group),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    spawner.wait().unwrap();

    let shim = shim_pid(&state_dir);
    assert!(!process_ended(shim), "the shim died with its spawner");
    let client = ShimClient::open(&state_dir);
    assert!(client.alive().await);
    let mut attach = client.attach(true, false, false).await.unwrap();
    client.start().await.unwrap();
    attach.write_all(b"\n").await.unwrap();
    attach.shutdown().await.unwrap();
    let exit = wait(&ShimClient::open(&state_dir)).await;
    assert_eq!(exit.exit_code, 7);
    wait_until("the shim to exit", || process_ended(shim));
    // Once the shim is gone, `wait` answers from exit.json.
    assert_eq!(ShimClient::open(&state_dir).wait().await.unwrap(), exit);
}

#[tokio::test]
async fn exec_runs_inside_the_running_container() {
    let fx = Fixture::new();
    let (state_dir, cfg) = fx.container("host", &["sleep", "1000"], false);
    let container = spawn(&state_dir, &cfg).await;
    container.start().await.unwrap();

    let (exec_dir, exec_cfg) = fx.exec(
        "exec5",
        "host",
        &["sh", "-c", "echo in $(hostname); exit 5"],
    );
    let exec = spawn(&exec_dir, &exec_cfg).await;
    let state = exec.state().await.unwrap();
    assert_eq!((state.status, state.pid), (ProcessStatus::Created, 0));
    let mut attach = exec.attach(false, true, true).await.unwrap();
    exec.start().await.unwrap();
    let (stdout, _) = demux(&read_all(&mut attach).await);
    assert_eq!(stdout, "in host\n");
    assert_eq!(wait(&exec).await.exit_code, 5);
    // The container is untouched by its exec's end.
    assert_eq!(
        container.state().await.unwrap().status,
        ProcessStatus::Running
    );

    container.signal(9).await.unwrap();
    assert_eq!(wait(&container).await.exit_code, 137);
}

#[tokio::test]
async fn exec_of_a_missing_binary_fails_clearly() {
    let fx = Fixture::new();
    let (state_dir, cfg) = fx.container("host2", &["sleep", "1000"], false);
    let container = spawn(&state_dir, &cfg).await;
    container.start().await.unwrap();

    let (exec_dir, exec_cfg) = fx.exec("nosuch", "host2", &["nosuchbinary"]);
    match ShimClient::spawn(Path::new(BIN), &exec_dir, &exec_cfg).await {
        Err(ShimError::Start(message)) => assert_eq!(
            message,
            "exec: \"nosuchbinary\": executable file not found in $PATH"
        ),
        other => panic!("expected a start error, got {other:?}"),
    }
    let (exec_dir, exec_cfg) = fx.exec("nosuchpath", "host2", &["/bin/nosuch"]);
    match ShimClient::spawn(Path::new(BIN), &exec_dir, &exec_cfg).await {
        Err(ShimError::Start(message)) => assert_eq!(
            message,
            "exec: \"/bin/nosuch\": stat /bin/nosuch: no such file or directory"
        ),
        other => panic!("expected a start error, got {other:?}"),
    }
    container.signal(9).await.unwrap();
    wait(&container).await;
}

#[tokio::test]
async fn exec_with_a_tty_gets_a_terminal() {
    let fx = Fixture::new();
    let (state_dir, cfg) = fx.container("host3", &["sleep", "1000"], false);
    let container = spawn(&state_dir, &cfg).await;
    container.start().await.unwrap();

    let (exec_dir, mut exec_cfg) = fx.exec_with(
        "exectty",
        "host3",
        &["sh", "-c", "tty; stty size; read x; echo got $x"],
        true,
    );
    exec_cfg.open_stdin = true;
    exec_cfg.console_size = Some([12, 34]);
    let exec = spawn(&exec_dir, &exec_cfg).await;
    let mut attach = exec.attach(true, true, true).await.unwrap();
    // Input sent before the terminal exists is held for it.
    attach.write_all(b"early\n").await.unwrap();
    exec.start().await.unwrap();
    let mut seen = Vec::new();
    read_until(&mut attach, &mut seen, "got early").await;
    let text = String::from_utf8_lossy(&seen);
    assert!(text.contains("/dev/pts/"), "{text}");
    assert!(text.contains("12 34"), "{text}");
    assert_eq!(wait(&exec).await.exit_code, 0);

    container.signal(9).await.unwrap();
    assert_eq!(wait(&container).await.exit_code, 137);
}

#[tokio::test]
async fn the_container_starts_with_default_signal_dispositions() {
    // Rust ignores SIGPIPE, and an ignored signal would survive into the container.
    let fx = Fixture::new();
    let (state_dir, cfg) = fx.container(
        "signals",
        // grep itself, not under busybox sh, which ignores SIGQUIT on its own.
        &["grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"],
        false,
    );
    let client = spawn(&state_dir, &cfg).await;
    let mut attach = client.attach(false, true, true).await.unwrap();
    client.start().await.unwrap();
    let (stdout, _) = demux(&read_all(&mut attach).await);
    assert_eq!(
        stdout,
        "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n"
    );
    assert_eq!(wait(&client).await.exit_code, 0);
}

#[tokio::test]
async fn an_oom_kill_is_reported() {
    let fx = Fixture::new();
    let (state_dir, cfg) = fx.container_with(
        "oom",
        // tail keeps a newline-free /dev/zero in memory until the limit stops it.
        &["tail", "/dev/zero"],
        false,
        |c| {
            c.resources.memory = Some(16 << 20);
            c.resources.memory_swap = Some(16 << 20);
        },
    );
    let client = spawn(&state_dir, &cfg).await;
    client.start().await.unwrap();
    let exit = wait(&client).await;
    assert_eq!((exit.exit_code, exit.oom_killed), (137, true));
    assert!(fx.container_cgroups("oom").is_empty());
}

#[tokio::test]
async fn a_missing_binary_fails_the_create_with_runc_s_words() {
    let fx = Fixture::new();
    let (state_dir, cfg) = fx.container("bad", &["nosuchbinary"], false);
    match ShimClient::spawn(Path::new(BIN), &state_dir, &cfg).await {
        Err(ShimError::Start(message)) => {
            assert_eq!(
                message,
                "exec: \"nosuchbinary\": executable file not found in $PATH"
            );
        }
        other => panic!("expected a start error, got {other:?}"),
    }
    assert!(!fx.runtime_root.join(&cfg.id).exists());
    assert!(fx.container_cgroups("bad").is_empty());
    assert!(!state_dir.join(PID_FILE).exists());
}

/// The shim's memory with a sleeping container, from smaps_rollup. Its file-backed pages
/// (the `berth` binary) are shared by every shim; what each shim costs on its own is its
/// anonymous memory: heap, stack and the binary's relocated data.
#[tokio::test]
async fn a_shim_is_small() {
    let fx = Fixture::new();
    let (state_dir, cfg) = fx.container("mem", &["sleep", "1000"], false);
    let client = spawn(&state_dir, &cfg).await;
    client.start().await.unwrap();
    let shim = shim_pid(&state_dir);
    let rollup = fs::read_to_string(format!("/proc/{shim}/smaps_rollup")).unwrap();
    let kib = |key: &str| -> u64 {
        rollup
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {key} in {rollup}"))
    };
    // Anonymous, not Private_Dirty: a freshly linked binary's page-cache pages count as
    // dirty until written back, though they are shared by every process mapping them.
    let (pss, anon) = (kib("Pss:"), kib("Anonymous:"));
    eprintln!("shim {shim}: Pss {pss} KiB, Anonymous (its own) {anon} KiB");
    // A debug build's relocated data alone is over 1 MiB; release stays well below.
    assert!(anon < 4 * 1024, "shim private memory {anon} KiB");
    client.signal(9).await.unwrap();
    wait(&client).await;
}
