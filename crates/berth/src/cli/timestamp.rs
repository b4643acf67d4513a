//! `--since`/`--until` values, converted client-side as the docker CLI does
//! (`timetypes.GetTimestamp`): a Go duration counts back from now; RFC 3339 times and dates
//! become `SECONDS.NANOS`; a unix timestamp passes through.

use anyhow::{bail, Result};
use chrono::{DateTime, FixedOffset, Local, NaiveDate, NaiveDateTime, Offset, TimeZone};

/// Parses a Go duration (`1h30m`, `10s`, `1.5h`, `-2m`) into nanoseconds.
pub fn parse_go_duration(s: &str) -> Option<i128> {
    let (neg, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (num, tail) = rest.split_at(num_end);
        if num.is_empty() || num == "." {
            return None;
        }
        let value: f64 = num.parse().ok()?;
        let unit_end = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, after) = tail.split_at(unit_end);
        let scale = match unit {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        total += value * scale;
        rest = after;
    }
    let n = total as i128;
    Some(if neg { -n } else { n })
}

/// Converts a `--since`/`--until` value to what the API expects.
pub fn to_api_timestamp(value: &str, now: DateTime<Local>) -> Result<String> {
    if value != "0" {
        if let Some(d) = parse_go_duration(value) {
            let t = now.timestamp_nanos_opt().unwrap_or(0) as i128 - d;
            return Ok(t.div_euclid(1_000_000_000).to_string());
        }
    }
    let in_local = !value.contains(['z', 'Z', '+']) && value.matches('-').count() != 3;
    match parse_time(value, in_local, now.offset().fix()) {
        Some(t) => Ok(format!(
            "{}.{:09}",
            t.timestamp(),
            t.timestamp_subsec_nanos()
        )),
        None if value.contains('-') => bail!("failed to parse value as time: {value:?}"),
        None if is_unix_timestamp(value) => Ok(value.to_owned()),
        None => bail!("failed to parse value as time or duration: {value:?}"),
    }
}

fn is_unix_timestamp(v: &str) -> bool {
    let (secs, frac) = v.split_once('.').unwrap_or((v, "0"));
    secs.parse::<i64>().is_ok() && frac.parse::<u64>().is_ok()
}

fn parse_time(v: &str, in_local: bool, local: FixedOffset) -> Option<DateTime<FixedOffset>> {
    if !in_local {
        let v = v.replacen('z', "Z", 1);
        if let Ok(t) = DateTime::parse_from_rfc3339(&v) {
            return Some(t);
        }
        // Dates and partial times with a zone: pad to a full RFC 3339 time.
        let (body, zone) = split_zone(&v)?;
        return parse_local_naive(body).and_then(|n| {
            let offset = if zone == "Z" {
                FixedOffset::east_opt(0)?
            } else {
                DateTime::parse_from_rfc3339(&format!("2000-01-01T00:00:00{zone}"))
                    .ok()?
                    .offset()
                    .fix()
            };
            offset.from_local_datetime(&n).single()
        });
    }
    parse_local_naive(v).and_then(|n| local.from_local_datetime(&n).single())
}

fn split_zone(v: &str) -> Option<(&str, &str)> {
    if let Some(body) = v.strip_suffix('Z') {
        return Some((body, "Z"));
    }
    let i = v.rfind(['+', '-'])?;
    (i >= 10).then(|| (&v[..i], &v[i..]))
}

fn parse_local_naive(v: &str) -> Option<NaiveDateTime> {
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(v, f) {
            return Some(t);
        }
    }
    if let Some((d, h)) = v.split_once('T') {
        let hour: u32 = h.parse().ok()?;
        return NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .ok()?
            .and_hms_opt(hour, 0, 0);
    }
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .ok()?
        .and_hms_opt(0, 0, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Local> {
        Local.timestamp_opt(1_700_000_000, 500).unwrap()
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("1h"), Some(3_600_000_000_000));
        assert_eq!(parse_go_duration("1h30m"), Some(5_400_000_000_000));
        assert_eq!(parse_go_duration("1.5s"), Some(1_500_000_000));
        assert_eq!(parse_go_duration("-2m"), Some(-120_000_000_000));
        assert_eq!(parse_go_duration("0s"), Some(0));
        assert_eq!(parse_go_duration("10"), None);
        assert_eq!(parse_go_duration("1d"), None);
        assert_eq!(parse_go_duration(""), None);
    }

    #[test]
    fn durations_count_back_from_now_in_whole_seconds() {
        assert_eq!(to_api_timestamp("1h", now()).unwrap(), "1699996400");
        assert_eq!(to_api_timestamp("0s", now()).unwrap(), "1700000000");
    }

    #[test]
    fn times_and_timestamps() {
        assert_eq!(
            to_api_timestamp("2023-11-14T22:13:20Z", now()).unwrap(),
            "1700000000.000000000"
        );
        assert_eq!(
            to_api_timestamp("2023-11-14T22:13:20.25Z", now()).unwrap(),
            "1700000000.250000000"
        );
        assert_eq!(
            to_api_timestamp("2023-11-14T23:13:20+01:00", now()).unwrap(),
            "1700000000.000000000"
        );
        assert_eq!(to_api_timestamp("1700000000", now()).unwrap(), "1700000000");
        assert_eq!(
            to_api_timestamp("1700000000.5", now()).unwrap(),
            "1700000000.5"
        );
        assert_eq!(to_api_timestamp("0", now()).unwrap(), "0");
        assert!(to_api_timestamp("2023-13-45", now()).is_err());
        assert!(to_api_timestamp("yesterday", now()).is_err());
    }
}
