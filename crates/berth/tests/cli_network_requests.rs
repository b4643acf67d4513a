//! What `berth network …` and `berth port` send and print, next to the real docker CLI:
//! both talk to the same recording fake daemon (canned answers taken from a dockerd), and
//! the requests, stdout, stderr and exit status must match. No daemon is needed; the
//! docker CLI is.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_berth");
const NEW_ID: &str = "943d63fc482fd4fcaae2168765486389408d701e0305380b20c882435bad056f";

/// One request as the fake daemon saw it (the version prefix dropped).
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    method: String,
    path: String,
    query: BTreeMap<String, Value>,
    body: Value,
}

/// Networks as a dockerd lists them. Each has at most one label, as docker joins labels
/// in Go map order (random).
fn networks() -> Value {
    json!([
        {"Name": "n10", "Id": "a254c764d91544de92f3b2de59e5f43e50573a4d76abcc5cec3dffcd2fde9515",
         "Created": "2026-11-23T13:10:51.17096Z", "Scope": "local", "Driver": "bridge",
         "EnableIPv6": false,
         "IPAM": {"Driver": "default", "Options": {}, "Config": [{"Subnet": "172.17.0.0/16", "Gateway": "172.17.0.1"}]},
         "Internal": false, "Attachable": false, "Ingress": false, "ConfigFrom": {"Network": ""},
         "ConfigOnly": false, "Containers": {}, "Options": {}, "Labels": {"team": "core"}},
        {"Name": "host", "Id": "ec1f061ca93e3b27c5835ab4ba064a10c6eb1f3d124ca628f67f3c9bed705e66",
         "Created": "2026-11-23T13:10:43.540509486Z", "Scope": "local", "Driver": "host",
         "EnableIPv6": false, "IPAM": {"Driver": "default", "Options": null, "Config": []},
         "Internal": false, "Attachable": false, "Ingress": false, "ConfigFrom": {"Network": ""},
         "ConfigOnly": false, "Containers": {}, "Options": {}, "Labels": {}},
        {"Name": "n2", "Id": "98974ba910f13b604f4b2eda2b645d873e8606d0cf8bcb49be46568ff40b752e",
         "Created": "2026-11-23T13:10:51.204737222Z", "Scope": "local", "Driver": "bridge",
         "EnableIPv6": true,
         "IPAM": {"Driver": "default", "Options": {},
                  "Config": [{"Subnet": "10.5.0.0/16", "IPRange": "10.5.1.0/24", "Gateway": "10.5.0.1",
                              "AuxiliaryAddresses": {"a": "10.5.0.9"}}]},
         "Internal": true, "Attachable": true, "Ingress": false, "ConfigFrom": {"Network": ""},
         "ConfigOnly": false,
         "Containers": {"c92c52d0cb51cb73a54590a96df76ee8bddb76bc2542f1e19c0996c8d59836c1":
             {"Name": "pt", "EndpointID": "e1", "MacAddress": "02:42:0a:05:01:02",
              "IPv4Address": "10.5.1.2/16", "IPv6Address": ""}},
         "Options": {"com.docker.network.bridge.name": "brnetcli1"}, "Labels": {"x": "y"}}
    ])
}

fn container() -> Value {
    json!({
        "Id": "c92c52d0cb51cb73a54590a96df76ee8bddb76bc2542f1e19c0996c8d59836c1",
        "Name": "/pt",
        "NetworkSettings": {"Ports": {
            "443/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8443"}],
            "80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "18080"}, {"HostIp": "::1", "HostPort": "18080"}],
            "81/udp": [{"HostIp": "0.0.0.0", "HostPort": "18081"}],
            "82/tcp": null,
            "9/tcp": [{"HostIp": "0.0.0.0", "HostPort": "9000"}]
        }}
    })
}

/// The canned answer to a request: status line and JSON body (empty for none).
fn answer(seen: &Seen) -> (&'static str, String) {
    let nets = networks();
    let find = |name: &str| {
        nets.as_array()
            .unwrap()
            .iter()
            .find(|n| n["Name"] == name || n["Id"].as_str().unwrap().starts_with(name))
            .cloned()
    };
    let not_found = |name: &str| {
        (
            "404 Not Found",
            json!({"message": format!("network {name} not found")}).to_string(),
        )
    };
    let parts: Vec<&str> = seen.path.trim_start_matches('/').split('/').collect();
    match (seen.method.as_str(), parts.as_slice()) {
        ("GET", ["networks"]) => ("200 OK", nets.to_string()),
        ("POST", ["networks", "create"]) => (
            "201 Created",
            json!({"Id": NEW_ID, "Warning": ""}).to_string(),
        ),
        ("POST", ["networks", "prune"]) => (
            "200 OK",
            json!({"NetworksDeleted": ["n2", "n3"]}).to_string(),
        ),
        ("GET", ["networks", name]) => match find(name) {
            Some(n) => ("200 OK", n.to_string()),
            None => not_found(name),
        },
        ("DELETE", ["networks", name]) => match find(name) {
            Some(_) => ("204 No Content", String::new()),
            None => not_found(name),
        },
        ("POST", ["networks", name, "connect" | "disconnect"]) => match find(name) {
            Some(_) if seen.body["Container"] == "pt" => ("200 OK", String::new()),
            Some(_) => (
                "404 Not Found",
                json!({"message": format!("No such container: {}", seen.body["Container"].as_str().unwrap_or_default())}).to_string(),
            ),
            None => not_found(name),
        },
        ("GET", ["containers", "pt", "json"]) => ("200 OK", container().to_string()),
        ("GET", ["containers", name, "json"]) => (
            "404 Not Found",
            json!({"message": format!("No such container: {name}")}).to_string(),
        ),
        _ => (
            "404 Not Found",
            json!({"message": "page not found"}).to_string(),
        ),
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.replace('+', " ").into_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

/// A query value; JSON ones (`filters`) parsed, so key order does not matter.
fn query_value(v: &str) -> Value {
    serde_json::from_str(v).unwrap_or_else(|_| json!(v))
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
        let path = match path.strip_prefix("/v") {
            Some(rest) => rest
                .split_once('/')
                .map_or(path.to_owned(), |(_, p)| format!("/{p}")),
            None => path.to_owned(),
        };
        let request = Seen {
            method,
            path: percent_decode(&path),
            query: query
                .split('&')
                .filter(|kv| !kv.is_empty())
                .map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                    (percent_decode(k), query_value(&percent_decode(v)))
                })
                .collect(),
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        };
        if request.path == "/_ping" {
            let text = if request.method == "HEAD" { "" } else { "OK" };
            let _ = write!(stream, "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nOstype: linux\r\nContent-Length: {}\r\n\r\n{text}", text.len());
            continue;
        }
        let (status, body) = answer(&request);
        seen.lock().unwrap().push(request);
        let _ = write!(
            stream,
            "HTTP/1.1 {status}\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
    }
}

struct FakeDaemon {
    dir: tempfile::TempDir,
    seen: Arc<Mutex<Vec<Seen>>>,
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

    /// Runs a CLI with `stdin` against the fake daemon: its output and its requests.
    fn run(&self, program: &str, args: &[&str], stdin: &[u8]) -> (Output, Vec<Seen>) {
        self.seen.lock().unwrap().clear();
        let mut child = Command::new(program)
            .arg("-H")
            .arg(format!(
                "unix://{}",
                self.dir.path().join("d.sock").display()
            ))
            .args(args)
            .env("DOCKER_CONFIG", self.dir.path().join("docker-config"))
            .env("DOCKER_CLI_HINTS", "false")
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_API_VERSION")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        let out = child.wait_with_output().unwrap();
        (out, self.seen.lock().unwrap().clone())
    }
}

fn docker() -> Option<&'static str> {
    Path::new(berth_testkit::DOCKER_CLI)
        .exists()
        .then_some(berth_testkit::DOCKER_CLI)
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// stderr with the program's name made neutral.
fn neutral_stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr)
        .replace("docker", "CLI")
        .replace("berth", "CLI")
}

/// docker sends the IPAM pools in Go map order (random); sort them by subnet.
fn normalized(mut requests: Vec<Seen>) -> Vec<Seen> {
    for r in &mut requests {
        if let Some(pools) = r
            .body
            .pointer_mut("/IPAM/Config")
            .and_then(Value::as_array_mut)
        {
            pools.sort_by(|a, b| a["Subnet"].as_str().cmp(&b["Subnet"].as_str()));
        }
    }
    requests
}

/// Runs `args` through both CLIs and asserts the same output, exit status and requests
/// (those `keep` accepts). Returns berth's output.
fn same_with(
    fake: &FakeDaemon,
    docker: &str,
    args: &[&str],
    stdin: &[u8],
    keep: fn(&Seen) -> bool,
) -> Output {
    let (theirs, their_requests) = fake.run(docker, args, stdin);
    let (ours, our_requests) = fake.run(BIN, args, stdin);
    let context = format!(
        "{args:?}\nberth: {}\ndocker: {}",
        text(&ours),
        text(&theirs)
    );
    assert_eq!(ours.status.code(), theirs.status.code(), "{context}");
    assert_eq!(ours.stdout, theirs.stdout, "{context}");
    assert_eq!(neutral_stderr(&ours), neutral_stderr(&theirs), "{context}");
    let filter = |r: Vec<Seen>| normalized(r.into_iter().filter(&keep).collect());
    assert_eq!(filter(our_requests), filter(their_requests), "{context}");
    ours
}

fn same(fake: &FakeDaemon, docker: &str, args: &[&str]) -> Output {
    same_with(fake, docker, args, b"", |_| true)
}

#[test]
fn create_sends_what_docker_sends() {
    let Some(docker) = docker() else {
        eprintln!("skipped: {} is not installed", berth_testkit::DOCKER_CLI);
        return;
    };
    let fake = FakeDaemon::start();
    let cases: &[&[&str]] = &[
        &["n1"],
        &[
            "--subnet",
            "10.6.0.0/16",
            "--gateway",
            "10.6.0.1",
            "--ip-range",
            "10.6.2.0/24",
            "--aux-address",
            "a=10.6.0.9",
            "--aux-address",
            "b=10.6.0.10",
            "-o",
            "k=v",
            "--opt",
            "bare",
            "--ipam-opt",
            "io=1",
            "--ipam-driver",
            "mine",
            "--label",
            "x=y",
            "--label",
            "z",
            "--ipv6",
            "--subnet",
            "fd00::/64",
            "n3",
        ],
        &[
            "-d",
            "macvlan",
            "--internal",
            "--attachable",
            "--ipv4=false",
            "--scope",
            "local",
            "--config-from",
            "base",
            "--config-only",
            "--ingress",
            "n4",
        ],
        &[
            "--subnet=10.1.0.0/16,10.2.0.0/16",
            "--gateway=10.2.0.1",
            "n5",
        ],
    ];
    for case in cases {
        let args: Vec<&str> = ["network", "create"].iter().chain(*case).copied().collect();
        let out = same(&fake, docker, &args);
        assert_eq!(out.stdout, format!("{NEW_ID}\n").as_bytes());
    }
    // Mistakes caught before anything is sent.
    let mistakes: &[&[&str]] = &[
        &["--gateway", "10.0.0.1", "x"],
        &["--subnet", "10.9.0.0/16", "--ip-range", "10.8.0.0/24", "x"],
        &["--subnet", "10.9.0.0/16", "--subnet", "10.9.1.0/24", "x"],
        &[
            "--subnet",
            "10.9.0.0/16",
            "--aux-address",
            "a=10.10.0.3",
            "x",
        ],
        &["--subnet", "10.9.0.0/16", "--ip-range", "bogus", "x"],
        &["--label", "", "x"],
        &["--ipv6=maybe", "x"],
        &[],
        &["a", "b"],
    ];
    for case in mistakes {
        let args: Vec<&str> = ["network", "create"].iter().chain(*case).copied().collect();
        let out = same(&fake, docker, &args);
        assert!(!out.status.success());
    }
}

#[test]
fn ls_prints_what_docker_prints() {
    let Some(docker) = docker() else {
        eprintln!("skipped: {} is not installed", berth_testkit::DOCKER_CLI);
        return;
    };
    let fake = FakeDaemon::start();
    let cases: &[&[&str]] = &[
        &[],
        &["-q"],
        &["--no-trunc"],
        &["-q", "--no-trunc"],
        &["--format", "json"],
        &["--format", "raw"],
        &["-q", "--format", "raw"],
        &["--format", "table"],
        &["-q", "--format", "{{.Name}}"],
        &[
            "--format",
            "table {{.Name}}\t{{.IPv4}}\t{{.IPv6}}\t{{.Internal}}\t{{.Labels}}\t{{.CreatedAt}}",
        ],
        &["--format", "{{.Name}}: {{.Label \"team\"}}"],
        &["--format", "{{.Bogus}}"],
        &["--format", "{{.Name"],
        &[
            "-f",
            "driver=bridge",
            "--filter",
            "name=n",
            "--filter",
            "name=h",
        ],
        &["-f", "nonsense"],
        &["extra"],
    ];
    for case in cases {
        let args: Vec<&str> = ["network", "ls"].iter().chain(*case).copied().collect();
        same(&fake, docker, &args);
    }
    let table = same(&fake, docker, &["network", "list"]);
    assert!(String::from_utf8_lossy(&table.stdout)
        .starts_with("NETWORK ID     NAME      DRIVER    SCOPE\nec1f061ca93e   host      host      local\n98974ba910f1   n2 "));
}

#[test]
fn inspect_and_rm_print_what_docker_prints() {
    let Some(docker) = docker() else {
        eprintln!("skipped: {} is not installed", berth_testkit::DOCKER_CLI);
        return;
    };
    let fake = FakeDaemon::start();
    let cases: &[&[&str]] = &[
        &["network", "inspect", "n2"],
        &["network", "inspect", "n2", "host", "-v"],
        &["network", "inspect", "-f", "json", "n10"],
        &[
            "network",
            "inspect",
            "-f",
            "{{.Name}} {{.IPAM.Driver}}",
            "n2",
            "nosuch",
            "n10",
        ],
        &["network", "inspect", "nosuch"],
        &["network", "inspect", " "],
        &["network", "inspect", "-f", "{{.Name", "n2"],
        &["network", "inspect", "-f", "{{.Nope}}", "n2"],
        &["network", "inspect"],
        &["inspect", "--type", "network", "n2"],
    ];
    for case in cases {
        same(&fake, docker, case);
    }
    // docker looks each network up (for swarm's ingress prompt) before removing it;
    // compare the removals.
    let deletes = |s: &Seen| s.method == "DELETE";
    for case in [
        &["network", "rm", "n2", "nosuch", "n10"][..],
        &["network", "remove", "-f", "nosuch", "n2"],
        &["network", "rm", " "],
        &["network", "rm"],
    ] {
        same_with(&fake, docker, case, b"", deletes);
    }
}

#[test]
fn prune_connect_disconnect_and_port_match_docker() {
    let Some(docker) = docker() else {
        eprintln!("skipped: {} is not installed", berth_testkit::DOCKER_CLI);
        return;
    };
    let fake = FakeDaemon::start();
    let out = same(&fake, docker, &["network", "prune", "-f"]);
    assert_eq!(out.stdout, b"Deleted Networks:\nn2\nn3\n\n");
    same(
        &fake,
        docker,
        &[
            "network", "prune", "--force", "--filter", "label=x", "--filter", "until=1h",
        ],
    );
    // Declining the prompt sends nothing and ends quietly.
    let out = same_with(&fake, docker, &["network", "prune"], b"n\n", |_| true);
    assert!(
        String::from_utf8_lossy(&out.stdout).ends_with("Are you sure you want to continue? [y/N] ")
    );
    same_with(&fake, docker, &["network", "prune"], b"y\n", |_| true);
    let cases: &[&[&str]] = &[
        &["network", "connect", "n2", "pt"],
        &[
            "network",
            "connect",
            "--ip",
            "10.5.1.9",
            "--ip6",
            "fd00::9",
            "--alias",
            "a1,a2",
            "--alias",
            "a3",
            "--link",
            "other:db",
            "--link-local-ip",
            "169.254.1.1",
            "--driver-opt",
            "x=1",
            "--gw-priority",
            "-2",
            "n2",
            "pt",
        ],
        &["network", "connect", "n2", "nosuch"],
        &["network", "connect", "nosuch", "pt"],
        &["network", "connect", "--driver-opt", "novalue", "n2", "pt"],
        &["network", "connect", "--link", "a:b:c", "n2", "pt"],
        &["network", "connect", "n2"],
        &["network", "disconnect", "n2", "pt"],
        &["network", "disconnect", "-f", "n2", "nosuch"],
        &["network", "disconnect", " ", "pt"],
        &["port", "pt"],
        &["port", "pt", "80"],
        &["port", "pt", "81/udp"],
        &["port", "pt", "81/tcp"],
        &["port", "pt", "82"],
        &["port", "pt", "abc"],
        &["port", "pt", "70000"],
        &["container", "port", "pt", "443/tcp"],
        &["port", "nosuch"],
        &["port"],
        &["port", "a", "b", "c"],
    ];
    for case in cases {
        same(&fake, docker, case);
    }
    let out = same(&fake, docker, &["port", "pt"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "9/tcp -> 0.0.0.0:9000\n80/tcp -> 127.0.0.1:18080\n80/tcp -> [::1]:18080\n81/udp -> 0.0.0.0:18081\n443/tcp -> 0.0.0.0:8443\n"
    );
}
