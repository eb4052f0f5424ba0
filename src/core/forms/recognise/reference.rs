//! The recognition as it was before the form's words were prepared at load: every label
//! compared with every row of every sheet. Kept for the tests only, as the answer the prepared
//! index must give on every workbook.

use std::collections::HashMap;

use crate::core::forms::spec::{FormSpec, SheetSpec};
use crate::core::forms::validate::From;
use crate::core::text::{Phrase, fold, tokens};
use crate::workbook::Grid;

use super::{Recognised, RecognisedBy, Recognition, SheetMatch, text};

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
    if let Some(marker) = &grid.marker
        && let Some(spec) = forms.iter().find(|f| f.id == marker.form)
    {
        let own = own_rows(spec, agency);
        let sheets = locate_all(grid, spec, &own)
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
    let mut scored: Vec<(f64, Recognition<'s>)> = forms
        .iter()
        .map(|spec| {
            let (confidence, sheets) = content_score(grid, spec, agency);
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
fn content_score(grid: &Grid, spec: &FormSpec, agency: Option<From<'_>>) -> (f64, Vec<SheetMatch>) {
    let headings: Vec<Vec<String>> = grid
        .sheets
        .iter()
        .filter(|s| s.visible)
        .flat_map(|s| s.cells.iter().filter(|c| c.row < 8))
        .filter_map(|c| text(&c.value))
        .map(|t| tokens(&t))
        .collect();
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
        .zip(locate_all(grid, spec, &own))
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
fn locate_all(grid: &Grid, spec: &FormSpec, own: &[Vec<bool>]) -> Vec<(bool, SheetMatch)> {
    let mut taken = Vec::new();
    spec.sheets
        .iter()
        .zip(own)
        .map(|(s, own)| {
            let found = locate(grid, s, own, &taken);
            if let Some(i) = found.1.grid_sheet {
                taken.push(i);
            }
            found
        })
        .collect()
}

/// Finds a spec sheet in a workbook sheet not yet taken by another spec sheet. A sheet counts
/// only when some of its rows are found by label: column headers alone (every form has
/// "KH 2019") do not make a budget sheet out of an indicators sheet. Enough is a quarter of
/// the sheet's value rows, or enough of the rows the sending agency must fill (`own`).
fn locate(grid: &Grid, spec: &SheetSpec, own: &[bool], taken: &[usize]) -> (bool, SheetMatch) {
    let none = SheetMatch {
        grid_sheet: None,
        header_row: None,
        columns: vec![None; spec.columns.len()],
        rows: vec![None; spec.rows.len()],
    };
    let names: Vec<String> = std::iter::once(&spec.name)
        .chain(spec.aliases.iter())
        .map(|n| fold(n))
        .collect();
    // Candidate sheets: visible ones, those named as the spec says first.
    let mut candidates: Vec<(bool, usize)> = grid
        .sheets
        .iter()
        .enumerate()
        .filter(|(i, s)| s.visible && !taken.contains(i))
        .map(|(i, s)| (names.contains(&fold(&s.name)), i))
        .collect();
    candidates.sort_by_key(|(named, i)| (!named, *i));
    let mut best: Option<(usize, bool, SheetMatch)> = None;
    for (named, index) in candidates {
        let m = locate_in(grid, index, spec);
        let rows = m.rows.iter().filter(|r| r.is_some()).count();
        let valued = spec.rows.iter().filter(|r| r.kind.is_some()).count();
        let mine = own.iter().filter(|&&o| o).count();
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

fn locate_in(grid: &Grid, index: usize, spec: &SheetSpec) -> SheetMatch {
    let sheet = &grid.sheets[index];
    let last_row = sheet.cells.iter().map(|c| c.row).max().unwrap_or(0);
    let last_col = sheet
        .cells
        .iter()
        .map(|c| c.col)
        .max()
        .unwrap_or(0)
        .min(200);
    let cell_text = |r: u32, c: u32| grid.value(index, r, c).and_then(text).unwrap_or_default();

    // The header row: the row (within the first 40) whose texts name the most columns; a
    // header on two rows ("Năm 2016" above "TH") is read as the two texts together.
    let mut header: Option<(usize, u32, Vec<Option<u32>>)> = None;
    // Each column's names as word sets, computed once.
    let names: Vec<Vec<Words>> = spec
        .columns
        .iter()
        .map(|c| {
            std::iter::once(&c.label)
                .chain(c.aliases.iter())
                .map(|n| words(n))
                .filter(|w| !w.is_empty())
                .collect()
        })
        .collect();
    for r in 0..=last_row.min(40) {
        let mut cols = vec![None; spec.columns.len()];
        for c in 0..=last_col {
            let here = cell_text(r, c);
            if here.trim().is_empty() {
                continue;
            }
            let above = if r > 0 {
                cell_text(r - 1, c)
            } else {
                String::new()
            };
            let (here_w, both_w) = (words(&here), words(&format!("{above} {here}")));
            for (i, col_names) in names.iter().enumerate() {
                if cols[i].is_none() && col_names.iter().any(|n| *n == here_w || *n == both_w) {
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
    let find = |wanted: &[&str]| {
        (0..first_data).find(|&c| {
            wanted
                .iter()
                .any(|w| fold(&cell_text(header_row, c)) == fold(w))
        })
    };
    let label_col = find(&[
        &spec.label_header,
        "Chỉ tiêu",
        "Nội dung",
        "Tên chỉ tiêu",
        "Chỉ tiêu chủ yếu",
    ])
    .or_else(|| {
        (0..first_data).max_by_key(|&c| {
            (header_row + 1..=last_row)
                .filter(|&r| !cell_text(r, c).is_empty())
                .count()
        })
    });
    let code_col = find(&[&spec.code_header, "STT", "TT", "Số TT", "Mã số", "Mã"])
        .or_else(|| label_col.and_then(|l| l.checked_sub(1)));

    // Rows: every (spec row, workbook row) pair with similar labels, scored by the label and
    // by the code when the table follows the form's numbering; taken best first, each row
    // once, ties in reading order ("Dịch vụ" is both a growth rate and a share).
    let mut words = WordIds::default();
    let candidates: Vec<(u32, Vec<u32>, String)> = (header_row + 1..=last_row)
        .filter_map(|r| {
            let label = label_col.map(|c| cell_text(r, c)).unwrap_or_default();
            let code = code_col.map(|c| cell_text(r, c)).unwrap_or_default();
            (!label.trim().is_empty()).then(|| (r, words.set(&label), normalise_code(&code)))
        })
        .collect();
    let names: Vec<Vec<Vec<u32>>> = spec
        .rows
        .iter()
        .map(|row| {
            std::iter::once(&row.label)
                .chain(row.aliases.iter())
                .map(|l| words.set(l))
                .collect()
        })
        .collect();
    let codes: Vec<String> = spec.rows.iter().map(|r| normalise_code(&r.code)).collect();
    // (label score, spec row, candidate)
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for (i, names) in names.iter().enumerate() {
        for (j, (_, words, _)) in candidates.iter().enumerate() {
            let label_score = names
                .iter()
                .map(|n| similarity(n, words))
                .fold(0.0, f64::max);
            if label_score >= 0.6 {
                pairs.push((label_score, i, j));
            }
        }
    }
    let codes_count = follows_form_codes(&pairs, &codes, &candidates);
    let code_bonus = |i: usize, j: usize| {
        let code = &candidates[j].2;
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
    let parent: Vec<Option<usize>> = (0..spec.rows.len())
        .map(|i| match codes[i].rsplit_once('.') {
            Some((up, _)) => codes.iter().position(|c| c == up),
            None => (0..i).rev().find(|&k| {
                spec.rows[k].kind.is_none()
                    && !codes[k].is_empty()
                    && !codes[k].chars().any(|c| c.is_ascii_digit())
            }),
        })
        .collect();
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
fn follows_form_codes(
    pairs: &[(f64, usize, usize)],
    codes: &[String],
    candidates: &[(u32, Vec<u32>, String)],
) -> bool {
    let (mut told, mut agree) = (0usize, 0usize);
    for (j, (_, _, code)) in candidates.iter().enumerate() {
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

/// A header's words, "năm" (year) aside, in any order.
type Words = std::collections::BTreeSet<String>;

fn words(s: &str) -> Words {
    tokens(s).into_iter().filter(|w| w != "nam").collect()
}

/// Word-set similarity of two labels: 1 when equal, high when one contains the other.
fn similarity(a: &[u32], b: &[u32]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    // Both are sets in order (`word_set`): their common words by one merge.
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let common = common as f64;
    let jaccard = common / (a.len() + b.len()) as f64 * 2.0;
    // "Tỷ lệ hộ nghèo (%)" vs "Tỷ lệ hộ nghèo": containment of the shorter in the longer.
    let contained = common / a.len().min(b.len()) as f64;
    if contained == 1.0 {
        jaccard.max(0.85)
    } else {
        jaccard
    }
}

/// Labels' words as sets of numbers in order, the form [`similarity`] compares; each label is
/// made a set once, not once per comparison (a sheet compares every row of every form with
/// every row), and words compare as numbers.
#[derive(Default)]
struct WordIds(HashMap<String, u32>);

impl WordIds {
    fn set(&mut self, label: &str) -> Vec<u32> {
        let mut set: Vec<u32> = tokens(label)
            .into_iter()
            .map(|w| {
                let next = self.0.len() as u32;
                *self.0.entry(w).or_insert(next)
            })
            .collect();
        set.sort_unstable();
        set.dedup();
        set
    }
}

/// "1.", "1)", "I." and "1.1" → "1", "1", "i", "1.1".
fn normalise_code(code: &str) -> String {
    code.trim().trim_end_matches(['.', ')', ':']).to_lowercase()
}
