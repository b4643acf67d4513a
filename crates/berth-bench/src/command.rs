//! Times whole runs of a command (a client round trip such as `docker version`), one after
//! another or several started at once.

use std::io;
use std::process::{Command, Stdio};
use std::sync::Barrier;
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
    for _ in 0..warmup {
        run_once(program, args)?;
    }
    (0..count).map(|_| run_once(program, args)).collect()
}

/// One round of runs started together: the time from their common start to the last exit,
/// and each run's own spawn-to-exit time.
#[derive(Debug, Clone, PartialEq)]
pub struct ParallelRound {
    pub wall: Duration,
    pub runs: Vec<Duration>,
}

/// Runs `jobs` copies of `argv` at once (each on its own thread, released together by a
/// barrier), `warmup` untimed rounds first; any failing run fails the whole round.
pub fn time_parallel(
    argv: &[String],
    warmup: usize,
    jobs: usize,
) -> Result<ParallelRound, CommandError> {
    let (program, args) = argv.split_first().ok_or(CommandError::Empty)?;
    for _ in 0..warmup {
        parallel_round(program, args, jobs)?;
    }
    parallel_round(program, args, jobs)
}

fn parallel_round(
    program: &str,
    args: &[String],
    jobs: usize,
) -> Result<ParallelRound, CommandError> {
    let barrier = Barrier::new(jobs);
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..jobs)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    let started = Instant::now();
                    run_once(program, args).map(|took| (started, took))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a timing thread panicked"))
            .collect()
    });
    let runs = results
        .into_iter()
        .collect::<Result<Vec<(Instant, Duration)>, _>>()?;
    // From the first spawn to the last exit.
    let first = runs.iter().map(|(started, _)| *started).min();
    let last = runs.iter().map(|(started, took)| *started + *took).max();
    let wall = match (first, last) {
        (Some(first), Some(last)) => last - first,
        _ => Duration::ZERO,
    };
    Ok(ParallelRound {
        wall,
        runs: runs.into_iter().map(|(_, took)| took).collect(),
    })
}

/// One run of the command from spawn to exit, its output collected.
fn run_once(program: &str, args: &[String]) -> Result<Duration, CommandError> {
    let start = Instant::now();
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| CommandError::Spawn {
            program: program.to_owned(),
            source,
        })?;
    let elapsed = start.elapsed();
    if !output.status.success() {
        return Err(CommandError::Failed {
            program: program.to_owned(),
            status: output.status,
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    Ok(elapsed)
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
    fn parallel_round_has_one_sample_per_job() {
        let round = time_parallel(&argv(&["true"]), 1, 4).unwrap();
        assert_eq!(round.runs.len(), 4);
        assert!(round.runs.iter().all(|r| *r <= round.wall), "{round:?}");
    }

    #[test]
    fn parallel_runs_overlap() {
        let round = time_parallel(&argv(&["sleep", "0.3"]), 0, 4).unwrap();
        assert!(round.wall >= Duration::from_millis(300), "{round:?}");
        // Four sequential sleeps would take 1.2 s.
        assert!(round.wall < Duration::from_millis(900), "{round:?}");
        assert!(round.runs.iter().all(|r| *r >= Duration::from_millis(300)));
    }

    #[test]
    fn failing_parallel_run_fails_the_round() {
        let err = time_parallel(&argv(&["sh", "-c", "exit 4"]), 0, 3).unwrap_err();
        assert!(matches!(err, CommandError::Failed { .. }), "{err}");
    }

    #[test]
    fn empty_argv_is_rejected() {
        assert!(matches!(time_runs(&[], 0, 1), Err(CommandError::Empty)));
    }
}
