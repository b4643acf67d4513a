//! The exit status: Docker's exit-code convention and the atomic `exit.json`.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use nix::sys::wait::WaitStatus;

use crate::config::ExitStatus;

/// The file a shim leaves in its state directory when its process has ended.
pub const EXIT_FILE: &str = "exit.json";

/// Docker's exit code: the process's own code, or 128 + the signal that killed it.
/// `None` for statuses that are not an end (stopped, continued, …).
pub fn exit_code(status: WaitStatus) -> Option<i32> {
    match status {
        WaitStatus::Exited(_, code) => Some(code),
        WaitStatus::Signaled(_, signal, _) => Some(128 + signal as i32),
        _ => None,
    }
}

/// `time` as Go's `RFC3339Nano` prints it: UTC, fraction without trailing zeros.
pub fn rfc3339_nano(time: SystemTime) -> String {
    let t: DateTime<Utc> = time.into();
    let base = t.format("%Y-%m-%dT%H:%M:%S").to_string();
    let nanos = format!("{:09}", t.timestamp_subsec_nanos());
    let fraction = nanos.trim_end_matches('0');
    if fraction.is_empty() {
        format!("{base}Z")
    } else {
        format!("{base}.{fraction}Z")
    }
}

/// Writes `exit.json` so that a reader sees either nothing or the whole status: temp
/// file, rename. No fsync: the state directory is under the exec-root (runtime state);
/// the file must outlive this shim and a daemon that is down or killed, which the page
/// cache does, not the machine (after a reboot the daemon marks the container exited).
pub fn write_exit(state_dir: &Path, status: &ExitStatus) -> io::Result<()> {
    let tmp: PathBuf = state_dir.join(format!(".{EXIT_FILE}.tmp"));
    fs::write(&tmp, serde_json::to_vec(status).map_err(io::Error::other)?)?;
    fs::rename(&tmp, state_dir.join(EXIT_FILE))
}

/// The recorded exit status, if the shim wrote one.
pub fn read_exit(state_dir: &Path) -> Option<ExitStatus> {
    let bytes = fs::read(state_dir.join(EXIT_FILE)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use nix::sys::signal::Signal;
    use nix::unistd::Pid;

    use super::*;

    #[test]
    fn exit_codes_follow_docker() {
        let pid = Pid::from_raw(42);
        assert_eq!(exit_code(WaitStatus::Exited(pid, 3)), Some(3));
        assert_eq!(
            exit_code(WaitStatus::Signaled(pid, Signal::SIGKILL, false)),
            Some(137)
        );
        assert_eq!(
            exit_code(WaitStatus::Signaled(pid, Signal::SIGTERM, true)),
            Some(143)
        );
        assert_eq!(exit_code(WaitStatus::Stopped(pid, Signal::SIGSTOP)), None);
    }

    #[test]
    fn finished_at_is_go_rfc3339_nano() {
        let t = SystemTime::UNIX_EPOCH + Duration::new(1_700_000_000, 120_000_000);
        assert_eq!(rfc3339_nano(t), "2023-11-14T22:13:20.12Z");
        let t = SystemTime::UNIX_EPOCH + Duration::new(1_700_000_000, 0);
        assert_eq!(rfc3339_nano(t), "2023-11-14T22:13:20Z");
        let t = SystemTime::UNIX_EPOCH + Duration::new(1_700_000_000, 1);
        assert_eq!(rfc3339_nano(t), "2023-11-14T22:13:20.000000001Z");
    }

    #[test]
    fn exit_status_is_written_whole_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_exit(dir.path()), None);
        let status = ExitStatus {
            exit_code: 137,
            oom_killed: true,
            finished_at: "2023-11-14T22:13:20.12Z".into(),
            error: None,
        };
        write_exit(dir.path(), &status).unwrap();
        assert_eq!(read_exit(dir.path()), Some(status.clone()));
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from(EXIT_FILE)]);

        // A second write replaces the first.
        let again = ExitStatus {
            exit_code: 0,
            ..status
        };
        write_exit(dir.path(), &again).unwrap();
        assert_eq!(read_exit(dir.path()), Some(again));
    }
}
