//! # Recognition: which form a workbook is, and where its rows and columns are
//!
//! A blank form carries a marker (form id and version); a workbook without it — an agency's
//! own copy, last year's file, a department's own table — is matched by its titles, sheet
//! names and row labels, without accents or case, with a confidence. Rows are found by label
//! and code, not by position, so inserted blank rows, reordered rows and slightly different
//! labels still land on the right indicator; columns are found by their header text.
//!
//! ## The rule, without a marker
//!
//! Most departments fill only their own sector's rows and send a table of just those (Sở
//! LĐ-TB&XH: 7 of Phụ lục I's 39 indicators), so a workbook is scored two ways and the
//! better score counts:
//!
//! - **the whole form**: `0.3` for one of the form's `titles` in the first 8 rows of a sheet,
//!   `0.1` × the share of sheets found under their own name, `0.6` × the share of the form's
//!   value rows found by label. A sheet is only taken when at least a quarter of its value
//!   rows (two at the least) are there by label.
//! - **the sending agency's own rows** (when the sender is known, from the rows' `who`): the
//!   same `0.3` and `0.1`, plus `0.6` × the share of the rows that agency must fill found by
//!   label — but only when all of these hold, else this score is 0:
//!   1. a title of the form is in the heading (a table of matching labels alone is not the
//!      form: "Tỷ lệ hộ nghèo" is in every social report);
//!   2. at least half of the agency's own rows are found, and two of them when it owes two or
//!      more (`enough_own`);
//!   3. in every sheet where its rows are found, at least half of the data columns are found
//!      by header ("TH 2016", "KH 2018", …).
//!
//! A form is recognised at a confidence of `ENOUGH` (0.45) or more; two forms within
//! `MARGIN` (0.1) of each other are ambiguous and left to staff. So a department's 7-row
//! table with the form's title and headers is that form (confidence 0.3 + 0.6 × 7/7 and more),
//! a workbook with the title and unrelated rows is not (no own row), nor one with a few of
//! the form's labels and no title (the whole-form score stays under 0.45, the own score
//! needs the title). Rows of others being absent is then not an error; the agency's own rows
//! being absent is (`thieu-chi-tieu`, in [`super::validate`]).
//!
//! ## Mapping rows
//!
//! Every (form row, workbook row) pair whose labels are similar enough (0.6, by words) is
//! scored by that similarity, plus 0.3 when the code in the STT column is the form's, plus
//! 0.2 when the workbook row stands under the form row's parent (by code: "2.3" under "2",
//! "22" under "II"; the parents as a first pass found them: "Dịch vụ" under "Cơ cấu kinh
//! tế" is the share, under "Tốc độ tăng trưởng GRDP" the growth rate); pairs
//! are then taken best first, each row once, ties in reading order. Codes count only when
//! the table follows the form's numbering: when fewer than half of the rows whose label is
//! exactly a form row's carry that row's code (the agency numbered its own rows 1..7), the
//! codes are ignored and labels decide.

use crate::core::text::{Phrase, fold, tokens};
use crate::workbook::{CellValue, Grid, Sheet};

use super::spec::{FormSpec, Prepared, PreparedSheet, SheetSpec, normalise_code};
use super::validate::From;

#[cfg(test)]
mod reference;

/// How a form was recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecognisedBy {
    /// The blank form's marker.
    Marker,
    /// Titles, sheet names and row labels.
    Content,
}

/// Where one sheet of the form is in the workbook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetMatch {
    /// Index of the workbook sheet, when found.
    pub grid_sheet: Option<usize>,
    /// The header row (0-based), when found.
    pub header_row: Option<u32>,
    /// Per spec column: the workbook column (0-based).
    pub columns: Vec<Option<u32>>,
    /// Per spec row: the workbook row (0-based).
    pub rows: Vec<Option<u32>>,
}

/// A workbook recognised as a form.
#[derive(Debug, Clone)]
pub struct Recognition<'s> {
    /// The form.
    pub spec: &'s FormSpec,
    /// How.
    pub by: RecognisedBy,
    /// 0..=1.
    pub confidence: f64,
    /// The marker's version, when there is a marker.
    pub marker_version: Option<u32>,
    /// Per spec sheet.
    pub sheets: Vec<SheetMatch>,
}

/// The answer of recognition.
#[derive(Debug, Clone)]
pub enum Recognised<'s> {
    /// One form fits.
    Form(Recognition<'s>),
    /// Several fit about equally: staff must decide. (form id, confidence), best first.
    Ambiguous(Vec<(String, f64)>),
    /// None fits.
    Unknown,
}

/// Least confidence for a content match.
const ENOUGH: f64 = 0.45;
/// Two candidates closer than this are ambiguous.
const MARGIN: f64 = 0.1;

/// Matches a workbook against the candidate forms; `agency`, the sender when known, lets a
/// table of only the rows it must fill count (see the module header).
pub fn recognise<'s>(
    grid: &Grid,
    forms: &[&'s FormSpec],
    agency: Option<From<'_>>,
) -> Recognised<'s> {
    let views: Vec<Option<SheetView<'_>>> = grid
        .sheets
        .iter()
        .map(|s| s.visible.then(|| SheetView::new(s)))
        .collect();
    if let Some(marker) = &grid.marker
        && let Some(spec) = forms.iter().find(|f| f.id == marker.form)
    {
        let own = own_rows(spec, agency);
        let sheets = locate_all(&views, spec, &own)
            .into_iter()
            .map(|(_, m)| m)
            .collect();
        return Recognised::Form(Recognition {
            spec,
            by: RecognisedBy::Marker,
            confidence: 1.0,
            marker_version: Some(marker.version),
            sheets,
        });
    }
    // The words of the first 8 rows of each visible sheet, where titles are.
    let headings: Vec<&[Box<str>]> = views
        .iter()
        .flatten()
        .flat_map(|v| {
            v.sheet
                .cells
                .iter()
                .enumerate()
                .take_while(|(_, c)| c.row < 8)
                .filter(|(_, c)| text(&c.value).is_some())
                .map(|(i, _)| v.words(i))
        })
        .collect();
    let mut scored: Vec<(f64, Recognition<'s>)> = forms
        .iter()
        .map(|spec| {
            let (confidence, sheets) = content_score(&views, &headings, spec, agency);
            (
                confidence,
                Recognition {
                    spec,
                    by: RecognisedBy::Content,
                    confidence,
                    marker_version: None,
                    sheets,
                },
            )
        })
        .filter(|(c, _)| *c >= ENOUGH)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    match scored.as_slice() {
        [] => Recognised::Unknown,
        [(best, _), (second, _), ..] if best - second < MARGIN => Recognised::Ambiguous(
            scored
                .iter()
                .map(|(c, r)| (r.spec.id.clone(), *c))
                .collect(),
        ),
        _ => Recognised::Form(scored.remove(0).1),
    }
}

/// Per spec sheet, per row: whether the agency must fill it (value rows only); all false
/// when the agency is not known.
fn own_rows(spec: &FormSpec, agency: Option<From<'_>>) -> Vec<Vec<bool>> {
    spec.sheets
        .iter()
        .map(|s| {
            s.rows
                .iter()
                .map(|r| r.kind.is_some() && agency.is_some_and(|a| r.who.includes(a.code, a.kind)))
                .collect()
        })
        .collect()
}

/// Enough of an agency's own rows to take a table of them for the form: half of them, and
/// two when it owes two or more.
fn enough_own(found: usize, total: usize) -> bool {
    total > 0 && found >= total.min(2) && 2 * found >= total
}

/// Confidence that the workbook is this form: the better of the whole form's score and the
/// sending agency's own rows' score (the module header gives the rule).
fn content_score(
    views: &[Option<SheetView<'_>>],
    headings: &[&[Box<str>]],
    spec: &FormSpec,
    agency: Option<From<'_>>,
) -> (f64, Vec<SheetMatch>) {
    let title = spec
        .titles
        .iter()
        .map(|t| Phrase::new(t))
        .any(|p| headings.iter().any(|h| p.occurs_in(h)));
    let own = own_rows(spec, agency);
    let mut named = 0.0;
    let (mut matched, mut total) = (0usize, 0usize);
    let (mut own_matched, mut own_total) = (0usize, 0usize);
    let mut own_columns = true;
    let mut sheets = Vec::new();
    for ((s, own), (by_name, m)) in spec
        .sheets
        .iter()
        .zip(&own)
        .zip(locate_all(views, spec, &own))
    {
        if by_name {
            named += 1.0;
        }
        let valued = s.rows.iter().filter(|r| r.kind.is_some()).count();
        total += valued;
        matched += s
            .rows
            .iter()
            .zip(&m.rows)
            .filter(|(r, at)| r.kind.is_some() && at.is_some())
            .count();
        let mine = own.iter().filter(|&&o| o).count();
        let mine_found = own
            .iter()
            .zip(&m.rows)
            .filter(|(o, at)| **o && at.is_some())
            .count();
        own_total += mine;
        own_matched += mine_found;
        let columns = m.columns.iter().filter(|c| c.is_some()).count();
        if mine_found > 0 && 2 * columns < s.columns.len() {
            own_columns = false;
        }
        sheets.push(m);
    }
    let n = spec.sheets.len() as f64;
    let share = |found: usize, of: usize| {
        if of > 0 {
            found as f64 / of as f64
        } else {
            0.0
        }
    };
    let base = 0.3 * f64::from(u8::from(title)) + 0.1 * named / n;
    let whole = base + 0.6 * share(matched, total);
    let own = if title && own_columns && enough_own(own_matched, own_total) {
        base + 0.6 * share(own_matched, own_total)
    } else {
        0.0
    };
    (whole.max(own).min(1.0), sheets)
}

/// Finds every sheet of a form, each in its own workbook sheet; `own`: per sheet, the rows
/// the sending agency must fill. Returns per sheet whether it was found by name.
fn locate_all(
    views: &[Option<SheetView<'_>>],
    spec: &FormSpec,
    own: &[Vec<bool>],
) -> Vec<(bool, SheetMatch)> {
    let mut taken = Vec::new();
    spec.sheets
        .iter()
        .zip(&spec.prepared.sheets)
        .zip(own)
        .map(|((s, prepared), own)| {
            let found = locate(
                views,
                s,
                &Form {
                    spec: &spec.prepared,
                    sheet: prepared,
                },
                own,
                &taken,
            );
            if let Some(i) = found.1.grid_sheet {
                taken.push(i);
            }
            found
        })
        .collect()
}

/// A sheet of a form with its prepared words.
struct Form<'f> {
    spec: &'f Prepared,
    sheet: &'f PreparedSheet,
}

/// Finds a spec sheet in a workbook sheet not yet taken by another spec sheet. A sheet counts
/// only when some of its rows are found by label: column headers alone (every form has
/// "KH 2019") do not make a budget sheet out of an indicators sheet. Enough is a quarter of
/// the sheet's value rows, or enough of the rows the sending agency must fill (`own`).
fn locate(
    views: &[Option<SheetView<'_>>],
    spec: &SheetSpec,
    form: &Form<'_>,
    own: &[bool],
    taken: &[usize],
) -> (bool, SheetMatch) {
    let none = SheetMatch {
        grid_sheet: None,
        header_row: None,
        columns: vec![None; spec.columns.len()],
        rows: vec![None; spec.rows.len()],
    };
    // Candidate sheets: visible ones, those named as the spec says first.
    let mut candidates: Vec<(bool, usize)> = views
        .iter()
        .enumerate()
        .filter(|(i, v)| v.is_some() && !taken.contains(i))
        .map(|(i, v)| {
            let folded = v
                .as_ref()
                .map(|v| v.folded_name.as_str())
                .unwrap_or_default();
            (form.sheet.names.iter().any(|n| n == folded), i)
        })
        .collect();
    candidates.sort_by_key(|(named, i)| (!named, *i));
    let valued = spec.rows.iter().filter(|r| r.kind.is_some()).count();
    let mine = own.iter().filter(|&&o| o).count();
    let mut best: Option<(usize, bool, SheetMatch)> = None;
    for (named, index) in candidates {
        let Some(view) = &views[index] else { continue };
        let m = locate_in(view, index, spec, form);
        let rows = m.rows.iter().filter(|r| r.is_some()).count();
        let mine_found = own
            .iter()
            .zip(&m.rows)
            .filter(|(o, at)| **o && at.is_some())
            .count();
        // At least a quarter of the rows (two at the least) must be there by label, or enough
        // of the agency's own.
        if rows < 2.max(valued / 4) && !enough_own(mine_found, mine) {
            continue;
        }
        let found = rows + m.columns.iter().filter(|c| c.is_some()).count();
        if best.as_ref().is_none_or(|(f, _, _)| found > *f) {
            best = Some((found, named, m));
        }
    }
    match best {
        Some((_, named, m)) => (named, m),
        None => (false, none),
    }
}

/// A row of the workbook as a label: its word numbers in the form's vocabulary (a set in
/// order) and how many other words it has.
struct RowWords {
    known: Vec<u32>,
    unknown: usize,
}

impl RowWords {
    fn of(words: &[Box<str>], vocabulary: &foldhash::HashMap<Box<str>, u32>) -> RowWords {
        let mut known = Vec::new();
        let mut unknown = 0;
        for (n, w) in words.iter().enumerate() {
            match vocabulary.get(w) {
                Some(id) => known.push(*id),
                // Each other word once: a cell holds a handful.
                None if !words[..n].contains(w) => unknown += 1,
                None => {}
            }
        }
        known.sort_unstable();
        known.dedup();
        RowWords { known, unknown }
    }

    fn len(&self) -> usize {
        self.known.len() + self.unknown
    }
}

/// A header cell's words, "nam" aside, when all of them are the form's (no column name can
/// equal a set with another word).
fn header_words(words: &[Box<str>], form: &Prepared, into: &mut Vec<u32>) -> bool {
    for w in words {
        match form.vocabulary.get(w) {
            Some(id) if Some(*id) == form.year => {}
            Some(id) => into.push(*id),
            None => return false,
        }
    }
    true
}

fn locate_in(view: &SheetView<'_>, index: usize, spec: &SheetSpec, form: &Form<'_>) -> SheetMatch {
    let (last_row, last_col) = (view.last_row, view.last_col);
    let prepared = form.spec;

    // The header row: the row (within the first 40) whose texts name the most columns; a
    // header on two rows ("Năm 2016" above "TH") is read as the two texts together.
    let mut header: Option<(usize, u32, Vec<Option<u32>>)> = None;
    let (mut here_w, mut both_w) = (Vec::new(), Vec::new());
    for r in 0..=last_row.min(HEADER_ROWS) {
        let mut cols = vec![None; spec.columns.len()];
        for c in 0..=last_col {
            let Some(here) = view.head(r, c) else {
                continue;
            };
            if view.text(here).is_none_or(|t| t.trim().is_empty()) {
                continue;
            }
            here_w.clear();
            let here_known = header_words(view.words(here), prepared, &mut here_w);
            both_w.clear();
            let mut both_known = here_known;
            if r > 0
                && let Some(above) = view.head(r - 1, c)
            {
                both_known = both_known && header_words(view.words(above), prepared, &mut both_w);
            }
            both_w.extend_from_slice(&here_w);
            for set in [&mut here_w, &mut both_w] {
                set.sort_unstable();
                set.dedup();
            }
            if !here_known && !both_known {
                continue;
            }
            for (i, names) in form.sheet.columns.iter().enumerate() {
                if cols[i].is_none()
                    && names
                        .iter()
                        .any(|n| (here_known && *n == here_w) || (both_known && *n == both_w))
                {
                    cols[i] = Some(c);
                }
            }
        }
        let n = cols.iter().filter(|c| c.is_some()).count();
        if n > 0 && header.as_ref().is_none_or(|(best, _, _)| n > *best) {
            header = Some((n, r, cols));
        }
    }
    let Some((_, header_row, columns)) = header else {
        return SheetMatch {
            grid_sheet: Some(index),
            header_row: None,
            columns: vec![None; spec.columns.len()],
            rows: vec![None; spec.rows.len()],
        };
    };

    // The label and code columns: by header text, else the column left of the first data
    // column holding the most text.
    let first_data = columns.iter().flatten().min().copied().unwrap_or(0);
    let find = |wanted: &[String]| {
        (0..first_data).find(|&c| {
            let here = view
                .head(header_row, c)
                .and_then(|i| view.text(i))
                .unwrap_or_default();
            wanted.contains(&fold(&here))
        })
    };
    let label_col = find(&form.sheet.label_headers)
        .or_else(|| (0..first_data).max_by_key(|&c| view.texts_below(c, header_row)));
    let code_col =
        find(&form.sheet.code_headers).or_else(|| label_col.and_then(|l| l.checked_sub(1)));

    // Rows: every (spec row, workbook row) pair with similar labels, scored by the label and
    // by the code when the table follows the form's numbering; taken best first, each row
    // once, ties in reading order ("Dịch vụ" is both a growth rate and a share). A row meets
    // only the labels it shares a word with, through the form's index.
    // A row with none of the form's words meets no label: it is left out here.
    let candidates: Vec<(u32, RowWords)> = match label_col {
        Some(label_col) => view
            .texts_from(label_col, header_row + 1)
            .into_iter()
            .filter(|&(_, cell)| view.text(cell).is_some_and(|t| !t.trim().is_empty()))
            .map(|(r, cell)| (r, RowWords::of(view.words(cell), &prepared.vocabulary)))
            .filter(|(_, words)| !words.known.is_empty())
            .collect(),
        None => Vec::new(),
    };
    let names = &form.sheet.rows;
    let offsets: Vec<usize> = names
        .iter()
        .scan(0, |at, n| {
            let here = *at;
            *at += n.len();
            Some(here)
        })
        .collect();
    let mut common = vec![
        0u32;
        offsets
            .last()
            .map_or(0, |o| o + names.last().map_or(0, Vec::len))
    ];
    let mut touched: Vec<(u32, u32)> = Vec::new();
    // (label score, spec row, candidate)
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for (j, (_, words)) in candidates.iter().enumerate() {
        touched.clear();
        for w in &words.known {
            for &(i, k) in form
                .sheet
                .index
                .get(*w as usize)
                .map_or(&[][..], Vec::as_slice)
            {
                let at = offsets[i as usize] + k as usize;
                if common[at] == 0 {
                    touched.push((i, k));
                }
                common[at] += 1;
            }
        }
        // Per spec row, its best name; rows are taken in order, as the pairs always were.
        touched.sort_unstable();
        let mut t = 0;
        while t < touched.len() {
            let i = touched[t].0;
            let mut label_score: f64 = 0.0;
            while t < touched.len() && touched[t].0 == i {
                let k = touched[t].1;
                let at = offsets[i as usize] + k as usize;
                let score = similarity(
                    common[at] as usize,
                    names[i as usize][k as usize].len(),
                    words.len(),
                );
                label_score = label_score.max(score);
                common[at] = 0;
                t += 1;
            }
            if label_score >= 0.6 {
                pairs.push((label_score, i as usize, j));
            }
        }
    }
    // The code beside each row that met a label, normalised.
    let mut code_of = vec![String::new(); candidates.len()];
    for &(_, _, j) in &pairs {
        if code_of[j].is_empty() {
            code_of[j] = code_col
                .and_then(|c| view.at(candidates[j].0, c))
                .and_then(|i| view.text(i))
                .map(|t| normalise_code(&t))
                .unwrap_or_default();
        }
    }
    let codes = &form.sheet.codes;
    let codes_count = follows_form_codes(&pairs, codes, &code_of);
    let code_bonus = |i: usize, j: usize| {
        let code = &code_of[j];
        if codes_count && !code.is_empty() && *code == codes[i] {
            0.3
        } else {
            0.0
        }
    };
    // Best pairs first, each spec row and each workbook row once.
    let assign = |bonus: &dyn Fn(usize, usize) -> f64| {
        let mut scored: Vec<(f64, usize, usize)> = pairs
            .iter()
            .map(|&(label, i, j)| (label + code_bonus(i, j) + bonus(i, j), i, j))
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        let mut used = vec![false; candidates.len()];
        let mut taken: Vec<Option<usize>> = vec![None; spec.rows.len()];
        for (_, i, j) in scored {
            if taken[i].is_none() && !used[j] {
                used[j] = true;
                taken[i] = Some(j);
            }
        }
        taken
    };
    // Sections: a second pass prefers, among equally good labels, the workbook row under the
    // spec row's own parent — "1.3 Dịch vụ" under "1 Tốc độ tăng trưởng GRDP", "2.3" under
    // "2 Cơ cấu kinh tế", "22" under "II CHỈ TIÊU XÃ HỘI" — as the first pass found the
    // parents, even when the agency put the sections in another order and numbered its rows
    // its own way.
    let parent = &form.sheet.parents;
    let first = assign(&|_, _| 0.0);
    let parents: Vec<(u32, usize)> = first
        .iter()
        .enumerate()
        .filter(|(i, _)| parent.contains(&Some(*i)))
        .filter_map(|(i, j)| j.map(|j| (candidates[j].0, i)))
        .collect();
    let section_of = |j: usize| {
        parents
            .iter()
            .filter(|(r, _)| *r < candidates[j].0)
            .max_by_key(|(r, _)| *r)
            .map(|(_, i)| *i)
    };
    let second = assign(&|i, j| {
        if parent[i].is_some() && parent[i] == section_of(j) {
            0.2
        } else {
            0.0
        }
    });
    let rows: Vec<Option<u32>> = second.iter().map(|j| j.map(|j| candidates[j].0)).collect();
    SheetMatch {
        grid_sheet: Some(index),
        header_row: Some(header_row),
        columns,
        rows,
    }
}

/// Whether the codes in the table are the form's: of the workbook rows whose label is exactly
/// a form row's (or an alias), at least half carry that row's code. An agency that numbered
/// its own seven rows 1..7 fails this, and its codes are then ignored. True when no row tells.
fn follows_form_codes(pairs: &[(f64, usize, usize)], codes: &[String], code_of: &[String]) -> bool {
    let (mut told, mut agree) = (0usize, 0usize);
    for (j, code) in code_of.iter().enumerate() {
        if code.is_empty() {
            continue;
        }
        let exact: Vec<usize> = pairs
            .iter()
            .filter(|p| p.2 == j && p.0 >= 1.0)
            .map(|p| p.1)
            .collect();
        if exact.is_empty() {
            continue;
        }
        told += 1;
        if exact.iter().any(|&i| codes[i] == *code) {
            agree += 1;
        }
    }
    told == 0 || 2 * agree >= told
}

/// Rows searched for the header, from the top.
const HEADER_ROWS: u32 = 40;

/// Columns searched for the header.
const HEADER_COLUMNS: u32 = 200;

/// True when a header cell (with the one above it) names a column: the same words, in any
/// order, "năm" (year) aside — so "TH 2016", "Năm 2016 / TH" and "TH năm 2016" all match.
#[cfg(test)]
fn header_matches(label: &str, aliases: &[String], here: &str, above: &str) -> bool {
    let words = |s: &str| -> std::collections::BTreeSet<String> {
        tokens(s).into_iter().filter(|w| w != "nam").collect()
    };
    let here_w = words(here);
    if here_w.is_empty() {
        return false;
    }
    let both_w = words(&format!("{above} {here}"));
    std::iter::once(label)
        .chain(aliases.iter().map(String::as_str))
        .any(|name| {
            let n = words(name);
            !n.is_empty() && (n == here_w || n == both_w)
        })
}

/// Word-set similarity of two labels with `common` words, of `a` and `b` words: 1 when
/// equal, high when one contains the other.
fn similarity(common: usize, a: usize, b: usize) -> f64 {
    if a == 0 || b == 0 {
        return 0.0;
    }
    let common = common as f64;
    let jaccard = common / (a + b) as f64 * 2.0;
    // "Tỷ lệ hộ nghèo (%)" vs "Tỷ lệ hộ nghèo": containment of the shorter in the longer.
    let contained = common / a.min(b) as f64;
    if contained == 1.0 {
        jaccard.max(0.85)
    } else {
        jaccard
    }
}

/// A visible workbook sheet as recognition reads it, made once per workbook for all forms:
/// the cells of its first rows by position (merged regions followed), its cells by column,
/// and each cell's folded words, made the first time they are asked for.
struct SheetView<'g> {
    sheet: &'g Sheet,
    folded_name: String,
    last_row: u32,
    /// The last column, at most [`HEADER_COLUMNS`].
    last_col: u32,
    /// Rows `0..=min(last_row, HEADER_ROWS)` × columns `0..=last_col`: the cell shown there.
    head: Vec<Option<u32>>,
    /// Per column up to `last_col`: its cells in row order.
    columns: Vec<Vec<u32>>,
    words: Vec<std::cell::OnceCell<Box<[Box<str>]>>>,
}

impl<'g> SheetView<'g> {
    fn new(sheet: &'g Sheet) -> SheetView<'g> {
        let last_row = sheet.cells.iter().map(|c| c.row).max().unwrap_or(0);
        let last_col = sheet
            .cells
            .iter()
            .map(|c| c.col)
            .max()
            .unwrap_or(0)
            .min(HEADER_COLUMNS);
        let width = last_col as usize + 1;
        let head_rows = last_row.min(HEADER_ROWS) as usize + 1;
        let mut head = vec![None; head_rows * width];
        let mut columns = vec![Vec::new(); width];
        for (i, c) in sheet.cells.iter().enumerate() {
            if c.col <= last_col {
                columns[c.col as usize].push(i as u32);
                if (c.row as usize) < head_rows {
                    head[c.row as usize * width + c.col as usize] = Some(i as u32);
                }
            }
        }
        // A merged region shows its first cell everywhere in it; the first region listed
        // wins where two overlap, as `Sheet::cell` finds them.
        let mut covered = vec![false; head_rows * width];
        for &(r0, c0, r1, c1) in &sheet.merged {
            let first = sheet
                .cells
                .binary_search_by(|c| (c.row, c.col).cmp(&(r0, c0)))
                .ok()
                .map(|i| i as u32);
            for r in r0..=r1.min(head_rows as u32 - 1) {
                for c in c0..=c1.min(last_col) {
                    let at = r as usize * width + c as usize;
                    if !covered[at] {
                        covered[at] = true;
                        head[at] = first;
                    }
                }
            }
        }
        SheetView {
            sheet,
            folded_name: fold(&sheet.name),
            last_row,
            last_col,
            head,
            columns,
            words: (0..sheet.cells.len())
                .map(|_| std::cell::OnceCell::new())
                .collect(),
        }
    }

    /// The cell shown at (row, col) of the header area.
    fn head(&self, row: u32, col: u32) -> Option<usize> {
        let width = self.last_col as usize + 1;
        if col > self.last_col {
            return self.at(row, col);
        }
        self.head
            .get(row as usize * width + col as usize)
            .copied()
            .flatten()
            .map(|i| i as usize)
    }

    /// The cell shown at (row, col), merged regions followed.
    fn at(&self, row: u32, col: u32) -> Option<usize> {
        let (row, col) = self
            .sheet
            .merged
            .iter()
            .find(|&&(r0, c0, r1, c1)| (r0..=r1).contains(&row) && (c0..=c1).contains(&col))
            .map_or((row, col), |&(r0, c0, _, _)| (r0, c0));
        self.sheet
            .cells
            .binary_search_by(|c| (c.row, c.col).cmp(&(row, col)))
            .ok()
    }

    /// Whether a merged region reaches column `col` below row `row`: then cells there are
    /// looked up one by one.
    fn merged_below(&self, col: u32, row: u32) -> bool {
        self.sheet
            .merged
            .iter()
            .any(|&(_, c0, r1, c1)| c0 <= col && col <= c1 && r1 > row)
    }

    /// The cells of column `col` from row `from` to the last, as (row, cell), with a text or
    /// a number shown.
    fn texts_from(&self, col: u32, from: u32) -> Vec<(u32, usize)> {
        if from > self.last_row {
            return Vec::new();
        }
        if self.merged_below(col, from.saturating_sub(1)) || col > self.last_col {
            return (from..=self.last_row)
                .filter_map(|r| self.at(r, col).map(|i| (r, i)))
                .filter(|&(_, i)| self.text(i).is_some())
                .collect();
        }
        self.columns[col as usize]
            .iter()
            .map(|&i| i as usize)
            .filter(|&i| self.sheet.cells[i].row >= from && self.text(i).is_some())
            .map(|i| (self.sheet.cells[i].row, i))
            .collect()
    }

    /// How many rows below `row` show a text or a number in column `col`.
    fn texts_below(&self, col: u32, row: u32) -> usize {
        self.texts_from(col, row + 1).len()
    }

    /// A cell's text, numbers as written ([`text`]).
    fn text(&self, cell: usize) -> Option<std::borrow::Cow<'g, str>> {
        match &self.sheet.cells[cell].value {
            CellValue::Text(t) => Some(std::borrow::Cow::Borrowed(t.as_str())),
            other => text(other).map(std::borrow::Cow::Owned),
        }
    }

    /// A cell's folded words, made once.
    fn words(&self, cell: usize) -> &[Box<str>] {
        self.words[cell].get_or_init(|| {
            self.text(cell)
                .map(|t| tokens(&t).into_iter().map(String::into_boxed_str).collect())
                .unwrap_or_default()
        })
    }
}

/// The text of a cell (numbers as written by the spreadsheet); legacy fonts are converted per
/// sheet before recognition (see [`super::check::unlegacy`]).
pub fn text(v: &CellValue) -> Option<String> {
    match v {
        CellValue::Text(t) => Some(t.clone()),
        CellValue::Number(n) => Some(if n.fract() == 0.0 && n.abs() < 1e15 {
            format!("{}", *n as i64)
        } else {
            n.to_string()
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AgencyKind;
    use crate::core::forms::spec;
    use crate::workbook::{Inspector, Limits, WorkbookFormat};

    const LABOUR: From<'static> = From {
        code: "so-ld-tbxh",
        kind: AgencyKind::Department,
    };

    fn pl1() -> FormSpec {
        spec::parse(
            "742-2018-pl1.toml",
            include_str!("../../../../config/forms/742-2018-pl1.toml"),
        )
        .expect("the shipped form parses")
    }

    /// An agency's own table, read back as intake reads an xlsx: an agency line, Phụ lục I's
    /// heading when `title`, the header row (with the form's columns when `columns`) on row
    /// 9, then `rows` (code, label) from row 10, each with a number in every column.
    fn table(title: bool, columns: bool, rows: &[(&str, &str)]) -> Grid {
        let spec = pl1();
        let mut book = rust_xlsxwriter::Workbook::new();
        let ws = book.add_worksheet();
        ws.write_string(0, 0, "SỞ LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI")
            .unwrap();
        if title {
            for (r, line) in (2u32..).zip(&spec.heading) {
                ws.write_string(r, 0, line).unwrap();
            }
        }
        let mut headers = vec!["STT", "Chỉ tiêu", "Đơn vị tính"];
        if columns {
            headers.extend(spec.sheets[0].columns.iter().map(|c| c.label.as_str()));
        } else {
            headers.extend(["Quý I", "Quý II", "Quý III", "Quý IV", "Cả năm"]);
        }
        for (c, h) in (0u16..).zip(&headers) {
            ws.write_string(8, c, *h).unwrap();
        }
        for (r, (code, label)) in (9u32..).zip(rows) {
            ws.write_string(r, 0, *code).unwrap();
            ws.write_string(r, 1, *label).unwrap();
            for c in 3u16..8 {
                ws.write_number(r, c, 10.0).unwrap();
            }
        }
        let bytes = book.save_to_buffer().unwrap();
        Inspector::new(Limits::default(), None)
            .read(&bytes, WorkbookFormat::Xlsx)
            .expect("the table reads")
    }

    /// Sở LĐ-TB&XH's 7 rows of Phụ lục I (form codes 20..24.3), in another order.
    const OWN: [(&str, &str); 7] = [
        ("1", "Lao động nông, lâm nghiệp và thủy sản"),
        ("2", "Lao động công nghiệp - xây dựng"),
        ("3", "Lao động dịch vụ"),
        ("4", "Tỷ lệ hộ nghèo"),
        ("5", "Mức giảm tỷ lệ hộ nghèo"),
        ("6", "Số lao động được tạo việc làm mới"),
        ("7", "Tỷ lệ lao động qua đào tạo"),
    ];

    /// The workbook row (0-based) each of these form rows was mapped to.
    fn mapped<'a>(rec: &Recognition<'_>, ids: &[&'a str]) -> Vec<(&'a str, Option<u32>)> {
        let sheet = &rec.spec.sheets[0];
        ids.iter()
            .map(|id| {
                let i = sheet.rows.iter().position(|r| r.id == *id).unwrap();
                (*id, rec.sheets[0].rows[i])
            })
            .collect()
    }

    #[test]
    fn a_department_table_of_its_own_rows_under_the_title_is_the_form() {
        let spec = pl1();
        let grid = table(true, true, &OWN);
        let Recognised::Form(rec) = recognise(&grid, &[&spec], Some(LABOUR)) else {
            panic!("not recognised");
        };
        assert_eq!(rec.by, RecognisedBy::Content);
        assert!(rec.confidence >= 0.9, "{}", rec.confidence);
        // Renumbered 1..7: the labels decide, each row lands on its own line.
        assert_eq!(
            mapped(
                &rec,
                &[
                    "co-cau-ld-nlts",
                    "co-cau-ld-cnxd",
                    "co-cau-ld-dv",
                    "ho-ngheo",
                    "giam-ho-ngheo",
                    "viec-lam",
                    "ld-dao-tao",
                    // Rows of others with a similar label are not given the agency's lines.
                    "grdp-tang-nlts",
                    "co-cau-nlts",
                    "grdp-tang-dv",
                ]
            ),
            [
                ("co-cau-ld-nlts", Some(9)),
                ("co-cau-ld-cnxd", Some(10)),
                ("co-cau-ld-dv", Some(11)),
                ("ho-ngheo", Some(12)),
                ("giam-ho-ngheo", Some(13)),
                ("viec-lam", Some(14)),
                ("ld-dao-tao", Some(15)),
                ("grdp-tang-nlts", None),
                ("co-cau-nlts", None),
                ("grdp-tang-dv", None),
            ]
        );
        // Without knowing the sender, 7 of 39 rows are not the form.
        assert!(matches!(
            recognise(&grid, &[&spec], None),
            Recognised::Unknown
        ));
        // Nor for an agency none of whose rows these are (Sở Y tế: doctors, beds, …).
        let health = From {
            code: "so-y-te",
            kind: AgencyKind::Department,
        };
        assert!(matches!(
            recognise(&grid, &[&spec], Some(health)),
            Recognised::Unknown
        ));
    }

    #[test]
    fn the_title_half_the_own_rows_and_the_columns_are_all_needed() {
        let spec = pl1();
        let is_form =
            |g: &Grid| matches!(recognise(g, &[&spec], Some(LABOUR)), Recognised::Form(_));
        assert!(is_form(&table(true, true, &OWN[..4])), "4 of 7 rows");
        assert!(!is_form(&table(true, true, &OWN[..3])), "3 of 7 rows");
        assert!(!is_form(&table(true, true, &OWN[3..4])), "1 of 7 rows");
        assert!(!is_form(&table(false, true, &OWN)), "no title");
        assert!(!is_form(&table(true, false, &OWN)), "no form column");
    }

    #[test]
    fn sections_tell_rows_of_the_same_label_apart() {
        let spec = pl1();
        let statistics = From {
            code: "cuc-thong-ke",
            kind: AgencyKind::Department,
        };
        // Cục Thống kê's table: the economic structure first, then growth, the same bare
        // labels in both, numbered its own way.
        let rows = [
            ("A", "Cơ cấu kinh tế"),
            ("1", "Nông, lâm nghiệp và thủy sản"),
            ("2", "Công nghiệp - xây dựng"),
            ("3", "Dịch vụ"),
            ("4", "Thuế sản phẩm trừ trợ cấp sản phẩm"),
            ("B", "Tốc độ tăng trưởng GRDP"),
            ("1", "Nông, lâm nghiệp và thủy sản"),
            ("2", "Công nghiệp - xây dựng"),
            ("3", "Dịch vụ"),
            ("4", "Thuế sản phẩm trừ trợ cấp sản phẩm"),
        ];
        let Recognised::Form(rec) =
            recognise(&table(true, true, &rows), &[&spec], Some(statistics))
        else {
            panic!("not recognised");
        };
        assert_eq!(
            mapped(
                &rec,
                &[
                    "co-cau",
                    "co-cau-nlts",
                    "co-cau-cnxd",
                    "co-cau-dv",
                    "co-cau-thue",
                    "grdp-tang",
                    "grdp-tang-nlts",
                    "grdp-tang-cnxd",
                    "grdp-tang-dv",
                    "grdp-tang-thue",
                ]
            ),
            [
                ("co-cau", Some(9)),
                ("co-cau-nlts", Some(10)),
                ("co-cau-cnxd", Some(11)),
                ("co-cau-dv", Some(12)),
                ("co-cau-thue", Some(13)),
                ("grdp-tang", Some(14)),
                ("grdp-tang-nlts", Some(15)),
                ("grdp-tang-cnxd", Some(16)),
                ("grdp-tang-dv", Some(17)),
                ("grdp-tang-thue", Some(18)),
            ]
        );
    }

    #[test]
    fn codes_count_only_when_the_table_follows_the_forms_numbering() {
        let spec = pl1();
        // Renumbered so that the poverty rate carries 23, the code of "Mức giảm tỷ lệ hộ
        // nghèo", and that row 22: the rows whose label is exact mostly disagree with the
        // form's codes, so codes are ignored and each label finds its own row.
        let rows = [
            ("17", "Tỷ lệ lao động qua đào tạo"),
            ("18", "Số lao động được tạo việc làm mới"),
            ("19", "Lao động nông, lâm nghiệp và thủy sản"),
            ("20", "Lao động công nghiệp - xây dựng"),
            ("21", "Lao động dịch vụ"),
            ("22", "Mức giảm tỷ lệ hộ nghèo"),
            ("23", "Tỷ lệ hộ nghèo"),
        ];
        let Recognised::Form(rec) = recognise(&table(true, true, &rows), &[&spec], Some(LABOUR))
        else {
            panic!("not recognised");
        };
        assert_eq!(
            mapped(&rec, &["giam-ho-ngheo", "ho-ngheo"]),
            [("giam-ho-ngheo", Some(14)), ("ho-ngheo", Some(15))]
        );
        // The form's own codes do count: "Dịch vụ" twice, the share (2.3) written first.
        let statistics = From {
            code: "cuc-thong-ke",
            kind: AgencyKind::Department,
        };
        let rows = [
            ("2.3", "Dịch vụ"),
            ("2.1", "Nông, lâm nghiệp và thủy sản"),
            ("2.2", "Công nghiệp - xây dựng"),
            ("1.3", "Dịch vụ"),
            ("1.1", "Nông, lâm nghiệp và thủy sản"),
            ("1.2", "Công nghiệp - xây dựng"),
            // More of its 14 rows, so that the table holds half of them.
            ("1", "Tốc độ tăng trưởng GRDP"),
            ("3", "GRDP bình quân đầu người"),
            ("4", "GRDP bình quân đầu người (USD)"),
        ];
        let Recognised::Form(rec) =
            recognise(&table(true, true, &rows), &[&spec], Some(statistics))
        else {
            panic!("not recognised");
        };
        assert_eq!(
            mapped(
                &rec,
                &["co-cau-dv", "co-cau-nlts", "grdp-tang-dv", "grdp-tang-nlts"]
            ),
            [
                ("co-cau-dv", Some(9)),
                ("co-cau-nlts", Some(10)),
                ("grdp-tang-dv", Some(12)),
                ("grdp-tang-nlts", Some(13)),
            ]
        );
    }

    #[test]
    fn labels_are_compared_by_words() {
        let sim = |a: &str, b: &str| {
            let (a, b): (
                std::collections::BTreeSet<String>,
                std::collections::BTreeSet<String>,
            ) = (
                tokens(a).into_iter().collect(),
                tokens(b).into_iter().collect(),
            );
            similarity(a.intersection(&b).count(), a.len(), b.len())
        };
        assert_eq!(sim("Tỷ lệ hộ nghèo", "TỶ LỆ HỘ NGHÈO"), 1.0);
        assert!(sim("Tỷ lệ hộ nghèo", "Tỷ lệ hộ nghèo (%)") >= 0.85);
        assert!(sim("Tỷ lệ hộ nghèo", "Tỷ lệ che phủ rừng") < 0.6);
        assert_eq!(normalise_code("1.1."), "1.1");
        assert_eq!(normalise_code("II."), "ii");
    }

    /// A form as an agency retypes it, its labels changed one way per `variant`: words
    /// dropped, added, reordered or cut in half, aliases in capitals, its own numbering, a
    /// two-row header, merged title and header cells, the sheets in one.
    fn retyped(spec: &FormSpec, variant: usize) -> Grid {
        let mut book = rust_xlsxwriter::Workbook::new();
        let ws = book.add_worksheet();
        ws.merge_range(
            0,
            0,
            0,
            6,
            "UBND HUYỆN CAO LỘC",
            &rust_xlsxwriter::Format::new(),
        )
        .unwrap();
        if variant % 3 != 2 {
            ws.write_string(2, 0, spec.heading.get(1).map_or("", String::as_str))
                .unwrap();
        }
        let mut r = 5u32;
        for (s, sheet) in spec.sheets.iter().enumerate() {
            ws.write_string(r, 0, "STT").unwrap();
            ws.write_string(
                r,
                1,
                if variant.is_multiple_of(2) {
                    "Chỉ tiêu"
                } else {
                    "Nội dung"
                },
            )
            .unwrap();
            for (j, c) in sheet.columns.iter().enumerate() {
                let name = match variant % 4 {
                    0 => c.label.clone(),
                    1 => c.aliases.first().unwrap_or(&c.label).to_uppercase(),
                    2 => {
                        // Two rows: the year above, the rest below.
                        let words: Vec<&str> = c.label.split(' ').collect();
                        ws.write_string(r, 3 + j as u16, format!("Năm {}", words.last().unwrap()))
                            .unwrap();
                        words[..words.len() - 1].join(" ")
                    }
                    _ => format!("{} (tỷ đồng)", c.label),
                };
                let at = if variant % 4 == 2 { r + 1 } else { r };
                ws.write_string(at, 3 + j as u16, name).unwrap();
            }
            if variant % 4 == 2 {
                r += 1;
            }
            if variant == 5 {
                ws.merge_range(r, 1, r + 1, 1, "Chỉ tiêu", &rust_xlsxwriter::Format::new())
                    .unwrap();
                r += 1;
            }
            r += 1;
            for (i, row) in sheet.rows.iter().enumerate() {
                let words: Vec<&str> = row.label.split(' ').collect();
                let label = match (variant + i + s) % 6 {
                    0 => row.label.clone(),
                    1 => words[..words.len().saturating_sub(1).max(1)].join(" "),
                    2 => format!("{} năm 2018 (ước)", row.label),
                    3 => words[..words.len().div_ceil(2)].join(" "),
                    4 => row.aliases.first().unwrap_or(&row.label).to_uppercase(),
                    _ => words.iter().rev().copied().collect::<Vec<_>>().join(" "),
                };
                let code = if variant % 3 == 1 {
                    (i + 1).to_string()
                } else {
                    row.code.clone()
                };
                ws.write_string(r, 0, code).unwrap();
                ws.write_string(r, 1, label).unwrap();
                if row.kind.is_some() {
                    for j in 0..sheet.columns.len() {
                        ws.write_number(r, 3 + j as u16, (i * 7 + j) as f64)
                            .unwrap();
                    }
                }
                r += 1;
            }
            r += 2;
        }
        let bytes = book.save_to_buffer().unwrap();
        Inspector::new(Limits::default(), None)
            .read(&bytes, WorkbookFormat::Xlsx)
            .unwrap()
    }

    /// What a recognition found, to compare two of them.
    fn found(r: &Recognised<'_>) -> (String, Option<RecognisedBy>, u64, Vec<SheetMatch>) {
        match r {
            Recognised::Form(rec) => (
                rec.spec.id.clone(),
                Some(rec.by),
                rec.confidence.to_bits(),
                rec.sheets.clone(),
            ),
            Recognised::Ambiguous(c) => (format!("ambiguous {c:?}"), None, 0, Vec::new()),
            Recognised::Unknown => ("unknown".into(), None, 0, Vec::new()),
        }
    }

    /// The prepared index answers exactly as comparing every label with every row did, on the
    /// forms corpus (agencies' layouts in xlsx, xls and ods, legacy fonts, not-forms), the
    /// blank forms and tables of an agency's own rows, for every sender kind.
    #[test]
    fn the_index_answers_as_every_pair_compared() {
        let forms: Vec<FormSpec> = ["742-2018-pl1", "742-2018-pl2", "742-2018-pl3"]
            .iter()
            .map(|id| {
                let name = format!("{id}.toml");
                let path = concat!(env!("CARGO_MANIFEST_DIR"), "/config/forms/");
                spec::parse(
                    &name,
                    &std::fs::read_to_string(format!("{path}{name}")).unwrap(),
                )
                .unwrap()
            })
            .collect();
        let specs: Vec<&FormSpec> = forms.iter().collect();
        let inspector = Inspector::new(Limits::default(), None);
        let mut grids = Vec::new();
        let corpus = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/forms-corpus");
        let mut files: Vec<_> = std::fs::read_dir(corpus)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for path in files {
            let format = match path.extension().and_then(|e| e.to_str()) {
                Some("xlsx") => WorkbookFormat::Xlsx,
                Some("xls") => WorkbookFormat::Xls,
                Some("ods") => WorkbookFormat::Ods,
                _ => continue,
            };
            if let Ok(mut grid) = inspector.read(&std::fs::read(&path).unwrap(), format) {
                crate::core::forms::check::unlegacy(&mut grid);
                grids.push((path.display().to_string(), grid));
            }
        }
        for spec in &forms {
            let bytes = crate::core::forms::blank::blank_form(spec, None).unwrap();
            let mut grid = inspector.read(&bytes, WorkbookFormat::Xlsx).unwrap();
            grid.marker = None;
            grids.push((format!("blank {}", spec.id), grid));
        }
        for (title, columns) in [(true, true), (true, false), (false, true)] {
            grids.push((
                format!("own rows {title} {columns}"),
                table(title, columns, &OWN),
            ));
        }
        for spec in &forms {
            for variant in 0..8 {
                grids.push((
                    format!("{} retyped {variant}", spec.id),
                    retyped(spec, variant),
                ));
            }
        }
        assert!(grids.len() >= 40, "the corpus is read: {}", grids.len());
        let district = From {
            code: "ubnd-cao-loc",
            kind: AgencyKind::District,
        };
        let mut recognised = 0;
        for (name, grid) in &grids {
            for agency in [None, Some(LABOUR), Some(district)] {
                let new = found(&recognise(grid, &specs, agency));
                let old = found(&reference::recognise(grid, &specs, agency));
                assert_eq!(new, old, "{name} from {agency:?}");
                recognised += usize::from(new.1.is_some());
            }
        }
        assert!(
            recognised > 40,
            "most of the corpus is a form: {recognised}"
        );
    }

    #[test]
    fn two_row_headers_are_read_together() {
        assert!(header_matches("TH 2016", &[], "TH", "Năm 2016"));
        assert!(header_matches("TH 2016", &[], "TH năm 2016", ""));
        assert!(header_matches(
            "ƯTH 2018",
            &["Ước thực hiện 2018".into()],
            "Ước thực hiện 2018",
            ""
        ));
        assert!(!header_matches("KH 2018", &[], "KH 2019", ""));
    }
}
