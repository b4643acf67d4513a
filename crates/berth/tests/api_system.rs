//! The system endpoints over raw HTTP: headers, statuses, version prefixes, errors.

use berth_testkit::TestDaemon;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_berth");

fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(body)))
}

fn assert_common_headers(r: &berth_testkit::RawResponse) {
    assert_eq!(r.header("Api-Version"), Some("1.50"));
    assert_eq!(r.header("Ostype"), Some("linux"));
    assert_eq!(r.header("Docker-Experimental"), Some("false"));
    let server = r.header("Server").unwrap_or_default();
    assert!(
        server.starts_with("Docker/") && server.ends_with(" (linux)"),
        "Server: {server}"
    );
}

#[test]
fn ping_get_and_head_carry_every_header() {
    let d = TestDaemon::start(BIN);
    let get = d.http("GET", "/_ping", &[], b"").unwrap();
    assert_eq!(get.status, 200);
    assert_eq!(get.text(), "OK");
    assert_common_headers(&get);
    let head = d.http("HEAD", "/_ping", &[], b"").unwrap();
    for r in [&get, &head] {
        assert_eq!(r.header("Builder-Version"), Some("1"));
        assert_eq!(r.header("Swarm"), Some("inactive"));
        assert_eq!(
            r.header("Cache-Control"),
            Some("no-cache, no-store, must-revalidate")
        );
        assert_eq!(r.header("Pragma"), Some("no-cache"));
        assert_eq!(r.header("Content-Type"), Some("text/plain; charset=utf-8"));
    }
    assert_eq!(head.status, 200);
    assert_common_headers(&head);
    assert_eq!(head.header("Content-Length"), Some("0"));
    assert_eq!(
        head.header("Content-Type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(head.header("Swarm"), Some("inactive"));
    assert!(head.body.is_empty());
}

#[test]
fn every_version_prefix_from_1_24_to_1_50_is_served() {
    let d = TestDaemon::start(BIN);
    for minor in 24..=50 {
        let ping = d
            .http("GET", &format!("/v1.{minor}/_ping"), &[], b"")
            .unwrap();
        assert_eq!(ping.status, 200, "v1.{minor}/_ping");
        let v = d
            .http("GET", &format!("/v1.{minor}/version"), &[], b"")
            .unwrap();
        assert_eq!(v.status, 200, "v1.{minor}/version");
        assert_eq!(json(&v.body)["ApiVersion"], "1.50");
    }
    let unversioned = json(&d.http("GET", "/version", &[], b"").unwrap().body);
    assert_eq!(unversioned["MinAPIVersion"], "1.24");
    assert_eq!(unversioned["Components"][0]["Name"], "Engine");
    assert_eq!(
        unversioned["Components"][0]["Details"]["ApiVersion"],
        "1.50"
    );
    assert_eq!(unversioned["Os"], "linux");
}

#[test]
fn too_old_and_too_new_versions_get_dockers_400s() {
    let d = TestDaemon::start(BIN);
    let new = d.http("GET", "/v1.51/version", &[], b"").unwrap();
    assert_eq!(new.status, 400);
    assert_eq!(new.header("Content-Type"), Some("application/json"));
    assert_eq!(
        json(&new.body)["message"],
        "client version 1.51 is too new. Maximum supported API version is 1.50"
    );

    // Below 1.24 moby answers in plain text.
    let old = d.http("GET", "/v1.23/version", &[], b"").unwrap();
    assert_eq!(old.status, 400);
    assert_eq!(
        old.text().trim(),
        "client version 1.23 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version"
    );
}

#[test]
fn unknown_routes_and_wrong_methods_are_json_404s() {
    let d = TestDaemon::start(BIN);
    for (method, path) in [
        ("GET", "/nope"),
        ("GET", "/v1.50/nope"),
        ("POST", "/version"),
        ("DELETE", "/_ping"),
        ("GET", "/vabc/_ping"),
    ] {
        let r = d.http(method, path, &[], b"").unwrap();
        assert_eq!(r.status, 404, "{method} {path}");
        assert_eq!(
            r.header("Content-Type"),
            Some("application/json"),
            "{method} {path}"
        );
        assert_eq!(
            json(&r.body)["message"],
            "page not found",
            "{method} {path}"
        );
        assert_common_headers(&r);
    }
}

#[test]
fn bad_filters_json_and_unknown_filters_are_400s() {
    let d = TestDaemon::start(BIN);
    let bad = d
        .http("GET", "/events?until=1&filters=%7Bnot-json", &[], b"")
        .unwrap();
    assert_eq!(bad.status, 400);
    assert_eq!(bad.header("Content-Type"), Some("application/json"));
    assert_eq!(json(&bad.body)["message"], "invalid filter");
    let unknown = d
        .http(
            "GET",
            "/events?until=1&filters=%7B%22colour%22%3A%5B%22red%22%5D%7D",
            &[],
            b"",
        )
        .unwrap();
    assert_eq!(unknown.status, 400);
    assert_eq!(json(&unknown.body)["message"], "invalid filter 'colour'");
    let backwards = d
        .http("GET", "/events?since=20&until=10", &[], b"")
        .unwrap();
    assert_eq!(backwards.status, 400);
    let garbage = d.http("GET", "/events?since=yesterday", &[], b"").unwrap();
    assert_eq!(garbage.status, 400);
}

#[test]
fn info_reports_real_values() {
    let d = TestDaemon::start(BIN);
    let info = json(&d.http("GET", "/v1.50/info", &[], b"").unwrap().body);
    assert_eq!(info["DockerRootDir"], d.data_root.display().to_string());
    assert_eq!(info["Containers"], 0);
    assert_eq!(info["Images"], 0);
    assert_eq!(info["OSType"], "linux");
    assert_eq!(info["LoggingDriver"], "json-file");
    assert_eq!(info["CgroupDriver"], "cgroupfs");
    let cgroup_v2 = std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    assert_eq!(info["CgroupVersion"], if cgroup_v2 { "2" } else { "1" });
    assert_eq!(
        info["NCPU"].as_u64().unwrap() as usize,
        std::thread::available_parallelism().unwrap().get()
    );
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let kib: u64 = meminfo
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(info["MemTotal"].as_u64().unwrap(), kib * 1024);
    assert_eq!(info["Swarm"]["LocalNodeState"], "inactive");
    assert_eq!(info["LiveRestoreEnabled"], true);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    assert_eq!(info["KernelVersion"], kernel.trim());
    for opt in info["SecurityOptions"].as_array().unwrap() {
        // docker info rejects a k=v list with a bare element.
        let opt = opt.as_str().unwrap();
        assert!(opt.split(',').all(|kv| kv.contains('=')), "{opt}");
    }
    assert!(info["ID"].as_str().unwrap().len() == 36);
}

#[test]
fn events_replay_history_stream_live_and_honour_until() {
    let d = TestDaemon::start(BIN);
    let t0 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 1;
    // A live subscriber, started before anything happens.
    let mut live = d
        .http_stream(
            "GET",
            "/events?filters=%7B%22type%22%3A%5B%22daemon%22%5D%7D",
        )
        .unwrap();
    assert_eq!(live.status, 200);
    assert!(live
        .headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("content-type") && v == "application/json"));
    d.signal(berth_testkit::Signal::SIGHUP);
    let mut pending = Vec::new();
    let line = live.next_line(&mut pending).unwrap().expect("a live event");
    let ev: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(ev["Type"], "daemon");
    assert_eq!(ev["Action"], "reload");
    assert_eq!(ev["scope"], "local");
    assert!(ev["timeNano"].as_i64().unwrap() / 1_000_000_000 >= t0 as i64);

    // Past events: since..until both in the past returns history and closes.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let past = d
        .http("GET", &format!("/events?since={t0}&until={now}"), &[], b"")
        .unwrap();
    assert_eq!(past.status, 200);
    let lines: Vec<Value> = past
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{}", past.text());
    assert_eq!(lines[0]["Action"], "reload");
    // A filter that excludes it.
    let none = d.http("GET", &format!("/events?since={t0}&until={now}&filters=%7B%22type%22%3A%7B%22image%22%3Atrue%7D%7D"), &[], b"").unwrap();
    assert_eq!(none.text(), "");
    // `until` in the near future: the stream ends by itself.
    let start = std::time::Instant::now();
    let soon = d
        .http("GET", &format!("/events?until={}", now + 2), &[], b"")
        .unwrap();
    assert_eq!(soon.status, 200);
    assert!(start.elapsed() < std::time::Duration::from_secs(10));
}
