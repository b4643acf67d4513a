//! Path strings as Go's `path`/`filepath` and moby's archive helpers treat them: cleaning,
//! base names, and the trailing `/` or `/.` that `docker cp` gives a meaning to. Pure
//! string work on bytes (names in archives need not be UTF-8); nothing here touches a
//! filesystem.

/// Go's `path.Clean`: the shortest equivalent path, lexically (`a/../b` → `b`, `/..` → `/`,
/// empty → `.`).
pub fn clean(path: &[u8]) -> Vec<u8> {
    if path.is_empty() {
        return b".".to_vec();
    }
    let rooted = path[0] == b'/';
    let mut parts: Vec<&[u8]> = Vec::new();
    for comp in path.split(|b| *b == b'/') {
        match comp {
            b"" | b"." => {}
            b".." => {
                if parts.last().is_some_and(|p| *p != b"..") {
                    parts.pop();
                } else if !rooted {
                    parts.push(comp);
                }
            }
            _ => parts.push(comp),
        }
    }
    let joined = parts.join(&b'/');
    match (rooted, joined.is_empty()) {
        (true, _) => [b"/".as_slice(), &joined].concat(),
        (false, true) => b".".to_vec(),
        (false, false) => joined,
    }
}

/// Go's `filepath.Base`: the last element, trailing slashes ignored; `/` for the root and
/// `.` for an empty path.
pub fn base(path: &[u8]) -> &[u8] {
    if path.is_empty() {
        return b".";
    }
    let trimmed = trim_trailing_slashes(path);
    if trimmed.is_empty() {
        return b"/";
    }
    match trimmed.iter().rposition(|b| *b == b'/') {
        Some(i) => &trimmed[i + 1..],
        None => trimmed,
    }
}

/// Go's `filepath.Dir`: everything but the last element, cleaned.
pub fn dir(path: &[u8]) -> Vec<u8> {
    match path.iter().rposition(|b| *b == b'/') {
        Some(i) => clean(&path[..=i]),
        None => b".".to_vec(),
    }
}

fn trim_trailing_slashes(path: &[u8]) -> &[u8] {
    let end = path.iter().rposition(|b| *b != b'/').map_or(0, |i| i + 1);
    &path[..end]
}

/// Whether the last element is `.` (`docker cp c:/dir/. …` copies the contents of `dir`).
pub fn specifies_current_dir(path: &[u8]) -> bool {
    base(path) == b"."
}

pub fn has_trailing_separator(path: &[u8]) -> bool {
    path.last() == Some(&b'/')
}

/// moby's `PreserveTrailingDotOrSeparator`: `cleaned` with the trailing `/.` or `/` that
/// `original` had and cleaning dropped.
pub fn preserve_trailing_dot_or_separator(cleaned: &[u8], original: &[u8]) -> Vec<u8> {
    let mut out = cleaned.to_vec();
    if !specifies_current_dir(&out) && specifies_current_dir(original) {
        if !has_trailing_separator(&out) {
            out.push(b'/');
        }
        out.push(b'.');
    }
    if !has_trailing_separator(&out) && has_trailing_separator(original) {
        out.push(b'/');
    }
    out
}

/// moby's `SplitPathDirEntry`: the directory and the entry of a path, keeping a final `.`.
pub fn split_dir_entry(path: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut cleaned = clean(path);
    if specifies_current_dir(path) {
        cleaned.extend_from_slice(b"/.");
    }
    (dir(&cleaned), base(&cleaned).to_vec())
}

/// A container path as the archive API takes it: absolute, cleaned, with the trailing `/`
/// or `/.` of the request kept (`filepath.Join("/", p)` + the preservation).
pub fn container_path(requested: &str) -> Vec<u8> {
    let joined = clean(&[b"/", requested.as_bytes()].concat());
    preserve_trailing_dot_or_separator(&joined, requested.as_bytes())
}

/// Strips leading slashes and cleans an archive entry name; `None` when it would climb
/// out of the extraction directory (moby's breakout check).
pub fn local_entry_name(name: &[u8]) -> Option<Vec<u8>> {
    let start = name.iter().position(|b| *b != b'/').unwrap_or(name.len());
    let cleaned = clean(&name[start..]);
    if cleaned == b".." || cleaned.starts_with(b"../") {
        return None;
    }
    Some(cleaned)
}

/// Replaces the first occurrence of `old` in `name` by `new` (Go's `strings.Replace(…, 1)`,
/// which moby's archive rebasing uses). An empty `old` prefixes `new`.
pub fn replace_first(name: &[u8], old: &[u8], new: &[u8]) -> Vec<u8> {
    if old.is_empty() {
        return [new, name].concat();
    }
    match name.windows(old.len()).position(|w| w == old) {
        Some(i) => [&name[..i], new, &name[i + old.len()..]].concat(),
        None => name.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: impl AsRef<[u8]>) -> String {
        String::from_utf8(v.as_ref().to_vec()).unwrap()
    }

    #[test]
    fn clean_matches_go() {
        for (input, want) in [
            ("", "."),
            ("/", "/"),
            ("/..", "/"),
            ("/../a/./b//c/..", "/a/b"),
            ("a/../..", ".."),
            ("../../x", "../../x"),
            ("a/b/", "a/b"),
            ("./", "."),
        ] {
            assert_eq!(s(clean(input.as_bytes())), want, "{input}");
        }
    }

    #[test]
    fn base_and_dir_match_go() {
        assert_eq!(s(base(b"/foo/")), "foo");
        assert_eq!(s(base(b"/foo/.")), ".");
        assert_eq!(s(base(b"/")), "/");
        assert_eq!(s(base(b"")), ".");
        assert_eq!(s(dir(b"/a/b")), "/a");
        assert_eq!(s(dir(b"b")), ".");
        assert_eq!(s(dir(b"/b")), "/");
    }

    #[test]
    fn container_paths_keep_the_trailing_meaning() {
        assert_eq!(s(container_path("etc")), "/etc");
        assert_eq!(s(container_path("etc/")), "/etc/");
        assert_eq!(s(container_path("/etc/.")), "/etc/.");
        assert_eq!(s(container_path("/etc/./")), "/etc/./");
        assert_eq!(s(container_path("../../etc/../")), "/");
        assert_eq!(s(container_path(".")), "/.");
        assert_eq!(s(container_path("/")), "/");
    }

    #[test]
    fn split_keeps_a_final_dot() {
        let (d, b) = split_dir_entry(b"/a/b/.");
        assert_eq!((s(d), s(b)), ("/a/b".into(), ".".into()));
        let (d, b) = split_dir_entry(b"/a/b/");
        assert_eq!((s(d), s(b)), ("/a".into(), "b".into()));
    }

    #[test]
    fn entry_names_may_not_climb_out() {
        assert_eq!(s(local_entry_name(b"/etc/passwd").unwrap()), "etc/passwd");
        assert_eq!(s(local_entry_name(b"a/../b").unwrap()), "b");
        assert_eq!(s(local_entry_name(b"./").unwrap()), ".");
        assert!(local_entry_name(b"../x").is_none());
        assert!(local_entry_name(b"a/../../x").is_none());
        assert!(local_entry_name(b"..").is_none());
    }

    #[test]
    fn replace_first_rebases_like_go() {
        assert_eq!(s(replace_first(b"foo/foo/x", b"foo", b"bar")), "bar/foo/x");
        assert_eq!(s(replace_first(b"/bin/sh", b"", b"dst")), "dst/bin/sh");
        assert_eq!(s(replace_first(b"x", b"y", b"z")), "x");
    }
}
