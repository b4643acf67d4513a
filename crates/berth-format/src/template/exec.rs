//! Executor: walks the syntax tree over JSON data with Go's text/template
//! semantics (field lookup, pipelines, variables, range/if/with, lazy
//! and/or) and Go's error wording
//! (`template: NAME:LINE:COL: executing "NAME" at <NODE>: MSG`).

use serde_json::Value;

use super::ast::{Arg, Branch, Command, Node, Pipe, TemplateCall};
use super::funcs::{lookup, Param};
use super::gofmt::print_value;
use super::parse::Parsed;
use super::value::{as_int, truth, Val};
use super::{Method, MissingField};

/// Guards `{{template}}` recursion (Go allows 100000 frames; we have less stack).
const MAX_DEPTH: usize = 1000;

pub(crate) struct Settings<'t> {
    pub src: &'t str,
    pub name: &'t str,
    pub parsed: &'t Parsed,
    pub missing: &'t MissingField,
    pub methods: &'t [(String, Method)],
    /// Use docker/cli's header functions.
    pub header: bool,
}

enum Flow {
    Normal,
    Break,
    Continue,
}

type EResult<T> = Result<T, String>;

pub(crate) fn execute(settings: &Settings<'_>, data: &Value, out: &mut String) -> EResult<()> {
    let mut ex = Exec {
        s: settings,
        root: data,
        exec_name: settings.name.to_string(),
        vars: vec![("$".to_string(), Val::Ref(data))],
        out,
        depth: 0,
    };
    ex.walk(&Val::Ref(data), &settings.parsed.root).map(|_| ())
}

struct Exec<'t, 'd, 'o> {
    s: &'t Settings<'t>,
    root: &'d Value,
    /// Name of the tree being executed (differs inside `{{template}}`).
    exec_name: String,
    vars: Vec<(String, Val<'d>)>,
    out: &'o mut String,
    depth: usize,
}

impl<'t, 'd> Exec<'t, 'd, '_> {
    fn error<T>(&self, pos: usize, context: &str, msg: impl AsRef<str>) -> EResult<T> {
        let before = &self.s.src[..pos.min(self.s.src.len())];
        let line = 1 + before.matches('\n').count();
        let col = match before.rfind('\n') {
            Some(nl) => pos - nl - 1,
            None => pos,
        };
        Err(format!(
            "template: {}:{line}:{col}: executing {} at <{context}>: {}",
            self.s.name,
            super::lex::go_quote(&self.exec_name),
            msg.as_ref()
        ))
    }

    fn walk(&mut self, dot: &Val<'d>, nodes: &'t [Node]) -> EResult<Flow> {
        for node in nodes {
            let flow = match node {
                Node::Text(t) => {
                    self.out.push_str(t);
                    Flow::Normal
                }
                Node::Action(pipe) => {
                    let v = self.eval_pipeline(dot, pipe)?;
                    if pipe.decl.is_empty() {
                        match v.json() {
                            None => self.out.push_str("<no value>"),
                            Some(j) => print_value(self.out, j),
                        }
                    }
                    Flow::Normal
                }
                Node::If(b) => self.walk_if_with(dot, b, false)?,
                Node::With(b) => self.walk_if_with(dot, b, true)?,
                Node::Range(b) => self.walk_range(dot, b)?,
                Node::Template(t) => self.walk_template(dot, t)?,
                Node::Break => Flow::Break,
                Node::Continue => Flow::Continue,
            };
            if !matches!(flow, Flow::Normal) {
                return Ok(flow);
            }
        }
        Ok(Flow::Normal)
    }

    fn walk_if_with(&mut self, dot: &Val<'d>, b: &'t Branch, is_with: bool) -> EResult<Flow> {
        let mark = self.vars.len();
        let val = self.eval_pipeline(dot, &b.pipe)?;
        let flow = if truth(&val) {
            if is_with {
                self.walk(&val, &b.list)?
            } else {
                self.walk(dot, &b.list)?
            }
        } else if let Some(else_list) = &b.else_list {
            self.walk(dot, else_list)?
        } else {
            Flow::Normal
        };
        self.vars.truncate(mark);
        Ok(flow)
    }

    fn walk_range(&mut self, dot: &Val<'d>, b: &'t Branch) -> EResult<Flow> {
        let mark = self.vars.len();
        let val = self.eval_pipeline(dot, &b.pipe)?;
        let items: Vec<(Val<'d>, Val<'d>)> = match &val {
            Val::Missing => Vec::new(),
            Val::Ref(v) => self.range_items(v, b, Val::Ref)?,
            Val::Own(v) => self.range_items(v, b, |c| Val::Own(c.clone()))?,
        };
        let empty = items.is_empty();
        for (key, elem) in items {
            self.set_range_vars(&b.pipe, key, elem.clone())?;
            let iter_mark = self.vars.len();
            let flow = self.walk(&elem, &b.list)?;
            self.vars.truncate(iter_mark);
            if matches!(flow, Flow::Break) {
                break;
            }
        }
        if empty {
            if let Some(else_list) = &b.else_list {
                self.walk(dot, else_list)?;
            }
        }
        self.vars.truncate(mark);
        Ok(Flow::Normal)
    }

    /// (key, element) pairs of a range: arrays by index, maps by sorted key,
    /// integers as 0..n (Go 1.22), nil as nothing.
    fn range_items<'v>(
        &self,
        v: &'v Value,
        b: &Branch,
        wrap: impl Fn(&'v Value) -> Val<'d>,
    ) -> EResult<Vec<(Val<'d>, Val<'d>)>> {
        match v {
            Value::Null => Ok(Vec::new()),
            Value::Array(a) => Ok(a
                .iter()
                .enumerate()
                .map(|(i, e)| (Val::int(i as i64), wrap(e)))
                .collect()),
            Value::Object(m) => {
                let mut keys: Vec<&'v String> = m.keys().collect();
                keys.sort();
                Ok(keys
                    .into_iter()
                    .map(|k| (Val::str(k.as_str()), wrap(&m[k.as_str()])))
                    .collect())
            }
            Value::Number(n) if !n.is_f64() && as_int(v).is_some() => {
                if b.pipe.decl.len() > 1 {
                    return self.error(
                        b.pipe.pos,
                        &b.pipe.to_string(),
                        format!("can't use {n} to iterate over more than one variable"),
                    );
                }
                let count = as_int(v).unwrap_or(0).max(0);
                Ok((0..count)
                    .map(|i| (Val::int(i as i64), Val::int(i as i64)))
                    .collect())
            }
            other => {
                let mut shown = String::new();
                print_value(&mut shown, other);
                self.error(
                    b.pipe.pos,
                    &b.pipe.to_string(),
                    format!("range can't iterate over {shown}"),
                )
            }
        }
    }

    fn set_range_vars(&mut self, pipe: &Pipe, key: Val<'d>, elem: Val<'d>) -> EResult<()> {
        match (pipe.decl.len(), pipe.is_assign) {
            (0, _) => {}
            (1, false) => self.set_top_var(1, elem),
            (_, false) => {
                self.set_top_var(1, elem);
                self.set_top_var(2, key);
            }
            (1, true) => self.set_var(pipe.pos, &pipe.decl[0], elem)?,
            (_, true) => {
                self.set_var(pipe.pos, &pipe.decl[0], key)?;
                self.set_var(pipe.pos, &pipe.decl[1], elem)?;
            }
        }
        Ok(())
    }

    fn walk_template(&mut self, dot: &Val<'d>, t: &'t TemplateCall) -> EResult<Flow> {
        let Some(body) = self.s.parsed.defines.get(&t.name) else {
            return self.error(
                t.pos,
                &t.to_string(),
                format!("template {} not defined", super::lex::go_quote(&t.name)),
            );
        };
        if self.depth >= MAX_DEPTH {
            return self.error(
                t.pos,
                &t.to_string(),
                format!("exceeded maximum template depth ({MAX_DEPTH})"),
            );
        }
        let new_dot = match &t.pipe {
            Some(p) => self.eval_pipeline(dot, p)?,
            None => Val::Missing,
        };
        let saved_vars =
            std::mem::replace(&mut self.vars, vec![("$".to_string(), new_dot.clone())]);
        let saved_name = std::mem::replace(&mut self.exec_name, t.name.clone());
        self.depth += 1;
        let result = self.walk(&new_dot, body);
        self.depth -= 1;
        self.vars = saved_vars;
        self.exec_name = saved_name;
        result.map(|_| Flow::Normal)
    }

    fn set_top_var(&mut self, n: usize, v: Val<'d>) {
        let len = self.vars.len();
        self.vars[len - n].1 = v;
    }

    fn set_var(&mut self, pos: usize, name: &str, v: Val<'d>) -> EResult<()> {
        match self.vars.iter_mut().rev().find(|(n, _)| n == name) {
            Some(slot) => {
                slot.1 = v;
                Ok(())
            }
            None => self.error(pos, name, format!("undefined variable: {name}")),
        }
    }

    fn var_value(&self, pos: usize, name: &str) -> EResult<Val<'d>> {
        match self.vars.iter().rev().find(|(n, _)| n == name) {
            Some((_, v)) => Ok(v.clone()),
            None => self.error(pos, name, format!("undefined variable: {name}")),
        }
    }

    fn eval_pipeline(&mut self, dot: &Val<'d>, pipe: &'t Pipe) -> EResult<Val<'d>> {
        let mut value: Option<Val<'d>> = None;
        for cmd in &pipe.cmds {
            value = Some(self.eval_command(dot, cmd, value.take())?.settle());
        }
        let value = value.unwrap_or(Val::Missing);
        for name in &pipe.decl {
            if pipe.is_assign {
                self.set_var(pipe.pos, name, value.clone())?;
            } else {
                self.vars.push((name.clone(), value.clone()));
            }
        }
        Ok(value)
    }

    fn not_a_function(&self, args: &[Arg], fin: &Option<Val<'d>>) -> EResult<()> {
        if args.len() > 1 || fin.is_some() {
            return self.error(
                args[0].pos(),
                &args[0].to_string(),
                format!("can't give argument to non-function {}", args[0]),
            );
        }
        Ok(())
    }

    fn eval_command(
        &mut self,
        dot: &Val<'d>,
        cmd: &'t Command,
        fin: Option<Val<'d>>,
    ) -> EResult<Val<'d>> {
        let first = &cmd.args[0];
        match first {
            Arg::Field { names, .. } => {
                self.eval_field_chain(dot, dot.clone(), first, names, &cmd.args, fin)
            }
            Arg::Chain { pipe, fields, .. } => {
                let recv = self.eval_pipeline(dot, pipe)?;
                self.eval_field_chain(dot, recv, first, fields, &cmd.args, fin)
            }
            Arg::Identifier { name, pos } => {
                self.eval_function(dot, name, *pos, (cmd.pos, cmd), &cmd.args, fin)
            }
            Arg::Pipe(p) => {
                self.not_a_function(&cmd.args, &fin)?;
                self.eval_pipeline(dot, p)
            }
            Arg::Variable { pos, name, fields } => {
                let v = self.var_value(*pos, name)?;
                if fields.is_empty() {
                    self.not_a_function(&cmd.args, &fin)?;
                    return Ok(v);
                }
                self.eval_field_chain(dot, v, first, fields, &cmd.args, fin)
            }
            Arg::Nil(pos) => self.error(*pos, "nil", "nil is not a command"),
            _ => {
                self.not_a_function(&cmd.args, &fin)?;
                self.eval_literal(dot, first)
            }
        }
    }

    /// Literal operands as `any` (Go's `evalEmptyInterface`).
    fn eval_literal(&self, dot: &Val<'d>, arg: &Arg) -> EResult<Val<'d>> {
        match arg {
            Arg::Dot(_) => Ok(dot.clone()),
            Arg::Nil(_) => Ok(Val::Own(Value::Null)),
            Arg::Bool(_, b) => Ok(Val::bool(*b)),
            Arg::String { value, .. } => Ok(Val::str(value.as_str())),
            Arg::Number { pos, text, value } => {
                if !value.is_float_literal && value.int.is_none() {
                    return self.error(*pos, text, format!("{text} overflows int"));
                }
                if value.is_float_literal {
                    match value.float.and_then(serde_json::Number::from_f64) {
                        Some(n) => Ok(Val::Own(Value::Number(n))),
                        None => self.error(*pos, text, format!("{text} overflows float64")),
                    }
                } else {
                    Ok(Val::int(value.int.unwrap_or(0)))
                }
            }
            other => self.error(other.pos(), &other.to_string(), "can't evaluate operand"),
        }
    }

    fn eval_field_chain(
        &mut self,
        dot: &Val<'d>,
        receiver: Val<'d>,
        node: &Arg,
        names: &[String],
        args: &'t [Arg],
        fin: Option<Val<'d>>,
    ) -> EResult<Val<'d>> {
        let (last, init) = names
            .split_last()
            .expect("parser never builds empty field chains");
        let mut recv = receiver;
        for name in init {
            recv = self.eval_field(dot, recv, node, name, &args[..1], None)?;
        }
        self.eval_field(dot, recv, node, last, args, fin)
    }

    fn eval_field(
        &mut self,
        dot: &Val<'d>,
        recv: Val<'d>,
        node: &Arg,
        name: &str,
        args: &'t [Arg],
        fin: Option<Val<'d>>,
    ) -> EResult<Val<'d>> {
        let has_args = args.len() > 1 || fin.is_some();
        let is_root = matches!(recv, Val::Ref(v) if std::ptr::eq(v, self.root));
        let ctx = node.to_string();
        let obj = match recv.json() {
            None => return Ok(Val::Missing),
            Some(Value::Object(m)) => m,
            Some(Value::Null) => {
                return self.error(
                    node.pos(),
                    &ctx,
                    format!("nil pointer evaluating interface {{}}.{name}"),
                )
            }
            Some(other) => {
                let type_name = super::value::type_name(other);
                return self.error(
                    node.pos(),
                    &ctx,
                    format!("can't evaluate field {name} in type {type_name}"),
                );
            }
        };
        if is_root {
            if let Some((_, method)) = self.s.methods.iter().find(|(n, _)| n == name) {
                let mut vals = Vec::new();
                for a in &args[1..] {
                    let v = self.eval_arg(dot, Param::Any, a)?;
                    vals.push(v.json().cloned().unwrap_or(Value::Null));
                }
                if let Some(f) = fin {
                    vals.push(f.json().cloned().unwrap_or(Value::Null));
                }
                return match method(self.root, &vals) {
                    Ok(v) => Ok(Val::Own(v)),
                    Err(e) => self.error(node.pos(), &ctx, format!("error calling {name}: {e}")),
                };
            }
        }
        // Docker's list rows are Go structs: field lookup comes before the
        // argument check, and the errors are worded for structs.
        if let (true, MissingField::RowError(type_name)) = (is_root, self.s.missing) {
            return match (has_field(obj, name), has_args) {
                (false, _) => self.error(
                    node.pos(),
                    &ctx,
                    format!("can't evaluate field {name} in type {type_name}"),
                ),
                (true, true) => self.error(
                    node.pos(),
                    &ctx,
                    format!("{name} has arguments but cannot be invoked as function"),
                ),
                (true, false) => Ok(self.child(&recv, obj, name)),
            };
        }
        if has_args {
            return self.error(
                node.pos(),
                &ctx,
                format!("{name} is not a method but has arguments"),
            );
        }
        if has_field(obj, name) {
            return Ok(self.child(&recv, obj, name));
        }
        match self.s.missing {
            MissingField::NoValue | MissingField::RowError(_) => Ok(Val::Missing),
            MissingField::StructError => {
                let struct_like = !obj.is_empty()
                    && obj
                        .keys()
                        .all(|k| k.starts_with(|c: char| c.is_ascii_uppercase()));
                if struct_like {
                    self.error(
                        node.pos(),
                        &ctx,
                        format!("map has no entry for key {}", super::lex::go_quote(name)),
                    )
                } else {
                    Ok(Val::Missing)
                }
            }
        }
    }

    /// The value under `name` of the object `recv`, borrowed when `recv` is.
    ///
    /// Docker runs templates over Go structs, whose field names differ from their JSON
    /// keys mostly in letter case (`APIVersion` is sent as `ApiVersion`); when no key
    /// matches exactly, a key equal but for ASCII case is used.
    fn child(&self, recv: &Val<'d>, obj: &serde_json::Map<String, Value>, name: &str) -> Val<'d> {
        let key = if obj.contains_key(name) {
            Some(name)
        } else {
            obj.keys()
                .find(|k| k.eq_ignore_ascii_case(name))
                .map(String::as_str)
        };
        let Some(key) = key else {
            return Val::Missing;
        };
        if let Val::Ref(borrowed) = recv {
            let borrowed: &'d Value = borrowed;
            if let Some(child) = borrowed.get(key) {
                return Val::Ref(child);
            }
        }
        obj.get(key).cloned().map_or(Val::Missing, Val::Own)
    }

    fn eval_function(
        &mut self,
        dot: &Val<'d>,
        name: &str,
        pos: usize,
        (cmd_pos, cmd): (usize, &dyn std::fmt::Display),
        args: &'t [Arg],
        fin: Option<Val<'d>>,
    ) -> EResult<Val<'d>> {
        let Some(func) = lookup(name, self.s.header) else {
            return self.error(pos, name, format!("{name:?} is not a defined function"));
        };
        let call_args = &args[1..];
        let nargs = call_args.len() + usize::from(fin.is_some());
        let nparams = func.params.len();
        if func.variadic.is_some() && nargs < nparams {
            return self.error(
                pos,
                name,
                format!("wrong number of args for {name}: want at least {nparams} got {nargs}"),
            );
        }
        if func.variadic.is_none() && nargs != nparams {
            return self.error(
                pos,
                name,
                format!("wrong number of args for {name}: want {nparams} got {nargs}"),
            );
        }
        let param_of = |i: usize| {
            func.params
                .get(i)
                .copied()
                .or(func.variadic)
                .unwrap_or(Param::Any)
        };
        if name == "and" || name == "or" {
            let want = name == "or";
            let mut last = Val::Missing;
            for a in call_args {
                last = self.eval_arg(dot, Param::Any, a)?;
                if truth(&last) == want {
                    return Ok(last);
                }
            }
            return Ok(fin.unwrap_or(last));
        }
        let mut vals = Vec::with_capacity(nargs);
        for (i, a) in call_args.iter().enumerate() {
            vals.push(self.eval_arg(dot, param_of(i), a)?);
        }
        if let Some(f) = fin {
            vals.push(self.validate(pos, name, param_of(nargs - 1), f)?);
        }
        match (func.call)(&vals) {
            Ok(v) => Ok(v),
            Err(e) => self.error(
                cmd_pos,
                &cmd.to_string(),
                format!("error calling {name}: {e}"),
            ),
        }
    }

    /// Evaluates one argument for a parameter kind (Go's `evalArg`).
    fn eval_arg(&mut self, dot: &Val<'d>, param: Param, arg: &'t Arg) -> EResult<Val<'d>> {
        let ctx = arg.to_string();
        let single = std::slice::from_ref(arg);
        let value = match arg {
            Arg::Dot(_) => dot.clone(),
            Arg::Field { names, .. } => {
                self.eval_field_chain(dot, dot.clone(), arg, names, single, None)?
            }
            Arg::Variable { pos, name, fields } => {
                let v = self.var_value(*pos, name)?;
                if fields.is_empty() {
                    v
                } else {
                    self.eval_field_chain(dot, v, arg, fields, single, None)?
                }
            }
            Arg::Pipe(p) => self.eval_pipeline(dot, p)?,
            Arg::Identifier { name, pos } => {
                self.eval_function(dot, name, *pos, (*pos, arg), single, None)?
            }
            Arg::Chain { pipe, fields, .. } => {
                let recv = self.eval_pipeline(dot, pipe)?;
                self.eval_field_chain(dot, recv, arg, fields, single, None)?
            }
            Arg::Nil(pos) => {
                return match param {
                    Param::Any => Ok(Val::Own(Value::Null)),
                    Param::StrList => Ok(Val::Own(Value::Array(Vec::new()))),
                    Param::Str => self.error(*pos, &ctx, "cannot assign nil to string"),
                    Param::Int => self.error(*pos, &ctx, "cannot assign nil to int"),
                };
            }
            literal => {
                return match param {
                    Param::Any => self.eval_literal(dot, literal),
                    Param::Str => match literal {
                        Arg::String { value, .. } => Ok(Val::str(value.as_str())),
                        _ => self.error(
                            literal.pos(),
                            &ctx,
                            format!("expected string; found {literal}"),
                        ),
                    },
                    Param::Int => match literal {
                        Arg::Number { value, .. } if value.int.is_some() => {
                            Ok(Val::int(value.int.unwrap_or(0)))
                        }
                        _ => self.error(
                            literal.pos(),
                            &ctx,
                            format!("expected integer; found {literal}"),
                        ),
                    },
                    Param::StrList => self.error(
                        literal.pos(),
                        &ctx,
                        format!("can't handle {literal} for arg of type []string"),
                    ),
                };
            }
        };
        self.validate(arg.pos(), &ctx, param, value)
    }

    /// Checks a computed value against a parameter kind (Go's `validateType`).
    fn validate(&self, pos: usize, ctx: &str, param: Param, v: Val<'d>) -> EResult<Val<'d>> {
        let expected = match param {
            Param::Any => return Ok(v),
            Param::Str => "string",
            Param::Int => "int",
            Param::StrList => "[]string",
        };
        let Some(json) = v.json() else {
            if param == Param::StrList {
                return Ok(Val::Own(Value::Array(Vec::new())));
            }
            return self.error(pos, ctx, format!("invalid value; expected {expected}"));
        };
        let ok = match param {
            Param::Str => json.is_string(),
            Param::Int => json.as_number().is_some_and(|n| !n.is_f64()) && json.as_i64().is_some(),
            Param::StrList => json
                .as_array()
                .is_some_and(|a| a.iter().all(Value::is_string)),
            Param::Any => true,
        };
        if ok {
            Ok(v)
        } else {
            self.error(
                pos,
                ctx,
                format!(
                    "wrong type for value; expected {expected}; got {}",
                    super::value::type_name(json)
                ),
            )
        }
    }
}

/// Whether `obj` has `name`, exactly or but for ASCII case (see `child`).
fn has_field(obj: &serde_json::Map<String, Value>, name: &str) -> bool {
    obj.contains_key(name) || obj.keys().any(|k| k.eq_ignore_ascii_case(name))
}
