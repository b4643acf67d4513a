//! Container log drivers in Docker's on-disk formats.
//!
//! Owns the two file drivers Docker ships, `json-file` and `local`: the writers the
//! per-container shim feeds with raw stdout/stderr chunks (synchronous, single-threaded:
//! line splitting with Docker's 16 KiB partial-message rule, encoding, size-based
//! rotation), and the reader the daemon serves `GET /containers/{id}/logs` from (tokio:
//! rotated files oldest first, `tail` by seeking from the end, `since`/`until` by skipping
//! whole files and binary searching, `follow` across rotations).
//!
//! It must not know about containers, the HTTP API or its stream framing: its inputs are a
//! file path, raw bytes and timestamps.

#[cfg(test)]
mod golden_tests;
mod jsonfile;
mod lines;
mod local;
mod read;
mod rotate;
mod timefmt;

use std::time::SystemTime;

pub use jsonfile::JsonFileWriter;
pub use local::LocalWriter;
pub use read::{read_log, ReadOptions};
pub use timefmt::{format_rfc3339_nano, format_rfc3339_nano_fixed, parse_rfc3339};

/// The driver names Docker uses in `HostConfig.LogConfig.Type`.
pub const JSON_FILE: &str = "json-file";
/// See [`JSON_FILE`].
pub const LOCAL: &str = "local";

/// Which container output a chunk or entry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    /// The name Docker stores in the log (`"stdout"` / `"stderr"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }

    /// Parses a stored stream name.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "stdout" => Some(Stream::Stdout),
            "stderr" => Some(Stream::Stderr),
            _ => None,
        }
    }

    fn index(self) -> usize {
        match self {
            Stream::Stdout => 0,
            Stream::Stderr => 1,
        }
    }
}

/// Size-based rotation, Docker's `max-size` / `max-file` log options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotateOptions {
    /// Rotate before writing once the current file holds at least this many bytes;
    /// `None` never rotates.
    pub max_size: Option<u64>,
    /// How many files to keep, the current one included (`path`, `path.1`, …,
    /// `path.{max_file-1}`); 1 (or 0) starts the current file afresh on rotation.
    pub max_file: u32,
}

impl Default for RotateOptions {
    /// json-file's defaults: no rotation.
    fn default() -> Self {
        RotateOptions {
            max_size: None,
            max_file: 1,
        }
    }
}

/// A log driver's writer, for callers that pick the driver at run time.
pub trait LogWriter: Send {
    /// See [`JsonFileWriter::write`].
    fn write(&mut self, stream: Stream, chunk: &[u8], time: SystemTime) -> std::io::Result<()>;
    /// See [`JsonFileWriter::flush_partial`].
    fn flush_partial(&mut self) -> std::io::Result<()>;
}

impl LogWriter for JsonFileWriter {
    fn write(&mut self, stream: Stream, chunk: &[u8], time: SystemTime) -> std::io::Result<()> {
        JsonFileWriter::write(self, stream, chunk, time)
    }
    fn flush_partial(&mut self) -> std::io::Result<()> {
        JsonFileWriter::flush_partial(self)
    }
}

impl LogWriter for LocalWriter {
    fn write(&mut self, stream: Stream, chunk: &[u8], time: SystemTime) -> std::io::Result<()> {
        LocalWriter::write(self, stream, chunk, time)
    }
    fn flush_partial(&mut self) -> std::io::Result<()> {
        LocalWriter::flush_partial(self)
    }
}

/// Opens the writer of `driver` (`"json-file"` or `"local"`); `None` for other drivers.
pub fn open_writer(
    driver: &str,
    path: &std::path::Path,
    opts: RotateOptions,
) -> Option<std::io::Result<Box<dyn LogWriter>>> {
    fn boxed<W: LogWriter + 'static>(w: std::io::Result<W>) -> std::io::Result<Box<dyn LogWriter>> {
        w.map(|w| Box::new(w) as Box<dyn LogWriter>)
    }
    match driver {
        JSON_FILE => Some(boxed(JsonFileWriter::open(path, opts))),
        LOCAL => Some(boxed(LocalWriter::open(path, opts))),
        _ => None,
    }
}

/// One decoded log message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub stream: Stream,
    pub time: SystemTime,
    /// The bytes as Docker returns them: a complete line ends with `\n`; a piece of a
    /// longer line (or an unterminated last line) does not.
    pub line: Vec<u8>,
    /// True when this entry does not end a line (more pieces may follow).
    pub partial: bool,
    /// The extra attributes stored with the entry (`--log-opt labels/env/tag…`), in
    /// stored order.
    pub attrs: Vec<(String, String)>,
}

/// Extra attributes a writer stores with every entry, by key (moby's
/// `Info.ExtraAttributes` plus `tag`).
pub type LogAttrs = std::collections::BTreeMap<String, String>;
