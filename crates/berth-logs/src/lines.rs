//! Splitting raw output into log messages the way moby's `logger.Copier` does: one message
//! per `\n`-terminated line (without the `\n`), and a line that fills the 16 KiB buffer
//! without a newline goes out as a partial message. All pieces of one long line carry the
//! first piece's timestamp, a shared random id and ordinals 1, 2, …; the piece that ends
//! the line is marked `last`.

use std::time::SystemTime;

use crate::Stream;

/// moby `daemon/logger/copier.go` `defaultBufSize`.
pub(crate) const MAX_LINE_BUFFER: usize = 16 * 1024;

/// Where a message sits in a line that was split into pieces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PartialMeta<'a> {
    pub id: &'a str,
    pub ordinal: u32,
    pub last: bool,
}

/// A message ready for a driver to encode.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Message<'a> {
    pub stream: Stream,
    /// The line without its `\n`.
    pub line: &'a [u8],
    pub time: SystemTime,
    /// `None` for a line that fit in one message.
    pub partial: Option<PartialMeta<'a>>,
}

impl Message<'_> {
    /// Whether the message ends a line (json-file appends `\n` to such messages).
    pub fn ends_line(&self) -> bool {
        self.partial.is_none_or(|p| p.last)
    }
}

#[derive(Debug)]
struct PartialChain {
    id: String,
    next_ordinal: u32,
    time: SystemTime,
}

#[derive(Debug, Default)]
struct PendingLine {
    bytes: Vec<u8>,
    chain: Option<PartialChain>,
}

impl PendingLine {
    /// Emits the buffered bytes as a non-final piece, starting a chain if needed.
    fn emit_piece<E>(
        &mut self,
        stream: Stream,
        time: SystemTime,
        emit: &mut impl FnMut(&Message<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let chain = self.chain.get_or_insert_with(|| PartialChain {
            id: random_id(),
            next_ordinal: 1,
            time,
        });
        let msg = Message {
            stream,
            line: &self.bytes,
            time: chain.time,
            partial: Some(PartialMeta {
                id: &chain.id,
                ordinal: chain.next_ordinal,
                last: false,
            }),
        };
        chain.next_ordinal += 1;
        let result = emit(&msg);
        self.bytes.clear();
        result
    }

    /// Emits the buffered bytes as the end of a line.
    fn emit_line<E>(
        &mut self,
        stream: Stream,
        time: SystemTime,
        emit: &mut impl FnMut(&Message<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let chain = self.chain.take();
        let msg = Message {
            stream,
            line: &self.bytes,
            time: chain.as_ref().map_or(time, |c| c.time),
            partial: chain.as_ref().map(|c| PartialMeta {
                id: &c.id,
                ordinal: c.next_ordinal,
                last: true,
            }),
        };
        let result = emit(&msg);
        self.bytes.clear();
        result
    }
}

/// Per-stream line buffers.
#[derive(Debug, Default)]
pub(crate) struct LineSplitter {
    pending: [PendingLine; 2],
}

impl LineSplitter {
    /// Feeds a chunk of one stream's output, emitting every message it completes.
    pub fn write<E>(
        &mut self,
        stream: Stream,
        chunk: &[u8],
        time: SystemTime,
        mut emit: impl FnMut(&Message<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let pending = &mut self.pending[stream.index()];
        let mut rest = chunk;
        while !rest.is_empty() {
            let newline = memchr::memchr(b'\n', rest);
            let segment = &rest[..newline.unwrap_or(rest.len())];
            let mut segment_rest = segment;
            while !segment_rest.is_empty() {
                let room = MAX_LINE_BUFFER - pending.bytes.len();
                let take = room.min(segment_rest.len());
                pending.bytes.extend_from_slice(&segment_rest[..take]);
                segment_rest = &segment_rest[take..];
                // A full buffer goes out even when a newline follows right after, as in
                // moby, where the buffer fills before the newline is read.
                if pending.bytes.len() == MAX_LINE_BUFFER {
                    pending.emit_piece(stream, time, &mut emit)?;
                }
            }
            match newline {
                Some(at) => {
                    pending.emit_line(stream, time, &mut emit)?;
                    rest = &rest[at + 1..];
                }
                None => break,
            }
        }
        Ok(())
    }

    /// Emits what is buffered without a newline as partial messages (moby does this at
    /// EOF of the container's output) and forgets the chains.
    pub fn flush<E>(
        &mut self,
        time: SystemTime,
        mut emit: impl FnMut(&Message<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        for stream in [Stream::Stdout, Stream::Stderr] {
            let pending = &mut self.pending[stream.index()];
            if !pending.bytes.is_empty() {
                pending.emit_piece(stream, time, &mut emit)?;
            }
            pending.chain = None;
        }
        Ok(())
    }
}

/// 64 hex digits, like moby's `stringid.GenerateRandomID`.
fn random_id() -> String {
    use std::fmt::Write;
    let bytes: [u8; 32] = rand::random();
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[derive(Debug, PartialEq)]
    struct Owned {
        stream: Stream,
        line: Vec<u8>,
        time: SystemTime,
        partial: Option<(String, u32, bool)>,
    }

    fn collect(
        splitter: &mut LineSplitter,
        stream: Stream,
        chunk: &[u8],
        t: SystemTime,
    ) -> Vec<Owned> {
        let mut out = Vec::new();
        splitter
            .write(stream, chunk, t, |m| {
                out.push(Owned {
                    stream: m.stream,
                    line: m.line.to_vec(),
                    time: m.time,
                    partial: m.partial.map(|p| (p.id.to_string(), p.ordinal, p.last)),
                });
                Ok::<(), ()>(())
            })
            .unwrap();
        out
    }

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn splits_lines_and_keeps_streams_apart() {
        let mut s = LineSplitter::default();
        assert!(collect(&mut s, Stream::Stdout, b"he", at(1)).is_empty());
        let err = collect(&mut s, Stream::Stderr, b"oops\nmo", at(2));
        assert_eq!(err.len(), 1);
        assert_eq!(err[0].line, b"oops");
        assert_eq!(err[0].stream, Stream::Stderr);
        let out = collect(&mut s, Stream::Stdout, b"llo\n\nx\n", at(3));
        let lines: Vec<&[u8]> = out.iter().map(|m| m.line.as_slice()).collect();
        assert_eq!(lines, vec![&b"hello"[..], b"", b"x"]);
        assert!(out.iter().all(|m| m.partial.is_none() && m.time == at(3)));
    }

    #[test]
    fn long_line_becomes_partial_pieces_sharing_first_time_and_id() {
        let mut s = LineSplitter::default();
        let long = vec![b'a'; MAX_LINE_BUFFER * 2 + 10];
        let mut out = collect(&mut s, Stream::Stdout, &long[..MAX_LINE_BUFFER + 5], at(1));
        out.extend(collect(
            &mut s,
            Stream::Stdout,
            &long[MAX_LINE_BUFFER + 5..],
            at(2),
        ));
        out.extend(collect(&mut s, Stream::Stdout, b"\nnext\n", at(3)));
        assert_eq!(out.len(), 4);
        let id = out[0].partial.as_ref().unwrap().0.clone();
        assert_eq!(id.len(), 64);
        assert_eq!(out[0].partial, Some((id.clone(), 1, false)));
        assert_eq!(out[1].partial, Some((id.clone(), 2, false)));
        assert_eq!(out[2].partial, Some((id.clone(), 3, true)));
        assert_eq!(out[0].line.len(), MAX_LINE_BUFFER);
        assert_eq!(out[1].line.len(), MAX_LINE_BUFFER);
        assert_eq!(out[2].line.len(), 10);
        assert!(out[..3].iter().all(|m| m.time == at(1)));
        assert_eq!(out[3].partial, None);
        assert_eq!(out[3].time, at(3));
    }

    #[test]
    fn exactly_full_buffer_then_newline_gives_empty_last_piece() {
        let mut s = LineSplitter::default();
        let mut data = vec![b'z'; MAX_LINE_BUFFER];
        data.push(b'\n');
        let out = collect(&mut s, Stream::Stdout, &data, at(1));
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].line.len(), MAX_LINE_BUFFER);
        assert!(out[1].line.is_empty());
        assert!(out[1].partial.as_ref().unwrap().2);
    }

    #[test]
    fn flush_emits_unterminated_lines_as_partial() {
        let mut s = LineSplitter::default();
        collect(&mut s, Stream::Stdout, b"no newline", at(1));
        collect(&mut s, Stream::Stderr, b"err tail", at(2));
        let mut out = Vec::new();
        s.flush(at(5), |m| {
            out.push((
                m.stream,
                m.line.to_vec(),
                m.partial.map(|p| (p.ordinal, p.last)),
            ));
            Ok::<(), ()>(())
        })
        .unwrap();
        assert_eq!(
            out,
            vec![
                (Stream::Stdout, b"no newline".to_vec(), Some((1, false))),
                (Stream::Stderr, b"err tail".to_vec(), Some((1, false))),
            ]
        );
        let mut again = 0;
        s.flush(at(6), |_| {
            again += 1;
            Ok::<(), ()>(())
        })
        .unwrap();
        assert_eq!(again, 0);
    }
}
