//! # Zip package checks
//!
//! Before calamine opens an xlsx it loads whole parts (shared strings, styles, the workbook
//! part, relationships) and reserves memory by counts the file declares: `<sst
//! uniqueCount="10000000000">` alone makes it ask for 240 GB and abort. This pass reads
//! every part once, through a bounded inflater and a small XML tokenizer, and refuses the
//! package before calamine sees it if it unpacks past its budget, holds an XML item (tag,
//! text run, comment) too long for any real workbook, declares a DTD, or counts more of the
//! elements calamine collects than a real workbook has. Memory is constant; time is one
//! inflate of at most the unpacked budget.
//!
//! This pass is the one read of every part that reading a workbook cannot do without, so it
//! also takes notes for [`super::Inspector::read`] ([`check_noting`], module `notes`): for
//! each worksheet part, the style id of every cell and the merged regions. Without them,
//! reading a sheet inflated and parsed it three times more than its values need: once for
//! calamine's style ids (whenever the styles hold a percent or thousands format, as real
//! forms do) and once for `merge_cells_by_sheet_name`, which parses the whole sheet again to
//! find the `<mergeCells>` after its data (a fifth of the reading time). The notes cost a
//! look at each tag this pass already cuts out. The tokenizer skips text runs with `memchr`
//! and takes whole tags in tight loops: the pass is about a quarter of reading a workbook,
//! half of that inflating.

use std::collections::HashMap;
use std::io::{Cursor, Read};

use memchr::{memchr, memchr3};

use super::notes::{Noter, Notes};
use super::{InspectError, Limits};

/// The four bytes a zip local file header begins with.
pub(crate) const ZIP_MAGIC: &[u8] = b"PK\x03\x04";

/// Most parts a package may hold: a real workbook with hundreds of sheets has a few thousand.
pub(crate) const MAX_PARTS: usize = 10_000;

/// Longest XML item (tag, text run, comment, processing instruction) in bytes; the longest
/// cell text Excel takes (32,767 characters), escaped, is a fifth of this.
pub(crate) const MAX_XML_ITEM: usize = 1024 * 1024;

/// How many times `max_bytes` a package may unpack to.
pub(crate) const UNPACK_FACTOR: u64 = 4;

/// Caps on elements calamine gathers into memory, by local name; `si` is capped by
/// `max_cells` and the `sst` element's `uniqueCount` too. `mergeCell`, which
/// `merge_cells_by_sheet_name` collects for [`super::Inspector::read`], has the cap the
/// grid itself keeps to.
const ELEMENT_CAPS: [(&[u8], u64); 9] = [
    (b"sheet", 4_096),
    (b"definedName", 65_536),
    (b"Relationship", 262_144),
    (b"xf", 262_144),
    (b"numFmt", 65_536),
    (b"font", 262_144),
    (b"fill", 262_144),
    (b"border", 262_144),
    (b"mergeCell", super::grid::MAX_MERGED),
];

/// The lengths of the local names [`Counts`] looks at (`si`, `sst` and [`ELEMENT_CAPS`]),
/// as bits: most tags of a sheet (`c`, `v`) are passed over on their length alone.
const COUNTED_LENGTHS: u32 = {
    let mut bits = (1 << 2) | (1 << 3);
    let mut i = 0;
    while i < ELEMENT_CAPS.len() {
        bits |= 1 << ELEMENT_CAPS[i].0.len();
        i += 1;
    }
    bits
};

/// Parts not scanned as XML, by extension: pictures and binaries where any byte may occur.
/// They are capped at `max_bytes` each instead (they unpack to about their packed size).
const BINARY_EXTENSIONS: [&str; 11] = [
    "bin", "png", "jpg", "jpeg", "gif", "emf", "wmf", "tif", "tiff", "bmp", "wdp",
];

/// Which package is being checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// SpreadsheetML: sizes, XML items and element counts are checked.
    Ooxml,
    /// OpenDocument: sizes only; its reader runs in the child process anyway.
    Odf,
}

/// An upper bound on the entries in the zip's central directory: the number of central
/// directory signatures anywhere in the bytes. Cheap, and it cannot undercount.
pub(crate) fn zip_entries_upper_bound(bytes: &[u8]) -> usize {
    bytes.windows(4).filter(|w| *w == b"PK\x01\x02").count()
}

/// Checks a zip package against `limits`; `Ok` means calamine may open it.
pub(crate) fn check(bytes: &[u8], limits: &Limits, kind: Kind) -> Result<(), InspectError> {
    scan(bytes, limits, kind, false).map(drop)
}

/// Checks an xlsx or xlsm package as [`check`] does, and answers the notes taken on the way
/// of its worksheet parts (module `notes`).
pub(crate) fn check_noting(bytes: &[u8], limits: &Limits) -> Result<Notes, InspectError> {
    scan(bytes, limits, Kind::Ooxml, true)
}

fn scan(bytes: &[u8], limits: &Limits, kind: Kind, noting: bool) -> Result<Notes, InspectError> {
    let what = match kind {
        Kind::Ooxml => "an xlsx or xlsm file",
        Kind::Odf => "an ods file",
    };
    if !bytes.starts_with(ZIP_MAGIC) {
        return Err(InspectError::Unreadable(format!(
            "the file is not a zip package, as {what} must be"
        )));
    }
    if zip_entries_upper_bound(bytes) > MAX_PARTS {
        return Err(InspectError::TooLarge {
            limit: MAX_PARTS as u64,
        });
    }
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| InspectError::Unreadable(format!("the zip package is damaged ({e})")))?;
    let budget = limits.max_bytes.saturating_mul(UNPACK_FACTOR);
    let mut unpacked = 0u64;
    let mut counts = Counts::new(limits.max_cells);
    let mut chunk = vec![0u8; 64 * 1024];
    let mut notes = Notes::default();
    // How many entries start their data at each offset: the notes of a part are found again
    // by that offset (module `notes`), so two entries sharing one (a crafted zip) get none.
    let mut starts: HashMap<u64, u32> = HashMap::new();
    for index in 0..zip.len() {
        // An entry that cannot be opened (unknown compression, zip encryption) cannot be
        // opened by calamine either, which shares this zip crate: nothing to guard.
        let Ok(file) = zip.by_index(index) else {
            continue;
        };
        let data_start = file.data_start();
        if let Some(start) = data_start {
            *starts.entry(start).or_default() += 1;
        }
        if file.is_dir() {
            continue;
        }
        let name = file.name().map(|n| n.into_owned()).unwrap_or_default();
        let binary = is_binary_part(&name);
        let part_cap = if binary {
            limits.max_bytes.min(budget)
        } else {
            budget
        };
        let mut tokenizer = (kind == Kind::Ooxml && !binary)
            .then(|| XmlScan::new((noting && data_start.is_some()).then(Noter::default)));
        let mut part = 0u64;
        let mut reader = file.take(part_cap.saturating_add(1));
        loop {
            let n = reader.read(&mut chunk).map_err(|e| {
                InspectError::Unreadable(format!("part '{name}' of the package is damaged ({e})"))
            })?;
            if n == 0 {
                break;
            }
            part += n as u64;
            unpacked += n as u64;
            if part > part_cap {
                return Err(InspectError::TooLarge { limit: part_cap });
            }
            if unpacked > budget {
                return Err(InspectError::TooLarge { limit: budget });
            }
            if let Some(t) = tokenizer.as_mut() {
                t.feed(&chunk[..n], &mut counts)
                    .map_err(|problem| part_error(&name, problem))?;
            }
        }
        if let (Some(t), Some(start)) = (tokenizer, data_start)
            && let Some(sheet) = t.finish(&mut counts)
        {
            notes.insert(start, sheet);
        }
    }
    notes.retain_unique(|start| starts.get(&start) == Some(&1));
    Ok(notes)
}

fn part_error(name: &str, problem: Problem) -> InspectError {
    match problem {
        Problem::TooMany { limit } => InspectError::TooLarge { limit },
        Problem::LongItem => InspectError::Unreadable(format!(
            "part '{name}' holds an XML item longer than {} KiB, which no workbook needs",
            MAX_XML_ITEM / 1024
        )),
        Problem::Dtd => InspectError::Unreadable(format!(
            "part '{name}' declares a DTD, which workbook files never do"
        )),
    }
}

fn is_binary_part(name: &str) -> bool {
    name.rsplit_once('.').is_some_and(|(_, ext)| {
        BINARY_EXTENSIONS
            .iter()
            .any(|b| b.eq_ignore_ascii_case(ext))
    })
}

/// What the tokenizer found wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Problem {
    /// More of some element (or a larger `uniqueCount`) than the cap.
    TooMany { limit: u64 },
    /// An XML item longer than [`MAX_XML_ITEM`].
    LongItem,
    /// A `<!DOCTYPE`.
    Dtd,
}

/// Element counts over the whole package.
#[derive(Debug)]
struct Counts {
    max_cells: u64,
    si: u64,
    capped: [u64; ELEMENT_CAPS.len()],
    /// Cell style ids the notes may still keep, over the whole package (4 bytes each).
    style_room: u64,
}

impl Counts {
    fn new(max_cells: u64) -> Self {
        Counts {
            max_cells,
            si: 0,
            capped: [0; ELEMENT_CAPS.len()],
            style_room: max_cells,
        }
    }

    /// Notes a start tag (the bytes between `<` and `>`).
    fn start_tag(&mut self, tag: &[u8]) -> Result<(), Problem> {
        let name_end = tag
            .iter()
            .position(|b| b.is_ascii_whitespace() || *b == b'/')
            .unwrap_or(tag.len());
        let name = &tag[..name_end];
        let local = match name.iter().rposition(|b| *b == b':') {
            Some(colon) => &name[colon + 1..],
            None => name,
        };
        if local.len() >= 32 || COUNTED_LENGTHS & (1 << local.len()) == 0 {
            return Ok(());
        }
        if local == b"si" {
            self.si += 1;
            if self.si > self.max_cells {
                return Err(Problem::TooMany {
                    limit: self.max_cells,
                });
            }
        } else if local == b"sst" {
            if attribute_number(&tag[name_end..], b"uniqueCount")
                .is_some_and(|n| n > self.max_cells)
            {
                return Err(Problem::TooMany {
                    limit: self.max_cells,
                });
            }
        } else if let Some(i) = ELEMENT_CAPS.iter().position(|(n, _)| *n == local) {
            self.capped[i] += 1;
            if self.capped[i] > ELEMENT_CAPS[i].1 {
                return Err(Problem::TooMany {
                    limit: ELEMENT_CAPS[i].1,
                });
            }
        }
        Ok(())
    }
}

/// The value of a numeric attribute whose local name is `key`; a number too long for a u64
/// reads as `u64::MAX`, since calamine would try to honour it all the same.
fn attribute_number(attrs: &[u8], key: &[u8]) -> Option<u64> {
    let mut at = 0;
    while let Some(pos) = find(&attrs[at..], key) {
        let start = at + pos;
        at = start + key.len();
        let before_ok =
            start == 0 || matches!(attrs[start - 1], b' ' | b'\t' | b'\r' | b'\n' | b':');
        if !before_ok {
            continue;
        }
        let rest = trim_start(&attrs[at..]);
        let Some(rest) = rest.strip_prefix(b"=") else {
            continue;
        };
        let rest = trim_start(rest);
        let Some((&quote, rest)) = rest.split_first() else {
            continue;
        };
        if quote != b'"' && quote != b'\'' {
            continue;
        }
        let rest = rest.strip_prefix(b"+").unwrap_or(rest);
        let digits: Vec<u8> = rest
            .iter()
            .copied()
            .take_while(u8::is_ascii_digit)
            .collect();
        if digits.is_empty() {
            return None;
        }
        let text = std::str::from_utf8(&digits).ok()?;
        return Some(text.parse().unwrap_or(u64::MAX));
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn trim_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    &b[n..]
}

/// Where the tokenizer is.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between items.
    #[default]
    Text,
    /// After `<`, gathering the tag; `quote` is the open attribute quote, if any.
    Tag { quote: Option<u8> },
    /// Inside `<!--`, until `-->`.
    Comment,
    /// Inside `<![CDATA[`, until `]]>`.
    CData,
    /// Inside `<?`, until `?>`.
    Pi,
}

/// Where the `>` closing a tag is in `body` (the bytes after its `<`), skipping quoted
/// attribute values as quick-xml does in start tags (the tokenizer does not in end tags);
/// else the quote open at the end of `body`.
fn tag_end(body: &[u8]) -> (Option<usize>, Option<u8>) {
    if body.first() == Some(&b'/') {
        return (body.iter().position(|&b| b == b'>'), None);
    }
    let mut at = 0;
    loop {
        let Some(stop) = body[at..]
            .iter()
            .position(|&b| matches!(b, b'>' | b'"' | b'\''))
        else {
            return (None, None);
        };
        at += stop;
        let quote = body[at];
        if quote == b'>' {
            return (Some(at), None);
        }
        at += 1;
        match body[at..].iter().position(|&b| b == quote) {
            Some(end) => at += end + 1,
            None => return (None, Some(quote)),
        }
    }
}

/// The longest tag prefix that decides what a tag is (`![CDATA[`, `!DOCTYPE`): `<!` items
/// are looked at byte by byte up to this length, then in runs; other tags after their first
/// byte.
const CLASSIFIED_PREFIX: usize = 8;

/// An XML tokenizer that sees as much as quick-xml does to bound its buffers: it ends every
/// item no later than quick-xml would, so its lengths never undercount. Text runs are
/// skipped with `memchr` and whole tags taken in tight loops; the prefix of a `<!` item,
/// comments, CDATA and processing instructions (rare in workbooks) are looked at byte by
/// byte.
#[derive(Debug)]
struct XmlScan {
    state: State,
    /// Length of the current item.
    len: usize,
    /// Longest item: [`MAX_XML_ITEM`] (tests use less).
    max_item: usize,
    /// The current tag's bytes (kept only while in `Tag`, at most `MAX_XML_ITEM`).
    tag: Vec<u8>,
    /// The last two bytes, to see `-->`, `]]>` and `?>` across chunks (kept only inside
    /// comments, CDATA and processing instructions, which reset it on entry).
    tail: [u8; 2],
    /// Notes taken for [`check_noting`], when taking them.
    noter: Option<Noter>,
}

impl XmlScan {
    fn new(noter: Option<Noter>) -> Self {
        XmlScan {
            state: State::Text,
            len: 0,
            max_item: MAX_XML_ITEM,
            tag: Vec::new(),
            tail: [0, 0],
            noter,
        }
    }

    fn feed(&mut self, bytes: &[u8], counts: &mut Counts) -> Result<(), Problem> {
        let mut at = 0;
        while at < bytes.len() {
            let rest = &bytes[at..];
            at += match self.state {
                State::Text => self.items(rest, counts)?,
                State::Tag { quote: None } if self.classified() => self.tag_run(rest, counts)?,
                State::Tag { quote: Some(q) } => self.quoted_run(rest, q)?,
                _ => {
                    self.byte(rest[0], counts)?;
                    1
                }
            };
        }
        Ok(())
    }

    /// Whether the current tag is known for what it is: a start or end tag once its first
    /// byte is seen, a `<!` item once its longest prefix is.
    fn classified(&self) -> bool {
        match self.tag.first() {
            None => false,
            Some(b'!') => self.tag.len() >= CLASSIFIED_PREFIX,
            Some(_) => true,
        }
    }

    /// Adds `n` bytes to the current item.
    fn grow(&mut self, n: usize) -> Result<(), Problem> {
        self.len += n;
        if self.len > self.max_item {
            return Err(Problem::LongItem);
        }
        Ok(())
    }

    /// Text runs and the start and end tags after them, each tag taken whole from `rest`
    /// where it ends in it; stops at the end of `rest`, in a tag that goes past it, or at
    /// the first byte of a `<!` or `<?` item, which [`XmlScan::byte`] takes from there.
    /// Answers the bytes taken.
    fn items(&mut self, rest: &[u8], counts: &mut Counts) -> Result<usize, Problem> {
        let mut at = 0;
        loop {
            // Text up to the next `<`: mostly none or a few bytes in a sheet.
            let lt = match rest[at..].iter().take(8).position(|&b| b == b'<') {
                Some(lt) => at + lt,
                None => match memchr(b'<', &rest[at..]) {
                    Some(lt) => at + lt,
                    None => {
                        self.grow(rest.len() - at)?;
                        self.note_text(&rest[at..]);
                        return Ok(rest.len());
                    }
                },
            };
            self.grow(lt - at + 1)?;
            self.note_text(&rest[at..lt]);
            self.state = State::Tag { quote: None };
            self.tag.clear();
            self.len = 0;
            let body = &rest[lt + 1..];
            if matches!(body.first(), None | Some(b'!' | b'?')) {
                return Ok(lt + 1);
            }
            let (end, quote) = tag_end(body);
            match end {
                Some(gt) => {
                    self.grow(gt + 1)?;
                    self.tag_found(&body[..gt], counts)?;
                    at = lt + 1 + gt + 1;
                }
                None => {
                    self.grow(body.len())?;
                    self.tag.extend_from_slice(body);
                    self.state = State::Tag { quote };
                    return Ok(rest.len());
                }
            }
        }
    }

    fn note_text(&mut self, run: &[u8]) {
        if let Some(noter) = self.noter.as_mut()
            && noter.wants_text()
        {
            noter.text(run);
        }
    }

    /// The rest of a tag past its classified prefix, up to a quote or the closing `>`.
    fn tag_run(&mut self, rest: &[u8], counts: &mut Counts) -> Result<usize, Problem> {
        let Some(stop) = memchr3(b'>', b'"', b'\'', rest) else {
            self.grow(rest.len())?;
            self.tag.extend_from_slice(rest);
            return Ok(rest.len());
        };
        self.grow(stop + 1)?;
        let b = rest[stop];
        if b == b'>' {
            self.tag.extend_from_slice(&rest[..stop]);
            self.end_tag(counts)?;
        } else {
            self.tag.extend_from_slice(&rest[..=stop]);
            if !matches!(self.tag.first(), Some(b'/' | b'!')) {
                self.state = State::Tag { quote: Some(b) };
            }
        }
        Ok(stop + 1)
    }

    /// An attribute value, up to and including its closing quote `q`.
    fn quoted_run(&mut self, rest: &[u8], q: u8) -> Result<usize, Problem> {
        let taken = memchr(q, rest).map_or(rest.len(), |end| end + 1);
        self.grow(taken)?;
        self.tag.extend_from_slice(&rest[..taken]);
        if rest[taken - 1] == q {
            self.state = State::Tag { quote: None };
        }
        Ok(taken)
    }

    /// One byte of a tag's prefix, a comment, CDATA or a processing instruction.
    fn byte(&mut self, b: u8, counts: &mut Counts) -> Result<(), Problem> {
        self.grow(1)?;
        match self.state {
            State::Text | State::Tag { quote: Some(_) } => {
                unreachable!("text and attribute values are taken in runs")
            }
            State::Tag { quote: None } if b == b'>' => self.end_tag(counts)?,
            State::Tag { quote: None } => {
                self.tag.push(b);
                self.classify_tag(b)?;
            }
            State::Comment => {
                if b == b'>' && self.tail == *b"--" {
                    self.back_to_text();
                }
            }
            State::CData => {
                if b == b'>' && self.tail == *b"]]" {
                    self.back_to_text();
                }
            }
            State::Pi => {
                if b == b'>' && self.tail[1] == b'?' {
                    if let Some(noter) = self.noter.as_mut() {
                        noter.processing_instruction(self.len);
                    }
                    self.back_to_text();
                }
            }
        }
        self.tail = [self.tail[1], b];
        Ok(())
    }

    /// Switches a tag that turns out to be a comment, CDATA, PI or DTD; tracks quotes in
    /// start tags the way quick-xml does.
    fn classify_tag(&mut self, b: u8) -> Result<(), Problem> {
        let tag = self.tag.as_slice();
        let other = if tag == b"?" {
            State::Pi
        } else if tag == b"!--" {
            State::Comment
        } else if tag == b"![CDATA[" {
            State::CData
        } else if tag.len() == 8 && tag.eq_ignore_ascii_case(b"!DOCTYPE") {
            return Err(Problem::Dtd);
        } else {
            if (b == b'"' || b == b'\'') && !matches!(tag.first(), Some(b'/' | b'!')) {
                self.state = State::Tag { quote: Some(b) };
            }
            return Ok(());
        };
        if other != State::Pi
            && let Some(noter) = self.noter.as_mut()
        {
            noter.markup_declaration();
        }
        self.state = other;
        self.tail = [0, 0];
        Ok(())
    }

    /// The end of the tag gathered in `tag`.
    fn end_tag(&mut self, counts: &mut Counts) -> Result<(), Problem> {
        let tag = std::mem::take(&mut self.tag);
        let result = self.tag_found(&tag, counts);
        self.tag = tag;
        result
    }

    /// A whole tag, the bytes between `<` and `>`.
    #[inline]
    fn tag_found(&mut self, tag: &[u8], counts: &mut Counts) -> Result<(), Problem> {
        let result = if matches!(tag.first(), Some(b'/' | b'!')) {
            Ok(())
        } else {
            counts.start_tag(tag)
        };
        if result.is_ok()
            && let Some(noter) = self.noter.as_mut()
            && noter.wants_tags()
        {
            noter.tag(tag, &mut counts.style_room);
        }
        self.back_to_text();
        result
    }

    fn back_to_text(&mut self) {
        self.state = State::Text;
        self.len = 0;
    }

    /// The notes of the part, once all of it has been fed.
    fn finish(self, counts: &mut Counts) -> Option<super::notes::SheetNotes> {
        let whole = self.state == State::Text;
        self.noter?.finish(whole, &mut counts.style_room)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workbook::sniff::tests::zip_of;

    fn scan(xml: &[u8], max_cells: u64) -> Result<Counts, Problem> {
        let mut counts = Counts::new(max_cells);
        let mut t = XmlScan::new(None);
        // Feed in odd-sized chunks to cross item boundaries.
        for chunk in xml.chunks(7) {
            t.feed(chunk, &mut counts)?;
        }
        Ok(counts)
    }

    #[test]
    fn counts_shared_strings_and_honours_unique_count() {
        let xml = br#"<?xml version="1.0"?><sst xmlns="x" count="3" uniqueCount="3"><si><t>a</t></si><x:si/><si><t>&lt;c&gt;</t></si></sst>"#;
        assert_eq!(scan(xml, 10).unwrap().si, 3);
        assert_eq!(scan(xml, 2).err(), Some(Problem::TooMany { limit: 2 }));
        let bomb = br#"<sst uniqueCount="10000000000" count="1"><si><t>a</t></si></sst>"#;
        assert_eq!(
            scan(bomb, 2_000_000).err(),
            Some(Problem::TooMany { limit: 2_000_000 })
        );
        let huge = br#"<sst uniqueCount = '+99999999999999999999999'>"#;
        assert!(scan(huge, 2_000_000).is_err());
    }

    #[test]
    fn elements_inside_comments_cdata_and_attributes_are_not_items() {
        let xml = br#"<a><!-- <si> <si> --><![CDATA[<si>]]><b x="<si>" y='>'/><?pi <si> ?></a>"#;
        assert_eq!(scan(xml, 10).unwrap().si, 0);
    }

    #[test]
    fn long_items_and_dtds_are_refused() {
        let mut long = b"<t>".to_vec();
        long.extend(std::iter::repeat_n(b'a', MAX_XML_ITEM + 1));
        assert_eq!(scan(&long, 10).err(), Some(Problem::LongItem));
        let mut comment = b"<!--".to_vec();
        comment.extend(std::iter::repeat_n(b'>', MAX_XML_ITEM + 1));
        assert_eq!(scan(&comment, 10).err(), Some(Problem::LongItem));
        let mut attr = b"<a x=\"".to_vec();
        attr.extend(std::iter::repeat_n(b'>', MAX_XML_ITEM + 1));
        assert_eq!(scan(&attr, 10).err(), Some(Problem::LongItem));
        let dtd = br#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x/>"#;
        assert_eq!(scan(dtd, 10).err(), Some(Problem::Dtd));
    }

    #[test]
    fn too_many_merged_regions_are_refused() {
        let mut xml = b"<mergeCells>".to_vec();
        let region = br#"<mergeCell ref="A1:B2"/>"#;
        for _ in 0..=crate::workbook::grid::MAX_MERGED {
            xml.extend_from_slice(region);
        }
        let limit = crate::workbook::grid::MAX_MERGED;
        assert_eq!(scan(&xml, 10).err(), Some(Problem::TooMany { limit }));
    }

    #[test]
    fn too_many_sheets_are_refused() {
        let mut xml = b"<workbook><sheets>".to_vec();
        for i in 0..5000 {
            xml.extend(format!(r#"<sheet name="s{i}" sheetId="{i}" r:id="rId{i}"/>"#).bytes());
        }
        assert_eq!(scan(&xml, 10).err(), Some(Problem::TooMany { limit: 4096 }));
    }

    #[test]
    fn unpacked_budget_is_enforced() {
        let big = vec![b' '; 3000];
        let bytes = zip_of(&[("xl/worksheets/sheet1.xml", &big)]);
        let limits = Limits {
            max_bytes: 500,
            ..Limits::default()
        };
        assert_eq!(
            check(&bytes, &limits, Kind::Ooxml),
            Err(InspectError::TooLarge { limit: 2000 })
        );
        let ok = Limits {
            max_bytes: 1000,
            ..Limits::default()
        };
        assert_eq!(check(&bytes, &ok, Kind::Ooxml), Ok(()));
        // Binary parts get max_bytes each, not the whole budget.
        let bytes = zip_of(&[("xl/media/image1.png", &big)]);
        assert_eq!(
            check(&bytes, &ok, Kind::Ooxml),
            Err(InspectError::TooLarge { limit: 1000 })
        );
    }

    #[test]
    fn non_zips_are_unreadable_with_a_clear_message() {
        let got = check(b"hello", &Limits::default(), Kind::Ooxml);
        assert!(matches!(got, Err(InspectError::Unreadable(m)) if m.contains("not a zip")));
        let got = check(b"PK\x03\x04garbage", &Limits::default(), Kind::Odf);
        assert!(matches!(got, Err(InspectError::Unreadable(m)) if m.contains("damaged")));
    }

    /// The tokenizer as it was before it skipped runs: one byte at a time. The one in use
    /// must refuse exactly what this refused, for the same reason, and count the same.
    struct ByteScan {
        state: State,
        len: usize,
        max_item: usize,
        tag: Vec<u8>,
        tail: [u8; 2],
    }

    impl ByteScan {
        fn feed(&mut self, bytes: &[u8], counts: &mut Counts) -> Result<(), Problem> {
            for &b in bytes {
                self.len += 1;
                if self.len > self.max_item {
                    return Err(Problem::LongItem);
                }
                match self.state {
                    State::Text => {
                        if b == b'<' {
                            self.state = State::Tag { quote: None };
                            self.tag.clear();
                            self.len = 0;
                        }
                    }
                    State::Tag { quote: Some(q) } => {
                        self.tag.push(b);
                        if b == q {
                            self.state = State::Tag { quote: None };
                        }
                    }
                    State::Tag { quote: None } if b == b'>' => {
                        let result = if matches!(self.tag.first(), Some(b'/' | b'!')) {
                            Ok(())
                        } else {
                            counts.start_tag(&self.tag)
                        };
                        self.state = State::Text;
                        self.len = 0;
                        result?;
                    }
                    State::Tag { quote: None } => {
                        self.tag.push(b);
                        let tag = self.tag.as_slice();
                        if tag == b"?" {
                            self.state = State::Pi;
                            self.tail = [0, 0];
                        } else if tag == b"!--" {
                            self.state = State::Comment;
                            self.tail = [0, 0];
                        } else if tag == b"![CDATA[" {
                            self.state = State::CData;
                            self.tail = [0, 0];
                        } else if tag.len() == 8 && tag.eq_ignore_ascii_case(b"!DOCTYPE") {
                            return Err(Problem::Dtd);
                        } else if (b == b'"' || b == b'\'')
                            && !matches!(tag.first(), Some(b'/' | b'!'))
                        {
                            self.state = State::Tag { quote: Some(b) };
                        }
                    }
                    State::Comment | State::CData | State::Pi => {
                        let end = match self.state {
                            State::Comment => self.tail == *b"--",
                            State::CData => self.tail == *b"]]",
                            _ => self.tail[1] == b'?',
                        };
                        if b == b'>' && end {
                            self.state = State::Text;
                            self.len = 0;
                        }
                    }
                }
                self.tail = [self.tail[1], b];
            }
            Ok(())
        }
    }

    /// What a tokenizer makes of `xml` fed in `chunk`-byte pieces with items of at most
    /// `max_item` bytes: its counts, or the first problem.
    fn outcome(
        xml: &[u8],
        chunk: usize,
        max_item: usize,
        bytewise: bool,
    ) -> Result<(u64, Vec<u64>), Problem> {
        let mut counts = Counts::new(6);
        let mut fast = XmlScan::new(Some(Noter::default()));
        fast.max_item = max_item;
        let mut slow = ByteScan {
            state: State::Text,
            len: 0,
            max_item,
            tag: Vec::new(),
            tail: [0, 0],
        };
        for piece in xml.chunks(chunk) {
            if bytewise {
                slow.feed(piece, &mut counts)?;
            } else {
                fast.feed(piece, &mut counts)?;
            }
        }
        Ok((counts.si, counts.capped.to_vec()))
    }

    #[test]
    fn skipping_runs_refuses_and_counts_as_reading_byte_by_byte() {
        const PIECES: [&str; 30] = [
            "<si>",
            "<x:si/>",
            "</si>",
            "<c r=\"A1\" s=\"2\">",
            "<v>1</v>",
            "</c>",
            "\"",
            "'",
            ">",
            "<",
            "<!--",
            "-->",
            "--",
            "<![CDATA[",
            "]]>",
            "<?xml v='1'?>",
            "<?",
            "?>",
            "<!DOCTYPE x>",
            "<!doctype",
            "tëxt & more ",
            "<sst uniqueCount=\"9\">",
            "<mergeCell ref=\"A1:B2\"/>",
            "<a b='>' c=\">\">",
            "</a b=\">\">",
            "<sheet/>",
            "<!-->",
            "<!",
            "<xf>",
            "<!--x-->",
        ];
        let mut rng = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move |n: usize| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (rng % n as u64) as usize
        };
        let mut refusals = 0;
        for case in 0..3000 {
            let mut xml = Vec::new();
            for _ in 0..1 + next(40) {
                xml.extend_from_slice(PIECES[next(PIECES.len())].as_bytes());
            }
            let chunk = [1, 2, 3, 5, 8, 13, 64, 4096][case % 8];
            let max_item = [12, 25, 60, 4096][case % 4];
            let want = outcome(&xml, chunk, max_item, true);
            let got = outcome(&xml, chunk, max_item, false);
            refusals += usize::from(want.is_err());
            assert_eq!(
                got,
                want,
                "{:?} in pieces of {chunk}",
                String::from_utf8_lossy(&xml)
            );
        }
        // The cases reach every way of being refused.
        assert!(refusals > 300, "{refusals}");
    }

    /// The notes taken on `xml` fed in `chunk`-byte pieces.
    fn notes_of(xml: &str, chunk: usize) -> Option<crate::workbook::notes::SheetNotes> {
        let mut counts = Counts::new(1000);
        let mut t = XmlScan::new(Some(Noter::default()));
        for piece in xml.as_bytes().chunks(chunk) {
            t.feed(piece, &mut counts).unwrap();
        }
        t.finish(&mut counts)
    }

    fn sheet(body: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{body}</worksheet>"#
        )
    }

    const DATA: &str = r#"<sheetData><row r="1"><c r="A1" s="3" t="s"><v>0</v></c><c r="B1"><f>A1*2</f><v>2</v></c><c r="C1" s="12"/></row><row r="2"><c r="A2" t="inlineStr"><is><r><rPr><b/></rPr><t>R&amp;D</t></r></is></c><c s="0"><v>1</v></c></row></sheetData>"#;

    #[test]
    fn notes_each_cells_style_and_the_merged_regions() {
        let xml = sheet(&format!(
            r#"<dimension ref="A1:C2"/>{DATA}<mergeCells count="2"><mergeCell ref="A1:B1"/><mergeCell ref="c2"/></mergeCells><headerFooter><oddFooter>&amp;CTrang &amp;P — Đơn vị</oddFooter></headerFooter>"#
        ));
        for chunk in [1, 3, 7, 4096] {
            let notes = notes_of(&xml, chunk).unwrap();
            assert_eq!(notes.styles, Some(vec![3, 0, 12, 0, 0]));
            assert_eq!(notes.merged, Some(vec![(0, 0, 0, 1), (1, 2, 1, 2)]));
        }
        // No merged regions: what follows the data is read to the end, and must be plain.
        let xml = sheet(&format!(
            r#"{DATA}<headerFooter><oddFooter>&amp;CTrang &amp;P — Đơn vị</oddFooter></headerFooter>"#
        ));
        assert_eq!(notes_of(&xml, 5).unwrap().merged, Some(vec![]));
        // The first list only, wherever it is, as calamine reads it; a `mergeCell` without
        // `ref` is skipped.
        let xml = sheet(&format!(
            r#"<mergeCells><mergeCell/><x:mergeCell ref="B2:C3"/></mergeCells>{DATA}<mergeCells><mergeCell ref="A1"/></mergeCells>"#
        ));
        assert_eq!(notes_of(&xml, 2).unwrap().merged, Some(vec![(1, 1, 2, 2)]));
        // A key calamine cuts as `x ref` is no `ref`.
        let xml = sheet(&format!(
            r#"{DATA}<mergeCells><mergeCell x ref="A1"/></mergeCells>"#
        ));
        assert_eq!(notes_of(&xml, 2).unwrap().merged, Some(vec![]));
        let xml = sheet(&format!(
            r#"{DATA}<mergeCells/><mergeCells><mergeCell ref="A1"/></mergeCells>"#
        ));
        assert_eq!(notes_of(&xml, 2).unwrap().merged, Some(vec![]));
        // Not a worksheet, or no sheet data: no notes.
        assert_eq!(notes_of(r#"<sst><si><t>x</t></si></sst>"#, 9), None);
        assert_eq!(notes_of(&sheet("<cols/>"), 9), None);
    }

    #[test]
    fn notes_nothing_calamine_might_read_otherwise() {
        let plain = |tail: &str| sheet(&format!("{DATA}{tail}"));
        // Items the tokenizer and quick-xml might cut differently: no notes at all.
        for odd in [
            sheet(&format!("<!-- a comment -->{DATA}")),
            sheet(&format!("{DATA}<![CDATA[x]]>")),
            plain("<?>"),
            plain("</a \">"),
            plain("</worksheet></worksheet>"),
            plain("<a b=\""),
        ] {
            assert_eq!(notes_of(&odd, 4), None, "{odd}");
        }
        // Merged regions calamine would refuse or read its own way.
        for tail in [
            r#"<mergeCells><mergeCell ref="A0:B1"/></mergeCells>"#,
            r#"<mergeCells><mergeCell ref="$A$1:B2"/></mergeCells>"#,
            r#"<mergeCells><mergeCell ref="B2:A1"/></mergeCells>"#,
            r#"<mergeCells><mergeCell ref="A1:B2:C3"/></mergeCells>"#,
            r#"<mergeCells><mergeCell x=1 ref="A1:B2"/></mergeCells>"#,
            r#"<mergeCells><mergeCell ref="A1:B2"/>"#,
            "<oddFooter>a & b</oddFooter>",
            "<oddFooter>a &amp</oddFooter>",
        ] {
            let notes = notes_of(&plain(tail), 3).unwrap();
            assert_eq!(notes.merged, None, "{tail}");
            assert_eq!(notes.styles, Some(vec![3, 0, 12, 0, 0]));
        }
        let mut bad_utf8 = plain("<oddFooter>").into_bytes();
        bad_utf8.extend_from_slice(b"\xC3(</oddFooter>");
        let mut counts = Counts::new(1000);
        let mut t = XmlScan::new(Some(Noter::default()));
        t.feed(&bad_utf8, &mut counts).unwrap();
        assert_eq!(t.finish(&mut counts).unwrap().merged, None);
        // Cells calamine's readers might not see one for one with the notes.
        let deep = format!(
            "<sheetData>{}</sheetData>",
            "<a>".repeat(40) + &"</a>".repeat(40)
        );
        for data in [
            deep.as_str(),
            r#"<sheetData><row><c r="A1" s="1" s="2"><v>1</v></c></row></sheetData>"#,
            r#"<sheetData><row><c r="A1" r="B1"><v>1</v></c></row></sheetData>"#,
            r#"<sheetData><row><c r="A1" s="x"><v>1</v></c></row></sheetData>"#,
            r#"<sheetData><row><c r="A1" s><v>1</v></c></row></sheetData>"#,
            r#"<sheetData><row><c r="A1"><c r="B1"/></c></row></sheetData>"#,
            r#"<sheetData><row><c r="A1"><f></v></c></row></sheetData>"#,
            r#"<sheetData><row><c r="A1"><v>1</v></row></c></sheetData>"#,
            r#"<sheetData><sheetData/><c r="A1"/></sheetData>"#,
        ] {
            let notes = notes_of(&sheet(data), 3).unwrap();
            assert_eq!(notes.styles, None, "{data}");
            assert_eq!(notes.merged, Some(vec![]), "{data}");
        }
    }

    #[test]
    fn notes_give_way_past_the_packages_room_for_styles() {
        let xml = sheet(DATA);
        let mut counts = Counts::new(1000);
        counts.style_room = 7;
        let take = |counts: &mut Counts| {
            let mut t = XmlScan::new(Some(Noter::default()));
            t.feed(xml.as_bytes(), counts).unwrap();
            t.finish(counts).unwrap().styles
        };
        assert_eq!(take(&mut counts), Some(vec![3, 0, 12, 0, 0]));
        assert_eq!(counts.style_room, 2);
        assert_eq!(take(&mut counts), None);
        // What was not kept is given back.
        assert_eq!(counts.style_room, 2);
    }
}
