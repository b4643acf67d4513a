//! Template functions: Go's builtins (`len`, `index`, `printf`, `eq`, ...)
//! and docker/cli's additions (`json`, `join`, `split`, `pad`, ...), plus
//! docker/cli's header variants that leave column titles untouched.

use std::cmp::Ordering;

use serde_json::Value;

use super::gofmt::{print_value, sprint, sprintf, sprintln, write_json};
use super::value::{as_int, truth, type_name, Val};

/// How an argument is checked and converted before the call (Go's
/// parameter types as far as templates can tell them apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Param {
    /// `reflect.Value`/`any`: anything, a missing value stays missing.
    Any,
    Str,
    Int,
    StrList,
}

pub(crate) type Call = for<'a, 'b> fn(&'a [Val<'b>]) -> Result<Val<'static>, String>;

pub(crate) struct Func {
    pub name: &'static str,
    pub params: &'static [Param],
    pub variadic: Option<Param>,
    pub call: Call,
}

use Param::{Any, Int, Str, StrList};

const fn f(
    name: &'static str,
    params: &'static [Param],
    variadic: Option<Param>,
    call: Call,
) -> Func {
    Func {
        name,
        params,
        variadic,
        call,
    }
}

/// `and`/`or` are evaluated lazily by the executor; their entry only
/// declares the names.
fn unreachable_lazy(_: &[Val<'_>]) -> Result<Val<'static>, String> {
    Err("internal error: and/or are evaluated by the executor".to_string())
}

static BUILTINS: &[Func] = &[
    f("and", &[Any], Some(Any), unreachable_lazy),
    f("or", &[Any], Some(Any), unreachable_lazy),
    f("not", &[Any], None, not),
    f("len", &[Any], None, length),
    f("index", &[Any], Some(Any), index),
    f("slice", &[Any], Some(Any), slice),
    f("print", &[], Some(Any), |a| {
        Ok(Val::str(sprint(&to_json(a))))
    }),
    f("println", &[], Some(Any), |a| {
        Ok(Val::str(sprintln(&to_json(a))))
    }),
    f("printf", &[Str], Some(Any), printf),
    f("eq", &[Any], Some(Any), eq),
    f("ne", &[Any, Any], None, |a| {
        Ok(Val::bool(!eq_bool(&a[0], &a[1..])?))
    }),
    f("lt", &[Any, Any], None, |a| {
        Ok(Val::bool(lt(&a[0], &a[1])?))
    }),
    f("le", &[Any, Any], None, |a| {
        Ok(Val::bool(lt(&a[0], &a[1])? || eq_bool(&a[0], &a[1..])?))
    }),
    f("gt", &[Any, Any], None, |a| {
        Ok(Val::bool(!(lt(&a[0], &a[1])? || eq_bool(&a[0], &a[1..])?)))
    }),
    f("ge", &[Any, Any], None, |a| {
        Ok(Val::bool(!lt(&a[0], &a[1])?))
    }),
    f("html", &[], Some(Any), |a| {
        Ok(Val::str(html_escape(&eval_args(a))))
    }),
    f("js", &[], Some(Any), |a| {
        Ok(Val::str(js_escape(&eval_args(a))))
    }),
    f("urlquery", &[], Some(Any), |a| {
        Ok(Val::str(query_escape(&eval_args(a))))
    }),
];

static DOCKER: &[Func] = &[
    f("json", &[Any], None, json),
    f("split", &[Str, Str], None, split),
    f("join", &[StrList, Str], None, join),
    f("title", &[Str], None, |a| {
        Ok(Val::str(title(arg_str(&a[0]))))
    }),
    f("lower", &[Str], None, |a| {
        Ok(Val::str(map_runes(arg_str(&a[0]), char::to_lowercase)))
    }),
    f("upper", &[Str], None, |a| {
        Ok(Val::str(map_runes(arg_str(&a[0]), char::to_uppercase)))
    }),
    f("pad", &[Str, Int, Int], None, pad),
    f("truncate", &[Str, Int], None, truncate),
];

/// docker/cli's `HeaderFunctions`: the header row keeps the column title
/// whatever the row template does to the value (`pad` is not replaced).
static HEADER: &[Func] = &[
    f("json", &[Str], None, first_arg),
    f("split", &[Str, Str], None, first_arg),
    f("join", &[Str, Str], None, first_arg),
    f("title", &[Str], None, first_arg),
    f("lower", &[Str], None, first_arg),
    f("upper", &[Str], None, first_arg),
    f("truncate", &[Str, Int], None, first_arg),
];

/// Looks a function up; `header` selects docker/cli's header variants.
pub(crate) fn lookup(name: &str, header: bool) -> Option<&'static Func> {
    let header_fn = if header {
        HEADER.iter().find(|f| f.name == name)
    } else {
        None
    };
    header_fn
        .or_else(|| DOCKER.iter().find(|f| f.name == name))
        .or_else(|| BUILTINS.iter().find(|f| f.name == name))
}

fn first_arg(a: &[Val<'_>]) -> Result<Val<'static>, String> {
    Ok(a[0].clone().into_owned())
}

fn arg_str<'a>(v: &'a Val<'_>) -> &'a str {
    v.as_str().unwrap_or_default()
}

fn arg_int(v: &Val<'_>) -> i128 {
    v.json().and_then(as_int).unwrap_or(0)
}

/// Arguments as Go's `any`: a missing value is nil.
fn to_json(args: &[Val<'_>]) -> Vec<Value> {
    args.iter()
        .map(|a| a.json().cloned().unwrap_or(Value::Null))
        .collect()
}

fn not(a: &[Val<'_>]) -> Result<Val<'static>, String> {
    Ok(Val::bool(!truth(&a[0])))
}

fn length(a: &[Val<'_>]) -> Result<Val<'static>, String> {
    match a[0].json() {
        None => Err("len of nil pointer".to_string()),
        // A nil slice or map (Docker's typed data) has length 0.
        Some(Value::Null) => Ok(Val::int(0)),
        Some(Value::String(s)) => Ok(Val::int(s.len() as i64)),
        Some(Value::Array(v)) => Ok(Val::int(v.len() as i64)),
        Some(Value::Object(m)) => Ok(Val::int(m.len() as i64)),
        Some(other) => Err(format!("len of type {}", type_name(other))),
    }
}

/// Zero value for a missing map entry, guessed from the map's other values:
/// Docker's maps are nearly all `map[string]string`, whose zero value is "".
fn map_zero(map: Option<&serde_json::Map<String, Value>>) -> Val<'static> {
    let all_strings = map.is_none_or(|m| m.values().all(Value::is_string));
    if all_strings {
        Val::str("")
    } else {
        Val::Missing
    }
}

/// Go's `indexArg`: an integer index within `0..=len`.
fn index_int(idx: &Val<'_>, len: usize) -> Result<usize, String> {
    let n = match idx.json() {
        None | Some(Value::Null) => return Err("cannot index slice/array with nil".to_string()),
        Some(v @ Value::Number(n)) if !n.is_f64() => as_int(v).unwrap_or(0),
        Some(v) => {
            return Err(format!(
                "cannot index slice/array with type {}",
                type_name(v)
            ))
        }
    };
    if n < 0 || n > len as i128 {
        return Err(format!("index out of range: {n}"));
    }
    Ok(n as usize)
}

fn index(a: &[Val<'_>]) -> Result<Val<'static>, String> {
    let mut item: Val<'static> = a[0].clone().into_owned();
    for idx in &a[1..] {
        item = match item.json() {
            None => return Err("index of untyped nil".to_string()),
            Some(Value::Null) => match idx.json() {
                Some(Value::String(_)) => map_zero(None),
                _ => return Err("index of untyped nil".to_string()),
            },
            Some(Value::Object(m)) => match idx.json() {
                Some(Value::String(k)) => match m.get(k) {
                    Some(v) => Val::Own(v.clone()),
                    None => map_zero(Some(m)),
                },
                None | Some(Value::Null) => {
                    return Err("value is nil; should be of type string".to_string())
                }
                Some(v) => {
                    return Err(format!("value has type {}; should be string", type_name(v)))
                }
            },
            Some(Value::Array(v)) => {
                let i = index_int(idx, v.len())?;
                match v.get(i) {
                    Some(e) => Val::Own(e.clone()),
                    None => return Err(format!("index out of range: {i}")),
                }
            }
            Some(Value::String(s)) => {
                let i = index_int(idx, s.len())?;
                match s.as_bytes().get(i) {
                    Some(b) => Val::int(i64::from(*b)),
                    None => return Err(format!("index out of range: {i}")),
                }
            }
            Some(other) => return Err(format!("can't index item of type {}", type_name(other))),
        };
    }
    Ok(item)
}

fn slice(a: &[Val<'_>]) -> Result<Val<'static>, String> {
    let item = a[0].json().cloned().unwrap_or(Value::Null);
    let len = match &item {
        Value::String(s) => s.len(),
        Value::Array(v) => v.len(),
        Value::Null => return Err("slice of untyped nil".to_string()),
        other => return Err(format!("can't slice item of type {}", type_name(other))),
    };
    if a.len() > 4 {
        return Err(format!("too many slice indexes: {}", a.len() - 1));
    }
    if a.len() == 4 && item.is_string() {
        return Err("cannot 3-index slice a string".to_string());
    }
    let mut idx = [0usize, len, len];
    for (i, v) in a[1..].iter().enumerate() {
        idx[i] = index_int(v, len)?;
    }
    if idx[0] > idx[1] {
        return Err(format!("invalid slice index: {} > {}", idx[0], idx[1]));
    }
    if a.len() == 4 && idx[1] > idx[2] {
        return Err(format!("invalid slice index: {} > {}", idx[1], idx[2]));
    }
    Ok(Val::Own(match item {
        Value::String(s) => {
            Value::String(String::from_utf8_lossy(&s.as_bytes()[idx[0]..idx[1]]).into_owned())
        }
        Value::Array(v) => Value::Array(v[idx[0]..idx[1]].to_vec()),
        _ => Value::Null,
    }))
}

fn printf(a: &[Val<'_>]) -> Result<Val<'static>, String> {
    Ok(Val::str(sprintf(arg_str(&a[0]), &to_json(&a[1..]))))
}

/// Comparable shapes, as Go's `basicKind`.
enum Basic<'a> {
    Invalid,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(&'a str),
    Other(&'a Value),
}

fn basic<'a>(v: &'a Val<'_>) -> Basic<'a> {
    match v.json() {
        None | Some(Value::Null) => Basic::Invalid,
        Some(Value::Bool(b)) => Basic::Bool(*b),
        Some(Value::String(s)) => Basic::Str(s),
        Some(n @ Value::Number(num)) => match (num.is_f64(), as_int(n)) {
            (false, Some(i)) => Basic::Int(i),
            _ => Basic::Float(num.as_f64().unwrap_or(0.0)),
        },
        Some(other) => Basic::Other(other),
    }
}

/// Numbers compare across int and float (Go would refuse; Docker's typed
/// data never mixes them, JSON data does).
fn num_cmp(a: &Basic<'_>, b: &Basic<'_>) -> Option<Ordering> {
    let as_f = |x: &Basic<'_>| match x {
        Basic::Int(i) => Some(*i as f64),
        Basic::Float(f) => Some(*f),
        _ => None,
    };
    match (a, b) {
        (Basic::Int(x), Basic::Int(y)) => Some(x.cmp(y)),
        _ => as_f(a)?.partial_cmp(&as_f(b)?),
    }
}

fn eq_bool(first: &Val<'_>, rest: &[Val<'_>]) -> Result<bool, String> {
    if rest.is_empty() {
        return Err("missing argument for comparison".to_string());
    }
    let a = basic(first);
    for other in rest {
        let b = basic(other);
        let truth = match (&a, &b) {
            (Basic::Invalid, Basic::Invalid) => true,
            (Basic::Invalid, _) | (_, Basic::Invalid) => false,
            (Basic::Bool(x), Basic::Bool(y)) => x == y,
            (Basic::Str(x), Basic::Str(y)) => x == y,
            (Basic::Int(_) | Basic::Float(_), Basic::Int(_) | Basic::Float(_)) => {
                num_cmp(&a, &b) == Some(Ordering::Equal)
            }
            (Basic::Other(v), Basic::Other(_)) => {
                let mut shown = String::new();
                print_value(&mut shown, v);
                return Err(format!("non-comparable type {shown}: {}", type_name(v)));
            }
            _ => return Err("incompatible types for comparison".to_string()),
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

fn eq(a: &[Val<'_>]) -> Result<Val<'static>, String> {
    Ok(Val::bool(eq_bool(&a[0], &a[1..])?))
}

fn lt(x: &Val<'_>, y: &Val<'_>) -> Result<bool, String> {
    let (a, b) = (basic(x), basic(y));
    match (&a, &b) {
        (Basic::Invalid | Basic::Other(_) | Basic::Bool(_), _)
        | (_, Basic::Invalid | Basic::Other(_) | Basic::Bool(_)) => {
            Err("invalid type for comparison".to_string())
        }
        (Basic::Str(s), Basic::Str(t)) => Ok(s < t),
        (Basic::Str(_), _) | (_, Basic::Str(_)) => {
            Err("incompatible types for comparison".to_string())
        }
        _ => Ok(num_cmp(&a, &b) == Some(Ordering::Less)),
    }
}

/// Go's `evalArgs` for html/js/urlquery: a lone string as is, else Sprint.
fn eval_args(a: &[Val<'_>]) -> String {
    match a {
        [one] if one.as_str().is_some() => arg_str(one).to_string(),
        _ => sprint(&to_json(a)),
    }
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn js_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' | '>' | '&' | '=' => out.push_str(&format!("\\u{:04X}", c as u32)),
            c if (c as u32) < 0x20 || c.is_control() => {
                out.push_str(&format!("\\u{:04X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn json(a: &[Val<'_>]) -> Result<Val<'static>, String> {
    let mut out = String::new();
    write_json(&mut out, a[0].json().unwrap_or(&Value::Null), None, 0);
    Ok(Val::str(out))
}

fn split(a: &[Val<'_>]) -> Result<Val<'static>, String> {
    let (s, sep) = (arg_str(&a[0]), arg_str(&a[1]));
    let parts: Vec<Value> = if sep.is_empty() {
        s.chars().map(|c| Value::String(c.to_string())).collect()
    } else {
        s.split(sep).map(|p| Value::String(p.to_string())).collect()
    };
    Ok(Val::Own(Value::Array(parts)))
}

fn join(a: &[Val<'_>]) -> Result<Val<'static>, String> {
    let items: Vec<&str> = match a[0].json() {
        Some(Value::Array(v)) => v.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    Ok(Val::str(items.join(arg_str(&a[1]))))
}

/// Go's rune-by-rune case mapping: a rune without a single-rune mapping
/// (such as `ß` to upper case) stays as it is.
fn map_runes<I: Iterator<Item = char>>(s: &str, map: fn(char) -> I) -> String {
    s.chars()
        .map(|c| {
            let mut mapped = map(c);
            match (mapped.next(), mapped.next()) {
                (Some(m), None) => m,
                _ => c,
            }
        })
        .collect()
}

/// Go's deprecated `strings.Title`: upper-cases the first letter of each word.
fn title(s: &str) -> String {
    let is_separator = |c: char| {
        if c.is_ascii() {
            !(c.is_ascii_alphanumeric() || c == '_')
        } else if c.is_alphanumeric() {
            false
        } else {
            c.is_whitespace()
        }
    };
    let mut prev = ' ';
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_separator(prev) {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev = c;
    }
    out
}

fn pad(a: &[Val<'_>]) -> Result<Val<'static>, String> {
    let s = arg_str(&a[0]);
    let (pre, post) = (arg_int(&a[1]), arg_int(&a[2]));
    if s.is_empty() {
        return Ok(Val::str(""));
    }
    if pre < 0 || post < 0 {
        return Err("strings: negative Repeat count".to_string());
    }
    Ok(Val::str(format!(
        "{}{s}{}",
        " ".repeat(pre as usize),
        " ".repeat(post as usize)
    )))
}

fn truncate(a: &[Val<'_>]) -> Result<Val<'static>, String> {
    let s = arg_str(&a[0]);
    let n = arg_int(&a[1]);
    if (s.len() as i128) < n {
        return Ok(Val::str(s));
    }
    if n < 0 {
        return Err(format!("runtime error: slice bounds out of range [:{n}]"));
    }
    // Go cuts bytes; cut at the last character boundary not past `n`.
    let mut end = n as usize;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    Ok(Val::str(&s[..end]))
}
