//! Docker's `local` driver: each entry is a protobuf `LogEntry`
//! (moby `daemon/logger/internal/logdriver/entry.proto`) framed by its length as a
//! big-endian u32 before and after, so the file can be walked in both directions.

use std::io;
use std::path::Path;
use std::time::{Duration, SystemTime};

use prost::Message as _;

use crate::lines::{LineSplitter, Message};
use crate::rotate::RotatingFile;
use crate::{LogAttrs, LogEntry, RotateOptions, Stream};

/// Bytes of each length field around a record.
pub(crate) const FRAME_LEN: usize = 4;
/// moby `local/read.go` `maxMsgLen`: longer records are treated as corruption.
pub(crate) const MAX_RECORD_LEN: usize = 1_000_000;

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct LogEntryProto {
    #[prost(string, tag = "1")]
    pub source: String,
    #[prost(int64, tag = "2")]
    pub time_nano: i64,
    #[prost(bytes = "vec", tag = "3")]
    pub line: Vec<u8>,
    #[prost(bool, tag = "4")]
    pub partial: bool,
    #[prost(message, optional, tag = "5")]
    pub partial_log_metadata: Option<PartialLogEntryMetadata>,
    #[prost(message, repeated, tag = "6")]
    pub attrs: Vec<LogAttr>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct PartialLogEntryMetadata {
    #[prost(bool, tag = "1")]
    pub last: bool,
    #[prost(string, tag = "2")]
    pub id: String,
    #[prost(int32, tag = "3")]
    pub ordinal: i32,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct LogAttr {
    #[prost(string, tag = "1")]
    pub key: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

/// Writes a container's output in the `local` format.
#[derive(Debug)]
pub struct LocalWriter {
    file: RotatingFile,
    lines: LineSplitter,
    buf: Vec<u8>,
    /// Stored with every record, sorted by key then value as moby sorts them.
    attrs: Vec<LogAttr>,
}

impl LocalWriter {
    /// Opens (appending to) or creates `path` with mode 0640.
    pub fn open(path: &Path, opts: RotateOptions) -> io::Result<Self> {
        Ok(LocalWriter {
            file: RotatingFile::open(path, opts)?,
            lines: LineSplitter::default(),
            buf: Vec::with_capacity(256),
            attrs: Vec::new(),
        })
    }

    /// Stores `attrs` with every record from now on (see [`crate::JsonFileWriter::with_attrs`]).
    pub fn with_attrs(mut self, attrs: &LogAttrs) -> Self {
        self.attrs = attrs
            .iter()
            .map(|(key, value)| LogAttr {
                key: key.clone(),
                value: value.clone(),
            })
            .collect();
        self
    }

    /// Logs a chunk of raw output received at `time` (see [`crate::JsonFileWriter::write`]).
    pub fn write(&mut self, stream: Stream, chunk: &[u8], time: SystemTime) -> io::Result<()> {
        let (file, buf, attrs) = (&mut self.file, &mut self.buf, &self.attrs);
        self.lines.write(stream, chunk, time, |msg| {
            write_message(file, buf, msg, attrs)
        })
    }

    /// Writes out lines still waiting for their newline.
    pub fn flush_partial(&mut self) -> io::Result<()> {
        let (file, buf, attrs) = (&mut self.file, &mut self.buf, &self.attrs);
        self.lines.flush(SystemTime::now(), |msg| {
            write_message(file, buf, msg, attrs)
        })
    }
}

fn write_message(
    file: &mut RotatingFile,
    buf: &mut Vec<u8>,
    msg: &Message<'_>,
    attrs: &[LogAttr],
) -> io::Result<()> {
    buf.clear();
    encode_record(buf, msg, attrs);
    file.write_entry(buf)
}

fn unix_nanos(time: SystemTime) -> i64 {
    match time.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_nanos()).unwrap_or(i64::MAX),
    }
}

/// Appends one framed record to `out`.
pub(crate) fn encode_record(out: &mut Vec<u8>, msg: &Message<'_>, attrs: &[LogAttr]) {
    let proto = LogEntryProto {
        source: msg.stream.as_str().to_string(),
        time_nano: unix_nanos(msg.time),
        line: msg.line.to_vec(),
        partial: msg.partial.is_some(),
        partial_log_metadata: msg.partial.map(|p| PartialLogEntryMetadata {
            last: p.last,
            id: p.id.to_string(),
            ordinal: i32::try_from(p.ordinal).unwrap_or(i32::MAX),
        }),
        attrs: attrs.to_vec(),
    };
    let len = proto.encoded_len();
    let frame = u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes();
    out.reserve(len + 2 * FRAME_LEN);
    out.extend_from_slice(&frame);
    proto
        .encode(out)
        .expect("a Vec grows to fit any protobuf message");
    out.extend_from_slice(&frame);
}

/// Decodes the protobuf body of one record.
pub(crate) fn decode_body(body: &[u8]) -> io::Result<LogEntry> {
    let proto =
        LogEntryProto::decode(body).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    let stream = Stream::from_name(&proto.source).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("bad stream {:?} in local log", proto.source),
        )
    })?;
    let time = if proto.time_nano >= 0 {
        SystemTime::UNIX_EPOCH + Duration::from_nanos(proto.time_nano as u64)
    } else {
        SystemTime::UNIX_EPOCH - Duration::from_nanos(proto.time_nano.unsigned_abs())
    };
    // moby's reader appends the newline the writer stripped, except inside a split line.
    let ends_line = !proto.partial || proto.partial_log_metadata.as_ref().is_some_and(|m| m.last);
    let mut line = proto.line;
    if ends_line {
        line.push(b'\n');
    }
    Ok(LogEntry {
        stream,
        time,
        line,
        partial: !ends_line,
        attrs: proto.attrs.into_iter().map(|a| (a.key, a.value)).collect(),
    })
}

/// Length from a frame field.
pub(crate) fn frame_len(bytes: &[u8]) -> usize {
    let mut b = [0u8; FRAME_LEN];
    b.copy_from_slice(&bytes[..FRAME_LEN]);
    u32::from_be_bytes(b) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lines::PartialMeta;

    fn record(line: &[u8], partial: Option<PartialMeta<'_>>) -> Vec<u8> {
        let mut out = Vec::new();
        encode_record(
            &mut out,
            &Message {
                stream: Stream::Stderr,
                line,
                time: SystemTime::UNIX_EPOCH + Duration::new(1_795_428_000, 123_456_789),
                partial,
            },
            &[],
        );
        out
    }

    #[test]
    fn attrs_are_stored_in_every_record_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.log");
        let attrs: LogAttrs = [
            ("b".to_owned(), "2".to_owned()),
            ("A".to_owned(), "1".to_owned()),
        ]
        .into_iter()
        .collect();
        let mut w = LocalWriter::open(&path, RotateOptions::default())
            .unwrap()
            .with_attrs(&attrs);
        w.write(Stream::Stdout, b"one\ntwo\n", SystemTime::now())
            .unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let first = frame_len(&bytes);
        let entry = decode_body(&bytes[FRAME_LEN..FRAME_LEN + first]).unwrap();
        let expected = vec![
            ("A".to_owned(), "1".to_owned()),
            ("b".to_owned(), "2".to_owned()),
        ];
        assert_eq!(entry.attrs, expected);
        let second = &bytes[first + 2 * FRAME_LEN..];
        let entry = decode_body(&second[FRAME_LEN..FRAME_LEN + frame_len(second)]).unwrap();
        assert_eq!(
            (entry.line.as_slice(), entry.attrs),
            (&b"two\n"[..], expected)
        );
    }

    #[test]
    fn encodes_moby_wire_bytes() {
        // Hand-assembled from entry.proto: field 1 "stderr", field 2 varint, field 3 "hi".
        let mut body = vec![0x0a, 6];
        body.extend_from_slice(b"stderr");
        body.push(0x10);
        let mut v = 1_795_428_000_123_456_789u64;
        while v >= 0x80 {
            body.push((v as u8) | 0x80);
            v >>= 7;
        }
        body.push(v as u8);
        body.extend_from_slice(&[0x1a, 2, b'h', b'i']);
        let mut expected = (body.len() as u32).to_be_bytes().to_vec();
        expected.extend_from_slice(&body);
        expected.extend_from_slice(&(body.len() as u32).to_be_bytes());
        assert_eq!(record(b"hi", None), expected);
    }

    #[test]
    fn partial_metadata_round_trips_and_controls_newline() {
        let piece = record(
            b"abc",
            Some(PartialMeta {
                id: "id1",
                ordinal: 1,
                last: false,
            }),
        );
        let len = frame_len(&piece);
        assert_eq!(len + 2 * FRAME_LEN, piece.len());
        assert_eq!(frame_len(&piece[piece.len() - FRAME_LEN..]), len);
        let entry = decode_body(&piece[FRAME_LEN..FRAME_LEN + len]).unwrap();
        assert_eq!((entry.line.as_slice(), entry.partial), (&b"abc"[..], true));
        assert_eq!(entry.stream, Stream::Stderr);

        let last = record(
            b"",
            Some(PartialMeta {
                id: "id1",
                ordinal: 2,
                last: true,
            }),
        );
        let len = frame_len(&last);
        let entry = decode_body(&last[FRAME_LEN..FRAME_LEN + len]).unwrap();
        assert_eq!((entry.line.as_slice(), entry.partial), (&b"\n"[..], false));
        let proto = LogEntryProto::decode(&last[FRAME_LEN..FRAME_LEN + len]).unwrap();
        assert_eq!(proto.partial_log_metadata.unwrap().ordinal, 2);
    }
}
