//! `GET /containers/{id}/logs?details=1`: each line is prefixed with its entry's extra
//! attributes as `k1=v1,k2=v2 ` (moby's `httputils.attrsByteSlice`: sorted by key, keys
//! and values escaped by Go's `url.QueryEscape`), even when there are none (a lone space).

/// Appends the details prefix, trailing space included, for `attrs` to `out`.
pub fn write_prefix(out: &mut Vec<u8>, attrs: &[(String, String)]) {
    let mut sorted: Vec<&(String, String)> = attrs.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    for (i, (k, v)) in sorted.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        query_escape(out, k);
        out.push(b'=');
        query_escape(out, v);
    }
    out.push(b' ');
}

/// Go's `url.QueryEscape`: unreserved bytes (`A-Za-z0-9-_.~`) as they are, space as `+`,
/// everything else `%XX` (upper-case hex).
fn query_escape(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b),
            b' ' => out.push(b'+'),
            _ => {
                out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefix(attrs: &[(&str, &str)]) -> String {
        let attrs: Vec<(String, String)> = attrs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let mut out = Vec::new();
        write_prefix(&mut out, &attrs);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn sorted_by_key_bytes_and_query_escaped() {
        assert_eq!(prefix(&[("a", "1"), ("FOO", "bar")]), "FOO=bar,a=1 ");
        assert_eq!(
            prefix(&[("k y", "a b&c=d/é~")]),
            "k+y=a+b%26c%3Dd%2F%C3%A9~ "
        );
        assert_eq!(prefix(&[]), " ");
    }
}
