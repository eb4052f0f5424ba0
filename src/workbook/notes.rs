//! # Notes on worksheet parts
//!
//! What [`super::package::check_noting`] notes of each worksheet part while it tokenizes it
//! anyway, so that [`super::Inspector::read`] reads a sheet's XML once, for its values,
//! instead of three times:
//!
//! - the style id of every cell, in document order, which calamine's style pass
//!   (`XlsxCellReader::next_style_id`) would otherwise find in a pass of its own; the k-th
//!   id is that of the k-th cell record the value pass gives;
//! - the merged regions, which `Xlsx::merge_cells_by_sheet_name` would otherwise find by
//!   parsing the whole sheet again, since `<mergeCells>` comes after the sheet's data.
//!
//! A note must say exactly what calamine would have said, errors included, or nothing. The
//! tokenizer cuts the XML into the same items as quick-xml only for plain XML, so a part
//! holding anything less plain is not noted at all and is read by calamine's passes, as
//! before: a comment, CDATA, a doubtful processing instruction, an end tag with more than a
//! name, an end tag closing nothing, an item left open at the end. Then, part by part:
//!
//! - cell styles are noted only when the elements inside `<sheetData>` nest properly (end
//!   names match start names, as quick-xml does not check for calamine), no `<c>` lies
//!   inside another, and every `<c>` carries well-formed attributes, at most one `r` and
//!   one `s`, and a style id of digits: then calamine's readers, which skip a cell's
//!   children to their end, see the same cells in the same order as the notes, and its
//!   style and value passes read the same `r` and `s` of each;
//! - merged regions are noted as calamine reads them (the first `<mergeCells>` anywhere in
//!   the part, each `<mergeCell>`'s first `ref`), only when every `ref` is a plain range,
//!   start before end, and when what calamine's merge pass reads beyond what the value pass
//!   has read (from the end of `<sheetData>` to the end of `<mergeCells>`, or to the end of
//!   the part when there is none) holds nothing quick-xml would refuse: text that is valid
//!   UTF-8 whose `&` each end with `;`, tags that are valid UTF-8.
//!
//! Only parts whose first element is a `<worksheet>` are noted (calamine reads any part a
//! sheet's relationship names, so another is read by its passes).
//!
//! A part is found again by the offset its data starts at in the zip, which is where
//! calamine's zip reader seeks to open it (module `xlsx`): no sheet name or relationship is
//! resolved twice, and an offset two entries share is dropped.

use std::collections::HashMap;

/// Most elements open at once inside `<sheetData>` that cell styles are noted with: a
/// cell's rich text goes five deep (`row`, `c`, `is`, `r`, `rPr`).
const MAX_DEPTH: usize = 32;

/// A merged region: first row, first column, last row, last column (0-based).
pub(crate) type Region = (u32, u32, u32, u32);

/// What was noted of one worksheet part; each field is `None` when the part is not plain
/// enough to be sure that calamine would read the same.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SheetNotes {
    /// The style id of each cell record (`<c>` inside `<sheetData>`), in document order.
    pub styles: Option<Vec<u32>>,
    /// The merged regions, in document order.
    pub merged: Option<Vec<Region>>,
}

/// The notes of a package's worksheet parts, by the zip offset their data starts at.
#[derive(Debug, Default)]
pub(crate) struct Notes {
    parts: HashMap<u64, SheetNotes>,
}

impl Notes {
    pub(crate) fn insert(&mut self, data_start: u64, sheet: SheetNotes) {
        self.parts.insert(data_start, sheet);
    }

    /// Keeps the parts whose offset `unique` accepts.
    pub(crate) fn retain_unique(&mut self, unique: impl Fn(u64) -> bool) {
        self.parts.retain(|start, _| unique(*start));
    }

    /// The notes of the part whose data starts at `data_start`.
    pub(crate) fn part(&self, data_start: u64) -> Option<&SheetNotes> {
        self.parts.get(&data_start)
    }
}

/// Where a part is relative to an element of interest.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Span {
    #[default]
    Before,
    In,
    After,
}

/// Takes the notes of one part from the items the tokenizer cuts.
#[derive(Debug, Default)]
pub(crate) struct Noter {
    /// Something was seen that quick-xml might read otherwise, or refuse: no notes.
    odd: bool,
    /// Elements open, as quick-xml counts them (an end tag with none open is an error).
    depth: u64,
    /// Whether the first element has been seen: a part whose first element is not a
    /// `<worksheet>` (shared strings, styles, drawings...) is not noted past it.
    rooted: bool,
    /// Where the part is relative to the first `<sheetData>`.
    data: Span,
    /// Names of the elements open inside `<sheetData>`.
    names: Vec<Name>,
    /// How many elements inside `<sheetData>` are open, the cell's own included, in the
    /// open `<c>`.
    cell: Option<usize>,
    styles: Vec<u32>,
    styles_bad: bool,
    /// Where the part is relative to the first `<mergeCells>`.
    merges: Span,
    merged: Vec<Region>,
    merged_bad: bool,
    /// Between the end of `<sheetData>` and the end of `<mergeCells>`: what the merge pass
    /// reads that the value pass has not.
    tail: bool,
    /// In the tail, an `&` whose `;` has not come yet.
    open_ref: bool,
    /// In the tail, the first bytes of a UTF-8 sequence the text run ended in the middle of.
    utf8: Utf8,
}

impl Noter {
    /// Whether text runs matter now (only in the tail).
    #[inline]
    pub(crate) fn wants_text(&self) -> bool {
        self.tail && !self.odd
    }

    /// Whether tags matter still (not once the part is found odd or no worksheet).
    #[inline]
    pub(crate) fn wants_tags(&self) -> bool {
        !self.odd
    }

    /// A text run (between two items).
    pub(crate) fn text(&mut self, run: &[u8]) {
        if self.odd || !self.tail {
            return;
        }
        if !self.utf8.feed(run) {
            self.tail_refused();
            return;
        }
        for &b in run {
            if b == b'&' {
                if self.open_ref {
                    self.tail_refused();
                    return;
                }
                self.open_ref = true;
            } else if b == b';' {
                self.open_ref = false;
            }
        }
    }

    /// Something in the tail quick-xml refuses (it cuts items there as the tokenizer
    /// does): calamine's merge pass answers an error of its own.
    fn tail_refused(&mut self) {
        self.merged_bad = true;
        self.tail = false;
    }

    /// A comment or CDATA section: never in a worksheet a spreadsheet program writes.
    pub(crate) fn markup_declaration(&mut self) {
        self.odd = true;
    }

    /// A processing instruction of `len` bytes after its `<`; quick-xml refuses `<?>`.
    pub(crate) fn processing_instruction(&mut self, len: usize) {
        if len < 3 {
            self.odd = true;
        } else if self.tail {
            // Its text is not kept to look at.
            self.tail_refused();
        }
    }

    /// A tag: the bytes between `<` and `>`. `style_room` is how many more cell style ids
    /// the package's notes may keep.
    #[inline]
    pub(crate) fn tag(&mut self, tag: &[u8], style_room: &mut u64) {
        if self.odd {
            return;
        }
        if self.data == Span::In
            && !self.styles_bad
            && self.merges != Span::In
            && self.cell_tag(tag, style_room)
        {
            return;
        }
        self.any_tag(tag, style_room);
    }

    /// Any tag, as [`Noter::tag`] but with no shortcut.
    #[inline(never)]
    fn any_tag(&mut self, tag: &[u8], style_room: &mut u64) {
        if self.text_left_open() || (self.tail && std::str::from_utf8(tag).is_err()) {
            self.tail_refused();
        }
        match tag.first() {
            Some(b'/') => self.end_tag(&tag[1..]),
            Some(b'!' | b'?') => self.odd = true,
            _ => self.start_tag(tag, style_room),
        }
    }

    /// The tags of a sheet's rows and cells, quickly, when inside `<sheetData>` only their
    /// nesting and the cells' styles matter: an end tag closing the element last opened,
    /// by its very name; a start tag whose name is short and plain (no prefix, no quote),
    /// so neither `sheetData` nor `mergeCells`. False leaves any other tag, untouched, to
    /// the general path.
    #[inline]
    fn cell_tag(&mut self, tag: &[u8], style_room: &mut u64) -> bool {
        if let Some(name) = tag.strip_prefix(b"/") {
            let closes = match self.names.last() {
                Some(&open) => {
                    Name::new(name) == Some(open) && !name.iter().any(|&b| b == b'"' || b == b'\'')
                }
                None => false,
            };
            if closes {
                self.names.pop();
                // Every element open in `sheetData` is counted in `depth`.
                self.depth -= 1;
                if self.cell.is_some_and(|depth| self.names.len() < depth) {
                    self.cell = None;
                }
            }
            return closes;
        }
        let empty = tag.last() == Some(&b'/');
        let content = if empty { &tag[..tag.len() - 1] } else { tag };
        let name_len = content
            .iter()
            .take(9)
            .position(|&b| is_xml_space(b))
            .unwrap_or(content.len());
        let (name, attributes) = content.split_at(name_len);
        if !(1..=8).contains(&name.len()) || name.iter().any(|&b| matches!(b, b':' | b'"' | b'\''))
        {
            return false;
        }
        if name == b"c" {
            self.cell(attributes, empty, style_room);
        }
        if !empty {
            self.depth += 1;
            self.open(name);
        }
        true
    }

    /// An element opens inside `<sheetData>`: its name goes on the stack, which a cell's
    /// content never makes deep (a longer name or a deeper stack: no styles).
    fn open(&mut self, name: &[u8]) {
        match Name::new(name) {
            Some(name) if self.names.len() < MAX_DEPTH => self.names.push(name),
            _ => self.styles_bad = true,
        }
    }

    /// Whether the tail's text ended inside a reference or a UTF-8 sequence.
    fn text_left_open(&self) -> bool {
        self.tail && (self.open_ref || self.utf8.pending())
    }

    fn start_tag(&mut self, tag: &[u8], style_room: &mut u64) {
        let empty = tag.last() == Some(&b'/');
        let content = if empty { &tag[..tag.len() - 1] } else { tag };
        let name_len = content
            .iter()
            .position(|&b| is_xml_space(b))
            .unwrap_or(content.len());
        let (name, attributes) = content.split_at(name_len);
        let local = local_name(name);
        if !self.rooted {
            self.rooted = true;
            if local != b"worksheet" {
                self.odd = true;
                return;
            }
        }
        if !empty {
            self.depth += 1;
        }
        match self.data {
            Span::Before if local == b"sheetData" => {
                if empty {
                    self.end_data();
                } else {
                    self.data = Span::In;
                }
            }
            Span::In if local == b"sheetData" => {
                // calamine's value pass stops at the first end of any `sheetData`.
                self.styles_bad = true;
                if empty {
                    self.end_data();
                }
            }
            Span::In if !self.styles_bad => {
                if local == b"c" {
                    self.cell(attributes, empty, style_room);
                }
                if !empty {
                    self.open(name);
                }
            }
            _ => {}
        }
        match self.merges {
            Span::Before if local == b"mergeCells" => {
                if empty {
                    self.end_merges();
                } else {
                    self.merges = Span::In;
                }
            }
            Span::In if local == b"mergeCell" => self.merge_cell(attributes),
            // An empty element is read as a start and an end: this ends the list.
            Span::In if local == b"mergeCells" && empty => self.end_merges(),
            _ => {}
        }
    }

    fn end_tag(&mut self, content: &[u8]) {
        let name_end = content
            .iter()
            .rposition(|&b| !is_xml_space(b))
            .map_or(0, |p| p + 1);
        let name = &content[..name_end];
        if name.is_empty()
            || name
                .iter()
                .any(|&b| is_xml_space(b) || b == b'"' || b == b'\'')
            || self.depth == 0
        {
            self.odd = true;
            return;
        }
        self.depth -= 1;
        let local = local_name(name);
        if self.data == Span::In {
            if local == b"sheetData" {
                if !self.names.is_empty() {
                    self.styles_bad = true;
                }
                self.end_data();
            } else if !self.styles_bad {
                match self.names.pop() {
                    Some(open) if Name::new(name) == Some(open) => {
                        if self.cell.is_some_and(|depth| self.names.len() < depth) {
                            self.cell = None;
                        }
                    }
                    _ => self.styles_bad = true,
                }
            }
        }
        if self.merges == Span::In && local == b"mergeCells" {
            self.end_merges();
        }
    }

    fn end_data(&mut self) {
        self.data = Span::After;
        self.tail = self.merges != Span::After && !self.merged_bad;
        self.names = Vec::new();
    }

    fn end_merges(&mut self) {
        self.merges = Span::After;
        self.tail = false;
    }

    /// A `<c>` start tag inside `<sheetData>`.
    fn cell(&mut self, attributes: &[u8], empty: bool, style_room: &mut u64) {
        if self.cell.is_some() || *style_room == 0 {
            self.styles_bad = true;
            return;
        }
        let Some(style) = cell_style(attributes) else {
            self.styles_bad = true;
            return;
        };
        *style_room -= 1;
        self.styles.push(style);
        if !empty {
            self.cell = Some(self.names.len() + 1);
        }
    }

    /// A `<mergeCell>` start tag inside the first `<mergeCells>`, read as calamine reads it:
    /// its first `ref` attribute (none: skipped), as a range.
    fn merge_cell(&mut self, attributes: &[u8]) {
        for attribute in RawAttributes::new(attributes) {
            match attribute {
                // A malformed attribute before any `ref`: calamine answers an error.
                Err(()) => {
                    self.merged_bad = true;
                    return;
                }
                Ok((key, value)) if key == b"ref" => {
                    match range(value) {
                        Some(region) => self.merged.push(region),
                        None => self.merged_bad = true,
                    }
                    return;
                }
                Ok(_) => {}
            }
        }
    }

    /// The notes, once the whole part has been fed; `whole` is false when the part ended
    /// inside an item. Style ids not kept are given back to `style_room`.
    pub(crate) fn finish(mut self, whole: bool, style_room: &mut u64) -> Option<SheetNotes> {
        if !whole {
            self.odd = true;
        }
        if self.text_left_open() {
            self.tail_refused();
        }
        if self.odd || self.data != Span::After || self.styles_bad {
            *style_room += self.styles.len() as u64;
        }
        if self.odd || self.data != Span::After {
            return None;
        }
        let styles = (!self.styles_bad).then_some(self.styles);
        let merged = (!self.merged_bad && self.merges != Span::In).then_some(self.merged);
        Some(SheetNotes { styles, merged })
    }
}

/// The name of an element open inside `<sheetData>` (`row`, `c`, `v`, `is`, `t`...), its
/// bytes and length packed in an integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Name(u128);

impl Name {
    /// The name, if no longer than any a sheet's cells use (a longer one: no notes).
    fn new(name: &[u8]) -> Option<Name> {
        if name.len() > 15 {
            return None;
        }
        let packed = name
            .iter()
            .fold(name.len() as u128, |n, &b| (n << 8) | u128::from(b));
        Some(Name(packed))
    }
}

/// XML's white space, as quick-xml sees it.
fn is_xml_space(b: u8) -> bool {
    matches!(b, b' ' | b'\r' | b'\n' | b'\t')
}

/// A name's local part, as quick-xml takes it: after the first `:`.
fn local_name(name: &[u8]) -> &[u8] {
    match name.iter().position(|&b| b == b':') {
        Some(colon) => &name[colon + 1..],
        None => name,
    }
}

/// The style id of a `<c>` from its attributes, when calamine's value pass (which looks for
/// `r`, `s` and `t`) and style pass (`r` and `s`) would both read it so: attributes all
/// well-formed, `r` and `s` at most once each, the id a plain number (none: 0). The
/// attributes are cut as [`RawAttributes`] cuts them, in a loop of its own: this runs for
/// every cell.
fn cell_style(raw: &[u8]) -> Option<u32> {
    let len = raw.len();
    let mut pos = 0;
    let mut r = false;
    let mut s = None;
    loop {
        while pos < len && raw[pos].is_ascii_whitespace() {
            pos += 1;
        }
        if pos >= len {
            break;
        }
        let key_start = pos;
        while pos < len && raw[pos] != b'=' {
            pos += 1;
        }
        if pos >= len {
            return None;
        }
        let key = raw[key_start..pos].trim_ascii_end();
        pos += 1;
        while pos < len && raw[pos].is_ascii_whitespace() {
            pos += 1;
        }
        let quote = *raw.get(pos)?;
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        pos += 1;
        let value_start = pos;
        while pos < len && raw[pos] != quote {
            pos += 1;
        }
        let value = &raw[value_start..pos];
        pos += 1;
        match key {
            b"r" if r => return None,
            b"r" => r = true,
            b"s" if s.is_some() => return None,
            b"s" => s = Some(value),
            _ => {}
        }
    }
    match s {
        None => Some(0),
        Some(digits) => number(digits, 9),
    }
}

/// A number of 1 to `max_digits` ASCII digits.
fn number(digits: &[u8], max_digits: usize) -> Option<u32> {
    if digits.is_empty() || digits.len() > max_digits || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        digits
            .iter()
            .fold(0u32, |n, d| n * 10 + u32::from(d - b'0')),
    )
}

/// A `ref` range (`A1` or `A1:C2`) as calamine's `get_dimension` reads it, for the plain
/// ones only: one to three letters, one to seven digits, not row 0, start before end.
/// Anything else is left to calamine, which answers an error or its own reading.
fn range(value: &[u8]) -> Option<Region> {
    let mut parts = value.split(|&b| b == b':');
    let start = cell(parts.next()?)?;
    let end = match parts.next() {
        None => start,
        Some(end) => cell(end)?,
    };
    if parts.next().is_some() || end.0 < start.0 || end.1 < start.1 {
        return None;
    }
    Some((start.0, start.1, end.0, end.1))
}

/// A cell reference (`AB12`) as a 0-based (row, column).
fn cell(reference: &[u8]) -> Option<(u32, u32)> {
    let letters = reference
        .iter()
        .take_while(|b| b.is_ascii_alphabetic())
        .count();
    if !(1..=3).contains(&letters) {
        return None;
    }
    let column = reference[..letters].iter().fold(0u32, |n, b| {
        n * 26 + u32::from(b.to_ascii_uppercase() - b'A') + 1
    });
    let row = number(&reference[letters..], 7)?;
    Some((row.checked_sub(1)?, column - 1))
}

/// A tag's attributes as calamine's own attribute iterator cuts them (`attrs.rs`,
/// `RawAttrIter`): a key up to `=`, blanks around `=`, a quoted value up to its closing
/// quote or the end; a key without `=` or a value without quotes is malformed, and ends
/// the iteration.
struct RawAttributes<'a> {
    raw: &'a [u8],
    pos: usize,
}

impl<'a> RawAttributes<'a> {
    fn new(raw: &'a [u8]) -> Self {
        RawAttributes { raw, pos: 0 }
    }
}

impl<'a> Iterator for RawAttributes<'a> {
    type Item = Result<(&'a [u8], &'a [u8]), ()>;

    fn next(&mut self) -> Option<Self::Item> {
        let raw = self.raw;
        let len = raw.len();
        let mut pos = self.pos;
        while pos < len && raw[pos].is_ascii_whitespace() {
            pos += 1;
        }
        if pos >= len {
            self.pos = pos;
            return None;
        }
        let key_start = pos;
        while pos < len && raw[pos] != b'=' {
            pos += 1;
        }
        if pos >= len {
            self.pos = len;
            return Some(Err(()));
        }
        let key = raw[key_start..pos].trim_ascii_end();
        pos += 1;
        while pos < len && raw[pos].is_ascii_whitespace() {
            pos += 1;
        }
        let quote = match raw.get(pos) {
            Some(&q @ (b'"' | b'\'')) => q,
            _ => {
                self.pos = len;
                return Some(Err(()));
            }
        };
        pos += 1;
        let value_start = pos;
        while pos < len && raw[pos] != quote {
            pos += 1;
        }
        let value = &raw[value_start..pos];
        if pos < len {
            pos += 1;
        }
        self.pos = pos;
        Some(Ok((key, value)))
    }
}

/// UTF-8 validation of text that arrives in pieces.
#[derive(Debug, Default)]
struct Utf8 {
    /// The start of a sequence the last piece ended in the middle of.
    carry: [u8; 4],
    carried: usize,
}

impl Utf8 {
    /// Whether `piece`, after what came before, is still valid UTF-8.
    fn feed(&mut self, mut piece: &[u8]) -> bool {
        if self.carried > 0 {
            let width = match self.carry[0] {
                0xC0..=0xDF => 2,
                0xE0..=0xEF => 3,
                _ => 4,
            };
            let take = (width - self.carried).min(piece.len());
            self.carry[self.carried..self.carried + take].copy_from_slice(&piece[..take]);
            self.carried += take;
            piece = &piece[take..];
            if self.carried < width {
                return true;
            }
            if std::str::from_utf8(&self.carry[..width]).is_err() {
                return false;
            }
            self.carried = 0;
        }
        match std::str::from_utf8(piece) {
            Ok(_) => true,
            Err(e) if e.error_len().is_some() => false,
            Err(e) => {
                let rest = &piece[e.valid_up_to()..];
                self.carry[..rest.len()].copy_from_slice(rest);
                self.carried = rest.len();
                true
            }
        }
    }

    fn pending(&self) -> bool {
        self.carried > 0
    }
}
