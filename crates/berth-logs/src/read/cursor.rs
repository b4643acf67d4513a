//! The synchronous reading state: which files (or parts of files) are still to be read,
//! oldest first, and in follow mode the live file whose rotation is watched.
//!
//! All I/O here blocks; the async driver runs each step on tokio's blocking pool.

use std::collections::VecDeque;
use std::fs::{self, File};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::format::{Decoded, Format};
use super::ReadOptions;
use crate::rotate::rotated_path;
use crate::LogEntry;

/// Bytes read per step.
const READ_CHUNK: usize = 256 * 1024;
/// Entries handed back per step.
const BATCH_ENTRIES: usize = 1024;
/// Bytes read per step at most, so a step stays short even when everything is skipped.
const STEP_BYTES: usize = 4 * 1024 * 1024;
/// Below this many bytes a binary search stops and the rest is scanned.
const SEARCH_SCAN_BYTES: u64 = 64 * 1024;
/// How long to wait before listing the files again when a rotation was under way.
const ROTATION_GAP: std::time::Duration = std::time::Duration::from_millis(5);
/// How often the file set is listed at most while rotations race with it.
const LISTING_ATTEMPTS: usize = 200;

/// Identity of a file, to notice that a path now names another file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
}

impl FileId {
    fn of(meta: &fs::Metadata) -> Self {
        FileId {
            dev: meta.dev(),
            ino: meta.ino(),
        }
    }
}

/// A file (or its part from `pos`) waiting to be read.
#[derive(Debug)]
struct Segment {
    file: File,
    id: FileId,
    /// Offset of the next byte to read.
    pos: u64,
    /// Read up to here; `None` reads to EOF.
    end: Option<u64>,
    /// The file writers append to; EOF here means "wait", not "next file".
    live: bool,
    /// Bytes read but not yet decoded (an incomplete entry).
    pending: Vec<u8>,
}

impl Segment {
    fn new(file: File, id: FileId, pos: u64, end: Option<u64>, live: bool) -> Self {
        Segment {
            file,
            id,
            pos,
            end,
            live,
            pending: Vec::new(),
        }
    }

    /// Reads the next chunk into `pending`; returns how many bytes were added.
    fn fill(&mut self) -> io::Result<usize> {
        let want = match self.end {
            Some(end) => (end.saturating_sub(self.pos) as usize).min(READ_CHUNK),
            None => READ_CHUNK,
        };
        if want == 0 {
            return Ok(0);
        }
        let old = self.pending.len();
        self.pending.resize(old + want, 0);
        let n = loop {
            match self.file.read_at(&mut self.pending[old..], self.pos) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        let n = match n {
            Ok(n) => n,
            Err(e) => {
                self.pending.truncate(old);
                return Err(e);
            }
        };
        self.pending.truncate(old + n);
        self.pos += n as u64;
        Ok(n)
    }
}

/// Docker's since/until rule (moby `loggerutils.forwarder`): skip entries before `since`
/// until one passes, then pass everything; stop at the first entry after `until`.
#[derive(Debug, Clone, Copy)]
struct Window {
    since: Option<SystemTime>,
    until: Option<SystemTime>,
}

enum Verdict {
    Skip,
    Take,
    Stop,
}

impl Window {
    fn judge(&mut self, time: SystemTime) -> Verdict {
        if let Some(since) = self.since {
            if time < since {
                return Verdict::Skip;
            }
            self.since = None;
        }
        match self.until {
            Some(until) if time > until => Verdict::Stop,
            _ => Verdict::Take,
        }
    }
}

/// What one step produced.
pub(crate) enum Step {
    /// Entries (possibly none) and more may follow right away.
    More(Vec<io::Result<LogEntry>>),
    /// Caught up with a live file: wait before the next step.
    Idle(Vec<io::Result<LogEntry>>),
    /// Nothing more will come.
    End(Vec<io::Result<LogEntry>>),
}

#[derive(Debug)]
pub(crate) struct Cursor {
    format: Format,
    path: PathBuf,
    follow: bool,
    window: Window,
    segments: VecDeque<Segment>,
    ended: bool,
}

impl Cursor {
    /// Opens the log's files and positions the reading according to `opts`.
    pub fn open(format: Format, path: &Path, opts: &ReadOptions) -> io::Result<Self> {
        let mut cursor = Cursor {
            format,
            path: path.to_path_buf(),
            follow: opts.follow,
            window: Window {
                since: opts.since,
                until: opts.until,
            },
            segments: VecDeque::new(),
            ended: false,
        };
        let listing = list_files(path)?;
        let mut plan: Vec<Segment> = listing
            .rotated
            .into_iter()
            .rev()
            .map(|f| Segment::new(f.file, f.id, 0, Some(f.size), false))
            .collect();
        if let Some(f) = listing.current {
            let end = (!opts.follow).then_some(f.size);
            plan.push(Segment::new(f.file, f.id, 0, end, opts.follow));
        }
        if let Some(n) = opts.tail {
            apply_tail(format, &mut plan, n)?;
        }
        if let Some(since) = opts.since {
            apply_since(format, &mut plan, since)?;
        }
        cursor.segments = plan.into();
        Ok(cursor)
    }

    /// Reads and decodes the next batch.
    pub fn step(&mut self) -> Step {
        let mut out = Vec::new();
        if self.ended {
            return Step::End(out);
        }
        let mut read = 0;
        loop {
            let Some(segment) = self.segments.front_mut() else {
                if self.follow {
                    // The log did not exist yet when following started.
                    if let Err(e) = self.open_new_live(0) {
                        out.push(Err(e));
                    }
                    if self.segments.is_empty() {
                        return Step::Idle(out);
                    }
                    continue;
                }
                self.ended = true;
                return Step::End(out);
            };
            let added = match segment.fill() {
                Ok(n) => {
                    read += n;
                    n
                }
                Err(e) => {
                    out.push(Err(e));
                    self.segments.pop_front();
                    continue;
                }
            };
            if !decode_pending(self.format, segment, &mut self.window, &mut out) {
                self.ended = true;
                return Step::End(out);
            }
            if added == 0 {
                if !segment.live {
                    self.segments.pop_front();
                    continue;
                }
                match self.check_rotation() {
                    Ok(true) => continue,
                    Ok(false) => return Step::Idle(out),
                    Err(e) => {
                        out.push(Err(e));
                        return Step::Idle(out);
                    }
                }
            }
            if out.len() >= BATCH_ENTRIES || read >= STEP_BYTES {
                return Step::More(out);
            }
        }
    }

    /// Called at EOF of the live file: notices that the writer rotated (the path names a
    /// new file) or truncated it. Returns whether there is something new to read.
    fn check_rotation(&mut self) -> io::Result<bool> {
        let Some(live) = self.segments.back_mut() else {
            return Ok(false);
        };
        match id_at(&self.path) {
            // Between the writer's rename and create, or the log is gone.
            None => return Ok(false),
            Some(id) if id == live.id => {
                if fs::metadata(&self.path).is_ok_and(|m| m.len() < live.pos) {
                    // Truncated in place: start over.
                    live.pos = 0;
                    live.pending.clear();
                    return Ok(true);
                }
                return Ok(false);
            }
            Some(_) => {}
        }
        // Rotated. The old file is complete (the writer closed it before renaming): read
        // it to its end, then the files rotated after it, then the new current file.
        let listing = list_files(&self.path)?;
        let Some(current) = listing.current else {
            return Ok(false);
        };
        live.live = false;
        let old = live.id;
        let newer = match listing.rotated.iter().position(|f| f.id == old) {
            Some(at) => at,
            None => {
                if !listing.rotated.is_empty() {
                    tracing::warn!(path = %self.path.display(), "log rotated faster than it was followed; some entries were skipped");
                }
                listing.rotated.len()
            }
        };
        for f in listing.rotated.into_iter().take(newer).rev() {
            self.segments
                .push_back(Segment::new(f.file, f.id, 0, None, false));
        }
        self.segments
            .push_back(Segment::new(current.file, current.id, 0, None, true));
        Ok(true)
    }

    fn open_new_live(&mut self, pos: u64) -> io::Result<()> {
        if let Some(f) = OpenFile::open(&self.path)? {
            self.segments
                .push_back(Segment::new(f.file, f.id, pos, None, true));
        }
        Ok(())
    }
}

/// Decodes the complete entries in `segment.pending` into `out`; false when `until` was
/// passed.
fn decode_pending(
    format: Format,
    segment: &mut Segment,
    window: &mut Window,
    out: &mut Vec<io::Result<LogEntry>>,
) -> bool {
    let mut used = 0;
    let mut keep_going = true;
    while used < segment.pending.len() {
        match format.decode(&segment.pending[used..]) {
            Decoded::Incomplete => break,
            Decoded::Entry { consumed, entry } => {
                used += consumed;
                match entry {
                    Ok(entry) => match window.judge(entry.time) {
                        Verdict::Skip => {}
                        Verdict::Take => out.push(Ok(entry)),
                        Verdict::Stop => {
                            keep_going = false;
                            break;
                        }
                    },
                    Err(e) => tracing::warn!(error = %e, "skipping undecodable log entry"),
                }
            }
            Decoded::Corrupt(e) => {
                out.push(Err(e));
                // Nothing after a broken frame can be trusted: give up on this file.
                used = segment.pending.len();
                segment.end = Some(segment.pos);
                segment.live = false;
                break;
            }
        }
    }
    segment.pending.drain(..used);
    keep_going
}

/// An open log file.
#[derive(Debug)]
struct OpenFile {
    file: File,
    id: FileId,
    size: u64,
}

impl OpenFile {
    fn open(path: &Path) -> io::Result<Option<Self>> {
        match File::open(path) {
            Ok(file) => {
                let meta = file.metadata()?;
                Ok(Some(OpenFile {
                    file,
                    id: FileId::of(&meta),
                    size: meta.len(),
                }))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// The log's files, opened together while no rotation was under way.
#[derive(Debug)]
struct Listing {
    current: Option<OpenFile>,
    /// `path.1`, `path.2`, …: newest first.
    rotated: Vec<OpenFile>,
}

fn id_at(path: &Path) -> Option<FileId> {
    fs::metadata(path).ok().map(|m| FileId::of(&m))
}

/// Opens `path` and `path.1`, `path.2`, … and checks afterwards that every name still
/// names the file opened, so a rotation cascade (renames from the oldest down) running
/// meanwhile is noticed and the listing retried.
fn list_files(path: &Path) -> io::Result<Listing> {
    for _ in 0..LISTING_ATTEMPTS {
        let current = OpenFile::open(path)?;
        let mut rotated = Vec::new();
        while let Some(file) = OpenFile::open(&rotated_path(path, rotated.len() as u32 + 1))? {
            rotated.push(file);
        }
        let stable = id_at(path) == current.as_ref().map(|f| f.id)
            && rotated
                .iter()
                .enumerate()
                .all(|(i, f)| id_at(&rotated_path(path, i as u32 + 1)) == Some(f.id))
            && !rotated_path(path, rotated.len() as u32 + 1).exists();
        // No current file but rotated ones: between the writer's rename and create.
        if stable && (current.is_some() || rotated.is_empty()) {
            return Ok(Listing { current, rotated });
        }
        std::thread::sleep(ROTATION_GAP);
    }
    Err(io::Error::other(
        "log files kept rotating while being opened",
    ))
}
/// Keeps only the last `n` entries: counts backwards from the newest file.
fn apply_tail(format: Format, plan: &mut Vec<Segment>, n: usize) -> io::Result<()> {
    let mut remaining = n;
    let mut first_kept = plan.len();
    for (i, segment) in plan.iter_mut().enumerate().rev() {
        let size = segment_size(segment)?;
        if remaining == 0 {
            break;
        }
        let (start, found) = format.tail_start(&segment.file, size, remaining)?;
        segment.pos = start;
        remaining -= found;
        first_kept = i;
    }
    if n == 0 {
        // Nothing from the past; a live file is followed from its current end.
        if let Some(last) = plan.last_mut().filter(|s| s.live) {
            last.pos = segment_size(last)?;
            first_kept = plan.len() - 1;
        }
    }
    plan.drain(..first_kept);
    Ok(())
}

/// Skips files that end before `since` and binary searches the first one that does not.
fn apply_since(format: Format, plan: &mut Vec<Segment>, since: SystemTime) -> io::Result<()> {
    let mut skip = 0;
    for segment in plan.iter_mut() {
        let size = segment_size(segment)?;
        match format.last_time(&segment.file, size)? {
            Some(last) if last >= since => {
                segment.pos = search_since(format, segment, size, since)?;
                break;
            }
            _ if segment.live => {
                // Everything so far is too old; follow from the end.
                segment.pos = segment.pos.max(size);
                break;
            }
            _ => skip += 1,
        }
    }
    plan.drain(..skip);
    Ok(())
}

/// An entry start at or before the first entry with time ≥ `since`, not before
/// `segment.pos` (assuming times grow through the file; the window filter then drops
/// what is still too old).
fn search_since(format: Format, segment: &Segment, end: u64, since: SystemTime) -> io::Result<u64> {
    let mut lo = segment.pos;
    let mut hi = end;
    while hi - lo > SEARCH_SCAN_BYTES {
        let mid = lo + (hi - lo) / 2;
        match format.probe(&segment.file, mid, end)? {
            Some((start, time)) if time < since && start < hi => lo = start,
            _ => hi = mid,
        }
    }
    Ok(lo)
}

fn segment_size(segment: &Segment) -> io::Result<u64> {
    match segment.end {
        Some(end) => Ok(end),
        None => Ok(segment.file.metadata()?.len()),
    }
}
