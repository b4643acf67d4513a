//! The network commands and `port` of `berth` end to end, against a berth daemon, next to
//! the real docker CLI: both must print the same and exit the same (`network create`,
//! `ls`, `inspect`, `rm`, `prune`, `connect`, `disconnect`, `port`).

use std::io::Write;
use std::process::{Command, Output, Stdio};

use berth_testkit::check::{inspect, ok, text};
use berth_testkit::TestDaemon;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_berth");

fn daemon() -> TestDaemon {
    TestDaemon::start(BIN)
}

/// stderr with the program's name made neutral, so docker's and berth's compare.
fn neutral_stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr)
        .replace("docker", "CLI")
        .replace("berth", "CLI")
}

/// Runs the same command through both CLIs and asserts the same result.
fn same(d: &TestDaemon, args: &[&str]) -> Output {
    let theirs = d.docker(args);
    let ours = d.berth(args);
    let context = format!(
        "{args:?}\nberth: {}\ndocker: {}",
        text(&ours),
        text(&theirs)
    );
    assert_eq!(ours.status.code(), theirs.status.code(), "{context}");
    assert_eq!(ours.stdout, theirs.stdout, "{context}");
    assert_eq!(neutral_stderr(&ours), neutral_stderr(&theirs), "{context}");
    ours
}

fn with_stdin(d: &TestDaemon, program: &str, args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(program)
        .arg("-H")
        .arg(d.host())
        .args(args)
        .env("DOCKER_CLI_HINTS", "false")
        .env("DOCKER_CONFIG", d.dir().join("docker-config"))
        .env_remove("DOCKER_HOST")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// Cells of a table row (docker pads columns with three spaces at least).
fn cells(line: &str) -> Vec<String> {
    line.split("   ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn mistakes_are_caught_before_any_network_request() {
    let d = daemon();
    for args in [
        &["network", "create", "--gateway", "10.0.0.1", "x"][..],
        &[
            "network",
            "create",
            "--subnet",
            "10.9.0.0/16",
            "--subnet",
            "10.9.1.0/24",
            "x",
        ],
        &["network", "create", "--label", "", "x"],
        &["network", "create"],
        &["network", "ls", "extra"],
        &["network", "inspect", "-f", "{{.Name", "x"],
        &["network", "rm", " "],
        &["network", "connect", "--driver-opt", "novalue", "n", "c"],
        &["network", "disconnect", "n"],
        &["port"],
        &["port", "nosuch"],
    ] {
        let out = same(&d, args);
        assert!(!out.status.success(), "{args:?}");
    }
}

#[test]
fn create_ls_inspect_rm_like_docker() {
    let d = daemon();
    let id = ok(d.berth(&["network", "create", "n1"]));
    assert_eq!(id.trim().len(), 64, "{id}");
    assert!(id.trim().bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    ok(d.docker(&["network", "create", "--label", "team=core", "n10"]));
    ok(d.berth(&["network", "create", "--label", "team=edge", "n2"]));
    for args in [
        &["network", "ls"][..],
        &["network", "list", "-q"],
        &["network", "ls", "--no-trunc"],
        &["network", "ls", "--format", "json"],
        &["network", "ls", "--format", "raw"],
        &[
            "network",
            "ls",
            "--filter",
            "name=n1",
            "--format",
            "{{.Name}} {{.Driver}}",
        ],
        &[
            "network",
            "ls",
            "-f",
            "label=team",
            "--format",
            "{{.Name}} {{.Label \"team\"}}",
        ],
        &["network", "inspect", "n1"],
        &[
            "network",
            "inspect",
            "-f",
            "{{.Name}} {{.Driver}} {{.Scope}}",
            "n2",
            "n10",
        ],
        &["network", "inspect", "n1", "nosuch"],
        &["network", "inspect", "-f", "json", "n2"],
        &["inspect", "n2"],
        &["inspect", "--type", "network", "-f", "{{.Name}}", "n10"],
    ] {
        same(&d, args);
    }
    let table = ok(d.berth(&["network", "ls"]));
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(cells(lines[0]), ["NETWORK ID", "NAME", "DRIVER", "SCOPE"]);
    // Names sort naturally: n1, n2, n10.
    let names: Vec<String> = lines[1..].iter().map(|l| cells(l)[1].clone()).collect();
    let user: Vec<&String> = names
        .iter()
        .filter(|n| n.starts_with('n') && *n != "none")
        .collect();
    assert_eq!(user, ["n1", "n2", "n10"], "{table}");
    assert!(table.contains(&id.trim()[..12]), "{table}");
    // One failure among removals: the others go, the failure is reported, exit 1.
    let theirs = d.docker(&["network", "rm", "nosuch"]);
    let ours = d.berth(&["network", "rm", "n1", "nosuch", "n2"]);
    assert_eq!(ours.status.code(), Some(1), "{}", text(&ours));
    assert_eq!(ours.stdout, b"n1\nn2\n");
    assert_eq!(neutral_stderr(&ours), neutral_stderr(&theirs));
    same(&d, &["network", "rm", "-f", "nosuch"]);
    let out = ok(d.berth(&["network", "remove", "n10"]));
    assert_eq!(out, "n10\n");
}

#[test]
fn create_flags_reach_the_daemon() {
    let d = daemon();
    let flags = |subnet: &str, gateway: &str, range: &str, aux: &str| {
        vec![
            "--subnet".to_owned(),
            subnet.to_owned(),
            "--gateway".to_owned(),
            gateway.to_owned(),
            "--ip-range".to_owned(),
            range.to_owned(),
            "--aux-address".to_owned(),
            format!("reserved={aux}"),
            "--label".to_owned(),
            "a=b".to_owned(),
            "--internal".to_owned(),
            "--attachable".to_owned(),
        ]
    };
    let create = |cli: fn(&TestDaemon, &[&str]) -> Output, name: &str, f: Vec<String>| {
        let mut args: Vec<&str> = vec!["network", "create"];
        args.extend(f.iter().map(String::as_str));
        args.push(name);
        ok(cli(&d, &args))
    };
    create(
        TestDaemon::berth,
        "ours",
        flags("10.77.0.0/16", "10.77.0.1", "10.77.3.0/24", "10.77.0.5"),
    );
    create(
        TestDaemon::docker,
        "theirs",
        flags("10.78.0.0/16", "10.78.0.1", "10.78.3.0/24", "10.78.0.5"),
    );
    // The same flags give the same network, but for the name, ID, time and addresses.
    let comparable = |name: &str, second_octet: &str| {
        let mut v = inspect(&d, name);
        for key in ["Name", "Id", "Created"] {
            v[key] = Value::Null;
        }
        v.to_string()
            .replace(&format!("10.{second_octet}."), "10.X.")
    };
    assert_eq!(comparable("ours", "77"), comparable("theirs", "78"));
    let ours = inspect(&d, "ours");
    assert_eq!(ours["IPAM"]["Config"][0]["Gateway"], "10.77.0.1");
    assert_eq!(ours["IPAM"]["Config"][0]["IPRange"], "10.77.3.0/24");
    assert_eq!(ours["Internal"], true);
    assert_eq!(ours["Labels"]["a"], "b");
    same(&d, &["network", "create", "ours"]);
    ok(d.docker(&["network", "rm", "ours", "theirs"]));
}

#[test]
fn prune_asks_then_lists_what_it_removed() {
    let d = daemon();
    for name in ["p1", "p2"] {
        ok(d.docker(&["network", "create", "--label", "prune=yes", name]));
    }
    ok(d.docker(&["network", "create", "kept"]));
    let args = ["network", "prune", "--filter", "label=prune=yes"];
    let theirs = with_stdin(&d, berth_testkit::DOCKER_CLI, &args, b"n\n");
    let ours = with_stdin(&d, BIN, &args, b"n\n");
    assert_eq!(ours.status.code(), Some(0), "{}", text(&ours));
    assert_eq!(ours.stdout, theirs.stdout);
    assert!(String::from_utf8_lossy(&ours.stdout).starts_with(
        "WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] "
    ));
    let ours = with_stdin(&d, BIN, &args, b"y\n");
    let listed = String::from_utf8_lossy(&ours.stdout);
    let report = listed.split("[y/N] ").nth(1).unwrap_or_default();
    let mut deleted: Vec<&str> = report.lines().collect();
    assert_eq!(deleted.first(), Some(&"Deleted Networks:"), "{listed}");
    assert_eq!(deleted.pop(), Some(""), "{listed}");
    deleted.sort();
    assert_eq!(deleted, ["Deleted Networks:", "p1", "p2"], "{listed}");
    // Nothing left to prune: both print nothing.
    same(
        &d,
        &["network", "prune", "-f", "--filter", "label=prune=yes"],
    );
    ok(d.docker(&["network", "rm", "kept"]));
}

#[test]
fn connect_disconnect_and_port_like_docker() {
    let d = daemon();
    d.load_busybox();
    ok(d.docker(&["network", "create", "--subnet", "10.79.0.0/16", "web"]));
    ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "box",
        "-p",
        "127.0.0.1::80",
        "-p",
        "127.0.0.1::81/udp",
        "busybox",
        "sleep",
        "300",
    ]));
    ok(d.berth(&[
        "network",
        "connect",
        "--ip",
        "10.79.0.9",
        "--alias",
        "front,www",
        "web",
        "box",
    ]));
    let ep = &inspect(&d, "box")["NetworkSettings"]["Networks"]["web"];
    assert_eq!(ep["IPAddress"], "10.79.0.9", "{ep}");
    let aliases = ep["Aliases"].to_string();
    assert!(
        aliases.contains("front") && aliases.contains("www"),
        "{aliases}"
    );
    same(&d, &["network", "connect", "web", "box"]);
    same(&d, &["network", "connect", "web", "nosuch"]);
    same(&d, &["network", "connect", "nosuch", "box"]);
    ok(d.berth(&["network", "disconnect", "web", "box"]));
    assert!(inspect(&d, "box")["NetworkSettings"]["Networks"]
        .get("web")
        .is_none());
    same(&d, &["network", "disconnect", "web", "box"]);
    same(&d, &["network", "disconnect", "-f", "web", "nosuch"]);
    let all = same(&d, &["port", "box"]);
    let all = String::from_utf8_lossy(&all.stdout).into_owned();
    assert!(all.starts_with("80/tcp -> 127.0.0.1:"), "{all}");
    assert!(all.contains("\n81/udp -> 127.0.0.1:"), "{all}");
    same(&d, &["port", "box", "80"]);
    same(&d, &["container", "port", "box", "81/udp"]);
    let missing = same(&d, &["port", "box", "81/tcp"]);
    assert_eq!(
        String::from_utf8_lossy(&missing.stderr),
        "Error: No public port '81/tcp' published for box\n"
    );
    ok(d.docker(&["rm", "-f", "box"]));
    ok(d.docker(&["network", "rm", "web"]));
}
