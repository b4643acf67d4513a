//! One attached client: output fanned out to it (framed unless there is a TTY), and its
//! input read for the container's stdin.

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;

use crate::frame::{self, StreamKind};

/// Past this much unsent output for any client, the shim stops reading the container's
/// output until the client catches up (the container then blocks, as with a pipe).
pub const HIGH_WATER: usize = 256 * 1024;

#[derive(Debug)]
pub struct Attach {
    pub sock: UnixStream,
    stdout: bool,
    stderr: bool,
    /// Still reading this client's input for the container's stdin.
    pub reading_stdin: bool,
    out: Vec<u8>,
    pub dead: bool,
}

impl Attach {
    pub fn new(sock: UnixStream, stdin: bool, stdout: bool, stderr: bool) -> Self {
        Self {
            sock,
            stdout,
            stderr,
            reading_stdin: stdin,
            out: Vec::new(),
            dead: false,
        }
    }

    fn wants(&self, stream: StreamKind) -> bool {
        match stream {
            StreamKind::Stdout => self.stdout,
            StreamKind::Stderr => self.stderr,
        }
    }

    /// Queues a chunk of output (raw with a TTY, else as a frame) and sends what it can.
    pub fn push(&mut self, stream: StreamKind, chunk: &[u8], tty: bool) {
        if self.dead || !self.wants(stream) {
            return;
        }
        if tty {
            self.out.extend_from_slice(chunk);
        } else {
            frame::push_frame(&mut self.out, stream, chunk);
        }
        self.flush();
    }

    pub fn pending(&self) -> usize {
        self.out.len()
    }

    /// Sends queued output without blocking; a client that is gone is marked dead.
    pub fn flush(&mut self) {
        while !self.out.is_empty() && !self.dead {
            match (&self.sock).write(&self.out) {
                Ok(0) => self.dead = true,
                Ok(n) => {
                    self.out.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => self.dead = true,
            }
        }
        if self.out.is_empty() && self.out.capacity() > HIGH_WATER {
            // Give back what a burst took.
            self.out = Vec::new();
        }
    }

    /// Reads input for stdin into `buf`: `Some(0)` is the client's end of input, `None`
    /// nothing now.
    pub fn read_input(&mut self, buf: &mut [u8]) -> Option<usize> {
        match (&self.sock).read(buf) {
            Ok(0) => {
                self.reading_stdin = false;
                Some(0)
            }
            Ok(n) => Some(n),
            Err(e)
                if e.kind() == io::ErrorKind::WouldBlock
                    || e.kind() == io::ErrorKind::Interrupted =>
            {
                None
            }
            Err(_) => {
                self.reading_stdin = false;
                self.dead = true;
                Some(0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(stdin: bool, stdout: bool, stderr: bool) -> (Attach, UnixStream) {
        let (a, b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        (Attach::new(a, stdin, stdout, stderr), b)
    }

    #[test]
    fn output_is_framed_per_stream_and_filtered() {
        let (mut attach, mut peer) = pair(false, true, false);
        attach.push(StreamKind::Stdout, b"hi", false);
        attach.push(StreamKind::Stderr, b"not wanted", false);
        drop(attach);
        let mut got = Vec::new();
        peer.read_to_end(&mut got).unwrap();
        assert_eq!(got, [&[1u8, 0, 0, 0, 0, 0, 0, 2][..], b"hi"].concat());
    }

    #[test]
    fn tty_output_is_raw() {
        let (mut attach, mut peer) = pair(false, true, true);
        attach.push(StreamKind::Stdout, b"raw", true);
        drop(attach);
        let mut got = Vec::new();
        peer.read_to_end(&mut got).unwrap();
        assert_eq!(got, b"raw");
    }

    #[test]
    fn a_closed_client_is_marked_dead() {
        let (mut attach, peer) = pair(false, true, true);
        drop(peer);
        attach.push(StreamKind::Stdout, b"x", true);
        assert!(attach.dead);
    }

    #[test]
    fn input_end_stops_stdin_reading() {
        let (mut attach, mut peer) = pair(true, true, true);
        peer.write_all(b"abc").unwrap();
        peer.shutdown(std::net::Shutdown::Write).unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(attach.read_input(&mut buf), Some(3));
        assert_eq!(&buf[..3], b"abc");
        assert_eq!(attach.read_input(&mut buf), Some(0));
        assert!(!attach.reading_stdin && !attach.dead);
    }
}
