//! Docker's `json-file` driver: one JSON object per line,
//! `{"log":"hi\n","stream":"stdout","time":"2026-11-23T10:00:00.123456789Z"}`, with
//! `"attrs":{…}` before `time` when the container has extra attributes, encoded byte for
//! byte as moby's `jsonlog.JSONLogs.MarshalJSONBuf` does.

use std::io;
use std::path::Path;
use std::time::SystemTime;

use serde::Deserialize;

use crate::LogAttrs;

use crate::lines::{LineSplitter, Message};
use crate::rotate::RotatingFile;
use crate::timefmt::{parse_rfc3339, write_rfc3339_nano};
use crate::{LogEntry, RotateOptions, Stream};

/// Writes a container's output in the `json-file` format.
#[derive(Debug)]
pub struct JsonFileWriter {
    file: RotatingFile,
    lines: LineSplitter,
    buf: Vec<u8>,
    /// The `attrs` object written with every line (Go's `json.Marshal` of the map), or
    /// empty for none.
    attrs: Vec<u8>,
}

impl JsonFileWriter {
    /// Opens (appending to) or creates `path` with mode 0640.
    pub fn open(path: &Path, opts: RotateOptions) -> io::Result<Self> {
        Ok(JsonFileWriter {
            file: RotatingFile::open(path, opts)?,
            lines: LineSplitter::default(),
            buf: Vec::with_capacity(256),
            attrs: Vec::new(),
        })
    }

    /// Stores `attrs` with every line from now on (none when empty), as moby's json-file
    /// logger does with the container's extra attributes.
    pub fn with_attrs(mut self, attrs: &LogAttrs) -> Self {
        self.attrs = encode_attrs(attrs);
        self
    }

    /// Logs a chunk of raw output received at `time`; complete lines are written at once,
    /// the rest is kept until its newline arrives or 16 KiB accumulate.
    pub fn write(&mut self, stream: Stream, chunk: &[u8], time: SystemTime) -> io::Result<()> {
        let (file, buf, attrs) = (&mut self.file, &mut self.buf, &self.attrs);
        self.lines.write(stream, chunk, time, |msg| {
            write_message(file, buf, msg, attrs)
        })
    }

    /// Writes out lines still waiting for their newline, as Docker does when the
    /// container's output ends.
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
    attrs: &[u8],
) -> io::Result<()> {
    buf.clear();
    encode_entry(buf, msg, attrs);
    file.write_entry(buf)
}

/// Go's `json.Marshal` of a `map[string]string`: keys sorted, strings escaped as
/// `encoding/json` does (HTML-safe). Empty for no attributes (moby omits the field).
fn encode_attrs(attrs: &LogAttrs) -> Vec<u8> {
    if attrs.is_empty() {
        return Vec::new();
    }
    let mut out = vec![b'{'];
    for (i, (k, v)) in attrs.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'"');
        escape_into(&mut out, k.as_bytes(), Escaping::EncodingJson);
        out.extend_from_slice(b"\":\"");
        escape_into(&mut out, v.as_bytes(), Escaping::EncodingJson);
        out.push(b'"');
    }
    out.push(b'}');
    out
}

/// Appends one log line (with its trailing `\n`) to `out`; `attrs` is the encoded
/// attributes object, or empty.
pub(crate) fn encode_entry(out: &mut Vec<u8>, msg: &Message<'_>, attrs: &[u8]) {
    out.extend_from_slice(b"{\"log\":\"");
    escape_into(out, msg.line, Escaping::Ffjson);
    if msg.ends_line() {
        out.extend_from_slice(b"\\n");
    }
    out.extend_from_slice(b"\",\"stream\":\"");
    out.extend_from_slice(msg.stream.as_str().as_bytes());
    if !attrs.is_empty() {
        out.extend_from_slice(b"\",\"attrs\":");
        out.extend_from_slice(attrs);
        out.extend_from_slice(b",\"time\":\"");
    } else {
        out.extend_from_slice(b"\",\"time\":\"");
    }
    let mut time = String::with_capacity(30);
    write_rfc3339_nano(&mut time, msg.time);
    out.extend_from_slice(time.as_bytes());
    out.extend_from_slice(b"\"}\n");
}

/// Which of Go's two JSON string encoders to match.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Escaping {
    /// moby's `ffjsonWriteJSONBytesAsString` (the `log` field): `\uXXXX` for every
    /// control character but `\n` and `\r`.
    Ffjson,
    /// `encoding/json` (the `attrs` object): `\b`, `\f` and `\t` short forms too.
    EncodingJson,
}

/// Go's HTML-safe JSON string escaping (without the quotes), `\ufffd` for each invalid
/// UTF-8 byte.
fn escape_into(out: &mut Vec<u8>, s: &[u8], escaping: Escaping) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut start = 0;
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        if b < 0x80 {
            if b >= 0x20 && !matches!(b, b'\\' | b'"' | b'<' | b'>' | b'&') {
                i += 1;
                continue;
            }
            out.extend_from_slice(&s[start..i]);
            match b {
                b'\\' | b'"' => out.extend_from_slice(&[b'\\', b]),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\t' if escaping == Escaping::EncodingJson => out.extend_from_slice(b"\\t"),
                0x08 if escaping == Escaping::EncodingJson => out.extend_from_slice(b"\\b"),
                0x0c if escaping == Escaping::EncodingJson => out.extend_from_slice(b"\\f"),
                _ => out.extend_from_slice(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[usize::from(b >> 4)],
                    HEX[usize::from(b & 0xf)],
                ]),
            }
            i += 1;
            start = i;
            continue;
        }
        match decode_utf8_char(&s[i..]) {
            None => {
                out.extend_from_slice(&s[start..i]);
                out.extend_from_slice(b"\\ufffd");
                i += 1;
                start = i;
            }
            Some((c @ ('\u{2028}' | '\u{2029}'), len)) => {
                out.extend_from_slice(&s[start..i]);
                out.extend_from_slice(b"\\u202");
                out.push(HEX[(c as usize) & 0xf]);
                i += len;
                start = i;
            }
            Some((_, len)) => i += len,
        }
    }
    out.extend_from_slice(&s[start..]);
}

/// The first UTF-8 character of `s` and its length, or `None` where Go's
/// `utf8.DecodeRune` returns `(RuneError, 1)`.
fn decode_utf8_char(s: &[u8]) -> Option<(char, usize)> {
    let len = match s[0] {
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return None,
    };
    let head = s.get(..len)?;
    std::str::from_utf8(head)
        .ok()
        .and_then(|text| text.chars().next())
        .map(|c| (c, len))
}

#[derive(Deserialize)]
struct JsonLogLine {
    #[serde(default)]
    log: String,
    #[serde(default)]
    stream: String,
    time: String,
    #[serde(default)]
    attrs: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Decodes one stored line (without its `\n`).
pub(crate) fn decode_line(line: &[u8]) -> io::Result<LogEntry> {
    let parsed: JsonLogLine =
        serde_json::from_slice(line).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    let time = parse_rfc3339(&parsed.time)
        .ok_or_else(|| invalid(format!("bad time {:?} in json log", parsed.time)))?;
    let stream = Stream::from_name(&parsed.stream)
        .ok_or_else(|| invalid(format!("bad stream {:?} in json log", parsed.stream)))?;
    let partial = !parsed.log.ends_with('\n');
    let attrs = parsed
        .attrs
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => (k, s),
            other => (k, other.to_string()),
        })
        .collect();
    Ok(LogEntry {
        stream,
        time,
        line: parsed.log.into_bytes(),
        partial,
        attrs,
    })
}

/// Reads only the `time` of a stored line; cheaper than [`decode_line`] for searches.
pub(crate) fn decode_time(line: &[u8]) -> io::Result<SystemTime> {
    // The time is the last field Docker writes; find it from the end to avoid decoding
    // the message, and fall back to a full decode for anything unusual.
    const KEY: &[u8] = b"\"time\":\"";
    if let Some(at) = memchr::memmem::rfind(line, KEY) {
        let rest = &line[at + KEY.len()..];
        if let Some(end) = memchr::memchr(b'"', rest) {
            if let Some(t) = std::str::from_utf8(&rest[..end])
                .ok()
                .and_then(parse_rfc3339)
            {
                return Ok(t);
            }
        }
    }
    decode_line(line).map(|e| e.time)
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lines::PartialMeta;
    use std::time::Duration;

    fn encode(line: &[u8], partial: Option<PartialMeta<'_>>) -> String {
        let mut out = Vec::new();
        let msg = Message {
            stream: Stream::Stdout,
            line,
            time: SystemTime::UNIX_EPOCH + Duration::new(1_795_428_000, 123_456_789),
            partial,
        };
        encode_entry(&mut out, &msg, b"");
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn encodes_docker_line_format() {
        assert_eq!(
            encode(b"hi", None),
            "{\"log\":\"hi\\n\",\"stream\":\"stdout\",\"time\":\"2026-11-23T10:00:00.123456789Z\"}\n"
        );
        let piece = PartialMeta {
            id: "x",
            ordinal: 1,
            last: false,
        };
        assert!(encode(b"hi", Some(piece)).starts_with("{\"log\":\"hi\",\"stream\""));
    }

    #[test]
    fn escapes_as_go_encoding_json_html_safe() {
        let mut out = Vec::new();
        escape_into(&mut out, b"<a href=\"x\">&</a>\\\t\r\x01\x7f\xe2\x80\xa8\xe2\x80\xa9\xff\xc3\xa9\xf0\x9f\x90\xb3\xe2\x80", Escaping::Ffjson);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\\u003ca href=\\\"x\\\"\\u003e\\u0026\\u003c/a\\u003e\\\\\\u0009\\r\\u0001\x7f\\u2028\\u2029\\ufffd\u{e9}\u{1f433}\\ufffd\\ufffd"
        );
    }

    #[test]
    fn attrs_go_between_stream_and_time_as_go_marshals_a_map() {
        let attrs: LogAttrs = [("a", "1"), ("FOO", "bar"), ("t", "x\ty<\u{8}")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let mut out = Vec::new();
        let msg = Message {
            stream: Stream::Stderr,
            line: b"hello",
            time: SystemTime::UNIX_EPOCH + Duration::new(1_795_428_000, 5),
            partial: None,
        };
        encode_entry(&mut out, &msg, &encode_attrs(&attrs));
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "{\"log\":\"hello\\n\",\"stream\":\"stderr\",\"attrs\":{\"FOO\":\"bar\",\"a\":\"1\",\"t\":\"x\\ty\\u003c\\b\"},\"time\":\"2026-11-23T10:00:00.000000005Z\"}\n"
        );
        let entry = decode_line(text.trim_end().as_bytes()).unwrap();
        assert_eq!(
            entry.attrs,
            vec![
                ("FOO".to_owned(), "bar".to_owned()),
                ("a".to_owned(), "1".to_owned()),
                ("t".to_owned(), "x\ty<\u{8}".to_owned()),
            ]
        );
        assert_eq!(decode_time(text.trim_end().as_bytes()).unwrap(), entry.time);
        assert!(encode_attrs(&LogAttrs::new()).is_empty());
    }

    #[test]
    fn decodes_what_it_encodes() {
        let text = encode(b"tab\there <&> \xff", None);
        let entry = decode_line(text.trim_end().as_bytes()).unwrap();
        assert_eq!(entry.line, "tab\there <&> \u{fffd}\n".as_bytes());
        assert!(!entry.partial);
        assert_eq!(entry.stream, Stream::Stdout);
        assert_eq!(
            entry.time,
            SystemTime::UNIX_EPOCH + Duration::new(1_795_428_000, 123_456_789)
        );
        assert_eq!(decode_time(text.trim_end().as_bytes()).unwrap(), entry.time);
        assert!(decode_line(b"{\"log\":\"x\"").is_err());
    }
}
