//! One daemon per data root, recovery after kill -9, clean shutdown, configuration rules.

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::process::Command;

use berth_testkit::TestDaemon;

const BIN: &str = env!("CARGO_BIN_EXE_berth");

#[test]
fn a_second_daemon_on_the_same_data_root_fails_clearly() {
    let d = TestDaemon::start(BIN);
    let other_sock = d.dir().join("other.sock");
    let out = Command::new(BIN)
        .args(["daemon", "--data-root"])
        .arg(&d.data_root)
        .arg("--exec-root")
        .arg(d.dir().join("exec2"))
        .arg("--pidfile")
        .arg(d.dir().join("other.pid"))
        .arg("-H")
        .arg(format!("unix://{}", other_sock.display()))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let expected = format!(
        "another berth daemon (pid {}) is already using data root {}",
        d.pid().unwrap(),
        d.data_root.display()
    );
    assert!(err.contains(&expected), "{err}");
    assert!(!other_sock.exists());
    // The first daemon is unaffected.
    assert_eq!(d.http("GET", "/_ping", &[], b"").unwrap().status, 200);
}

#[test]
fn restart_after_kill_9_cleans_up_the_stale_socket_and_pidfile() {
    let mut d = TestDaemon::start(BIN);
    let id_before = d.http("GET", "/info", &[], b"").unwrap().text();
    d.kill9();
    assert!(
        d.socket.exists(),
        "a killed daemon leaves its socket behind"
    );
    assert!(
        d.pidfile.exists(),
        "a killed daemon leaves its pidfile behind"
    );
    d.launch().expect("restart after kill -9");
    assert_eq!(d.http("GET", "/_ping", &[], b"").unwrap().status, 200);
    let pid: u32 = std::fs::read_to_string(&d.pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(Some(pid), d.pid());
    let id = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap()["ID"].clone();
    assert_eq!(
        id(&id_before),
        id(&d.http("GET", "/info", &[], b"").unwrap().text())
    );
}

#[test]
fn sigterm_shuts_down_cleanly_and_removes_socket_and_pidfile() {
    let mut d = TestDaemon::start(BIN);
    let meta = std::fs::metadata(&d.socket).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o660);
    let data_mode = std::fs::metadata(&d.data_root)
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(data_mode, 0o710);
    // A streaming client must not hold the shutdown up.
    let _events = d.http_stream("GET", "/events").unwrap();
    let start = std::time::Instant::now();
    assert!(d.stop(), "daemon exited non-zero; log:\n{}", d.log_text());
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
    assert!(!d.socket.exists());
    assert!(!d.pidfile.exists());
    assert!(d.log_text().contains("daemon shutdown complete"));
}

#[test]
fn a_setting_in_both_flags_and_file_is_refused() {
    let mut d = TestDaemon::prepare(BIN, &["--label", "a=b"]);
    std::fs::write(d.config_file(), r#"{"labels": ["c=d"]}"#).unwrap();
    let err = d.launch().unwrap_err();
    assert!(
        err.contains("the following directives are specified both as a flag and in the configuration file: labels: (from flag: [a=b], from file: [c=d])"),
        "{err}"
    );
    let mut d = TestDaemon::prepare(BIN, &[]);
    std::fs::write(d.config_file(), r#"{"colour": "red"}"#).unwrap();
    let err = d.launch().unwrap_err();
    assert!(
        err.contains("the following directives don't match any configuration option: colour"),
        "{err}"
    );
}

#[test]
fn labels_from_the_file_show_in_info_and_reload_on_sighup() {
    let d = TestDaemon::prepare(BIN, &[]);
    std::fs::write(d.config_file(), r#"{"labels": ["tier=one"]}"#).unwrap();
    let mut d = d;
    d.launch().unwrap();
    let labels = |d: &TestDaemon| {
        let info: serde_json::Value =
            serde_json::from_slice(&d.http("GET", "/info", &[], b"").unwrap().body).unwrap();
        info["Labels"].clone()
    };
    assert_eq!(labels(&d), serde_json::json!(["tier=one"]));
    std::fs::write(
        d.config_file(),
        r#"{"labels": ["tier=two"], "debug": true}"#,
    )
    .unwrap();
    d.signal(berth_testkit::Signal::SIGHUP);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while labels(&d) != serde_json::json!(["tier=two"]) {
        assert!(
            std::time::Instant::now() < deadline,
            "labels never reloaded"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn plain_tcp_is_refused_unless_explicitly_allowed() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let tcp = format!("tcp://127.0.0.1:{port}");
    let mut d = TestDaemon::prepare(BIN, &["-H", &tcp]);
    let err = d.launch().unwrap_err();
    assert!(
        err.contains("refusing to listen on tcp://127.0.0.1:"),
        "{err}"
    );

    let mut d = TestDaemon::prepare(BIN, &["-H", &tcp, "--tls=false"]);
    d.launch().unwrap();
    let out = d.cli_with(
        berth_testkit::DOCKER_CLI,
        &["-H", &tcp],
        &["version", "--format", "{{.Server.APIVersion}}"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info: serde_json::Value =
        serde_json::from_slice(&d.http("GET", "/info", &[], b"").unwrap().body).unwrap();
    let warnings = info["Warnings"].to_string();
    assert!(warnings.contains("without encryption"), "{warnings}");
}
