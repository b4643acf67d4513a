//! Go's `time.RFC3339Nano` in UTC: `2006-01-02T15:04:05.999999999Z`, with trailing zeros
//! of the fraction (and the dot, when nothing is left) removed, as json-file's `time`.

use std::time::{Duration, SystemTime};

/// Formats `time` as Go's `t.UTC().Format(time.RFC3339Nano)`. Times before 1970 are
/// clamped to the epoch (container output never carries them).
pub fn format_rfc3339_nano(time: SystemTime) -> String {
    let mut out = String::with_capacity(30);
    write_rfc3339_nano(&mut out, time);
    out
}

pub(crate) fn write_rfc3339_nano(out: &mut String, time: SystemTime) {
    use std::fmt::Write;
    let since_epoch = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since_epoch.as_secs();
    let (year, month, day) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    let _ = write!(
        out,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    );
    let nanos = since_epoch.subsec_nanos();
    if nanos != 0 {
        let mut digits = format!("{nanos:09}");
        while digits.ends_with('0') {
            digits.pop();
        }
        out.push('.');
        out.push_str(&digits);
    }
    out.push('Z');
}

/// Formats `time` as moby's `RFC3339NanoFixed` (`2006-01-02T15:04:05.000000000Z`), the
/// prefix `docker logs --timestamps` puts on each line: always nine fraction digits.
pub fn format_rfc3339_nano_fixed(time: SystemTime) -> String {
    let mut out = format_rfc3339_nano(time);
    let nanos = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    // Replace the trimmed fraction (if any) and the Z with the fixed-width one.
    let seconds_end = out.find('.').unwrap_or(out.len() - 1);
    out.truncate(seconds_end);
    out.push_str(&format!(".{nanos:09}Z"));
    out
}

/// Parses an RFC 3339 timestamp with optional fraction (up to 9 digits) and `Z` or a
/// `±hh:mm` offset, as Go's `time.Parse(time.RFC3339Nano, …)` accepts them.
pub fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u64> {
        let s = &b[range];
        s.iter()
            .all(u8::is_ascii_digit)
            .then(|| s.iter().fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0')))
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    if second > 60 {
        return None;
    }
    let mut i = 19;
    let mut nanos = 0u32;
    if b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let digits = &b[start..i];
        if digits.is_empty() || digits.len() > 9 {
            return None;
        }
        nanos = digits
            .iter()
            .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'))
            * 10u32.pow(9 - digits.len() as u32);
    }
    let offset_secs: i64 = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let h = num(i + 1..i + 3)? as i64;
            let m = num(i + 4..i + 6)? as i64;
            let off = h * 3600 + m * 60;
            if *sign == b'+' {
                off
            } else {
                -off
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year as i64, month as u32, day as u32);
    let secs = days * 86_400 + (hour * 3600 + minute * 60 + second) as i64 - offset_secs;
    let secs = u64::try_from(secs).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::new(secs, nanos))
}

/// Howard Hinnant's `days_from_civil`.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Howard Hinnant's `civil_from_days`.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: u64, nanos: u32) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::new(secs, nanos)
    }

    #[test]
    fn formats_like_go_rfc3339nano() {
        // 2026-11-23T10:00:00Z = 1795428000
        assert_eq!(
            format_rfc3339_nano(t(1_795_428_000, 123_456_789)),
            "2026-11-23T10:00:00.123456789Z"
        );
        assert_eq!(
            format_rfc3339_nano(t(1_795_428_000, 120_000_000)),
            "2026-11-23T10:00:00.12Z"
        );
        assert_eq!(
            format_rfc3339_nano(t(1_795_428_000, 0)),
            "2026-11-23T10:00:00Z"
        );
        assert_eq!(
            format_rfc3339_nano(t(951_782_400, 1)),
            "2000-02-29T00:00:00.000000001Z"
        );
        assert_eq!(format_rfc3339_nano(t(0, 0)), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn fixed_format_keeps_nine_digits() {
        assert_eq!(
            format_rfc3339_nano_fixed(t(1_795_428_000, 0)),
            "2026-11-23T10:00:00.000000000Z"
        );
        assert_eq!(
            format_rfc3339_nano_fixed(t(1_795_428_000, 120_000_000)),
            "2026-11-23T10:00:00.120000000Z"
        );
    }

    #[test]
    fn parses_what_it_formats_and_offsets() {
        for (s, n) in [
            (1_795_428_000, 123_456_789),
            (951_782_400, 1),
            (4_102_444_799, 999_999_999),
        ] {
            let time = t(s, n);
            assert_eq!(parse_rfc3339(&format_rfc3339_nano(time)), Some(time));
        }
        assert_eq!(
            parse_rfc3339("2026-11-23T11:30:00.5+01:30"),
            Some(t(1_795_428_000, 500_000_000))
        );
        assert_eq!(
            parse_rfc3339("2026-11-23T08:00:00-02:00"),
            Some(t(1_795_428_000, 0))
        );
        assert_eq!(parse_rfc3339("2026-11-23 10:00:00Z"), None);
        assert_eq!(parse_rfc3339("2026-11-23T10:00:00.Z"), None);
        assert_eq!(parse_rfc3339("2026-11-23T10:00:00"), None);
        assert_eq!(parse_rfc3339("2026-13-23T10:00:00Z"), None);
    }
}
