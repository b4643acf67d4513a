//! Reading a log back for `GET /containers/{id}/logs`: the rotated files oldest first,
//! then the current one, optionally following it across rotations.

mod cursor;
mod format;

use std::future::Future;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::time::{Duration, SystemTime};

use futures_util::stream::{self, Stream, StreamExt};

use crate::LogEntry;
use cursor::{Cursor, Step};
use format::Format;

/// How long a follower waits before looking for new data again.
const FOLLOW_POLL: Duration = Duration::from_millis(150);

/// What to read, as `docker logs` asks for it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// Skip entries older than this (until the first that is not, as Docker does).
    pub since: Option<SystemTime>,
    /// Stop at the first entry newer than this.
    pub until: Option<SystemTime>,
    /// Only the last N entries (counted before `since`/`until` apply, as Docker does);
    /// `None` is all.
    pub tail: Option<usize>,
    /// After the existing entries, keep reading new ones until `stop` resolves.
    pub follow: bool,
}

type StopFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

enum State {
    Unopened {
        format: Format,
        path: std::path::PathBuf,
        opts: ReadOptions,
    },
    Reading(Box<Cursor>),
    Done,
}

struct Reader {
    state: State,
    stop: StopFuture,
    stopped: bool,
}

/// Reads the log at `path` written by `driver` (`"json-file"` or `"local"`).
///
/// With `follow`, the stream waits for new entries (polling every 150 ms, following the
/// writer's rotations) until `stop` resolves, then yields what was written up to then
/// and ends. Errors are yielded in-band; an unknown driver yields one error. Must be
/// polled inside a tokio runtime (file reads run on its blocking pool).
pub fn read_log(
    driver: &str,
    path: &Path,
    opts: ReadOptions,
    stop: impl Future<Output = ()> + Send + 'static,
) -> impl Stream<Item = io::Result<LogEntry>> + Send {
    let state = match Format::from_driver(driver) {
        Some(format) => State::Unopened {
            format,
            path: path.to_path_buf(),
            opts,
        },
        None => State::Done,
    };
    let unknown = matches!(state, State::Done).then(|| {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!("configured logging driver does not support reading: {driver}"),
        ))
    });
    let reader = Reader {
        state,
        stop: Box::pin(stop),
        stopped: false,
    };
    stream::iter(unknown).chain(stream::unfold(reader, next_batch).flat_map(stream::iter))
}

async fn next_batch(mut reader: Reader) -> Option<(Vec<io::Result<LogEntry>>, Reader)> {
    loop {
        let state = std::mem::replace(&mut reader.state, State::Done);
        let (cursor, step) = match state {
            State::Done => return None,
            State::Unopened { format, path, opts } => {
                let opened =
                    tokio::task::spawn_blocking(move || Cursor::open(format, &path, &opts)).await;
                match opened.map_err(io::Error::other).and_then(|r| r) {
                    Ok(cursor) => {
                        reader.state = State::Reading(Box::new(cursor));
                        continue;
                    }
                    Err(e) => return Some((vec![Err(e)], reader)),
                }
            }
            State::Reading(cursor) => {
                let stepped = tokio::task::spawn_blocking(move || {
                    let mut cursor = cursor;
                    let step = cursor.step();
                    (cursor, step)
                })
                .await;
                match stepped {
                    Ok(done) => done,
                    Err(e) => return Some((vec![Err(io::Error::other(e))], reader)),
                }
            }
        };
        let batch = match step {
            Step::More(batch) => batch,
            Step::End(batch) => {
                // state stays Done
                return (!batch.is_empty()).then_some((batch, reader));
            }
            Step::Idle(batch) => {
                if reader.stopped {
                    // Drained after the stop: done.
                    return (!batch.is_empty()).then_some((batch, reader));
                }
                if batch.is_empty() {
                    tokio::select! {
                        () = &mut reader.stop => reader.stopped = true,
                        () = tokio::time::sleep(FOLLOW_POLL) => {}
                    }
                }
                batch
            }
        };
        reader.state = State::Reading(cursor);
        if !batch.is_empty() {
            return Some((batch, reader));
        }
        // An empty batch: step again rather than yield nothing.
    }
}
