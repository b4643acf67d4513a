//! Container mounts end to end with the real docker CLI and berth: named and anonymous
//! volumes, binds (read-only, propagation, missing sources), tmpfs, `--volumes-from`, image
//! VOLUMEs filled from the image, `rm -v`, `volume rm` of a volume in use, inspect's
//! `Mounts`, and mount targets that can never leave the container's root.

use std::process::Command;

use berth_testkit::check::{ok, text};
use berth_testkit::TestDaemon;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_berth");

fn daemon() -> TestDaemon {
    let d = TestDaemon::start(BIN);
    d.load_busybox();
    d
}

fn inspect(d: &TestDaemon, name: &str) -> Value {
    let out = ok(d.docker(&["inspect", name]));
    let v: Value = serde_json::from_str(&out).unwrap();
    v[0].clone()
}

fn volume_names(d: &TestDaemon) -> Vec<String> {
    ok(d.docker(&["volume", "ls", "-q"]))
        .lines()
        .map(str::to_owned)
        .collect()
}

/// No mount of this daemon's left on the host (container roots, tmpfs volumes).
fn assert_no_mounts_left(d: &TestDaemon) {
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let dir = d.dir().display().to_string();
    let leaked: Vec<&str> = mounts.lines().filter(|l| l.contains(&dir)).collect();
    assert!(leaked.is_empty(), "leaked mounts: {leaked:#?}");
}

/// Imports busybox plus extra entries made by `build` in a scratch directory.
fn import_with(d: &TestDaemon, tag: &str, changes: &[&str], build: impl FnOnce(&std::path::Path)) {
    let scratch = tempfile::tempdir().unwrap();
    let tar = scratch.path().join("image.tar");
    std::fs::copy(berth_testkit::busybox_tar(), &tar).unwrap();
    let extra = scratch.path().join("extra");
    std::fs::create_dir(&extra).unwrap();
    build(&extra);
    let names: Vec<String> = std::fs::read_dir(&extra)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    if !names.is_empty() {
        let st = Command::new("tar")
            .arg("--append")
            .arg("--owner=0")
            .arg("--group=0")
            .arg("-f")
            .arg(&tar)
            .arg("-C")
            .arg(&extra)
            .args(&names)
            .status()
            .unwrap();
        assert!(st.success());
    }
    let mut args = vec!["import".to_owned()];
    for c in changes {
        args.push("-c".into());
        args.push((*c).into());
    }
    args.push(tar.display().to_string());
    args.push(tag.into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ok(d.docker(&args));
}

#[test]
fn named_volumes_keep_data_and_anonymous_ones_go_with_rm_v() {
    let d = daemon();
    ok(d.docker(&[
        "run",
        "--rm",
        "-v",
        "data:/data",
        "busybox",
        "sh",
        "-c",
        "echo kept > /data/f",
    ]));
    assert!(volume_names(&d).contains(&"data".to_owned()));
    let out = ok(d.berth(&[
        "run",
        "--rm",
        "-v",
        "data:/data:ro",
        "busybox",
        "cat",
        "/data/f",
    ]));
    assert_eq!(out, "kept\n");
    // Read-only volume mount refuses writes.
    let out = d.docker(&[
        "run",
        "--rm",
        "-v",
        "data:/data:ro",
        "busybox",
        "sh",
        "-c",
        "echo x > /data/g",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Read-only file system"));

    // In use (even by a stopped container): 409 with moby's words, then removable.
    let id = ok(d.docker(&["create", "--name", "user", "-v", "data:/data", "busybox"]));
    let out = d.docker(&["volume", "rm", "data"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("remove data: volume is in use - [") && err.contains(id.trim()),
        "{err}"
    );
    let r = d.http("DELETE", "/volumes/data", &[], b"").unwrap();
    assert_eq!(r.status, 409, "{}", r.text());
    ok(d.docker(&["rm", "user"]));
    ok(d.docker(&["volume", "rm", "data"]));

    // Anonymous: `-v /path` makes one; `rm` keeps it, `rm -v` removes it.
    ok(d.docker(&["create", "--name", "anon1", "-v", "/scratch", "busybox"]));
    ok(d.docker(&["create", "--name", "anon2", "-v", "/scratch", "busybox"]));
    let m1 = inspect(&d, "anon1")["Mounts"][0].clone();
    let m2 = inspect(&d, "anon2")["Mounts"][0].clone();
    let (v1, v2) = (
        m1["Name"].as_str().unwrap().to_owned(),
        m2["Name"].as_str().unwrap().to_owned(),
    );
    assert_eq!(v1.len(), 64, "{m1}");
    assert_ne!(v1, v2);
    let vol = ok(d.docker(&["volume", "inspect", &v1]));
    assert!(vol.contains("com.docker.volume.anonymous"), "{vol}");
    ok(d.docker(&["rm", "-v", "anon1"]));
    ok(d.docker(&["rm", "anon2"]));
    let left = volume_names(&d);
    assert!(!left.contains(&v1), "rm -v left {v1}: {left:?}");
    assert!(left.contains(&v2), "rm removed {v2}: {left:?}");

    // A tmpfs-backed volume is mounted while a container uses it, and sized.
    ok(d.docker(&[
        "volume",
        "create",
        "-o",
        "type=tmpfs",
        "-o",
        "device=tmpfs",
        "-o",
        "o=size=1m",
        "tv",
    ]));
    ok(d.docker(&[
        "run", "-d", "--name", "tu", "-v", "tv:/t", "busybox", "sleep", "60",
    ]));
    let data = d.data_root.join("volumes/tv/_data").display().to_string();
    let mounted = || {
        std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap()
            .lines()
            .any(|l| l.split(' ').nth(4) == Some(data.as_str()) && l.contains(" - tmpfs "))
    };
    assert!(mounted(), "{data} not mounted while in use");
    let df = ok(d.docker(&["exec", "tu", "df", "-k", "/t"]));
    assert!(df.contains(" 1024 "), "{df}");
    ok(d.docker(&["rm", "-f", "tu"]));
    assert!(!mounted(), "{data} still mounted after rm");
    assert_no_mounts_left(&d);
}

#[test]
fn binds_tmpfs_and_inspect_mounts_match_docker() {
    let d = daemon();
    let host = tempfile::tempdir().unwrap();
    std::fs::write(host.path().join("in"), b"from host\n").unwrap();
    let hp = host.path().display().to_string();

    // Read-write bind: the container's write lands on the host.
    ok(d.docker(&[
        "run",
        "--rm",
        "-v",
        &format!("{hp}:/h"),
        "busybox",
        "sh",
        "-c",
        "cat /h/in && echo back > /h/out",
    ]));
    assert_eq!(std::fs::read(host.path().join("out")).unwrap(), b"back\n");
    // Read-only bind, with --mount too: writes refused, host file unchanged.
    for flag in [
        vec!["-v".to_owned(), format!("{hp}:/h:ro")],
        vec![
            "--mount".into(),
            format!("type=bind,source={hp},target=/h,readonly"),
        ],
    ] {
        let mut args = vec!["run", "--rm"];
        args.extend(flag.iter().map(String::as_str));
        args.extend(["busybox", "sh", "-c", "echo changed > /h/in"]);
        let out = d.docker(&args);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    }
    assert_eq!(
        std::fs::read(host.path().join("in")).unwrap(),
        b"from host\n"
    );
    // A single file bound.
    let out = ok(d.docker(&[
        "run",
        "--rm",
        "-v",
        &format!("{hp}/in:/etc/motd:ro"),
        "busybox",
        "cat",
        "/etc/motd",
    ]));
    assert_eq!(out, "from host\n");
    // -v creates a missing host directory; --mount refuses with moby's message.
    let missing = host.path().join("made/by/v");
    ok(d.docker(&[
        "run",
        "--rm",
        "-v",
        &format!("{}:/m", missing.display()),
        "busybox",
        "true",
    ]));
    assert!(missing.is_dir());
    let out = d.docker(&[
        "run",
        "--rm",
        "--mount",
        "type=bind,source=/no/such/dir,target=/m",
        "busybox",
        "true",
    ]);
    assert_eq!(out.status.code(), Some(125), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(
            "invalid mount config for type \"bind\": bind source path does not exist: /no/such/dir"
        ),
        "{}",
        text(&out)
    );
    let out = d.docker(&["run", "--rm", "-v", "/a:/b:bogus", "busybox", "true"]);
    assert_eq!(out.status.code(), Some(125), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid mode: bogus"));
    let out = d.docker(&[
        "run",
        "--rm",
        "-v",
        &format!("{hp}:/d"),
        "-v",
        "other:/d",
        "busybox",
        "true",
    ]);
    assert_eq!(out.status.code(), Some(125), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Duplicate mount point: /d"));

    // tmpfs: in memory and sized, by --tmpfs and by --mount.
    let out = ok(d.docker(&[
        "run",
        "--rm",
        "--mount",
        "type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1770",
        "--tmpfs",
        "/t2:size=2m",
        "busybox",
        "sh",
        "-c",
        "grep -E ' /t2? ' /proc/mounts; stat -c %a /t",
    ]));
    assert!(
        out.contains("tmpfs /t tmpfs") && out.contains("size=1024k"),
        "{out}"
    );
    assert!(
        out.contains("tmpfs /t2 tmpfs") && out.contains("size=2048k"),
        "{out}"
    );
    assert!(out.trim_end().ends_with("1770"), "{out}");

    // inspect's Mounts as Docker shows them.
    ok(d.docker(&[
        "create",
        "--name",
        "shown",
        "-v",
        &format!("{hp}:/bind:ro,rslave"),
        "-v",
        "named:/vol",
        "--mount",
        "type=tmpfs,target=/tmp/t",
        "busybox",
    ]));
    let mounts = inspect(&d, "shown")["Mounts"].clone();
    let by_dest = |dest: &str| {
        mounts
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["Destination"] == dest)
            .unwrap_or_else(|| panic!("no {dest} in {mounts}"))
            .clone()
    };
    let bind = by_dest("/bind");
    assert_eq!(bind["Type"], "bind");
    assert_eq!(bind["Source"], hp.as_str());
    assert_eq!(bind["Mode"], "ro,rslave");
    assert_eq!(bind["RW"], false);
    assert_eq!(bind["Propagation"], "rslave");
    assert!(bind.get("Name").is_none(), "{bind}");
    let vol = by_dest("/vol");
    assert_eq!(vol["Type"], "volume");
    assert_eq!(vol["Name"], "named");
    assert_eq!(vol["Driver"], "local");
    assert_eq!(vol["Mode"], "z");
    assert_eq!(vol["RW"], true);
    assert!(
        vol["Source"]
            .as_str()
            .unwrap()
            .ends_with("/volumes/named/_data"),
        "{vol}"
    );
    let tmp = by_dest("/tmp/t");
    assert_eq!(tmp["Type"], "tmpfs");
    assert_eq!(tmp["Source"], "");
    // ps filters by volume name and by destination.
    let hit = ok(d.docker(&["ps", "-a", "-q", "--filter", "volume=named"]));
    assert_eq!(hit.lines().count(), 1, "{hit}");
    let hit = ok(d.docker(&["ps", "-a", "-q", "--filter", "volume=/bind"]));
    assert_eq!(hit.lines().count(), 1, "{hit}");
    let miss = ok(d.docker(&["ps", "-a", "-q", "--filter", "volume=nothing"]));
    assert!(miss.is_empty(), "{miss}");
    ok(d.docker(&["rm", "shown"]));
    assert_no_mounts_left(&d);
}

#[test]
fn new_volumes_get_the_image_content_and_volumes_from_shares_them() {
    let d = daemon();
    // A new named volume over /etc starts with the image's /etc; nocopy starts empty.
    let out = ok(d.docker(&["run", "--rm", "-v", "etcvol:/etc", "busybox", "ls", "/etc"]));
    assert!(out.lines().any(|l| l == "passwd"), "{out}");
    let out = ok(d.docker(&[
        "run",
        "--rm",
        "-v",
        "empty:/etc:nocopy",
        "busybox",
        "ls",
        "-A",
        "/etc",
    ]));
    // Only what the daemon binds itself (hostname, hosts, resolv.conf) is there.
    assert!(!out.lines().any(|l| l == "passwd"), "{out}");
    // The copy happens once: content written later persists, deleted files stay deleted.
    ok(d.docker(&[
        "run",
        "--rm",
        "-v",
        "etcvol:/etc",
        "busybox",
        "rm",
        "/etc/passwd",
    ]));
    let out = ok(d.docker(&["run", "--rm", "-v", "etcvol:/etc", "busybox", "ls", "/etc"]));
    assert!(!out.lines().any(|l| l == "passwd"), "{out}");

    // An image VOLUME: an anonymous volume with the image's content and ownership.
    import_with(
        &d,
        "withvol",
        &["VOLUME /srv/data", "CMD [\"sh\"]"],
        |dir| {
            std::fs::create_dir_all(dir.join("srv/data")).unwrap();
            std::fs::write(dir.join("srv/data/seed"), b"seeded\n").unwrap();
        },
    );
    ok(d.docker(&[
        "run",
        "--name",
        "writer",
        "withvol",
        "sh",
        "-c",
        "cat /srv/data/seed; echo more > /srv/data/more",
    ]));
    let m = inspect(&d, "writer")["Mounts"][0].clone();
    assert_eq!(m["Type"], "volume");
    assert_eq!(m["Destination"], "/srv/data");
    assert_eq!(m["Name"].as_str().unwrap().len(), 64);
    // --volumes-from: the same volume, read-only when asked.
    let out = ok(d.berth(&[
        "run",
        "--rm",
        "--volumes-from",
        "writer:ro",
        "busybox",
        "sh",
        "-c",
        "cat /srv/data/seed /srv/data/more; echo x > /srv/data/no || echo refused",
    ]));
    assert_eq!(out, "seeded\nmore\nrefused\n");
    let anon = m["Name"].as_str().unwrap().to_owned();
    ok(d.docker(&["rm", "-v", "writer"]));
    assert!(!volume_names(&d).contains(&anon));
    assert_no_mounts_left(&d);
}

#[test]
fn mount_targets_never_leave_the_root_and_volume_events_are_published() {
    let d = daemon();
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().display().to_string();
    // An image whose /hostlink points at a host directory, and /up climbs with `..`.
    import_with(&d, "links", &["CMD [\"sh\"]"], |dir| {
        std::os::unix::fs::symlink(&target, dir.join("hostlink")).unwrap();
        std::os::unix::fs::symlink("../../../..", dir.join("up")).unwrap();
    });
    let out = ok(d.docker(&[
        "run",
        "--rm",
        "-v",
        "lv:/hostlink/inner",
        "--tmpfs",
        "/up/t",
        "links",
        "sh",
        "-c",
        &format!("echo inside > {target}/inner/f; grep -c ' /t ' /proc/mounts"),
    ]));
    assert_eq!(out.trim(), "1", "{out}");
    // Nothing appeared in the host directory the link names.
    let left: Vec<_> = std::fs::read_dir(outside.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
    // The write went to the volume (mounted at the re-rooted path).
    let out = ok(d.docker(&["run", "--rm", "-v", "lv:/v", "busybox", "cat", "/v/f"]));
    assert_eq!(out, "inside\n");

    // volume mount / unmount events, with moby's attributes. `--until 0s` is whole
    // seconds (the CLI truncates), so the events must be a second old.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let ev = ok(d.docker(&[
        "events",
        "--since",
        "1h",
        "--until",
        "0s",
        "--filter",
        "type=volume",
        "--format",
        "{{.Action}} {{.Actor.ID}} {{index .Actor.Attributes \"destination\"}}",
    ]));
    assert!(ev.lines().any(|l| l.starts_with("create lv")), "{ev:?}");
    assert!(ev.lines().any(|l| l == "mount lv /hostlink/inner"), "{ev}");
    assert!(ev.lines().any(|l| l.starts_with("unmount lv")), "{ev}");
    assert_no_mounts_left(&d);
}

#[test]
fn volumes_of_live_containers_survive_a_daemon_crash() {
    let mut d = daemon();
    ok(d.docker(&[
        "volume",
        "create",
        "-o",
        "type=tmpfs",
        "-o",
        "device=tmpfs",
        "-o",
        "o=size=1m",
        "tv",
    ]));
    ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "live",
        "-v",
        "tv:/t",
        "-v",
        "named:/n",
        "busybox",
        "sh",
        "-c",
        "echo kept > /t/f; sleep 600",
    ]));
    let data = d.data_root.join("volumes/tv/_data").display().to_string();
    let mounted = || {
        std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap()
            .lines()
            .any(|l| l.split(' ').nth(4) == Some(data.as_str()))
    };
    assert!(mounted());
    d.kill9();
    d.launch().unwrap();
    // Still running with its data; the references are back (in use → 409).
    let out = ok(d.docker(&["exec", "live", "cat", "/t/f"]));
    assert_eq!(out, "kept\n");
    for v in ["tv", "named"] {
        let r = d
            .http("DELETE", &format!("/volumes/{v}"), &[], b"")
            .unwrap();
        assert_eq!(r.status, 409, "{v}: {}", r.text());
    }
    // The last user gone, the tmpfs comes down.
    ok(d.docker(&["rm", "-f", "live"]));
    assert!(!mounted(), "{data} still mounted");
    ok(d.docker(&["volume", "rm", "tv", "named"]));
    assert_no_mounts_left(&d);
}
