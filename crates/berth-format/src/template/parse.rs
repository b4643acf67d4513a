//! Parser for Go's text/template: tokens to [`ast`](super::ast) nodes, with
//! Go's checks (undefined functions and variables, `break` outside `range`)
//! and Go's error wording (`template: NAME:LINE: MSG`).

use std::collections::HashMap;

use super::ast::{Arg, Branch, Command, Node, NumberConst, Pipe, TemplateCall};
use super::lex::{lex, Kind, Token};

/// A parsed template: the main body plus `{{define}}`/`{{block}}` bodies.
#[derive(Debug, Clone)]
pub(crate) struct Parsed {
    pub root: Vec<Node>,
    pub defines: HashMap<String, Vec<Node>>,
}

/// What an action turned out to be.
enum Action {
    Node(Node),
    End,
    /// `{{else}}`, or `{{else if ...}}`/`{{else with ...}}` with the keyword
    /// left unread for the enclosing control to chain.
    Else,
}

pub(crate) fn parse(
    src: &str,
    name: &str,
    has_func: &dyn Fn(&str) -> bool,
) -> Result<Parsed, String> {
    let mut p = Parser {
        toks: lex(src),
        i: 0,
        name,
        vars: vec!["$".to_string()],
        range_depth: 0,
        defines: HashMap::new(),
        has_func,
        line: 1,
    };
    let root = p.parse_top()?;
    Ok(Parsed {
        root,
        defines: p.defines,
    })
}

struct Parser<'a> {
    toks: Vec<Token>,
    i: usize,
    name: &'a str,
    vars: Vec<String>,
    range_depth: usize,
    defines: HashMap<String, Vec<Node>>,
    has_func: &'a dyn Fn(&str) -> bool,
    /// Line of the last token read, for error messages.
    line: usize,
}

type PResult<T> = Result<T, String>;

impl Parser<'_> {
    fn error<T>(&self, msg: impl AsRef<str>) -> PResult<T> {
        Err(format!(
            "template: {}:{}: {}",
            self.name,
            self.line,
            msg.as_ref()
        ))
    }

    fn unexpected<T>(&self, tok: &Token, context: &str) -> PResult<T> {
        if tok.kind == Kind::Error {
            return self.error(&tok.val);
        }
        self.error(format!("unexpected {} in {}", tok.describe(), context))
    }

    fn peek(&self) -> &Token {
        &self.toks[self.i.min(self.toks.len() - 1)]
    }

    fn next(&mut self) -> Token {
        let idx = self.i.min(self.toks.len() - 1);
        let tok = self.toks[idx].clone();
        self.line = tok.line;
        self.i = idx + 1;
        tok
    }

    fn backup(&mut self) {
        self.i = self.i.saturating_sub(1);
    }

    fn next_non_space(&mut self) -> Token {
        loop {
            let tok = self.next();
            if tok.kind != Kind::Space {
                return tok;
            }
        }
    }

    /// Skips spaces and returns the following token without consuming it.
    fn peek_non_space(&mut self) -> Token {
        let tok = self.next_non_space();
        self.backup();
        tok
    }

    fn expect(&mut self, kind: Kind, context: &str) -> PResult<Token> {
        let tok = self.next_non_space();
        if tok.kind != kind {
            return self.unexpected(&tok, context);
        }
        Ok(tok)
    }

    fn parse_top(&mut self) -> PResult<Vec<Node>> {
        let mut root = Vec::new();
        while self.peek().kind != Kind::Eof {
            if self.peek().kind == Kind::LeftDelim {
                let save = self.i;
                self.next();
                let tok = self.next_non_space();
                if tok.kind == Kind::Keyword && tok.val == "define" {
                    self.parse_definition()?;
                    continue;
                }
                self.i = save;
            }
            match self.text_or_action()? {
                Action::Node(n) => root.push(n),
                Action::End => return self.error("unexpected {{end}}"),
                Action::Else => return self.error("unexpected {{else}}"),
            }
        }
        Ok(root)
    }

    fn parse_definition(&mut self) -> PResult<()> {
        const CONTEXT: &str = "define clause";
        let tok = self.next_non_space();
        let name = self.template_name(&tok, CONTEXT)?;
        self.expect(Kind::RightDelim, CONTEXT)?;
        let body = self.sub_tree(CONTEXT)?;
        self.defines.insert(name, body);
        Ok(())
    }

    /// Parses the body of a `define`/`block`, with its own variable scope.
    fn sub_tree(&mut self, context: &str) -> PResult<Vec<Node>> {
        let vars = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
        let depth = std::mem::replace(&mut self.range_depth, 0);
        let (list, end) = self.item_list()?;
        self.vars = vars;
        self.range_depth = depth;
        if !matches!(end, Action::End) {
            return self.error(format!("unexpected {{{{else}}}} in {context}"));
        }
        Ok(list)
    }

    fn template_name(&self, tok: &Token, context: &str) -> PResult<String> {
        match tok.kind {
            Kind::String | Kind::RawString => self.unquote(tok),
            _ => self.unexpected(tok, context),
        }
    }

    /// Parses nodes up to and including `{{end}}` or `{{else}}`.
    fn item_list(&mut self) -> PResult<(Vec<Node>, Action)> {
        let mut list = Vec::new();
        while self.peek_non_space().kind != Kind::Eof {
            match self.text_or_action()? {
                Action::Node(n) => list.push(n),
                end => return Ok((list, end)),
            }
        }
        self.error("unexpected EOF")
    }

    fn text_or_action(&mut self) -> PResult<Action> {
        let tok = self.next_non_space();
        match tok.kind {
            Kind::Text => Ok(Action::Node(Node::Text(tok.val))),
            Kind::LeftDelim => self.action(),
            _ => self.unexpected(&tok, "input"),
        }
    }

    fn action(&mut self) -> PResult<Action> {
        let tok = self.next_non_space();
        if tok.kind == Kind::Keyword {
            match tok.val.as_str() {
                "block" => return self.block_control().map(Action::Node),
                "break" | "continue" => return self.loop_control(&tok).map(Action::Node),
                "else" => return self.else_control(),
                "end" => {
                    self.expect(Kind::RightDelim, "end")?;
                    return Ok(Action::End);
                }
                "if" => return self.if_control().map(Action::Node),
                "range" => {
                    let b = self.parse_control("range")?;
                    return Ok(Action::Node(Node::Range(b)));
                }
                "template" => return self.template_control().map(Action::Node),
                "with" => {
                    let b = self.parse_control("with")?;
                    return Ok(Action::Node(Node::With(b)));
                }
                _ => {}
            }
        }
        self.backup();
        // Variables declared here persist until the enclosing `end`.
        let pipe = self.pipeline("command", Kind::RightDelim)?;
        Ok(Action::Node(Node::Action(pipe)))
    }

    fn if_control(&mut self) -> PResult<Node> {
        Ok(Node::If(self.parse_control("if")?))
    }

    fn parse_control(&mut self, context: &str) -> PResult<Branch> {
        let nvars = self.vars.len();
        let pipe = self.pipeline(context, Kind::RightDelim)?;
        if context == "range" {
            self.range_depth += 1;
        }
        let (list, next) = self.item_list()?;
        if context == "range" {
            self.range_depth -= 1;
        }
        let mut else_list = None;
        if let Action::Else = next {
            let peek = self.peek().clone();
            let chained = peek.kind == Kind::Keyword
                && ((context == "if" && peek.val == "if")
                    || (context == "with" && peek.val == "with"));
            if chained {
                // `{{else if x}}` is `{{else}}{{if x}}...{{end}}` sharing one `{{end}}`.
                self.next();
                let inner = self.parse_control(context)?;
                let node = if context == "if" {
                    Node::If(inner)
                } else {
                    Node::With(inner)
                };
                else_list = Some(vec![node]);
            } else {
                let (list, end) = self.item_list()?;
                if !matches!(end, Action::End) {
                    return self.error("expected end; found {{else}}");
                }
                else_list = Some(list);
            }
        }
        self.vars.truncate(nvars);
        Ok(Branch {
            pipe,
            list,
            else_list,
        })
    }

    fn else_control(&mut self) -> PResult<Action> {
        let peek = self.peek_non_space();
        if peek.kind == Kind::Keyword && (peek.val == "if" || peek.val == "with") {
            return Ok(Action::Else);
        }
        self.expect(Kind::RightDelim, "else")?;
        Ok(Action::Else)
    }

    fn loop_control(&mut self, tok: &Token) -> PResult<Node> {
        let context = format!("{{{{{}}}}}", tok.val);
        let next = self.next_non_space();
        if next.kind != Kind::RightDelim {
            return self.unexpected(&next, &context);
        }
        if self.range_depth == 0 {
            return self.error(format!("{context} outside {{{{range}}}}"));
        }
        Ok(if tok.val == "break" {
            Node::Break
        } else {
            Node::Continue
        })
    }

    fn template_control(&mut self) -> PResult<Node> {
        const CONTEXT: &str = "template clause";
        let tok = self.next_non_space();
        let name = self.template_name(&tok, CONTEXT)?;
        let pipe = if self.next_non_space().kind != Kind::RightDelim {
            self.backup();
            Some(self.pipeline(CONTEXT, Kind::RightDelim)?)
        } else {
            None
        };
        Ok(Node::Template(TemplateCall {
            pos: tok.pos,
            name,
            pipe,
        }))
    }

    fn block_control(&mut self) -> PResult<Node> {
        const CONTEXT: &str = "block clause";
        let tok = self.next_non_space();
        let name = self.template_name(&tok, CONTEXT)?;
        let pipe = self.pipeline(CONTEXT, Kind::RightDelim)?;
        let body = self.sub_tree(CONTEXT)?;
        self.defines.insert(name.clone(), body);
        Ok(Node::Template(TemplateCall {
            pos: tok.pos,
            name,
            pipe: Some(pipe),
        }))
    }

    fn pipeline(&mut self, context: &str, end: Kind) -> PResult<Pipe> {
        let start = self.peek_non_space();
        let mut pipe = Pipe {
            pos: start.pos,
            decl: Vec::new(),
            is_assign: false,
            cmds: Vec::new(),
        };
        self.declarations(&mut pipe, context)?;
        loop {
            let tok = self.next_non_space();
            match tok.kind {
                k if k == end => {
                    self.check_pipeline(&pipe, context)?;
                    return Ok(pipe);
                }
                Kind::Bool
                | Kind::CharConstant
                | Kind::Dot
                | Kind::Field
                | Kind::Identifier
                | Kind::Number
                | Kind::Nil
                | Kind::RawString
                | Kind::String
                | Kind::Variable
                | Kind::LeftParen => {
                    self.backup();
                    let cmd = self.command()?;
                    pipe.cmds.push(cmd);
                }
                _ => return self.unexpected(&tok, context),
            }
        }
    }

    /// Parses `$x :=`, `$x =` and (in `range`) `$k, $v :=` prefixes.
    fn declarations(&mut self, pipe: &mut Pipe, context: &str) -> PResult<()> {
        loop {
            let v = self.peek_non_space();
            if v.kind != Kind::Variable {
                return Ok(());
            }
            let save = self.i;
            self.next();
            let next = self.peek_non_space();
            match next.kind {
                Kind::Assign | Kind::Declare => {
                    pipe.is_assign = next.kind == Kind::Assign;
                    self.next_non_space();
                    pipe.decl.push(v.val.clone());
                    self.vars.push(v.val);
                    return Ok(());
                }
                Kind::Char if next.val == "," => {
                    self.next_non_space();
                    pipe.decl.push(v.val.clone());
                    self.vars.push(v.val);
                    if context == "range" && pipe.decl.len() < 2 {
                        let after = self.peek_non_space();
                        if matches!(
                            after.kind,
                            Kind::Variable | Kind::RightDelim | Kind::RightParen
                        ) {
                            continue;
                        }
                        return self.error("range can only initialize variables");
                    }
                    return self.error(format!("too many declarations in {context}"));
                }
                _ => {
                    self.i = save;
                    return Ok(());
                }
            }
        }
    }

    fn check_pipeline(&self, pipe: &Pipe, context: &str) -> PResult<()> {
        if pipe.cmds.is_empty() {
            return self.error(format!("missing value for {context}"));
        }
        for (i, cmd) in pipe.cmds.iter().enumerate().skip(1) {
            if matches!(
                cmd.args[0],
                Arg::Bool(..) | Arg::Dot(_) | Arg::Nil(_) | Arg::Number { .. } | Arg::String { .. }
            ) {
                return self.error(format!(
                    "non executable command in pipeline stage {}",
                    i + 1
                ));
            }
        }
        Ok(())
    }

    fn command(&mut self) -> PResult<Command> {
        let pos = self.peek_non_space().pos;
        let mut args = Vec::new();
        loop {
            self.peek_non_space();
            if let Some(arg) = self.operand()? {
                args.push(arg);
            }
            let tok = self.next();
            match tok.kind {
                Kind::Space => continue,
                Kind::RightDelim | Kind::RightParen => self.backup(),
                Kind::Pipe => {}
                _ => return self.unexpected(&tok, "operand"),
            }
            break;
        }
        if args.is_empty() {
            return self.error("empty command");
        }
        Ok(Command { pos, args })
    }

    fn operand(&mut self) -> PResult<Option<Arg>> {
        let Some(term) = self.term()? else {
            return Ok(None);
        };
        if self.peek().kind != Kind::Field {
            return Ok(Some(term));
        }
        let chain_pos = self.peek().pos;
        let mut fields = Vec::new();
        while self.peek().kind == Kind::Field {
            fields.push(self.next().val[1..].to_string());
        }
        Ok(Some(match term {
            Arg::Field { mut names, .. } => {
                names.extend(fields);
                Arg::Field {
                    pos: chain_pos,
                    names,
                }
            }
            Arg::Variable {
                name,
                fields: mut f,
                ..
            } => {
                f.extend(fields);
                Arg::Variable {
                    pos: chain_pos,
                    name,
                    fields: f,
                }
            }
            Arg::Pipe(pipe) => Arg::Chain {
                pos: chain_pos,
                pipe,
                fields,
            },
            other @ (Arg::Bool(..)
            | Arg::String { .. }
            | Arg::Number { .. }
            | Arg::Nil(_)
            | Arg::Dot(_)) => {
                return self.error(format!(
                    "unexpected . after term {}",
                    super::lex::go_quote(&other.to_string())
                ));
            }
            other => {
                return self.error(format!("can't chain fields on {other}"));
            }
        }))
    }

    fn term(&mut self) -> PResult<Option<Arg>> {
        let tok = self.next_non_space();
        let arg = match tok.kind {
            Kind::Identifier => {
                if !(self.has_func)(&tok.val) {
                    return self.error(format!(
                        "function {} not defined",
                        super::lex::go_quote(&tok.val)
                    ));
                }
                Arg::Identifier {
                    pos: tok.pos,
                    name: tok.val,
                }
            }
            Kind::Dot => Arg::Dot(tok.pos),
            Kind::Nil => Arg::Nil(tok.pos),
            Kind::Variable => {
                if !self.vars.contains(&tok.val) {
                    return self.error(format!(
                        "undefined variable {}",
                        super::lex::go_quote(&tok.val)
                    ));
                }
                Arg::Variable {
                    pos: tok.pos,
                    name: tok.val,
                    fields: Vec::new(),
                }
            }
            Kind::Field => Arg::Field {
                pos: tok.pos,
                names: vec![tok.val[1..].to_string()],
            },
            Kind::Bool => Arg::Bool(tok.pos, tok.val == "true"),
            Kind::Number | Kind::CharConstant => {
                let value = self.number(&tok)?;
                Arg::Number {
                    pos: tok.pos,
                    text: tok.val,
                    value,
                }
            }
            Kind::LeftParen => {
                let pipe = self.pipeline("parenthesized pipeline", Kind::RightParen)?;
                Arg::Pipe(Box::new(pipe))
            }
            Kind::String | Kind::RawString => {
                let value = self.unquote(&tok)?;
                Arg::String {
                    pos: tok.pos,
                    quoted: tok.val,
                    value,
                }
            }
            _ => {
                self.backup();
                return Ok(None);
            }
        };
        Ok(Some(arg))
    }

    fn unquote(&self, tok: &Token) -> PResult<String> {
        match tok.kind {
            Kind::RawString => Ok(tok.val[1..tok.val.len() - 1].replace('\r', "")),
            _ => match unquote_go(&tok.val[1..tok.val.len() - 1]) {
                Some(s) => Ok(s),
                None => self.error("invalid syntax"),
            },
        }
    }

    fn number(&self, tok: &Token) -> PResult<NumberConst> {
        let parsed = if tok.kind == Kind::CharConstant {
            unquote_go(&tok.val[1..tok.val.len() - 1])
                .filter(|s| s.chars().count() == 1)
                .and_then(|s| s.chars().next())
                .map(|c| NumberConst {
                    int: Some(c as i64),
                    float: Some(c as u32 as f64),
                    is_float_literal: false,
                })
        } else {
            parse_number(&tok.val)
        };
        match parsed {
            Some(n) => Ok(n),
            None if tok.kind == Kind::CharConstant => {
                self.error(format!("malformed character constant: {}", tok.val))
            }
            None => self.error(format!(
                "illegal number syntax: {}",
                super::lex::go_quote(&tok.val)
            )),
        }
    }
}

/// Go number literal (decimal, 0x/0o/0b/leading-0 octal ints, floats).
fn parse_number(text: &str) -> Option<NumberConst> {
    let clean = text.replace('_', "");
    let (neg, body) = match clean.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, clean.strip_prefix('+').unwrap_or(&clean)),
    };
    let lower = body.to_ascii_lowercase();
    let radix_int = |digits: &str, radix: u32| i64::from_str_radix(digits, radix).ok();
    let int = if let Some(h) = lower.strip_prefix("0x") {
        radix_int(h, 16)
    } else if let Some(o) = lower.strip_prefix("0o") {
        radix_int(o, 8)
    } else if let Some(b) = lower.strip_prefix("0b") {
        radix_int(b, 2)
    } else if lower.len() > 1 && lower.starts_with('0') && lower.bytes().all(|b| b.is_ascii_digit())
    {
        radix_int(&lower[1..], 8)
    } else if !lower.is_empty() && lower.bytes().all(|b| b.is_ascii_digit()) {
        lower.parse::<i64>().ok()
    } else {
        None
    };
    let is_hex = lower.starts_with("0x");
    let is_float_literal = !is_hex && lower.contains(['.', 'e']);
    let all_digits = !lower.is_empty() && lower.bytes().all(|b| b.is_ascii_digit());
    let float = if is_float_literal || (int.is_none() && all_digits) {
        lower.parse::<f64>().ok()
    } else {
        int.map(|i| i as f64)
    };
    let sign = if neg { -1 } else { 1 };
    let int = int.map(|i| i * sign).or_else(|| {
        float
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18)
            .map(|f| f as i64 * sign)
    });
    let float = float.map(|f| f * sign as f64);
    if int.is_none() && float.is_none() {
        return None;
    }
    Some(NumberConst {
        int,
        float,
        is_float_literal,
    })
}

/// Go's `strconv.Unquote` body rules for `"..."` and `'...'` literals.
fn unquote_go(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let esc = chars.next()?;
        let mut hex = |n: usize| -> Option<char> {
            let digits: String = (0..n).map(|_| chars.next()).collect::<Option<String>>()?;
            char::from_u32(u32::from_str_radix(&digits, 16).ok()?)
        };
        match esc {
            'a' => out.push('\u{7}'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\u{b}'),
            '\\' | '\'' | '"' => out.push(esc),
            'x' => out.push(hex(2)?),
            'u' => out.push(hex(4)?),
            'U' => out.push(hex(8)?),
            '0'..='7' => {
                let d2 = chars.next()?;
                let d3 = chars.next()?;
                let v = u32::from_str_radix(&format!("{esc}{d2}{d3}"), 8).ok()?;
                out.push(char::from_u32(v)?);
            }
            _ => return None,
        }
    }
    Some(out)
}
