//! Connections on the shim socket: reading the one request line, and the operations.

use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::time::{Instant, SystemTime};

use serde_json::json;

use super::attach::Attach;
use super::create::pty_io;
use super::{Monitor, Phase, Target};
use crate::protocol::{error_line, ok_line, Request};
use crate::{runtime, sys};

/// A request line longer than this is not one of ours.
const MAX_REQUEST: usize = 64 * 1024;

/// A connection whose request line has not arrived yet; `sock` is taken once it has.
#[derive(Debug)]
pub struct Conn {
    pub sock: Option<UnixStream>,
    buf: Vec<u8>,
}

impl Conn {
    pub fn new(sock: UnixStream) -> Self {
        Self {
            sock: Some(sock),
            buf: Vec::new(),
        }
    }

    /// Reads what has arrived: the request line and any bytes after it, once complete.
    fn read_line(&mut self) -> Option<(Vec<u8>, Vec<u8>)> {
        let sock = self.sock.as_ref()?;
        let mut chunk = [0u8; 4096];
        match (&*sock).read(&mut chunk) {
            Ok(0) if self.buf.is_empty() => {
                self.sock = None;
                None
            }
            // A request without its newline, then end of input: take it as it is.
            Ok(0) => Some((std::mem::take(&mut self.buf), Vec::new())),
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                if let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
                    let rest = self.buf.split_off(pos + 1);
                    let mut line = std::mem::take(&mut self.buf);
                    line.pop();
                    Some((line, rest))
                } else {
                    if self.buf.len() > MAX_REQUEST {
                        self.sock = None;
                    }
                    None
                }
            }
            Err(e)
                if e.kind() == io::ErrorKind::WouldBlock
                    || e.kind() == io::ErrorKind::Interrupted =>
            {
                None
            }
            Err(_) => {
                self.sock = None;
                None
            }
        }
    }
}

/// A client waiting for the exit status; kept open until the shim exits.
#[derive(Debug)]
pub struct Waiter {
    pub sock: UnixStream,
    pub gone: bool,
}

fn reply(sock: &UnixStream, line: &[u8]) {
    let _ = (&*sock).write_all(line);
}

/// Docker's exit code for a process that could not be started.
fn start_failure_code(message: &str) -> i32 {
    if message.contains("not found") || message.contains("no such file") {
        127
    } else {
        126
    }
}

impl Monitor {
    pub(super) fn read_request(&mut self, i: usize) {
        let Some((line, rest)) = self.conns[i].read_line() else {
            return;
        };
        let Some(sock) = self.conns[i].sock.take() else {
            return;
        };
        match serde_json::from_slice::<Request>(&line) {
            Ok(request) => self.serve(request, sock, &rest),
            Err(e) => reply(&sock, &error_line(&format!("invalid request: {e}"))),
        }
    }

    fn serve(&mut self, request: Request, sock: UnixStream, rest: &[u8]) {
        match request {
            Request::Start => match self.start() {
                Ok(pid) => reply(&sock, &ok_line(json!({ "pid": pid }))),
                Err(e) => reply(&sock, &error_line(&e)),
            },
            Request::State => {
                let state = json!({
                    "status": self.status(),
                    "pid": self.pid_u32(),
                    "exit": self.exit,
                });
                reply(&sock, &ok_line(state));
            }
            Request::Signal { signal } => match self.signal(signal) {
                Ok(()) => reply(&sock, &ok_line(json!({}))),
                Err(e) => reply(&sock, &error_line(&e)),
            },
            Request::Resize { height, width } => {
                let resized = match &self.io.pty {
                    Some(master) => sys::set_winsize(master.as_fd(), height, width),
                    None => Ok(()),
                };
                match resized {
                    Ok(()) => reply(&sock, &ok_line(json!({}))),
                    Err(e) => reply(&sock, &error_line(&format!("resizing the terminal: {e}"))),
                }
            }
            Request::Wait => {
                if let Some(exit) = &self.exit {
                    reply(&sock, &ok_line(json!({ "exit": exit })));
                }
                self.waiters.push(Waiter { sock, gone: false });
            }
            Request::Attach {
                stdin,
                stdout,
                stderr,
            } => {
                if self.exit.is_some() {
                    reply(&sock, &error_line("the process has exited"));
                    return;
                }
                reply(&sock, &ok_line(json!({})));
                let stdin = stdin && self.open_stdin;
                if stdin && !rest.is_empty() {
                    self.feed_stdin(rest);
                }
                self.attaches.push(Attach::new(sock, stdin, stdout, stderr));
            }
        }
    }

    fn pid_u32(&self) -> u32 {
        self.pid.map_or(0, |p| p.as_raw() as u32)
    }

    fn start(&mut self) -> Result<u32, String> {
        match self.phase {
            Phase::Created => {}
            Phase::Running => return Err("the process is already started".to_owned()),
            _ => return Err("the process has exited".to_owned()),
        }
        match &mut self.target {
            Target::Container(container) => runtime::start(container)?,
            Target::Exec(target) => {
                let ends = self.child_ends.take().unwrap_or_default();
                let console = self.console.take();
                let console_path = console.as_ref().map(|c| c.path());
                let pid = match runtime::start_exec(target, ends, console_path, self.console_size) {
                    Ok(pid) => pid,
                    Err(e) => {
                        self.end_unstarted(start_failure_code(&e), Some(e.clone()));
                        return Err(e);
                    }
                };
                self.pid = Some(pid);
                if let Some(console) = console {
                    let io = console
                        .receive_master()
                        .and_then(|m| pty_io(m, self.console_size, self.open_stdin));
                    match io {
                        Ok(io) => {
                            self.io = io;
                            self.flush_stdin();
                        }
                        Err(e) => {
                            // Without its terminal the process is of no use; it is reaped
                            // as it dies.
                            let _ = sys::kill(pid, libc::SIGKILL);
                            self.phase = Phase::Running;
                            return Err(e.to_string());
                        }
                    }
                }
            }
        }
        self.phase = Phase::Running;
        Ok(self.pid_u32())
    }

    /// Ends a process that never ran (an exec that could not start or was killed before).
    fn end_unstarted(&mut self, code: i32, error: Option<String>) {
        self.child_ends = None;
        self.console = None;
        self.start_error = error;
        self.finished_at = Some(SystemTime::now());
        self.phase = Phase::Draining {
            code,
            until: Instant::now(),
        };
    }

    fn signal(&mut self, signal: i32) -> Result<(), String> {
        match (self.phase, self.pid) {
            (Phase::Created | Phase::Running, Some(pid)) => {
                sys::kill(pid, signal).map_err(|e| format!("signalling the process: {e}"))
            }
            (Phase::Created, None) if signal == libc::SIGKILL => {
                self.end_unstarted(128 + libc::SIGKILL, None);
                Ok(())
            }
            (Phase::Created, None) => Err("the process is not started".to_owned()),
            _ => Err("the process has exited".to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_line_and_following_bytes_are_split() {
        let (a, mut b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let mut conn = Conn::new(a);
        b.write_all(b"{\"op\":\"att").unwrap();
        assert!(conn.read_line().is_none());
        b.write_all(b"ach\"}\nstdin bytes").unwrap();
        let (line, rest) = conn.read_line().unwrap();
        assert_eq!(line, b"{\"op\":\"attach\"}");
        assert_eq!(rest, b"stdin bytes");
    }

    #[test]
    fn a_request_without_newline_counts_at_end_of_input() {
        let (a, mut b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let mut conn = Conn::new(a);
        b.write_all(b"{\"op\":\"state\"}").unwrap();
        b.shutdown(std::net::Shutdown::Write).unwrap();
        assert!(conn.read_line().is_none());
        let (line, rest) = conn.read_line().unwrap();
        assert_eq!(line, b"{\"op\":\"state\"}");
        assert!(rest.is_empty());
    }

    #[test]
    fn start_failures_map_to_dockers_codes() {
        assert_eq!(
            start_failure_code("exec: \"nope\": executable file not found in $PATH"),
            127
        );
        assert_eq!(start_failure_code("exec: \"/etc\": permission denied"), 126);
    }
}
