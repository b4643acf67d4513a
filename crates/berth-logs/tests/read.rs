//! Writing logs with both drivers and reading them back: order, rotation, tail,
//! since/until, partial lines and following across rotations.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use berth_logs::{open_writer, read_log, LogEntry, LogWriter, ReadOptions, RotateOptions, Stream};
use futures_util::StreamExt;

const DRIVERS: [&str; 2] = ["json-file", "local"];

fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_428_000)
}

fn writer(driver: &str, path: &Path, opts: RotateOptions) -> Box<dyn LogWriter> {
    open_writer(driver, path, opts)
        .expect("known driver")
        .expect("open log")
}

/// Writes lines `line <i>` for i in `range`, entry i at t0 + i * `step`, stderr for
/// multiples of 7.
fn write_numbered(w: &mut dyn LogWriter, range: std::ops::Range<u32>, step: Duration) {
    for i in range {
        let stream = if i.is_multiple_of(7) {
            Stream::Stderr
        } else {
            Stream::Stdout
        };
        w.write(stream, format!("line {i}\n").as_bytes(), t0() + step * i)
            .unwrap();
    }
}

fn number(entry: &LogEntry) -> u32 {
    let text = std::str::from_utf8(&entry.line).unwrap();
    text.trim_end()
        .strip_prefix("line ")
        .unwrap_or_else(|| panic!("unexpected line {text:?}"))
        .parse()
        .unwrap()
}

fn read_all(driver: &str, path: &Path, opts: ReadOptions) -> Vec<LogEntry> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        read_log(driver, path, opts, std::future::pending())
            .map(|r| r.expect("read entry"))
            .collect()
            .await
    })
}

fn numbers(driver: &str, path: &Path, opts: ReadOptions) -> Vec<u32> {
    read_all(driver, path, opts).iter().map(number).collect()
}

/// Asserts `got` is exactly `want`, describing the first difference briefly.
fn assert_seq(got: &[u32], want: impl IntoIterator<Item = u32>, context: &str) {
    let want: Vec<u32> = want.into_iter().collect();
    if got != want.as_slice() {
        let at = got
            .iter()
            .zip(&want)
            .position(|(a, b)| a != b)
            .unwrap_or(got.len().min(want.len()));
        let around = |v: &[u32]| v[at.saturating_sub(2)..(at + 3).min(v.len())].to_vec();
        panic!(
            "{context}: got {} entries, want {}; first difference at index {at}: got {:?}, want {:?}",
            got.len(),
            want.len(),
            around(got),
            around(&want)
        );
    }
}

fn log_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("container.log")
}

#[test]
fn reads_back_every_entry_in_order_with_stream_and_time() {
    for driver in DRIVERS {
        let dir = tempfile::tempdir().unwrap();
        let path = log_path(&dir);
        let mut w = writer(driver, &path, RotateOptions::default());
        write_numbered(w.as_mut(), 0..20, Duration::from_millis(1));
        drop(w);
        let entries = read_all(driver, &path, ReadOptions::default());
        assert_eq!(entries.len(), 20, "{driver}");
        for (i, e) in entries.iter().enumerate() {
            let i = i as u32;
            assert_eq!(number(e), i, "{driver}");
            assert_eq!(e.time, t0() + Duration::from_millis(i.into()), "{driver}");
            let stream = if i.is_multiple_of(7) {
                Stream::Stderr
            } else {
                Stream::Stdout
            };
            assert_eq!(e.stream, stream, "{driver}");
            assert!(!e.partial && e.line.ends_with(b"\n"), "{driver}");
        }
    }
}

#[test]
fn rotation_keeps_max_file_files_and_reads_oldest_first() {
    for driver in DRIVERS {
        let dir = tempfile::tempdir().unwrap();
        let path = log_path(&dir);
        let opts = RotateOptions {
            max_size: Some(400),
            max_file: 3,
        };
        let mut w = writer(driver, &path, opts);
        write_numbered(w.as_mut(), 0..200, Duration::from_millis(1));
        drop(w);
        let rotated = |n: u32| PathBuf::from(format!("{}.{n}", path.display()));
        assert!(rotated(1).exists() && rotated(2).exists(), "{driver}");
        assert!(!rotated(3).exists(), "{driver}");
        for p in [path.clone(), rotated(1), rotated(2)] {
            let len = std::fs::metadata(&p).unwrap().len();
            assert!(len < 400 + 100, "{driver}: {} is {len} bytes", p.display());
        }
        let got = numbers(driver, &path, ReadOptions::default());
        let first = got[0];
        assert!(first > 0, "{driver}: old entries were dropped");
        assert_eq!(got, (first..200).collect::<Vec<_>>(), "{driver}");
    }
}

#[test]
fn max_file_one_keeps_only_the_current_file() {
    for driver in DRIVERS {
        let dir = tempfile::tempdir().unwrap();
        let path = log_path(&dir);
        let opts = RotateOptions {
            max_size: Some(300),
            max_file: 1,
        };
        let mut w = writer(driver, &path, opts);
        write_numbered(w.as_mut(), 0..100, Duration::from_millis(1));
        drop(w);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "{driver}"
        );
        let got = numbers(driver, &path, ReadOptions::default());
        assert_eq!(got.last(), Some(&99), "{driver}");
        assert!(got.len() < 100, "{driver}");
    }
}

#[test]
fn tail_counts_back_across_rotated_files() {
    for driver in DRIVERS {
        let dir = tempfile::tempdir().unwrap();
        let path = log_path(&dir);
        let opts = RotateOptions {
            max_size: Some(300),
            max_file: 20,
        };
        let mut w = writer(driver, &path, opts);
        write_numbered(w.as_mut(), 0..100, Duration::from_millis(1));
        drop(w);
        let tail = |n| {
            numbers(
                driver,
                &path,
                ReadOptions {
                    tail: Some(n),
                    ..Default::default()
                },
            )
        };
        // 300-byte files hold ~10-20 entries: 45 spans several files.
        assert_eq!(tail(45), (55..100).collect::<Vec<_>>(), "{driver}");
        assert_eq!(tail(1), vec![99], "{driver}");
        assert_eq!(tail(0), Vec::<u32>::new(), "{driver}");
        assert_eq!(tail(1000), (0..100).collect::<Vec<_>>(), "{driver}");
    }
}

#[test]
fn tail_ignores_an_unfinished_last_json_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_path(&dir);
    let mut w = writer("json-file", &path, RotateOptions::default());
    write_numbered(w.as_mut(), 0..10, Duration::from_millis(1));
    drop(w);
    // A reader may see a write in progress.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    std::io::Write::write_all(&mut f, b"{\"log\":\"line 10\\n\",\"str").unwrap();
    let got = numbers(
        "json-file",
        &path,
        ReadOptions {
            tail: Some(3),
            ..Default::default()
        },
    );
    assert_eq!(got, vec![7, 8, 9]);
}

#[test]
fn since_and_until_select_a_time_window() {
    for driver in DRIVERS {
        let dir = tempfile::tempdir().unwrap();
        let path = log_path(&dir);
        // Big enough files that the search bisects instead of scanning.
        let opts = RotateOptions {
            max_size: Some(200_000),
            max_file: 10,
        };
        let mut w = writer(driver, &path, opts);
        write_numbered(w.as_mut(), 0..20_000, Duration::from_secs(1));
        drop(w);
        let at = |i: u64| Some(t0() + Duration::from_secs(i));
        let window = |since, until| {
            numbers(
                driver,
                &path,
                ReadOptions {
                    since,
                    until,
                    ..Default::default()
                },
            )
        };
        assert_eq!(
            window(at(12_345), at(12_350)),
            (12_345..=12_350).collect::<Vec<_>>(),
            "{driver}"
        );
        // Between two entries: starts with the next one.
        let half = Some(t0() + Duration::from_millis(15_000_500));
        assert_eq!(
            window(half, at(15_003)),
            vec![15_001, 15_002, 15_003],
            "{driver}"
        );
        assert_eq!(window(at(19_998), None), vec![19_998, 19_999], "{driver}");
        assert_eq!(window(None, at(2)), vec![0, 1, 2], "{driver}");
        assert_eq!(window(at(30_000), None), Vec::<u32>::new(), "{driver}");
        assert_eq!(window(None, None).len(), 20_000, "{driver}");
        // tail is taken first, then since applies (as Docker).
        let got = numbers(
            driver,
            &path,
            ReadOptions {
                tail: Some(10),
                since: at(19_995),
                ..Default::default()
            },
        );
        assert_eq!(got, (19_995..20_000).collect::<Vec<_>>(), "{driver}");
    }
}

#[test]
fn long_lines_come_back_as_partial_pieces() {
    for driver in DRIVERS {
        let dir = tempfile::tempdir().unwrap();
        let path = log_path(&dir);
        let mut w = writer(driver, &path, RotateOptions::default());
        let long = vec![b'x'; 40_000];
        for chunk in long.chunks(1000) {
            w.write(Stream::Stdout, chunk, t0()).unwrap();
        }
        w.write(Stream::Stderr, b"between\n", t0() + Duration::from_secs(1))
            .unwrap();
        w.write(
            Stream::Stdout,
            b"\nunterminated",
            t0() + Duration::from_secs(2),
        )
        .unwrap();
        w.flush_partial().unwrap();
        drop(w);
        let entries = read_all(driver, &path, ReadOptions::default());
        let shape: Vec<(Stream, usize, bool)> = entries
            .iter()
            .map(|e| (e.stream, e.line.len(), e.partial))
            .collect();
        assert_eq!(
            shape,
            vec![
                (Stream::Stdout, 16_384, true),
                (Stream::Stdout, 16_384, true),
                (Stream::Stderr, 8, false),
                (Stream::Stdout, 40_000 - 2 * 16_384 + 1, false),
                (Stream::Stdout, 12, true),
            ],
            "{driver}"
        );
        // The pieces of one line share its first timestamp.
        assert_eq!(entries[3].time, t0(), "{driver}");
        let joined: Vec<u8> = [&entries[0], &entries[1], &entries[3]]
            .iter()
            .flat_map(|e| e.line.clone())
            .collect();
        assert_eq!(joined.len(), 40_001);
        assert_eq!(entries[4].line, b"unterminated");
    }
}

#[test]
fn unknown_driver_is_an_error() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let got: Vec<_> = rt.block_on(
        read_log(
            "syslog",
            Path::new("/nonexistent"),
            ReadOptions::default(),
            async {},
        )
        .collect(),
    );
    assert_eq!(got.len(), 1);
    assert!(got[0].is_err());
}

#[test]
fn missing_log_reads_as_empty() {
    let dir = tempfile::tempdir().unwrap();
    assert!(read_all("json-file", &log_path(&dir), ReadOptions::default()).is_empty());
}

/// A writer thread producing `count` lines with rotations while a follower reads; the
/// follower is stopped once the writer is done.
fn follow_while_writing(
    driver: &str,
    opts: RotateOptions,
    count: u32,
    tail: Option<usize>,
) -> Vec<u32> {
    let dir = tempfile::tempdir().unwrap();
    let path = log_path(&dir);
    let mut w = writer(driver, &path, opts);
    write_numbered(w.as_mut(), 0..10, Duration::from_millis(1));
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let stop = async move {
            let _ = stop_rx.await;
        };
        let read_opts = ReadOptions {
            follow: true,
            tail,
            ..Default::default()
        };
        let reader = tokio::spawn(
            read_log(driver, &path, read_opts, stop)
                .map(|r| number(&r.expect("follow entry")))
                .collect::<Vec<_>>(),
        );
        let writing = tokio::task::spawn_blocking(move || {
            for start in (10..count).step_by(20) {
                write_numbered(
                    w.as_mut(),
                    start..(start + 20).min(count),
                    Duration::from_millis(1),
                );
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        writing.await.unwrap();
        stop_tx.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(10), reader)
            .await
            .expect("follower ends after stop")
            .unwrap()
    })
}

#[test]
fn follow_crosses_rotations_without_gaps_or_duplicates() {
    for driver in DRIVERS {
        // 20-40 entries per file, ~50 rotations, several per poll interval; all files
        // kept, so none can be deleted before the follower gets to it.
        let opts = RotateOptions {
            max_size: Some(1500),
            max_file: 100,
        };
        let got = follow_while_writing(driver, opts, 1500, None);
        assert_seq(&got, 0..1500, driver);
    }
}

#[test]
fn follow_with_tail_zero_gets_only_new_entries() {
    for driver in DRIVERS {
        let opts = RotateOptions {
            max_size: Some(2000),
            max_file: 50,
        };
        let got = follow_while_writing(driver, opts, 300, Some(0));
        // The follower starts while the writer runs: it sees a suffix of the new entries.
        let first = *got.first().expect("new entries arrive");
        assert!(first >= 10, "{driver}: old entry {first} with tail 0");
        assert_seq(&got, first..300, driver);
    }
}

#[test]
fn follow_waits_for_the_log_to_appear_and_ends_on_stop() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_path(&dir);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let got = rt.block_on(async {
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let read_opts = ReadOptions {
            follow: true,
            ..Default::default()
        };
        let mut stream = Box::pin(read_log("json-file", &path, read_opts, async move {
            let _ = stop_rx.await;
        }));
        let first = tokio::spawn({
            let path = path.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                let mut w = writer("json-file", &path, RotateOptions::default());
                write_numbered(w.as_mut(), 0..3, Duration::from_millis(1));
            }
        });
        let mut got = Vec::new();
        while got.len() < 3 {
            let next = tokio::time::timeout(Duration::from_secs(5), stream.next()).await;
            got.push(number(&next.expect("entry arrives").unwrap().unwrap()));
        }
        first.await.unwrap();
        stop_tx.send(()).unwrap();
        let end = tokio::time::timeout(Duration::from_secs(5), stream.next()).await;
        assert!(end.expect("stream ends after stop").is_none());
        got
    });
    assert_eq!(got, vec![0, 1, 2]);
}
