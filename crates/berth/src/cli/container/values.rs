//! Flag value parsers with the docker CLI's rules and wording (`opts`, `go-units`,
//! `go-connections/nat`, Go's `strconv`). Each returns the error text docker prints after
//! `invalid argument "X" for "--flag" flag: `.

use std::net::IpAddr;

use serde_json::{json, Map, Value};

use crate::cli::timestamp::parse_go_duration;

/// Go's `strconv.ParseBool`.
pub fn go_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(format!("strconv.ParseBool: parsing {s:?}: invalid syntax")),
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)` as pflag's int flags use it (decimal, `0x`, `0o`,
/// `0b` and leading-zero octal).
pub fn go_i64(s: &str) -> Result<i64, String> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let syntax = || format!("strconv.ParseInt: parsing {s:?}: invalid syntax");
    let (radix, digits) = if let Some(d) = body.strip_prefix("0x").or(body.strip_prefix("0X")) {
        (16, d)
    } else if let Some(d) = body.strip_prefix("0o").or(body.strip_prefix("0O")) {
        (8, d)
    } else if let Some(d) = body.strip_prefix("0b").or(body.strip_prefix("0B")) {
        (2, d)
    } else if body.len() > 1 && body.starts_with('0') {
        (8, &body[1..])
    } else {
        (10, body)
    };
    let digits = digits.replace('_', "");
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err(syntax());
    }
    let magnitude = u128::from_str_radix(&digits, radix).map_err(|_| syntax())?;
    let value = if neg {
        -(magnitude as i128)
    } else {
        magnitude as i128
    };
    i64::try_from(value).map_err(|_| format!("strconv.ParseInt: parsing {s:?}: value out of range"))
}

/// pflag's `IntVar` (Go `int`, 64-bit here).
pub fn go_int(s: &str) -> Result<i64, String> {
    go_i64(s)
}

/// Go's `strconv.ParseUint(s, 0, 16)` (pflag's `Uint16Var`).
pub fn go_u16(s: &str) -> Result<u16, String> {
    let v = go_i64(s).map_err(|e| e.replace("ParseInt", "ParseUint"))?;
    if v < 0 {
        return Err(format!("strconv.ParseUint: parsing {s:?}: invalid syntax"));
    }
    u16::try_from(v).map_err(|_| format!("strconv.ParseUint: parsing {s:?}: value out of range"))
}

/// Go's `strconv.ParseUint(s, 0, 64)`.
pub fn go_u64(s: &str) -> Result<u64, String> {
    let v = go_i64(s).map_err(|e| e.replace("ParseInt", "ParseUint"))?;
    u64::try_from(v).map_err(|_| format!("strconv.ParseUint: parsing {s:?}: invalid syntax"))
}

/// A Go duration in nanoseconds (`time.ParseDuration`).
pub fn go_duration(s: &str) -> Result<i64, String> {
    parse_go_duration(s)
        .and_then(|n| i64::try_from(n).ok())
        .ok_or_else(|| format!("time: invalid duration {s:?}"))
}

/// `units.RAMInBytes`: `512m`, `1.5g`, `10KiB` (binary multiples), plain bytes.
pub fn ram_in_bytes(size: &str) -> Result<i64, String> {
    let sep = size
        .rfind(|c: char| c.is_ascii_digit() || c == '.' || c == ' ')
        .ok_or_else(|| format!("invalid size: '{size}'"))?;
    let (num, sfx) = if size.as_bytes()[sep] == b' ' {
        (&size[..sep], &size[sep + 1..])
    } else {
        (&size[..=sep], &size[sep + 1..])
    };
    let value: f64 = go_float(num)?;
    if value < 0.0 {
        return Err(format!("invalid size: '{size}'"));
    }
    if sfx.is_empty() {
        return Ok(value as i64);
    }
    let bad = || format!("invalid suffix: '{}'", sfx.to_lowercase());
    if sfx.len() > 3 {
        return Err(format!("invalid suffix: '{sfx}'"));
    }
    let lower = sfx.to_lowercase();
    let mut chars = lower.chars();
    let unit = chars.next().unwrap_or_default();
    if unit == 'b' {
        return if lower.len() > 1 {
            Err(bad())
        } else {
            Ok(value as i64)
        };
    }
    let mult: f64 = match unit {
        'k' => 1024.0,
        'm' => 1024.0 * 1024.0,
        'g' => 1024.0 * 1024.0 * 1024.0,
        't' => 1024f64.powi(4),
        'p' => 1024f64.powi(5),
        _ => return Err(bad()),
    };
    let rest = chars.as_str();
    if (lower.len() == 2 && rest != "b") || (lower.len() == 3 && rest != "ib") {
        return Err(bad());
    }
    Ok((value * mult) as i64)
}

/// Go's `strconv.ParseFloat` error wording.
fn go_float(s: &str) -> Result<f64, String> {
    let ok = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'));
    s.parse::<f64>()
        .ok()
        .filter(|_| ok)
        .ok_or_else(|| format!("strconv.ParseFloat: parsing {s:?}: invalid syntax"))
}

/// `--memory-swap`: bytes, or `-1` for unlimited.
pub fn mem_swap(s: &str) -> Result<i64, String> {
    if s == "-1" {
        Ok(-1)
    } else {
        ram_in_bytes(s)
    }
}

/// `--cpus`: a rational number of CPUs, in billionths (`opts.ParseCPUs`).
pub fn nano_cpus(s: &str) -> Result<i64, String> {
    let bad = || format!("failed to parse {s} as a rational number");
    let (num, den) = match s.split_once('/') {
        Some((n, d)) => (
            parse_decimal(n).ok_or_else(bad)?,
            parse_decimal(d).ok_or_else(bad)?,
        ),
        None => (parse_decimal(s).ok_or_else(bad)?, (1, 0)),
    };
    // num = a × 10^-x, den = b × 10^-y: value × 1e9 = a × 10^(9 - x + y) / b
    let (a, x) = num;
    let (b, y) = den;
    if b == 0 {
        return Err(bad());
    }
    let exp = 9 - x + y;
    let scaled = if exp >= 0 {
        a.checked_mul(10i128.checked_pow(exp as u32).ok_or_else(bad)?)
            .ok_or_else(bad)?
    } else {
        let div = 10i128.checked_pow((-exp) as u32).ok_or_else(bad)?;
        if a % div != 0 {
            return Err("value is too precise".into());
        }
        a / div
    };
    if scaled % b != 0 {
        return Err("value is too precise".into());
    }
    i64::try_from(scaled / b).map_err(|_| bad())
}

/// `"1.25"` → (125, 2): the digits as an integer and the count of decimals.
fn parse_decimal(s: &str) -> Option<(i128, i32)> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit())
        || frac.len() > 30
    {
        return None;
    }
    let digits: i128 = format!("{int}{frac}").parse().ok()?;
    Some((if neg { -digits } else { digits }, frac.len() as i32))
}

/// `opts.ValidateEnv`: `KEY=value` as is; a bare `KEY` takes the local value if set.
pub fn env(s: &str) -> Result<String, String> {
    let (key, has_value) = match s.split_once('=') {
        Some((k, _)) => (k, true),
        None => (s, false),
    };
    if key.is_empty() {
        return Err(format!("invalid environment variable: {s}"));
    }
    if has_value {
        return Ok(s.to_owned());
    }
    Ok(match std::env::var(key) {
        Ok(v) => format!("{key}={v}"),
        Err(_) => s.to_owned(),
    })
}

/// `opts.ValidateLabel`.
pub fn label(s: &str) -> Result<String, String> {
    let key = s.split('=').next().unwrap_or_default();
    let key = key.trim_start_matches([' ', '\t']);
    if key.is_empty() {
        return Err(format!("invalid label '{s}': empty name"));
    }
    if key.contains([' ', '\t']) {
        return Err(format!("label '{key}' contains whitespaces"));
    }
    Ok(s.to_owned())
}

/// `opts.ValidateIPAddress` (for `--dns`): the address in canonical form.
pub fn ip_address(s: &str) -> Result<String, String> {
    s.trim()
        .parse::<IpAddr>()
        .map(|ip| ip.to_string())
        .map_err(|_| format!("IP address is not correctly formatted: {s}"))
}

/// `opts.ValidateDNSSearch`.
pub fn dns_search(s: &str) -> Result<String, String> {
    let v = s.trim_matches(' ');
    if v == "." {
        return Ok(v.to_owned());
    }
    let invalid = || format!("{v} is not a valid domain");
    if !v.chars().any(|c| c.is_ascii_alphabetic()) {
        return Err(invalid());
    }
    let name = v.trim_end_matches(char::is_whitespace);
    let name = name.strip_suffix('.').unwrap_or(name);
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if name.split('.').all(label_ok) && name.len() < 255 {
        Ok(name.to_owned())
    } else {
        Err(invalid())
    }
}

/// `opts.ValidateExtraHost`: `host:ip` or `host=ip` (also `host-gateway`) → `host:ip`.
pub fn extra_host(s: &str) -> Result<String, String> {
    let (k, v) = s
        .split_once('=')
        .or_else(|| s.split_once(':'))
        .filter(|(k, _)| !k.is_empty() && !k.contains(':'))
        .ok_or_else(|| format!("bad format for add-host: {s:?}"))?;
    let mut ip = v;
    if ip != "host-gateway" {
        if ip.len() > 2 && ip.starts_with('[') && ip.ends_with(']') {
            ip = &ip[1..ip.len() - 1];
        }
        ip_address(ip).map_err(|_| format!("invalid IP address in add-host: {ip:?}"))?;
    }
    Ok(format!("{k}:{ip}"))
}

/// `opts.ValidateLink`.
pub fn link(s: &str) -> Result<String, String> {
    if s.is_empty() {
        return Err("empty string specified for links".into());
    }
    if s.splitn(3, ':').count() > 2 {
        return Err(format!("bad format for links: {s}"));
    }
    Ok(s.to_owned())
}

/// `opts.ValidateSysctl`: namespaced sysctls only.
pub fn sysctl(s: &str) -> Result<String, String> {
    const ALLOWED: &[&str] = &[
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    ];
    let not_allowed = || format!("sysctl '{s}' is not allowed");
    let (k, _) = s.split_once('=').ok_or_else(not_allowed)?;
    if k.is_empty() {
        return Err(not_allowed());
    }
    if ALLOWED.contains(&k) || k.starts_with("net.") || k.starts_with("fs.mqueue.") {
        Ok(s.to_owned())
    } else {
        Err(not_allowed())
    }
}

/// `-a`: one of stdin, stdout, stderr, in any case.
pub fn attach_stream(s: &str) -> Result<String, String> {
    let lower = s.to_lowercase();
    if ["stdin", "stdout", "stderr"].contains(&lower.as_str()) {
        Ok(lower)
    } else {
        Err("valid streams are STDIN, STDOUT and STDERR".into())
    }
}

/// `--device-cgroup-rule`: `type major:minor mode`.
pub fn device_cgroup_rule(s: &str) -> Result<String, String> {
    let invalid = || format!("invalid device cgroup format '{s}'");
    let parts: Vec<&str> = s.split(' ').collect();
    let [kind, numbers, mode] = parts[..] else {
        return Err(invalid());
    };
    let number_ok = |n: &str| n == "*" || (!n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
    let (major, minor) = numbers.split_once(':').ok_or_else(invalid)?;
    let ok = matches!(kind, "a" | "b" | "c")
        && number_ok(major)
        && number_ok(minor)
        && (1..=3).contains(&mode.len())
        && mode.chars().all(|c| matches!(c, 'r' | 'w' | 'm'));
    if ok {
        Ok(s.to_owned())
    } else {
        Err(invalid())
    }
}

fn device_path(s: &str) -> Result<(&str, &str), String> {
    let (k, v) = s
        .split_once(':')
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("bad format: {s}"))?;
    if !k.starts_with("/dev/") {
        return Err(format!("bad format for device path: {s}"));
    }
    Ok((k, v))
}

/// `--blkio-weight-device`: `/dev/sda:300`.
pub fn weight_device(s: &str) -> Result<Value, String> {
    let (path, w) = device_path(s)?;
    let weight: u16 = w
        .parse()
        .map_err(|_| format!("invalid weight for device: {s}"))?;
    if weight > 0 && !(10..=1000).contains(&weight) {
        return Err(format!("invalid weight for device: {s}"));
    }
    Ok(json!({"Path": path, "Weight": weight}))
}

/// `--device-read-bps` and `--device-write-bps`: `/dev/sda:1mb`.
pub fn throttle_bps(s: &str) -> Result<Value, String> {
    let (path, r) = device_path(s)?;
    let rate = ram_in_bytes(r).map_err(|_| format!("invalid rate for device: {s}. The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb"))?;
    Ok(json!({"Path": path, "Rate": rate}))
}

/// `--device-read-iops` and `--device-write-iops`: `/dev/sda:1000`.
pub fn throttle_iops(s: &str) -> Result<Value, String> {
    let (path, r) = device_path(s)?;
    let rate: u64 = r.parse().map_err(|_| format!("invalid rate for device: {s}. The correct format is <device-path>:<number>. Number must be a positive integer"))?;
    Ok(json!({"Path": path, "Rate": rate}))
}

/// `units.ParseUlimit`: `nofile=1024[:2048]`.
pub fn ulimit(s: &str) -> Result<Value, String> {
    const NAMES: &[&str] = &[
        "core",
        "cpu",
        "data",
        "fsize",
        "locks",
        "memlock",
        "msgqueue",
        "nice",
        "nofile",
        "nproc",
        "rss",
        "rtprio",
        "rttime",
        "sigpending",
        "stack",
    ];
    let (name, limits) = s
        .split_once('=')
        .ok_or_else(|| format!("invalid ulimit argument: {s}"))?;
    if !NAMES.contains(&name) {
        return Err(format!("invalid ulimit type: {name}"));
    }
    let parse = |v: &str| {
        v.parse::<i64>()
            .map_err(|_| format!("strconv.ParseInt: parsing {v:?}: invalid syntax"))
    };
    let parts: Vec<&str> = limits.split(':').collect();
    let (soft, hard) = match parts[..] {
        [soft] => {
            let s = parse(soft)?;
            (s, s)
        }
        [soft, hard] => {
            let h = parse(hard)?;
            (parse(soft)?, h)
        }
        _ => {
            return Err(format!(
                "too many limit value arguments - {limits}, can only have up to two, `soft[:hard]`"
            ))
        }
    };
    if hard != -1 {
        if soft == -1 {
            return Err(format!("ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: {hard}"));
        }
        if soft > hard {
            return Err(format!(
                "ulimit soft limit must be less than or equal to hard limit: {soft} > {hard}"
            ));
        }
    }
    Ok(json!({"Name": name, "Hard": hard, "Soft": soft}))
}

/// Splits one CSV record as Go's `encoding/csv` reads it (quoted fields, `""` escapes).
pub fn csv_fields(s: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut chars = s.chars().peekable();
    let mut col = 0;
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            col += 1;
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => {
                        return Err(format!(
                            "parse error on line 1, column {}: extraneous or missing \" in quoted-field",
                            s.len() + 1
                        ))
                    }
                }
                col += 1;
            }
            match chars.next() {
                None => {
                    fields.push(field);
                    return Ok(fields);
                }
                Some(',') => {}
                Some(_) => {
                    return Err(format!(
                    "parse error on line 1, column {}: extraneous or missing \" in quoted-field",
                    col + 2
                ))
                }
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push(field);
                        return Ok(fields);
                    }
                    Some(',') => break,
                    Some('"') => {
                        return Err(format!(
                            "parse error on line 1, column {}: bare \" in non-quoted-field",
                            col + 1
                        ))
                    }
                    Some(c) => field.push(c),
                }
                col += 1;
            }
        }
        col += 1;
        fields.push(field);
    }
}

/// `--gpus all`, `--gpus 2`, `--gpus device=0,1`, `--gpus count=1,capabilities=utility`.
pub fn gpus(s: &str) -> Result<Value, String> {
    let fields = csv_fields(s)?;
    let mut seen = std::collections::HashSet::new();
    let (mut driver, mut count, mut count_set) = (String::new(), 0i64, false);
    let mut device_ids: Option<Vec<String>> = None;
    let mut caps: Option<Vec<Vec<String>>> = None;
    let mut options = Map::new();
    let parse_count = |v: &str| -> Result<i64, String> {
        if v == "all" {
            Ok(-1)
        } else {
            v.parse::<i64>().map_err(|_| {
                format!("invalid count ({v}): value must be either \"all\" or an integer")
            })
        }
    };
    for field in &fields {
        let (key, val) = match field.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (field.as_str(), None),
        };
        if !seen.insert(key.to_owned()) {
            return Err(format!(
                "gpu request key '{key}' can be specified only once"
            ));
        }
        let Some(val) = val else {
            seen.insert("count".to_owned());
            count = parse_count(key)?;
            count_set = true;
            continue;
        };
        match key {
            "driver" => driver = val.to_owned(),
            "count" => {
                count = parse_count(val)?;
                count_set = true;
            }
            "device" => device_ids = Some(val.split(',').map(str::to_owned).collect()),
            "capabilities" => {
                let mut c: Vec<String> = val.split(',').map(str::to_owned).collect();
                c.push("gpu".into());
                caps = Some(vec![c]);
            }
            "options" => {
                for o in csv_fields(val)? {
                    let (k, v) = o.split_once('=').unwrap_or((&o, ""));
                    options.insert(k.into(), json!(v));
                }
            }
            _ => return Err(format!("unexpected key '{key}' in '{field}'")),
        }
    }
    if !count_set && device_ids.is_none() {
        count = 1;
    }
    Ok(json!({
        "Driver": driver,
        "Count": count,
        "DeviceIDs": device_ids,
        "Capabilities": caps.unwrap_or_else(|| vec![vec!["gpu".to_owned()]]),
        "Options": options,
    }))
}

/// `--filter key=value` (`opts.FilterOpt`).
pub fn filter(s: &str) -> Result<String, String> {
    if !s.is_empty() && !s.contains('=') {
        return Err("bad format of filter (expected name=value)".into());
    }
    Ok(s.to_owned())
}

/// `--restart no|always|unless-stopped|on-failure[:N]` (`opts.ParseRestartPolicy`).
pub fn restart_policy(policy: &str) -> Result<Value, String> {
    if policy.is_empty() {
        return Ok(json!({"Name": "", "MaximumRetryCount": 0}));
    }
    let (name, count) = match policy.split_once(':') {
        Some(("", _)) => {
            return Err("invalid restart policy format: no policy provided before colon".into())
        }
        Some((n, c)) => (n, c),
        None => (policy, ""),
    };
    let max = if count.is_empty() {
        0
    } else {
        count.parse::<i64>().map_err(|_| {
            "invalid restart policy format: maximum retry count must be an integer".to_owned()
        })?
    };
    Ok(json!({"Name": name, "MaximumRetryCount": max}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_like_go_units() {
        assert_eq!(ram_in_bytes("512").unwrap(), 512);
        assert_eq!(ram_in_bytes("10m").unwrap(), 10 * 1024 * 1024);
        assert_eq!(ram_in_bytes("1.5g").unwrap(), 1536 * 1024 * 1024);
        assert_eq!(ram_in_bytes("64KiB").unwrap(), 64 * 1024);
        assert_eq!(ram_in_bytes("2 mb").unwrap(), 2 * 1024 * 1024);
        assert_eq!(ram_in_bytes("7b").unwrap(), 7);
        assert_eq!(ram_in_bytes("1x").unwrap_err(), "invalid suffix: 'x'");
        assert_eq!(ram_in_bytes("1kbb").unwrap_err(), "invalid suffix: 'kbb'");
        assert_eq!(ram_in_bytes("m").unwrap_err(), "invalid size: 'm'");
        assert_eq!(mem_swap("-1").unwrap(), -1);
    }

    #[test]
    fn cpus_are_exact_rationals() {
        assert_eq!(nano_cpus("1.5").unwrap(), 1_500_000_000);
        assert_eq!(nano_cpus("0.000000001").unwrap(), 1);
        assert_eq!(nano_cpus("2").unwrap(), 2_000_000_000);
        assert_eq!(nano_cpus("1/4").unwrap(), 250_000_000);
        assert_eq!(
            nano_cpus("0.0000000001").unwrap_err(),
            "value is too precise"
        );
        assert_eq!(
            nano_cpus("abc").unwrap_err(),
            "failed to parse abc as a rational number"
        );
    }

    #[test]
    fn integers_and_bools_word_errors_as_go() {
        assert_eq!(go_i64("42").unwrap(), 42);
        assert_eq!(go_i64("-1").unwrap(), -1);
        assert_eq!(go_i64("0x10").unwrap(), 16);
        assert_eq!(
            go_i64("abc").unwrap_err(),
            "strconv.ParseInt: parsing \"abc\": invalid syntax"
        );
        assert_eq!(go_u16("1000").unwrap(), 1000);
        assert_eq!(
            go_u16("70000").unwrap_err(),
            "strconv.ParseUint: parsing \"70000\": value out of range"
        );
        assert!(go_bool("True").unwrap());
        assert!(!go_bool("0").unwrap());
        assert!(go_bool("yes").is_err());
        assert_eq!(go_duration("1m30s").unwrap(), 90_000_000_000);
        assert_eq!(
            go_duration("5").unwrap_err(),
            "time: invalid duration \"5\""
        );
    }

    #[test]
    fn validators_match_docker() {
        assert_eq!(env("A=1").unwrap(), "A=1");
        assert_eq!(env("=x").unwrap_err(), "invalid environment variable: =x");
        assert_eq!(label("a=b").unwrap(), "a=b");
        assert_eq!(label("=b").unwrap_err(), "invalid label '=b': empty name");
        assert_eq!(ip_address(" 8.8.8.8").unwrap(), "8.8.8.8");
        assert!(ip_address("8.8.8").is_err());
        assert_eq!(dns_search("example.com.").unwrap(), "example.com");
        assert_eq!(dns_search(".").unwrap(), ".");
        assert!(dns_search("-bad-.com").is_err());
        assert_eq!(extra_host("db=10.0.0.2").unwrap(), "db:10.0.0.2");
        assert_eq!(extra_host("v6:[::1]").unwrap(), "v6:::1");
        assert_eq!(extra_host("gw:host-gateway").unwrap(), "gw:host-gateway");
        assert_eq!(
            extra_host("nohost").unwrap_err(),
            "bad format for add-host: \"nohost\""
        );
        assert_eq!(
            sysctl("net.ipv4.ip_forward=1").unwrap(),
            "net.ipv4.ip_forward=1"
        );
        assert_eq!(
            sysctl("kernel.hostname=x").unwrap_err(),
            "sysctl 'kernel.hostname=x' is not allowed"
        );
        assert_eq!(attach_stream("STDIN").unwrap(), "stdin");
        assert!(attach_stream("foo").is_err());
        assert!(device_cgroup_rule("c 1:3 mr").is_ok());
        assert!(device_cgroup_rule("c 1:3 x").is_err());
    }

    #[test]
    fn ulimits_and_devices() {
        assert_eq!(
            ulimit("nofile=1024:2048").unwrap(),
            json!({"Name": "nofile", "Hard": 2048, "Soft": 1024})
        );
        assert_eq!(
            ulimit("nproc=10").unwrap(),
            json!({"Name": "nproc", "Hard": 10, "Soft": 10})
        );
        assert_eq!(ulimit("bogus=1").unwrap_err(), "invalid ulimit type: bogus");
        assert!(ulimit("nofile=10:5").is_err());
        assert_eq!(
            weight_device("/dev/sda:300").unwrap(),
            json!({"Path": "/dev/sda", "Weight": 300})
        );
        assert!(weight_device("/dev/sda:5").is_err());
        assert_eq!(
            throttle_bps("/dev/sda:1mb").unwrap(),
            json!({"Path": "/dev/sda", "Rate": 1048576})
        );
        assert_eq!(
            throttle_iops("sda:1").unwrap_err(),
            "bad format for device path: sda:1"
        );
    }

    #[test]
    fn csv_records() {
        assert_eq!(csv_fields("a,b,c").unwrap(), ["a", "b", "c"]);
        assert_eq!(
            csv_fields("\"a,b\",\"say \"\"hi\"\"\"").unwrap(),
            ["a,b", "say \"hi\""]
        );
        assert_eq!(csv_fields("").unwrap(), [""]);
        assert!(csv_fields("a\"b").is_err());
    }

    #[test]
    fn gpus_and_restart() {
        assert_eq!(
            gpus("all").unwrap(),
            json!({"Driver": "", "Count": -1, "DeviceIDs": null, "Capabilities": [["gpu"]], "Options": {}})
        );
        // Unquoted, `device=0,1` is two fields: device 0, and a bare count of 1.
        assert_eq!(
            gpus("device=0,1").unwrap(),
            json!({"Driver": "", "Count": 1, "DeviceIDs": ["0"], "Capabilities": [["gpu"]], "Options": {}})
        );
        assert_eq!(
            gpus("count=1,count=2").unwrap_err(),
            "gpu request key 'count' can be specified only once"
        );
        assert_eq!(
            restart_policy("on-failure:3").unwrap(),
            json!({"Name": "on-failure", "MaximumRetryCount": 3})
        );
        assert!(restart_policy(":3").is_err());
        assert!(restart_policy("always:x").is_err());
    }
}
