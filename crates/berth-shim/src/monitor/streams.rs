//! The process's streams: output to the log and every attached client, input from the
//! clients to stdin.

use std::os::fd::AsRawFd;
use std::time::SystemTime;

use nix::errno::Errno;

use super::{Monitor, READ_CHUNK, STDIN_LIMIT};
use crate::frame::StreamKind;

impl Monitor {
    pub(super) fn read_output(&mut self, stream: StreamKind, pty: bool) {
        let fd = match (pty, stream) {
            (true, _) => &self.io.pty,
            (false, StreamKind::Stdout) => &self.io.stdout,
            (false, StreamKind::Stderr) => &self.io.stderr,
        };
        let Some(fd) = fd else { return };
        let n = match nix::unistd::read(fd.as_raw_fd(), &mut self.buf) {
            Ok(n) => n,
            Err(Errno::EAGAIN | Errno::EINTR) => return,
            // EIO: every holder of the PTY's other end has closed it.
            Err(_) => 0,
        };
        if n == 0 {
            match (pty, stream) {
                (true, _) => {
                    self.io.pty = None;
                    self.close_stdin();
                }
                (false, StreamKind::Stdout) => self.io.stdout = None,
                (false, StreamKind::Stderr) => self.io.stderr = None,
            }
            return;
        }
        let chunk = &self.buf[..n];
        if let Some(log) = &mut self.log {
            let _ = log.write(stream, chunk, SystemTime::now());
        }
        for a in &mut self.attaches {
            a.push(stream, chunk, self.tty);
        }
    }

    pub(super) fn read_stdin(&mut self, i: usize) {
        let room = STDIN_LIMIT
            .saturating_sub(self.stdin_buf.len())
            .min(READ_CHUNK);
        let mut buf = vec![0u8; room];
        match self.attaches[i].read_input(&mut buf) {
            // The client's end of input closes the process's stdin only with stdin_once,
            // and never a TTY's (as moby: the terminal stays usable for the next attach).
            Some(0) if self.stdin_once && !self.tty => self.close_stdin_when_flushed = true,
            Some(n) => self.stdin_buf.extend_from_slice(&buf[..n]),
            None => {}
        }
        self.flush_stdin();
    }

    pub(super) fn feed_stdin(&mut self, bytes: &[u8]) {
        if !self.stdin_closed {
            self.stdin_buf.extend_from_slice(bytes);
            self.flush_stdin();
        }
    }

    pub(super) fn close_stdin(&mut self) {
        self.io.stdin = None;
        self.stdin_closed = true;
        self.stdin_buf = Vec::new();
    }

    /// Writes held input to the process's stdin; closes it after the client's end of
    /// input with stdin_once.
    pub(super) fn flush_stdin(&mut self) {
        let Some(fd) = &self.io.stdin else {
            // Not there yet (an exec's terminal comes at start): keep the input.
            if self.stdin_closed {
                self.stdin_buf.clear();
            }
            return;
        };
        while !self.stdin_buf.is_empty() {
            match nix::unistd::write(fd, &self.stdin_buf) {
                Ok(n) => {
                    self.stdin_buf.drain(..n);
                }
                Err(Errno::EINTR) => {}
                Err(Errno::EAGAIN) => return,
                Err(_) => {
                    // The process closed its stdin or is gone.
                    self.close_stdin();
                    return;
                }
            }
        }
        if self.close_stdin_when_flushed {
            self.close_stdin();
        }
    }
}
