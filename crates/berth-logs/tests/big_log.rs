//! `tail` and `since` on big logs read a little from the end or bisect, instead of
//! decoding everything: measured with the process's read byte counter, so this file
//! holds a single test (tests in one binary share the process).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use berth_logs::{
    format_rfc3339_nano, read_log, LocalWriter, LogEntry, ReadOptions, RotateOptions, Stream,
};
use futures_util::StreamExt;

const MIB: u64 = 1024 * 1024;

fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_428_000)
}

fn time_of(i: u64) -> SystemTime {
    t0() + Duration::from_millis(i)
}

/// Bytes this process has read so far (`rchar` in /proc/self/io, all threads).
fn bytes_read() -> u64 {
    let io = std::fs::read_to_string("/proc/self/io").expect("read /proc/self/io");
    io.lines()
        .find_map(|l| l.strip_prefix("rchar: "))
        .and_then(|v| v.trim().parse().ok())
        .expect("rchar in /proc/self/io")
}

fn rotated(path: &Path, n: u32) -> PathBuf {
    PathBuf::from(format!("{}.{n}", path.display()))
}

const PADDING: &str = "................................................................................................................................................";

/// Writes json-file entries `line <i> ...` at t0 + i ms into `files` files of
/// `lines_per_file` lines each, named like a rotated log (oldest = `path.{files-1}`).
fn write_json_log(path: &Path, files: u32, lines_per_file: u64) -> u64 {
    let mut i = 0;
    for n in (0..files).rev() {
        let name = if n == 0 {
            path.to_path_buf()
        } else {
            rotated(path, n)
        };
        let mut out = BufWriter::with_capacity(1 << 20, File::create(name).unwrap());
        for _ in 0..lines_per_file {
            writeln!(
                out,
                "{{\"log\":\"line {i} {PADDING}\\n\",\"stream\":\"stdout\",\"time\":\"{}\"}}",
                format_rfc3339_nano(time_of(i))
            )
            .unwrap();
            i += 1;
        }
        out.flush().unwrap();
    }
    i
}

fn number(entry: &LogEntry) -> u64 {
    let text = std::str::from_utf8(&entry.line).unwrap();
    text.split(' ')
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{text:?}"))
}

/// Reads with `opts`, returning the entry numbers and the bytes read meanwhile.
fn measured(
    rt: &tokio::runtime::Runtime,
    driver: &str,
    path: &Path,
    opts: ReadOptions,
) -> (Vec<u64>, u64) {
    let opts_desc = format!("{opts:?}");
    let before = bytes_read();
    let got: Vec<u64> = rt.block_on(
        read_log(driver, path, opts, std::future::pending())
            .map(|e| number(&e.expect("entry")))
            .collect(),
    );
    let read = bytes_read() - before;
    eprintln!(
        "{driver} {opts_desc}: {} entries, {read} bytes read",
        got.len()
    );
    (got, read)
}

#[test]
fn tail_and_since_read_a_small_part_of_big_logs() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();

    // json-file: 200 MiB in ten 20 MiB files.
    let json = dir.path().join("json.log");
    let total = write_json_log(&json, 10, 100_000);
    let size: u64 = (0..10)
        .map(|n| {
            std::fs::metadata(if n == 0 {
                json.clone()
            } else {
                rotated(&json, n)
            })
            .unwrap()
            .len()
        })
        .sum();
    assert!(size >= 200 * MIB, "log is only {size} bytes");

    let (got, read) = measured(
        &rt,
        "json-file",
        &json,
        ReadOptions {
            tail: Some(100),
            ..Default::default()
        },
    );
    assert_eq!(got, ((total - 100)..total).collect::<Vec<_>>());
    assert!(read < MIB, "tail 100 read {read} bytes of {size}");

    // Spans the current file and the newest rotated one.
    let (got, read) = measured(
        &rt,
        "json-file",
        &json,
        ReadOptions {
            tail: Some(100_050),
            ..Default::default()
        },
    );
    assert_eq!(got.first(), Some(&(total - 100_050)));
    assert_eq!(got.len(), 100_050);
    assert!(read < 50 * MIB, "tail 100050 read {read} bytes of {size}");

    let (since, until) = (431_234, 431_240);
    let opts = ReadOptions {
        since: Some(time_of(since)),
        until: Some(time_of(until)),
        ..Default::default()
    };
    let (got, read) = measured(&rt, "json-file", &json, opts);
    assert_eq!(got, (since..=until).collect::<Vec<_>>());
    assert!(read < 4 * MIB, "since/until read {read} bytes of {size}");

    // local: 50 MiB in one file.
    let local = dir.path().join("local.log");
    let mut w = LocalWriter::open(&local, RotateOptions::default()).unwrap();
    let mut i = 0u64;
    while std::fs::metadata(&local).unwrap().len() < 50 * MIB {
        let mut chunk = String::new();
        for _ in 0..1000 {
            chunk.push_str(&format!("line {i} {PADDING}\n"));
            i += 1;
        }
        // One chunk at one time: give every line its own time by writing line by line.
        for (k, line) in chunk.split_inclusive('\n').enumerate() {
            w.write(
                Stream::Stdout,
                line.as_bytes(),
                time_of(i - 1000 + k as u64),
            )
            .unwrap();
        }
    }
    drop(w);
    let size = std::fs::metadata(&local).unwrap().len();

    let (got, read) = measured(
        &rt,
        "local",
        &local,
        ReadOptions {
            tail: Some(100),
            ..Default::default()
        },
    );
    assert_eq!(got, ((i - 100)..i).collect::<Vec<_>>());
    assert!(read < MIB, "local tail read {read} bytes of {size}");

    let since = i / 3;
    let opts = ReadOptions {
        since: Some(time_of(since)),
        until: Some(time_of(since + 3)),
        ..Default::default()
    };
    let (got, read) = measured(&rt, "local", &local, opts);
    assert_eq!(got, (since..=since + 3).collect::<Vec<_>>());
    assert!(read < 4 * MIB, "local since read {read} bytes of {size}");
}
