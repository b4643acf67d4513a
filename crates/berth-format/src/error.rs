//! Errors, worded as docker/cli words them.

/// A `--format` failure.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// The template does not parse; holds Go's message, e.g.
    /// `template: :1: unclosed action`.
    #[error("template parsing error: {0}")]
    Parse(String),
    /// Executing the template failed; holds Go's message, e.g.
    /// `template: :1:2: executing "" at <.Foo>: ...`. docker/cli reports
    /// these as parsing errors too.
    #[error("template parsing error: {0}")]
    Execute(String),
    /// Several objects of an inspect failed; one line each.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Multiple(Vec<FormatError>),
    /// Writing the output failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl FormatError {
    /// Whether this is a template error (Docker exits 64 for those at parse
    /// time) rather than an output error.
    pub fn is_parse(&self) -> bool {
        matches!(self, FormatError::Parse(_))
    }
}
