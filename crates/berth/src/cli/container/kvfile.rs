//! `--env-file` and `--label-file` (docker's `kvfile`): `KEY=value` lines, comments and
//! blank lines skipped; in env files a bare `KEY` takes the local value if it has one.

use std::path::Path;

/// `opts.ReadKVStrings`: lines of each file, then the flags. Env files look bare names
/// up in the local environment; label files keep them.
pub fn read_kv_strings(
    files: &[String],
    overrides: &[String],
    lookup_env: bool,
) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for f in files {
        out.extend(parse_kv_file(Path::new(f), lookup_env)?);
    }
    out.extend(overrides.iter().cloned());
    Ok(out)
}

fn parse_kv_file(path: &Path, lookup_env: bool) -> Result<Vec<String>, String> {
    let bytes = std::fs::read(path).map_err(|e| {
        format!(
            "open {}: {}",
            path.display(),
            super::status::io_error_text(&e)
        )
    })?;
    let invalid = |msg: String| format!("invalid env file ({}): {msg}", path.display());
    let text = std::str::from_utf8(&bytes).map_err(|_| invalid("invalid utf8 bytes".to_owned()))?;
    let mut lines = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let raw = if i == 0 {
            raw.trim_start_matches('\u{feff}')
        } else {
            raw
        };
        let line = raw.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, has_value) = match line.split_once('=') {
            Some((k, _)) => (k, true),
            None => (line, false),
        };
        if key.is_empty() {
            return Err(invalid(format!("no variable name on line '{line}'")));
        }
        if key.contains([' ', '\t']) {
            return Err(invalid(format!("variable '{key}' contains whitespaces")));
        }
        if has_value {
            lines.push(line.to_owned());
        } else if lookup_env {
            if let Ok(v) = std::env::var(line) {
                lines.push(format!("{key}={v}"));
            }
        }
    }
    Ok(lines)
}

/// One entry per variable, the last value winning (docker merges them through a map).
pub fn dedupe_env(env: Vec<String>) -> Vec<String> {
    let key = |e: &str| e.split('=').next().unwrap_or_default().to_owned();
    let mut out: Vec<String> = Vec::new();
    for e in env {
        match out.iter_mut().find(|o| key(o) == key(&e)) {
            Some(slot) => *slot = e,
            None => out.push(e),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_files_are_read_before_flags() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("env");
        std::fs::write(
            &f,
            "\u{feff}# comment\nFROM_FILE=1\n  SPACED=2\nBERTH_TEST_SURELY_UNSET\n",
        )
        .unwrap();
        let env = read_kv_strings(&[f.display().to_string()], &["X=y".into()], true).unwrap();
        assert_eq!(env, ["FROM_FILE=1", "SPACED=2", "X=y"]);
        std::fs::write(&f, "BAD KEY=1\n").unwrap();
        let e = read_kv_strings(&[f.display().to_string()], &[], true).unwrap_err();
        assert!(
            e.ends_with("variable 'BAD KEY' contains whitespaces"),
            "{e}"
        );
    }

    #[test]
    fn later_flags_win_but_keep_their_place() {
        let env = dedupe_env(vec!["A=1".into(), "B=2".into(), "A=3".into()]);
        assert_eq!(env, ["A=3", "B=2"]);
    }
}
