//! JSON bodies (Wireshark's `json`): objects, arrays, members and values as a tree, each value
//! with its path (`[Path with value: /list/[]/k:v]`), as tshark 4.0 draws them.
//!
//! tshark's grammar, not RFC 8259's alone, and netsniff follows it: a body is a run of
//! top-level objects or arrays; one that does not parse whole is not drawn at all, and whatever
//! follows the last one that did is shown as line-based text (so is the whole body when none
//! did). Whitespace may separate any two tokens, even the parts of a number (`- 1`, shown as
//! written); `NaN` is a value. Strings are shown unescaped with Wireshark's quirks, kept on
//! purpose so that both show the same text: a `\uXXXX` escape that ends a string is dropped,
//! so is a non-printable one, a lone surrogate becomes U+FFFD and swallows the character after
//! it, and a byte 0xFE or 0xFF ends the string.
//!
//! Two differences, both for input no real client sends: code points that Unicode has not
//! assigned count as printable here (GLib knows them from its tables; netsniff has no such
//! tables), and nesting deeper than [`MAX_DEPTH`] is shown as text (tshark's recursive parser
//! has no limit; ours must not overflow the stack on hostile input).

use crate::dissector::Cx;
use crate::field::{FieldDef, Kind, Proto, Span, Value};
use crate::proto::http::body;

/// Objects and arrays nested deeper than this make the body text.
pub const MAX_DEPTH: usize = 128;

pub static PROTO: Proto = Proto {
    name: "json",
    long_name: "JavaScript Object Notation",
    fields: &[
        &OBJECT,
        &ARRAY,
        &MEMBER,
        &PATH_WITH_VALUE,
        &MEMBER_WITH_VALUE,
        &VALUE_STRING,
        &VALUE_NUMBER,
        &VALUE_FALSE,
        &VALUE_NULL,
        &VALUE_TRUE,
        &VALUE_NAN,
        &KEY,
        &PATH,
    ],
    summary: &[],
};

pub static OBJECT: FieldDef = FieldDef::new("json.object", "Object", Kind::None);
pub static ARRAY: FieldDef = FieldDef::new("json.array", "Array", Kind::None);
pub static MEMBER: FieldDef = FieldDef::new("json.member", "Member", Kind::Str);
pub static KEY: FieldDef = FieldDef::new("json.key", "Key", Kind::Str);
pub static PATH: FieldDef = FieldDef::new("json.path", "Path", Kind::Str);
pub static PATH_WITH_VALUE: FieldDef =
    FieldDef::new("json.path_with_value", "Path with value", Kind::Str);
pub static MEMBER_WITH_VALUE: FieldDef =
    FieldDef::new("json.member_with_value", "Member with value", Kind::Str);
pub static VALUE_STRING: FieldDef = FieldDef::new("json.value.string", "String value", Kind::Str);
pub static VALUE_NUMBER: FieldDef = FieldDef::new("json.value.number", "Number value", Kind::Str);
pub static VALUE_FALSE: FieldDef = FieldDef::new("json.value.false", "False value", Kind::None);
pub static VALUE_NULL: FieldDef = FieldDef::new("json.value.null", "Null value", Kind::None);
pub static VALUE_TRUE: FieldDef = FieldDef::new("json.value.true", "True value", Kind::None);
pub static VALUE_NAN: FieldDef = FieldDef::new("json.value.nan", "NaN value", Kind::None);

/// Dissects `text`, a body of media type `media` at frame offset `at`: the `json` layer (with
/// its tree when wanted), then a `data-text-lines` layer for what does not parse.
pub fn dissect(text: &[u8], at: usize, media: Option<&[u8]>, cx: &mut Cx<'_>) {
    let drawn = cx.layer(&PROTO, Span::new(at, text.len()));
    if drawn && cx.wants_text() {
        cx.retitle(|t| {
            t.push_str(PROTO.long_name);
            if let Some(m) = media {
                t.push_str(": ");
                t.push_str(&String::from_utf8_lossy(m));
            }
        });
    }
    // Whitespace before a value that does not parse stays with the text; after one that does,
    // it is the value's (tshark's parser skips it after each token it takes).
    let mut parsed = 0;
    // Container and member ends, in the order they start: the first pass finds them, the
    // second draws items whose spans need them before their insides are drawn.
    let mut ends = Vec::new();
    loop {
        let start = skip_space(text, parsed);
        ends.clear();
        let mut check = Walk::new(text, at, None, &mut ends);
        let Some(end) = check.top(start) else {
            break;
        };
        if drawn {
            Walk::new(text, at, Some(&mut *cx), &mut ends).top(start);
        }
        parsed = skip_space(text, end);
    }
    let rest = text.get(parsed..).unwrap_or(&[]);
    if !rest.is_empty() && cx.layer(&body::TEXT_LINES, Span::new(at + parsed, rest.len())) {
        body::text_lines(rest, at + parsed, media, cx);
    }
}

fn skip_space(text: &[u8], mut i: usize) -> usize {
    while matches!(text.get(i), Some(b' ' | b'\t' | b'\r' | b'\n')) {
        i += 1;
    }
    i
}

/// One pass over a top-level value: a check (no `cx`: records the ends of containers and
/// members) or the drawing (reads them back in the same order).
struct Walk<'t, 'c, 'x> {
    text: &'t [u8],
    at: usize,
    cx: Option<&'c mut Cx<'x>>,
    ends: &'c mut Vec<usize>,
    /// The next of `ends` to read when drawing.
    next_end: usize,
    /// The path of the innermost member or array (`/list/[]`).
    path: Vec<u8>,
    scratch: Vec<u8>,
}

#[derive(Clone, Copy)]
enum Scalar {
    String,
    Number,
    True,
    False,
    Null,
    NaN,
}

impl<'t, 'c, 'x> Walk<'t, 'c, 'x> {
    fn new(
        text: &'t [u8],
        at: usize,
        cx: Option<&'c mut Cx<'x>>,
        ends: &'c mut Vec<usize>,
    ) -> Self {
        Walk {
            text,
            at,
            cx,
            ends,
            next_end: 0,
            path: Vec::new(),
            scratch: Vec::new(),
        }
    }

    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.at + start, end.saturating_sub(start))
    }

    /// A top-level object or array at `i`; returns its end.
    fn top(&mut self, i: usize) -> Option<usize> {
        match self.text.get(i)? {
            b'{' => self.object(i, 1),
            b'[' => self.array(i, 1, b""),
            _ => None,
        }
    }

    /// Reserves a slot in `ends` (checking) or reads the next one (drawing).
    fn open_end(&mut self) -> (usize, usize) {
        match self.cx {
            None => {
                self.ends.push(0);
                (self.ends.len() - 1, 0)
            }
            Some(_) => {
                let slot = self.next_end;
                self.next_end += 1;
                (slot, self.ends.get(slot).copied().unwrap_or(0))
            }
        }
    }

    fn close_end(&mut self, slot: usize, end: usize) {
        if self.cx.is_none() {
            if let Some(e) = self.ends.get_mut(slot) {
                *e = end;
            }
        }
    }

    /// Draws a container or member item and opens its subtree.
    fn open_item(&mut self, def: &'static FieldDef, span: Span, value: Value<'_>) {
        if let Some(cx) = self.cx.as_deref_mut() {
            cx.field(def, span, value);
            cx.sink.open();
        }
    }

    fn close_item(&mut self) {
        if let Some(cx) = self.cx.as_deref_mut() {
            cx.sink.close();
        }
    }

    fn object(&mut self, start: usize, depth: usize) -> Option<usize> {
        if depth > MAX_DEPTH {
            return None;
        }
        let (slot, known_end) = self.open_end();
        self.open_item(&OBJECT, self.span(start, known_end), Value::None);
        let mut i = skip_space(self.text, start + 1);
        if self.text.get(i) != Some(&b'}') {
            loop {
                i = self.member(i, depth)?;
                i = skip_space(self.text, i);
                match self.text.get(i)? {
                    b',' => i = skip_space(self.text, i + 1),
                    b'}' => break,
                    _ => return None,
                }
            }
        }
        let end = i + 1;
        self.close_item();
        self.close_end(slot, end);
        Some(end)
    }

    fn array(&mut self, start: usize, depth: usize, _key: &[u8]) -> Option<usize> {
        if depth > MAX_DEPTH {
            return None;
        }
        let (slot, known_end) = self.open_end();
        self.open_item(&ARRAY, self.span(start, known_end), Value::None);
        let base = self.path.len();
        self.path.extend_from_slice(b"/[]");
        let mut i = skip_space(self.text, start + 1);
        if self.text.get(i) != Some(&b']') {
            loop {
                i = self.value(i, depth, b"[]")?;
                i = skip_space(self.text, i);
                match self.text.get(i)? {
                    b',' => i = skip_space(self.text, i + 1),
                    b']' => break,
                    _ => return None,
                }
            }
        }
        self.path.truncate(base);
        let end = i + 1;
        self.close_item();
        self.close_end(slot, end);
        Some(end)
    }

    /// A member at `start` (its key string); returns its end.
    fn member(&mut self, start: usize, depth: usize) -> Option<usize> {
        if self.text.get(start) != Some(&b'"') {
            return None;
        }
        let key_end = string_end(self.text, start)?;
        let (slot, known_end) = self.open_end();
        let mut key = Vec::new();
        if self.cx.is_some() {
            unescape(self.text.get(start + 1..key_end - 1)?, &mut key);
        }
        self.open_item(&MEMBER, self.span(start, known_end), Value::Text(&key));
        let base = self.path.len();
        self.path.push(b'/');
        self.path.extend_from_slice(&key);
        let colon = skip_space(self.text, key_end);
        if self.text.get(colon) != Some(&b':') {
            return None;
        }
        let end = self.value(skip_space(self.text, colon + 1), depth, &key)?;
        if let Some(cx) = self.cx.as_deref_mut() {
            cx.field(
                &KEY,
                Span::new(self.at + start, key_end - start),
                Value::Text(&key),
            );
            cx.field(&PATH, Span::GENERATED, Value::Text(&self.path));
        }
        self.path.truncate(base);
        self.close_item();
        self.close_end(slot, end);
        Some(end)
    }

    /// A value at `i` inside a member named `key` (`[]` in an array); returns its end.
    fn value(&mut self, i: usize, depth: usize, key: &[u8]) -> Option<usize> {
        let text = self.text;
        let rest = text.get(i..)?;
        let word = |w: &[u8], s: Scalar| rest.starts_with(w).then_some((i + w.len(), s));
        let (end, kind) = match rest.first()? {
            b'{' => return self.object(i, depth + 1),
            b'[' => return self.array(i, depth + 1, key),
            b'"' => (string_end(text, i)?, Scalar::String),
            b'f' => word(b"false", Scalar::False)?,
            b'n' => word(b"null", Scalar::Null)?,
            b't' => word(b"true", Scalar::True)?,
            b'N' => word(b"NaN", Scalar::NaN)?,
            b'-' | b'0'..=b'9' => (number_end(text, i)?, Scalar::Number),
            _ => return None,
        };
        if self.cx.is_some() {
            self.scalar(i, end, kind, key);
        }
        Some(end)
    }

    /// Draws a scalar value's items: its path and member with the value, then the value.
    fn scalar(&mut self, start: usize, end: usize, kind: Scalar, key: &[u8]) {
        let token = self.text.get(start..end).unwrap_or(&[]);
        let mut value = std::mem::take(&mut self.scratch);
        value.clear();
        match kind {
            Scalar::String => unescape(
                token.get(1..token.len().saturating_sub(1)).unwrap_or(&[]),
                &mut value,
            ),
            _ => unescape(token, &mut value),
        }
        let span = self.span(start, end);
        if let Some(cx) = self.cx.as_deref_mut() {
            let mut joined = Vec::with_capacity(self.path.len() + 1 + value.len());
            joined.extend_from_slice(&self.path);
            joined.push(b':');
            joined.extend_from_slice(&value);
            cx.field(&PATH_WITH_VALUE, Span::GENERATED, Value::Text(&joined));
            joined.clear();
            joined.extend_from_slice(key);
            joined.push(b':');
            joined.extend_from_slice(&value);
            cx.field(&MEMBER_WITH_VALUE, Span::GENERATED, Value::Text(&joined));
            match kind {
                Scalar::String => cx.field(&VALUE_STRING, span, Value::Text(&value)),
                Scalar::Number => cx.field(&VALUE_NUMBER, span, Value::Text(token)),
                Scalar::True => cx.field(&VALUE_TRUE, span, Value::None),
                Scalar::False => cx.field(&VALUE_FALSE, span, Value::None),
                Scalar::Null => cx.field(&VALUE_NULL, span, Value::None),
                Scalar::NaN => cx.field(&VALUE_NAN, span, Value::None),
            }
        }
        self.scratch = value;
    }
}

/// The end (after the closing quote) of the string whose opening quote is at `i`.
fn string_end(text: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    loop {
        match *text.get(j)? {
            b'"' => return Some(j + 1),
            b'\\' => {
                j += 1;
                match *text.get(j)? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => j += 1,
                    b'u' => {
                        let hex = text.get(j + 1..j + 5)?;
                        if !hex.iter().all(u8::is_ascii_hexdigit) {
                            return None;
                        }
                        j += 5;
                    }
                    _ => return None,
                }
            }
            _ => j += 1,
        }
    }
}

/// The end of the number at `i`: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [-+]? [0-9]+)?`, with
/// whitespace allowed between those parts (tshark's parser skips it before every token).
fn number_end(text: &[u8], i: usize) -> Option<usize> {
    let digits = |mut j: usize| {
        let from = j;
        while text.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        (j > from).then_some(j)
    };
    let mut j = i;
    if text.get(j) == Some(&b'-') {
        j = skip_space(text, j + 1);
    }
    j = match text.get(j)? {
        b'0' => j + 1,
        // tshark's parser takes the first digit and the run after it as two tokens, so
        // whitespace may come between them (`1 2`), nowhere else in the run.
        b'1'..=b'9' => digits(skip_space(text, j + 1)).unwrap_or(j + 1),
        _ => return None,
    };
    let k = skip_space(text, j);
    if text.get(k) == Some(&b'.') {
        if let Some(e) = digits(skip_space(text, k + 1)) {
            j = e;
        }
    }
    let k = skip_space(text, j);
    if matches!(text.get(k), Some(b'e' | b'E')) {
        let mut m = skip_space(text, k + 1);
        if matches!(text.get(m), Some(b'-' | b'+')) {
            m = skip_space(text, m + 1);
        }
        if let Some(e) = digits(m) {
            j = e;
        }
    }
    Some(j)
}

/// Wireshark's `json_string_unescape` of a string's contents (or of another token's text),
/// quirks included (see the module's notes).
fn unescape(s: &[u8], out: &mut Vec<u8>) {
    const REPLACEMENT: &[u8] = "\u{FFFD}".as_bytes();
    let len = s.len();
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let hex4 = |i: &mut usize| -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = char::from(s.get(*i).copied()?).to_digit(16)?;
            *i += 1;
            v = (v << 4) | d;
        }
        Some(v)
    };
    let mut i = 0;
    while i < len {
        let ch = at(i);
        if ch != b'\\' {
            let n = match ch {
                0xfe..=0xff => break,
                0xfc..=0xfd => 6,
                0xf8..=0xfb => 5,
                0xf0..=0xf7 => 4,
                0xe0..=0xef => 3,
                0xc0..=0xdf => 2,
                _ => 1,
            };
            let end = (i + n).min(len);
            out.extend_from_slice(s.get(i..end).unwrap_or(&[]));
            i = end;
            continue;
        }
        i += 1;
        if i >= len {
            break;
        }
        let e = at(i);
        i += 1;
        match e {
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'u' => {
                let mut code = hex4(&mut i);
                if let Some(lead @ 0xd800..=0xdbff) = code {
                    if i >= len {
                        break;
                    }
                    if at(i) == b'\\' {
                        i += 1;
                        if i >= len {
                            break;
                        }
                        if at(i) == b'u' {
                            i += 1;
                            code = match hex4(&mut i) {
                                Some(trail @ 0xdc00..=0xdfff) => {
                                    Some(0x10000 + (((lead - 0xd800) << 10) | (trail - 0xdc00)))
                                }
                                _ => None,
                            };
                        } else {
                            i += 1;
                            code = None;
                        }
                    } else {
                        // The character after a lone lead surrogate is lost (Wireshark 4.0).
                        i += 1;
                        code = None;
                    }
                } else if let Some(0xdc00..=0xdfff) = code {
                    code = None;
                }
                match code.and_then(char::from_u32) {
                    // Appended only when something follows the escape (Wireshark checks the
                    // read position, not the write one).
                    Some(c) if crate::text::printable(c) && i < len => {
                        let mut buf = [0u8; 4];
                        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    }
                    Some(_) => {}
                    None => out.extend_from_slice(REPLACEMENT),
                }
            }
            other => out.push(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unescaped(s: &str) -> String {
        let mut out = Vec::new();
        unescape(s.as_bytes(), &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn unescape_as_wireshark() {
        assert_eq!(unescaped(r#"a\"b\\c\u00e9\n\tz"#), "a\"b\\c\u{e9}\n\tz");
        assert_eq!(unescaped(r"x\ud83d\ude00y"), "x\u{1F600}y");
        // An escape that ends the string is dropped; so is a non-printable one.
        assert_eq!(unescaped(r"\ud83d\ude00"), "");
        assert_eq!(unescaped(r"\u0041\u00e9\u4e2d"), "A\u{e9}");
        assert_eq!(unescaped(r"x\u0001y\u200bz"), "xyz");
        // A lone lead surrogate swallows the next character.
        assert_eq!(unescaped(r"x\ud83dy"), "x\u{FFFD}");
        assert_eq!(unescaped(r"x\udc00y"), "x\u{FFFD}y");
        assert_eq!(unescaped("a/b"), "a/b");
        let mut out = Vec::new();
        unescape(b"ab\xffcd", &mut out);
        assert_eq!(out, b"ab");
    }

    #[test]
    fn numbers_and_strings() {
        assert_eq!(number_end(b"-12.5e+3,", 0), Some(8));
        assert_eq!(number_end(b"- 1}", 0), Some(3));
        assert_eq!(number_end(b"01", 0), Some(1));
        assert_eq!(number_end(b"1 2}", 0), Some(3));
        assert_eq!(number_end(b"12 3}", 0), Some(2));
        assert_eq!(number_end(b"-x", 0), None);
        assert_eq!(string_end(br#""a\"b" "#, 0), Some(6));
        assert_eq!(string_end(br#""a\xb""#, 0), None);
        assert_eq!(string_end(br#""\u12""#, 0), None);
        assert_eq!(string_end(b"\"open", 0), None);
    }

    /// `name=value` of every field, and the protocols entered.
    fn fields(text: &[u8]) -> (Vec<String>, Vec<&'static str>) {
        let mut rec = crate::proto::testkit::Rec::default();
        let mut stack = crate::pinfo::ProtoStack::default();
        let mut cx = Cx::new(&mut rec, None, &mut stack);
        dissect(text, 0, Some(b"application/json"), &mut cx);
        let protocols = stack.as_slice().to_vec();
        let f = rec.fields.iter().map(|(n, v)| format!("{n}={v}")).collect();
        (f, protocols)
    }

    #[test]
    fn tree_as_tshark_draws_it() {
        // As tshark 4.0.17 shows `{"list":[1,{"k":"v"}],"t":true}` (-T fields order).
        let (f, protocols) = fields(br#"{"list":[1,{"k":"v"}],"t":true}"#);
        assert_eq!(
            f,
            [
                "json.object=1",
                "json.member=list",
                "json.array=1",
                "json.path_with_value=/list/[]:1",
                "json.member_with_value=[]:1",
                "json.value.number=1",
                "json.object=1",
                "json.member=k",
                "json.path_with_value=/list/[]/k:v",
                "json.member_with_value=k:v",
                "json.value.string=v",
                "json.key=k",
                "json.path=/list/[]/k",
                "json.key=list",
                "json.path=/list",
                "json.member=t",
                "json.path_with_value=/t:true",
                "json.member_with_value=t:true",
                "json.value.true=1",
                "json.key=t",
                "json.path=/t",
            ]
        );
        assert_eq!(protocols, ["json"]);
    }

    #[test]
    fn what_does_not_parse_is_text() {
        // Nothing drawn from an object that breaks; the whole body is text.
        let (f, protocols) = fields(br#"{"bad": [1,2}"#);
        assert!(f.is_empty(), "{f:?}");
        assert_eq!(protocols, ["json", "data-text-lines"]);
        // After a value that parses, the rest (after its whitespace) is text.
        let (f, protocols) = fields(b"{}  trailing");
        assert_eq!(f, ["json.object=1"]);
        assert_eq!(protocols, ["json", "data-text-lines"]);
        // Several top-level values, whitespace around them: all JSON.
        let (f, protocols) = fields(b" [ ] {} \r\n");
        assert_eq!(f, ["json.array=1", "json.object=1"]);
        assert_eq!(protocols, ["json"]);
    }

    fn walk_all(text: &[u8]) -> Option<usize> {
        let mut ends = Vec::new();
        Walk::new(text, 0, None, &mut ends).top(skip_space(text, 0))
    }

    #[test]
    fn what_parses() {
        assert_eq!(walk_all(br#"{"a":[1,{"b":null}],"c":NaN}"#), Some(28));
        assert_eq!(walk_all(b"[ ]"), Some(3));
        for bad in [
            &br#"{"a":1,}"#[..],
            b"[1,]",
            b"42",
            b"{\"a\" 1}",
            b"{1:2}",
            b"[",
            b"",
        ] {
            assert_eq!(walk_all(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn hostile_nesting_is_refused_not_overflowed() {
        let deep = "[".repeat(100_000);
        assert_eq!(walk_all(deep.as_bytes()), None);
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert_eq!(walk_all(ok.as_bytes()), Some(2 * MAX_DEPTH));
        let over = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_eq!(walk_all(over.as_bytes()), None);
    }
}
