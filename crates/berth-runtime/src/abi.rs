//! Which system-call ABIs the running kernel serves, probed once: a seccomp filter pays
//! for every architecture it lists (libseccomp compiles one decision tree per ABI, in
//! each container's init, at every start).
#![allow(unsafe_code)]

use std::sync::OnceLock;

/// The bit that marks an x32 system call on x86-64.
#[cfg(target_arch = "x86_64")]
const X32_SYSCALL_BIT: libc::c_long = 0x4000_0000;

/// Whether x32 system calls reach the kernel (CONFIG_X86_X32_ABI built and not turned off
/// with `syscall.x32=n`). Where they do not, a filter entry for SCMP_ARCH_X32 could only
/// let through calls that fail with ENOSYS anyway.
#[cfg(target_arch = "x86_64")]
pub fn x32_syscalls_work() -> bool {
    static WORKS: OnceLock<bool> = OnceLock::new();
    *WORKS.get_or_init(probe_x32)
}

#[cfg(not(target_arch = "x86_64"))]
pub fn x32_syscalls_work() -> bool {
    false
}

/// Makes one x32 `getpid` in a child: a filter this process may run under (systemd's
/// `SystemCallArchitectures=native`) kills on a foreign ABI, and that must not be us.
#[cfg(target_arch = "x86_64")]
fn probe_x32() -> bool {
    // SAFETY: the child only makes a raw system call and `_exit`s, both async-signal-safe,
    // so forking a multi-threaded process is sound here.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return false;
    }
    if pid == 0 {
        // SAFETY: getpid takes no arguments and touches no memory; `_exit` never returns.
        unsafe {
            let rc = libc::syscall(X32_SYSCALL_BIT | libc::SYS_getpid);
            libc::_exit(if rc > 0 { 0 } else { 1 });
        }
    }
    let mut status = 0;
    loop {
        // SAFETY: waits for our own child; `status` is a valid, writable int.
        let rc = unsafe { libc::waitpid(pid, &mut status, 0) };
        if rc == pid {
            break;
        }
        if rc < 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return false;
        }
    }
    libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kernel's own build configuration, where it exposes it (`/proc/config.gz`).
    fn kernel_config() -> Option<String> {
        let out = std::process::Command::new("zcat")
            .arg("/proc/config.gz")
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn the_probe_matches_the_kernel_config_and_spares_the_caller() {
        let works = x32_syscalls_work();
        // Asked again: cached, and this process is still alive to ask.
        assert_eq!(works, x32_syscalls_work());
        if let Some(config) = kernel_config() {
            if !config.lines().any(|l| l == "CONFIG_X86_X32_ABI=y") {
                assert!(!works, "x32 is not built into this kernel");
            }
        }
    }
}
