//! Go's `path.Match`, which Docker's `reference` filter uses: `*` and `?` never match
//! `/`, `[...]` classes with ranges and `^` negation, `\` escapes.

/// `Err(())` for a malformed pattern (Go's `ErrBadPattern`).
pub(crate) fn path_match(pattern: &str, name: &str) -> Result<bool, ()> {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    match_from(&p, &n)
}

fn match_from(p: &[char], n: &[char]) -> Result<bool, ()> {
    match p.first() {
        None => Ok(n.is_empty()),
        Some('*') => {
            // Try every split that does not cross a '/'.
            for i in 0..=n.len() {
                if match_from(&p[1..], &n[i..])? {
                    return Ok(true);
                }
                if i < n.len() && n[i] == '/' {
                    break;
                }
            }
            // Still validate the rest of the pattern (Go reports bad patterns).
            Ok(false)
        }
        Some('?') => match n.first() {
            Some(c) if *c != '/' => match_from(&p[1..], &n[1..]),
            _ => Ok(false),
        },
        Some('[') => {
            let (matched, rest) = match_class(&p[1..], n.first().copied())?;
            match (matched, n.first()) {
                (true, Some(_)) => match_from(rest, &n[1..]),
                _ => Ok(false),
            }
        }
        Some('\\') => {
            let c = *p.get(1).ok_or(())?;
            match n.first() {
                Some(x) if *x == c => match_from(&p[2..], &n[1..]),
                _ => Ok(false),
            }
        }
        Some(c) => match n.first() {
            Some(x) if x == c => match_from(&p[1..], &n[1..]),
            _ => Ok(false),
        },
    }
}

/// Matches one character against a class starting after `[`; returns the rest of the
/// pattern after `]`.
fn match_class(p: &[char], c: Option<char>) -> Result<(bool, &[char]), ()> {
    let mut i = 0;
    let negated = p.first() == Some(&'^');
    if negated {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let ch = *p.get(i).ok_or(())?;
        if ch == ']' && !first {
            i += 1;
            break;
        }
        first = false;
        let (lo, next) = class_char(p, i)?;
        let (hi, next) = if p.get(next) == Some(&'-') && p.get(next + 1) != Some(&']') {
            class_char(p, next + 1)?
        } else {
            (lo, next)
        };
        if hi < lo {
            return Err(());
        }
        if let Some(c) = c {
            if lo <= c && c <= hi {
                matched = true;
            }
        }
        i = next;
    }
    Ok((matched != negated && c.is_some_and(|c| c != '/'), &p[i..]))
}

fn class_char(p: &[char], i: usize) -> Result<(char, usize), ()> {
    match p.get(i) {
        Some('\\') => p.get(i + 1).map(|c| (*c, i + 2)).ok_or(()),
        Some(c) => Ok((*c, i + 1)),
        None => Err(()),
    }
}

#[cfg(test)]
mod tests {
    use super::path_match;

    #[test]
    fn matches_like_go_path_match() {
        let cases = [
            ("abc", "abc", true),
            ("*", "abc", true),
            ("*c", "abc", true),
            ("a*", "a", true),
            ("a*/b", "abc/b", true),
            ("a*", "ab/c", false),
            ("a*b?c*x", "abxbbxdbxebxczzx", true),
            ("a*b?c*x", "abxbbxdbxebxczzy", false),
            ("ab[c]", "abc", true),
            ("ab[b-d]", "abc", true),
            ("ab[e-g]", "abc", false),
            ("ab[^c]", "abc", false),
            ("ab[^e-g]", "abc", true),
            ("a\\*b", "a*b", true),
            ("a\\*b", "ab", false),
            ("a?b", "a/b", false),
            ("busybox*", "busybox:latest", true),
            ("*/*", "user/repo", true),
        ];
        for (p, n, want) in cases {
            assert_eq!(path_match(p, n), Ok(want), "{p:?} vs {n:?}");
        }
        assert!(path_match("[", "a").is_err());
        assert!(path_match("a\\", "a").is_err());
    }
}
