//! # Form specifications
//!
//! Each appendix form is described as data in `config/forms/<id>.toml`: its sheets, the
//! columns (by header text), the indicator rows (code, Vietnamese label, unit, kind, who must
//! fill it) and its rules. Parsed in two steps like the rest of the configuration: the raw
//! TOML (unknown keys rejected), then a checked [`FormSpec`] whose rules only name rows and
//! columns that exist. The format is documented in `config/forms/README.md`.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;

use crate::config_file::ConfigError;

pub use super::value::ValueKind;

/// A form, checked.
#[derive(Debug, Clone)]
pub struct FormSpec {
    /// Stable id, carried by the blank form's marker, e.g. `742-2018-pl1`.
    pub id: String,
    /// Version of the form; a workbook on another version is a warning.
    pub version: u32,
    /// Heading lines of the blank form (e.g. "PHỤ LỤC I", the title, the dispatch note).
    pub heading: Vec<String>,
    /// Phrases that recognise a copy made without the marker.
    pub titles: Vec<String>,
    /// The sheets.
    pub sheets: Vec<SheetSpec>,
    /// Rules beyond the per-row checks.
    pub rules: Vec<Rule>,
    /// Its words, prepared for recognition when the form was loaded.
    pub prepared: std::sync::Arc<Prepared>,
}

/// One sheet of a form.
#[derive(Debug, Clone)]
pub struct SheetSpec {
    /// Sheet id used in rules (`sheet!row`).
    pub id: String,
    /// The sheet name in the blank form.
    pub name: String,
    /// Other names agencies give it.
    pub aliases: Vec<String>,
    /// A sub-title printed above the table.
    pub title: Option<String>,
    /// Header text of the code column.
    pub code_header: String,
    /// Header text of the label column.
    pub label_header: String,
    /// Header text of the unit column.
    pub unit_header: String,
    /// Data columns, in order.
    pub columns: Vec<ColumnSpec>,
    /// Indicator rows, in order.
    pub rows: Vec<RowSpec>,
}

/// A data column.
#[derive(Debug, Clone)]
pub struct ColumnSpec {
    /// Id used in rules, e.g. `th2016`.
    pub id: String,
    /// Header text in the blank form, e.g. `TH 2016`.
    pub label: String,
    /// Other header texts that mean the same column.
    pub aliases: Vec<String>,
    /// Whether ranges ("8 - 9", "từ 8% trở lên") are accepted.
    pub ranges: bool,
}

/// What kind of unit an agency is; forms may ask different rows of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AgencyKind {
    /// A provincial department, board or office.
    Department,
    /// A district or the provincial city.
    District,
    /// The provincial People's Committee's office.
    Office,
}

/// Who must fill a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    /// Every agency.
    All,
    /// Nobody must; anyone may.
    Optional,
    /// These kinds of agency and these codes.
    Some {
        kinds: Vec<AgencyKind>,
        codes: Vec<String>,
    },
}

impl Who {
    /// True when the agency of this code and kind must fill the row.
    pub fn includes(&self, code: &str, kind: AgencyKind) -> bool {
        match self {
            Who::All => true,
            Who::Optional => false,
            Who::Some { kinds, codes } => kinds.contains(&kind) || codes.iter().any(|c| c == code),
        }
    }
}

/// An indicator row.
#[derive(Debug, Clone)]
pub struct RowSpec {
    /// Id used in rules and in the consolidation store.
    pub id: String,
    /// The code printed in the STT column, e.g. `1.1`.
    pub code: String,
    /// Vietnamese label.
    pub label: String,
    /// Other labels agencies use.
    pub aliases: Vec<String>,
    /// Unit, e.g. `%`, `tỷ đồng`.
    pub unit: String,
    /// What kind of value it holds; None for a heading row without values.
    pub kind: Option<ValueKind>,
    /// A growth rate: may be negative; outside −50..100 is a warning.
    pub growth: bool,
    /// Whether district values add up to a province total.
    pub additive: bool,
    /// Who must fill it.
    pub who: Who,
    /// Bounds beyond those of the kind: (low, high), a warning outside.
    pub bounds: Option<(f64, f64)>,
}

/// Severity of a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Blocks acceptance.
    Error,
    /// Reported, does not block.
    Warning,
}

/// A campaign's setting for a form rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleSetting {
    /// As the form says.
    Default,
    /// Reported as a warning.
    Warning,
    /// Reported as an error.
    Error,
    /// Not checked.
    Off,
}

/// A reference to a cell by sheet, row and column ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellRef {
    /// Sheet id.
    pub sheet: String,
    /// Row id.
    pub row: String,
}

/// A rule of a form.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Stable id, e.g. `co-cau-kinh-te-100`; campaigns may switch it to a warning or off.
    pub id: String,
    /// Default severity.
    pub severity: Severity,
    /// Vietnamese message.
    pub message: String,
    /// What it checks.
    pub check: Check,
    /// The columns it applies to (all when empty).
    pub columns: Vec<String>,
}

/// What a rule checks.
#[derive(Debug, Clone)]
pub enum Check {
    /// The parts add up to the total row, or to a constant.
    Sum { total: Total, parts: Vec<CellRef> },
    /// `value` column deviates from `reference` column by at most `max_share` (rows: all numeric when empty).
    Deviation {
        rows: Vec<CellRef>,
        value: String,
        reference: String,
        max_share: f64,
    },
    /// Two cells (possibly on different sheets) are equal.
    Equal { left: CellRef, right: CellRef },
}

/// The total of a sum rule.
#[derive(Debug, Clone)]
pub enum Total {
    /// Another row.
    Row(CellRef),
    /// A constant, e.g. 100 for shares.
    Value(f64),
}

impl FormSpec {
    /// The sheet with this id.
    pub fn sheet(&self, id: &str) -> Option<&SheetSpec> {
        self.sheets.iter().find(|s| s.id == id)
    }
}

impl SheetSpec {
    /// The row with this id.
    pub fn row(&self, id: &str) -> Option<&RowSpec> {
        self.rows.iter().find(|r| r.id == id)
    }

    /// The column with this id.
    pub fn column(&self, id: &str) -> Option<&ColumnSpec> {
        self.columns.iter().find(|c| c.id == id)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawForm {
    id: String,
    version: u32,
    #[serde(default)]
    heading: Vec<String>,
    #[serde(default)]
    titles: Vec<String>,
    #[serde(rename = "sheet")]
    sheets: Vec<RawSheet>,
    #[serde(default, rename = "rule")]
    rules: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSheet {
    id: String,
    name: String,
    #[serde(default)]
    aliases: Vec<String>,
    title: Option<String>,
    code_header: Option<String>,
    label_header: Option<String>,
    unit_header: Option<String>,
    #[serde(rename = "column")]
    columns: Vec<RawColumn>,
    #[serde(rename = "row")]
    rows: Vec<RawRow>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawColumn {
    id: String,
    label: String,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    ranges: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRow {
    id: String,
    code: String,
    label: String,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    unit: String,
    kind: Option<String>,
    #[serde(default)]
    growth: bool,
    #[serde(default)]
    additive: bool,
    who: Option<toml::Value>,
    bounds: Option<[f64; 2]>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    kind: String,
    severity: Option<Severity>,
    message: String,
    #[serde(default)]
    columns: Vec<String>,
    total: Option<toml::Value>,
    #[serde(default)]
    parts: Vec<String>,
    #[serde(default)]
    rows: Vec<String>,
    value: Option<String>,
    reference: Option<String>,
    max_share: Option<f64>,
    left: Option<String>,
    right: Option<String>,
}

/// Parses and checks one form file's text; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<FormSpec, ConfigError> {
    let raw: RawForm = crate::config_file::parse_toml_with(
        file,
        text,
        "see config/forms/README.md for the format",
    )?;
    let at = |k: &str, p: &str, f: &str| err(file, k, p, f);
    if raw.sheets.is_empty() {
        return Err(at(
            "sheet",
            "the form has no sheet",
            "add a [[sheet]] with its columns and rows",
        ));
    }
    let mut sheets = Vec::new();
    let mut sheet_ids = HashSet::new();
    for (si, s) in raw.sheets.into_iter().enumerate() {
        let key = |k: &str| format!("sheet[{si}].{k}");
        if !sheet_ids.insert(s.id.clone()) {
            return Err(at(
                &key("id"),
                &format!("sheet id \"{}\" is used twice", s.id),
                "give each sheet its own id",
            ));
        }
        let mut columns = Vec::new();
        let mut col_ids = HashSet::new();
        for (ci, c) in s.columns.into_iter().enumerate() {
            if !col_ids.insert(c.id.clone()) {
                return Err(at(
                    &key(&format!("column[{ci}].id")),
                    &format!("column id \"{}\" is used twice", c.id),
                    "give each column its own id",
                ));
            }
            columns.push(ColumnSpec {
                id: c.id,
                label: c.label,
                aliases: c.aliases,
                ranges: c.ranges,
            });
        }
        if columns.is_empty() {
            return Err(at(
                &key("column"),
                "the sheet has no data column",
                "add [[sheet.column]] entries",
            ));
        }
        let mut rows = Vec::new();
        let mut row_ids = HashSet::new();
        for (ri, r) in s.rows.into_iter().enumerate() {
            let rk = |k: &str| key(&format!("row[{ri}].{k}"));
            if !row_ids.insert(r.id.clone()) {
                return Err(at(
                    &rk("id"),
                    &format!("row id \"{}\" is used twice", r.id),
                    "give each row its own id",
                ));
            }
            let kind = match r.kind.as_deref() {
                None | Some("heading") => None,
                Some(k) => Some(match k {
                    "number" => ValueKind::Number,
                    "percent" => ValueKind::Percent,
                    "count" => ValueKind::Count,
                    "amount" => ValueKind::Amount,
                    "text" => ValueKind::Text,
                    other => {
                        return Err(at(
                            &rk("kind"),
                            &format!("unknown kind \"{other}\""),
                            "use number, percent, count, amount, text or heading",
                        ));
                    }
                }),
            };
            let who = parse_who(r.who.as_ref()).map_err(|p| at(&rk("who"), &p, "use \"all\", \"optional\", \"districts\", \"departments\", or a list of those and agency codes"))?;
            rows.push(RowSpec {
                id: r.id,
                code: r.code,
                label: r.label,
                aliases: r.aliases,
                unit: r.unit,
                kind,
                growth: r.growth,
                additive: r.additive,
                who,
                bounds: r.bounds.map(|[a, b]| (a, b)),
            });
        }
        sheets.push(SheetSpec {
            id: s.id,
            name: s.name,
            aliases: s.aliases,
            title: s.title,
            code_header: s.code_header.unwrap_or_else(|| "STT".into()),
            label_header: s.label_header.unwrap_or_else(|| "Chỉ tiêu".into()),
            unit_header: s.unit_header.unwrap_or_else(|| "Đơn vị tính".into()),
            columns,
            rows,
        });
    }
    let default_sheet = sheets[0].id.clone();
    let cell_ref = |key: &str, text: &str| -> Result<CellRef, ConfigError> {
        let (sheet, row) = text
            .split_once('!')
            .unwrap_or((default_sheet.as_str(), text));
        let s = sheets.iter().find(|s| s.id == sheet).ok_or_else(|| {
            at(
                key,
                &format!("no sheet \"{sheet}\""),
                "write sheet!row with ids from this file",
            )
        })?;
        if s.row(row).is_none() {
            return Err(at(
                key,
                &format!("no row \"{row}\" on sheet \"{sheet}\""),
                "use a row id of that sheet",
            ));
        }
        Ok(CellRef {
            sheet: sheet.into(),
            row: row.into(),
        })
    };
    let all_columns: HashMap<&str, ()> = sheets
        .iter()
        .flat_map(|s| s.columns.iter().map(|c| (c.id.as_str(), ())))
        .collect();
    let mut rules = Vec::new();
    let mut rule_ids = HashSet::new();
    for (i, r) in raw.rules.into_iter().enumerate() {
        let key = |k: &str| format!("rule[{i}].{k}");
        if !rule_ids.insert(r.id.clone()) {
            return Err(at(
                &key("id"),
                &format!("rule id \"{}\" is used twice", r.id),
                "give each rule its own id",
            ));
        }
        for c in &r.columns {
            if !all_columns.contains_key(c.as_str()) {
                return Err(at(
                    &key("columns"),
                    &format!("no column \"{c}\""),
                    "use column ids of this form",
                ));
            }
        }
        let need = |v: &Option<String>, k: &str| {
            v.clone().ok_or_else(|| {
                at(
                    &key(k),
                    "is missing",
                    &format!("a {} rule needs `{k}`", r.kind),
                )
            })
        };
        let check = match r.kind.as_str() {
            "sum" => {
                let total = match &r.total {
                    Some(toml::Value::Integer(n)) => Total::Value(*n as f64),
                    Some(toml::Value::Float(f)) => Total::Value(*f),
                    Some(toml::Value::String(s)) => Total::Row(cell_ref(&key("total"), s)?),
                    _ => {
                        return Err(at(
                            &key("total"),
                            "is missing or not a row id or number",
                            "write total = \"row-id\" or total = 100",
                        ));
                    }
                };
                if r.parts.len() < 2 {
                    return Err(at(
                        &key("parts"),
                        "a sum needs at least two parts",
                        "list the row ids that add up",
                    ));
                }
                let parts = r
                    .parts
                    .iter()
                    .enumerate()
                    .map(|(j, p)| cell_ref(&key(&format!("parts[{j}]")), p))
                    .collect::<Result<_, _>>()?;
                Check::Sum { total, parts }
            }
            "deviation" => {
                let value = need(&r.value, "value")?;
                let reference = need(&r.reference, "reference")?;
                for c in [&value, &reference] {
                    if !all_columns.contains_key(c.as_str()) {
                        return Err(at(
                            &key("value"),
                            &format!("no column \"{c}\""),
                            "use column ids of this form",
                        ));
                    }
                }
                let rows = r
                    .rows
                    .iter()
                    .enumerate()
                    .map(|(j, p)| cell_ref(&key(&format!("rows[{j}]")), p))
                    .collect::<Result<_, _>>()?;
                let max_share = r.max_share.filter(|m| *m > 0.0).ok_or_else(|| {
                    at(
                        &key("max_share"),
                        "is missing or not positive",
                        "e.g. max_share = 0.3 for 30 %",
                    )
                })?;
                Check::Deviation {
                    rows,
                    value,
                    reference,
                    max_share,
                }
            }
            "equal" => Check::Equal {
                left: cell_ref(&key("left"), &need(&r.left, "left")?)?,
                right: cell_ref(&key("right"), &need(&r.right, "right")?)?,
            },
            other => {
                return Err(at(
                    &key("kind"),
                    &format!("unknown rule kind \"{other}\""),
                    "use sum, deviation or equal",
                ));
            }
        };
        rules.push(Rule {
            id: r.id,
            severity: r.severity.unwrap_or(Severity::Error),
            message: r.message,
            check,
            columns: r.columns,
        });
    }
    let prepared = std::sync::Arc::new(Prepared::of(&sheets));
    Ok(FormSpec {
        id: raw.id,
        version: raw.version,
        heading: raw.heading,
        titles: raw.titles,
        sheets,
        rules,
        prepared,
    })
}

fn parse_who(v: Option<&toml::Value>) -> Result<Who, String> {
    let items: Vec<&str> = match v {
        None => return Ok(Who::All),
        Some(toml::Value::String(s)) => vec![s.as_str()],
        Some(toml::Value::Array(a)) => a
            .iter()
            .map(|x| x.as_str().ok_or("list items must be strings"))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("must be a string or a list".into()),
    };
    if items == ["all"] {
        return Ok(Who::All);
    }
    if items == ["optional"] {
        return Ok(Who::Optional);
    }
    let (mut kinds, mut codes) = (Vec::new(), Vec::new());
    for i in items {
        match i {
            "districts" => kinds.push(AgencyKind::District),
            "departments" => kinds.push(AgencyKind::Department),
            "office" => kinds.push(AgencyKind::Office),
            "all" | "optional" => return Err(format!("\"{i}\" cannot be combined with others")),
            code => codes.push(code.to_string()),
        }
    }
    Ok(Who::Some { kinds, codes })
}

fn err(file: &str, key: &str, problem: &str, fix: &str) -> ConfigError {
    ConfigError {
        file: file.into(),
        key: key.into(),
        problem: problem.into(),
        fix: fix.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_forms_parse() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/forms");
        for id in ["742-2018-pl1", "742-2018-pl2", "742-2018-pl3"] {
            let path = dir.join(format!("{id}.toml"));
            let spec = parse(
                &path.display().to_string(),
                &std::fs::read_to_string(&path).unwrap(),
            )
            .unwrap();
            assert_eq!(spec.id, id);
            assert!(spec.sheets.iter().all(|s| s.rows.len() >= 8), "{id}");
        }
    }

    const MINIMAL: &str = "id = \"f\"\nversion = 1\n[[sheet]]\nid = \"s\"\nname = \"S\"\n[[sheet.column]]\nid = \"c\"\nlabel = \"C\"\n[[sheet.row]]\nid = \"a\"\ncode = \"1\"\nlabel = \"A\"\nkind = \"percent\"\n[[sheet.row]]\nid = \"b\"\ncode = \"2\"\nlabel = \"B\"\nkind = \"percent\"\nwho = [\"districts\", \"so-y-te\"]\n";

    #[test]
    fn rules_must_name_real_rows_and_columns() {
        let ok = format!(
            "{MINIMAL}[[rule]]\nid = \"r\"\nkind = \"sum\"\ntotal = 100\nparts = [\"a\", \"b\"]\nmessage = \"m\"\n"
        );
        let spec = parse("f.toml", &ok).unwrap();
        assert!(matches!(spec.sheets[0].rows[1].who, Who::Some { .. }));
        assert!(
            spec.sheets[0].rows[1]
                .who
                .includes("so-y-te", AgencyKind::Department)
        );
        assert!(
            spec.sheets[0].rows[1]
                .who
                .includes("ubnd-x", AgencyKind::District)
        );
        assert!(
            !spec.sheets[0].rows[1]
                .who
                .includes("so-x", AgencyKind::Department)
        );

        let bad_row = ok.replace("[\"a\", \"b\"]", "[\"a\", \"zz\"]");
        let e = parse("f.toml", &bad_row).unwrap_err();
        assert_eq!(
            (e.file.as_str(), e.key.as_str()),
            ("f.toml", "rule[0].parts[1]")
        );
        assert!(e.problem.contains("zz"));

        let bad_kind = MINIMAL.replace("kind = \"percent\"\nwho", "kind = \"percentage\"\nwho");
        let e = parse("f.toml", &bad_kind).unwrap_err();
        assert_eq!(e.key, "sheet[0].row[1].kind");
        assert!(e.fix.contains("percent"));

        let unknown = format!("{MINIMAL}colour = 1\n");
        assert!(
            parse("f.toml", &unknown)
                .unwrap_err()
                .key
                .starts_with("line")
        );
    }
}

/// A form's words, prepared once when the form is loaded, so that recognising a workbook
/// costs little per cell: every folded word of its row labels, column headers and their
/// aliases numbered, each of them as the set of its word numbers, and per sheet an index from
/// each word to the row labels that hold it. A workbook's row then finds the labels it shares
/// a word with by that index instead of being compared with every label
/// ([`super::recognise`]).
#[derive(Debug, Default)]
pub struct Prepared {
    /// Folded word → its number.
    pub vocabulary: foldhash::HashMap<Box<str>, u32>,
    /// The number of "nam" (year), which column headers leave out ("TH năm 2016" is "TH 2016").
    pub year: Option<u32>,
    /// Per sheet of the form.
    pub sheets: Vec<PreparedSheet>,
}

/// One sheet of a form, prepared (see [`Prepared`]).
#[derive(Debug, Default)]
pub struct PreparedSheet {
    /// Its name and aliases, folded.
    pub names: Vec<String>,
    /// Per column: the word sets of its label and aliases, "nam" aside; empty ones left out.
    pub columns: Vec<Vec<Vec<u32>>>,
    /// Per row: the word sets of its label, then of each alias (sorted, each word once).
    pub rows: Vec<Vec<Vec<u32>>>,
    /// By word number: the (row, name) pairs whose word set holds it (words numbered after
    /// this sheet's are beyond its end).
    pub index: Vec<Vec<(u32, u32)>>,
    /// Per row: its code, normalised ("1." → "1", "I." → "i").
    pub codes: Vec<String>,
    /// Per row: the row it belongs under, by code ("2.3" under "2"; "22" under the section
    /// row "II" before it).
    pub parents: Vec<Option<usize>>,
    /// Header texts that name the label column, folded.
    pub label_headers: Vec<String>,
    /// Header texts that name the code column, folded.
    pub code_headers: Vec<String>,
}

impl Prepared {
    fn of(sheets: &[SheetSpec]) -> Prepared {
        use crate::core::text::{fold, tokens};
        let mut vocabulary = foldhash::HashMap::<Box<str>, u32>::default();
        let set = |text: &str, vocabulary: &mut foldhash::HashMap<Box<str>, u32>| {
            let mut ids: Vec<u32> = tokens(text)
                .into_iter()
                .map(|w| {
                    let next = vocabulary.len() as u32;
                    *vocabulary.entry(w.into_boxed_str()).or_insert(next)
                })
                .collect();
            ids.sort_unstable();
            ids.dedup();
            ids
        };
        let mut prepared_sheets = Vec::new();
        for sheet in sheets {
            let rows: Vec<Vec<Vec<u32>>> = sheet
                .rows
                .iter()
                .map(|row| {
                    std::iter::once(&row.label)
                        .chain(row.aliases.iter())
                        .map(|l| set(l, &mut vocabulary))
                        .collect()
                })
                .collect();
            let columns: Vec<Vec<Vec<u32>>> = sheet
                .columns
                .iter()
                .map(|c| {
                    std::iter::once(&c.label)
                        .chain(c.aliases.iter())
                        .map(|n| set(n, &mut vocabulary))
                        .collect()
                })
                .collect();
            let mut index: Vec<Vec<(u32, u32)>> = vec![Vec::new(); vocabulary.len()];
            for (i, names) in rows.iter().enumerate() {
                for (k, words) in names.iter().enumerate() {
                    for w in words {
                        index[*w as usize].push((i as u32, k as u32));
                    }
                }
            }
            let codes: Vec<String> = sheet.rows.iter().map(|r| normalise_code(&r.code)).collect();
            let parents = (0..sheet.rows.len())
                .map(|i| match codes[i].rsplit_once('.') {
                    Some((up, _)) => codes.iter().position(|c| c == up),
                    None => (0..i).rev().find(|&k| {
                        sheet.rows[k].kind.is_none()
                            && !codes[k].is_empty()
                            && !codes[k].chars().any(|c| c.is_ascii_digit())
                    }),
                })
                .collect();
            prepared_sheets.push(PreparedSheet {
                names: std::iter::once(&sheet.name)
                    .chain(sheet.aliases.iter())
                    .map(|n| fold(n))
                    .collect(),
                columns,
                rows,
                index,
                codes,
                parents,
                label_headers: [
                    sheet.label_header.as_str(),
                    "Chỉ tiêu",
                    "Nội dung",
                    "Tên chỉ tiêu",
                    "Chỉ tiêu chủ yếu",
                ]
                .iter()
                .map(|h| fold(h))
                .collect(),
                code_headers: [
                    sheet.code_header.as_str(),
                    "STT",
                    "TT",
                    "Số TT",
                    "Mã số",
                    "Mã",
                ]
                .iter()
                .map(|h| fold(h))
                .collect(),
            });
        }
        let year = vocabulary.get("nam").copied();
        // Column headers compare without "nam".
        for sheet in &mut prepared_sheets {
            for names in &mut sheet.columns {
                for words in names.iter_mut() {
                    words.retain(|w| Some(*w) != year);
                }
                names.retain(|w| !w.is_empty());
            }
        }
        Prepared {
            vocabulary,
            year,
            sheets: prepared_sheets,
        }
    }
}

/// "1.", "1)", "I." and "1.1" → "1", "1", "i", "1.1".
pub fn normalise_code(code: &str) -> String {
    code.trim().trim_end_matches(['.', ')', ':']).to_lowercase()
}
