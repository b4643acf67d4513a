//! Query strings, encoded as Go's `url.Values` encodes them.

#[derive(Default)]
pub struct Query(Vec<(String, String)>);

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Query {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, key: &str, value: &str) {
        self.0.push((key.to_owned(), value.to_owned()));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn encode(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// `path?query`, or just `path` when there is no query.
    pub fn path(&self, path: &str) -> String {
        if self.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{}", self.encode())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_go() {
        let mut q = Query::new();
        q.push("changes", "CMD [\"sh\"]");
        q.push("repo", "a/b");
        assert_eq!(q.path("/x"), "/x?changes=CMD+%5B%22sh%22%5D&repo=a%2Fb");
        assert_eq!(Query::new().path("/x"), "/x");
    }
}
