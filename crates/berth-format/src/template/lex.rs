//! Lexer for Go's text/template syntax: splits the source into text and
//! action tokens, applying `{{-`/`-}}` trim markers and dropping comments.
//! A lexing error becomes a final `Kind::Error` token, so the parser reports
//! errors in source order as Go does.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Text,
    LeftDelim,
    RightDelim,
    Space,
    Identifier,
    Keyword,
    Field,
    Variable,
    String,
    RawString,
    CharConstant,
    Number,
    Bool,
    Nil,
    Dot,
    Pipe,
    LeftParen,
    RightParen,
    Declare,
    Assign,
    /// Any other printable ASCII character (`,` separates range variables).
    Char,
    Eof,
    Error,
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub kind: Kind,
    /// Source text of the token (for `Text`, the text after trimming; for
    /// `Error`, the message).
    pub val: String,
    /// Byte offset in the template source.
    pub pos: usize,
    /// 1-based line of the token's start.
    pub line: usize,
}

impl Token {
    /// How Go prints an item in "unexpected ..." errors.
    pub fn describe(&self) -> String {
        match self.kind {
            Kind::Eof => "EOF".to_string(),
            Kind::Error => self.val.clone(),
            Kind::Keyword => format!("<{}>", self.val),
            _ if self.val.chars().count() > 10 => {
                let head: String = self.val.chars().take(10).collect();
                format!("{}...", go_quote(&head))
            }
            _ => go_quote(&self.val),
        }
    }
}

const KEYWORDS: &[&str] = &[
    "block", "break", "continue", "define", "else", "end", "if", "range", "template", "with",
];

const LEFT: &str = "{{";
const RIGHT: &str = "}}";

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphabetic() || c.is_numeric()
}

/// Go's `%#U` rendering of a rune, e.g. `U+0021 '!'`.
pub(crate) fn rune_desc(c: char) -> String {
    format!("U+{:04X} '{}'", c as u32, c)
}

/// Go's `strconv.Quote` (enough for error messages and `%q`).
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() => {
                if (c as u32) < 0x10000 {
                    out.push_str(&format!("\\u{:04x}", c as u32))
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32))
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    tokens: Vec<Token>,
    paren_depth: usize,
    /// Set after a `-}}`: the next text starts with whitespace to drop.
    trim_next_text: bool,
}

/// Tokenizes `src`. The last token is always `Eof` or `Error`.
pub(crate) fn lex(src: &str) -> Vec<Token> {
    let mut lx = Lexer {
        src,
        pos: 0,
        tokens: Vec::new(),
        paren_depth: 0,
        trim_next_text: false,
    };
    if let Err(msg) = lx.run() {
        let pos = lx.pos.min(src.len());
        let line = lx.line_at(pos);
        lx.tokens.push(Token {
            kind: Kind::Error,
            val: msg,
            pos,
            line,
        });
    } else {
        let line = lx.line_at(src.len());
        lx.tokens.push(Token {
            kind: Kind::Eof,
            val: String::new(),
            pos: src.len(),
            line,
        });
    }
    lx.tokens
}

impl Lexer<'_> {
    fn line_at(&self, pos: usize) -> usize {
        1 + self.src[..pos].matches('\n').count()
    }

    fn rest(&self) -> &str {
        &self.src[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn emit(&mut self, kind: Kind, start: usize) {
        let line = self.line_at(start);
        self.tokens.push(Token {
            kind,
            val: self.src[start..self.pos].to_string(),
            pos: start,
            line,
        });
    }

    fn run(&mut self) -> Result<(), String> {
        loop {
            // Text up to the next left delimiter.
            let start = self.pos;
            let Some(off) = self.rest().find(LEFT) else {
                self.push_text(start, self.src.len(), false);
                self.pos = self.src.len();
                return Ok(());
            };
            let delim = start + off;
            let after = &self.src[delim + LEFT.len()..];
            let left_trim = after.starts_with('-') && after[1..].starts_with(is_space);
            self.push_text(start, delim, left_trim);
            self.pos = delim;
            let delim_len = LEFT.len() + if left_trim { 2 } else { 0 };
            // Comments produce no tokens.
            if self.src[delim + delim_len..].starts_with("/*") {
                self.pos = delim + delim_len;
                self.lex_comment()?;
                continue;
            }
            self.pos = delim + LEFT.len();
            self.emit(Kind::LeftDelim, delim);
            self.pos = delim + delim_len;
            self.lex_action()?;
        }
    }

    /// Emits the text `src[start..end]`, honouring pending and requested trims.
    fn push_text(&mut self, start: usize, end: usize, trim_right: bool) {
        let mut text = &self.src[start..end];
        let mut text_start = start;
        if self.trim_next_text {
            let trimmed = text.trim_start_matches(is_space);
            text_start += text.len() - trimmed.len();
            text = trimmed;
            self.trim_next_text = false;
        }
        if trim_right {
            text = text.trim_end_matches(is_space);
        }
        if !text.is_empty() {
            self.tokens.push(Token {
                kind: Kind::Text,
                val: text.to_string(),
                pos: text_start,
                line: self.line_at(text_start),
            });
        }
    }

    fn lex_comment(&mut self) -> Result<(), String> {
        let body = &self.src[self.pos + 2..];
        let Some(end) = body.find("*/") else {
            return Err("unclosed comment".to_string());
        };
        self.pos += 2 + end + 2;
        let (is_right, trim) = self.at_right_delim();
        if !is_right {
            return Err("comment ends before closing delimiter".to_string());
        }
        self.pos += RIGHT.len() + if trim { 2 } else { 0 };
        self.trim_next_text = trim;
        Ok(())
    }

    /// Whether the input is at `}}` or ` -}}`, and whether it is the trim form.
    fn at_right_delim(&self) -> (bool, bool) {
        let rest = self.rest();
        if rest.starts_with(is_space) && rest[1..].starts_with('-') && rest[2..].starts_with(RIGHT)
        {
            return (true, true);
        }
        (rest.starts_with(RIGHT), false)
    }

    fn at_terminator(&self) -> bool {
        match self.peek() {
            None => true,
            Some(c) if is_space(c) => true,
            Some('.' | ',' | '|' | ':' | ')' | '(') => true,
            _ => self.rest().starts_with(RIGHT),
        }
    }

    fn lex_action(&mut self) -> Result<(), String> {
        loop {
            let (is_right, trim) = self.at_right_delim();
            if is_right {
                if self.paren_depth > 0 {
                    return Err("unclosed left paren".to_string());
                }
                let start = self.pos + if trim { 2 } else { 0 };
                self.pos = start + RIGHT.len();
                self.emit(Kind::RightDelim, start);
                self.trim_next_text = trim;
                return Ok(());
            }
            let start = self.pos;
            let Some(c) = self.peek() else {
                return Err("unclosed action".to_string());
            };
            match c {
                c if is_space(c) => {
                    while self.peek().is_some_and(is_space) {
                        // Leave the space of a ` -}}` for the delimiter check.
                        if self.at_right_delim() == (true, true) {
                            break;
                        }
                        self.pos += 1;
                    }
                    if self.pos > start {
                        self.emit(Kind::Space, start);
                    }
                }
                '=' => {
                    self.pos += 1;
                    self.emit(Kind::Assign, start);
                }
                ':' => {
                    self.pos += 1;
                    if self.peek() != Some('=') {
                        return Err("expected :=".to_string());
                    }
                    self.pos += 1;
                    self.emit(Kind::Declare, start);
                }
                '|' => {
                    self.pos += 1;
                    self.emit(Kind::Pipe, start);
                }
                '"' => self.lex_quote(start, '"', Kind::String, "unterminated quoted string")?,
                '\'' => self.lex_quote(
                    start,
                    '\'',
                    Kind::CharConstant,
                    "unterminated character constant",
                )?,
                '`' => {
                    let Some(end) = self.src[start + 1..].find('`') else {
                        return Err("unterminated raw quoted string".to_string());
                    };
                    self.pos = start + 1 + end + 1;
                    self.emit(Kind::RawString, start);
                }
                '$' => {
                    self.pos += 1;
                    self.lex_field_or_variable(start, Kind::Variable)?;
                }
                '.' => {
                    if self.rest()[1..].starts_with(|c: char| c.is_ascii_digit()) {
                        self.lex_number(start)?;
                    } else {
                        self.pos += 1;
                        self.lex_field_or_variable(start, Kind::Field)?;
                    }
                }
                '+' | '-' | '0'..='9' => self.lex_number(start)?,
                c if is_alnum(c) => self.lex_identifier(start)?,
                '(' => {
                    self.pos += 1;
                    self.paren_depth += 1;
                    self.emit(Kind::LeftParen, start);
                }
                ')' => {
                    // Emitted before the depth check: Go's parser then
                    // reports the stray paren in context.
                    self.pos += 1;
                    self.emit(Kind::RightParen, start);
                    if self.paren_depth == 0 {
                        return Err(format!("unexpected right paren {}", rune_desc(c)));
                    }
                    self.paren_depth -= 1;
                }
                c if c.is_ascii() && !c.is_ascii_control() => {
                    self.pos += 1;
                    self.emit(Kind::Char, start);
                }
                c => {
                    return Err(format!(
                        "unrecognized character in action: {}",
                        rune_desc(c)
                    ))
                }
            }
        }
    }

    fn lex_quote(
        &mut self,
        start: usize,
        quote: char,
        kind: Kind,
        err: &str,
    ) -> Result<(), String> {
        let mut chars = self.src[start + 1..].char_indices();
        loop {
            match chars.next() {
                None | Some((_, '\n')) => return Err(err.to_string()),
                Some((_, '\\')) => match chars.next() {
                    None | Some((_, '\n')) => return Err(err.to_string()),
                    Some(_) => {}
                },
                Some((i, c)) if c == quote => {
                    self.pos = start + 1 + i + 1;
                    self.emit(kind, start);
                    return Ok(());
                }
                Some(_) => {}
            }
        }
    }

    fn lex_field_or_variable(&mut self, start: usize, kind: Kind) -> Result<(), String> {
        if self.at_terminator() {
            // A lone `.` or `$`.
            self.emit(if kind == Kind::Field { Kind::Dot } else { kind }, start);
            return Ok(());
        }
        while self.peek().is_some_and(is_alnum) {
            self.pos += self.peek().map_or(1, char::len_utf8);
        }
        if !self.at_terminator() {
            let c = self.peek().unwrap_or(' ');
            return Err(format!("bad character {}", rune_desc(c)));
        }
        self.emit(kind, start);
        Ok(())
    }

    fn lex_identifier(&mut self, start: usize) -> Result<(), String> {
        while self.peek().is_some_and(is_alnum) {
            self.pos += self.peek().map_or(1, char::len_utf8);
        }
        if !self.at_terminator() {
            let c = self.peek().unwrap_or(' ');
            return Err(format!("bad character {}", rune_desc(c)));
        }
        let word = &self.src[start..self.pos];
        let kind = if KEYWORDS.contains(&word) {
            Kind::Keyword
        } else if word == "true" || word == "false" {
            Kind::Bool
        } else if word == "nil" {
            Kind::Nil
        } else {
            Kind::Identifier
        };
        self.emit(kind, start);
        Ok(())
    }

    /// Scans a Go number literal: optional sign, base prefix, digits, one
    /// fraction and one exponent; the parser validates the value.
    fn lex_number(&mut self, start: usize) -> Result<(), String> {
        let bytes = self.src.as_bytes();
        let mut i = start;
        if matches!(bytes.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let mut digit: fn(u8) -> bool = |b| b.is_ascii_digit() || b == b'_';
        let mut exp: &[u8] = b"eE";
        if bytes.get(i) == Some(&b'0') {
            match bytes.get(i + 1) {
                Some(b'x' | b'X') => {
                    i += 2;
                    digit = |b| b.is_ascii_hexdigit() || b == b'_';
                    exp = b"pP";
                }
                Some(b'o' | b'O' | b'b' | b'B') => i += 2,
                _ => {}
            }
        }
        let run = |mut i: usize| {
            while bytes.get(i).is_some_and(|&b| digit(b)) {
                i += 1;
            }
            i
        };
        i = run(i);
        if bytes.get(i) == Some(&b'.') {
            i = run(i + 1);
        }
        if bytes.get(i).is_some_and(|b| exp.contains(b)) {
            i += 1;
            if matches!(bytes.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            i = run(i);
        }
        self.pos = i;
        if self.peek().is_some_and(is_alnum) {
            self.pos += self.peek().map_or(1, char::len_utf8);
            return Err(format!(
                "bad number syntax: {:?}",
                &self.src[start..self.pos]
            ));
        }
        self.emit(Kind::Number, start);
        Ok(())
    }
}
