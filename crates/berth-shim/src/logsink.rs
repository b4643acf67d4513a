//! The container's log file: every output chunk goes to it as it arrives, so a container
//! never waits for the daemon.

use std::io;
use std::time::SystemTime;

use berth_logs::{JsonFileWriter, LocalWriter, RotateOptions, Stream};

use crate::config::LogTarget;
use crate::frame::StreamKind;

pub enum LogSink {
    JsonFile(JsonFileWriter),
    Local(LocalWriter),
}

impl LogSink {
    pub fn open(target: &LogTarget) -> io::Result<Self> {
        let opts = RotateOptions {
            max_size: target.max_size,
            max_file: target.max_file,
        };
        match target.driver.as_str() {
            berth_logs::JSON_FILE => Ok(Self::JsonFile(
                JsonFileWriter::open(&target.path, opts)?.with_attrs(&target.attrs),
            )),
            berth_logs::LOCAL => Ok(Self::Local(
                LocalWriter::open(&target.path, opts)?.with_attrs(&target.attrs),
            )),
            other => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("the shim cannot write logs for driver {other:?}"),
            )),
        }
    }

    /// Writes a chunk. A failing log must not stop the container, so errors are the
    /// caller's to ignore.
    pub fn write(&mut self, stream: StreamKind, chunk: &[u8], time: SystemTime) -> io::Result<()> {
        let stream = match stream {
            StreamKind::Stdout => Stream::Stdout,
            StreamKind::Stderr => Stream::Stderr,
        };
        match self {
            Self::JsonFile(w) => w.write(stream, chunk, time),
            Self::Local(w) => w.write(stream, chunk, time),
        }
    }

    /// Writes out an unterminated last line.
    pub fn finish(&mut self) -> io::Result<()> {
        match self {
            Self::JsonFile(w) => w.flush_partial(),
            Self::Local(w) => w.flush_partial(),
        }
    }
}
