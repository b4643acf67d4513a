//! The local terminal: raw mode for an attached TTY (restored when the guard drops, on
//! every exit path), and the window size sent to the daemon.
#![allow(unsafe_code)]

use std::io::IsTerminal;
use std::os::fd::{AsFd, BorrowedFd};

use nix::sys::termios::{self, SetArg, Termios};

/// Raw mode on stdin while alive; the saved settings come back on drop.
pub struct RawMode {
    saved: Termios,
}

impl RawMode {
    /// Puts stdin in raw mode as moby's `term.MakeRaw` does; `None` when stdin is not a
    /// terminal, or when `NORAW` is set (docker's escape hatch).
    pub fn enable() -> std::io::Result<Option<Self>> {
        let stdin = std::io::stdin();
        if !stdin.is_terminal() || std::env::var_os("NORAW").is_some_and(|v| !v.is_empty()) {
            return Ok(None);
        }
        let fd = stdin.as_fd();
        let saved = termios::tcgetattr(fd)?;
        let mut raw = saved.clone();
        termios::cfmakeraw(&mut raw);
        termios::tcsetattr(fd, SetArg::TCSANOW, &raw)?;
        Ok(Some(Self { saved }))
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let stdin = std::io::stdin();
        let _ = termios::tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &self.saved);
    }
}

nix::ioctl_read_bad!(get_window_size, nix::libc::TIOCGWINSZ, nix::libc::winsize);

fn window_size(fd: BorrowedFd<'_>) -> Option<(u16, u16)> {
    let mut ws = nix::libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one `winsize` into the struct we own; the fd is borrowed
    // and valid for the call.
    let res = unsafe { get_window_size(std::os::fd::AsRawFd::as_raw_fd(&fd), &mut ws) };
    res.ok().map(|_| (ws.ws_row, ws.ws_col))
}

/// The terminal's (height, width), from stdout as docker reads it; (0, 0) when stdout is
/// not a terminal.
pub fn size() -> (u16, u16) {
    let stdout = std::io::stdout();
    if !stdout.is_terminal() {
        return (0, 0);
    }
    window_size(stdout.as_fd()).unwrap_or((0, 0))
}

pub fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// docker's `CheckTty`: a TTY with stdin attached needs a terminal on stdin.
pub fn check_tty(attach_stdin: bool, tty: bool) -> Result<(), super::status::StatusError> {
    if tty && attach_stdin && !stdin_is_terminal() {
        return Err(super::status::StatusError::new(
            "the input device is not a TTY",
            1,
        ));
    }
    Ok(())
}
