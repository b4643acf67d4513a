//! Values seen by the executor: JSON data (borrowed from the caller or built
//! by functions) plus Go's "invalid value", which prints as `<no value>`.

use serde_json::Value;

#[derive(Debug, Clone)]
pub(crate) enum Val<'d> {
    /// Go's zero `reflect.Value`: a missing map key, or nil out of a pipeline.
    Missing,
    Ref(&'d Value),
    Own(Value),
}

impl<'d> Val<'d> {
    pub fn json(&self) -> Option<&Value> {
        match self {
            Val::Missing => None,
            Val::Ref(v) => Some(v),
            Val::Own(v) => Some(v),
        }
    }

    pub fn str(s: impl Into<String>) -> Val<'d> {
        Val::Own(Value::String(s.into()))
    }

    pub fn int(i: i64) -> Val<'d> {
        Val::Own(Value::from(i))
    }

    pub fn bool(b: bool) -> Val<'d> {
        Val::Own(Value::Bool(b))
    }

    pub fn as_str(&self) -> Option<&str> {
        self.json().and_then(Value::as_str)
    }

    /// Go's `indirectInterface` after a pipeline stage: a nil interface
    /// becomes the invalid value.
    pub fn settle(self) -> Val<'d> {
        if matches!(self.json(), Some(Value::Null)) {
            Val::Missing
        } else {
            self
        }
    }

    pub fn into_owned(self) -> Val<'static> {
        match self {
            Val::Missing => Val::Missing,
            Val::Ref(v) => Val::Own(v.clone()),
            Val::Own(v) => Val::Own(v),
        }
    }
}

/// Go's `isTrue`: zero values, empty containers and nil are false.
pub(crate) fn truth(v: &Val<'_>) -> bool {
    match v.json() {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
    }
}

/// Go type name of a JSON value as a Go program holding it in an `any` sees
/// it (used in error messages and printf's `%!v(TYPE=...)`).
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "interface {}",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// Integer value of a JSON number, if it is one.
pub(crate) fn as_int(v: &Value) -> Option<i128> {
    let n = v.as_number()?;
    n.as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from))
}
