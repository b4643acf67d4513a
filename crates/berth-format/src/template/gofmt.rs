//! Go's `fmt` printing of JSON-shaped values: `%v` (maps as `map[k:v]` with
//! sorted keys, slices as `[a b]`, nil as `<nil>`, floats as `%g`),
//! `Sprint`/`Sprintln` spacing rules and a `Sprintf` covering the verbs and
//! flags templates use.

use serde_json::Value;

use super::lex::go_quote;
use super::value::{as_int, type_name};

/// `fmt.Sprint(v)` of a single value (`%v`).
pub(crate) fn print_value(out: &mut String, v: &Value) {
    format_verb(out, v, &Spec::plain('v'));
}

/// `fmt.Sprint(args...)`: a space between operands when neither is a string.
pub(crate) fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    let mut prev_string = false;
    for (i, a) in args.iter().enumerate() {
        let is_string = a.is_string();
        if i > 0 && !is_string && !prev_string {
            out.push(' ');
        }
        print_value(&mut out, a);
        prev_string = is_string;
    }
    out
}

/// `fmt.Sprintln(args...)`: operands always space-separated, newline at end.
pub(crate) fn sprintln(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        print_value(&mut out, a);
    }
    out.push('\n');
    out
}

/// One parsed `%` directive.
#[derive(Debug, Clone, Default)]
struct Spec {
    verb: char,
    minus: bool,
    plus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

impl Spec {
    fn plain(verb: char) -> Spec {
        Spec {
            verb,
            ..Spec::default()
        }
    }
}

/// `fmt.Sprintf(format, args...)`, including Go's `%!verb(...)` error forms.
pub(crate) fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut next_arg = 0usize;
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = Spec::default();
        while let Some(&f) = chars.peek() {
            match f {
                '-' => spec.minus = true,
                '+' => spec.plus = true,
                '#' => spec.sharp = true,
                ' ' => spec.space = true,
                '0' => spec.zero = true,
                _ => break,
            }
            chars.next();
        }
        spec.width = read_num(&mut chars, args, &mut next_arg);
        if chars.peek() == Some(&'.') {
            chars.next();
            spec.prec = Some(read_num(&mut chars, args, &mut next_arg).unwrap_or(0));
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        spec.verb = verb;
        if verb == '%' {
            out.push('%');
            continue;
        }
        match args.get(next_arg) {
            None => out.push_str(&format!("%!{verb}(MISSING)")),
            Some(arg) => {
                next_arg += 1;
                format_verb(&mut out, arg, &spec);
            }
        }
    }
    if next_arg < args.len() {
        out.push_str("%!(EXTRA ");
        for (i, a) in args[next_arg..].iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            if a.is_null() {
                out.push_str("<nil>");
            } else {
                out.push_str(type_name(a));
                out.push('=');
                print_value(&mut out, a);
            }
        }
        out.push(')');
    }
    out
}

fn read_num(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    args: &[Value],
    next_arg: &mut usize,
) -> Option<usize> {
    if chars.peek() == Some(&'*') {
        chars.next();
        let n = args.get(*next_arg).and_then(as_int);
        *next_arg += 1;
        return n.map(|n| n.unsigned_abs() as usize);
    }
    let mut n: Option<usize> = None;
    while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
        n = Some(n.unwrap_or(0) * 10 + d as usize);
        chars.next();
    }
    n
}

fn bad_verb(out: &mut String, v: &Value, verb: char) {
    if v.is_null() {
        out.push_str(&format!("%!{verb}(<nil>)"));
    } else {
        let mut shown = String::new();
        print_value(&mut shown, v);
        out.push_str(&format!("%!{verb}({}={shown})", type_name(v)));
    }
}

fn format_verb(out: &mut String, v: &Value, spec: &Spec) {
    match v {
        Value::Null => match spec.verb {
            'v' => pad(out, "<nil>", spec),
            _ => bad_verb(out, v, spec.verb),
        },
        Value::Bool(b) => match spec.verb {
            't' | 'v' => pad(out, if *b { "true" } else { "false" }, spec),
            _ => bad_verb(out, v, spec.verb),
        },
        Value::String(s) => format_string(out, v, s, spec),
        Value::Number(n) => match as_int(v) {
            Some(i) if !n.is_f64() => format_int(out, v, i, spec),
            _ => format_float(out, v, n.as_f64().unwrap_or(0.0), spec),
        },
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                format_element(out, item, spec);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push_str("map[");
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                format_verb(out, &Value::String(k.clone()), spec);
                out.push(':');
                format_element(out, &map[k.as_str()], spec);
            }
            out.push(']');
        }
    }
}

/// An element of a slice or map: a nil element prints `<nil>` whatever
/// the verb (only a nil operand is a bad verb).
fn format_element(out: &mut String, v: &Value, spec: &Spec) {
    if v.is_null() {
        pad(out, "<nil>", spec);
    } else {
        format_verb(out, v, spec);
    }
}

fn format_string(out: &mut String, whole: &Value, s: &str, spec: &Spec) {
    let text = match spec.verb {
        'v' | 's' => match spec.prec {
            Some(p) => s.chars().take(p).collect(),
            None => s.to_string(),
        },
        'q' => go_quote(s),
        'x' => s.bytes().map(|b| format!("{b:02x}")).collect(),
        'X' => s.bytes().map(|b| format!("{b:02X}")).collect(),
        _ => return bad_verb(out, whole, spec.verb),
    };
    pad(out, &text, spec);
}

fn format_int(out: &mut String, v: &Value, i: i128, spec: &Spec) {
    let neg = i < 0;
    let abs = i.unsigned_abs();
    let mut digits = match spec.verb {
        'v' | 'd' => abs.to_string(),
        'b' => format!("{abs:b}"),
        'o' | 'O' => format!("{abs:o}"),
        'x' => format!("{abs:x}"),
        'X' => format!("{abs:X}"),
        'c' => {
            let c = char::from_u32(i as u32).unwrap_or('\u{FFFD}');
            return pad(out, &c.to_string(), spec);
        }
        'q' => {
            let c = char::from_u32(i as u32).unwrap_or('\u{FFFD}');
            let quoted = go_quote(&c.to_string());
            return pad(out, &format!("'{}'", &quoted[1..quoted.len() - 1]), spec);
        }
        'U' => return pad(out, &format!("U+{abs:04X}"), spec),
        _ => return bad_verb(out, v, spec.verb),
    };
    if let Some(p) = spec.prec {
        while digits.len() < p {
            digits.insert(0, '0');
        }
    }
    let prefix = match (spec.verb, spec.sharp) {
        ('O', _) => "0o",
        ('o', true) => "0",
        ('x', true) => "0x",
        ('X', true) => "0X",
        ('b', true) => "0b",
        _ => "",
    };
    let digits = format!("{prefix}{digits}");
    let sign = sign_str(neg, spec);
    pad_number(out, sign, &digits, spec, spec.prec.is_none());
}

fn sign_str(neg: bool, spec: &Spec) -> &'static str {
    if neg {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    }
}

fn format_float(out: &mut String, v: &Value, f: f64, spec: &Spec) {
    if !f.is_finite() {
        let s = if f.is_nan() {
            "NaN"
        } else if f > 0.0 {
            "+Inf"
        } else {
            "-Inf"
        };
        return pad(out, s, spec);
    }
    let body = match spec.verb {
        'v' | 'g' => fmt_g(f.abs(), spec.prec, false),
        'G' => fmt_g(f.abs(), spec.prec, true),
        'e' => fmt_e(f.abs(), spec.prec.unwrap_or(6), false),
        'E' => fmt_e(f.abs(), spec.prec.unwrap_or(6), true),
        'f' | 'F' => format!("{:.*}", spec.prec.unwrap_or(6), f.abs()),
        _ => return bad_verb(out, v, spec.verb),
    };
    pad_number(out, sign_str(f.is_sign_negative(), spec), &body, spec, true);
}

/// Pads sign+digits to the width; zero padding goes between sign and digits.
fn pad_number(out: &mut String, sign: &str, digits: &str, spec: &Spec, zero_ok: bool) {
    let len = sign.len() + digits.chars().count();
    match spec.width {
        Some(w) if w > len && spec.zero && zero_ok && !spec.minus => {
            out.push_str(sign);
            out.extend(std::iter::repeat_n('0', w - len));
            out.push_str(digits);
        }
        _ => pad(out, &format!("{sign}{digits}"), spec),
    }
}

/// Pads to the width in runes, left- or right-justified.
fn pad(out: &mut String, s: &str, spec: &Spec) {
    let len = s.chars().count();
    let fill = spec.width.map_or(0, |w| w.saturating_sub(len));
    if spec.minus {
        out.push_str(s);
        out.extend(std::iter::repeat_n(' ', fill));
    } else {
        let c = if spec.zero { '0' } else { ' ' };
        out.extend(std::iter::repeat_n(c, fill));
        out.push_str(s);
    }
}

/// Decimal digits (no trailing zeros) and decimal-point position of a
/// non-negative finite float: `value = 0.DIGITS × 10^dp`. With `sig`, the
/// value is first rounded to that many significant digits; without, the
/// shortest digits that round-trip are used (as Go's `-1` precision).
fn digits(a: f64, sig: Option<usize>) -> (Vec<u8>, i32) {
    if a == 0.0 {
        return (vec![b'0'], 1);
    }
    let s = match sig {
        Some(n) => format!("{:.*e}", n.max(1) - 1, a),
        None => format!("{a:e}"),
    };
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut d: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
    while d.len() > 1 && d.last() == Some(&b'0') {
        d.pop();
    }
    (d, exp + 1)
}

fn fmt_exp_form(d: &[u8], dp: i32, decimals: usize, upper: bool) -> String {
    let mut s = String::new();
    s.push(d[0] as char);
    if decimals > 0 {
        s.push('.');
        for i in 1..=decimals {
            s.push(*d.get(i).unwrap_or(&b'0') as char);
        }
    }
    let exp = if d == [b'0'] { 0 } else { dp - 1 };
    s.push(if upper { 'E' } else { 'e' });
    s.push(if exp < 0 { '-' } else { '+' });
    s.push_str(&format!("{:02}", exp.abs()));
    s
}

fn fmt_fixed_form(d: &[u8], dp: i32, decimals: usize) -> String {
    let mut s = String::new();
    if dp > 0 {
        for i in 0..dp as usize {
            s.push(*d.get(i).unwrap_or(&b'0') as char);
        }
    } else {
        s.push('0');
    }
    if decimals > 0 {
        s.push('.');
        for i in 0..decimals as i32 {
            let idx = dp + i;
            let c = if idx >= 0 {
                d.get(idx as usize).copied().unwrap_or(b'0')
            } else {
                b'0'
            };
            s.push(c as char);
        }
    }
    s
}

/// Go's `%e` with the given number of decimals.
fn fmt_e(a: f64, prec: usize, upper: bool) -> String {
    let (d, dp) = digits(a, Some(prec + 1));
    fmt_exp_form(&d, dp, prec, upper)
}

/// Go's `%g` (`prec` None = shortest, as `%v` prints floats).
pub(crate) fn fmt_g(a: f64, prec: Option<usize>, upper: bool) -> String {
    let (d, dp) = digits(a, prec);
    let nd = d.len() as i32;
    let mut p = prec.map_or(nd, |p| p.max(1) as i32);
    let eprec = match prec {
        None => 6,
        Some(_) if p > nd && nd >= dp => nd,
        Some(_) => p,
    };
    let exp = dp - 1;
    if exp < -4 || exp >= eprec {
        if p > nd {
            p = nd;
        }
        return fmt_exp_form(&d, dp, (p - 1).max(0) as usize, upper);
    }
    if p > dp {
        p = nd;
    }
    fmt_fixed_form(&d, dp, (p - dp).max(0) as usize)
}

/// Go's `encoding/json` float text: fixed notation unless tiny or huge.
fn json_float(f: f64) -> String {
    let a = f.abs();
    let sign = if f.is_sign_negative() { "-" } else { "" };
    let (d, dp) = digits(a, None);
    if a != 0.0 && !(1e-6..1e21).contains(&a) {
        let mut s = fmt_exp_form(&d, dp, d.len() - 1, false);
        // Go trims `e-07` to `e-7`.
        if let Some(pos) = s.find("e-0") {
            s.remove(pos + 2);
        }
        return format!("{sign}{s}");
    }
    let decimals = (d.len() as i32 - dp).max(0) as usize;
    format!("{sign}{}", fmt_fixed_form(&d, dp, decimals))
}

/// Go's `encoding/json` encoding with HTML escaping off (Docker's `json`
/// function); `indent` gives `MarshalIndent` layout.
pub(crate) fn write_json(out: &mut String, v: &Value, indent: Option<&str>, level: usize) {
    let newline = |out: &mut String, level: usize| {
        if let Some(ind) = indent {
            out.push('\n');
            for _ in 0..level {
                out.push_str(ind);
            }
        }
    };
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match (n.is_f64(), n.as_f64()) {
            (true, Some(f)) => out.push_str(&json_float(f)),
            _ => out.push_str(&n.to_string()),
        },
        Value::String(s) => json_string(out, s),
        Value::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, level + 1);
                write_json(out, item, indent, level + 1);
            }
            newline(out, level);
            out.push(']');
        }
        Value::Object(map) => {
            if map.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, level + 1);
                json_string(out, k);
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                write_json(out, item, indent, level + 1);
            }
            newline(out, level);
            out.push('}');
        }
    }
}

fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
