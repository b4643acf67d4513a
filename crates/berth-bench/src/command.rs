//! Times whole runs of a command (a client round trip such as `docker version`).

use std::io;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("no command given")]
    Empty,
    #[error("starting {program}: {source}")]
    Spawn { program: String, source: io::Error },
    #[error("{program} exited with {status}: {stderr}")]
    Failed {
        program: String,
        status: std::process::ExitStatus,
        stderr: String,
    },
}

/// Runs `argv` `warmup` times untimed, then `count` times timed, each run from spawn to
/// exit with its output collected; any failing run fails the whole loop.
pub fn time_runs(
    argv: &[String],
    warmup: usize,
    count: usize,
) -> Result<Vec<Duration>, CommandError> {
    let (program, args) = argv.split_first().ok_or(CommandError::Empty)?;
    let run_once = || -> Result<Duration, CommandError> {
        let start = Instant::now();
        let output = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|source| CommandError::Spawn {
                program: program.clone(),
                source,
            })?;
        let elapsed = start.elapsed();
        if !output.status.success() {
            return Err(CommandError::Failed {
                program: program.clone(),
                status: output.status,
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            });
        }
        Ok(elapsed)
    };
    for _ in 0..warmup {
        run_once()?;
    }
    (0..count).map(|_| run_once()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn one_sample_per_counted_run() {
        let samples = time_runs(&argv(&["true"]), 1, 4).unwrap();
        assert_eq!(samples.len(), 4);
    }

    #[test]
    fn sample_covers_the_whole_run() {
        let samples = time_runs(&argv(&["sleep", "0.05"]), 0, 1).unwrap();
        assert!(samples[0] >= Duration::from_millis(50), "{:?}", samples[0]);
    }

    #[test]
    fn failing_run_reports_its_stderr() {
        let err = time_runs(&argv(&["sh", "-c", "echo boom >&2; exit 3"]), 0, 2).unwrap_err();
        match err {
            CommandError::Failed { stderr, status, .. } => {
                assert_eq!(stderr, "boom");
                assert_eq!(status.code(), Some(3));
            }
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn missing_program_is_a_spawn_error() {
        let err = time_runs(&argv(&["/nonexistent/berth-bench-prog"]), 0, 1).unwrap_err();
        assert!(matches!(err, CommandError::Spawn { .. }), "{err}");
    }

    #[test]
    fn empty_argv_is_rejected() {
        assert!(matches!(time_runs(&[], 0, 1), Err(CommandError::Empty)));
    }
}
