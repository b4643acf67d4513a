//! IPC modes end to end with the real docker CLI, as moby runs them: a `shareable`
//! container's /dev/shm is a host tmpfs a `container:X` joiner binds too (POSIX and SysV
//! shared memory both shared), `none` has no /dev/shm, `host` shares the host's, joining a
//! private or stopped container fails with moby's words, and the host mount never outlives
//! the container, whether it exits, is removed, or dies while the daemon is down.

use std::process::{Command, Output};
use std::time::Duration;

use berth_testkit::check::{inspect, ok, text, wait_until};
use berth_testkit::TestDaemon;

const BIN: &str = env!("CARGO_BIN_EXE_berth");

fn fails(out: Output) -> String {
    assert!(!out.status.success(), "{}", text(&out));
    String::from_utf8(out.stderr).unwrap()
}

fn daemon_with(args: &[&str]) -> TestDaemon {
    let d = TestDaemon::start_with(BIN, args);
    d.load_busybox();
    d
}

fn id_of(d: &TestDaemon, name: &str) -> String {
    inspect(d, name)["Id"].as_str().unwrap().to_owned()
}

/// Where moby mounts a shareable container's /dev/shm on the host.
fn host_shm(d: &TestDaemon, id: &str) -> String {
    d.data_root
        .join("containers")
        .join(id)
        .join("mounts/shm")
        .display()
        .to_string()
}

/// The host's mountinfo line for a mount point, if mounted.
fn host_mount(path: &str) -> Option<String> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    info.lines()
        .find(|l| l.split(' ').nth(4) == Some(path))
        .map(str::to_owned)
}

fn ipc_ns(d: &TestDaemon, container: &str) -> String {
    ok(d.docker(&["exec", container, "readlink", "/proc/self/ns/ipc"]))
        .trim()
        .to_owned()
}

fn host_ipc_ns() -> String {
    std::fs::read_link("/proc/self/ns/ipc")
        .unwrap()
        .display()
        .to_string()
}

/// `ipcmk -M` run inside `pid`'s IPC namespace from the host (busybox has no ipcmk);
/// returns the new segment's id.
fn sysv_segment_in(pid: i64) -> String {
    let out = Command::new("nsenter")
        .args(["-t", &pid.to_string(), "-i", "ipcmk", "-M", "4096"])
        .output()
        .unwrap();
    let said = ok(out);
    said.split_whitespace()
        .last()
        .unwrap_or_else(|| panic!("ipcmk said {said:?}"))
        .to_owned()
}

/// The SysV segment ids a container sees (`/proc/sysvipc/shm`, second column).
fn sysv_ids(d: &TestDaemon, container: &str) -> Vec<String> {
    ok(d.docker(&["exec", container, "cat", "/proc/sysvipc/shm"]))
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().nth(1).map(str::to_owned))
        .collect()
}

#[test]
fn a_joiner_shares_the_donors_dev_shm_and_sysv_segments_and_rm_unmounts_it() {
    let d = daemon_with(&[]);
    ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "donor",
        "--ipc",
        "shareable",
        "--shm-size",
        "8m",
        "busybox",
        "sleep",
        "1000",
    ]));
    let donor = id_of(&d, "donor");
    assert_eq!(inspect(&d, "donor")["HostConfig"]["IpcMode"], "shareable");
    let shm = host_shm(&d, &donor);
    let line = host_mount(&shm).unwrap_or_else(|| panic!("{shm} is not mounted"));
    let (per_mount, per_sb) = line.split_once(" - ").unwrap();
    for flag in ["nosuid", "nodev", "noexec"] {
        assert!(per_mount.contains(flag), "{line}");
    }
    assert!(per_sb.starts_with("tmpfs "), "{line}");
    assert!(per_sb.contains("size=8192k"), "{line}");
    // mode=1777 is tmpfs's default, so mountinfo does not list it: look at the root.
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&shm).unwrap().permissions());
    assert_eq!(mode & 0o7777, 0o1777);

    ok(d.docker(&[
        "exec",
        "donor",
        "sh",
        "-c",
        "echo from-donor > /dev/shm/posix",
    ]));
    ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "joiner",
        "--ipc",
        "container:donor",
        "busybox",
        "sleep",
        "1000",
    ]));
    // moby records the donor by ID, so a rename cannot break the link.
    assert_eq!(
        inspect(&d, "joiner")["HostConfig"]["IpcMode"],
        format!("container:{donor}")
    );
    assert_eq!(
        ok(d.docker(&["exec", "joiner", "cat", "/dev/shm/posix"])),
        "from-donor\n"
    );
    ok(d.docker(&[
        "exec",
        "joiner",
        "sh",
        "-c",
        "echo from-joiner > /dev/shm/back",
    ]));
    assert_eq!(
        ok(d.docker(&["exec", "donor", "cat", "/dev/shm/back"])),
        "from-joiner\n"
    );
    assert_eq!(ipc_ns(&d, "donor"), ipc_ns(&d, "joiner"));
    assert_ne!(ipc_ns(&d, "donor"), host_ipc_ns());

    // A SysV segment made in the donor's namespace is the joiner's too, and no one else's.
    let pid = inspect(&d, "donor")["State"]["Pid"].as_i64().unwrap();
    let segment = sysv_segment_in(pid);
    assert!(sysv_ids(&d, "joiner").contains(&segment), "{segment}");
    ok(d.docker(&["run", "-d", "--name", "private", "busybox", "sleep", "1000"]));
    assert_eq!(inspect(&d, "private")["HostConfig"]["IpcMode"], "private");
    assert!(!sysv_ids(&d, "private").contains(&segment));
    assert_ne!(ipc_ns(&d, "private"), ipc_ns(&d, "donor"));

    ok(d.docker(&["rm", "-f", "joiner", "donor", "private"]));
    assert_eq!(host_mount(&shm), None, "the donor's shm outlived rm");
    assert!(!std::path::Path::new(&shm).exists());
}

#[test]
fn joining_needs_a_running_shareable_donor_and_none_and_host_are_mobys() {
    let d = daemon_with(&[]);
    ok(d.docker(&["run", "-d", "--name", "priv", "busybox", "sleep", "1000"]));
    let priv_id = id_of(&d, "priv");
    let err = fails(d.docker(&["run", "--rm", "--ipc", "container:priv", "busybox", "true"]));
    assert!(
        err.contains(&format!(
            "failed to join IPC namespace: container {priv_id}: non-shareable IPC (hint: use IpcMode:shareable for the donor container)"
        )),
        "{err}"
    );
    ok(d.docker(&[
        "create",
        "--name",
        "stopped",
        "--ipc",
        "shareable",
        "busybox",
        "true",
    ]));
    let stopped_id = id_of(&d, "stopped");
    let err = fails(d.docker(&[
        "run",
        "--rm",
        "--ipc",
        "container:stopped",
        "busybox",
        "true",
    ]));
    assert!(
        err.contains(&format!(
            "failed to join IPC namespace: container {stopped_id} is not running"
        )),
        "{err}"
    );
    let err = fails(d.docker(&["run", "--rm", "--ipc", "container:nope", "busybox", "true"]));
    assert!(
        err.contains("failed to join IPC namespace: No such container: nope"),
        "{err}"
    );

    // none: no /dev/shm mount at all; private: a tmpfs of its own.
    let mounts = |ipc: &str| {
        ok(d.docker(&[
            "run",
            "--rm",
            "--ipc",
            ipc,
            "busybox",
            "cat",
            "/proc/self/mountinfo",
        ]))
        .lines()
        .find(|l| l.split(' ').nth(4) == Some("/dev/shm"))
        .map(str::to_owned)
    };
    assert_eq!(mounts("none"), None);
    let private = mounts("private").expect("private has /dev/shm");
    assert!(private.contains(" - tmpfs shm "), "{private}");

    // host: the host's namespace and the host's /dev/shm.
    let name = format!("berth-ipc-test-{}", std::process::id());
    let host_file = std::path::Path::new("/dev/shm").join(&name);
    std::fs::write(&host_file, "from-host").unwrap();
    let seen = d.docker(&[
        "run",
        "--rm",
        "--ipc",
        "host",
        "busybox",
        "sh",
        "-c",
        &format!("cat /dev/shm/{name}; echo; readlink /proc/self/ns/ipc"),
    ]);
    let _ = std::fs::remove_file(&host_file);
    assert_eq!(ok(seen), format!("from-host\n{}\n", host_ipc_ns()));
    ok(d.docker(&["rm", "-f", "priv", "stopped"]));
}

#[test]
fn the_shm_mount_survives_a_daemon_crash_and_goes_when_the_container_does() {
    let mut d = daemon_with(&["--default-ipc-mode", "shareable"]);
    // The daemon's default applies to containers that ask for nothing.
    ok(d.docker(&["run", "-d", "--name", "stays", "busybox", "sleep", "1000"]));
    ok(d.docker(&["run", "-d", "--name", "dies", "busybox", "sleep", "1000"]));
    assert_eq!(inspect(&d, "stays")["HostConfig"]["IpcMode"], "shareable");
    let stays = host_shm(&d, &id_of(&d, "stays"));
    let dies = host_shm(&d, &id_of(&d, "dies"));
    let dies_pid = inspect(&d, "dies")["State"]["Pid"].as_i64().unwrap();
    ok(d.docker(&["exec", "stays", "sh", "-c", "echo kept > /dev/shm/f"]));

    d.kill9();
    // While the daemon is away one container dies; the other keeps running.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(dies_pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    assert!(host_mount(&stays).is_some());
    d.launch().unwrap();

    wait_until("the exit is recorded", Duration::from_secs(10), || {
        inspect(&d, "dies")["State"]["Status"] == "exited"
    });
    assert_eq!(host_mount(&dies), None, "a crash leaked the shm mount");
    assert!(host_mount(&stays).is_some());
    // The live container is still a donor after the restart.
    assert_eq!(
        ok(d.docker(&[
            "run",
            "--rm",
            "--ipc",
            "container:stays",
            "busybox",
            "cat",
            "/dev/shm/f",
        ])),
        "kept\n"
    );
    ok(d.docker(&["stop", "-t", "0", "stays"]));
    assert_eq!(host_mount(&stays), None, "exit left the shm mounted");
    ok(d.docker(&["rm", "stays", "dies"]));
}
