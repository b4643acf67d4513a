//! User namespaces kept on files, and network namespaces owned by them
//! (`--userns-remap`).
//!
//! A container in a user namespace can mount sysfs, and use its capabilities on its
//! interfaces, only in a network namespace that its user namespace owns; and a process that
//! has entered a new user namespace can no longer join a network namespace the host's owns.
//! So for a remapped container the daemon makes the user namespace (with its ID maps) and
//! the network namespace inside it, each kept on a file by a bind mount. The runtime then
//! joins the two, and everything the daemon does in the network namespace (veths,
//! addresses, the DNS sockets) works as before, host root being capable in every namespace
//! below it.
//!
//! Entering a new user namespace needs a single-threaded process, so a child is forked
//! for it; the child only makes system calls (no allocation, no locks) until it exits.
#![allow(unsafe_code)]

use std::fs::{self, OpenOptions};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use nix::mount::{mount, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::waitpid;
use nix::unistd::{fork, pipe, read, write, ForkResult, Pid};

use crate::netns::{loopback_up, netns_remove};
use crate::NetError;

fn ns_err(path: &Path, op: &'static str, source: std::io::Error) -> NetError {
    NetError::Netns {
        path: path.to_path_buf(),
        op,
        source,
    }
}

/// The ID maps of a user namespace, in `/proc/<pid>/uid_map` form: one
/// `container-id host-id size` line per range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsernsMaps {
    pub uid_map: String,
    pub gid_map: String,
}

/// Creates a user namespace with `maps`, kept at `userns_path` (the file must not exist;
/// its parent directories are created). On failure nothing is left behind.
pub fn userns_create(userns_path: &Path, maps: &UsernsMaps) -> Result<(), NetError> {
    make_mount_point(userns_path)?;
    let made = in_child(userns_path, ChildJob::NewUser, |child| {
        let proc = format!("/proc/{child}");
        // Host root writes the maps directly (several ranges included): no setgroups deny
        // is needed for a writer that holds CAP_SETGID in the parent namespace.
        fs::write(format!("{proc}/uid_map"), &maps.uid_map)
            .map_err(|e| ns_err(userns_path, "write uid_map", e))?;
        fs::write(format!("{proc}/gid_map"), &maps.gid_map)
            .map_err(|e| ns_err(userns_path, "write gid_map", e))?;
        pin(&format!("{proc}/ns/user"), userns_path)
    });
    if made.is_err() {
        let _ = netns_remove(userns_path);
    }
    made
}

/// Creates a network namespace owned by the user namespace kept at `userns_path`, kept at
/// `netns_path` with its loopback up (the file must not exist; its parent directories are
/// created). On failure nothing is left behind.
pub fn netns_create_in_userns(netns_path: &Path, userns_path: &Path) -> Result<(), NetError> {
    let userns = fs::File::open(userns_path).map_err(|e| ns_err(userns_path, "open", e))?;
    make_mount_point(netns_path)?;
    let made = in_child(netns_path, ChildJob::NetIn(userns.as_fd()), |child| {
        pin(&format!("/proc/{child}/ns/net"), netns_path)
    })
    .and_then(|()| loopback_up(netns_path));
    if made.is_err() {
        let _ = netns_remove(netns_path);
    }
    made
}

fn make_mount_point(path: &Path) -> Result<(), NetError> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| ns_err(path, "create parent directory", e))?;
    }
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o444)
        .open(path)
        .map(drop)
        .map_err(|e| ns_err(path, "create mount point", e))
}

fn pin(ns_file: &str, target: &Path) -> Result<(), NetError> {
    mount(
        Some(ns_file),
        target,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )
    .map_err(|e| ns_err(target, "bind mount", e.into()))
}

/// What the forked child does before it waits to be let go.
#[derive(Clone, Copy)]
enum ChildJob<'a> {
    /// Unshare a new user namespace (the parent writes its maps).
    NewUser,
    /// Enter this user namespace, then unshare a network namespace inside it.
    NetIn(BorrowedFd<'a>),
}

/// Forks a child that does `job`, runs `parent` with its PID once the job is done, and
/// lets the child go.
fn in_child(
    path: &Path,
    job: ChildJob<'_>,
    parent: impl FnOnce(Pid) -> Result<(), NetError>,
) -> Result<(), NetError> {
    let pipe_err = |e: nix::Error| ns_err(path, "pipe", e.into());
    // `ready`: the child reports its job (0, or the errno); `go`: the parent lets it exit.
    // Both are one byte, never an end of file: a child forked meanwhile by another thread
    // holds copies of these descriptors, so closing them proves nothing.
    let (ready_r, ready_w) = pipe().map_err(pipe_err)?;
    let (go_r, go_w) = pipe().map_err(pipe_err)?;
    // SAFETY: the child runs only async-signal-safe system calls (unshare, setns, write,
    // read, _exit) on descriptors made before the fork; it allocates nothing and takes no
    // lock.
    let child = match unsafe { fork() } {
        Err(e) => return Err(ns_err(path, "fork", e.into())),
        Ok(ForkResult::Child) => child_main(job, &ready_w, &go_r),
        Ok(ForkResult::Parent { child }) => child,
    };
    drop(ready_w);
    drop(go_r);
    let result = wait_ready(&ready_r, path).and_then(|()| parent(child));
    if result.is_err() || write(&go_w, &[1]) != Ok(1) {
        let _ = kill(child, Signal::SIGKILL);
    }
    let _ = waitpid(child, None);
    result
}

/// The forked child: never returns.
fn child_main(job: ChildJob<'_>, ready: &OwnedFd, go: &OwnedFd) -> ! {
    let done = match job {
        ChildJob::NewUser => unshare(CloneFlags::CLONE_NEWUSER),
        ChildJob::NetIn(userns) => setns(userns, CloneFlags::CLONE_NEWUSER)
            .and_then(|()| unshare(CloneFlags::CLONE_NEWNET)),
    };
    let code: u8 = match done {
        Ok(()) => 0,
        Err(e) => (e as i32).clamp(1, 255) as u8,
    };
    let _ = write(ready, &[code]);
    let mut buf = [0u8; 1];
    let _ = read(go.as_raw_fd(), &mut buf);
    // SAFETY: _exit ends the child without running the parent's atexit handlers or
    // destructors, which is what a forked child of a threaded process must do.
    unsafe { nix::libc::_exit(0) }
}

fn wait_ready(ready: &OwnedFd, path: &Path) -> Result<(), NetError> {
    let mut buf = [0u8; 1];
    match read(ready.as_raw_fd(), &mut buf) {
        Ok(1) if buf[0] == 0 => Ok(()),
        Ok(1) => Err(ns_err(
            path,
            "unshare",
            std::io::Error::from_raw_os_error(i32::from(buf[0])),
        )),
        Ok(_) => Err(ns_err(
            path,
            "unshare",
            std::io::Error::other("the child exited early"),
        )),
        Err(e) => Err(ns_err(path, "unshare", e.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn the_network_namespace_belongs_to_the_new_user_namespace() {
        let dir = tempfile::tempdir().unwrap();
        let net = dir.path().join("ns/net");
        let user = dir.path().join("ns/user");
        let maps = UsernsMaps {
            uid_map: "0 600000 65536\n".into(),
            gid_map: "0 610000 1000\n1000 620000 10\n".into(),
        };
        userns_create(&user, &maps).unwrap();
        netns_create_in_userns(&net, &user).unwrap();
        // NS_GET_USERNS on the network namespace names the user namespace we pinned.
        let net_fd = fs::File::open(&net).unwrap();
        const NS_GET_USERNS: u64 = 0xb701;
        // SAFETY: the ioctl takes no argument and returns a new descriptor we own.
        let owner = unsafe { nix::libc::ioctl(net_fd.as_raw_fd(), NS_GET_USERNS as _) };
        assert!(owner >= 0, "{}", std::io::Error::last_os_error());
        // SAFETY: `owner` is a fresh descriptor returned by the kernel.
        let owner = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(owner) };
        let owner_ino = fs::metadata(format!("/proc/self/fd/{}", owner.as_raw_fd()))
            .unwrap()
            .ino();
        assert_eq!(owner_ino, fs::metadata(&user).unwrap().ino());
        assert_ne!(
            owner_ino,
            fs::metadata("/proc/self/ns/user").unwrap().ino(),
            "not the host's user namespace"
        );
        // The loopback is up inside.
        let out = std::process::Command::new("nsenter")
            .arg(format!("--net={}", net.display()))
            .args(["ip", "-o", "link", "show", "lo"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(",UP"), "{text}");
        netns_remove(&net).unwrap();
        netns_remove(&user).unwrap();
        assert!(!net.exists() && !user.exists());
    }

    #[test]
    fn a_bad_map_fails_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let net = dir.path().join("net");
        let user = dir.path().join("user");
        let maps = UsernsMaps {
            uid_map: "not a map\n".into(),
            gid_map: "0 1 1\n".into(),
        };
        assert!(userns_create(&user, &maps).is_err());
        assert!(!user.exists());
        assert!(netns_create_in_userns(&net, &user).is_err());
        assert!(!net.exists());
    }
}
