//! # Marking one worksheet part, streamed
//!
//! The sheet's XML goes from a quick-xml reader to a writer event by event, so memory does
//! not grow with the sheet: a marked cell's `s` attribute is pointed at its cloned format, a
//! marked cell the sheet does not hold (a required value left blank) is written as an empty
//! styled cell in its place in row order, and, when the sheet gets notes and has no legacy
//! drawing yet, a `<legacyDrawing>` element is added where the schema puts it. Everything
//! else is written back as read.

use std::io::{Read, Write};

use quick_xml::Writer;
use quick_xml::events::{BytesEnd, BytesStart, Event};

use super::SheetMarks;
use super::raw::{self, Lookahead};
use super::styles::Styles;
use super::xml::{self, NS_REL, PackageError};

/// Elements a worksheet may hold after `<legacyDrawing>`: ours goes before the first of them.
const AFTER_LEGACY_DRAWING: [&str; 8] = [
    "legacyDrawingHF",
    "drawingHF",
    "picture",
    "oleObjects",
    "controls",
    "webPublishItems",
    "tableParts",
    "extLst",
];

/// The reader's buffer: quick-xml and the byte copy of unmarked rows both work best in large
/// chunks.
const BUFFER: usize = 256 * 1024;

/// Most `<col>` ranges remembered for the style of a new blank cell (a sheet has 16,384
/// columns; more ranges than that are a broken file).
const MAX_COL_RANGES: usize = 16_384;

/// What the sheet turned out to hold.
#[derive(Debug, Default)]
pub(super) struct Marked {
    /// The relationship id of the sheet's existing `<legacyDrawing>`, if it had one.
    pub(super) legacy_drawing: Option<String>,
}

/// Streams a worksheet part from `input` to `output` with `marks` applied; `new_drawing` is
/// the relationship id to give a new `<legacyDrawing>` when the sheet has none (None: the
/// sheet gets no notes).
pub(super) fn mark<R: Read, W: Write>(
    part: &str,
    input: R,
    output: W,
    marks: &SheetMarks,
    styles: &mut Styles,
    new_drawing: Option<&str>,
) -> Result<Marked, PackageError> {
    let mut reader = xml::reader(Lookahead::with_capacity(BUFFER, input));
    let mut writer = Writer::new(output);
    let mut buf = Vec::new();
    let mut pending: Vec<((u32, u32), bool)> = marks.iter().map(|(&at, m)| (at, m.error)).collect();
    pending.reverse(); // popped from the end, in (row, col) order
    let mut state = State {
        prefix: String::new(),
        rel_prefix: None,
        depth: 0,
        in_data: false,
        row: None,
        last_row: None,
        last_col: None,
        row_style: None,
        col_styles: Vec::new(),
        drawing_done: new_drawing.is_none(),
        marked: Marked::default(),
    };
    loop {
        buf.clear();
        let ev = reader
            .read_event_into(&mut buf)
            .map_err(PackageError::xml(part))?;
        let (open, empty) = match &ev {
            Event::Start(e) => (Some(e), false),
            Event::Empty(e) => (Some(e), true),
            _ => (None, false),
        };
        if let Some(e) = open {
            let local = e.local_name();
            let name: &str = local.as_ref();
            match (state.depth, name) {
                (0, _) => {
                    state.prefix = xml::prefix_of(e);
                    let (root, rel) = with_rel_namespace(e);
                    state.rel_prefix = Some(rel);
                    write_open(&mut writer, root, empty)?;
                }
                (1, "cols") | (2, "col") if !state.in_data => {
                    if name == "col" && state.col_styles.len() < MAX_COL_RANGES {
                        let num = |k: &str| xml::attr_cow(e, k).and_then(|v| v.parse::<u32>().ok());
                        if let (Some(min), Some(max), Some(s)) =
                            (num("min"), num("max"), num("style"))
                        {
                            state.col_styles.push((
                                min.saturating_sub(1),
                                max.saturating_sub(1),
                                s,
                            ));
                        }
                    }
                    write_open(&mut writer, e.borrow(), empty)?;
                }
                (1, "sheetData") => {
                    writer.write_event(Event::Start(e.borrow()))?;
                    if empty {
                        state.flush_rows(u32::MAX, &mut pending, styles, &mut writer)?;
                        writer.write_event(Event::End(e.to_end()))?;
                    } else {
                        state.in_data = true;
                    }
                }
                (2, "row") if state.in_data => {
                    let r = xml::attr_cow(e, "r")
                        .and_then(|v| v.parse::<u32>().ok())
                        .map(|r| r.saturating_sub(1))
                        .unwrap_or_else(|| state.last_row.map_or(0, |l| l + 1));
                    state.flush_rows(r, &mut pending, styles, &mut writer)?;
                    state.last_row = Some(r);
                    state.row = Some(r);
                    state.last_col = None;
                    let touched = pending.last().is_some_and(|((pr, _), _)| *pr == r);
                    state.row_style = None;
                    if touched {
                        let custom = xml::attr_cow(e, "customFormat");
                        if matches!(custom.as_deref(), Some("1" | "true")) {
                            state.row_style = xml::attr_cow(e, "s").and_then(|v| v.parse().ok());
                        }
                        // `spans` is a hint of the row's columns; a new cell may fall outside.
                        let e = xml::rewrite(e, &[], &["spans"]);
                        writer.write_event(Event::Start(e.borrow()))?;
                    } else {
                        writer.write_event(Event::Start(e.borrow()))?;
                    }
                    if empty {
                        state.flush_cells(
                            r,
                            u32::MAX,
                            state.row_style,
                            &mut pending,
                            styles,
                            &mut writer,
                        )?;
                        writer.write_event(Event::End(e.to_end()))?;
                        state.row = None;
                    } else if !touched && !styles.clearing() {
                        // A row without marks, when no earlier copy's marks are cleared: its
                        // content goes across as bytes; its end tag comes next as an event.
                        let name = e.name();
                        raw::copy_to_end_tag(
                            reader.get_mut(),
                            writer.get_mut(),
                            name.into_inner().as_bytes(),
                        )?;
                    }
                }
                (3, "c") if state.row.is_some() => {
                    let r = state.row.unwrap_or_default();
                    let c = xml::attr_cow(e, "r")
                        .and_then(|v| super::parse_a1(&v))
                        .map(|(_, c)| c)
                        .unwrap_or_else(|| state.last_col.map_or(0, |l| l + 1));
                    state.last_col = Some(c);
                    let here = pending.last().is_some_and(|((pr, _), _)| *pr == r);
                    if here {
                        state.flush_cells(
                            r,
                            c,
                            state.row_style,
                            &mut pending,
                            styles,
                            &mut writer,
                        )?;
                    }
                    let own = || {
                        xml::attr_cow(e, "s")
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(0)
                    };
                    match pending.last() {
                        Some(&((pr, pc), error)) if (pr, pc) == (r, c) => {
                            pending.pop();
                            let s = styles.marked(own(), error);
                            let e = xml::rewrite(e, &[("s", s.to_string())], &[]);
                            write_open(&mut writer, e, empty)?;
                        }
                        // An earlier copy's mark on a cell no finding is on now: its fill goes.
                        _ if styles.clearing() => {
                            let own = own();
                            let s = styles.unmarked(own);
                            if s == own {
                                write_open(&mut writer, e.borrow(), empty)?;
                            } else {
                                let e = xml::rewrite(e, &[("s", s.to_string())], &[]);
                                write_open(&mut writer, e, empty)?;
                            }
                        }
                        _ => write_open(&mut writer, e.borrow(), empty)?,
                    }
                }
                (1, "legacyDrawing") => {
                    state.marked.legacy_drawing = xml::attr(e, "id");
                    state.drawing_done = true;
                    write_open(&mut writer, e.borrow(), empty)?;
                }
                (1, n) if !state.drawing_done && AFTER_LEGACY_DRAWING.contains(&n) => {
                    state.write_drawing(new_drawing, &mut writer)?;
                    write_open(&mut writer, e.borrow(), empty)?;
                }
                _ => write_open(&mut writer, e.borrow(), empty)?,
            }
            if !empty {
                state.depth += 1;
            }
            continue;
        }
        match ev {
            Event::Eof => break,
            Event::End(e) => {
                state.depth = state.depth.saturating_sub(1);
                let local = e.local_name();
                match (state.depth, local.as_ref()) {
                    (2, "row") if state.in_data => {
                        if let Some(r) = state.row.take() {
                            state.flush_cells(
                                r,
                                u32::MAX,
                                state.row_style,
                                &mut pending,
                                styles,
                                &mut writer,
                            )?;
                        }
                    }
                    (1, "sheetData") => {
                        state.flush_rows(u32::MAX, &mut pending, styles, &mut writer)?;
                        state.in_data = false;
                    }
                    (0, _) if !state.drawing_done => {
                        state.write_drawing(new_drawing, &mut writer)?;
                    }
                    _ => {}
                }
                writer.write_event(Event::End(e))?;
            }
            other => writer.write_event(other)?,
        }
    }
    if !pending.is_empty() {
        return Err(PackageError::Unsupported(format!(
            "part {part} has no sheetData for the marked cells"
        )));
    }
    Ok(state.marked)
}

fn write_open<W: Write>(
    writer: &mut Writer<W>,
    e: BytesStart<'_>,
    empty: bool,
) -> Result<(), PackageError> {
    if empty {
        writer.write_event(Event::Empty(e))?;
    } else {
        writer.write_event(Event::Start(e))?;
    }
    Ok(())
}

/// The root element, with the relationships namespace declared when it was not, and the
/// prefix bound to it.
fn with_rel_namespace(e: &BytesStart<'_>) -> (BytesStart<'static>, String) {
    let mut taken = Vec::new();
    for a in e.attributes().flatten() {
        let key = a.key.as_ref().to_string();
        if let Some(p) = key.strip_prefix("xmlns:") {
            if a.value.as_ref() == NS_REL {
                return (e.clone().into_owned(), p.to_string());
            }
            taken.push(p.to_string());
        }
    }
    let prefix = if taken.iter().any(|t| t == "r") {
        "intake_r".to_string()
    } else {
        "r".to_string()
    };
    let mut root = e.clone().into_owned();
    root.push_attribute((format!("xmlns:{prefix}").as_str(), NS_REL));
    (root, prefix)
}

struct State {
    /// The prefix of the sheet's own elements ("" or "x:").
    prefix: String,
    rel_prefix: Option<String>,
    depth: usize,
    in_data: bool,
    row: Option<u32>,
    last_row: Option<u32>,
    last_col: Option<u32>,
    row_style: Option<u32>,
    col_styles: Vec<(u32, u32, u32)>,
    drawing_done: bool,
    marked: Marked,
}

impl State {
    /// Writes the marked cells of row `r` before column `before` that the sheet lacks.
    #[allow(clippy::too_many_arguments)] // the row, its style, and where to write
    fn flush_cells<W: Write>(
        &self,
        r: u32,
        before: u32,
        row_style: Option<u32>,
        pending: &mut Vec<((u32, u32), bool)>,
        styles: &mut Styles,
        writer: &mut Writer<W>,
    ) -> Result<(), PackageError> {
        while let Some(&((pr, pc), error)) = pending.last() {
            if pr != r || pc >= before {
                // A mark left behind in an earlier row (a file with rows out of order):
                // its cell keeps its format; its note is still written.
                if pr < r {
                    pending.pop();
                    continue;
                }
                break;
            }
            pending.pop();
            let own = row_style.unwrap_or_else(|| self.col_style(pc));
            let s = styles.marked(own, error);
            let tag = format!("{}c", self.prefix);
            let mut c = BytesStart::new(tag.as_str());
            c.push_attribute(("r", super::a1(pr, pc).as_str()));
            c.push_attribute(("s", s.to_string().as_str()));
            writer.write_event(Event::Empty(c))?;
        }
        Ok(())
    }

    /// Writes whole rows for the marks in rows before `before`.
    fn flush_rows<W: Write>(
        &self,
        before: u32,
        pending: &mut Vec<((u32, u32), bool)>,
        styles: &mut Styles,
        writer: &mut Writer<W>,
    ) -> Result<(), PackageError> {
        while let Some(&((pr, _), _)) = pending.last() {
            if pr >= before {
                break;
            }
            let tag = format!("{}row", self.prefix);
            let mut row = BytesStart::new(tag.as_str());
            row.push_attribute(("r", (pr + 1).to_string().as_str()));
            writer.write_event(Event::Start(row.borrow()))?;
            self.flush_cells(pr, u32::MAX, None, pending, styles, writer)?;
            writer.write_event(Event::End(BytesEnd::new(tag.as_str())))?;
        }
        Ok(())
    }

    fn col_style(&self, col: u32) -> u32 {
        self.col_styles
            .iter()
            .find(|(min, max, _)| (*min..=*max).contains(&col))
            .map_or(0, |(_, _, s)| *s)
    }

    fn write_drawing<W: Write>(
        &mut self,
        id: Option<&str>,
        writer: &mut Writer<W>,
    ) -> Result<(), PackageError> {
        if let Some(id) = id {
            let tag = format!("{}legacyDrawing", self.prefix);
            let mut e = BytesStart::new(tag.as_str());
            let rel = self.rel_prefix.clone().unwrap_or_else(|| "r".into());
            e.push_attribute((format!("{rel}:id").as_str(), id));
            writer.write_event(Event::Empty(e))?;
        }
        self.drawing_done = true;
        Ok(())
    }
}
