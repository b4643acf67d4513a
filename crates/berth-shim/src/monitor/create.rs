//! Making the monitor: the socket, the log, the stdio, and the container created (or the
//! exec checked), as `berth shim` must have them before it reports success.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;

use nix::sys::wait::waitpid;

use super::{Monitor, Phase, Target, READ_CHUNK};
use crate::config::{ShimConfig, ShimKind};
use crate::logsink::LogSink;
use crate::oom::OomCounter;
use crate::protocol::SOCKET_FILE;
use crate::runtime;
use crate::stdio::{self, ChildEnds, ConsoleSocket, ShimEnds};
use crate::sys;

fn bind_socket(state_dir: &Path) -> io::Result<UnixListener> {
    let path = state_dir.join(SOCKET_FILE);
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path)
        .map_err(|e| io::Error::new(e.kind(), format!("binding {}: {e}", path.display())))?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// The shim's ends for a PTY master, sized as asked.
pub(super) fn pty_io(
    master: OwnedFd,
    size: Option<[u16; 2]>,
    open_stdin: bool,
) -> io::Result<ShimEnds> {
    if let Some([height, width]) = size {
        let _ = sys::set_winsize(master.as_fd(), height, width);
    }
    stdio::pty_ends(master, open_stdin)
}

impl Monitor {
    /// Creates the container (or checks the exec) and listens on the socket: the state in
    /// which `berth shim` reports success. `sigchld` is the read end of the SIGCHLD pipe.
    pub fn create(cfg: &ShimConfig, state_dir: &Path, sigchld: UnixStream) -> Result<Self, String> {
        let listener = bind_socket(state_dir).map_err(|e| e.to_string())?;
        let log = match &cfg.log {
            Some(target) => Some(
                LogSink::open(target)
                    .map_err(|e| format!("opening the log {}: {e}", target.path.display()))?,
            ),
            None => None,
        };
        let seccomp_program = match &cfg.seccomp_program {
            Some(path) => Some(std::sync::Arc::new(std::fs::read(path).map_err(|e| {
                format!("reading the seccomp program {}: {e}", path.display())
            })?)),
            None => None,
        };
        let console_path = state_dir.join("console.sock");
        let bind_console = || ConsoleSocket::bind(&console_path).map_err(|e| e.to_string());
        let mut io = ShimEnds::default();
        let (target, pid, child_ends, console) = match &cfg.kind {
            ShimKind::Container { bundle } => {
                let (console, ends) = if cfg.tty {
                    (Some(bind_console()?), ChildEnds::default())
                } else {
                    let (shim, child) = stdio::pipes(cfg.open_stdin).map_err(|e| e.to_string())?;
                    io = shim;
                    (None, child)
                };
                let mut container = runtime::create(
                    &cfg.id,
                    &cfg.runtime_root,
                    bundle,
                    ends,
                    console.as_ref().map(|c| c.path()),
                    seccomp_program,
                )?;
                let pid = container.pid();
                if let Some(console) = console {
                    match console
                        .receive_master()
                        .and_then(|m| pty_io(m, cfg.console_size, cfg.open_stdin))
                    {
                        Ok(ends) => io = ends,
                        Err(e) => {
                            // Undo the half-made container: init killed, cgroup removed.
                            let _ = runtime::delete(&mut container);
                            if let Some(pid) = pid {
                                let _ = waitpid(pid, None);
                            }
                            return Err(e.to_string());
                        }
                    }
                }
                (Target::Container(Box::new(container)), pid, None, None)
            }
            ShimKind::Exec {
                container_id,
                process,
            } => {
                let target = runtime::prepare_exec(
                    &cfg.runtime_root,
                    container_id,
                    process,
                    seccomp_program,
                )?;
                if cfg.tty {
                    (
                        Target::Exec(target),
                        None,
                        Some(ChildEnds::default()),
                        Some(bind_console()?),
                    )
                } else {
                    let (shim, child) = stdio::pipes(cfg.open_stdin).map_err(|e| e.to_string())?;
                    io = shim;
                    (Target::Exec(target), None, Some(child), None)
                }
            }
        };
        let oom = match target {
            Target::Container(_) => pid.and_then(|p| OomCounter::for_pid(p.as_raw())),
            Target::Exec(_) => None,
        };
        Ok(Self {
            state_dir: state_dir.to_owned(),
            tty: cfg.tty,
            open_stdin: cfg.open_stdin,
            stdin_once: cfg.stdin_once,
            console_size: cfg.console_size,
            listener,
            sigchld,
            target,
            pid,
            phase: Phase::Created,
            finished_at: None,
            start_error: None,
            exit: None,
            io,
            child_ends,
            console,
            stdin_buf: Vec::new(),
            close_stdin_when_flushed: false,
            stdin_closed: !cfg.open_stdin,
            conns: Vec::new(),
            waiters: Vec::new(),
            attaches: Vec::new(),
            log,
            oom,
            buf: vec![0; READ_CHUNK],
        })
    }
}
