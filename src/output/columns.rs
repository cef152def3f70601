//! tshark's column fields (`-T fields -e _ws.col.Info`): the summary line's columns as field
//! values. tshark 4.0 names them by column title (`_ws.col.No.`, `_ws.col.Info` …); later
//! versions by column type (`_ws.col.number`, `_ws.col.info` …). netsniff takes both.

use super::summary::Column;
use netsniff_dissectors::{FieldDef, Kind};

/// Every column field: its name and the column it shows.
pub static COLUMN_FIELDS: [(FieldDef, Column); 14] = [
    (
        FieldDef::new("_ws.col.No.", "No.", Kind::Str),
        Column::Number,
    ),
    (
        FieldDef::new("_ws.col.Time", "Time", Kind::Str),
        Column::Time,
    ),
    (
        FieldDef::new("_ws.col.Source", "Source", Kind::Str),
        Column::Source,
    ),
    (
        FieldDef::new("_ws.col.Destination", "Destination", Kind::Str),
        Column::Destination,
    ),
    (
        FieldDef::new("_ws.col.Protocol", "Protocol", Kind::Str),
        Column::Protocol,
    ),
    (
        FieldDef::new("_ws.col.Length", "Length", Kind::Str),
        Column::Length,
    ),
    (
        FieldDef::new("_ws.col.Info", "Info", Kind::Str),
        Column::Info,
    ),
    (
        FieldDef::new("_ws.col.number", "No.", Kind::Str),
        Column::Number,
    ),
    (
        FieldDef::new("_ws.col.cls_time", "Time", Kind::Str),
        Column::Time,
    ),
    (
        FieldDef::new("_ws.col.def_src", "Source", Kind::Str),
        Column::Source,
    ),
    (
        FieldDef::new("_ws.col.def_dst", "Destination", Kind::Str),
        Column::Destination,
    ),
    (
        FieldDef::new("_ws.col.protocol", "Protocol", Kind::Str),
        Column::Protocol,
    ),
    (
        FieldDef::new("_ws.col.length", "Length", Kind::Str),
        Column::Length,
    ),
    (
        FieldDef::new("_ws.col.info", "Info", Kind::Str),
        Column::Info,
    ),
];

/// The column field named `name`.
pub fn field(name: &str) -> Option<&'static FieldDef> {
    COLUMN_FIELDS
        .iter()
        .map(|(f, _)| f)
        .find(|f| f.name == name)
}

/// The column `def` shows, when it is a column field.
pub fn column_of(def: &'static FieldDef) -> Option<Column> {
    COLUMN_FIELDS
        .iter()
        .find(|(f, _)| std::ptr::eq(f, def))
        .map(|(_, c)| *c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings_resolve() {
        for (name, col) in [
            ("_ws.col.Info", Column::Info),
            ("_ws.col.info", Column::Info),
            ("_ws.col.No.", Column::Number),
            ("_ws.col.def_dst", Column::Destination),
        ] {
            let def = field(name).unwrap();
            assert_eq!(column_of(def), Some(col), "{name}");
        }
        assert!(field("_ws.col.nope").is_none());
    }
}
