//! `docker cp` and the archive API end to end, with the real docker CLI and `berth`: files,
//! directories and symlinks both ways, stopped and running containers, `-` tar streams,
//! `-a`, the path stat header, Docker's errors, and the escapes `cp` must never allow: a
//! symlink to the host's `/` in the container, and the CVE-2018-15664 race that swaps a
//! directory for such a symlink while `cp` runs.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use base64::Engine as _;
use berth_testkit::check::text;
use berth_testkit::TestDaemon;

const BIN: &str = env!("CARGO_BIN_EXE_berth");

fn daemon() -> TestDaemon {
    let d = TestDaemon::start(BIN);
    d.load_busybox();
    d
}

fn ok(out: Output) -> Vec<u8> {
    assert!(out.status.success(), "{}", text(&out));
    out.stdout
}

fn failed(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1), "{}", text(out));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs `program` against the daemon with `input` on stdin.
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

/// `(name, type, size, uid, gid, link)` of every entry of a tar.
fn entries(tar_bytes: &[u8]) -> Vec<(String, char, u64, u64, u64, String)> {
    let mut a = tar::Archive::new(tar_bytes);
    a.entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let h = e.header();
            (
                String::from_utf8_lossy(&e.path_bytes()).into_owned(),
                h.entry_type().as_byte() as char,
                h.size().unwrap(),
                h.uid().unwrap(),
                h.gid().unwrap(),
                e.link_name_bytes()
                    .map(|l| String::from_utf8_lossy(&l).into_owned())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

/// The content of the one regular file in a tar.
fn file_in(tar_bytes: &[u8]) -> Vec<u8> {
    let mut a = tar::Archive::new(tar_bytes);
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        if e.header().entry_type() == tar::EntryType::Regular {
            let mut out = Vec::new();
            e.read_to_end(&mut out).unwrap();
            return out;
        }
    }
    panic!("no file in the archive: {:?}", entries(tar_bytes));
}

/// A local tree as `relative path → description` (content, link target or `dir`).
fn tree(root: &Path) -> BTreeMap<String, String> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        for p in names {
            let rel = p.strip_prefix(base).unwrap().display().to_string();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.file_type().is_symlink() {
                out.insert(
                    rel,
                    format!("-> {}", std::fs::read_link(&p).unwrap().display()),
                );
            } else if meta.is_dir() {
                out.insert(rel, format!("dir {:o}", meta.permissions().mode() & 0o777));
                walk(base, &p, out);
            } else {
                let body = String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned();
                out.insert(
                    rel,
                    format!("{body} {:o}", meta.permissions().mode() & 0o777),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// A local source tree: files, a subdirectory, a relative symlink.
fn source_tree(at: &Path) {
    std::fs::create_dir_all(at.join("sub")).unwrap();
    std::fs::write(at.join("a.txt"), b"alpha").unwrap();
    std::fs::write(at.join("sub/b.txt"), b"beta").unwrap();
    std::fs::set_permissions(at.join("sub/b.txt"), std::fs::Permissions::from_mode(0o600)).unwrap();
    symlink("a.txt", at.join("link")).unwrap();
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The decoded `X-Docker-Container-Path-Stat` of a HEAD request.
fn head_stat(d: &TestDaemon, container: &str, path: &str) -> (u16, serde_json::Value) {
    let res = d
        .http(
            "HEAD",
            &format!("/v1.50/containers/{container}/archive?path={path}"),
            &[],
            b"",
        )
        .unwrap();
    let stat = res
        .header("X-Docker-Container-Path-Stat")
        .map(|h| {
            let raw = base64::engine::general_purpose::STANDARD.decode(h).unwrap();
            serde_json::from_slice(&raw).unwrap()
        })
        .unwrap_or(serde_json::Value::Null);
    (res.status, stat)
}

#[test]
fn cp_copies_files_dirs_and_links_both_ways() {
    let d = daemon();
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    source_tree(&src);

    // Into a container that has never run, with both CLIs.
    ok(d.docker(&["create", "--name", "stopped", "busybox", "true"]));
    ok(d.docker(&["cp", p(&src), "stopped:/tmp/"]));
    ok(d.berth(&["cp", p(&src), "stopped:/tmp/viaberth"]));
    ok(d.berth(&["cp", &format!("{}/a.txt", p(&src)), "stopped:/renamed.txt"]));

    // And back out: the trees are the same as the source, whoever copies.
    for (cli, from, to) in [
        ("docker", "stopped:/tmp/src", "out-docker"),
        ("berth", "stopped:/tmp/src", "out-berth"),
        ("berth", "stopped:/tmp/viaberth", "out-berth2"),
    ] {
        let dest = work.path().join(to);
        let out = if cli == "docker" {
            d.docker(&["cp", from, p(&dest)])
        } else {
            d.berth(&["cp", from, p(&dest)])
        };
        ok(out);
        assert_eq!(tree(&dest), tree(&src), "{cli} cp {from}");
    }
    let single = work.path().join("single.txt");
    ok(d.berth(&["container", "cp", "stopped:/renamed.txt", p(&single)]));
    assert_eq!(std::fs::read(&single).unwrap(), b"alpha");

    // `dir/.` copies the contents into an existing directory.
    let contents = work.path().join("contents");
    std::fs::create_dir(&contents).unwrap();
    ok(d.berth(&["cp", "stopped:/tmp/src/.", p(&contents)]));
    assert_eq!(tree(&contents), tree(&src));

    // A symlink is copied as a link; -L copies what it points to, under the link's name.
    let links = work.path().join("links");
    std::fs::create_dir(&links).unwrap();
    ok(d.berth(&["cp", "stopped:/tmp/src/link", p(&links)]));
    assert_eq!(
        std::fs::read_link(links.join("link")).unwrap().to_str(),
        Some("a.txt")
    );
    let followed = work.path().join("followed");
    std::fs::create_dir(&followed).unwrap();
    ok(d.berth(&["cp", "-L", "stopped:/tmp/src/link", p(&followed)]));
    assert_eq!(std::fs::read(followed.join("link")).unwrap(), b"alpha");
    let theirs = work.path().join("followed-docker");
    std::fs::create_dir(&theirs).unwrap();
    ok(d.docker(&["cp", "-L", "stopped:/tmp/src/link", p(&theirs)]));
    assert_eq!(tree(&theirs), tree(&followed));

    // A running container sees what is copied in, and what it writes can be copied out.
    ok(d.docker(&["run", "-d", "--name", "live", "busybox", "sleep", "300"]));
    ok(d.berth(&["cp", p(&src), "live:/srv"]));
    let seen = ok(d.docker(&["exec", "live", "cat", "/srv/sub/b.txt"]));
    assert_eq!(seen, b"beta");
    ok(d.docker(&["exec", "live", "sh", "-c", "echo made-inside > /made"]));
    let made = work.path().join("made");
    ok(d.berth(&["cp", "live:/made", p(&made)]));
    assert_eq!(std::fs::read(&made).unwrap(), b"made-inside\n");

    // The archive API's events (history up to a moment just ahead).
    let until = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 2)
    .to_string();
    let events = ok(d.docker(&[
        "events",
        "--since",
        "1h",
        "--until",
        &until,
        "--format",
        "{{.Action}}",
        "--filter",
        "container=live",
    ]));
    let events = String::from_utf8_lossy(&events);
    assert!(events.contains("extract-to-dir"), "{events}");
    assert!(events.contains("archive-path"), "{events}");
    ok(d.docker(&["rm", "-f", "live", "stopped"]));
}

#[test]
fn cp_streams_tars_on_stdin_and_stdout_and_keeps_ids_with_a() {
    let d = daemon();
    let work = tempfile::tempdir().unwrap();
    ok(d.docker(&[
        "create",
        "--name",
        "box",
        "--user",
        "1234:5678",
        "busybox",
        "true",
    ]));

    // A tar on stdin lands in the directory named.
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(5);
    h.set_mode(0o640);
    h.set_uid(77);
    h.set_gid(88);
    h.set_mtime(1_600_000_000);
    h.set_cksum();
    b.append_data(&mut h, "fromstdin/data.txt", &b"stdin"[..])
        .unwrap();
    let input = b.into_inner().unwrap();
    let out = with_stdin(&d, BIN, &["cp", "-", "box:/tmp"], &input);
    assert!(out.status.success(), "{}", text(&out));
    let out = with_stdin(&d, "docker", &["cp", "-", "box:/"], &input);
    assert!(out.status.success(), "{}", text(&out));

    // And comes back out as a tar on stdout, named as docker names it, ids kept.
    let ours = ok(d.berth(&["cp", "box:/tmp/fromstdin", "-"]));
    let theirs = ok(d.docker(&["cp", "box:/tmp/fromstdin", "-"]));
    assert_eq!(entries(&ours), entries(&theirs));
    let names: Vec<_> = entries(&ours)
        .into_iter()
        .map(|e| (e.0, e.1, e.3, e.4))
        .collect();
    assert_eq!(
        names,
        [
            ("fromstdin/".into(), '5', 0, 0),
            ("fromstdin/data.txt".into(), '0', 77, 88)
        ]
    );
    assert_eq!(file_in(&ours), b"stdin");
    let dot = entries(&ok(d.berth(&["cp", "box:/tmp/fromstdin/.", "-"])));
    assert_eq!(dot[0].0, "./");
    assert_eq!(dot[1].0, "./data.txt");

    // Without -a the local owner is kept; with -a, the container's user owns the copy.
    let f = work.path().join("owned.txt");
    std::fs::write(&f, b"owned").unwrap();
    nix::unistd::chown(&f, Some(4321.into()), Some(4322.into())).unwrap();
    ok(d.berth(&["cp", p(&f), "box:/plain.txt"]));
    ok(d.berth(&["cp", "-a", p(&f), "box:/archived.txt"]));
    ok(d.docker(&["cp", "-a", p(&f), "box:/archived-docker.txt"]));
    let owner = |path: &str| {
        let e = entries(&ok(d.berth(&["cp", &format!("box:{path}"), "-"])));
        (e[0].3, e[0].4)
    };
    assert_eq!(owner("/plain.txt"), (4321, 4322));
    assert_eq!(owner("/archived.txt"), (1234, 5678));
    assert_eq!(owner("/archived-docker.txt"), (1234, 5678));

    // The stat header, as the docker CLI reads it.
    let (status, stat) = head_stat(&d, "box", "/tmp/fromstdin/data.txt");
    assert_eq!(status, 200);
    assert_eq!(stat["name"], "data.txt");
    assert_eq!(stat["size"], 5);
    assert_eq!(stat["mode"], 0o640);
    assert_eq!(stat["mtime"], "2020-09-13T12:26:40Z");
    assert_eq!(stat["linkTarget"], "");
    let (_, dir) = head_stat(&d, "box", "/tmp/fromstdin/");
    assert_eq!(dir["name"], "fromstdin");
    assert_eq!(dir["mode"].as_u64().unwrap() & (1 << 31), 1 << 31);
    // busybox's /bin/sh is a link to /bin/busybox's neighbour: reported resolved.
    ok(d.docker(&["cp", p(&f), "box:/target.txt"]));
    let link = work.path().join("abs-link");
    symlink("/target.txt", &link).unwrap();
    ok(d.berth(&["cp", p(&link), "box:/tmp/"]));
    let (_, l) = head_stat(&d, "box", "/tmp/abs-link");
    assert_eq!(l["mode"].as_u64().unwrap() & (1 << 27), 1 << 27, "{l}");
    assert_eq!(l["linkTarget"], "/target.txt");
    let (status, _) = head_stat(&d, "box", "/nope");
    assert_eq!(status, 404);
    ok(d.docker(&["rm", "box"]));
}

#[test]
fn cp_errors_read_as_dockers() {
    let d = daemon();
    let work = tempfile::tempdir().unwrap();
    let f = work.path().join("f.txt");
    std::fs::write(&f, b"x").unwrap();
    ok(d.docker(&["create", "--name", "box", "busybox", "true"]));
    ok(d.docker(&["create", "--name", "ro", "--read-only", "busybox", "true"]));

    let neutral = |s: String| s.replace("docker", "CLI").replace("berth", "CLI");
    let same = |args: &[&str]| {
        let ours = failed(&d.berth(args));
        let theirs = failed(&d.docker(args));
        assert_eq!(neutral(ours.clone()), neutral(theirs), "{args:?}");
        ours
    };
    let out = work.path().join("out");
    let missing = same(&["cp", "box:/nope", p(&out)]);
    assert_eq!(
        missing,
        "Error response from daemon: Could not find the file /nope in container box\n"
    );
    same(&["cp", "nosuch:/etc", p(&out)]);
    same(&["cp", p(&f), "nosuch:/etc"]);
    let ro = same(&["cp", p(&f), "ro:/f.txt"]);
    assert_eq!(
        ro,
        "Error response from daemon: container rootfs is marked read-only\n"
    );
    // docker also logs its tar writer's broken pipe here; the error itself is the same.
    let ours = failed(&d.berth(&["cp", p(&f), "box:/no/such/dir/"]));
    let theirs = failed(&d.docker(&["cp", p(&f), "box:/no/such/dir/"]));
    assert_eq!(ours, "no such directory\n");
    assert!(theirs.ends_with(&ours), "{theirs}");
    same(&["cp", "box:/etc", "box:/tmp"]);
    same(&["cp", p(&f), p(&out)]);
    let dir_over_file = same(&["cp", "box:/etc", p(&f)]);
    assert!(
        dir_over_file.contains("cannot copy directory"),
        "{dir_over_file}"
    );
    let usage = d.berth(&["cp", "box:/etc"]);
    assert_eq!(
        neutral(failed(&usage)),
        neutral(failed(&d.docker(&["cp", "box:/etc"])))
    );
    let input = tar::Builder::new(Vec::new()).into_inner().unwrap();
    let ours = with_stdin(&d, BIN, &["cp", "-", "box:/etc/passwd"], &input);
    let theirs = with_stdin(&d, "docker", &["cp", "-", "box:/etc/passwd"], &input);
    assert_eq!(neutral(failed(&ours)), neutral(failed(&theirs)));

    // The wire statuses behind those messages.
    let put = |path: &str| {
        d.http(
            "PUT",
            &format!("/v1.50/containers/{path}"),
            &[("Content-Type", "application/x-tar")],
            &input,
        )
        .unwrap()
    };
    let r = put("box/archive?path=/etc/passwd");
    assert_eq!(
        (
            r.status,
            r.text().contains("extraction point is not a directory")
        ),
        (400, true)
    );
    let r = put("box/archive?path=/nope");
    assert_eq!(r.status, 404, "{}", r.text());
    let r = put("ro/archive?path=/tmp");
    assert_eq!(r.status, 400, "{}", r.text());
    let r = put("box/archive");
    assert_eq!(r.status, 400, "{}", r.text());
    let r = d
        .http("GET", "/v1.50/containers/box/archive?path=/nope", &[], b"")
        .unwrap();
    assert_eq!(r.status, 404);
    ok(d.docker(&["rm", "box", "ro"]));
}

#[test]
fn cp_reaches_into_volumes_and_binds() {
    let d = daemon();
    let work = tempfile::tempdir().unwrap();
    let bind = work.path().join("bind");
    let ro = work.path().join("ro");
    std::fs::create_dir_all(&bind).unwrap();
    std::fs::create_dir_all(&ro).unwrap();
    std::fs::write(bind.join("from-host"), b"host side").unwrap();
    let f = work.path().join("f.txt");
    std::fs::write(&f, b"copied").unwrap();
    ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "vols",
        "-v",
        &format!("{}:/bind", p(&bind)),
        "-v",
        &format!("{}:/robind:ro", p(&ro)),
        "-v",
        "cpdata:/vol",
        "busybox",
        "sleep",
        "300",
    ]));
    // Into a bind: the host directory gets it; out of a bind: the host's file.
    ok(d.berth(&["cp", p(&f), "vols:/bind/"]));
    assert_eq!(std::fs::read(bind.join("f.txt")).unwrap(), b"copied");
    let out = ok(d.berth(&["cp", "vols:/bind/from-host", "-"]));
    assert_eq!(file_in(&out), b"host side");
    // Into a named volume, seen by the container and, stopped, by another one.
    ok(d.docker(&["cp", p(&f), "vols:/vol/"]));
    assert_eq!(
        ok(d.docker(&["exec", "vols", "cat", "/vol/f.txt"])),
        b"copied"
    );
    ok(d.docker(&[
        "create",
        "--name",
        "later",
        "-v",
        "cpdata:/data",
        "busybox",
        "true",
    ]));
    let out = ok(d.berth(&["cp", "later:/data/f.txt", "-"]));
    assert_eq!(file_in(&out), b"copied");
    // A read-only bind refuses, with Docker's message, and stays empty.
    let ours = failed(&d.berth(&["cp", p(&f), "vols:/robind/"]));
    let theirs = failed(&d.docker(&["cp", p(&f), "vols:/robind/"]));
    assert_eq!(
        ours,
        "Error response from daemon: mounted volume is marked read-only\n"
    );
    assert_eq!(ours, theirs);
    assert_eq!(std::fs::read_dir(&ro).unwrap().count(), 0);
    // A volume that is a mount of its own (bind-backed here) is mounted for the copy,
    // also in a container that is not running.
    let backing = work.path().join("backing");
    std::fs::create_dir_all(&backing).unwrap();
    ok(d.docker(&[
        "volume",
        "create",
        "--opt",
        "type=none",
        "--opt",
        "o=bind",
        "--opt",
        &format!("device={}", p(&backing)),
        "backed",
    ]));
    ok(d.docker(&[
        "create",
        "--name",
        "idle",
        "-v",
        "backed:/b",
        "busybox",
        "true",
    ]));
    ok(d.berth(&["cp", p(&f), "idle:/b/"]));
    assert_eq!(std::fs::read(backing.join("f.txt")).unwrap(), b"copied");
    std::fs::write(backing.join("back.txt"), b"backing").unwrap();
    assert_eq!(
        file_in(&ok(d.docker(&["cp", "idle:/b/back.txt", "-"]))),
        b"backing"
    );
    ok(d.docker(&["rm", "-f", "vols", "later", "idle"]));
}

/// A file in the host's `/` with random content, removed on drop: reading its content or
/// finding it changed means `cp` escaped the container.
struct HostRootSentinel {
    name: String,
    content: String,
}

impl HostRootSentinel {
    fn new() -> Self {
        let tag = format!(
            "{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        );
        let name = format!("berth-cp-sentinel-{tag}");
        let content = format!("HOST-SECRET-{tag}");
        std::fs::write(format!("/{name}"), &content).unwrap();
        Self { name, content }
    }

    fn assert_untouched(&self) {
        assert_eq!(
            std::fs::read_to_string(format!("/{}", self.name)).unwrap(),
            self.content,
            "the host sentinel was overwritten"
        );
    }
}

impl Drop for HostRootSentinel {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(format!("/{}", self.name));
    }
}

/// Host paths in `/` whose names start with `prefix` (what a write through an escape
/// would create).
fn host_root_entries(prefix: &str) -> Vec<String> {
    std::fs::read_dir("/")
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix))
        .collect()
}

#[test]
fn cp_through_a_link_to_the_host_root_stays_in_the_container() {
    let d = daemon();
    let sentinel = HostRootSentinel::new();
    let work = tempfile::tempdir().unwrap();
    let written = format!("{}-written", sentinel.name);
    let f = work.path().join(&written);
    std::fs::write(&f, b"from-cp").unwrap();
    ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "esc",
        "busybox",
        "sh",
        "-c",
        "ln -s / /escape && ln -s /escape/etc /etcl && sleep 300",
    ]));
    ok(d.docker(&["create", "--name", "esc-stopped", "busybox", "true"]));
    let link = work.path().join("escape");
    symlink("/", &link).unwrap();
    ok(d.docker(&["cp", p(&link), "esc-stopped:/"]));

    for c in ["esc", "esc-stopped"] {
        // Reading the sentinel's name through the link finds nothing (it is not in the
        // container), with either CLI, following links or not.
        for args in [
            vec![
                "cp".to_string(),
                format!("{c}:/escape/{}", sentinel.name),
                "-".into(),
            ],
            vec![
                "cp".into(),
                "-L".into(),
                format!("{c}:/escape/{}", sentinel.name),
                "-".into(),
            ],
            vec!["cp".into(), format!("{c}:/escape/"), "-".into()],
        ] {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            for out in [d.docker(&args), d.berth(&args)] {
                let all = [out.stdout.as_slice(), out.stderr.as_slice()].concat();
                let all = String::from_utf8_lossy(&all);
                assert!(!all.contains(&sentinel.content), "{args:?} read the host");
                assert!(
                    !all.contains(&sentinel.name) || !out.status.success(),
                    "{args:?}"
                );
            }
        }
        // Writing through the link lands in the container's own root.
        let target = format!("{c}:/escape/");
        ok(d.docker(&["cp", p(&f), &target]));
        let named = format!("{c}:/escape/{}", sentinel.name);
        ok(d.berth(&["cp", p(&f), &named]));
        sentinel.assert_untouched();
        let back = ok(d.berth(&["cp", &format!("{c}:/{}", sentinel.name), "-"]));
        assert_eq!(file_in(&back), b"from-cp");
        let back = ok(d.docker(&["cp", &format!("{c}:/{written}"), "-"]));
        assert_eq!(file_in(&back), b"from-cp");
    }
    assert!(host_root_entries(&written).is_empty());
    sentinel.assert_untouched();
    ok(d.docker(&["rm", "-f", "esc", "esc-stopped"]));
}

#[test]
fn cp_loses_the_cve_2018_15664_symlink_swap_race() {
    let d = daemon();
    let sentinel = HostRootSentinel::new();
    let prefix = format!("{}-new-", sentinel.name);
    // Inside, /d1../d4 each hold a file named like the host sentinel, with other content;
    // one loop per directory keeps swapping it for a symlink to / and back.
    let swap = format!(
        "for i in 1 2 3 4; do mkdir /d$i && echo inside > /d$i/{name}; done; \
         for i in 1 2 3 4; do (while :; do mv /d$i /d$i.x; ln -s / /d$i; rm /d$i; mv /d$i.x /d$i; \
         usleep 300; done) & done; wait",
        name = sentinel.name
    );
    ok(d.docker(&["run", "-d", "--name", "race", "busybox", "sh", "-c", &swap]));

    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(6);
    h.set_mode(0o644);
    h.set_cksum();
    b.append_data(&mut h, &sentinel.name, &b"pwned\n"[..])
        .unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_size(6);
    h.set_mode(0o644);
    h.set_cksum();
    b.append_data(&mut h, format!("{prefix}api"), &b"pwned\n"[..])
        .unwrap();
    let overwrite = b.into_inner().unwrap();
    let work = tempfile::tempdir().unwrap();
    let f = work.path().join("payload");
    std::fs::write(&f, b"race").unwrap();

    let mut inside_reads = 0;
    let mut statuses = std::collections::BTreeMap::new();
    for i in 0..300 {
        // Read: through the API and, every tenth round, through both CLIs.
        let dir = format!("/d{}", i % 4 + 1);
        let path = format!(
            "/v1.50/containers/race/archive?path={dir}/{}",
            sentinel.name
        );
        let r = d.http("GET", &path, &[], b"").unwrap();
        assert!(
            !r.text().contains(&sentinel.content),
            "round {i}: read the host file"
        );
        // A read found the container's file (the directory's own, or the one a write
        // through the swapped link put in the container's root).
        if r.status == 200 {
            inside_reads += 1;
        }
        *statuses
            .entry((r.status, r.text().chars().take(80).collect::<String>()))
            .or_insert(0) += 1;
        // Write: a new file and an overwrite of the sentinel's name, into /d.
        let put = format!("/v1.50/containers/race/archive?path={dir}");
        // The daemon may answer (a 404 while the directory is moved away) and close
        // before taking the body: a reset is fine, only the host matters.
        if let Ok(pr) = d.http("PUT", &put, &[], &overwrite) {
            *statuses
                .entry((pr.status, format!("PUT {}", pr.text())))
                .or_insert(0) += 1;
        }
        if i % 10 == 0 {
            let name = format!("race:{dir}/{}", sentinel.name);
            for out in [d.docker(&["cp", &name, "-"]), d.berth(&["cp", &name, "-"])] {
                let all = [out.stdout.as_slice(), out.stderr.as_slice()].concat();
                assert!(
                    !String::from_utf8_lossy(&all).contains(&sentinel.content),
                    "round {i}"
                );
            }
            let dest = format!("race:{dir}/{prefix}cli{i}");
            let _ = d.docker(&["cp", p(&f), &dest]);
            let _ = d.berth(&["cp", p(&f), &dest]);
        }
        sentinel.assert_untouched();
    }
    assert!(
        host_root_entries(&prefix).is_empty(),
        "{:?}",
        host_root_entries(&prefix)
    );
    // The race was real: reads found the directories' own files, and some writes went
    // through a swapped-in link, into the container's own root.
    assert!(
        inside_reads > 10,
        "only {inside_reads} reads reached a directory: {statuses:?}"
    );
    // (ls complains about entries renamed under it: only its listing counts.)
    let root = d
        .docker(&["exec", "race", "sh", "-c", "ls / 2>/dev/null; true"])
        .stdout;
    assert!(
        String::from_utf8_lossy(&root).contains(&format!("{prefix}api")),
        "no write went through the swapped link"
    );
    ok(d.docker(&["rm", "-f", "race"]));
}
