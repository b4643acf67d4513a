//! Reading cgroupfs files: single values, `key value` tables, process lists.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::StatsError;

fn io_error(path: &Path, source: io::Error) -> StatsError {
    StatsError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn parse_error(path: &Path, text: &str) -> StatsError {
    StatsError::Parse {
        path: path.to_path_buf(),
        text: text.to_string(),
    }
}

/// The file's text, or `None` when it does not exist.
pub fn read_optional(path: &Path) -> Result<Option<String>, StatsError> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(path, e)),
    }
}

pub fn read_required(path: &Path) -> Result<String, StatsError> {
    fs::read_to_string(path).map_err(|e| io_error(path, e))
}

/// containerd's `parseUint`: negative numbers (v1's `-1` limits) read as 0.
pub fn parse_u64(path: &Path, text: &str) -> Result<u64, StatsError> {
    let text = text.trim();
    match text.parse::<u64>() {
        Ok(v) => Ok(v),
        Err(_) if text.starts_with('-') && text[1..].bytes().all(|b| b.is_ascii_digit()) => Ok(0),
        Err(_) => Err(parse_error(path, text)),
    }
}

/// A single-number file; `max` reads as `max_value`.
pub fn read_u64(path: &Path, max_value: u64) -> Result<u64, StatsError> {
    let text = read_required(path)?;
    if text.trim() == "max" {
        return Ok(max_value);
    }
    parse_u64(path, &text)
}

/// Like [`read_u64`], 0 when the file is missing or unreadable (containerd's
/// `getStatFileContentUint64` on v2).
pub fn read_u64_or_zero(path: &Path, max_value: u64) -> u64 {
    read_u64(path, max_value).unwrap_or(0)
}

/// A `key value` per line file (`memory.stat`, `cpu.stat`, …); `None` when missing.
pub fn read_table(path: &Path) -> Result<Option<HashMap<String, u64>>, StatsError> {
    let Some(text) = read_optional(path)? else {
        return Ok(None);
    };
    let mut table = HashMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut fields = line.split_whitespace();
        match (fields.next(), fields.next(), fields.next()) {
            (Some(key), Some(value), None) => {
                table.insert(key.to_string(), parse_u64(path, value)?);
            }
            _ => return Err(parse_error(path, line)),
        }
    }
    Ok(Some(table))
}

/// Appends the PIDs in `dir/cgroup.procs` and in every cgroup below `dir`.
pub fn collect_procs(dir: &Path, out: &mut Vec<i32>) -> Result<(), StatsError> {
    let procs: PathBuf = dir.join("cgroup.procs");
    let text = read_required(&procs)?;
    for line in text.lines().filter(|l| !l.is_empty()) {
        out.push(line.trim().parse().map_err(|_| parse_error(&procs, line))?);
    }
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => return Err(io_error(dir, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| io_error(dir, e))?;
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            match collect_procs(&entry.path(), out) {
                // A child cgroup removed while walking.
                Err(StatsError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {}
                other => other?,
            }
        }
    }
    Ok(())
}
