//! `--format` for `inspect`-style commands: docker/cli's inspect rules,
//! which differ from list commands (no `table`, no `\t` replacement,
//! indented JSON by default, per-object errors).

use std::io::Write;

use serde_json::Value;

use crate::template::{write_json, MissingField, Template};
use crate::FormatError;

/// Writes `objects` as `docker inspect --format FORMAT` does:
/// - `""`: a JSON array indented by four spaces (`[]` when empty);
/// - `"json"`: the same array as one compact line;
/// - anything else: the template once per object, each followed by a
///   newline. Objects that fail are skipped and their errors returned
///   together after the others are written (Docker exits 1 then).
///
/// A template that does not parse is [`FormatError::Parse`] (Docker exits
/// 64 then) and nothing is written.
pub fn render_inspect(
    format: &str,
    objects: &[Value],
    out: &mut dyn Write,
) -> Result<(), FormatError> {
    let array = Value::Array(objects.to_vec());
    let mut text = String::new();
    match format {
        "" => write_json(&mut text, &array, Some("    "), 0),
        "json" => write_json(&mut text, &array, None, 0),
        _ => return render_template(format, objects, out),
    }
    text.push('\n');
    out.write_all(text.as_bytes())?;
    Ok(())
}

fn render_template(
    format: &str,
    objects: &[Value],
    out: &mut dyn Write,
) -> Result<(), FormatError> {
    let tmpl = Template::parse(format)?.with_missing_field(MissingField::StructError);
    let mut text = String::new();
    let mut errors = Vec::new();
    for obj in objects {
        match tmpl.render(obj) {
            Ok(s) => {
                text.push_str(&s);
                text.push('\n');
            }
            Err(e) => errors.push(e),
        }
    }
    if text.is_empty() {
        text.push('\n');
    }
    out.write_all(text.as_bytes())?;
    match errors.len() {
        0 => Ok(()),
        1 => Err(errors.remove(0)),
        _ => Err(FormatError::Multiple(errors)),
    }
}
