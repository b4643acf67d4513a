//! `logs --details` end to end with the real docker CLI and with `berth`: the attributes
//! `--log-opt labels/env/env-regex/tag` pick are stored in every json-file line (Docker's
//! byte layout) and every `local` record, and printed before each line, sorted by key and
//! query-escaped, only when asked.

use std::process::Output;

use berth_testkit::check::{inspect, ok, text};
use berth_testkit::TestDaemon;

const BIN: &str = env!("CARGO_BIN_EXE_berth");

fn daemon() -> TestDaemon {
    let d = TestDaemon::start(BIN);
    d.load_busybox();
    d
}

/// `logs` through both CLIs, which must agree; returns (stdout, stderr).
fn logs(d: &TestDaemon, args: &[&str]) -> (String, String) {
    let mut full = vec!["logs"];
    full.extend_from_slice(args);
    let docker = d.docker(&full);
    let berth = d.berth(&full);
    assert!(docker.status.success(), "{}", text(&docker));
    assert!(berth.status.success(), "{}", text(&berth));
    let pair = |o: &Output| {
        (
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    assert_eq!(pair(&docker), pair(&berth), "docker and berth differ");
    pair(&docker)
}

#[test]
fn details_print_the_stored_attributes_and_the_json_line_is_dockers() {
    let d = daemon();
    ok(d.docker(&[
        "run",
        "--name",
        "withattrs",
        "--log-opt",
        "labels=a,missing",
        "--label",
        "a=1",
        "--log-opt",
        "env=FOO",
        "-e",
        "FOO=bar",
        "busybox",
        "sh",
        "-c",
        "echo hello; echo oops >&2",
    ]));
    // Go's sort.Sort by key: upper case first.
    assert_eq!(
        logs(&d, &["--details", "withattrs"]),
        ("FOO=bar,a=1 hello\n".into(), "FOO=bar,a=1 oops\n".into())
    );
    assert_eq!(
        logs(&d, &["withattrs"]),
        ("hello\n".into(), "oops\n".into())
    );
    let (with_time, _) = logs(&d, &["--details", "-t", "withattrs"]);
    let (time, rest) = with_time.split_once(' ').unwrap();
    assert!(time.ends_with('Z') && time.contains('T'), "{with_time}");
    assert_eq!(rest, "FOO=bar,a=1 hello\n");

    // moby's jsonlog field order: log, stream, attrs, time.
    let path = inspect(&d, "withattrs")["LogPath"]
        .as_str()
        .unwrap()
        .to_owned();
    let file = std::fs::read_to_string(&path).unwrap();
    let first = file.lines().find(|l| l.contains("hello")).unwrap();
    let prefix = r#"{"log":"hello\n","stream":"stdout","attrs":{"FOO":"bar","a":"1"},"time":""#;
    assert!(first.starts_with(prefix), "{first}");
    assert!(first.ends_with("Z\"}"), "{first}");
    assert_eq!(first.matches('"').count(), prefix.matches('"').count() + 1);

    // Without attributes, --details still adds moby's separating space.
    ok(d.docker(&["run", "--name", "plain", "busybox", "echo", "hi"]));
    assert_eq!(logs(&d, &["--details", "plain"]).0, " hi\n");
    let path = inspect(&d, "plain")["LogPath"].as_str().unwrap().to_owned();
    assert!(!std::fs::read_to_string(path).unwrap().contains("attrs"));
}

#[test]
fn regexes_tag_and_the_local_driver_keep_attributes_too() {
    let d = daemon();
    ok(d.docker(&[
        "run",
        "--name",
        "tagged",
        "--log-opt",
        "env-regex=^APP_",
        "-e",
        "APP_MODE=a b&c",
        "-e",
        "OTHER=x",
        "--log-opt",
        "tag={{.Name}}/{{.ImageName}}",
        "busybox",
        "echo",
        "hi",
    ]));
    // Values are url.QueryEscape'd: space as '+', '&' and '/' as %XX.
    assert_eq!(
        logs(&d, &["--details", "tagged"]).0,
        "APP_MODE=a+b%26c,tag=tagged%2Fbusybox hi\n"
    );

    ok(d.docker(&[
        "run",
        "--name",
        "local",
        "--log-driver",
        "local",
        "--log-opt",
        "labels-regex=^com\\.",
        "--label",
        "com.example=yes",
        "--label",
        "other=no",
        "busybox",
        "echo",
        "hi",
    ]));
    assert_eq!(logs(&d, &["--details", "local"]).0, "com.example=yes hi\n");
    assert_eq!(logs(&d, &["local"]).0, "hi\n");

    // A regex Go's regexp cannot parse stops the start, as moby's logger does.
    let out = d.docker(&[
        "run",
        "--name",
        "bad",
        "--log-opt",
        "env-regex=(",
        "busybox",
        "true",
    ]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("failed to initialize logging driver"),
        "{}",
        text(&out)
    );
}
