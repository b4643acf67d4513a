//! Volumes end to end, with the real docker CLI and `berth` against a berth daemon: create,
//! ls (filters, formats), inspect, rm, prune (anonymous only unless `-a`, and before API
//! 1.42 every unused volume), labels, events, moby's errors, `system df`, a restart.
//!
//! The tests named `with_containers_*` need container mounts (`-v name:/path`); they
//! exercise references (409 on rm, prune sparing used volumes, `dangling`) and the
//! content a container writes.

use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use berth_testkit::check::{ok, text};
use berth_testkit::TestDaemon;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_berth");

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// stderr with the program's name made neutral, so docker's and berth's compare.
fn neutral_stderr(out: &Output) -> String {
    stderr(out).replace("docker", "CLI").replace("berth", "CLI")
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

fn api(d: &TestDaemon, method: &str, path: &str, body: &Value) -> (u16, Value) {
    let bytes = if body.is_null() {
        Vec::new()
    } else {
        body.to_string().into_bytes()
    };
    let r = d
        .http(
            method,
            path,
            &[("Content-Type", "application/json")],
            &bytes,
        )
        .unwrap();
    let v = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    (r.status, v)
}

fn inspect(d: &TestDaemon, name: &str) -> Value {
    serde_json::from_str::<Value>(&ok(d.docker(&["volume", "inspect", name]))).unwrap()[0].clone()
}

fn mountpoint(d: &TestDaemon, name: &str) -> PathBuf {
    PathBuf::from(inspect(d, name)["Mountpoint"].as_str().unwrap())
}

fn names(out: &str) -> Vec<String> {
    out.lines().map(str::to_owned).collect()
}

/// `(action, id, driver)` of the volume events so far.
fn volume_events(d: &TestDaemon) -> Vec<String> {
    // `--until` is whole seconds: let the last events fall in a past second.
    std::thread::sleep(Duration::from_millis(1100));
    names(&ok(d.docker(&[
        "events",
        "--since",
        "0",
        "--until",
        "0s",
        "--filter",
        "type=volume",
        "--format",
        "{{.Action}} {{.Actor.ID}} {{index .Actor.Attributes \"driver\"}}",
    ])))
}

#[test]
fn create_list_inspect_and_remove_as_docker_does() {
    let d = TestDaemon::start(BIN);
    assert_eq!(ok(d.docker(&["volume", "create", "vol2"])), "vol2\n");
    assert_eq!(ok(d.berth(&["volume", "create", "vol10"])), "vol10\n");
    // Create is idempotent: the same name answers with the same volume.
    same(&d, &["volume", "create", "vol2"]);
    // One label each: docker joins several in Go's random map order.
    same(
        &d,
        &["volume", "create", "--label", "team=core", "labelled"],
    );

    let ls = same(&d, &["volume", "ls"]);
    assert_eq!(
        String::from_utf8(ls.stdout).unwrap(),
        "DRIVER    VOLUME NAME\nlocal     labelled\nlocal     vol2\nlocal     vol10\n"
    );
    same(&d, &["volume", "list", "-q"]);
    same(
        &d,
        &[
            "volume",
            "ls",
            "--format",
            "{{.Name}}|{{.Scope}}|{{.Mountpoint}}|{{.Links}}|{{.Size}}",
        ],
    );
    same(&d, &["volume", "ls", "--format", "json"]);
    same(
        &d,
        &["volume", "ls", "--format", "{{.Name}} {{.Label \"team\"}}"],
    );
    same(&d, &["volume", "ls", "--format", "raw"]);

    let v = inspect(&d, "labelled");
    let created = v["CreatedAt"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(created).is_ok(),
        "{created}"
    );
    assert_eq!(
        v,
        json!({
            "CreatedAt": created,
            "Driver": "local",
            "Labels": {"team": "core"},
            "Mountpoint": d.data_root.join("volumes/labelled/_data").display().to_string(),
            "Name": "labelled",
            "Options": null,
            "Scope": "local",
        })
    );
    let raw = d.http("GET", "/volumes/vol2", &[], b"").unwrap();
    assert_eq!(raw.status, 200);
    let body: Value = serde_json::from_slice(&raw.body).unwrap();
    assert_eq!(
        body["Labels"],
        Value::Null,
        "no labels given: null, as moby"
    );
    assert!(d.data_root.join("volumes/vol2/_data").is_dir());

    same(&d, &["volume", "inspect", "vol2", "labelled"]);
    same(
        &d,
        &[
            "volume",
            "inspect",
            "-f",
            "{{.Name}} {{.Driver}} {{.Labels.team}}",
            "labelled",
        ],
    );
    same(&d, &["volume", "inspect", "missing"]);
    same(&d, &["volume", "inspect", "vol2", "missing", "nope"]);
    same(&d, &["volume", "inspect", "a/b"]);
    same(&d, &["volume", "rm", "missing"]);
    same(&d, &["volume", "rm", "-f", "missing"]);
    same(&d, &["volume", "rm"]);
    same(&d, &["volume", "create", "a", "b"]);

    // rm prints each name; a failure does not stop the others, and exits 1.
    let out = d.docker(&["volume", "rm", "vol2", "missing", "vol10"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "vol2\nvol10\n");
    assert_eq!(
        stderr(&out),
        "Error response from daemon: get missing: no such volume\n"
    );
    let out = d.berth(&["volume", "remove", "labelled", "gone"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "labelled\n");
    assert_eq!(
        stderr(&out),
        "Error response from daemon: get gone: no such volume\n"
    );
    assert_eq!(ok(d.docker(&["volume", "ls", "-q"])), "");
    assert!(!d.data_root.join("volumes/vol2").exists());
    // `docker inspect` finds volumes too.
    let out = ok(d.docker(&["volume", "create", "found"]));
    assert_eq!(out, "found\n");
    same(
        &d,
        &["inspect", "--format", "{{.Name}} {{.Scope}}", "found"],
    );
}

#[test]
fn anonymous_volumes_and_moby_errors() {
    let d = TestDaemon::start(BIN);
    let anon = ok(d.docker(&["volume", "create"])).trim().to_owned();
    assert_eq!(anon.len(), 64, "{anon}");
    assert!(anon.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(
        inspect(&d, &anon)["Labels"],
        json!({"com.docker.volume.anonymous": ""})
    );
    let ours = ok(d.berth(&["volume", "create"])).trim().to_owned();
    assert_eq!(ours.len(), 64);
    assert_ne!(ours, anon);

    // Names: moby's local-driver rule and words, 400.
    let (status, body) = api(&d, "POST", "/volumes/create", &json!({"Name": "a/b"}));
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["message"],
        "create a/b: \"a/b\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"
    );
    let (status, body) = api(&d, "POST", "/volumes/create", &json!({"Name": "x"}));
    assert_eq!(status, 400);
    assert_eq!(
        body["message"],
        "create x: volume name is too short, names should be at least two alphanumeric characters"
    );
    same(&d, &["volume", "create", "--", "-bad"]);
    same(&d, &["volume", "create", "bad name"]);
    // Drivers and options.
    let (status, body) = api(
        &d,
        "POST",
        "/volumes/create",
        &json!({"Name": "vx", "Driver": "flocker"}),
    );
    assert_eq!(status, 404);
    assert_eq!(
        body["message"],
        "create vx: error looking up volume plugin flocker: plugin \"flocker\" not found"
    );
    same(&d, &["volume", "create", "-d", "flocker", "vx"]);
    let (status, body) = api(
        &d,
        "POST",
        "/volumes/create",
        &json!({"Name": "vx", "DriverOpts": {"colour": "red"}}),
    );
    assert_eq!(status, 400);
    assert_eq!(body["message"], "create vx: invalid option: \"colour\"");
    same(&d, &["volume", "create", "-o", "type=tmpfs", "vx"]);
    same(&d, &["volume", "create", "-o", "size=10m", "vx"]);
    let r = d.http("POST", "/volumes/create", &[], b"{bad").unwrap();
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("invalid JSON"), "{}", r.text());
    // An empty body is an anonymous volume, as moby reads it.
    let (status, body) = api(&d, "POST", "/volumes/create", &Value::Null);
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["Labels"]["com.docker.volume.anonymous"], "");
    assert_eq!(body["Scope"], "local");

    // Options are kept and shown.
    ok(d.docker(&[
        "volume",
        "create",
        "-o",
        "type=tmpfs",
        "-o",
        "device=tmpfs",
        "-o",
        "o=size=1m",
        "mem",
    ]));
    assert_eq!(
        inspect(&d, "mem")["Options"],
        json!({"device": "tmpfs", "o": "size=1m", "type": "tmpfs"})
    );
    // Force on a missing volume is no error; the list endpoint's shape is moby's.
    let (status, _) = api(&d, "DELETE", "/volumes/nothing?force=1", &Value::Null);
    assert_eq!(status, 204);
    let (status, body) = api(&d, "GET", "/volumes", &Value::Null);
    assert_eq!(status, 200);
    assert_eq!(body["Warnings"], Value::Null);
    assert_eq!(body["Volumes"].as_array().unwrap().len(), 4);
}

#[test]
fn filters_select_like_docker() {
    let d = TestDaemon::start(BIN);
    ok(d.docker(&[
        "volume", "create", "--label", "env=prod", "--label", "tier=db", "db-data",
    ]));
    ok(d.docker(&["volume", "create", "--label", "env=dev", "web-data"]));
    ok(d.docker(&["volume", "create", "cache"]));
    let q = |f: &[&str]| {
        let mut args = vec!["volume", "ls", "-q"];
        for x in f {
            args.extend(["--filter", x]);
        }
        let ours = ok(d.berth(&args));
        assert_eq!(ours, ok(d.docker(&args)), "{f:?}");
        names(&ours)
    };
    assert_eq!(q(&["label=env"]), ["db-data", "web-data"]);
    assert_eq!(q(&["label=env=prod"]), ["db-data"]);
    assert_eq!(q(&["label=env", "label=tier"]), ["db-data"]);
    assert_eq!(q(&["name=data"]), ["db-data", "web-data"]);
    assert_eq!(q(&["name=^c"]), ["cache"]);
    assert_eq!(q(&["driver=local"]).len(), 3);
    assert!(q(&["driver=other"]).is_empty());
    // Nothing references them yet: all are dangling.
    assert_eq!(q(&["dangling=true"]).len(), 3);
    assert!(q(&["dangling=false"]).is_empty());
    let out = same(&d, &["volume", "ls", "--filter", "colour=red"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "Error response from daemon: invalid filter 'colour'\n"
    );
    same(&d, &["volume", "ls", "--filter", "dangling=maybe"]);
    same(&d, &["volume", "ls", "--filter", "novalue"]);
}

#[test]
fn prune_removes_anonymous_volumes_unless_all_and_reports_space() {
    let d = TestDaemon::start(BIN);
    let anon = ok(d.docker(&["volume", "create"])).trim().to_owned();
    std::fs::write(mountpoint(&d, &anon).join("f"), vec![7u8; 12345]).unwrap();
    ok(d.docker(&["volume", "create", "named"]));
    std::fs::write(mountpoint(&d, "named").join("g"), b"hello").unwrap();
    ok(d.docker(&["volume", "create", "--label", "keep=1", "kept"]));
    ok(d.docker(&[
        "volume",
        "create",
        "-o",
        "type=tmpfs",
        "-o",
        "device=tmpfs",
        "mem",
    ]));

    // Declining the prompt removes nothing.
    let declined = d.berth(&["volume", "prune"]);
    assert!(declined.status.success(), "{}", text(&declined));
    assert_eq!(
        String::from_utf8_lossy(&declined.stdout),
        "WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] "
    );
    assert_eq!(ok(d.docker(&["volume", "ls", "-q"])).lines().count(), 4);

    let out = ok(d.docker(&["volume", "prune", "-f"]));
    assert_eq!(
        out,
        format!("Deleted Volumes:\n{anon}\n\nTotal reclaimed space: 12.35kB\n")
    );
    // Nothing anonymous is left: nothing more to prune, by either CLI.
    let out = same(&d, &["volume", "prune", "-f"]);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "Total reclaimed space: 0B\n"
    );
    // `-a`, with a label filter sparing one; volumes with options are never pruned.
    let out = ok(d.berth(&["volume", "prune", "-af", "--filter", "label!=keep"]));
    assert_eq!(
        out,
        "Deleted Volumes:\nnamed\n\nTotal reclaimed space: 5B\n"
    );
    assert_eq!(
        names(&ok(d.docker(&["volume", "ls", "-q"]))),
        ["kept", "mem"]
    );
    same(&d, &["volume", "prune", "-f", "--filter", "until=1h"]);
    same(&d, &["volume", "prune", "-a", "-f", "--filter", "all=1"]);

    // Before API 1.42 prune took named volumes too.
    let (status, body) = api(&d, "POST", "/v1.41/volumes/prune", &Value::Null);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"VolumesDeleted": ["kept"], "SpaceReclaimed": 0})
    );
    let (status, body) = api(&d, "POST", "/volumes/prune", &Value::Null);
    assert_eq!(status, 200);
    assert_eq!(body, json!({"VolumesDeleted": [], "SpaceReclaimed": 0}));
    assert_eq!(names(&ok(d.docker(&["volume", "ls", "-q"]))), ["mem"]);
}

#[test]
fn events_tell_create_and_destroy_once() {
    let d = TestDaemon::start(BIN);
    ok(d.docker(&["volume", "create", "ev"]));
    ok(d.docker(&["volume", "create", "ev"]));
    let anon = ok(d.berth(&["volume", "create"])).trim().to_owned();
    ok(d.berth(&["volume", "rm", "ev"]));
    ok(d.docker(&["volume", "prune", "-f"]));
    assert_eq!(
        volume_events(&d),
        [
            "create ev local".to_owned(),
            format!("create {anon} local"),
            "destroy ev local".to_owned(),
            format!("destroy {anon} local"),
            // No ID, no driver: Go's `index` of a missing key is "".
            "prune  ".to_owned(),
        ]
    );
}

#[test]
fn system_df_counts_volume_content() {
    let d = TestDaemon::start(BIN);
    ok(d.docker(&["volume", "create", "big"]));
    let data = mountpoint(&d, "big");
    std::fs::create_dir(data.join("sub")).unwrap();
    std::fs::write(data.join("sub/a"), vec![1u8; 2_000_000]).unwrap();
    std::fs::write(data.join("b"), vec![1u8; 500_000]).unwrap();
    ok(d.docker(&["volume", "create", "empty"]));
    ok(d.docker(&[
        "volume",
        "create",
        "-o",
        "type=tmpfs",
        "-o",
        "device=tmpfs",
        "mem",
    ]));

    let (status, body) = api(&d, "GET", "/system/df?type=volume", &Value::Null);
    assert_eq!(status, 200);
    let vols = body["Volumes"].as_array().unwrap();
    let sizes: Vec<(String, i64, i64)> = vols
        .iter()
        .map(|v| {
            (
                v["Name"].as_str().unwrap().to_owned(),
                v["UsageData"]["Size"].as_i64().unwrap(),
                v["UsageData"]["RefCount"].as_i64().unwrap(),
            )
        })
        .collect();
    // Volumes with driver options are left out, as moby does.
    assert_eq!(
        sizes,
        [("big".to_owned(), 2_500_000, 0), ("empty".to_owned(), 0, 0)]
    );
    let line = |out: &str| {
        out.lines()
            .find(|l| l.starts_with("Local Volumes"))
            .unwrap_or_default()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let docker_df = ok(d.docker(&["system", "df"]));
    assert_eq!(line(&docker_df), "Local Volumes 2 0 2.5MB 2.5MB (100%)");
    assert_eq!(line(&ok(d.berth(&["system", "df"]))), line(&docker_df));
    let section = |out: &str| {
        out.split("Local Volumes space usage:")
            .nth(1)
            .and_then(|s| s.split("Build cache usage").next())
            .unwrap_or_default()
            .to_owned()
    };
    let docker_v = ok(d.docker(&["system", "df", "-v"]));
    assert_eq!(
        section(&docker_v),
        "\n\nVOLUME NAME   LINKS     SIZE\nbig           0         2.5MB\nempty         0         0B\n\n"
    );
    assert_eq!(
        section(&ok(d.berth(&["system", "df", "-v"]))),
        section(&docker_v)
    );
}

#[test]
fn volumes_survive_a_daemon_restart() {
    let mut d = TestDaemon::start(BIN);
    ok(d.docker(&["volume", "create", "--label", "a=b", "persist"]));
    let anon = ok(d.docker(&["volume", "create"])).trim().to_owned();
    std::fs::write(mountpoint(&d, "persist").join("f"), b"kept").unwrap();
    let before = ok(d.docker(&["volume", "inspect", "persist", &anon]));
    assert!(d.stop());
    d.launch().unwrap();
    assert_eq!(
        ok(d.docker(&["volume", "inspect", "persist", &anon])),
        before
    );
    assert_eq!(
        std::fs::read(mountpoint(&d, "persist").join("f")).unwrap(),
        b"kept"
    );
    // The anonymous label came back with it: prune still knows which is which.
    assert_eq!(
        ok(d.docker(&["volume", "prune", "-f"])).lines().nth(1),
        Some(anon.as_str())
    );
}

// ---- needs container mounts (`-v name:/path`) ----

fn daemon_with_busybox() -> TestDaemon {
    let d = TestDaemon::start(BIN);
    d.load_busybox();
    d
}

#[test]
fn with_containers_a_referenced_volume_is_in_use() {
    let d = daemon_with_busybox();
    ok(d.docker(&["volume", "create", "used"]));
    let id = ok(d.docker(&["create", "-v", "used:/data", "busybox"]))
        .trim()
        .to_owned();
    for args in [
        &["volume", "rm", "used"][..],
        &["volume", "rm", "-f", "used"],
    ] {
        let out = same(&d, args);
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(
            stderr(&out),
            format!("Error response from daemon: remove used: volume is in use - [{id}]\n")
        );
    }
    let (status, _) = api(&d, "DELETE", "/volumes/used", &Value::Null);
    assert_eq!(status, 409);
    assert_eq!(
        names(&ok(d.docker(&[
            "volume",
            "ls",
            "-q",
            "--filter",
            "dangling=false"
        ]))),
        ["used"]
    );
    assert!(ok(d.docker(&["volume", "ls", "-q", "--filter", "dangling=true"])).is_empty());
    // In use: not pruned even with -a.
    assert_eq!(
        ok(d.docker(&["volume", "prune", "-af"])),
        "Total reclaimed space: 0B\n"
    );
    let df = ok(d.docker(&["system", "df", "-v"]));
    assert!(
        df.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["used", "1", "0B"]),
        "{df}"
    );
    ok(d.docker(&["rm", &id]));
    assert_eq!(ok(d.docker(&["volume", "rm", "used"])), "used\n");
}

#[test]
fn with_containers_data_outlives_the_container_and_anonymous_ones_go_with_rm_v() {
    let d = daemon_with_busybox();
    ok(d.docker(&[
        "run",
        "--rm",
        "-v",
        "shared:/d",
        "busybox",
        "sh",
        "-c",
        "echo hi > /d/f",
    ]));
    assert_eq!(
        ok(d.docker(&["run", "--rm", "-v", "shared:/d", "busybox", "cat", "/d/f"])),
        "hi\n"
    );
    assert_eq!(
        std::fs::read(mountpoint(&d, "shared").join("f")).unwrap(),
        b"hi\n"
    );
    let id = ok(d.docker(&["create", "-v", "/anon", "busybox"]))
        .trim()
        .to_owned();
    let anon: Vec<String> = names(&ok(d.docker(&["volume", "ls", "-q"])))
        .into_iter()
        .filter(|n| n != "shared")
        .collect();
    assert_eq!(anon.len(), 1);
    assert_eq!(
        inspect(&d, &anon[0])["Labels"],
        json!({"com.docker.volume.anonymous": ""})
    );
    ok(d.docker(&["rm", "-v", &id]));
    assert_eq!(names(&ok(d.docker(&["volume", "ls", "-q"]))), ["shared"]);
}

#[test]
fn with_containers_a_tmpfs_volume_is_mounted_while_in_use() {
    let d = daemon_with_busybox();
    ok(d.docker(&[
        "volume",
        "create",
        "-o",
        "type=tmpfs",
        "-o",
        "device=tmpfs",
        "-o",
        "o=size=1m",
        "mem",
    ]));
    let df = ok(d.docker(&["run", "--rm", "-v", "mem:/m", "busybox", "df", "-k", "/m"]));
    let fields: Vec<&str> = df
        .lines()
        .nth(1)
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(fields.first(), Some(&"tmpfs"), "{df}");
    assert_eq!(fields.get(1), Some(&"1024"), "{df}");
    // The last user gone, the volume's own mount is gone too.
    let data = mountpoint(&d, "mem");
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mountinfo
            .lines()
            .any(|l| l.split(' ').nth(4) == data.to_str()),
        "{mountinfo}"
    );
    let events = volume_events(&d);
    assert!(
        events.iter().any(|e| e.starts_with("mount mem ")),
        "{events:?}"
    );
    assert!(
        events.iter().any(|e| e.starts_with("unmount mem ")),
        "{events:?}"
    );
}
