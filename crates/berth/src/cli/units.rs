//! go-units' human formats, as the docker CLI prints sizes and ages.

/// Go's `%.{prec}g`: shortest of fixed or exponent notation with `prec` significant digits.
fn go_g(v: f64, prec: usize) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let exp = format!("{:.*e}", prec.saturating_sub(1), v);
    let (mantissa, e) = exp.split_once('e').unwrap_or((&exp, "0"));
    let e: i32 = e.parse().unwrap_or(0);
    if e < -4 || e >= prec as i32 {
        let mantissa = trim_zeros(mantissa);
        return format!("{mantissa}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs());
    }
    let decimals = (prec as i32 - 1 - e).max(0) as usize;
    trim_zeros(&format!("{v:.decimals$}")).to_owned()
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// `units.HumanSizeWithPrecision(size, 3)`: decimal units (`4.26MB`).
pub fn human_size(bytes: f64) -> String {
    human_size_precision(bytes, 3)
}

/// `units.HumanSizeWithPrecision`: decimal units with `precision` significant digits
/// (`units.HumanSize` is precision 4).
pub fn human_size_precision(bytes: f64, precision: usize) -> String {
    const UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
    let mut size = bytes;
    let mut i = 0;
    while size >= 1000.0 && i < UNITS.len() - 1 {
        size /= 1000.0;
        i += 1;
    }
    format!("{}{}", go_g(size, precision), UNITS[i])
}

/// `units.BytesSize`: binary units with 4 significant digits (`1.5MiB`).
pub fn bytes_size(bytes: f64) -> String {
    const UNITS: [&str; 9] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];
    let mut size = bytes;
    let mut i = 0;
    while size >= 1024.0 && i < UNITS.len() - 1 {
        size /= 1024.0;
        i += 1;
    }
    format!("{}{}", go_g(size, 4), UNITS[i])
}

/// `units.HumanDuration`, shared with the daemon (`ps` Status strings).
pub use berth_api::units::human_duration;

/// Seconds since a unix timestamp, for "… ago" columns.
pub fn since(unix_secs: i64) -> i64 {
    chrono::Utc::now().timestamp() - unix_secs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_match_go_units() {
        assert_eq!(human_size(4_261_480.0), "4.26MB");
        assert_eq!(human_size(0.0), "0B");
        assert_eq!(human_size(999.0), "999B");
        assert_eq!(human_size(1000.0), "1kB");
        assert_eq!(human_size(123_456_789.0), "123MB");
        assert_eq!(human_size(1_500_000_000.0), "1.5GB");
        assert_eq!(human_size(999_600.0), "1e+03kB");
        assert_eq!(human_size_precision(1_234_567.0, 4), "1.235MB");
    }

    #[test]
    fn binary_sizes_match_go_units() {
        assert_eq!(bytes_size(0.0), "0B");
        assert_eq!(bytes_size(1536.0), "1.5KiB");
        assert_eq!(bytes_size(1_048_576.0), "1MiB");
        assert_eq!(bytes_size(23_662_592.0), "22.57MiB");
        assert_eq!(bytes_size(16.0 * 1024.0 * 1024.0 * 1024.0), "16GiB");
    }
}
