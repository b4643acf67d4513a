//! `berth shim <state_dir>`: the first process reads the configuration and forks the
//! monitor, then waits only until the monitor says "created" (exit 0) or why not
//! (exit 1, one line on stderr). The monitor starts its own session, so nothing that
//! happens to the daemon reaches it.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::fcntl::OFlag;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{dup2, pipe2, setsid, ForkResult, Pid};

use crate::config::ShimConfig;
use crate::monitor::Monitor;
use crate::protocol::{CONFIG_FILE, PID_FILE, SOCKET_FILE};
use crate::sys;

/// What the monitor writes on the readiness pipe when the process is created.
const READY: &str = "ok";

/// Runs `berth shim <state_dir>`; returns the first process's exit code.
pub fn main(state_dir: &Path) -> ExitCode {
    match launch(state_dir) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("{}", message.replace('\n', " "));
            ExitCode::from(1)
        }
    }
}

fn launch(state_dir: &Path) -> Result<ExitCode, String> {
    let state_dir = std::path::absolute(state_dir)
        .map_err(|e| format!("state directory {}: {e}", state_dir.display()))?;
    let config_path = state_dir.join(CONFIG_FILE);
    let text =
        fs::read(&config_path).map_err(|e| format!("reading {}: {e}", config_path.display()))?;
    let config: ShimConfig = serde_json::from_slice(&text)
        .map_err(|e| format!("invalid {}: {e}", config_path.display()))?;
    let (ready_r, ready_w) = pipe2(OFlag::O_CLOEXEC).map_err(|e| format!("pipe: {e}"))?;
    match sys::fork().map_err(|e| format!("fork: {e}"))? {
        ForkResult::Parent { child } => {
            drop(ready_w);
            await_ready(ready_r, child).map(|()| ExitCode::SUCCESS)
        }
        ForkResult::Child => {
            drop(ready_r);
            Ok(run_monitor(&config, &state_dir, ready_w))
        }
    }
}

/// Waits for the monitor's one line. The pipe alone is not enough: the container's init
/// holds a copy of it until it executes, so the monitor's death is watched too.
fn await_ready(ready: OwnedFd, monitor: Pid) -> Result<(), String> {
    let mut file = File::from(ready);
    let mut message = Vec::new();
    loop {
        let mut fds = [PollFd::new(file.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(100u8)) {
            Ok(0) | Err(nix::errno::Errno::EINTR) => {}
            Ok(_) => {
                let mut chunk = [0u8; 4096];
                let n = file.read(&mut chunk).map_err(|e| format!("shim: {e}"))?;
                message.extend_from_slice(&chunk[..n]);
                if n == 0 || message.contains(&b'\n') {
                    break;
                }
                continue;
            }
            Err(e) => return Err(format!("shim: poll: {e}")),
        }
        match waitpid(monitor, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) => {}
            Ok(status) => {
                // It may have written its reason just before it ended.
                let _ = file.read_to_end(&mut message);
                if message.is_empty() {
                    return Err(format!("shim exited before it was ready ({status:?})"));
                }
                break;
            }
            Err(e) => return Err(format!("shim: wait: {e}")),
        }
    }
    let text = String::from_utf8_lossy(&message);
    let line = text.lines().next().unwrap_or("").trim();
    if line == READY {
        Ok(())
    } else if line.is_empty() {
        Err("shim exited before it was ready".to_owned())
    } else {
        Err(line.to_owned())
    }
}

/// The monitor process: detaches, creates the process, reports, serves. Never returns
/// to the caller's caller with anything but an exit code.
fn run_monitor(config: &ShimConfig, state_dir: &Path, ready: OwnedFd) -> ExitCode {
    let mut ready = File::from(ready);
    let monitor = detach()
        .and_then(|sigchld| write_pidfile(state_dir).map(|()| sigchld))
        .map_err(|e| format!("shim: {e}"))
        .and_then(|sigchld| Monitor::create(config, state_dir, sigchld));
    match monitor {
        Ok(monitor) => {
            let _ = ready.write_all(format!("{READY}\n").as_bytes());
            drop(ready);
            sys::release_free_heap();
            monitor.run();
            ExitCode::SUCCESS
        }
        Err(message) => {
            // Clean up first: the spawner may look at the state directory as soon as it
            // reads the message.
            let _ = fs::remove_file(state_dir.join(PID_FILE));
            let _ = fs::remove_file(state_dir.join(SOCKET_FILE));
            let _ = ready.write_all(format!("{}\n", message.replace('\n', " ")).as_bytes());
            reap_children();
            ExitCode::from(1)
        }
    }
}

/// New session, stdio on /dev/null, `/` as cwd, subreaper, and the signal handlers.
/// Returns the read end of the SIGCHLD pipe.
fn detach() -> io::Result<UnixStream> {
    setsid()?;
    let null = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")?;
    for fd in 0..3 {
        dup2(null.as_raw_fd(), fd)?;
    }
    std::env::set_current_dir("/")?;
    nix::sys::prctl::set_child_subreaper(true)?;
    // A clean slate for the container: no inherited ignored or blocked signals.
    sys::reset_ignored_signals();
    nix::sys::signal::sigprocmask(
        nix::sys::signal::SigmaskHow::SIG_SETMASK,
        Some(&nix::sys::signal::SigSet::empty()),
        None,
    )?;
    let (read, write) = UnixStream::pair()?;
    read.set_nonblocking(true)?;
    write.set_nonblocking(true)?;
    signal_hook::low_level::pipe::register(libc::SIGCHLD, write)?;
    // Rust starts with SIGPIPE ignored, and an ignored signal stays ignored across
    // execve: the container would inherit it. A handler is reset by execve instead.
    signal_hook::flag::register(libc::SIGPIPE, Arc::new(AtomicBool::new(false)))?;
    Ok(read)
}

/// Reaps what a failed create left (libcontainer's helper processes), so nothing is left
/// for init to collect; bounded, in case one is slow to die.
fn reap_children() {
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        match waitpid(None, Some(WaitPidFlag::WNOHANG | WaitPidFlag::__WALL)) {
            Ok(WaitStatus::StillAlive) => std::thread::sleep(Duration::from_millis(10)),
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => {}
            Err(_) => return,
        }
    }
}

fn write_pidfile(state_dir: &Path) -> io::Result<()> {
    let tmp: PathBuf = state_dir.join(format!(".{PID_FILE}.tmp"));
    fs::write(&tmp, format!("{}\n", std::process::id()))?;
    fs::rename(&tmp, state_dir.join(PID_FILE))?;
    Ok(())
}
