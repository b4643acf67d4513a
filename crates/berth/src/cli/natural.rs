//! Natural ordering as `fvbommel/sortorder.NaturalLess` defines it, which the docker CLI
//! uses to sort network names and port mappings: runs of ASCII digits compare as numbers
//! (fewer leading zeros first on a tie), digits sort before other bytes, other bytes
//! compare bytewise.

use std::cmp::Ordering;

/// Compares `a` and `b` in natural order.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (da, db) = (a[i].is_ascii_digit(), b[j].is_ascii_digit());
        if da != db {
            return if da {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        if !da {
            match a[i].cmp(&b[j]) {
                Ordering::Equal => {
                    i += 1;
                    j += 1;
                    continue;
                }
                other => return other,
            }
        }
        let (num_a, next_i) = number_at(a, i);
        let (num_b, next_j) = number_at(b, j);
        // A shorter significant part is a smaller number; equal lengths compare as text.
        let by_value = num_a.len().cmp(&num_b.len()).then_with(|| num_a.cmp(num_b));
        // Then the one with fewer leading zeros (its number starts earlier) first.
        let by_zeros = (next_i - num_a.len()).cmp(&(next_j - num_b.len()));
        match by_value.then(by_zeros) {
            Ordering::Equal => {}
            other => return other,
        }
        (i, j) = (next_i, next_j);
    }
    (a.len() - i).cmp(&(b.len() - j))
}

/// The digits from `start` without leading zeros, and the index after the run.
fn number_at(s: &[u8], start: usize) -> (&[u8], usize) {
    let mut k = start;
    while k < s.len() && s[k] == b'0' {
        k += 1;
    }
    let significant = k;
    while k < s.len() && s[k].is_ascii_digit() {
        k += 1;
    }
    (&s[significant..k], k)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(items: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = items.iter().map(|s| s.to_string()).collect();
        v.sort_by(|a, b| compare(a, b));
        v
    }

    #[test]
    fn numbers_compare_by_value() {
        assert_eq!(
            sorted(&["net10", "net2", "net1", "net"]),
            ["net", "net1", "net2", "net10"]
        );
        assert_eq!(
            sorted(&[
                "443/tcp -> 0.0.0.0:8443",
                "80/tcp -> 0.0.0.0:80",
                "81/udp -> :1"
            ]),
            [
                "80/tcp -> 0.0.0.0:80",
                "81/udp -> :1",
                "443/tcp -> 0.0.0.0:8443"
            ]
        );
    }

    #[test]
    fn digits_first_then_bytes_then_zeros() {
        assert_eq!(compare("1a", "a"), Ordering::Less);
        assert_eq!(compare("B", "a"), Ordering::Less);
        assert_eq!(compare("x2", "x02"), Ordering::Less);
        assert_eq!(compare("x02", "x2"), Ordering::Greater);
        assert_eq!(compare("abc", "abc"), Ordering::Equal);
        assert_eq!(compare("ab", "abc"), Ordering::Less);
    }
}
