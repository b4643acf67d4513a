//! `--format` for list-style commands (`ps`, `images`, `context ls`, ...):
//! docker/cli's `formatter.Context` behaviour — `table` with a header row
//! and aligned columns, `json` as one object per line, or a free template
//! rendered once per row.

use std::io::Write;

use serde_json::{Map, Value};
use tabwriter::TabWriter;

use crate::template::{Method, MissingField, Template};
use crate::FormatError;

/// A parsed `--format` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// `table ...`: header row plus aligned columns; holds the template
    /// after the `table` keyword.
    Table(String),
    /// Exactly `json`: each row as one line of JSON.
    Json,
    /// Any other template: one rendered line per row, no header.
    Template(String),
}

impl Format {
    /// Interprets a `--format` value as docker/cli does. An empty value and
    /// a bare `table` both mean the command's default table, whose template
    /// (without the `table` keyword, columns separated by `\t`) is
    /// `default_table`.
    pub fn parse(format: &str, default_table: &str) -> Format {
        match format {
            "" | "table" => Format::Table(default_table.to_string()),
            "json" => Format::Json,
            _ => match format.strip_prefix("table") {
                Some(rest) => Format::Table(rest.to_string()),
                None => Format::Template(format.to_string()),
            },
        }
    }

    /// Whether a header row and column alignment apply.
    pub fn is_table(&self) -> bool {
        matches!(self, Format::Table(_))
    }

    /// The template text that is executed: docker/cli trims spaces at both
    /// ends and turns the two-character sequences `\t` and `\n` into a tab
    /// and a newline (everywhere, even inside quoted strings).
    pub fn template_text(&self) -> String {
        let raw = match self {
            Format::Table(t) | Format::Template(t) => t.as_str(),
            Format::Json => "{{json .}}",
        };
        raw.trim_matches(' ')
            .replace("\\t", "\t")
            .replace("\\n", "\n")
    }

    /// Renders `rows` to `out`. Nothing is written if any row fails, as
    /// docker/cli buffers all rows before printing.
    pub fn render_rows(
        &self,
        rows: &[Value],
        ctx: &RowContext<'_>,
        out: &mut dyn Write,
    ) -> Result<(), FormatError> {
        let mut tmpl = Template::parse(&self.template_text())?;
        if let Some(type_name) = ctx.type_name {
            tmpl = tmpl.with_missing_field(MissingField::RowError(type_name.to_string()));
        }
        for (name, method) in ctx.methods {
            tmpl = tmpl.with_method(name, *method);
        }
        let mut body = String::new();
        for row in rows {
            body.push_str(&tmpl.render(row)?);
            body.push('\n');
        }
        if !self.is_table() {
            out.write_all(body.as_bytes())?;
            return Ok(());
        }
        let header = ctx.header_value();
        let mut table = tmpl.render_header(&header);
        table.push('\n');
        table.push_str(&body);
        out.write_all(&align_columns(&table)?)?;
        Ok(())
    }
}

/// What a command tells the formatter about its rows.
#[derive(Debug, Clone, Copy, Default)]
pub struct RowContext<'a> {
    /// Column title of each row field, e.g. `("ID", "CONTAINER ID")`. The
    /// header row is the template rendered against this map.
    pub headers: &'a [(&'a str, &'a str)],
    /// Go type name of Docker's row context (e.g.
    /// `*formatter.ContainerContext`): with it, a template field the row
    /// lacks is an error, as in Docker; without it, it prints `<no value>`.
    pub type_name: Option<&'a str>,
    /// Methods callable on the row, e.g. `Label` for `{{.Label "key"}}`.
    pub methods: &'a [(&'a str, Method)],
}

impl RowContext<'_> {
    fn header_value(&self) -> Value {
        let map: Map<String, Value> = self
            .headers
            .iter()
            .map(|(field, title)| (field.to_string(), Value::String(title.to_string())))
            .collect();
        Value::Object(map)
    }
}

/// Aligns tab-separated cells as docker/cli's tabwriter (minwidth 10,
/// tabwidth 1, padding 3, padchar ' '). Go counts padding inside the
/// minimum width (`max(10, w+3)`); the tabwriter crate adds it after
/// (`max(min, w)+3`), so min 7 here gives the same widths.
fn align_columns(text: &str) -> Result<Vec<u8>, FormatError> {
    let mut tw = TabWriter::new(Vec::new()).minwidth(7).padding(3);
    tw.write_all(text.as_bytes())?;
    tw.into_inner()
        .map_err(|e| FormatError::Io(std::io::Error::other(e.to_string())))
}
