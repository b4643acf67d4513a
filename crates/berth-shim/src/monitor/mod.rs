//! The monitor: one thread, one poll(2) loop. It owns the process (a container's init or
//! an exec), its stdio, the log, the clients on the socket, and the end: exit status,
//! cleanup, exit.

mod attach;
mod create;
mod requests;
mod streams;

use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use libcontainer::container::Container;
use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use crate::config::ExitStatus;
use crate::exit::{self, rfc3339_nano};
use crate::frame::StreamKind;
use crate::logsink::LogSink;
use crate::oom::OomCounter;
use crate::protocol::{ok_line, ProcessStatus, SOCKET_FILE};
use crate::runtime::{self, ExecTarget};
use crate::stdio::{ChildEnds, ConsoleSocket, ShimEnds};

use attach::Attach;
use requests::{Conn, Waiter};

/// How long output is still read after the process ended (a pipe leaked to a background
/// process would otherwise keep the shim forever).
const DRAIN_LIMIT: Duration = Duration::from_secs(1);
/// How long attached clients get to take the last output before they are closed.
const CLOSE_LIMIT: Duration = Duration::from_secs(2);
/// Stdin bytes held for a container that does not read them yet.
const STDIN_LIMIT: usize = 64 * 1024;
const READ_CHUNK: usize = 32 * 1024;

/// What the shim runs.
enum Target {
    Container(Box<Container>),
    Exec(ExecTarget),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    Created,
    Running,
    /// The process ended with this code; its last output is being read.
    Draining {
        code: i32,
        until: Instant,
    },
    /// The exit is recorded; clients get their last bytes.
    Closing {
        until: Instant,
    },
}

pub struct Monitor {
    state_dir: PathBuf,
    tty: bool,
    open_stdin: bool,
    stdin_once: bool,
    console_size: Option<[u16; 2]>,
    listener: UnixListener,
    sigchld: UnixStream,
    target: Target,
    pid: Option<Pid>,
    phase: Phase,
    finished_at: Option<SystemTime>,
    start_error: Option<String>,
    exit: Option<ExitStatus>,
    io: ShimEnds,
    /// An exec's ends, handed over at `start`.
    child_ends: Option<ChildEnds>,
    /// An exec's console socket, used at `start`.
    console: Option<ConsoleSocket>,
    /// Input for the process's stdin not yet written (also input that came before an
    /// exec's terminal exists).
    stdin_buf: Vec<u8>,
    close_stdin_when_flushed: bool,
    /// The process's stdin is closed for good (or was never open).
    stdin_closed: bool,
    conns: Vec<Conn>,
    waiters: Vec<Waiter>,
    attaches: Vec<Attach>,
    log: Option<LogSink>,
    oom: Option<OomCounter>,
    buf: Vec<u8>,
}

/// Which descriptor a poll entry is for.
#[derive(Debug, Clone, Copy)]
enum Token {
    SigChld,
    Listener,
    Conn(usize),
    Waiter(usize),
    Attach(usize),
    Output(StreamKind, bool),
    Stdin,
}

impl Monitor {
    /// Serves until the process has ended and everything is recorded and cleaned up.
    pub fn run(mut self) {
        self.reap();
        loop {
            let now = Instant::now();
            match self.phase {
                Phase::Draining { until, .. } if now >= until || !self.has_output() => {
                    self.finalize();
                    continue;
                }
                Phase::Closing { until } if now >= until || self.attaches_flushed() => break,
                _ => {}
            }
            let timeout = match self.phase {
                Phase::Draining { until, .. } | Phase::Closing { until } => {
                    let left = until.saturating_duration_since(now);
                    PollTimeout::try_from(left.as_millis().max(1) as u64)
                        .unwrap_or(PollTimeout::NONE)
                }
                _ => PollTimeout::NONE,
            };
            let events = match self.poll_once(timeout) {
                Ok(events) => events,
                Err(Errno::EINTR) => continue,
                Err(_) => break,
            };
            for (token, revents) in events {
                self.handle(token, revents);
            }
            // Removed only now, so the tokens' indices held while handling.
            self.attaches.retain(|a| !a.dead);
            self.waiters.retain(|w| !w.gone);
            self.conns.retain(|c| c.sock.is_some());
        }
        self.reap();
        let _ = std::fs::remove_file(self.state_dir.join(SOCKET_FILE));
        let _ = std::fs::remove_file(self.state_dir.join(crate::protocol::PID_FILE));
        // The waiters' connections close as the process exits: their EOF tells a client
        // that the shim is gone.
    }

    fn has_output(&self) -> bool {
        self.io.pty.is_some() || self.io.stdout.is_some() || self.io.stderr.is_some()
    }

    fn attaches_flushed(&self) -> bool {
        self.attaches.iter().all(|a| a.pending() == 0 || a.dead)
    }

    fn output_paused(&self) -> bool {
        self.attaches
            .iter()
            .any(|a| !a.dead && a.pending() >= attach::HIGH_WATER)
    }

    fn poll_once(&self, timeout: PollTimeout) -> Result<Vec<(Token, PollFlags)>, Errno> {
        let mut tokens: Vec<(Token, BorrowedFd<'_>, PollFlags)> = Vec::new();
        let input = PollFlags::POLLIN;
        tokens.push((Token::SigChld, self.sigchld.as_fd(), input));
        tokens.push((Token::Listener, self.listener.as_fd(), input));
        for (i, c) in self.conns.iter().enumerate() {
            if let Some(sock) = &c.sock {
                tokens.push((Token::Conn(i), sock.as_fd(), input));
            }
        }
        for (i, w) in self.waiters.iter().enumerate() {
            tokens.push((Token::Waiter(i), w.sock.as_fd(), input));
        }
        let stdin_open = !self.stdin_closed && self.stdin_buf.len() < STDIN_LIMIT;
        for (i, a) in self.attaches.iter().enumerate() {
            let mut events = PollFlags::empty();
            if a.reading_stdin && stdin_open {
                events |= PollFlags::POLLIN;
            }
            if a.pending() > 0 {
                events |= PollFlags::POLLOUT;
            }
            tokens.push((Token::Attach(i), a.sock.as_fd(), events));
        }
        if !self.output_paused() && !matches!(self.phase, Phase::Closing { .. }) {
            if let Some(fd) = &self.io.pty {
                tokens.push((Token::Output(StreamKind::Stdout, true), fd.as_fd(), input));
            }
            if let Some(fd) = &self.io.stdout {
                tokens.push((Token::Output(StreamKind::Stdout, false), fd.as_fd(), input));
            }
            if let Some(fd) = &self.io.stderr {
                tokens.push((Token::Output(StreamKind::Stderr, false), fd.as_fd(), input));
            }
        }
        if let (Some(fd), false) = (&self.io.stdin, self.stdin_buf.is_empty()) {
            tokens.push((Token::Stdin, fd.as_fd(), PollFlags::POLLOUT));
        }
        let mut fds: Vec<PollFd<'_>> = tokens
            .iter()
            .map(|(_, fd, events)| PollFd::new(*fd, *events))
            .collect();
        poll(&mut fds, timeout)?;
        Ok(tokens
            .iter()
            .zip(&fds)
            .filter_map(|((token, _, _), fd)| {
                let revents = fd.revents().unwrap_or(PollFlags::empty());
                (!revents.is_empty()).then_some((*token, revents))
            })
            .collect())
    }

    fn handle(&mut self, token: Token, revents: PollFlags) {
        let hangup = revents.intersects(PollFlags::POLLHUP | PollFlags::POLLERR);
        match token {
            Token::SigChld => self.reap(),
            Token::Listener => self.accept(),
            Token::Conn(i) => self.read_request(i),
            Token::Waiter(i) => {
                // A waiter that went away has nothing more to be told.
                let mut scratch = [0u8; 64];
                let w = &mut self.waiters[i];
                match (&w.sock).read(&mut scratch) {
                    Ok(0) => w.gone = true,
                    Err(e) if e.kind() != io::ErrorKind::WouldBlock => w.gone = true,
                    _ => w.gone |= hangup,
                }
            }
            Token::Attach(i) => {
                if revents.contains(PollFlags::POLLOUT) {
                    self.attaches[i].flush();
                }
                if revents.contains(PollFlags::POLLIN) {
                    self.read_stdin(i);
                } else if hangup {
                    self.attaches[i].dead = true;
                }
            }
            Token::Output(stream, pty) => self.read_output(stream, pty),
            Token::Stdin => self.flush_stdin(),
        }
    }

    fn accept(&mut self) {
        loop {
            match self.listener.accept() {
                Ok((sock, _)) => {
                    if sock.set_nonblocking(true).is_ok() {
                        self.conns.push(Conn::new(sock));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    }

    /// Reaps every child that ended (orphans included, as a subreaper must).
    fn reap(&mut self) {
        let mut drain = [0u8; 64];
        while matches!((&self.sigchld).read(&mut drain), Ok(n) if n > 0) {}
        loop {
            match waitpid(None, Some(WaitPidFlag::WNOHANG | WaitPidFlag::__WALL)) {
                Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => return,
                Ok(status) => {
                    if status.pid().is_some() && status.pid() == self.pid {
                        if let Some(code) = exit::exit_code(status) {
                            self.process_ended(code);
                        }
                    }
                }
                Err(Errno::EINTR) => {}
                Err(_) => return,
            }
        }
    }

    fn process_ended(&mut self, code: i32) {
        if matches!(self.phase, Phase::Created | Phase::Running) {
            self.finished_at = Some(SystemTime::now());
            self.phase = Phase::Draining {
                code,
                until: Instant::now() + DRAIN_LIMIT,
            };
        }
    }

    /// Records the exit and tells everyone: log flushed, OOM checked, the container
    /// deleted (so its ID can be reused at once), `exit.json`, waiters, then attaches.
    fn finalize(&mut self) {
        let Phase::Draining { code, .. } = self.phase else {
            return;
        };
        if let Some(log) = &mut self.log {
            let _ = log.finish();
        }
        let oom_killed = self.oom.as_ref().is_some_and(OomCounter::fired);
        if let Target::Container(c) = &mut self.target {
            let _ = runtime::delete(c);
        }
        let status = ExitStatus {
            exit_code: code,
            oom_killed,
            finished_at: rfc3339_nano(self.finished_at.unwrap_or_else(SystemTime::now)),
            error: self.start_error.take(),
        };
        let _ = exit::write_exit(&self.state_dir, &status);
        let line = ok_line(serde_json::json!({ "exit": status }));
        for w in &self.waiters {
            let _ = (&w.sock).write_all(&line);
        }
        self.exit = Some(status);
        self.io = ShimEnds::default();
        self.close_stdin();
        for a in &mut self.attaches {
            a.reading_stdin = false;
            let _ = a.sock.shutdown(std::net::Shutdown::Read);
        }
        self.phase = Phase::Closing {
            until: Instant::now() + CLOSE_LIMIT,
        };
    }

    fn status(&self) -> ProcessStatus {
        match self.phase {
            Phase::Created => ProcessStatus::Created,
            Phase::Running | Phase::Draining { .. } => ProcessStatus::Running,
            Phase::Closing { .. } => ProcessStatus::Exited,
        }
    }
}
