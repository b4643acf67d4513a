//! A Go `text/template` engine over JSON data, with docker/cli's extra
//! functions. Output, error texts and edge cases follow Go's so that
//! `--format` strings written for `docker` behave the same with `berth`.

mod ast;
mod exec;
mod funcs;
mod gofmt;
mod lex;
mod parse;
mod value;

use std::io::Write;

use serde_json::Value;

use crate::FormatError;

pub(crate) use gofmt::write_json;

/// A method callable on the row object as `{{.Name arg...}}`, standing in
/// for Docker's Go methods such as `ContainerContext.Label`. It receives
/// the whole row and the evaluated arguments (missing values as null).
pub type Method = fn(row: &Value, args: &[Value]) -> Result<Value, String>;

/// What a `{{.Field}}` naming no key of an object does.
///
/// Docker's data are Go structs (an unknown field is an error) holding Go
/// maps (an unknown key prints `<no value>`); JSON loses that distinction,
/// so callers say which behaviour they want.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum MissingField {
    /// Go's map behaviour everywhere: prints `<no value>`.
    #[default]
    NoValue,
    /// Docker's list commands: the row itself is a Go struct, so an unknown
    /// field of the row is `can't evaluate field X in type TYPE`, with TYPE
    /// the given Go type name (e.g. `*formatter.ContainerContext`).
    RowError(String),
    /// Docker's inspect fallback (`missingkey=error` on raw JSON): an unknown
    /// field of a struct-like object (non-empty, all keys capitalized, as Go
    /// exported fields are) is `map has no entry for key "X"`; other objects
    /// (labels, options, port maps) print `<no value>`.
    StructError,
}

/// A parsed template.
#[derive(Debug, Clone)]
pub struct Template {
    name: String,
    src: String,
    parsed: parse::Parsed,
    missing: MissingField,
    methods: Vec<(String, Method)>,
}

impl Template {
    /// Parses `text` as an anonymous template, as docker/cli's
    /// `templates.Parse` does (errors read `template: :LINE: ...`).
    pub fn parse(text: &str) -> Result<Template, FormatError> {
        Template::parse_named("", text)
    }

    /// Parses `text` as a template called `name` (errors then read
    /// `template: NAME:LINE: ...`, as for `docker version`'s "version").
    pub fn parse_named(name: &str, text: &str) -> Result<Template, FormatError> {
        let has_func = |f: &str| funcs::lookup(f, false).is_some();
        let parsed = parse::parse(text, name, &has_func).map_err(FormatError::Parse)?;
        Ok(Template {
            name: name.to_string(),
            src: text.to_string(),
            parsed,
            missing: MissingField::default(),
            methods: Vec::new(),
        })
    }

    /// Sets the behaviour for unknown fields (default: `<no value>`).
    pub fn with_missing_field(mut self, missing: MissingField) -> Template {
        self.missing = missing;
        self
    }

    /// Adds a method callable on the root object as `{{.name args...}}`.
    pub fn with_method(mut self, name: &str, method: Method) -> Template {
        self.methods.push((name.to_string(), method));
        self
    }

    /// Executes the template against `data` and returns the text.
    pub fn render(&self, data: &Value) -> Result<String, FormatError> {
        let mut out = String::new();
        self.run(data, &mut out, false)
            .map_err(FormatError::Execute)?;
        Ok(out)
    }

    /// Executes the template against `data`, writing the text to `out` only
    /// if execution succeeds.
    pub fn execute(&self, data: &Value, out: &mut dyn Write) -> Result<(), FormatError> {
        let text = self.render(data)?;
        out.write_all(text.as_bytes())?;
        Ok(())
    }

    /// Renders a table header the way docker/cli does: against a map of
    /// column titles, with title-preserving functions, keeping whatever was
    /// written before an error (docker/cli ignores header errors).
    pub(crate) fn render_header(&self, header: &Value) -> String {
        let mut out = String::new();
        let _ignored = self.run(header, &mut out, true);
        out
    }

    fn run(&self, data: &Value, out: &mut String, header: bool) -> Result<(), String> {
        let header_missing = MissingField::NoValue;
        let settings = exec::Settings {
            src: &self.src,
            name: &self.name,
            parsed: &self.parsed,
            missing: if header {
                &header_missing
            } else {
                &self.missing
            },
            methods: if header { &[] } else { &self.methods },
            header,
        };
        exec::execute(&settings, data, out)
    }
}
