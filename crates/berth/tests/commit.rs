//! `diff`, `commit`, `export`, `system df`, `ps -s` and `system prune` end to end, with the
//! real docker CLI next to `berth` against a berth daemon.

use std::collections::HashSet;
use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use berth_testkit::check::{inspect, ok, text};
use berth_testkit::TestDaemon;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_berth");

fn daemon() -> TestDaemon {
    let d = TestDaemon::start(BIN);
    d.load_busybox();
    d
}

fn get_json(d: &TestDaemon, path: &str) -> Value {
    let r = d.http("GET", path, &[], b"").unwrap();
    assert_eq!(r.status, 200, "{path}: {}", r.text());
    serde_json::from_slice(&r.body).unwrap()
}

/// Runs a CLI with `input` on stdin.
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

/// The events of one action so far (`until` now: the answer ends).
fn events(d: &TestDaemon, action: &str) -> Vec<Value> {
    let until = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 1;
    let filters = format!("%7B%22event%22%3A%5B%22{action}%22%5D%7D");
    let r = d
        .http(
            "GET",
            &format!("/events?since=0&until={until}&filters={filters}"),
            &[],
            b"",
        )
        .unwrap();
    r.text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Apparent bytes of the non-directories under `dir`, each inode once: what dockerd's
/// `directory.Size` counts, measured by `find` rather than by Berth.
fn du_files(dir: &str) -> u64 {
    let out = Command::new("find")
        .arg(format!("{dir}/"))
        .args(["!", "-type", "d", "-printf", "%i %s\\n"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let lines: HashSet<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    lines
        .iter()
        .map(|l| l.split(' ').nth(1).unwrap().parse::<u64>().unwrap())
        .sum()
}

/// `N seconds ago` with the number blanked: two runs a moment apart may differ by one.
fn ages(table: &str) -> String {
    let mut out = String::new();
    for word in table.split_inclusive(' ') {
        if word.trim().chars().all(|c| c.is_ascii_digit()) && !word.trim().is_empty() {
            out.push_str("N ");
        } else {
            out.push_str(word);
        }
    }
    out
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn diff_lists_exactly_what_the_container_added_changed_and_deleted() {
    let d = daemon();
    ok(d.docker(&["create", "--name", "fresh", "busybox"]));
    let r = d
        .http("GET", "/containers/fresh/changes", &[], b"")
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(
        r.text(),
        "null",
        "nothing changed: a nil list, as moby sends"
    );
    assert_eq!(ok(d.docker(&["diff", "fresh"])), "");

    ok(d.docker(&[
        "run",
        "--name",
        "c1",
        "busybox",
        "sh",
        "-c",
        "echo more >> /etc/passwd; rm /etc/group; echo x > /etc/x; \
         mkdir -p /newdir/sub; echo y > /newdir/sub/f",
    ]));
    let want = "C /etc\nD /etc/group\nC /etc/passwd\nA /etc/x\nA /newdir\nA /newdir/sub\nA /newdir/sub/f\n";
    assert_eq!(ok(d.docker(&["diff", "c1"])), want);
    assert_eq!(ok(d.berth(&["diff", "c1"])), want);
    assert_eq!(ok(d.berth(&["container", "diff", "c1"])), want);
    let api = get_json(&d, "/containers/c1/changes");
    assert_eq!(api[0], serde_json::json!({"Path": "/etc", "Kind": 0}));
    assert_eq!(api[1], serde_json::json!({"Path": "/etc/group", "Kind": 2}));
    assert_eq!(api[3], serde_json::json!({"Path": "/etc/x", "Kind": 1}));

    // A running container, seen as it changes.
    ok(d.docker(&["run", "-d", "--name", "live", "busybox", "sleep", "300"]));
    assert_eq!(ok(d.docker(&["diff", "live"])), "");
    ok(d.docker(&["exec", "live", "sh", "-c", "echo l > /tmp/l"]));
    assert_eq!(ok(d.berth(&["diff", "live"])), "C /tmp\nA /tmp/l\n");

    let theirs = d.docker(&["diff", "nosuch"]);
    let ours = d.berth(&["diff", "nosuch"]);
    assert_eq!(theirs.status.code(), ours.status.code());
    assert_eq!(
        String::from_utf8_lossy(&ours.stderr),
        String::from_utf8_lossy(&theirs.stderr)
    );
    ok(d.docker(&["rm", "-f", "live"]));
}

#[test]
fn commit_makes_an_image_that_runs_with_the_changes_and_the_new_cmd() {
    let d = daemon();
    ok(d.docker(&[
        "run",
        "--name",
        "c1",
        "busybox",
        "sh",
        "-c",
        "echo changed > /x",
    ]));
    let id = ok(d.docker(&[
        "commit",
        "-c",
        r#"CMD ["cat","/x"]"#,
        "-m",
        "a message",
        "-a",
        "Someone <someone@example.com>",
        "c1",
        "snap:v1",
    ]));
    let id = id.trim();
    assert!(id.starts_with("sha256:") && id.len() == 71, "{id}");
    assert_eq!(ok(d.docker(&["run", "--rm", "snap:v1"])), "changed\n");

    // The same through berth, and the image runs the same.
    let id2 = ok(d.berth(&[
        "commit",
        "--change",
        r#"CMD ["cat","/x"]"#,
        "--message",
        "a message",
        "c1",
        "snap:v2",
    ]));
    assert!(id2.trim().starts_with("sha256:"));
    assert_eq!(ok(d.docker(&["run", "--rm", "snap:v2"])), "changed\n");

    let history = ok(d.docker(&[
        "history",
        "--no-trunc",
        "--format",
        "{{.CreatedBy}}|{{.Comment}}",
        "snap:v1",
    ]));
    let lines: Vec<&str> = history.lines().collect();
    assert_eq!(lines.len(), 2, "{history}");
    assert_eq!(lines[0], "sh -c echo changed > /x|a message");
    assert_eq!(lines[1], "|Imported from -");

    let img = inspect(&d, "snap:v1");
    assert_eq!(img["Id"], id);
    assert_eq!(img["Comment"], "a message");
    assert_eq!(img["Author"], "Someone <someone@example.com>");
    assert_eq!(img["Config"]["Cmd"], serde_json::json!(["cat", "/x"]));
    assert_eq!(img["RootFS"]["Layers"].as_array().unwrap().len(), 2);
    let busybox = inspect(&d, "busybox");
    assert_eq!(img["RootFS"]["Layers"][0], busybox["RootFS"]["Layers"][0]);

    // The event, with moby's attributes.
    let commits = events(&d, "commit");
    assert_eq!(commits.len(), 2, "{commits:?}");
    let attrs = &commits[0]["Actor"]["Attributes"];
    assert_eq!(commits[0]["Type"], "container");
    assert_eq!(attrs["comment"], "a message");
    assert_eq!(attrs["imageID"], id);
    assert_eq!(attrs["imageRef"], "snap:v1");
    assert_eq!(attrs["name"], "c1");

    // Nothing changed: no new layer, one more history entry.
    ok(d.docker(&["create", "--name", "same", "busybox"]));
    ok(d.docker(&["commit", "same", "same:1"]));
    let same = inspect(&d, "same:1");
    assert_eq!(same["RootFS"]["Layers"], busybox["RootFS"]["Layers"]);
    let history = ok(d.docker(&["history", "-q", "same:1"]));
    assert_eq!(history.lines().count(), 2);

    // Bad changes are refused before anything is made.
    let out = d.docker(&["commit", "-c", "RUN true", "c1", "bad:1"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("run is not a valid change command"),
        "{}",
        text(&out)
    );
    assert!(!d.docker(&["image", "inspect", "bad:1"]).status.success());
}

#[test]
fn commit_pauses_a_running_container_and_leaves_it_running() {
    let d = daemon();
    ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "runner",
        "busybox",
        "sh",
        "-c",
        "echo live > /live; exec sleep 300",
    ]));
    wait_until("the container's write", || {
        d.docker(&["exec", "runner", "cat", "/live"])
            .status
            .success()
    });
    ok(d.docker(&["commit", "runner", "live:1"]));
    assert_eq!(events(&d, "pause").len(), 1);
    assert_eq!(events(&d, "unpause").len(), 1);
    let state = &inspect(&d, "runner")["State"];
    assert_eq!(state["Status"], "running");
    assert_eq!(state["Paused"], false);
    assert_eq!(
        ok(d.docker(&["run", "--rm", "live:1", "cat", "/live"])),
        "live\n"
    );
    // The committed CMD is the container's.
    assert_eq!(
        inspect(&d, "live:1")["Config"]["Cmd"],
        serde_json::json!(["sh", "-c", "echo live > /live; exec sleep 300"])
    );

    ok(d.berth(&["commit", "--pause=false", "runner", "live:2"]));
    assert_eq!(events(&d, "pause").len(), 1, "no pause asked, none made");
    ok(d.docker(&["rm", "-f", "runner"]));
}

fn tar_names(path: &std::path::Path) -> Vec<String> {
    let mut a = tar::Archive::new(std::fs::File::open(path).unwrap());
    a.entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect()
}

fn tar_file(path: &std::path::Path, name: &str) -> Option<Vec<u8>> {
    let mut a = tar::Archive::new(std::fs::File::open(path).unwrap());
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        if e.path().unwrap().display().to_string() == name {
            let mut v = Vec::new();
            std::io::Read::read_to_end(&mut e, &mut v).unwrap();
            return Some(v);
        }
    }
    None
}

#[test]
fn export_tars_the_whole_root_with_the_changes_and_no_volume() {
    let d = daemon();
    ok(d.docker(&[
        "run",
        "--name",
        "exp",
        "-v",
        "/data",
        "busybox",
        "sh",
        "-c",
        "echo exported > /etc/mine; rm /etc/group; echo in-volume > /data/f",
    ]));
    let theirs = d.dir().join("theirs.tar");
    let ours = d.dir().join("ours.tar");
    ok(d.docker(&["export", "-o", theirs.to_str().unwrap(), "exp"]));
    ok(d.berth(&["export", "-o", ours.to_str().unwrap(), "exp"]));
    let names = tar_names(&ours);
    assert_eq!(names, tar_names(&theirs));
    for want in [
        "bin/",
        "bin/busybox",
        "etc/",
        "etc/passwd",
        "etc/mine",
        "data/",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} missing: {names:?}");
    }
    assert!(
        !names.iter().any(|n| n == "etc/group"),
        "deleted file exported"
    );
    assert!(
        !names.iter().any(|n| n == "data/f"),
        "volume content exported"
    );
    assert!(!names
        .iter()
        .any(|n| n.starts_with('/') || n.starts_with("./")));
    assert_eq!(tar_file(&ours, "etc/mine").unwrap(), b"exported\n");
    // Every busybox applet is one hard link to the binary, and stays one.
    assert!(names.iter().filter(|n| n.starts_with("bin/")).count() > 100);

    // To stdout (a pipe), and from a running container.
    ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "run",
        "busybox",
        "sh",
        "-c",
        "echo r > /r; exec sleep 300",
    ]));
    wait_until("the running container's write", || {
        d.docker(&["exec", "run", "cat", "/r"]).status.success()
    });
    let out = d.berth(&["export", "run"]);
    assert!(out.status.success(), "{}", text(&out));
    let streamed = d.dir().join("streamed.tar");
    std::fs::write(&streamed, &out.stdout).unwrap();
    assert_eq!(tar_file(&streamed, "r").unwrap(), b"r\n");
    ok(d.docker(&["rm", "-f", "run"]));

    // Never a tar on a terminal (`script` gives the CLI one).
    let on_tty = |program: &str| {
        let cmd = format!("{program} -H {} export exp; echo status=$?", d.host());
        let out = Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).replace('\r', "")
    };
    let theirs_tty = on_tty(berth_testkit::DOCKER_CLI);
    assert_eq!(
        theirs_tty,
        "cowardly refusing to save to a terminal. Use the -o flag or redirect\nstatus=1\n"
    );
    assert_eq!(on_tty(BIN), theirs_tty);

    let out = d.berth(&["export", "-o", ours.to_str().unwrap(), "nosuch"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("No such container: nosuch"));
}

#[test]
fn system_df_matches_du_and_stays_right_as_containers_run() {
    let d = daemon();
    ok(d.docker(&[
        "run",
        "--name",
        "big",
        "busybox",
        "sh",
        "-c",
        "head -c 100000 /dev/zero > /big; mkdir /d; head -c 5000 /dev/zero > /d/f",
    ]));
    ok(d.docker(&[
        "create",
        "--name",
        "grow",
        "busybox",
        "sh",
        "-c",
        "head -c 1000 /dev/zero >> /grow",
    ]));
    ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "running",
        "busybox",
        "sh",
        "-c",
        "head -c 2000 /dev/zero > /r; exec sleep 300",
    ]));
    let size_rw = |name: &str| -> u64 {
        let df = get_json(&d, "/system/df");
        let c = df["Containers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["Names"][0] == format!("/{name}"))
            .unwrap()
            .clone();
        c["SizeRw"].as_u64().unwrap()
    };
    let upper = |name: &str| {
        inspect(&d, name)["GraphDriver"]["Data"]["UpperDir"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(size_rw("big"), 105_000);
    assert_eq!(size_rw("big"), du_files(&upper("big")));
    assert_eq!(size_rw("grow"), 0);
    wait_until("the running container's write", || {
        size_rw("running") == 2000
    });
    ok(d.docker(&[
        "exec",
        "running",
        "sh",
        "-c",
        "head -c 3000 /dev/zero > /more",
    ]));
    assert_eq!(size_rw("running"), 5000, "a running container is measured");

    // A stopped container grows when it runs again.
    ok(d.docker(&["start", "-a", "grow"]));
    assert_eq!(size_rw("grow"), 1000);
    ok(d.docker(&["start", "-a", "grow"]));
    assert_eq!(size_rw("grow"), 2000);
    assert_eq!(size_rw("grow"), du_files(&upper("grow")));

    // Images: one layer, measured like dockerd (file bytes, each hard link once).
    let df = get_json(&d, "/system/df");
    let lower = inspect(&d, "big")["GraphDriver"]["Data"]["LowerDir"]
        .as_str()
        .unwrap()
        .to_owned();
    let layer = du_files(&lower);
    assert!(layer > 1_000_000, "busybox is about 2MB: {layer}");
    assert_eq!(df["LayersSize"].as_u64().unwrap(), layer);
    let images = df["Images"].as_array().unwrap();
    assert_eq!(images.len(), 1);
    assert_eq!(images[0]["Size"].as_u64().unwrap(), layer);
    assert_eq!(images[0]["SharedSize"].as_u64().unwrap(), 0);
    assert_eq!(images[0]["Containers"].as_i64().unwrap(), 3);
    let big = df["Containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["Names"][0] == "/big")
        .unwrap();
    assert_eq!(big["SizeRootFs"].as_u64().unwrap(), layer + 105_000);

    // A committed image shares the base layer.
    ok(d.docker(&["commit", "big", "big:1"]));
    let df = get_json(&d, "/system/df");
    assert_eq!(df["LayersSize"].as_u64().unwrap(), layer + 105_000);
    for i in df["Images"].as_array().unwrap() {
        assert_eq!(i["SharedSize"].as_u64().unwrap(), layer, "{i}");
    }

    // The tables, as the docker CLI prints them from the same answer.
    assert_eq!(
        ok(d.berth(&["system", "df"])),
        ok(d.docker(&["system", "df"]))
    );
    let theirs = ages(&ok(d.docker(&["system", "df", "-v"])));
    let ours = ages(&ok(d.berth(&["system", "df", "-v"])));
    assert_eq!(ours, theirs);
    assert!(ours.contains("Containers space usage:"), "{ours}");
    ok(d.docker(&["rm", "-f", "running"]));
}

#[test]
fn ps_size_shows_the_writable_layer_and_the_virtual_size() {
    let d = daemon();
    ok(d.docker(&[
        "run",
        "--name",
        "s1",
        "busybox",
        "sh",
        "-c",
        "head -c 12345 /dev/zero > /f",
    ]));
    let args = ["ps", "-a", "-s", "--format", "{{.Names}} {{.Size}}"];
    let theirs = ok(d.docker(&args));
    assert_eq!(ok(d.berth(&args)), theirs);
    assert!(theirs.starts_with("s1 12.3kB (virtual "), "{theirs}");
    let list = get_json(&d, "/containers/json?all=1&size=1");
    assert_eq!(list[0]["SizeRw"].as_u64().unwrap(), 12345);
    let i = get_json(&d, "/containers/s1/json?size=1");
    assert_eq!(i["SizeRw"].as_u64().unwrap(), 12345);
    assert_eq!(i["SizeRootFs"], list[0]["SizeRootFs"]);
}

/// Containers, networks, volumes and images for a prune to choose from: what docker's
/// would remove and what it must leave.
struct PruneSetup {
    stopped: String,
    dangling: String,
}

fn prune_setup(d: &TestDaemon) -> PruneSetup {
    ok(d.docker(&["run", "-d", "--name", "running", "busybox", "sleep", "300"]));
    let stopped = ok(d.docker(&[
        "run",
        "--name",
        "stopped",
        "busybox",
        "sh",
        "-c",
        "echo s > /s",
    ]));
    assert_eq!(stopped, "");
    let stopped = inspect(d, "stopped")["Id"].as_str().unwrap().to_owned();
    ok(d.docker(&["network", "create", "unused-net"]));
    ok(d.docker(&["volume", "create", "named-vol"]));
    let dangling = ok(d.docker(&["commit", "stopped"])).trim().to_owned();
    ok(d.docker(&["commit", "stopped", "unused:1"]));
    PruneSetup { stopped, dangling }
}

fn names(d: &TestDaemon, args: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ok(d.docker(args)).lines().map(str::to_owned).collect();
    v.sort();
    v
}

#[test]
fn system_prune_removes_what_docker_would_and_nothing_else() {
    let d = daemon();
    let s = prune_setup(&d);

    // Declined: the prompt, and nothing goes.
    let theirs = with_stdin(&d, berth_testkit::DOCKER_CLI, &["system", "prune"], b"n\n");
    let ours = with_stdin(&d, BIN, &["system", "prune"], b"n\n");
    assert_eq!(
        ours.stdout,
        theirs.stdout,
        "{}\n{}",
        text(&ours),
        text(&theirs)
    );
    assert_eq!(ours.status.code(), theirs.status.code());
    assert!(String::from_utf8_lossy(&ours.stdout).starts_with(
        "WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n  - all dangling images\n  - unused build cache\n\nAre you sure you want to continue? [y/N] "
    ));
    assert_eq!(names(&d, &["ps", "-aq"]).len(), 2);

    let out = ok(d.berth(&["system", "prune", "-f"]));
    let deleted_containers = format!("Deleted Containers:\n{}\n\n", s.stopped);
    assert!(out.starts_with(&deleted_containers), "{out}");
    assert!(out.contains("Deleted Networks:\nunused-net\n\n"), "{out}");
    assert!(
        out.contains(&format!("Deleted Images:\ndeleted: {}\n", s.dangling)),
        "{out}"
    );
    assert!(out.ends_with("Total reclaimed space: ") || out.contains("\nTotal reclaimed space: "));
    assert_eq!(
        names(&d, &["ps", "-a", "--format", "{{.Names}}"]),
        ["running"]
    );
    let images = names(&d, &["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert_eq!(images, ["busybox:latest", "unused:1"]);
    assert!(names(&d, &["network", "ls", "--format", "{{.Name}}"])
        .iter()
        .all(|n| n != "unused-net"));
    assert_eq!(names(&d, &["volume", "ls", "-q"]), ["named-vol"]);

    // -a takes unused tagged images too; --volumes only anonymous volumes.
    ok(d.docker(&["run", "--name", "anon", "-v", "/data", "busybox", "true"]));
    let out = ok(d.berth(&["system", "prune", "-a", "--volumes", "-f"]));
    assert!(out.contains("Deleted Volumes:\n"), "{out}");
    assert!(out.contains("untagged: unused:1\n"), "{out}");
    let images = names(&d, &["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert_eq!(
        images,
        ["busybox:latest"],
        "the running container's image stays"
    );
    assert_eq!(names(&d, &["volume", "ls", "-q"]), ["named-vol"]);
    assert_eq!(
        names(&d, &["ps", "-a", "--format", "{{.Names}}"]),
        ["running"]
    );
    ok(d.docker(&["rm", "-f", "running"]));
}

#[test]
fn system_prune_prints_what_docker_prints() {
    // Two daemons, the same objects: each CLI prunes one.
    let (a, b) = (daemon(), daemon());
    prune_setup(&a);
    prune_setup(&b);
    let normalise = |s: String| {
        let re_hex = |t: &str| {
            t.split(|c: char| !c.is_ascii_hexdigit())
                .filter(|w| w.len() == 64)
                .fold(t.to_owned(), |acc, w| acc.replace(w, "<id>"))
        };
        re_hex(&s)
    };
    let ours = normalise(ok(a.berth(&["system", "prune", "-f"])));
    let theirs = normalise(ok(b.docker(&["system", "prune", "-f"])));
    let sorted = |s: &str| {
        let mut v: Vec<&str> = s.lines().collect();
        v.sort();
        v.join("\n")
    };
    // The order of the layer lines inside a section is the daemon's; all else is the CLI's.
    assert_eq!(
        sorted(&ours),
        sorted(&theirs),
        "ours:\n{ours}\ntheirs:\n{theirs}"
    );
    assert_eq!(
        ours.lines()
            .filter(|l| l.ends_with(':'))
            .collect::<Vec<_>>(),
        theirs
            .lines()
            .filter(|l| l.ends_with(':'))
            .collect::<Vec<_>>()
    );
    for d in [&a, &b] {
        ok(d.docker(&["rm", "-f", "running"]));
    }
}

#[test]
fn image_prune_honours_dangling_until_and_label() {
    let d = daemon();
    ok(d.docker(&["create", "--name", "base", "busybox"]));
    let keep = ok(d.docker(&["commit", "-c", "LABEL keep=1", "base"]))
        .trim()
        .to_owned();
    let other = ok(d.docker(&["commit", "-c", "LABEL other=1", "base"]))
        .trim()
        .to_owned();
    let post = |filters: &str| {
        let enc: String = filters.bytes().map(|b| format!("%{b:02X}")).collect();
        d.http("POST", &format!("/images/prune?filters={enc}"), &[], b"")
            .unwrap()
    };
    let r = post(r#"{"dangling":["bogus"]}"#);
    assert_eq!(r.status, 400);
    assert!(
        r.text().contains("Invalid filter 'dangling=[bogus]'"),
        "{}",
        r.text()
    );
    let r = post(r#"{"until":["2000-01-01T00:00:00Z"]}"#);
    assert_eq!(r.status, 200);
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["ImagesDeleted"], Value::Null, "nothing that old");
    let r = post(r#"{"label!":["keep"]}"#);
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    let deleted: Vec<&str> = v["ImagesDeleted"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["Deleted"].as_str())
        .collect();
    assert_eq!(deleted, [other.as_str()]);
    assert!(d.docker(&["image", "inspect", &keep]).status.success());
    let r = post(r#"{"label":["keep=1"]}"#);
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["ImagesDeleted"][0]["Deleted"], keep);
    // busybox is used by a container: even dangling=false leaves it.
    let r = post(r#"{"dangling":["false"]}"#);
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["ImagesDeleted"], Value::Null);
    assert!(d.docker(&["image", "inspect", "busybox"]).status.success());
}
