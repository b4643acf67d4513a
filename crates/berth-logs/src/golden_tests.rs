//! Byte-for-byte comparison with logs written by Docker 20.10's json-file and local
//! drivers for the output of `tests/fixtures/docker-20.10-gen.sh`.

use prost::Message as _;

use crate::jsonfile::{decode_line, encode_entry};
use crate::lines::{LineSplitter, Message, PartialMeta, MAX_LINE_BUFFER};
use crate::local::{decode_body, encode_record, frame_len, LogEntryProto, FRAME_LEN};

const DOCKER_JSON: &[u8] = include_bytes!("../tests/fixtures/docker-20.10-json-file.log");
const DOCKER_LOCAL: &[u8] = include_bytes!("../tests/fixtures/docker-20.10-local.log");

/// What the script writes to stdout and stderr.
fn script_output() -> (Vec<u8>, Vec<u8>) {
    let mut out = Vec::new();
    out.extend_from_slice(b"hello <b>&amp;</b> \"q\" \\ back\n");
    out.extend_from_slice(b"tab\there\r\n");
    out.extend_from_slice(
        b"ctl\x01 del\x7f bad\xff ls\xe2\x80\xa8 ps\xe2\x80\xa9 fish\xf0\x9f\x90\xb3 e\xc3\xa9 cut\xe2\x80\n",
    );
    out.extend(std::iter::repeat_n(b'x', 40_000));
    out.push(b'\n');
    out.extend(std::iter::repeat_n(b'y', MAX_LINE_BUFFER));
    out.push(b'\n');
    out.extend_from_slice(b"empty next\n\nno newline at end");
    (out, b"to stderr\n".to_vec())
}

/// The raw bytes behind one stored entry: up to the next newline for an entry that ends
/// a line, else one full buffer or whatever is left.
fn take_raw<'a>(raw: &mut &'a [u8], ends_line: bool) -> &'a [u8] {
    let len = if ends_line {
        memchr::memchr(b'\n', raw).expect("a newline is left") + 1
    } else {
        raw.len().min(MAX_LINE_BUFFER)
    };
    let (piece, rest) = raw.split_at(len);
    *raw = rest;
    piece
}

#[test]
fn json_file_output_matches_docker_byte_for_byte() {
    let (stdout, stderr) = script_output();
    let mut raw = [stdout.as_slice(), stderr.as_slice()];
    let mut splitter = LineSplitter::default();
    let mut ours = Vec::new();
    let mut encode = |m: &Message<'_>| {
        encode_entry(&mut ours, m, b"");
        Ok::<(), ()>(())
    };
    // Feed the script's output split where Docker's copier saw it, with Docker's times.
    for stored in DOCKER_JSON.split_inclusive(|&b| b == b'\n') {
        let entry = decode_line(&stored[..stored.len() - 1]).unwrap();
        let source = &mut raw[entry.stream.index()];
        let piece = take_raw(source, !entry.partial);
        if source.is_empty() && entry.partial {
            splitter
                .write(entry.stream, piece, entry.time, &mut encode)
                .unwrap();
            splitter.flush(entry.time, &mut encode).unwrap();
        } else {
            splitter
                .write(entry.stream, piece, entry.time, &mut encode)
                .unwrap();
        }
    }
    assert!(raw.iter().all(|r| r.is_empty()));
    assert_eq!(
        String::from_utf8_lossy(&ours),
        String::from_utf8_lossy(DOCKER_JSON)
    );
    assert_eq!(ours, DOCKER_JSON);
}

#[test]
fn local_output_matches_docker_framing_and_fields() {
    let (stdout, stderr) = script_output();
    let mut raw = [stdout.as_slice(), stderr.as_slice()];
    let mut splitter = LineSplitter::default();
    let mut rest = DOCKER_LOCAL;
    let mut records = 0;
    while !rest.is_empty() {
        let len = frame_len(rest);
        let (record, tail) = rest.split_at(len + 2 * FRAME_LEN);
        rest = tail;
        records += 1;
        let proto = LogEntryProto::decode(&record[FRAME_LEN..FRAME_LEN + len]).unwrap();
        let entry = decode_body(&record[FRAME_LEN..FRAME_LEN + len]).unwrap();
        let meta = proto.partial_log_metadata.clone();

        // Re-encoding Docker's own message (with its random id) gives the same bytes.
        let mut ours = Vec::new();
        let docker_message = Message {
            stream: entry.stream,
            line: &proto.line,
            time: entry.time,
            partial: meta.as_ref().map(|m| PartialMeta {
                id: &m.id,
                ordinal: m.ordinal as u32,
                last: m.last,
            }),
        };
        encode_record(&mut ours, &docker_message, &[]);
        assert_eq!(ours, record);

        // Our splitter cuts the raw output into the same messages.
        let source = &mut raw[entry.stream.index()];
        let piece = take_raw(source, !entry.partial);
        let mut produced = Vec::new();
        let mut collect = |m: &Message<'_>| {
            produced.push((m.line.to_vec(), m.partial.map(|p| (p.ordinal, p.last))));
            Ok::<(), ()>(())
        };
        splitter
            .write(entry.stream, piece, entry.time, &mut collect)
            .unwrap();
        if source.is_empty() && entry.partial {
            splitter.flush(entry.time, &mut collect).unwrap();
        }
        let expected = (proto.line.clone(), meta.map(|m| (m.ordinal as u32, m.last)));
        assert_eq!(produced, vec![expected]);
    }
    assert!(records > 8, "fixture has {records} records");
    assert!(raw.iter().all(|r| r.is_empty()));
}
