//! Containers end to end with the real docker CLI: run, exit codes, stdin, the lifecycle,
//! exec, logs, limits, Docker's security defaults, restart policies, and nothing left
//! behind.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use berth_testkit::check::{ok, text, wait_until};
use berth_testkit::{cleanup, TestDaemon};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_berth");

fn daemon() -> TestDaemon {
    let d = TestDaemon::start(BIN);
    d.load_busybox();
    d
}

fn docker_stdin(d: &TestDaemon, args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(berth_testkit::DOCKER_CLI)
        .arg("-H")
        .arg(d.host())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

fn inspect(d: &TestDaemon, name: &str) -> Value {
    let out = ok(d.docker(&["inspect", name]));
    let v: Value = serde_json::from_str(&out).unwrap();
    v[0].clone()
}

/// Nothing of the daemon's containers remains: no mount under its directories, no
/// cgroup, no shim or container process.
fn assert_nothing_left(d: &TestDaemon) {
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let dir = d.dir().display().to_string();
    let leaked: Vec<&str> = mounts.lines().filter(|l| l.contains(&dir)).collect();
    assert!(leaked.is_empty(), "leaked mounts: {leaked:#?}");
    let pids = cleanup::cgroup_pids(&d.cgroup_parent);
    assert!(pids.is_empty(), "processes left in cgroups: {pids:?}");
    let cgroups: Vec<_> = cleanup::cgroup_dirs(&d.cgroup_parent)
        .into_iter()
        .flat_map(|p| std::fs::read_dir(p).into_iter().flatten().flatten())
        .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
        .map(|e| e.path())
        .collect();
    assert!(cgroups.is_empty(), "leaked cgroups: {cgroups:?}");
    for dir in ["containers", "s"] {
        let left = std::fs::read_dir(d.exec_root.join(dir))
            .map(|r| r.count())
            .unwrap_or(0);
        assert_eq!(left, 0, "state left in the exec root's {dir}/");
    }
}

#[test]
fn run_prints_output_and_propagates_exit_codes_and_stdin() {
    let d = daemon();
    let out = d.docker(&["run", "--rm", "busybox", "echo", "hi"]);
    assert_eq!(ok(out), "hi\n");
    let out = d.docker(&["run", "--rm", "busybox", "sh", "-c", "exit 3"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let out = d.docker(&["run", "--rm", "busybox", "no-such-command"]);
    assert_eq!(out.status.code(), Some(127), "{}", text(&out));
    let out = docker_stdin(
        &d,
        &["run", "--rm", "-i", "busybox", "cat"],
        b"hi from stdin\n",
    );
    assert_eq!(ok(out), "hi from stdin\n");
    let out = d.docker(&[
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "echo out; echo err >&2",
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "out\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "err\n");
    // --rm removed every one of them.
    assert_eq!(ok(d.docker(&["ps", "-aq"])), "");
    assert_nothing_left(&d);
}

#[test]
fn default_security_matches_dockers() {
    let d = daemon();
    let status = ok(d.docker(&["run", "--rm", "busybox", "cat", "/proc/self/status"]));
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .map(|l| l.split_whitespace().nth(1).unwrap_or("").to_owned())
            .unwrap_or_default()
    };
    assert_eq!(field("CapEff:"), "00000000a80425fb");
    assert_eq!(field("CapBnd:"), "00000000a80425fb");
    assert_eq!(field("CapInh:"), "0000000000000000");
    assert_eq!(field("CapAmb:"), "0000000000000000");
    assert_eq!(field("Seccomp:"), "2");
    // The profile filters: unshare(CLONE_NEWUSER) needs no capability, only the filter
    // refuses it (and only the filter is gone with seccomp=unconfined).
    let out = d.docker(&["run", "--rm", "busybox", "unshare", "-U", "true"]);
    assert!(!out.status.success(), "{}", text(&out));
    ok(d.docker(&[
        "run",
        "--rm",
        "--security-opt",
        "seccomp=unconfined",
        "busybox",
        "unshare",
        "-U",
        "true",
    ]));
    // The engine installs its compiled program in execs too, and the CAP_SYS_ADMIN the
    // process holds for installing it is gone before the process runs, whoever it runs as.
    ok(d.docker(&["run", "-d", "--name", "secured", "busybox", "sleep", "60"]));
    let statuses = [
        ok(d.docker(&["exec", "secured", "cat", "/proc/self/status"])),
        ok(d.docker(&["exec", "-u", "1000", "secured", "cat", "/proc/self/status"])),
        ok(d.docker(&[
            "run",
            "--rm",
            "-u",
            "1000",
            "busybox",
            "cat",
            "/proc/self/status",
        ])),
        ok(d.docker(&[
            "run",
            "--rm",
            "--cap-add",
            "SYS_ADMIN",
            "busybox",
            "cat",
            "/proc/self/status",
        ])),
    ];
    let expected_caps = [
        "00000000a80425fb",
        "0000000000000000",
        "0000000000000000",
        "00000000a82425fb",
    ];
    for (status, caps) in statuses.iter().zip(expected_caps) {
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .map(|l| l.split_whitespace().nth(1).unwrap_or("").to_owned())
                .unwrap_or_default()
        };
        assert_eq!(field("CapEff:"), caps, "{status}");
        assert_eq!(field("CapPrm:"), caps, "{status}");
        assert_eq!(field("Seccomp:"), "2", "{status}");
    }
    // exec --privileged gets every capability the daemon can grant, as a privileged
    // container does (this host withholds CAP_SYS_RESOURCE from the daemon).
    let cap_eff = |status: &str| {
        status
            .lines()
            .find(|l| l.starts_with("CapEff:"))
            .map(|l| l.split_whitespace().nth(1).unwrap_or("").to_owned())
            .unwrap_or_default()
    };
    let privileged_run = ok(d.docker(&[
        "run",
        "--rm",
        "--privileged",
        "busybox",
        "cat",
        "/proc/self/status",
    ]));
    let privileged_exec = ok(d.docker(&[
        "exec",
        "--privileged",
        "secured",
        "cat",
        "/proc/self/status",
    ]));
    assert_eq!(cap_eff(&privileged_exec), cap_eff(&privileged_run));
    let out = d.docker(&["exec", "secured", "unshare", "-U", "true"]);
    assert!(!out.status.success(), "{}", text(&out));
    ok(d.docker(&["rm", "-f", "secured"]));
    // Masked paths (/proc/kcore is absent on this kernel; /proc/timer_list is masked the
    // same way) read as an empty /dev/null bind; /proc/sys is read-only.
    assert_eq!(
        ok(d.docker(&["run", "--rm", "busybox", "wc", "-c", "/proc/timer_list"])).trim(),
        "0 /proc/timer_list"
    );
    let out = d.docker(&[
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "echo 1 > /proc/sys/kernel/domainname",
    ]);
    assert!(!out.status.success());
    // --cap-drop ALL: chown fails; --read-only: writes fail; --privileged: host devices.
    let out = d.docker(&[
        "run",
        "--rm",
        "--cap-drop",
        "ALL",
        "busybox",
        "chown",
        "1:1",
        "/tmp",
    ]);
    assert!(!out.status.success(), "{}", text(&out));
    let out = d.docker(&["run", "--rm", "--read-only", "busybox", "touch", "/x"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Read-only file system"),
        "{}",
        text(&out)
    );
    let devs = ok(d.docker(&["run", "--rm", "--privileged", "busybox", "ls", "/dev"]));
    assert!(devs.lines().count() > 20, "{devs}");
    let plain = ok(d.docker(&["run", "--rm", "busybox", "ls", "/dev"]));
    assert!(plain.lines().count() < 20, "{plain}");
    // CVE-2024-21626: a working directory under /proc/self/fd reaches nothing of the host
    // (a file planted in the host's / must not show up in the listing).
    let sentinel = HostRootSentinel::new();
    let out = d.docker(&[
        "run",
        "--rm",
        "-w",
        "/proc/self/fd/7",
        "busybox",
        "ls",
        "../../../../..",
    ]);
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(!listing.contains(&sentinel.name), "{}", text(&out));
    assert_nothing_left(&d);
}

#[test]
fn detached_lifecycle_logs_signals_pause_rename_exec() {
    let d = daemon();
    let script = "trap 'echo got-usr1' USR1; trap 'echo bye; exit 0' TERM; i=0; while true; do echo line$i; i=$((i+1)); sleep 0.1; done";
    let id = ok(d.docker(&[
        "run", "-d", "--name", "worker", "busybox", "sh", "-c", script,
    ]));
    let id = id.trim().to_owned();
    assert_eq!(id.len(), 64);
    wait_until("log lines", Duration::from_secs(10), || {
        ok(d.docker(&["logs", "worker"])).contains("line3")
    });
    let ps = ok(d.docker(&["ps"]));
    let header = ps.lines().next().unwrap();
    for col in [
        "CONTAINER ID",
        "IMAGE",
        "COMMAND",
        "CREATED",
        "STATUS",
        "PORTS",
        "NAMES",
    ] {
        assert!(header.contains(col), "{ps}");
    }
    assert!(
        ps.contains(&id[..12]) && ps.contains("Up ") && ps.contains("worker"),
        "{ps}"
    );

    ok(d.docker(&["kill", "-s", "USR1", "worker"]));
    wait_until("trap output", Duration::from_secs(10), || {
        ok(d.docker(&["logs", "worker"])).contains("got-usr1")
    });
    let tail = ok(d.docker(&["logs", "--tail", "2", "worker"]));
    assert_eq!(tail.lines().count(), 2, "{tail}");

    ok(d.docker(&["pause", "worker"]));
    assert_eq!(inspect(&d, "worker")["State"]["Status"], "paused");
    assert!(ok(d.docker(&["ps"])).contains("(Paused)"));
    ok(d.docker(&["unpause", "worker"]));
    assert_eq!(inspect(&d, "worker")["State"]["Status"], "running");

    ok(d.docker(&["rename", "worker", "renamed"]));
    assert_eq!(inspect(&d, &id)["Name"], "/renamed");

    let out = d.docker(&["exec", "renamed", "sh", "-c", "echo in-exec; exit 5"]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "in-exec\n");
    let out = docker_stdin(&d, &["exec", "-i", "renamed", "cat"], b"exec stdin\n");
    assert_eq!(ok(out), "exec stdin\n");

    let top = ok(d.docker(&["top", "renamed"]));
    assert!(top.contains("PID") && top.contains("sh -c"), "{top}");

    ok(d.docker(&["stop", "renamed"]));
    let state = inspect(&d, "renamed");
    assert_eq!(state["State"]["Status"], "exited");
    assert_eq!(state["State"]["ExitCode"], 0);
    assert!(ok(d.docker(&["logs", "renamed"])).contains("bye"));
    assert_eq!(ok(d.docker(&["wait", "renamed"])).trim(), "0");

    ok(d.docker(&["restart", "renamed"]));
    assert_eq!(inspect(&d, "renamed")["State"]["Running"], true);
    let out = d.docker(&["rm", "renamed"]);
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("stop the container before removing or force remove"),
        "{}",
        text(&out)
    );
    ok(d.docker(&["rm", "-f", "renamed"]));
    assert_nothing_left(&d);
}

#[test]
fn stop_kills_after_the_timeout_when_sigterm_is_ignored() {
    let d = daemon();
    ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "stubborn",
        "busybox",
        "sh",
        "-c",
        "trap '' TERM; while true; do sleep 0.1; done",
    ]));
    let start = Instant::now();
    ok(d.docker(&["stop", "-t", "1", "stubborn"]));
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(8),
        "{took:?}"
    );
    assert_eq!(inspect(&d, "stubborn")["State"]["ExitCode"], 137);
    ok(d.docker(&["rm", "stubborn"]));
    assert_nothing_left(&d);
}

#[test]
fn limits_oom_pids_cpus() {
    let d = daemon();
    // A memory hog in 16 MiB: OOM-killed, and the oom event is published.
    let since = chrono_now();
    let out = d.docker(&[
        "run",
        "--name",
        "hog",
        "--memory",
        "16m",
        "--memory-swap",
        "16m",
        "busybox",
        "sh",
        "-c",
        "x=aaaaaaaaaaaaaaaa; while true; do x=$x$x; done",
    ]);
    assert_eq!(out.status.code(), Some(137), "{}", text(&out));
    assert_eq!(inspect(&d, "hog")["State"]["OOMKilled"], true);
    let events = ok(d.docker(&[
        "events",
        "--since",
        &since,
        "--until",
        &(chrono_now().parse::<u64>().unwrap() + 1).to_string(),
        "--filter",
        "event=oom",
        "--format",
        "{{.Action}}",
    ]));
    assert!(events.contains("oom"), "{events}");

    // A fork bomb stays contained under --pids-limit.
    let out = d.docker(&[
        "run",
        "--rm",
        "--pids-limit",
        "20",
        "busybox",
        "sh",
        "-c",
        "for i in $(seq 50); do sleep 5 & done; wait; echo done",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("can't fork") || err.contains("Resource temporarily unavailable"),
        "{}",
        text(&out)
    );

    ok(d.docker(&[
        "run", "-d", "--name", "half", "--cpus", "0.5", "busybox", "sleep", "60",
    ]));
    let cg = inspect(&d, "half");
    assert_eq!(cg["HostConfig"]["NanoCpus"], 500_000_000i64);
    let quota = cleanup::cgroup_dirs(&d.cgroup_parent)
        .into_iter()
        .filter_map(|p| {
            let id = cg["Id"].as_str().unwrap().to_owned();
            std::fs::read_to_string(p.join(&id).join("cpu.cfs_quota_us"))
                .or_else(|_| std::fs::read_to_string(p.join(&id).join("cpu.max")))
                .ok()
        })
        .next()
        .expect("cpu cgroup file");
    assert!(quota.starts_with("50000"), "{quota}");
    ok(d.docker(&["update", "--memory", "64m", "half"]));
    assert_eq!(inspect(&d, "half")["HostConfig"]["Memory"], 64 << 20);
    ok(d.docker(&["rm", "-f", "half", "hog"]));
    assert_nothing_left(&d);
}

fn chrono_now() -> String {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string()
}

#[test]
fn restart_policies() {
    let d = daemon();
    ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "flaky",
        "--restart",
        "on-failure:2",
        "busybox",
        "sh",
        "-c",
        "exit 1",
    ]));
    wait_until("two restarts then stop", Duration::from_secs(20), || {
        let v = inspect(&d, "flaky");
        v["State"]["Status"] == "exited" && v["RestartCount"] == 2
    });
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(inspect(&d, "flaky")["RestartCount"], 2);
    ok(d.docker(&["rm", "flaky"]));
    assert_nothing_left(&d);
}

#[test]
fn containers_survive_a_daemon_kill_and_come_back() {
    let mut d = daemon();
    let mut ids = Vec::new();
    for i in 0..20 {
        let name = format!("live{i}");
        ids.push(
            ok(d.docker(&[
                "run",
                "-d",
                "--name",
                &name,
                "busybox",
                "sh",
                "-c",
                "i=0; while true; do echo tick$i; i=$((i+1)); sleep 0.1; done",
            ]))
            .trim()
            .to_owned(),
        );
    }
    ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "dies",
        "busybox",
        "sh",
        "-c",
        "sleep 1; exit 7",
    ]));
    ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "always",
        "--restart",
        "always",
        "busybox",
        "sh",
        "-c",
        "sleep 1; exit 1",
    ]));
    ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "stayed",
        "--restart",
        "unless-stopped",
        "busybox",
        "sleep",
        "1000",
    ]));
    ok(d.docker(&["stop", "-t", "0", "stayed"]));
    let pids: Vec<i64> = ids
        .iter()
        .map(|id| inspect(&d, id)["State"]["Pid"].as_i64().unwrap())
        .collect();
    d.kill9();
    std::thread::sleep(Duration::from_secs(2));
    for pid in &pids {
        assert!(
            std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "container process {pid} died with the daemon"
        );
    }
    d.launch().unwrap();
    let ps = ok(d.docker(&["ps", "--format", "{{.Names}}"]));
    for i in 0..20 {
        assert!(ps.contains(&format!("live{i}")), "{ps}");
    }
    wait_until("exit recorded", Duration::from_secs(10), || {
        inspect(&d, "dies")["State"]["Status"] == "exited"
    });
    assert_eq!(inspect(&d, "dies")["State"]["ExitCode"], 7);
    assert_eq!(inspect(&d, "stayed")["State"]["Status"], "exited");
    wait_until("always came back", Duration::from_secs(10), || {
        inspect(&d, "always")["RestartCount"].as_i64().unwrap_or(0) >= 1
    });
    // Logs have no gap across the daemon's absence.
    let logs = ok(d.docker(&["logs", "live0"]));
    let ticks: Vec<u64> = logs
        .lines()
        .filter_map(|l| l.strip_prefix("tick")?.parse().ok())
        .collect();
    assert!(ticks.len() > 20, "{logs}");
    assert!(
        ticks.windows(2).all(|w| w[1] == w[0] + 1),
        "gap in {ticks:?}"
    );
    let out = d.docker(&["exec", "live1", "echo", "still-here"]);
    assert_eq!(ok(out), "still-here\n");
    ok(d.docker(&["stop", "-t", "1", "live2"]));
    let all: Vec<String> = ok(d.docker(&["ps", "-aq"]))
        .lines()
        .map(str::to_owned)
        .collect();
    let mut args = vec!["rm", "-f"];
    args.extend(all.iter().map(String::as_str));
    ok(d.docker(&args));
    assert_nothing_left(&d);
}

#[test]
fn api_errors_and_wait_conditions() {
    let d = daemon();
    let r = d.http("POST", "/containers/nope/start", &[], b"").unwrap();
    assert_eq!(r.status, 404);
    assert_eq!(
        r.text().trim_end(),
        "{\"message\":\"No such container: nope\"}"
    );
    let r = d
        .http(
            "POST",
            "/containers/create?name=a",
            &[("Content-Type", "application/json")],
            br#"{"Image":"nosuch"}"#,
        )
        .unwrap();
    assert_eq!(r.status, 404);
    assert!(
        r.text().contains("No such image: nosuch:latest"),
        "{}",
        r.text()
    );
    let body = br#"{"Image":"busybox","Cmd":["true"]}"#;
    let r = d
        .http(
            "POST",
            "/containers/create?name=dup",
            &[("Content-Type", "application/json")],
            body,
        )
        .unwrap();
    assert_eq!(r.status, 201);
    let r = d
        .http(
            "POST",
            "/containers/create?name=dup",
            &[("Content-Type", "application/json")],
            body,
        )
        .unwrap();
    assert_eq!(r.status, 409);
    assert!(r.text().contains("is already in use"), "{}", r.text());
    let r = d
        .http(
            "POST",
            "/containers/create?name=-bad",
            &[("Content-Type", "application/json")],
            body,
        )
        .unwrap();
    assert_eq!(r.status, 400);
    let r = d.http("POST", "/containers/dup/stop", &[], b"").unwrap();
    assert_eq!(r.status, 304);
    let r = d.http("POST", "/containers/dup/kill", &[], b"").unwrap();
    assert_eq!(r.status, 409);
    let r = d
        .http("POST", "/containers/dup/wait?condition=bogus", &[], b"")
        .unwrap();
    assert_eq!(r.status, 400);
    let r = d.http("POST", "/containers/dup/start", &[], b"").unwrap();
    assert_eq!(r.status, 204);
    let r = d.http("POST", "/containers/dup/wait", &[], b"").unwrap();
    assert_eq!(r.status, 200);
    let v: Value = serde_json::from_str(&r.text()).unwrap();
    assert_eq!(v["StatusCode"], 0);
    // An ID prefix works where an ID does; an image in use refuses deletion.
    let id = inspect(&d, "dup")["Id"].as_str().unwrap().to_owned();
    assert_eq!(inspect(&d, &id[..6])["Name"], "/dup");
    let out = d.docker(&["rmi", "busybox"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("conflict"),
        "{}",
        text(&out)
    );
    let r = d.http("DELETE", "/containers/dup", &[], b"").unwrap();
    assert_eq!(r.status, 204);
    assert_nothing_left(&d);
}

/// Runs `command` under `script` (a real pty), feeding `steps` (delay, bytes) to it.
fn in_pty(d: &TestDaemon, command: &str, steps: &[(u64, &[u8])]) -> Output {
    let mut child = Command::new("script")
        .args(["-qec", command, "/dev/null"])
        .env("DOCKER_HOST", d.host())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script (bsdutils)");
    let mut stdin = child.stdin.take().unwrap();
    for (delay, bytes) in steps {
        std::thread::sleep(Duration::from_millis(*delay));
        let _ = stdin.write_all(bytes);
        let _ = stdin.flush();
    }
    std::thread::sleep(Duration::from_millis(800));
    drop(stdin);
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() || start.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            return child.wait_with_output().unwrap();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn interactive_tty_sizes_detaches_and_reattaches() {
    let d = daemon();
    let out = in_pty(
        &d,
        "stty rows 33 cols 101; docker run -it --name tty1 busybox sh",
        &[
            (1000, b"stty size; echo tty-$((40+2))\n"),
            (600, b"\x10\x11"),
        ],
    );
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(screen.contains("33 101"), "{screen}");
    assert!(screen.contains("tty-42"), "{screen}");
    // ctrl-p ctrl-q left it running.
    assert_eq!(out.status.code(), Some(0), "{screen}");
    assert_eq!(inspect(&d, "tty1")["State"]["Running"], true);
    let out = in_pty(
        &d,
        "docker attach tty1",
        &[(1000, b"echo back-$((1+1))\n"), (400, b"exit 6\n")],
    );
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(screen.contains("back-2"), "{screen}");
    assert_eq!(out.status.code(), Some(6), "{screen}");
    ok(d.docker(&["rm", "tty1"]));
    assert_nothing_left(&d);
}

#[test]
fn two_hundred_create_start_rm_cycles_leave_nothing_and_memory_flat() {
    let d = daemon();
    let rss = || -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", d.pid().unwrap())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap()
    };
    let mut after_warmup = 0;
    for i in 0..200 {
        ok(d.docker(&["run", "--rm", "busybox", "true"]));
        if i == 20 {
            after_warmup = rss();
        }
    }
    let end = rss();
    assert!(
        end < after_warmup + 8 * 1024,
        "daemon RSS grew from {after_warmup} KiB to {end} KiB over 180 runs"
    );
    assert_eq!(ok(d.docker(&["ps", "-aq"])), "");
    assert_nothing_left(&d);
}

#[test]
fn healthcheck_logs_follow_and_counts() {
    let d = daemon();
    ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "hc",
        "--health-cmd",
        "test -f /tmp/ok",
        "--health-interval",
        "300ms",
        "--health-retries",
        "2",
        "busybox",
        "sh",
        "-c",
        "for i in 1 2 3; do echo l$i; sleep 0.3; done; touch /tmp/ok; sleep 100",
    ]));
    wait_until("healthy", Duration::from_secs(15), || {
        inspect(&d, "hc")["State"]["Health"]["Status"] == "healthy"
    });
    assert!(ok(d.docker(&["ps"])).contains("(healthy)"));
    let events = ok(d.docker(&[
        "events",
        "--since",
        "0",
        "--until",
        &(chrono_now().parse::<u64>().unwrap() + 1).to_string(),
        "--filter",
        "event=health_status",
        "--format",
        "{{.Action}}",
    ]));
    assert!(events.contains("health_status: healthy"), "{events}");
    // `logs -f` on a running container streams until it stops.
    let mut follow = Command::new(berth_testkit::DOCKER_CLI)
        .args(["-H", &d.host(), "logs", "-f", "-t", "hc"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        follow.try_wait().unwrap().is_none(),
        "logs -f ended while the container runs"
    );
    let info = ok(d.docker(&["info", "--format", "{{.Containers}} {{.ContainersRunning}}"]));
    assert_eq!(info.trim(), "1 1");
    let df = ok(d.docker(&[
        "system",
        "df",
        "--format",
        "{{.Type}} {{.TotalCount}} {{.Active}}",
    ]));
    assert!(df.contains("Containers 1 1"), "{df}");
    ok(d.docker(&["stop", "-t", "0", "hc"]));
    let out = follow.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[0].ends_with(" l1") && lines[0].contains('T'),
        "{text}"
    );
    ok(d.docker(&["rm", "hc"]));
    assert_nothing_left(&d);
}

#[test]
fn init_runs_as_pid_1_reaps_and_passes_exit_codes() {
    let d = daemon();
    let out = ok(d.docker(&[
        "run",
        "--rm",
        "--init",
        "busybox",
        "sh",
        "-c",
        "cat /proc/1/cmdline | tr '\\0' ' '",
    ]));
    assert!(out.starts_with("/sbin/docker-init -- sh -c"), "{out}");
    let out = d.docker(&["run", "--rm", "--init", "busybox", "sh", "-c", "exit 3"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    // An orphan's zombie is reaped by the init, not left behind.
    let out = ok(d.docker(&[
        "run",
        "--rm",
        "--init",
        "busybox",
        "sh",
        "-c",
        "sh -c 'sleep 0.2 &' ; sleep 1; ps -o stat | grep -c Z || true",
    ]));
    assert_eq!(out.trim(), "0", "{out}");
    // Signals reach the command: stop is quick, exit is the trap's.
    ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "inited",
        "--init",
        "busybox",
        "sh",
        "-c",
        "trap 'exit 9' TERM; while true; do sleep 0.1; done",
    ]));
    let start = Instant::now();
    ok(d.docker(&["stop", "inited"]));
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(inspect(&d, "inited")["State"]["ExitCode"], 9);
    ok(d.docker(&["rm", "inited"]));
    assert_nothing_left(&d);
}

#[test]
fn exec_tty_stats_and_log_time_windows() {
    let d = daemon();
    ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "svc",
        "busybox",
        "sh",
        "-c",
        "echo early; sleep 2; echo late; sleep 100",
    ]));
    let out = in_pty(
        &d,
        "stty rows 20 cols 70; docker exec -it svc sh",
        &[(800, b"stty size; tty; exit 7\n")],
    );
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(
        screen.contains("20 70") && screen.contains("/dev/pts/"),
        "{screen}"
    );
    assert_eq!(out.status.code(), Some(7), "{screen}");
    let stats = ok(d.docker(&[
        "stats",
        "--no-stream",
        "--format",
        "{{.Name}} {{.MemUsage}} {{.PIDs}}",
        "svc",
    ]));
    let fields: Vec<&str> = stats.split_whitespace().collect();
    assert_eq!(fields[0], "svc", "{stats}");
    assert!(fields[1].ends_with("B") && fields[1] != "0B", "{stats}");
    assert!(
        fields.last().unwrap().parse::<u32>().unwrap() >= 1,
        "{stats}"
    );
    wait_until("late line", Duration::from_secs(10), || {
        ok(d.docker(&["logs", "svc"])).contains("late")
    });
    let ts = ok(d.docker(&["logs", "-t", "svc"]));
    let late_time = ts
        .lines()
        .find(|l| l.ends_with(" late"))
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_owned();
    let since = ok(d.docker(&["logs", "--since", &late_time, "svc"]));
    assert_eq!(since, "late\n");
    let until = ok(d.docker(&["logs", "--until", &late_time, "svc"]));
    assert!(until.starts_with("early\n"), "{until}");
    // CVE-2024-21626: an exec's working directory under /proc/self/fd reaches no host path.
    let sentinel = HostRootSentinel::new();
    let out = d.docker(&[
        "exec",
        "-w",
        "/proc/self/fd/7",
        "svc",
        "ls",
        "../../../../..",
    ]);
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains(&sentinel.name),
        "{}",
        text(&out)
    );
    ok(d.docker(&["rm", "-f", "svc"]));
    assert_nothing_left(&d);
}

/// A file in the host's `/`, removed on drop: seeing it from a container means an escape.
struct HostRootSentinel {
    name: String,
}

impl HostRootSentinel {
    fn new() -> Self {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let name = format!("berth-escape-sentinel-{}-{n}", std::process::id());
        std::fs::write(format!("/{name}"), b"host").unwrap();
        Self { name }
    }
}

impl Drop for HostRootSentinel {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(format!("/{}", self.name));
    }
}
