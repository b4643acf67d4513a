//! `docker run --init`: a tiny PID 1 for the container, built by berth-daemon's build.rs as a
//! static executable (std only, glibc linked statically) and embedded in the berth binary,
//! so nothing extra is installed and it runs in any image. It starts the command, forwards
//! the signals a container receives to it, reaps every orphan, and exits with the
//! command's status (128 + signal when killed), as tini does.
#![allow(unsafe_code)]

use std::ffi::c_int;
use std::process::Command;
use std::sync::atomic::{AtomicI32, Ordering};

extern "C" {
    fn waitpid(pid: c_int, status: *mut c_int, options: c_int) -> c_int;
    fn kill(pid: c_int, sig: c_int) -> c_int;
    fn signal(sig: c_int, handler: extern "C" fn(c_int)) -> usize;
}

static CHILD: AtomicI32 = AtomicI32::new(0);

extern "C" fn forward(sig: c_int) {
    let pid = CHILD.load(Ordering::SeqCst);
    if pid > 0 {
        // SAFETY: kill(2) is async-signal-safe; pid is our child's.
        unsafe { kill(pid, sig) };
    }
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--") {
        args.remove(0);
    }
    if args.is_empty() {
        eprintln!("docker-init: usage: docker-init -- COMMAND [ARG...]");
        std::process::exit(1);
    }
    // Every catchable signal but SIGCHLD goes to the child.
    for sig in 1..32 {
        if !matches!(sig, 9 | 17 | 19) {
            // SAFETY: installs an async-signal-safe handler.
            unsafe { signal(sig, forward) };
        }
    }
    let child = match Command::new(&args[0]).args(&args[1..]).spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("docker-init: exec {}: {e}", args[0]);
            std::process::exit(if e.kind() == std::io::ErrorKind::NotFound { 127 } else { 126 });
        }
    };
    let child_pid = child.id() as c_int;
    CHILD.store(child_pid, Ordering::SeqCst);
    loop {
        let mut status: c_int = 0;
        // SAFETY: waits for any child; status is a valid out pointer.
        let pid = unsafe { waitpid(-1, &mut status, 0) };
        if pid < 0 {
            if std::io::Error::last_os_error().raw_os_error() == Some(4) {
                continue; // EINTR: a forwarded signal
            }
            std::process::exit(1);
        }
        if pid == child_pid {
            let code = if status & 0x7f == 0 {
                (status >> 8) & 0xff
            } else {
                128 + (status & 0x7f)
            };
            std::process::exit(code);
        }
    }
}
