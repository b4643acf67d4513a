//! `--userns-remap` end to end with the real docker CLI: a daemon remapped to a test user's
//! subordinate range runs containers as root inside and as the range's first ID outside,
//! keeps its state under `<data-root>/<uid>.<gid>`, unpacks image layers shifted, and
//! hands files out (`cp`, `commit` + `save`) with container IDs; `--userns=host` opts out,
//! and what user namespaces rule out is refused with moby's messages.
//!
//! The test makes its own system user and range (removed again on drop, also on panic), so
//! the host's users and /etc/subuid are left as they were.

use std::fs;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use berth_testkit::check::{inspect, ok, text};
use berth_testkit::TestDaemon;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_berth");
const RANGE: u32 = 65536;

/// A system user with a subordinate UID and GID range of its own, for the test's life.
struct RemapUser {
    name: String,
    uid: u32,
    gid: u32,
    base: u32,
}

const SUBID_FILES: [&str; 2] = ["/etc/subuid", "/etc/subgid"];

impl RemapUser {
    /// Creates the user without any subordinate range yet.
    fn create() -> Self {
        let name = format!("brtns{:x}", std::process::id() ^ rand_bits());
        let st = Command::new("useradd")
            .args(["-r", "-M", "-U", "-s", "/bin/false", &name])
            .status()
            .expect("useradd");
        assert!(st.success(), "useradd {name}");
        let id = |flag: &str| -> u32 {
            let out = Command::new("id").args([flag, &name]).output().unwrap();
            String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
        };
        let (uid, gid) = (id("-u"), id("-g"));
        Self {
            name,
            uid,
            gid,
            base: 0,
        }
    }

    /// Gives the user a free range in /etc/subuid and /etc/subgid.
    fn add_range(&mut self) {
        let mut taken: Vec<(u64, u64)> = Vec::new();
        for f in SUBID_FILES {
            for line in fs::read_to_string(f).unwrap_or_default().lines() {
                let p: Vec<&str> = line.split(':').collect();
                if let (Some(s), Some(c)) = (p.get(1), p.get(2)) {
                    if let (Ok(s), Ok(c)) = (s.parse(), c.parse()) {
                        taken.push((s, c));
                    }
                }
            }
        }
        let mut start = 3_000_000u64 + u64::from(rand_bits() % 512) * u64::from(RANGE);
        while taken
            .iter()
            .any(|&(s, c)| start < s + c && s < start + u64::from(RANGE))
        {
            start += u64::from(RANGE);
        }
        self.base = start as u32;
        for f in SUBID_FILES {
            let mut file = fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(f)
                .unwrap();
            std::io::Write::write_all(
                &mut file,
                format!("{}:{}:{RANGE}\n", self.name, self.base).as_bytes(),
            )
            .unwrap();
        }
    }
}

impl Drop for RemapUser {
    fn drop(&mut self) {
        let prefix = format!("{}:", self.name);
        for f in SUBID_FILES {
            if let Ok(text) = fs::read_to_string(f) {
                let kept: String = text
                    .lines()
                    .filter(|l| !l.starts_with(&prefix))
                    .map(|l| format!("{l}\n"))
                    .collect();
                let _ = fs::write(f, kept);
            }
        }
        let _ = Command::new("userdel").arg(&self.name).status();
        let _ = Command::new("groupdel").arg(&self.name).status();
    }
}

fn rand_bits() -> u32 {
    let mut b = [0u8; 4];
    fs::File::open("/dev/urandom")
        .unwrap()
        .read_exact(&mut b)
        .unwrap();
    u32::from_le_bytes(b)
}

fn remapped_daemon(user: &RemapUser) -> TestDaemon {
    let spec = format!("{}:{}", user.uid, user.gid);
    let mut d = TestDaemon::prepare(BIN, &["--userns-remap", &spec]);
    // The remapped root must be able to pass through the test's directory (moby checks
    // every parent of the data root).
    fs::set_permissions(d.dir(), fs::Permissions::from_mode(0o711)).unwrap();
    d.launch().unwrap_or_else(|e| panic!("{e}"));
    d
}

/// The host PID of the process in `init`'s PID namespace running `args`, waiting for it
/// to appear.
fn find_process(init: i64, args: &[&str]) -> i64 {
    let cmdline: Vec<u8> = args
        .iter()
        .flat_map(|a| [a.as_bytes(), b"\0"].concat())
        .collect();
    let ns = |pid: &str| {
        fs::metadata(format!("/proc/{pid}/ns/pid"))
            .map(|m| m.ino())
            .ok()
    };
    let want = ns(&init.to_string());
    for _ in 0..250 {
        for e in fs::read_dir("/proc").unwrap().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Ok(pid) = name.parse::<i64>() else {
                continue;
            };
            if ns(&name) == want
                && fs::read(format!("/proc/{pid}/cmdline")).ok().as_deref()
                    == Some(cmdline.as_slice())
            {
                return pid;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("no process {args:?} in the container");
}

/// `Uid:` of /proc/<pid>/status: real, effective, saved, filesystem.
fn host_uids(pid: i64) -> Vec<u32> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .unwrap()
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect()
}

fn owner(p: &Path) -> (u32, u32) {
    let m = fs::symlink_metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    (m.uid(), m.gid())
}

/// The owners of every entry of a tar stream, by name.
fn tar_owners(data: &[u8]) -> Vec<(String, u64, u64)> {
    tar::Archive::new(data)
        .entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                String::from_utf8_lossy(&e.path_bytes()).into_owned(),
                e.header().uid().unwrap(),
                e.header().gid().unwrap(),
            )
        })
        .collect()
}

/// Waits until `path` exists (something a container makes).
fn wait_for(path: &Path) {
    for _ in 0..500 {
        if path.exists() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("{} never appeared", path.display());
}

/// Every layer directory of the daemon's store holding `rel` (overlay2 or vfs).
fn layer_files(store: &Path, rel: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for driver in ["overlay", "vfs"] {
        let Ok(entries) = fs::read_dir(store.join(driver)) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path().join("diff").join(rel);
            if fs::symlink_metadata(&p).is_ok() {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn a_remapped_daemon_runs_root_as_the_subordinate_range() {
    let mut user = RemapUser::create();

    // Without a range the daemon refuses to start, with moby's message.
    let spec = format!("{}:{}", user.uid, user.gid);
    let mut refused = TestDaemon::prepare(BIN, &["--userns-remap", &spec]);
    let err = refused.launch().unwrap_err();
    assert!(
        err.contains(&format!(
            "error creating ID mappings: no subuid ranges found for user \"{}\"",
            user.name
        )),
        "{err}"
    );
    drop(refused);

    user.add_range();
    let base = user.base;
    let d = remapped_daemon(&user);
    d.load_busybox();

    // The data root moved under the remapped root's IDs, traversable by its group only.
    let store = d.data_root.join(format!("{base}.{base}"));
    let md = fs::metadata(&store).unwrap();
    assert_eq!((md.uid(), md.gid(), md.mode() & 0o777), (0, base, 0o710));
    let info: Value =
        serde_json::from_str(&ok(d.docker(&["info", "--format", "{{json .}}"]))).unwrap();
    assert_eq!(info["DockerRootDir"], store.display().to_string());
    assert!(
        info["SecurityOptions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o == "name=userns"),
        "{}",
        info["SecurityOptions"]
    );

    // Root inside, the range's first ID outside.
    let out = ok(d.docker(&[
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "id -u; cat /proc/self/uid_map /proc/self/gid_map",
    ]));
    let lines: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    let want_map = vec!["0".to_owned(), base.to_string(), RANGE.to_string()];
    assert_eq!(lines[0], ["0"], "{out}");
    assert_eq!(lines[1], want_map, "{out}");
    assert_eq!(lines[2], want_map, "{out}");

    // An image file owned by root in the image is the range's first ID in its layer.
    let busybox = layer_files(&store, "bin/busybox");
    assert!(!busybox.is_empty(), "no layer holds bin/busybox");
    for f in &busybox {
        assert_eq!(owner(f), (base, base), "{}", f.display());
    }

    // A running container: its process, a file it writes in a named volume, a file it
    // writes in its own filesystem, and its network namespace's sysfs.
    ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "remapped",
        "-v",
        "nsvol:/data",
        "busybox",
        "sh",
        "-c",
        "touch /data/made && echo mine > /root-made && mkdir -p /srv/d && touch /srv/d/f && sleep 600",
    ]));
    let c = inspect(&d, "remapped");
    assert_eq!(c["HostConfig"]["UsernsMode"], "");
    let pid = c["State"]["Pid"].as_i64().unwrap();
    assert_eq!(host_uids(pid), [base; 4]);
    let vol: Value = serde_json::from_str(&ok(d.docker(&["volume", "inspect", "nsvol"]))).unwrap();
    let data = PathBuf::from(vol[0]["Mountpoint"].as_str().unwrap());
    assert!(data.starts_with(&store), "{}", data.display());
    wait_for(&data.join("made"));
    assert_eq!(owner(&data.join("made")), (base, base));
    assert_eq!(
        owner(&data),
        (base, base),
        "a new volume belongs to the remapped root"
    );
    let inside = PathBuf::from(format!("/proc/{pid}/root"));
    wait_for(&inside.join("srv/d/f"));
    assert_eq!(owner(&inside.join("root-made")), (base, base));
    // exec joins the namespace too, and sysfs is the container's own network's.
    let exec = ok(d.docker(&[
        "exec",
        "remapped",
        "sh",
        "-c",
        "id -u; cat /proc/self/uid_map; ls /sys/class/net",
    ]));
    let lines: Vec<&str> = exec.lines().collect();
    assert_eq!(lines[0], "0", "{exec}");
    assert_eq!(
        lines[1].split_whitespace().collect::<Vec<_>>(),
        want_map,
        "{exec}"
    );
    assert!(lines.contains(&"eth0"), "{exec}");
    // An exec as another user is that user of the namespace: the range's ID + 1000 outside.
    let other = ok(d.docker(&[
        "exec",
        "-u",
        "1000:1000",
        "remapped",
        "sh",
        "-c",
        "id -u; id -g",
    ]));
    assert_eq!(
        other.split_whitespace().collect::<Vec<_>>(),
        ["1000", "1000"]
    );
    ok(d.docker(&["exec", "-d", "-u", "1000:1000", "remapped", "sleep", "4242"]));
    let sleeper = find_process(pid, &["sleep", "4242"]);
    assert_eq!(host_uids(sleeper), [base + 1000; 4]);
    // The /etc files the daemon writes belong to root inside.
    let etc = ok(d.docker(&[
        "exec",
        "remapped",
        "sh",
        "-c",
        "echo '10.9.9.9 extra' >> /etc/hosts && stat -c %u /etc/hosts /etc/resolv.conf /etc/hostname",
    ]));
    assert_eq!(
        etc.split_whitespace().collect::<Vec<_>>(),
        ["0", "0", "0"],
        "{etc}"
    );

    // docker cp in: the archive's owner 0 lands as the range's first ID; cp out: 0 again.
    let local = tempfile::tempdir().unwrap();
    fs::write(local.path().join("pushed"), b"in").unwrap();
    ok(d.docker(&[
        "cp",
        &local.path().join("pushed").display().to_string(),
        "remapped:/pushed",
    ]));
    assert_eq!(owner(&inside.join("pushed")), (base, base));
    let out = d.docker(&["cp", "remapped:/srv", "-"]);
    assert!(out.status.success(), "{}", text(&out));
    let owners = tar_owners(&out.stdout);
    assert!(owners.iter().any(|(n, _, _)| n == "srv/d/f"), "{owners:?}");
    for (name, uid, gid) in &owners {
        assert_eq!((*uid, *gid), (0, 0), "{name}");
    }

    // commit + save: the new layer carries container IDs.
    ok(d.docker(&["commit", "remapped", "committed:ns"]));
    let saved = local.path().join("saved.tar");
    ok(d.docker(&["save", "-o", &saved.display().to_string(), "committed:ns"]));
    let image = tempfile::tempdir().unwrap();
    let st = Command::new("tar")
        .arg("-xf")
        .arg(&saved)
        .arg("-C")
        .arg(image.path())
        .status()
        .unwrap();
    assert!(st.success());
    let manifest: Value =
        serde_json::from_slice(&fs::read(image.path().join("manifest.json")).unwrap()).unwrap();
    let layers = manifest[0]["Layers"].as_array().unwrap();
    let top = fs::read(image.path().join(layers.last().unwrap().as_str().unwrap())).unwrap();
    let owners = tar_owners(&top);
    let made = owners
        .iter()
        .find(|(n, _, _)| n.trim_start_matches("./") == "root-made")
        .unwrap_or_else(|| panic!("root-made not in the committed layer: {owners:?}"));
    assert_eq!((made.1, made.2), (0, 0));
    assert!(
        owners
            .iter()
            .all(|(_, u, g)| *u < u64::from(RANGE) && *g < u64::from(RANGE)),
        "{owners:?}"
    );
    // And the committed image runs, its files shifted again on the way in.
    assert_eq!(
        ok(d.docker(&[
            "run",
            "--rm",
            "committed:ns",
            "stat",
            "-c",
            "%u",
            "/root-made"
        ]))
        .trim(),
        "0"
    );

    // Other network and IPC modes: no network (the runtime makes the namespace inside
    // the container's user namespace), another container's network (its user namespace
    // too), a shareable /dev/shm the remapped root owns.
    for args in [
        &["--network", "none"][..],
        &["--network", "container:remapped"][..],
        &["--ipc", "shareable"][..],
    ] {
        let mut run = vec!["run", "--rm"];
        run.extend_from_slice(args);
        run.extend([
            "busybox",
            "sh",
            "-c",
            "cat /proc/self/uid_map; touch /dev/shm/x && stat -c %u /dev/shm/x",
        ]);
        let out = ok(d.docker(&run));
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0].split_whitespace().collect::<Vec<_>>(),
            want_map,
            "{args:?}: {out}"
        );
        assert_eq!(lines[1], "0", "{args:?}: {out}");
    }
    // A restart makes the namespaces again.
    ok(d.docker(&["restart", "-t", "1", "remapped"]));
    let again = ok(d.docker(&["exec", "remapped", "cat", "/proc/self/uid_map"]));
    assert_eq!(again.split_whitespace().collect::<Vec<_>>(), want_map);
    let pid = inspect(&d, "remapped")["State"]["Pid"].as_i64().unwrap();
    assert_eq!(host_uids(pid), [base; 4]);

    // --userns=host opts out: host root, the host's (identity) map.
    ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "hostns",
        "--userns=host",
        "busybox",
        "sleep",
        "600",
    ]));
    let h = inspect(&d, "hostns");
    assert_eq!(h["HostConfig"]["UsernsMode"], "host");
    assert_eq!(host_uids(h["State"]["Pid"].as_i64().unwrap()), [0; 4]);
    let map = ok(d.docker(&["exec", "hostns", "cat", "/proc/self/uid_map"]));
    assert_eq!(
        map.split_whitespace().collect::<Vec<_>>(),
        ["0", "0", "4294967295"]
    );

    // What user namespaces rule out, with moby's messages.
    let refused = d.docker(&["run", "--rm", "--privileged", "busybox", "true"]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains(
            "privileged mode is incompatible with user namespaces.  You must run the container in the host namespace when running privileged mode"
        ),
        "{}",
        text(&refused)
    );
    let refused = d.docker(&["run", "--rm", "--pid", "host", "busybox", "true"]);
    assert!(String::from_utf8_lossy(&refused.stderr)
        .contains("cannot share the host PID namespace when user namespaces are enabled"));
    let refused = d.docker(&["run", "--rm", "--network", "host", "busybox", "true"]);
    assert!(String::from_utf8_lossy(&refused.stderr)
        .contains("cannot share the host's network namespace when user namespaces are enabled"));
    ok(d.docker(&[
        "run",
        "--rm",
        "--privileged",
        "--userns=host",
        "busybox",
        "true",
    ]));

    ok(d.docker(&["rm", "-f", "remapped", "hostns"]));
    ok(d.docker(&["volume", "rm", "nsvol"]));
    // Nothing of the containers is left mounted (namespaces included).
    let mounts = fs::read_to_string("/proc/self/mountinfo").unwrap();
    let dir = d.dir().display().to_string();
    let leaked: Vec<&str> = mounts.lines().filter(|l| l.contains(&dir)).collect();
    assert!(leaked.is_empty(), "leaked mounts: {leaked:#?}");
}
