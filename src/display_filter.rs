//! Display filters (`-Y`): the part of Wireshark's filter language netsniff evaluates.
//!
//! A filter is parsed once against the field registry into a tree of tests; each frame's
//! values of the fields it names are collected as the dissectors emit them (see
//! `output::display`), and the tree is evaluated when the frame ends.
//!
//! The language, as Wireshark 4.0 reads it:
//!
//! * `FIELD` — the field occurs in the frame; `PROTOCOL` (`dns`, `tcp`, `http` …) — the
//!   protocol is in the frame.
//! * `FIELD OP VALUE` with `==` `!=` `>` `<` `>=` `<=` (or `eq ne gt lt ge le`), `~=` (some
//!   occurrence differs), `contains`, `matches` (a regular expression, case-insensitive as in
//!   Wireshark 4.0), and `FIELD in {V1 V2 …}`. A relation needs the field to
//!   occur: `ip.src != 10.0.0.1` is false for an ARP frame, `!(ip.src == 10.0.0.1)` true. With
//!   several occurrences `==`, `>` … hold when one occurrence does; `!=` when every one differs
//!   (Wireshark 3.6 and later).
//! * `&&` `||` `!` (or `and or not`) and parentheses; `and` binds tighter than `or`.
//! * Values are read by the field's type: integers (decimal, `0x` hex, leading-zero octal),
//!   booleans (`1`, `0`, `true`, `false`), IPv4 and IPv6 addresses with an optional `/prefix`,
//!   MAC addresses and byte strings (`aa:bb:cc`, `-` or `.` separators), quoted strings with
//!   C escapes, seconds (`frame.time_relative > 1.5`), and the value names `-V` shows
//!   (`ip.proto == UDP`, `dns.qry.type == "AAAA (IPv6 Address)"`, exactly as written there).
//!
//! Not supported (a clear error says so): slices (`eth.src[0:3]`), functions (`len()`,
//! `lower()`), arithmetic, field-to-field comparisons, dates, and the `_ws.col.*` columns.

use anyhow::{anyhow, bail, Result};
use netsniff_dissectors::{FieldDef, Kind, Proto, Value};
use std::cmp::Ordering;

/// A parsed display filter.
#[derive(Debug, Clone)]
pub struct DisplayFilter {
    text: String,
    root: Node,
    /// The fields the filter reads (index = the field number used in [`Node`]).
    fields: Vec<&'static FieldDef>,
    /// The protocols of those fields and the protocols tested for presence.
    protos: Vec<&'static Proto>,
}

#[derive(Debug, Clone)]
enum Node {
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Not(Box<Node>),
    /// The protocol is in the frame: it drew a layer (its tree item, as Wireshark tests it: a
    /// protocol that is called but draws nothing, like HTTP handing an upgraded stream to
    /// HTTP/2, is not) and is listed in `frame.protocols` (netsniff's own additions, like the
    /// gRPC call type drawn on a frame tshark shows as HTTP/2 alone, do not count).
    Proto(&'static Proto),
    /// Field `n` occurs.
    Exists(usize),
    /// Field `n` compared with a value.
    Cmp(usize, Op, Lit),
    /// Field `n` equals one of the values.
    In(usize, Vec<Lit>),
    /// Field `n` matches a regular expression.
    Matches(usize, regex::bytes::Regex),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    /// Every occurrence differs (`!=`).
    AllNe,
    /// Some occurrence differs (`~=`).
    AnyNe,
    Gt,
    Lt,
    Ge,
    Le,
    Contains,
}

/// A value of the filter text, read by the type of the field it is compared with.
#[derive(Debug, Clone)]
enum Lit {
    Int(i128),
    Float(f64),
    Ipv4 { addr: u32, mask: u32 },
    Ipv6 { addr: u128, mask: u128 },
    Bytes(Vec<u8>),
}

/// One field value of the current frame, as the filter keeps it.
#[derive(Debug, Clone, Copy)]
enum Held {
    Int(i128),
    Float(f64),
    Ipv4(u32),
    Ipv6(u128),
    /// A range of [`FrameValues::bytes`].
    Bytes(u32, u32),
    /// A marker (FT_NONE): present, no value.
    Present,
}

/// The values a frame gave the fields a filter reads.
#[derive(Debug, Default)]
pub struct FrameValues {
    values: Vec<(usize, Held)>,
    bytes: Vec<u8>,
    /// The layers of the filter's protocols the frame has.
    layers: Vec<&'static Proto>,
}

impl FrameValues {
    pub fn clear(&mut self) {
        self.values.clear();
        self.bytes.clear();
        self.layers.clear();
    }

    fn has_layer(&self, proto: &'static Proto) -> bool {
        self.layers.iter().any(|p| std::ptr::eq(*p, proto))
    }

    fn push(&mut self, field: usize, value: &Value<'_>) {
        let mut keep = |b: &[u8]| {
            let at = u32::try_from(self.bytes.len()).unwrap_or(u32::MAX);
            self.bytes.extend_from_slice(b);
            Held::Bytes(at, u32::try_from(b.len()).unwrap_or(u32::MAX))
        };
        let held = match *value {
            Value::None => Held::Present,
            Value::Bool(b) => Held::Int(i128::from(b)),
            Value::U(v) => Held::Int(i128::from(v)),
            Value::I(v) => Held::Int(i128::from(v)),
            Value::Ipv4(a) => Held::Ipv4(u32::from_be_bytes(a)),
            Value::Ipv6(a) => Held::Ipv6(u128::from_be_bytes(a)),
            Value::Ether(a) => keep(&a),
            Value::Bytes(b) | Value::Text(b) => keep(b),
            Value::Str(s) => keep(s.as_bytes()),
            Value::Time { secs, nanos } => Held::Float(secs as f64 + f64::from(nanos) / 1e9),
            Value::F(f) => Held::Float(f),
        };
        self.values.push((field, held));
    }

    fn bytes_of(&self, at: u32, len: u32) -> &[u8] {
        let at = at as usize;
        self.bytes.get(at..at + len as usize).unwrap_or(&[])
    }

    fn of(&self, field: usize) -> impl Iterator<Item = &Held> {
        self.values
            .iter()
            .filter(move |(f, _)| *f == field)
            .map(|(_, h)| h)
    }
}

impl DisplayFilter {
    /// Parses `text`, a `-Y` filter; errors name the filter and what is wrong where.
    pub fn parse(text: &str) -> Result<DisplayFilter> {
        DisplayFilter::parse_for("-Y", text)
    }

    /// [`DisplayFilter::parse`] for a filter given with `option` (errors start with it).
    pub fn parse_for(option: &str, text: &str) -> Result<DisplayFilter> {
        let tokens = tokenize(text).map_err(|e| anyhow!("{option} {text:?}: {e}"))?;
        let mut p = Parser {
            tokens,
            at: 0,
            fields: Vec::new(),
            protos: Vec::new(),
        };
        let root = p.or().map_err(|e| anyhow!("{option} {text:?}: {e}"))?;
        if let Some(t) = p.tokens.get(p.at) {
            bail!("{option} {text:?}: unexpected {}", t.describe());
        }
        Ok(DisplayFilter {
            text: text.to_string(),
            root,
            fields: p.fields,
            protos: p.protos,
        })
    }

    /// The filter as given.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The fields the filter reads.
    pub fn fields(&self) -> &[&'static FieldDef] {
        &self.fields
    }

    /// The protocols whose layers the filter needs (its fields' and those tested by name).
    pub fn protos(&self) -> &[&'static Proto] {
        &self.protos
    }

    /// The number of `def` among the fields read, if the filter reads it.
    pub fn field_index(&self, def: &'static FieldDef) -> Option<usize> {
        self.fields.iter().position(|f| std::ptr::eq(*f, def))
    }

    /// Notes that the frame has a layer of `proto`.
    pub fn note_layer(&self, values: &mut FrameValues, proto: &'static Proto) {
        if self.protos.iter().any(|p| std::ptr::eq(*p, proto)) && !values.has_layer(proto) {
            values.layers.push(proto);
        }
    }

    /// Keeps `value` of `def` for the evaluation at the end of the frame.
    pub fn note(&self, values: &mut FrameValues, def: &'static FieldDef, value: &Value<'_>) {
        if let Some(i) = self.field_index(def) {
            values.push(i, value);
        }
    }

    /// Whether the frame whose values are `values` and whose protocols are `protocols` passes.
    pub fn matches(&self, values: &FrameValues, protocols: &[&'static str]) -> bool {
        eval(&self.root, values, protocols)
    }
}

fn eval(node: &Node, v: &FrameValues, protocols: &[&'static str]) -> bool {
    match node {
        Node::And(a, b) => eval(a, v, protocols) && eval(b, v, protocols),
        Node::Or(a, b) => eval(a, v, protocols) || eval(b, v, protocols),
        Node::Not(a) => !eval(a, v, protocols),
        Node::Proto(p) => {
            p.name == "frame"
                || (v.has_layer(p) && (p.name.starts_with("_ws.") || protocols.contains(&p.name)))
        }
        Node::Exists(f) => v.of(*f).next().is_some(),
        Node::Cmp(f, op, lit) => {
            let mut any = false;
            let mut all = true;
            let mut seen = false;
            for held in v.of(*f) {
                seen = true;
                let r = compare(held, *op, lit, v);
                any |= r;
                all &= r;
            }
            seen && if *op == Op::AllNe { all } else { any }
        }
        Node::In(f, lits) => v
            .of(*f)
            .any(|held| lits.iter().any(|l| compare(held, Op::Eq, l, v))),
        Node::Matches(f, re) => v.of(*f).any(|held| match held {
            Held::Bytes(at, len) => re.is_match(v.bytes_of(*at, *len)),
            _ => false,
        }),
    }
}

/// `held OP lit` for one occurrence.
fn compare(held: &Held, op: Op, lit: &Lit, v: &FrameValues) -> bool {
    if op == Op::Contains {
        return match (held, lit) {
            (Held::Bytes(at, len), Lit::Bytes(needle)) => {
                let hay = v.bytes_of(*at, *len);
                needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle.as_slice())
            }
            _ => false,
        };
    }
    let ord = match (held, lit) {
        (Held::Int(a), Lit::Int(b)) => Some(a.cmp(b)),
        (Held::Int(a), Lit::Float(b)) => (*a as f64).partial_cmp(b),
        (Held::Float(a), Lit::Float(b)) => a.partial_cmp(b),
        (Held::Float(a), Lit::Int(b)) => a.partial_cmp(&(*b as f64)),
        (Held::Ipv4(a), Lit::Ipv4 { addr, mask }) => Some((a & mask).cmp(&(addr & mask))),
        (Held::Ipv6(a), Lit::Ipv6 { addr, mask }) => Some((a & mask).cmp(&(addr & mask))),
        (Held::Bytes(at, len), Lit::Bytes(b)) => Some(v.bytes_of(*at, *len).cmp(b.as_slice())),
        _ => None,
    };
    let Some(ord) = ord else {
        return false;
    };
    match op {
        Op::Eq => ord == Ordering::Equal,
        Op::AllNe | Op::AnyNe => ord != Ordering::Equal,
        Op::Gt => ord == Ordering::Greater,
        Op::Lt => ord == Ordering::Less,
        Op::Ge => ord != Ordering::Less,
        Op::Le => ord != Ordering::Greater,
        Op::Contains => false,
    }
}

// ---- Tokens ----

#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// A field or protocol name, a keyword, or an unquoted value.
    Word(String),
    Quoted(Vec<u8>),
    Sym(&'static str),
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Word(w) => format!("'{w}'"),
            Token::Quoted(_) => "a quoted string".into(),
            Token::Sym(s) => format!("'{s}'"),
        }
    }
}

/// Symbols, longest first.
const SYMBOLS: [&str; 15] = [
    "===", "!==", "==", "!=", "~=", ">=", "<=", "&&", "||", ">", "<", "!", "(", ")", "{",
];

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-' | '/')
}

fn tokenize(text: &str) -> Result<Vec<Token>> {
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start();
        let Some(c) = rest.chars().next() else {
            return Ok(out);
        };
        if c == '"' {
            let (bytes, after) = quoted(rest)?;
            out.push(Token::Quoted(bytes));
            rest = after;
        } else if c == '[' {
            bail!("slices (field[…]) are not supported");
        } else if c == '}' || c == ',' {
            out.push(Token::Sym(if c == '}' { "}" } else { "," }));
            rest = &rest[1..];
        } else if let Some(s) = SYMBOLS.iter().find(|s| rest.starts_with(**s)) {
            out.push(Token::Sym(s));
            rest = &rest[s.len()..];
        } else if is_word_char(c) {
            let end = rest.find(|c: char| !is_word_char(c)).unwrap_or(rest.len());
            out.push(Token::Word(rest[..end].to_string()));
            rest = &rest[end..];
        } else {
            bail!("unexpected character '{c}'");
        }
    }
}

/// A `"…"` string at the start of `s` (C escapes: `\" \\ \n \r \t \xNN \NNN`), and the rest.
fn quoted(s: &str) -> Result<(Vec<u8>, &str)> {
    let mut out = Vec::new();
    let mut chars = s.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, &s[i + 1..])),
            '\\' => {
                let Some((_, e)) = chars.next() else {
                    break;
                };
                match e {
                    'n' => out.push(b'\n'),
                    'r' => out.push(b'\r'),
                    't' => out.push(b'\t'),
                    'x' => {
                        let mut v = 0u8;
                        for _ in 0..2 {
                            let d = chars
                                .next()
                                .and_then(|(_, d)| d.to_digit(16))
                                .ok_or_else(|| anyhow!("\\x needs two hex digits"))?;
                            v = v.wrapping_mul(16).wrapping_add(d as u8);
                        }
                        out.push(v);
                    }
                    '0'..='7' => {
                        let mut v = e.to_digit(8).unwrap_or(0);
                        for _ in 0..2 {
                            let d = chars
                                .next()
                                .and_then(|(_, d)| d.to_digit(8))
                                .ok_or_else(|| anyhow!("an octal escape needs three digits"))?;
                            v = v * 8 + d;
                        }
                        out.push(u8::try_from(v).map_err(|_| anyhow!("octal escape over 0377"))?);
                    }
                    other => {
                        let mut buf = [0u8; 4];
                        out.extend_from_slice(other.encode_utf8(&mut buf).as_bytes());
                    }
                }
            }
            other => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(other.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    bail!("a quoted string is not closed")
}

// ---- Parser ----

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    fields: Vec<&'static FieldDef>,
    protos: Vec<&'static Proto>,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    /// Takes the next token if it is one of `syms` or of the keywords `words`.
    fn eat(&mut self, syms: &[&str], words: &[&str]) -> bool {
        let hit = match self.peek() {
            Some(Token::Sym(s)) => syms.contains(s),
            Some(Token::Word(w)) => words.iter().any(|k| w.eq_ignore_ascii_case(k)),
            _ => false,
        };
        if hit {
            self.at += 1;
        }
        hit
    }

    fn or(&mut self) -> Result<Node> {
        let mut left = self.and()?;
        while self.eat(&["||"], &["or"]) {
            left = Node::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Node> {
        let mut left = self.not()?;
        while self.eat(&["&&"], &["and"]) {
            left = Node::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Node> {
        if self.eat(&["!"], &["not"]) {
            return Ok(Node::Not(Box::new(self.not()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Node> {
        match self.next() {
            Some(Token::Sym("(")) => {
                let inner = self.or()?;
                if !self.eat(&[")"], &[]) {
                    bail!("a '(' is not closed");
                }
                Ok(inner)
            }
            Some(Token::Word(name)) => self.test(&name),
            Some(t) => bail!("expected a field or protocol name, found {}", t.describe()),
            None => bail!("the filter ends where a field or protocol name was expected"),
        }
    }

    /// What follows a field or protocol name.
    fn test(&mut self, name: &str) -> Result<Node> {
        if name.starts_with("_ws.col") {
            bail!("the {name} column cannot be filtered on");
        }
        let op = match self.peek() {
            Some(Token::Sym(s)) => match *s {
                "==" | "===" => Some(Op::Eq),
                "!=" | "!==" => Some(Op::AllNe),
                "~=" => Some(Op::AnyNe),
                ">" => Some(Op::Gt),
                "<" => Some(Op::Lt),
                ">=" => Some(Op::Ge),
                "<=" => Some(Op::Le),
                _ => None,
            },
            Some(Token::Word(w)) => match w.to_ascii_lowercase().as_str() {
                "eq" | "any_eq" | "all_eq" => Some(Op::Eq),
                "ne" | "all_ne" => Some(Op::AllNe),
                "any_ne" => Some(Op::AnyNe),
                "gt" => Some(Op::Gt),
                "lt" => Some(Op::Lt),
                "ge" => Some(Op::Ge),
                "le" => Some(Op::Le),
                "contains" => Some(Op::Contains),
                "in" => {
                    self.at += 1;
                    return self.membership(name);
                }
                "matches" => {
                    self.at += 1;
                    return self.matches(name);
                }
                _ => None,
            },
            _ => None,
        };
        let Some(op) = op else {
            // A bare name: presence.
            return match netsniff_dissectors::proto::field(name) {
                Some(def) => Ok(Node::Exists(self.field(def))),
                None => self.proto(name),
            };
        };
        self.at += 1;
        let def = self.field_named(name)?;
        let lit = self.value(def)?;
        if op == Op::Contains && !matches!(lit, Lit::Bytes(_)) {
            bail!("'contains' applies to strings and byte fields, not to {name}");
        }
        Ok(Node::Cmp(self.field(def), op, lit))
    }

    fn matches(&mut self, name: &str) -> Result<Node> {
        let def = self.field_named(name)?;
        if !matches!(
            def.kind,
            Kind::Str | Kind::Bytes | Kind::ColonBytes | Kind::Ether
        ) {
            bail!("'matches' applies to strings and byte fields, not to {name}");
        }
        let pattern = match self.next() {
            Some(Token::Quoted(b)) => String::from_utf8_lossy(&b).into_owned(),
            Some(Token::Word(w)) => w,
            _ => bail!("'matches' needs a quoted regular expression"),
        };
        // Wireshark 4.0 matches case-insensitively unless the pattern says otherwise.
        let re = regex::bytes::RegexBuilder::new(&pattern)
            .case_insensitive(true)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| anyhow!("{name} matches {pattern:?}: {e}"))?;
        Ok(Node::Matches(self.field(def), re))
    }

    fn membership(&mut self, name: &str) -> Result<Node> {
        let def = self.field_named(name)?;
        if !self.eat(&["{"], &[]) {
            bail!("'in' needs a set: {name} in {{1 2 3}}");
        }
        let mut lits = Vec::new();
        loop {
            if self.eat(&["}"], &[]) {
                break;
            }
            if self.eat(&[","], &[]) {
                continue;
            }
            if self.peek().is_none() {
                bail!("a '{{' is not closed");
            }
            if let Some(Token::Word(w)) = self.peek() {
                if w.contains("..") {
                    bail!("ranges in sets ({w}) are not supported");
                }
            }
            lits.push(self.value(def)?);
        }
        Ok(Node::In(self.field(def), lits))
    }

    fn proto(&mut self, name: &str) -> Result<Node> {
        let Some(p) = netsniff_dissectors::proto::proto(name) else {
            // The usual error, with the nearest names.
            return Err(crate::cli::config::resolve_field(name)
                .err()
                .unwrap_or_else(|| anyhow!("unknown field or protocol '{name}'")));
        };
        if !self.protos.iter().any(|q| std::ptr::eq(*q, p)) {
            self.protos.push(p);
        }
        Ok(Node::Proto(p))
    }

    fn field_named(&self, name: &str) -> Result<&'static FieldDef> {
        if netsniff_dissectors::proto::field(name).is_none()
            && netsniff_dissectors::proto::proto(name).is_some()
        {
            bail!("{name} is a protocol: it can only be tested for presence");
        }
        crate::cli::config::resolve_field(name)
    }

    /// The number of `def` among the fields read (adding it, and its protocol).
    fn field(&mut self, def: &'static FieldDef) -> usize {
        if let Some(p) = netsniff_dissectors::proto::all_protos()
            .find(|p| p.fields.iter().any(|f| std::ptr::eq(*f, def)))
        {
            if !self.protos.iter().any(|q| std::ptr::eq(*q, p)) {
                self.protos.push(p);
            }
        }
        match self.fields.iter().position(|f| std::ptr::eq(*f, def)) {
            Some(i) => i,
            None => {
                self.fields.push(def);
                self.fields.len() - 1
            }
        }
    }

    /// The next token as a value of `def`'s type.
    fn value(&mut self, def: &'static FieldDef) -> Result<Lit> {
        let name = def.name;
        let token = self
            .next()
            .ok_or_else(|| anyhow!("{name}: a value is missing at the end"))?;
        let word = match &token {
            Token::Quoted(b) => {
                return match def.kind {
                    Kind::Str | Kind::Bytes | Kind::ColonBytes | Kind::Ether => {
                        Ok(Lit::Bytes(b.clone()))
                    }
                    _ => {
                        let text = String::from_utf8_lossy(b);
                        literal(def, &text)
                    }
                };
            }
            Token::Word(w) => w.clone(),
            Token::Sym(_) => bail!("{name}: expected a value, found {}", token.describe()),
        };
        if netsniff_dissectors::proto::field(&word).is_some() && !matches!(def.kind, Kind::Str) {
            bail!("comparing two fields ({name} and {word}) is not supported");
        }
        literal(def, &word)
    }
}

/// `text` as a value of `def`'s type.
fn literal(def: &FieldDef, text: &str) -> Result<Lit> {
    let name = def.name;
    let bad = |what: &str| anyhow!("{name}: '{text}' is not {what}");
    match def.kind {
        Kind::None => bail!("{name} is a marker: it can only be tested for presence"),
        Kind::Bool => match text.to_ascii_lowercase().as_str() {
            "1" | "true" => Ok(Lit::Int(1)),
            "0" | "false" => Ok(Lit::Int(0)),
            _ => Err(bad("a boolean (1, 0, true, false)")),
        },
        Kind::Dec | Kind::Hex(_) => int(text)
            .or_else(|| value_named(def, text))
            .map(Lit::Int)
            .ok_or_else(|| bad("an integer or one of the field's value names")),
        Kind::Ipv4 => {
            let (addr, prefix) = split_prefix(text, 32).ok_or_else(|| bad("an IPv4 address"))?;
            let addr: std::net::Ipv4Addr = addr.parse().map_err(|_| bad("an IPv4 address"))?;
            let mask = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - prefix)
            };
            Ok(Lit::Ipv4 {
                addr: u32::from(addr),
                mask,
            })
        }
        Kind::Ipv6 => {
            let (addr, prefix) = split_prefix(text, 128).ok_or_else(|| bad("an IPv6 address"))?;
            let addr: std::net::Ipv6Addr = addr.parse().map_err(|_| bad("an IPv6 address"))?;
            let mask = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - prefix)
            };
            Ok(Lit::Ipv6 {
                addr: u128::from(addr),
                mask,
            })
        }
        Kind::Ether => match byte_string(text) {
            Some(b) if b.len() == 6 => Ok(Lit::Bytes(b)),
            _ => Err(bad("a MAC address")),
        },
        Kind::Bytes | Kind::ColonBytes => byte_string(text)
            .map(Lit::Bytes)
            .ok_or_else(|| bad("a byte string (aa:bb:cc)")),
        Kind::Str => Ok(Lit::Bytes(text.as_bytes().to_vec())),
        Kind::Epoch | Kind::RelTime | Kind::Double => text
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Lit::Float)
            .ok_or_else(|| bad("a number")),
        Kind::AbsTime => bail!("{name}: dates are not supported; compare frame.time_epoch"),
    }
}

/// The value whose name (as `-V` shows it) is `text`, among the field's 16-bit values.
fn value_named(def: &FieldDef, text: &str) -> Option<i128> {
    let names = def.names?;
    (0..=u64::from(u16::MAX))
        .find(|v| names(*v) == Some(text))
        .map(i128::from)
}

/// A decimal, `0x` hexadecimal or leading-zero octal integer, optionally negative.
fn int(text: &str) -> Option<i128> {
    let (neg, digits) = match text.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, text),
    };
    let v = if let Some(h) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        i128::from_str_radix(h, 16).ok()?
    } else if digits.len() > 1 && digits.starts_with('0') {
        i128::from_str_radix(digits, 8).ok()?
    } else {
        digits.parse::<i128>().ok()?
    };
    Some(if neg { -v } else { v })
}

/// `addr/prefix` (the prefix at most `max`), or the whole address.
fn split_prefix(text: &str, max: u32) -> Option<(&str, u32)> {
    match text.split_once('/') {
        Some((a, p)) => {
            let p: u32 = p.parse().ok()?;
            (p <= max).then_some((a, p))
        }
        None => Some((text, max)),
    }
}

/// `aa:bb:cc`, `aa-bb-cc`, `aa.bb.cc` or a single byte `aa`.
fn byte_string(text: &str) -> Option<Vec<u8>> {
    let sep = text.chars().find(|c| matches!(c, ':' | '-' | '.'));
    let parts: Vec<&str> = match sep {
        Some(s) => text.split(s).collect(),
        None if text.len() <= 2 => vec![text],
        None => return None,
    };
    parts
        .iter()
        .map(|p| {
            if p.is_empty() || p.len() > 2 {
                return None;
            }
            u8::from_str_radix(p, 16).ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use netsniff_dissectors::proto::field;

    fn check(filter: &str, values: &[(&str, Value<'_>)], layers: &[&'static str]) -> bool {
        let f = DisplayFilter::parse(filter).unwrap_or_else(|e| panic!("{filter}: {e}"));
        let mut v = FrameValues::default();
        for p in layers
            .iter()
            .filter_map(|name| netsniff_dissectors::proto::proto(name))
        {
            f.note_layer(&mut v, p);
        }
        for (name, value) in values {
            let def = field(name).unwrap_or_else(|| panic!("no field {name}"));
            f.note(&mut v, def, value);
        }
        f.matches(&v, layers)
    }

    const V4: &[(&str, Value<'static>)] = &[
        ("ip.src", Value::Ipv4([10, 0, 0, 1])),
        ("ip.dst", Value::Ipv4([10, 0, 0, 2])),
        ("tcp.srcport", Value::U(51000)),
        ("tcp.dstport", Value::U(443)),
        ("tcp.flags.syn", Value::Bool(true)),
    ];
    const STACK: &[&str] = &["eth", "ethertype", "ip", "tcp", "tls"];

    #[test]
    fn relations_and_logic() {
        assert!(check("ip.src == 10.0.0.1", V4, STACK));
        assert!(check(
            "ip.src eq 10.0.0.0/24 and tcp.dstport == 443",
            V4,
            STACK
        ));
        assert!(!check("ip.src == 10.0.0.2", V4, STACK));
        assert!(check("tcp.dstport > 400 && tcp.dstport <= 443", V4, STACK));
        assert!(check("tcp.dstport in {80 443 8443}", V4, STACK));
        assert!(!check("tcp.dstport in {80, 8080}", V4, STACK));
        assert!(check("tcp.flags.syn == 1 || udp", V4, STACK));
        assert!(check("tcp.flags.syn == true", V4, STACK));
        assert!(check("!(udp.port == 53)", V4, STACK));
        assert!(check("not udp and tls", V4, STACK));
        assert!(check("tcp.dstport == 0x1bb", V4, STACK));
        assert!(check("tcp.dstport == 0673", V4, STACK), "octal");
    }

    #[test]
    fn not_equal_needs_the_field_and_every_occurrence() {
        // Absent: a relation is false, its negation true.
        assert!(!check("udp.port != 53", V4, STACK));
        assert!(check("!(udp.port == 53)", V4, STACK));
        let two = &[
            ("ip.addr", Value::Ipv4([10, 0, 0, 1])),
            ("ip.addr", Value::Ipv4([10, 0, 0, 2])),
        ];
        assert!(check("ip.addr == 10.0.0.2", two, &["ip"]));
        assert!(
            !check("ip.addr != 10.0.0.2", two, &["ip"]),
            "all must differ"
        );
        assert!(check("ip.addr ~= 10.0.0.2", two, &["ip"]), "one differs");
    }

    #[test]
    fn strings_bytes_and_presence() {
        let v = &[
            ("http.host", Value::Text(b"example.com")),
            ("eth.src", Value::Ether([2, 0x10, 0, 0, 0, 1])),
            ("http.request", Value::None),
        ];
        assert!(check("http.host == \"example.com\"", v, &["http"]));
        assert!(check("http.host contains \"ample\"", v, &["http"]));
        assert!(!check("http.host contains \"nope\"", v, &["http"]));
        assert!(check("eth.src == 02:10:00:00:00:01", v, &["eth"]));
        assert!(check("eth.src == 02-10-00-00-00-01", v, &["eth"]));
        assert!(check("http.request", v, &["http"]));
        assert!(check("http && !dns", v, &["http"]));
        assert!(
            check("http.host matches \"^EXAMPLE\\\\.\"", v, &["http"]),
            "case-insensitive"
        );
        assert!(!check("http.host matches \"^ample\"", v, &["http"]));
        let dns = &[("dns.qry.type", Value::U(28)), ("ip.proto", Value::U(17))];
        assert!(check(
            "dns.qry.type == \"AAAA (IPv6 Address)\" && ip.proto == UDP",
            dns,
            &[]
        ));
        assert!(check("frame", &[], &[]));
    }

    #[test]
    fn errors_are_clear() {
        let err = |f: &str| DisplayFilter::parse(f).unwrap_err().to_string();
        assert!(err("ip.srcc == 1.2.3.4").contains("did you mean ip.src"));
        assert!(err("ip.src == 1.2.3").contains("not an IPv4 address"));
        assert!(err("ip.src ==").contains("value is missing"));
        assert!(err("(tcp").contains("not closed"));
        assert!(err("http.host matches \"(x\"").contains("matches"));
        assert!(err("tcp.port matches \"8\"").contains("strings and byte fields"));
        assert!(err("tcp == 1").contains("protocol"));
        assert!(err("tcp.port == 80 80").contains("unexpected"));
        assert!(err("dns.qry.type == AAAA").contains("value names"));
        assert!(err("http.host == \"x").contains("not closed"));
        assert!(err("ip.src == 1.2.3.4 &").contains("unexpected character"));
    }
}
