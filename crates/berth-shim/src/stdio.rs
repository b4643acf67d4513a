//! The container's standard streams as the shim holds them: pipes, or the PTY master that
//! the container sends back over a console socket.

use std::io::{self, IoSliceMut};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};

use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags, UnixAddr};
use nix::unistd::pipe2;

use crate::sys;

/// The ends the container's process gets (handed to libcontainer, closed here after).
#[derive(Debug, Default)]
pub struct ChildEnds {
    pub stdin: Option<OwnedFd>,
    pub stdout: Option<OwnedFd>,
    pub stderr: Option<OwnedFd>,
}

/// The ends the shim keeps, non-blocking.
#[derive(Debug, Default)]
pub struct ShimEnds {
    /// Where the container's stdin is written (a pipe, or a copy of the PTY master).
    pub stdin: Option<OwnedFd>,
    pub stdout: Option<OwnedFd>,
    pub stderr: Option<OwnedFd>,
    /// With a TTY: the master, read as stdout and resized.
    pub pty: Option<OwnedFd>,
}

pub fn set_nonblocking(fd: &OwnedFd) -> io::Result<()> {
    let flags = OFlag::from_bits_truncate(fcntl(fd.as_raw_fd(), FcntlArg::F_GETFL)?);
    fcntl(fd.as_raw_fd(), FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
    Ok(())
}

/// Pipes for stdout and stderr, and for stdin when it is kept open.
pub fn pipes(open_stdin: bool) -> io::Result<(ShimEnds, ChildEnds)> {
    let mut shim = ShimEnds::default();
    let mut child = ChildEnds::default();
    if open_stdin {
        let (r, w) = pipe2(OFlag::O_CLOEXEC)?;
        set_nonblocking(&w)?;
        shim.stdin = Some(w);
        child.stdin = Some(r);
    }
    let (r, w) = pipe2(OFlag::O_CLOEXEC)?;
    set_nonblocking(&r)?;
    shim.stdout = Some(r);
    child.stdout = Some(w);
    let (r, w) = pipe2(OFlag::O_CLOEXEC)?;
    set_nonblocking(&r)?;
    shim.stderr = Some(r);
    child.stderr = Some(w);
    Ok((shim, child))
}

/// The socket over which the container's init sends the PTY master it opened.
#[derive(Debug)]
pub struct ConsoleSocket {
    listener: UnixListener,
    path: PathBuf,
}

impl ConsoleSocket {
    pub fn bind(path: &Path) -> io::Result<Self> {
        let _ = std::fs::remove_file(path);
        let listener = UnixListener::bind(path)?;
        listener.set_nonblocking(true)?;
        Ok(Self {
            listener,
            path: path.to_owned(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The master the container sent. libcontainer's create (or exec) has returned by
    /// now, so the connection and its message are already queued.
    pub fn receive_master(self) -> io::Result<OwnedFd> {
        let (conn, _) = self.listener.accept().map_err(|e| {
            io::Error::new(e.kind(), format!("no terminal from the container: {e}"))
        })?;
        let mut name = [0u8; 64];
        let mut iov = [IoSliceMut::new(&mut name)];
        let mut cmsg = nix::cmsg_space!([std::os::fd::RawFd; 1]);
        let msg = recvmsg::<UnixAddr>(
            conn.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::MSG_CMSG_CLOEXEC,
        )?;
        let mut master = None;
        for c in msg.cmsgs()? {
            if let ControlMessageOwned::ScmRights(fds) = c {
                for fd in fds {
                    let owned = sys::own_received_fd(fd);
                    if master.is_none() {
                        master = Some(owned);
                    }
                }
            }
        }
        master.ok_or_else(|| io::Error::other("the container sent no terminal"))
    }
}

impl Drop for ConsoleSocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The shim's ends for a PTY master: read and resize through it, write stdin to a copy.
pub fn pty_ends(master: OwnedFd, open_stdin: bool) -> io::Result<ShimEnds> {
    set_nonblocking(&master)?;
    let stdin = if open_stdin {
        Some(master.try_clone()?)
    } else {
        None
    };
    Ok(ShimEnds {
        stdin,
        stdout: None,
        stderr: None,
        pty: Some(master),
    })
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::*;

    #[test]
    fn pipes_connect_child_ends_to_shim_ends() {
        let (shim, child) = pipes(true).unwrap();
        let mut child_out = std::fs::File::from(child.stdout.unwrap());
        child_out.write_all(b"out").unwrap();
        drop(child_out);
        let mut got = String::new();
        std::fs::File::from(shim.stdout.unwrap())
            .read_to_string(&mut got)
            .unwrap();
        assert_eq!(got, "out");

        let mut shim_in = std::fs::File::from(shim.stdin.unwrap());
        shim_in.write_all(b"in").unwrap();
        drop(shim_in);
        let mut got = String::new();
        std::fs::File::from(child.stdin.unwrap())
            .read_to_string(&mut got)
            .unwrap();
        assert_eq!(got, "in");
    }

    #[test]
    fn without_open_stdin_there_is_no_stdin_pipe() {
        let (shim, child) = pipes(false).unwrap();
        assert!(shim.stdin.is_none() && child.stdin.is_none());
        assert!(shim.stderr.is_some() && child.stderr.is_some());
    }
}
