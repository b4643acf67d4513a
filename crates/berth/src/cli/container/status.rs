//! How container commands end: docker's `cli.StatusError` (a message printed as is and an
//! exit status), the `run`/`create` wording (`docker: …` plus the `--help` hint), and the
//! exit statuses `run` derives from the daemon's start error.

use std::fmt;

/// Ends the command with `code` after printing `message` (if any) to stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusError {
    pub message: String,
    pub code: u8,
}

impl StatusError {
    pub fn new(message: impl Into<String>, code: u8) -> Self {
        Self {
            message: message.into(),
            code,
        }
    }

    /// A container's (or exec's) exit status, with nothing to print.
    pub fn exit(code: i64) -> Self {
        Self {
            message: String::new(),
            code: code as u8,
        }
    }
}

impl fmt::Display for StatusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for StatusError {}

/// The program name as invoked (`berth`, or `docker` through a symlink).
pub fn bin_name() -> String {
    std::env::args_os()
        .next()
        .and_then(|a| {
            std::path::Path::new(&a)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "berth".into())
}

/// docker/cli's `withHelp`: `docker: <err>` and a pointer to the command's help.
pub fn with_help(err: &str, command: &str) -> String {
    let bin = bin_name();
    format!("{bin}: {err}\n\nRun '{bin} {command} --help' for more information")
}

/// docker/cli's `toStatusError` for `run`: 127 when the command was not found, 126 when
/// it could not be executed, 125 for any other failure.
pub fn run_failure(err: &str) -> StatusError {
    let code = if err.contains("executable file not found")
        || err.contains("no such file or directory")
        || err.contains("system cannot find the file specified")
    {
        127
    } else if err.contains("permission denied") || err.contains("is a directory") {
        126
    } else {
        125
    };
    StatusError::new(with_help(err, "run"), code)
}

/// Go's wording of an OS error (`no such file or directory`), without Rust's
/// `(os error N)` suffix.
pub fn io_error_text(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => {
            let desc = nix::errno::Errno::from_raw(n).desc();
            let mut chars = desc.chars();
            match chars.next() {
                Some(first) => first.to_lowercase().chain(chars).collect(),
                None => e.to_string(),
            }
        }
        None => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_failures_map_to_dockers_exit_statuses() {
        let not_found = "Error response from daemon: failed to create task: exec: \"nosuch\": executable file not found in $PATH";
        assert_eq!(run_failure(not_found).code, 127);
        assert_eq!(
            run_failure("Error response from daemon: exec: \"/etc\": permission denied").code,
            126
        );
        assert_eq!(run_failure("Error response from daemon: boom").code, 125);
        let e = run_failure("boom");
        assert!(e.message.contains(": boom\n\nRun '"), "{}", e.message);
        assert!(e.message.ends_with(" run --help' for more information"));
    }

    #[test]
    fn os_errors_read_like_go() {
        let e = std::io::Error::from_raw_os_error(2);
        assert_eq!(io_error_text(&e), "no such file or directory");
    }
}
