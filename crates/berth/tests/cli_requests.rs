//! What `berth` sends for container commands, compared with what the real docker CLI
//! sends for the same command line: both talk to a recording fake daemon on a unix
//! socket, and the create bodies (and for `run`, the whole request sequence, output and
//! exit status) must match. No daemon or containerd is needed; the docker CLI is.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_berth");
const ID: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// One request as the fake daemon saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    query: BTreeMap<String, String>,
    body: Vec<u8>,
}

/// A fake daemon answering just enough of the API for `create` and `run`.
struct FakeDaemon {
    dir: tempfile::TempDir,
    seen: Arc<Mutex<Vec<Seen>>>,
}

fn frame(stream: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![stream, 0, 0, 0];
    f.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    f.extend_from_slice(payload);
    f
}

fn percent_decode(s: &str) -> String {
    let bytes = s.replace('+', " ").into_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) =
                u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap(), 16)
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

fn respond(stream: &mut UnixStream, status: &str, body: &str) {
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nApi-Version: 1.41\r\nOstype: linux\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
}

fn serve(mut stream: UnixStream, seen: Arc<Mutex<Vec<Seen>>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap();
                }
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_owned();
        let target = parts.next().unwrap_or_default();
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        // Drop the version prefix: /v1.41/containers/... → /containers/...
        let path = match path.strip_prefix("/v") {
            Some(rest) => rest
                .split_once('/')
                .map_or(path.to_owned(), |(_, p)| format!("/{p}")),
            None => path.to_owned(),
        };
        let query = query
            .split('&')
            .filter(|kv| !kv.is_empty())
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (percent_decode(k), percent_decode(v))
            })
            .collect();
        seen.lock().unwrap().push(Seen {
            method: method.clone(),
            path: path.clone(),
            query,
            body,
        });
        match (method.as_str(), path.as_str()) {
            (m, "/_ping") => {
                let body = if m == "HEAD" { "" } else { "OK" };
                let _ = write!(stream, "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nOstype: linux\r\nContent-Length: 2\r\n\r\n{body}");
            }
            ("POST", "/containers/create") => respond(
                &mut stream,
                "201 Created",
                &json!({"Id": ID, "Warnings": []}).to_string(),
            ),
            ("POST", p) if p.ends_with("/attach") => {
                let _ = write!(stream, "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n");
                let _ = stream.write_all(&frame(1, b"hello from the container\n"));
                let _ = stream.write_all(&frame(2, b"and its stderr\n"));
                let _ = stream.shutdown(std::net::Shutdown::Both);
                return;
            }
            ("POST", p) if p.ends_with("/wait") => {
                respond(&mut stream, "200 OK", r#"{"StatusCode":3,"Error":null}"#)
            }
            ("POST", p) if p.ends_with("/start") => {
                let _ = write!(
                    stream,
                    "HTTP/1.1 204 No Content\r\nApi-Version: 1.41\r\n\r\n"
                );
            }
            _ => respond(&mut stream, "404 Not Found", r#"{"message":"not faked"}"#),
        }
    }
}

impl FakeDaemon {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let listener = UnixListener::bind(dir.path().join("d.sock")).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let s = s.clone();
                std::thread::spawn(move || serve(conn, s));
            }
        });
        Self { dir, seen }
    }

    fn host(&self) -> String {
        format!("unix://{}", self.dir.path().join("d.sock").display())
    }

    /// Runs a CLI against the fake daemon and returns its output and the requests.
    fn run(&self, program: &str, args: &[&str], cwd: &Path) -> (Output, Vec<Seen>) {
        self.seen.lock().unwrap().clear();
        let out = Command::new(program)
            .arg("-H")
            .arg(self.host())
            .args(args)
            .current_dir(cwd)
            .env("DOCKER_CONFIG", self.dir.path().join("docker-config"))
            .env("DOCKER_CLI_HINTS", "false")
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_API_VERSION")
            .env_remove("DOCKER_DEFAULT_PLATFORM")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (out, self.seen.lock().unwrap().clone())
    }
}

fn docker() -> Option<&'static str> {
    Path::new(berth_testkit::DOCKER_CLI)
        .exists()
        .then_some(berth_testkit::DOCKER_CLI)
}

/// The create request of a run: its query and its body, with `Env` and `Binds` sorted
/// (docker sends them in Go map order, which is random).
fn create_request(seen: &[Seen]) -> (BTreeMap<String, String>, Value) {
    let create = seen
        .iter()
        .find(|s| s.path == "/containers/create")
        .unwrap_or_else(|| panic!("no create request in {seen:?}"));
    let mut body: Value = serde_json::from_slice(&create.body).unwrap();
    for pointer in ["/Env", "/HostConfig/Binds"] {
        if let Some(items) = body.pointer_mut(pointer).and_then(Value::as_array_mut) {
            items.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
        }
    }
    (create.query.clone(), body)
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn fixture_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("env.list"),
        "# comment\nFROM_FILE=1\nSHARED=file\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("labels"), "team=core\nempty=\n").unwrap();
    dir
}

#[test]
fn create_bodies_match_the_docker_cli() {
    let Some(docker) = docker() else {
        eprintln!("skipped: {} is not installed", berth_testkit::DOCKER_CLI);
        return;
    };
    let fake = FakeDaemon::start();
    let cwd = fixture_dir();
    let cases: &[&[&str]] = &[
        &["busybox"],
        &[
            "-it",
            "--rm",
            "--name",
            "x1",
            "-e",
            "A=1",
            "-e",
            "B=2",
            "-e",
            "A=3",
            "-w",
            "/w",
            "-u",
            "nobody",
            "--entrypoint",
            "sh",
            "busybox",
            "-c",
            "echo hi",
        ],
        &[
            "-m",
            "64m",
            "--memory-swap",
            "-1",
            "--memory-reservation",
            "32m",
            "--cpus",
            "1.5",
            "-c",
            "512",
            "--cpu-quota",
            "50000",
            "--cpu-period",
            "100000",
            "--cpuset-cpus",
            "0",
            "--cpuset-mems",
            "0",
            "--pids-limit",
            "10",
            "--blkio-weight",
            "300",
            "--oom-kill-disable",
            "--oom-score-adj",
            "-500",
            "--shm-size",
            "128m",
            "--memory-swappiness",
            "10",
            "busybox",
        ],
        &[
            "--ulimit",
            "nofile=1024:2048",
            "--ulimit",
            "nproc=10",
            "--cap-add",
            "net_admin",
            "--cap-add",
            "SYS_TIME",
            "--cap-drop",
            "ALL",
            "--privileged",
            "--read-only",
            "--security-opt",
            "no-new-privileges",
            "--security-opt",
            "systempaths=unconfined",
            "--sysctl",
            "net.ipv4.ip_forward=1",
            "--tmpfs",
            "/run:size=1m",
            "--tmpfs",
            "/x",
            "--device",
            "/dev/fuse",
            "--device",
            "/dev/null:/dev/n2:r",
            "--device-cgroup-rule",
            "c 1:3 mr",
            "busybox",
        ],
        &[
            "--add-host",
            "db:10.0.0.2",
            "--add-host",
            "gw=host-gateway",
            "--dns",
            "8.8.8.8",
            "--dns-search",
            "example.com",
            "--dns-option",
            "ndots:2",
            "-h",
            "myhost",
            "--domainname",
            "example.org",
            "-l",
            "a=b",
            "--label",
            "c",
            "--log-driver",
            "json-file",
            "--log-opt",
            "max-size=1m",
            "busybox",
        ],
        &[
            "--health-cmd",
            "true",
            "--health-interval",
            "5s",
            "--health-timeout",
            "2s",
            "--health-retries",
            "3",
            "--health-start-period",
            "1s",
            "--stop-signal",
            "SIGUSR1",
            "--stop-timeout",
            "7",
            "busybox",
        ],
        &[
            "--no-healthcheck",
            "--init",
            "--restart",
            "on-failure:3",
            "-a",
            "stdout",
            "-a",
            "STDERR",
            "--group-add",
            "audio",
            "--ipc",
            "host",
            "--pid",
            "host",
            "--uts",
            "host",
            "--network",
            "host",
            "--userns",
            "host",
            "--cgroupns",
            "private",
            "--cgroup-parent",
            "/x",
            "busybox",
        ],
        &[
            "-p",
            "8080:80",
            "-p",
            "127.0.0.1:53:53/udp",
            "-p",
            "9000-9001:9000-9001",
            "-P",
            "--expose",
            "7000-7001",
            "--expose",
            "6000/udp",
            "-v",
            "/host:/c:ro",
            "-v",
            "/anon",
            "-v",
            "named:/data",
            "-v",
            "./rel:/rel",
            "--mount",
            "type=tmpfs,dst=/t,tmpfs-size=1m",
            "--mount",
            "type=bind,src=/a,dst=/b,readonly",
            "--volumes-from",
            "other:ro",
            "busybox",
        ],
        &[
            "--network",
            "mynet",
            "--network-alias",
            "web",
            "--ip",
            "10.1.2.3",
            "--link",
            "db:db",
            "busybox",
        ],
        &[
            "--env-file",
            "env.list",
            "-e",
            "SHARED=flag",
            "--label-file",
            "labels",
            "-l",
            "team=override",
            "busybox",
        ],
        &[
            "--entrypoint=",
            "--init=false",
            "--rm=false",
            "-i=true",
            "--name",
            "with space",
            "busybox",
            "true",
        ],
        &[
            "--blkio-weight-device",
            "/dev/sda:200",
            "--device-read-bps",
            "/dev/sda:1mb",
            "--device-write-iops",
            "/dev/sda:100",
            "--kernel-memory",
            "10m",
            "--runtime",
            "runc",
            "--storage-opt",
            "size=1G",
            "--platform",
            "linux/amd64",
            "busybox",
        ],
    ];
    for args in cases {
        let mut full = vec!["create"];
        full.extend_from_slice(args);
        let (theirs, their_requests) = fake.run(docker, &full, cwd.path());
        let (ours, our_requests) = fake.run(BIN, &full, cwd.path());
        assert!(
            theirs.status.success(),
            "docker {full:?}\n{}",
            text(&theirs)
        );
        assert!(ours.status.success(), "berth {full:?}\n{}", text(&ours));
        assert_eq!(ours.stdout, theirs.stdout, "{full:?}");
        let (their_query, their_body) = create_request(&their_requests);
        let (our_query, our_body) = create_request(&our_requests);
        assert_eq!(our_query, their_query, "query of {full:?}");
        assert_eq!(
            our_body, their_body,
            "body of {full:?}\nberth:  {our_body}\ndocker: {their_body}"
        );
    }
}

#[test]
fn refusals_match_the_docker_cli() {
    let Some(docker) = docker() else {
        eprintln!("skipped: {} is not installed", berth_testkit::DOCKER_CLI);
        return;
    };
    let fake = FakeDaemon::start();
    let cwd = PathBuf::from("/");
    let cases: &[&[&str]] = &[
        &["create", "--annotation", "k=v", "busybox"],
        &["create", "--health-start-interval", "1s", "busybox"],
        &["create", "--mac-address", "92:d0:c6:0a:29:33", "busybox"],
        &["run", "--mac-address", "92:d0:c6:0a:29:33", "busybox"],
        &["run", "--rm", "--restart", "always", "busybox"],
        &["create", "-p", "80:80/bogus", "busybox"],
        &["run", "-m", "1x", "busybox"],
        &["run", "--cpus", "x", "busybox"],
        &["create", "BAD:ref::x"],
        &["run", "BAD:ref::x"],
        &["run", "--pull", "bad", "busybox"],
        &["run", "--pid", "nope", "busybox"],
        &["run", "--bogus", "busybox"],
        &["run", "-e"],
        &["run"],
        &["create", "--env-file", "/nonexistent/env", "busybox"],
        &["run", "-d", "-a", "stdout", "busybox"],
        &["run", "--no-healthcheck", "--health-cmd", "x", "busybox"],
        &["run", "--network-alias", "a", "busybox"],
        &["run", "--ulimit", "nofile=2:1", "busybox"],
    ];
    for args in cases {
        let (theirs, _) = fake.run(docker, args, &cwd);
        let (ours, _) = fake.run(BIN, args, &cwd);
        let their_err = String::from_utf8_lossy(&theirs.stderr).replace("docker", "berth");
        let our_err = String::from_utf8_lossy(&ours.stderr);
        assert_eq!(
            ours.status.code(),
            theirs.status.code(),
            "{args:?}
berth: {}
docker: {}",
            text(&ours),
            text(&theirs)
        );
        assert_eq!(our_err.replace("Berth", "Docker"), their_err, "{args:?}");
        assert_eq!(ours.stdout, theirs.stdout, "{args:?}");
    }
}

#[test]
fn run_talks_to_the_daemon_as_docker_does() {
    let Some(docker) = docker() else {
        eprintln!("skipped: {} is not installed", berth_testkit::DOCKER_CLI);
        return;
    };
    let fake = FakeDaemon::start();
    let cwd = PathBuf::from("/");
    for args in [
        &["run", "--rm", "busybox", "sh"][..],
        &["run", "-d", "busybox"][..],
    ] {
        let (theirs, their_requests) = fake.run(docker, args, &cwd);
        let (ours, our_requests) = fake.run(BIN, args, &cwd);
        assert_eq!(
            ours.status.code(),
            theirs.status.code(),
            "{args:?}\nberth: {}\ndocker: {}",
            text(&ours),
            text(&theirs)
        );
        assert_eq!(ours.stdout, theirs.stdout, "{args:?}");
        assert_eq!(ours.stderr, theirs.stderr, "{args:?}");
        // The same calls, in the same order (kill is sent only on signals).
        let calls = |seen: &[Seen]| -> Vec<String> {
            seen.iter()
                .filter(|s| s.path != "/_ping")
                .map(|s| format!("{} {} {:?}", s.method, s.path, s.query))
                .collect()
        };
        assert_eq!(calls(&our_requests), calls(&their_requests), "{args:?}");
    }
}
