//! The few system calls that need `unsafe`: fork, the window-size ioctl, raw signals,
//! and taking ownership of file descriptors the kernel hands over.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

use nix::fcntl::{openat2, OFlag, OpenHow, ResolveFlag};
use nix::unistd::{ForkResult, Pid};

/// `fork(2)`. Only called from `berth shim` before any thread exists.
pub fn fork() -> io::Result<ForkResult> {
    // SAFETY: `berth shim` dispatches here first thing in `main`, before any thread is
    // started, so the child is a complete copy of a single-threaded process.
    unsafe { nix::unistd::fork() }.map_err(io::Error::from)
}

/// Sets a terminal's size (`TIOCSWINSZ`).
pub fn set_winsize(tty: BorrowedFd<'_>, height: u16, width: u16) -> io::Result<()> {
    let size = libc::winsize {
        ws_row: height,
        ws_col: width,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads one `winsize` through the pointer, which outlives the call;
    // the descriptor is borrowed, so it is open.
    let rc = unsafe { libc::ioctl(tty.as_raw_fd(), libc::TIOCSWINSZ, &size) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Sends any signal number (real-time ones included, which `nix::Signal` lacks).
pub fn kill(pid: Pid, signal: i32) -> io::Result<()> {
    if signal <= 0 || signal > libc::SIGRTMAX() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("invalid signal {signal}"),
        ));
    }
    // SAFETY: kill(2) takes plain integers and touches no memory of ours.
    let rc = unsafe { libc::kill(pid.as_raw(), signal) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Owns a descriptor the kernel just installed in this process (e.g. from SCM_RIGHTS).
pub fn own_received_fd(fd: RawFd) -> OwnedFd {
    // SAFETY: the descriptor was created for this process by recvmsg and nothing else
    // refers to it, so this is its only owner.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// Opens `path` for `O_PATH` inside the directory tree `root` as if it were `/`
/// (symlinks included), so a container's files are looked up as the container sees them.
pub fn open_in_root(root: BorrowedFd<'_>, path: &Path) -> io::Result<OwnedFd> {
    let how = OpenHow::new()
        .flags(OFlag::O_PATH | OFlag::O_CLOEXEC)
        .resolve(ResolveFlag::RESOLVE_IN_ROOT);
    let fd = openat2(root.as_raw_fd(), path, how)?;
    // SAFETY: openat2 returned a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Puts every ignored signal back to its default action (`SIG_IGN` survives execve, so
/// whatever the daemon's environment ignored would reach the container), including the
/// two glibc keeps for itself, which its `sigaction` refuses.
pub fn reset_ignored_signals() {
    // `struct kernel_sigaction` all zeros is {SIG_DFL, no flags, no restorer, empty mask}
    // on every architecture; the handler is its first word. Room for the largest layout.
    const SIGSET_SIZE: usize = 8;
    for signal in 1..=libc::SIGRTMAX() {
        if signal == libc::SIGKILL || signal == libc::SIGSTOP {
            continue;
        }
        let mut old = [0u64; 4];
        // SAFETY: rt_sigaction only reads the (absent) new action and writes at most one
        // kernel_sigaction (under 32 bytes) into `old`, which is 32 bytes.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_rt_sigaction,
                signal,
                std::ptr::null::<u64>(),
                old.as_mut_ptr(),
                SIGSET_SIZE,
            )
        };
        if rc != 0 || old[0] != libc::SIG_IGN as u64 {
            continue;
        }
        let default = [0u64; 4];
        // SAFETY: as above; the new action is a zeroed, 32-byte buffer that outlives the call.
        unsafe {
            libc::syscall(
                libc::SYS_rt_sigaction,
                signal,
                default.as_ptr(),
                std::ptr::null_mut::<u64>(),
                SIGSET_SIZE,
            );
        }
    }
}

/// Gives the heap's free pages back to the kernel. The shim parses the bundle and builds
/// the container once, then idles for the container's life: what that left free in the
/// heap would stay resident (and counted against the shim) for nothing.
pub fn release_free_heap() {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim only walks glibc's own heap bookkeeping; it takes no pointers
    // of ours and is safe to call at any time in a single-threaded process.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Installs a seccomp BPF program (an array of `struct sock_filter`, as libseccomp exports
/// it) on the calling thread, as libseccomp's `seccomp_load` would with no filter flags.
/// The caller needs CAP_SYS_ADMIN or no_new_privs.
pub fn load_seccomp_program(program: &[u8]) -> io::Result<()> {
    if program.is_empty()
        || !program.len().is_multiple_of(8)
        || program.len() / 8 > usize::from(u16::MAX)
    {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("not a BPF program: {} bytes", program.len()),
        ));
    }
    let filters: Vec<libc::sock_filter> = program
        .chunks_exact(8)
        .map(|i| libc::sock_filter {
            code: u16::from_ne_bytes([i[0], i[1]]),
            jt: i[2],
            jf: i[3],
            k: u32::from_ne_bytes([i[4], i[5], i[6], i[7]]),
        })
        .collect();
    let prog = libc::sock_fprog {
        len: filters.len() as u16,
        filter: filters.as_ptr().cast_mut(),
    };
    // SAFETY: `prog` points at `filters`, which lives until the call returns; the kernel
    // copies the program and keeps no pointer to it.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0,
            &prog as *const libc::sock_fprog,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
