//! `-T json` (one array, as tshark prints it) and `-T ndjson` (one object per line): layers keyed
//! by protocol, values by Wireshark field name, subtrees under `NAME_tree`. A field that occurs
//! several times in a layer becomes an array (tshark's `--no-duplicate-keys`).

use super::{FrameEnd, Sink};
use netsniff_dissectors::field::write_tshark;
use netsniff_dissectors::{FieldDef, FieldSink, FrameMeta, Proto, Span, Value};
use serde_json::{Map, Value as Json};
use std::io::{self, Write};

/// Prints JSON.
pub struct JsonSink<W: Write> {
    out: W,
    ndjson: bool,
    layers: Map<String, Json>,
    /// Open objects: the current layer first, then open subtrees with their keys.
    stack: Vec<(String, Map<String, Json>)>,
    last_field: Option<&'static str>,
    frames: u64,
    date: String,
}

impl<W: Write> JsonSink<W> {
    pub fn new(out: W, ndjson: bool) -> Self {
        JsonSink {
            out,
            ndjson,
            layers: Map::new(),
            stack: Vec::new(),
            last_field: None,
            frames: 0,
            date: String::new(),
        }
    }

    /// Closes every open subtree and the current layer into `layers`.
    fn close_layer(&mut self) {
        while self.stack.len() > 1 {
            self.close();
        }
        if let Some((name, map)) = self.stack.pop() {
            self.layers.insert(name, Json::Object(map));
        }
    }
}

fn insert(map: &mut Map<String, Json>, key: &str, value: Json) {
    match map.get_mut(key) {
        None => {
            map.insert(key.to_string(), value);
        }
        Some(Json::Array(items)) => items.push(value),
        Some(existing) => {
            let first = existing.take();
            *existing = Json::Array(vec![first, value]);
        }
    }
}

impl<W: Write> FieldSink for JsonSink<W> {
    fn wants(&self, _proto: &'static Proto) -> bool {
        true
    }

    fn layer(&mut self, proto: &'static Proto, _span: Span) {
        self.close_layer();
        let map = match self.layers.shift_remove(proto.name) {
            Some(Json::Object(m)) => m,
            _ => Map::new(),
        };
        self.stack.push((proto.name.to_string(), map));
        self.last_field = None;
    }

    fn field(&mut self, def: &'static FieldDef, _span: Span, value: Value<'_>) {
        let mut text = Vec::with_capacity(32);
        write_tshark(def, &value, &mut text);
        let text = String::from_utf8_lossy(&text).into_owned();
        if let Some((_, map)) = self.stack.last_mut() {
            insert(map, def.name, Json::String(text));
        }
        self.last_field = Some(def.name);
    }

    fn open(&mut self) {
        let key = format!("{}_tree", self.last_field.unwrap_or("text"));
        self.stack.push((key, Map::new()));
    }

    fn close(&mut self) {
        if self.stack.len() < 2 {
            return;
        }
        if let Some((key, map)) = self.stack.pop() {
            if let Some((_, parent)) = self.stack.last_mut() {
                insert(parent, &key, Json::Object(map));
            }
        }
    }

    fn text(&mut self, _span: Span, text: &str) {
        if let Some((_, map)) = self.stack.last_mut() {
            insert(map, "_ws.expert.message", Json::String(text.to_string()));
        }
    }
}

impl<W: Write> Sink for JsonSink<W> {
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
    fn begin_frame(&mut self, meta: &FrameMeta) {
        self.layers.clear();
        self.stack.clear();
        if self.date.is_empty() {
            self.date = utc_date(meta.secs);
        }
    }

    fn end_frame(&mut self, _frame: &FrameEnd<'_>) -> io::Result<()> {
        self.close_layer();
        let mut source = Map::new();
        source.insert(
            "layers".into(),
            Json::Object(std::mem::take(&mut self.layers)),
        );
        let mut packet = Map::new();
        packet.insert(
            "_index".into(),
            Json::String(format!("packets-{}", self.date)),
        );
        packet.insert("_type".into(), Json::String("doc".into()));
        packet.insert("_score".into(), Json::Null);
        packet.insert("_source".into(), Json::Object(source));
        let packet = Json::Object(packet);
        if self.ndjson {
            serde_json::to_writer(&mut self.out, &packet)?;
            self.out.write_all(b"\n")?;
        } else {
            self.out
                .write_all(if self.frames == 0 { b"[\n" } else { b",\n" })?;
            let text = serde_json::to_string_pretty(&packet)?;
            for (i, line) in text.lines().enumerate() {
                if i > 0 {
                    self.out.write_all(b"\n")?;
                }
                self.out.write_all(b"  ")?;
                self.out.write_all(line.as_bytes())?;
            }
        }
        self.frames += 1;
        Ok(())
    }

    fn finish(&mut self, _end: &super::RunEnd<'_>) -> io::Result<()> {
        if !self.ndjson {
            if self.frames == 0 {
                self.out.write_all(b"[\n")?;
            } else {
                self.out.write_all(b"\n")?;
            }
            self.out.write_all(b"]\n")?;
        }
        self.out.flush()
    }
}

/// `YYYY-MM-DD` (UTC) of a Unix time, for tshark's `_index`.
pub fn utc_date(secs: i64) -> String {
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = secs.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates() {
        assert_eq!(super::utc_date(0), "1970-01-01");
        assert_eq!(super::utc_date(1795811872), "2026-11-27");
    }
}
