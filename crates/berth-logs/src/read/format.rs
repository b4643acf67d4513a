//! How each driver's file is walked: decoding entries from a forward buffer, finding
//! where the last N entries start by reading backwards, and finding an entry boundary
//! near an arbitrary offset (for binary searches by time).

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::time::SystemTime;

use crate::local::{self, FRAME_LEN, MAX_RECORD_LEN};
use crate::{jsonfile, LogEntry};

/// Bytes read per backward step when tailing.
const TAIL_BLOCK: u64 = 64 * 1024;
/// Bytes read per step when probing for an entry boundary.
const PROBE_BLOCK: usize = 16 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Local,
}

/// The outcome of decoding at the front of a buffer.
pub(crate) enum Decoded {
    /// Need more bytes.
    Incomplete,
    /// `consumed` bytes made one entry (or one undecodable entry, which is skipped).
    Entry {
        consumed: usize,
        entry: io::Result<LogEntry>,
    },
    /// The framing is broken beyond recovery for this file.
    Corrupt(io::Error),
}

impl Format {
    pub fn from_driver(driver: &str) -> Option<Self> {
        match driver {
            crate::JSON_FILE => Some(Format::Json),
            crate::LOCAL => Some(Format::Local),
            _ => None,
        }
    }

    /// Decodes the entry at the front of `buf`.
    pub fn decode(self, buf: &[u8]) -> Decoded {
        match self {
            Format::Json => match memchr::memchr(b'\n', buf) {
                None => Decoded::Incomplete,
                Some(at) => Decoded::Entry {
                    consumed: at + 1,
                    entry: jsonfile::decode_line(&buf[..at]),
                },
            },
            Format::Local => {
                if buf.len() < FRAME_LEN {
                    return Decoded::Incomplete;
                }
                let len = local::frame_len(buf);
                if len > MAX_RECORD_LEN {
                    return Decoded::Corrupt(corrupt(format!(
                        "log record is too large ({len} > {MAX_RECORD_LEN})"
                    )));
                }
                let total = len + 2 * FRAME_LEN;
                if buf.len() < total {
                    return Decoded::Incomplete;
                }
                if local::frame_len(&buf[FRAME_LEN + len..]) != len {
                    return Decoded::Corrupt(corrupt(
                        "log record header and footer sizes differ".into(),
                    ));
                }
                Decoded::Entry {
                    consumed: total,
                    entry: local::decode_body(&buf[FRAME_LEN..FRAME_LEN + len]),
                }
            }
        }
    }

    /// Where the last `n` complete entries of `file[..end]` start, and how many there are
    /// (fewer than `n` when the file holds fewer). Reads backwards from `end`.
    pub fn tail_start(self, file: &File, end: u64, n: usize) -> io::Result<(u64, usize)> {
        if n == 0 {
            return Ok((end, 0));
        }
        match self {
            Format::Json => json_tail_start(file, end, n),
            Format::Local => local_tail_start(file, end, n),
        }
    }

    /// The first complete entry starting at or after `offset` (and ending by `end`): its
    /// start and time.
    pub fn probe(
        self,
        file: &File,
        offset: u64,
        end: u64,
    ) -> io::Result<Option<(u64, SystemTime)>> {
        match self {
            Format::Json => json_probe(file, offset, end),
            Format::Local => local_probe(file, offset, end),
        }
    }

    /// The time of the last complete entry in `file[..end]`.
    pub fn last_time(self, file: &File, end: u64) -> io::Result<Option<SystemTime>> {
        let (start, found) = self.tail_start(file, end, 1)?;
        if found == 0 {
            return Ok(None);
        }
        Ok(self.probe(file, start, end)?.map(|(_, t)| t))
    }
}

fn corrupt(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    file.read_exact_at(buf, offset)
}

/// Counts newlines backwards. A line is complete once its `\n` is seen, so anything after
/// the last `\n` (an entry still being written) is not counted.
fn json_tail_start(file: &File, end: u64, n: usize) -> io::Result<(u64, usize)> {
    let mut block = vec![0u8; TAIL_BLOCK as usize];
    let mut pos = end;
    let mut seen_last_newline = false;
    let mut found = 0;
    while pos > 0 {
        let start = pos.saturating_sub(TAIL_BLOCK);
        let chunk = &mut block[..(pos - start) as usize];
        read_exact_at(file, chunk, start)?;
        let mut upto = chunk.len();
        while let Some(at) = memchr::memrchr(b'\n', &chunk[..upto]) {
            upto = at;
            if !seen_last_newline {
                seen_last_newline = true;
                continue;
            }
            // The line after this newline is complete.
            found += 1;
            if found == n {
                return Ok((start + at as u64 + 1, found));
            }
        }
        pos = start;
    }
    if seen_last_newline {
        found += 1;
    }
    Ok((0, found))
}

/// Walks the length trailers backwards, checking each header, as moby's local reader.
fn local_tail_start(file: &File, end: u64, n: usize) -> io::Result<(u64, usize)> {
    let frame = FRAME_LEN as u64;
    let mut offset = end;
    let mut found = 0;
    let mut field = [0u8; FRAME_LEN];
    while offset >= 2 * frame && found < n {
        read_exact_at(file, &mut field, offset - frame)?;
        let len = local::frame_len(&field) as u64;
        let Some(start) = offset.checked_sub(len + 2 * frame) else {
            return local_tail_forward(file, end, n);
        };
        read_exact_at(file, &mut field, start)?;
        if local::frame_len(&field) as u64 != len {
            // A record still being written at the end (or damage): count forwards instead.
            return local_tail_forward(file, end, n);
        }
        found += 1;
        offset = start;
    }
    Ok((offset, found))
}

/// Fallback for [`local_tail_start`] when the end of the file is not a record boundary:
/// walks the headers from the start and keeps the last `n` complete record starts.
fn local_tail_forward(file: &File, end: u64, n: usize) -> io::Result<(u64, usize)> {
    let frame = FRAME_LEN as u64;
    let mut starts = std::collections::VecDeque::with_capacity(n);
    let mut offset = 0;
    let mut field = [0u8; FRAME_LEN];
    while offset + 2 * frame <= end {
        read_exact_at(file, &mut field, offset)?;
        let next = offset + 2 * frame + local::frame_len(&field) as u64;
        if next > end {
            break;
        }
        if starts.len() == n {
            starts.pop_front();
        }
        starts.push_back(offset);
        offset = next;
    }
    Ok((starts.front().copied().unwrap_or(offset), starts.len()))
}

fn json_probe(file: &File, offset: u64, end: u64) -> io::Result<Option<(u64, SystemTime)>> {
    // Skip to the byte after the first newline at or after offset-1: a line start.
    let mut start = offset;
    if offset > 0 {
        let Some(nl) = find_byte(file, b'\n', offset - 1, end)? else {
            return Ok(None);
        };
        start = nl + 1;
    }
    while let Some(line_end) = find_byte(file, b'\n', start, end)? {
        let mut line = vec![0u8; (line_end - start) as usize];
        read_exact_at(file, &mut line, start)?;
        if let Ok(t) = jsonfile::decode_time(&line) {
            return Ok(Some((start, t)));
        }
        // Skip an undecodable line rather than failing the search.
        start = line_end + 1;
    }
    Ok(None)
}

/// The offset of the first `byte` in `file[from..end]`.
fn find_byte(file: &File, byte: u8, from: u64, end: u64) -> io::Result<Option<u64>> {
    let mut block = vec![0u8; PROBE_BLOCK];
    let mut pos = from;
    while pos < end {
        let want = ((end - pos) as usize).min(PROBE_BLOCK);
        let chunk = &mut block[..want];
        read_exact_at(file, chunk, pos)?;
        if let Some(at) = memchr::memchr(byte, chunk) {
            return Ok(Some(pos + at as u64));
        }
        pos += want as u64;
    }
    Ok(None)
}

/// Finds a record boundary at or after `offset` by trying each position: a plausible
/// length whose header and trailer agree and whose body decodes as a log entry.
fn local_probe(file: &File, offset: u64, end: u64) -> io::Result<Option<(u64, SystemTime)>> {
    let frame = FRAME_LEN as u64;
    let mut window = vec![0u8; PROBE_BLOCK];
    let mut base = offset;
    while base + 2 * frame <= end {
        let want = ((end - base) as usize).min(PROBE_BLOCK);
        let chunk = &mut window[..want];
        read_exact_at(file, chunk, base)?;
        let mut i = 0;
        while i + FRAME_LEN <= chunk.len() {
            let at = base + i as u64;
            let len = local::frame_len(&chunk[i..]);
            let fits = len > 0 && len <= MAX_RECORD_LEN && at + 2 * frame + len as u64 <= end;
            // The protobuf body starts with field 1 (the stream name).
            let tagged = chunk.get(i + FRAME_LEN).is_none_or(|&b| b == 0x0a);
            if fits && tagged {
                if let Some(t) = local_record_time(file, at, len)? {
                    return Ok(Some((at, t)));
                }
            }
            i += 1;
        }
        // Keep the last few bytes: a header may straddle the window edge.
        base += (chunk.len() - FRAME_LEN + 1) as u64;
    }
    Ok(None)
}

fn local_record_time(file: &File, at: u64, len: usize) -> io::Result<Option<SystemTime>> {
    let mut record = vec![0u8; len + 2 * FRAME_LEN];
    read_exact_at(file, &mut record, at)?;
    if local::frame_len(&record[FRAME_LEN + len..]) != len {
        return Ok(None);
    }
    Ok(local::decode_body(&record[FRAME_LEN..FRAME_LEN + len])
        .ok()
        .map(|e| e.time))
}
