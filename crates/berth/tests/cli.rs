//! `version`, `info` and `events` through the real docker CLI and through `berth`.

use std::time::Duration;

use berth_testkit::{Signal, TestDaemon};

const BIN: &str = env!("CARGO_BIN_EXE_berth");

fn ok(out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn docker_version_negotiates_1_50_without_downgrade() {
    let d = TestDaemon::start(BIN);
    let out = ok(d.docker(&["version"]));
    let squeezed = out.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(out.contains("Server: Berth Engine"), "{out}");
    assert!(
        squeezed.contains("API version: 1.50 (minimum version 1.24)"),
        "{out}"
    );
    assert!(!out.contains("downgraded"), "{out}");
    let server = ok(d.docker(&[
        "version",
        "--format",
        "{{.Server.APIVersion}} {{.Client.APIVersion}}",
    ]));
    assert_eq!(server.trim(), "1.50 1.50");
}

#[test]
fn docker_info_prints_without_errors() {
    let d = TestDaemon::start(BIN);
    let out = d.docker(&["info"]);
    let stdout = ok(out.clone());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("ERROR") && !stderr.contains("error"),
        "{stderr}"
    );
    assert!(
        stdout.contains(&format!("Docker Root Dir: {}", d.data_root.display())),
        "{stdout}"
    );
    assert!(stdout.contains("Swarm: inactive"), "{stdout}");
    assert!(stdout.contains("Profile: builtin"), "{stdout}");
    let driver = ok(d.docker(&[
        "info",
        "--format",
        "{{.Driver}}|{{.OSType}}|{{.Swarm.LocalNodeState}}",
    ]));
    assert!(driver.trim().ends_with("|linux|inactive"), "{driver}");
}

#[test]
fn docker_events_since_until_shows_the_reload_event() {
    let d = TestDaemon::start(BIN);
    // Nothing happened yet: the past window is empty and the command returns at once.
    assert_eq!(
        ok(d.docker(&["events", "--since", "1h", "--until", "0s"])),
        ""
    );
    d.signal(Signal::SIGHUP);
    // `--until 0s` has one-second resolution (as in docker): let the second pass.
    std::thread::sleep(Duration::from_millis(1100));
    let out = ok(d.docker(&["events", "--since", "1h", "--until", "0s"]));
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.contains(" daemon reload "), "{out}");
    let json = ok(d.docker(&[
        "events",
        "--since",
        "1h",
        "--until",
        "0s",
        "--filter",
        "type=daemon",
        "--format",
        "{{json .}}",
    ]));
    let ev: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(ev["Action"], "reload");
    let filtered = ok(d.docker(&[
        "events",
        "--since",
        "1h",
        "--until",
        "0s",
        "--filter",
        "event=start",
    ]));
    assert_eq!(filtered, "");
    let bad = d.docker(&[
        "events",
        "--since",
        "1h",
        "--until",
        "0s",
        "--filter",
        "colour=red",
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("invalid filter 'colour'"));
}

#[test]
fn berth_version_info_and_events() {
    let d = TestDaemon::start(BIN);
    let v = ok(d.berth(&["version"]));
    assert!(
        v.contains("API version:") && v.contains("1.50 (minimum version 1.24)"),
        "{v}"
    );
    assert!(!v.contains("downgraded"), "{v}");
    let info = ok(d.berth(&["info"]));
    assert!(
        info.contains(&format!("Berth Root Dir: {}", d.data_root.display())),
        "{info}"
    );
    assert!(info.contains("Swarm: inactive"), "{info}");
    let info_json = ok(d.berth(&["info", "--format", "json"]));
    let parsed: serde_json::Value = serde_json::from_str(info_json.trim()).unwrap();
    assert_eq!(parsed["DockerRootDir"], d.data_root.display().to_string());

    d.signal(Signal::SIGHUP);
    std::thread::sleep(Duration::from_millis(1100));
    let ev = ok(d.berth(&["events", "--since", "1h", "--until", "0s"]));
    assert_eq!(ev.lines().count(), 1, "{ev}");
    assert!(ev.contains(" daemon reload "), "{ev}");
    let none = ok(d.berth(&[
        "events",
        "--since",
        "1h",
        "--until",
        "0s",
        "--filter",
        "type=image",
    ]));
    assert_eq!(none, "");
    let bad = d.berth(&[
        "events",
        "--since",
        "1h",
        "--until",
        "0s",
        "--filter",
        "colour=red",
    ]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr)
        .contains("Error response from daemon: invalid filter 'colour'"));
}

#[test]
fn cli_reports_an_unreachable_daemon_clearly() {
    let d = TestDaemon::prepare(BIN, &[]);
    let out = d.berth(&["version"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Cannot connect to the Berth daemon at unix://"),
        "{err}"
    );
}

#[test]
fn docker_events_streams_live_events_as_they_happen() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let d = TestDaemon::start(BIN);
    let mut child = Command::new(berth_testkit::DOCKER_CLI)
        .args([
            "-H",
            &d.host(),
            "events",
            "--filter",
            "type=daemon",
            "--format",
            "{{.Type}} {{.Action}}",
        ])
        .env("DOCKER_CONFIG", d.dir().join("docker-config"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    // Once the CLI's subscription is registered, every reload must reach it.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let got = loop {
        d.signal(Signal::SIGHUP);
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            break line;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no live event reached docker events"
        );
    };
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(got, "daemon reload");
}

#[test]
fn berth_format_templates_match_docker() {
    let d = TestDaemon::start(BIN);
    for format in [
        "{{.Server.APIVersion}}",
        "{{json .Server.Components}}",
        "{{range .Server.Components}}{{.Name}}={{index .Details \"ApiVersion\"}} {{end}}",
        "{{.Server.Os | upper}}/{{.Server.Arch}}",
    ] {
        let theirs = ok(d.docker(&["version", "--format", format]));
        let ours = ok(d.berth(&["version", "--format", format]));
        assert_eq!(ours, theirs, "format {format}");
    }
    for format in [
        "{{.Driver}} {{.NCPU}} {{.MemTotal}}",
        "{{json .Plugins.Log}}",
        "{{join .SecurityOptions \",\"}}",
        "{{.Swarm.LocalNodeState}}",
    ] {
        let theirs = ok(d.docker(&["info", "--format", format]));
        let ours = ok(d.berth(&["info", "--format", format]));
        assert_eq!(ours, theirs, "format {format}");
    }
    let bad = d.berth(&["info", "--format", "{{.Nope"]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("template"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}
