//! Docker-CLI-compatible `--format` rendering, shared by every `berth`
//! command that prints data (`version`, `info`, `ps`, `images`, `inspect`,
//! `events`, ...).
//!
//! Owns: the Go `text/template` language as docker/cli exposes it
//! ([`Template`]), docker/cli's `--format` conventions for list commands
//! (`table`, `json`, header rows, column alignment: [`Format`]) and for
//! inspect ([`render_inspect`]), and docker/cli's error wording.
//!
//! Must not know: any command, API type or daemon. Commands serialize their
//! rows to `serde_json::Value` and pass column titles; nothing here knows
//! what a container is.
//!
//! ```
//! use berth_format::{Format, RowContext};
//! use serde_json::json;
//!
//! let rows = [json!({"ID": "3f4e", "Names": "web"}), json!({"ID": "a1", "Names": "db"})];
//! let ctx = RowContext {
//!     headers: &[("ID", "CONTAINER ID"), ("Names", "NAMES")],
//!     type_name: Some("*formatter.ContainerContext"),
//!     ..RowContext::default()
//! };
//! let format = Format::parse(r"table {{.Names}}\t{{.ID}}", "{{.ID}}\t{{.Names}}");
//! let mut out = Vec::new();
//! format.render_rows(&rows, &ctx, &mut out).unwrap();
//! assert_eq!(String::from_utf8(out).unwrap(), "NAMES     CONTAINER ID\nweb       3f4e\ndb        a1\n");
//! ```
//!
//! # Why not `gtmpl`
//!
//! `gtmpl` 0.7 (Go templates in Rust) was evaluated first. It ranges over
//! maps in hash order (Go sorts keys), prints maps and slices with Rust's
//! `Debug` (`{"a": String("1")}` instead of `map[a:1]`), prints nil as
//! `nil` instead of `<nil>`, and its error texts differ from Go's. These
//! happen inside its executor, out of reach of a wrapper, so this crate
//! carries a compact engine of its own (lexer, parser, executor, Go `fmt`
//! printing) checked against Go's behaviour.
//!
//! # Known differences from Docker
//!
//! Docker executes templates over Go structs; here the data are JSON, so:
//! a nil slice or map prints as `<no value>`/`<nil>` rather than `[]`/`map[]`;
//! a struct prints as `map[...]` rather than `{...}`; JSON null inside
//! `index`/`len` acts as an empty map/slice (Docker's typed nil); numbers
//! compare across int and float. Methods on Docker's contexts must be given
//! as [`Method`]s.

mod error;
mod format;
mod inspect;
mod template;

pub use error::FormatError;
pub use format::{Format, RowContext};
pub use inspect::render_inspect;
pub use template::{Method, MissingField, Template};
