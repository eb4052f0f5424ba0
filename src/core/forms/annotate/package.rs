//! # The agency's own package, marked
//!
//! Copies an xlsx/xlsm zip part by part: untouched parts are copied compressed, as they are;
//! the parts marking needs are written anew — the marked worksheets (streamed, module
//! `sheet`), their comments, drawings and relationships (module `notes`), `styles.xml`
//! (module `styles`), the workbook part (the summary sheet first, the marker and copy digest
//! as defined names, sheet-local names and the active tab moved along), its relationships and
//! `[Content_Types].xml`. A copy of ours marked again (a corrected copy sent back) has its
//! earlier summary replaced and its earlier marks' fills cleared (their notes stay, under our
//! author's name); an xlsm's macros (`vbaProject.bin`) are dropped. Parts written anew are first compressed into a
//! staging zip, so the copy keeps the original's part order while memory holds compressed
//! bytes only.

use std::collections::{HashMap, HashSet};
use std::io::{BufWriter, Cursor, Read, Write};

use quick_xml::Writer;
use quick_xml::events::{BytesStart, Event};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use super::notes::{self, Notes};
use super::styles::Styles;
use super::summary::{self, Line};
use super::xml::{self, NS_MAIN, PackageError, esc};
use super::{Names, SUMMARY_SHEET, locate, summary_row, tally};
use crate::core::forms::blank::MARKER_NAME;
use crate::core::forms::spec::{FormSpec, Severity};
use crate::core::forms::validate::Finding;
use crate::workbook::Grid;
use crate::workbook::copymark::{COPY_NAME, CopyDigest};

/// Size of the read and write buffers of a streamed sheet.
const BUFFER: usize = 256 * 1024;

/// Largest part read whole into memory (workbook, relationships, styles, comments, drawings).
const MAX_SMALL_PART: u64 = 32 * 1024 * 1024;

const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const REL_WORKSHEET: &str =
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet";
const REL_COMMENTS: &str =
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/comments";
const REL_VML: &str =
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/vmlDrawing";
const REL_DOCUMENT: &str =
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument";
const NS_PACKAGE_RELS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";

const TYPE_WORKSHEET: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml";
const TYPE_COMMENTS: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml";
const TYPE_VML: &str = "application/vnd.openxmlformats-officedocument.vmlDrawing";
const TYPE_RELS: &str = "application/vnd.openxmlformats-package.relationships+xml";
const TYPE_WORKBOOK: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml";

/// Elements of a workbook part that come after `<definedNames>`.
const AFTER_DEFINED_NAMES: [&str; 10] = [
    "calcPr",
    "oleSize",
    "customWorkbookViews",
    "pivotCaches",
    "smartTagPr",
    "smartTagTypes",
    "webPublishing",
    "fileRecoveryPr",
    "webPublishObjects",
    "extLst",
];

/// One relationship of a part.
#[derive(Debug, Clone)]
struct Rel {
    id: String,
    kind: String,
    /// The target part's name in the zip, resolved; None for external targets.
    part: Option<String>,
}

/// One sheet of the workbook part.
#[derive(Debug, Clone)]
struct SheetEntry {
    name: String,
    sheet_id: u32,
    rel: String,
}

/// The zip being copied: its parts by lowercase name.
struct Package<'a> {
    zip: ZipArchive<Cursor<&'a [u8]>>,
    names: Vec<String>,
    by_lower: HashMap<String, String>,
}

impl<'a> Package<'a> {
    fn open(bytes: &'a [u8]) -> Result<Package<'a>, PackageError> {
        let zip = ZipArchive::new(Cursor::new(bytes))?;
        let mut names = Vec::with_capacity(zip.len());
        for i in 0..zip.len() {
            let name = zip
                .name_for_index(i)
                .ok_or_else(|| PackageError::Unsupported("a zip entry has no name".into()))??
                .into_owned();
            names.push(name);
        }
        let by_lower = names
            .iter()
            .map(|n| (n.to_lowercase(), n.clone()))
            .collect();
        Ok(Package {
            zip,
            names,
            by_lower,
        })
    }

    /// The zip's own name for a part name (part names are case-insensitive).
    fn actual(&self, part: &str) -> Option<String> {
        self.by_lower.get(&part.to_lowercase()).cloned()
    }

    fn has(&self, part: &str) -> bool {
        self.actual(part).is_some()
    }

    /// A small part, whole.
    fn read(&mut self, part: &str) -> Result<Vec<u8>, PackageError> {
        let name = self
            .actual(part)
            .ok_or_else(|| PackageError::Unsupported(format!("part {part} is missing")))?;
        let file = self.zip.by_name(&name)?;
        let mut out = Vec::new();
        file.take(MAX_SMALL_PART + 1).read_to_end(&mut out)?;
        if out.len() as u64 > MAX_SMALL_PART {
            return Err(PackageError::Unsupported(format!(
                "part {part} is too large"
            )));
        }
        Ok(out)
    }

    /// A part name not taken yet, from `stem` + n + `ext`.
    fn free_name(&self, stem: &str, ext: &str, taken: &HashSet<String>) -> String {
        (1u32..)
            .map(|n| format!("{stem}{n}{ext}"))
            .find(|n| !self.has(n) && !taken.contains(&n.to_lowercase()))
            .unwrap_or_default()
    }
}

/// The folder of a part ("xl/" for "xl/workbook.xml").
fn folder(part: &str) -> &str {
    part.rfind('/').map_or("", |i| &part[..=i])
}

/// The relationships part of a part ("xl/_rels/workbook.xml.rels").
fn rels_of(part: &str) -> String {
    let (dir, file) = part.rsplit_once('/').unwrap_or(("", part));
    if dir.is_empty() {
        format!("_rels/{file}.rels")
    } else {
        format!("{dir}/_rels/{file}.rels")
    }
}

/// A relationship target resolved against the folder of its source part.
fn resolve(source_folder: &str, target: &str) -> String {
    let joined = match target.strip_prefix('/') {
        Some(absolute) => absolute.to_string(),
        None => format!("{source_folder}{target}"),
    };
    let mut parts: Vec<&str> = Vec::new();
    for seg in joined.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

/// The relationships of a part, from its `.rels` part (none when it has none).
fn read_rels(pkg: &mut Package<'_>, source: &str) -> Result<Vec<Rel>, PackageError> {
    let rels_part = rels_of(source);
    if !pkg.has(&rels_part) {
        return Ok(Vec::new());
    }
    let bytes = pkg.read(&rels_part)?;
    let mut reader = xml::reader(bytes.as_slice());
    let mut buf = Vec::new();
    let mut out = Vec::new();
    loop {
        buf.clear();
        match reader
            .read_event_into(&mut buf)
            .map_err(PackageError::xml(&rels_part))?
        {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "Relationship" => {
                let external = xml::attr(&e, "TargetMode").as_deref() == Some("External");
                let target = xml::attr(&e, "Target").unwrap_or_default();
                out.push(Rel {
                    id: xml::attr(&e, "Id").unwrap_or_default(),
                    kind: xml::attr(&e, "Type").unwrap_or_default(),
                    part: (!external).then(|| resolve(folder(source), &target)),
                });
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

/// An id not among `rels`, from `stem`.
fn free_id(rels: &[Rel], stem: &str) -> String {
    (1u32..)
        .map(|n| format!("{stem}{n}"))
        .find(|id| !rels.iter().any(|r| r.id.eq_ignore_ascii_case(id)))
        .unwrap_or_default()
}

/// How the parts written anew are packed: a fast deflate level. A sheet rewritten with its
/// marks was most of a copy's cost at the default level; level 2 packs sheet XML about as
/// small (level 1 leaves it far larger, and the copy travels by mail).
fn options() -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(2))
        .last_modified_time(zip::DateTime::default())
}

/// The marked copy of an xlsx/xlsm package.
pub(super) fn mark(
    bytes: &[u8],
    grid: &Grid,
    findings: &[Finding],
    spec: Option<&FormSpec>,
    title: &str,
    digest: &str,
    marker: Option<&str>,
) -> Result<Vec<u8>, PackageError> {
    let mut pkg = Package::open(bytes)?;
    let root_rels = read_rels(&mut pkg, "")?;
    let workbook_part = root_rels
        .iter()
        .find(|r| r.kind == REL_DOCUMENT)
        .and_then(|r| r.part.clone())
        .ok_or_else(|| PackageError::Unsupported("no workbook part".into()))?;
    let workbook_part = pkg
        .actual(&workbook_part)
        .ok_or_else(|| PackageError::Unsupported("the workbook part is missing".into()))?;
    let workbook_xml = pkg.read(&workbook_part)?;
    let book = survey_workbook(&workbook_part, &workbook_xml)?;
    let book_rels = read_rels(&mut pkg, &workbook_part)?;
    if book_rels
        .iter()
        .any(|r| r.kind.ends_with("/xlMacrosheet") || r.kind.ends_with("/xlIntlMacrosheet"))
    {
        return Err(PackageError::Unsupported(
            "the workbook has Excel 4 macro sheets".into(),
        ));
    }
    let styles_part = book_rels
        .iter()
        .find(|r| r.kind.ends_with("/styles"))
        .and_then(|r| r.part.clone())
        .and_then(|p| pkg.actual(&p))
        .ok_or_else(|| PackageError::Unsupported("the workbook has no styles part".into()))?;
    let styles_xml = pkg.read(&styles_part)?;
    let mut styles = Styles::survey(&styles_part, &styles_xml)?;

    // What goes: macros, and the summary of an earlier copy.
    let mut dropped: HashSet<String> = HashSet::new();
    let mut dropped_rels: HashSet<String> = HashSet::new();
    for r in &book_rels {
        if r.kind.ends_with("/vbaProject") {
            dropped_rels.insert(r.id.clone());
            if let Some(p) = &r.part {
                dropped.insert(p.to_lowercase());
                dropped.insert(rels_of(p).to_lowercase());
            }
        }
    }
    for n in &pkg.names {
        if n.to_lowercase().contains("vbaprojectsignature") {
            dropped.insert(n.to_lowercase());
        }
    }
    let removed = book.sheets.iter().position(|s| s.name == SUMMARY_SHEET);
    // Excel's sheet names are unique whatever their case: a sheet of the agency's that only
    // differs in case from ours is theirs, and is kept by the rebuilt route's renaming.
    if book
        .sheets
        .iter()
        .any(|s| s.name != SUMMARY_SHEET && s.name.to_lowercase() == SUMMARY_SHEET.to_lowercase())
    {
        return Err(PackageError::Unsupported(
            "a sheet of the workbook is named like the summary".into(),
        ));
    }
    if let Some(i) = removed {
        let rel = &book.sheets[i].rel;
        dropped_rels.insert(rel.clone());
        if let Some(p) = book_rels
            .iter()
            .find(|r| &r.id == rel)
            .and_then(|r| r.part.clone())
        {
            dropped.insert(p.to_lowercase());
            dropped.insert(rels_of(&p).to_lowercase());
        }
    }

    // Marks by worksheet part.
    let names = Names { spec };
    let (marks, located) = locate(grid, findings, &names, |s| s.name != SUMMARY_SHEET);
    let mut staging = Staging {
        zip: ZipWriter::new(Cursor::new(Vec::new())),
        written: HashSet::new(),
        new_types: Vec::new(),
    };
    // A copy of ours coming back: the marks of the earlier round go with its summary, so
    // every worksheet is streamed, its cells in an earlier mark's format made plain again.
    if removed.is_some() {
        styles.clear_earlier_marks();
    }
    let no_marks = super::SheetMarks::new();
    let streamed: Vec<(usize, &super::SheetMarks)> = if styles.clearing() {
        (0..grid.sheets.len())
            .filter(|i| grid.sheets[*i].name != SUMMARY_SHEET)
            .map(|i| (i, marks.get(&i).unwrap_or(&no_marks)))
            .collect()
    } else {
        marks.iter().map(|(i, m)| (*i, m)).collect()
    };
    for (i, sheet_marks) in streamed {
        let name = &grid.sheets[i].name;
        let Some(entry) = book.sheets.iter().find(|s| &s.name == name) else {
            continue;
        };
        // Only worksheets hold cells to mark (a chart sheet's findings are only listed).
        let Some(part) = book_rels
            .iter()
            .find(|r| r.id == entry.rel && r.kind == REL_WORKSHEET)
            .and_then(|r| r.part.clone())
            .and_then(|p| pkg.actual(&p))
        else {
            continue;
        };
        let idmap = 100 + u32::try_from(i).unwrap_or(0);
        mark_sheet(
            &mut pkg,
            &mut staging,
            &part,
            idmap,
            sheet_marks,
            &mut styles,
        )?;
    }

    // The summary sheet.
    let lines: Vec<Line> = findings
        .iter()
        .zip(&located)
        .map(|(f, at)| Line {
            texts: summary_row(f, &names),
            error: f.severity == Severity::Error,
            link: at.map(|(i, r, c)| {
                format!(
                    "'{}'!{}",
                    grid.sheets[i].name.replace('\'', "''"),
                    super::a1(r, c)
                )
            }),
        })
        .collect();
    let summary_part = pkg.free_name(
        &format!("{}worksheets/intakeSummary", folder(&workbook_part)),
        ".xml",
        &staging.written,
    );
    let summary_xml = summary::sheet(&super::fit(title), &tally(findings), &lines, &styles);
    staging.add(&summary_part, summary_xml.as_bytes())?;
    staging
        .new_types
        .push((summary_part.clone(), TYPE_WORKSHEET));

    // Styles, once every marked cell has its format.
    let mut sink = BufWriter::with_capacity(BUFFER, staging.start(&styles_part)?);
    styles.write(&styles_part, &styles_xml, &mut sink)?;
    sink.flush()?;
    drop(sink);

    // The workbook part and its relationships.
    let summary_rel = free_id(&book_rels, "rIdIntakeSummary");
    let mut names_xml = summary::defined_names(SUMMARY_SHEET, lines.len());
    if let Some(marker) = marker {
        names_xml.push_str(&format!(
            r#"<definedName name="{MARKER_NAME}">{}</definedName>"#,
            esc(&format!("\"{marker}\""))
        ));
    }
    let copy = CopyDigest::formula(digest);
    names_xml.push_str(&format!(
        r#"<definedName name="{COPY_NAME}">{}</definedName>"#,
        esc(copy.trim_start_matches('='))
    ));
    let new_sheet = SheetEntry {
        name: SUMMARY_SHEET.into(),
        sheet_id: book.sheets.iter().map(|s| s.sheet_id).max().unwrap_or(0) + 1,
        rel: summary_rel.clone(),
    };
    write_workbook(
        &workbook_part,
        &workbook_xml,
        &new_sheet,
        removed,
        &names_xml,
        staging.start(&workbook_part)?,
    )?;

    let book_rels_part = rels_of(&workbook_part);
    let book_rels_xml = pkg.read(&book_rels_part)?;
    let book_rels_name = pkg
        .actual(&book_rels_part)
        .unwrap_or(book_rels_part.clone());
    write_workbook_rels(
        &book_rels_part,
        &book_rels_xml,
        &dropped_rels,
        &format!(
            r#"<Relationship Id="{}" Type="{REL_WORKSHEET}" Target="/{}"/>"#,
            esc(&summary_rel),
            esc(&summary_part)
        ),
        staging.start(&book_rels_name)?,
    )?;

    let types_part = "[Content_Types].xml";
    let types_xml = pkg.read(types_part)?;
    let types_name = pkg.actual(types_part).unwrap_or(types_part.into());
    let new_types = std::mem::take(&mut staging.new_types);
    write_content_types(
        &types_xml,
        &workbook_part,
        &dropped,
        &new_types,
        staging.start(&types_name)?,
    )?;

    // The copy: the original's parts in its order, then the new ones.
    let written = staging.written;
    let staged = staging.zip.finish()?.into_inner();
    let mut staged = ZipArchive::new(Cursor::new(staged.as_slice()))?;
    let mut out = ZipWriter::new(Cursor::new(Vec::with_capacity(bytes.len() + 64 * 1024)));
    let originals: HashSet<String> = pkg.names.iter().map(|n| n.to_lowercase()).collect();
    for (i, name) in pkg.names.clone().iter().enumerate() {
        let lower = name.to_lowercase();
        if dropped.contains(&lower) {
            continue;
        }
        if written.contains(&lower) {
            out.raw_copy_file(staged.by_name(name)?)?;
        } else {
            out.raw_copy_file(pkg.zip.by_index_raw(i)?)?;
        }
    }
    for i in 0..staged.len() {
        let file = staged.by_index_raw(i)?;
        let lower = file.name().map(|n| n.to_lowercase()).unwrap_or_default();
        if !originals.contains(&lower) {
            out.raw_copy_file(file)?;
        }
    }
    Ok(out.finish()?.into_inner())
}

/// The parts written anew, compressed, until the copy is assembled.
struct Staging {
    zip: ZipWriter<Cursor<Vec<u8>>>,
    /// Their names, lowercase.
    written: HashSet<String>,
    /// The content types of the parts the original did not have.
    new_types: Vec<(String, &'static str)>,
}

impl Staging {
    /// Starts a part; its bytes go to the returned writer.
    fn start(&mut self, name: &str) -> Result<&mut ZipWriter<Cursor<Vec<u8>>>, PackageError> {
        self.zip.start_file(name, options())?;
        self.written.insert(name.to_lowercase());
        Ok(&mut self.zip)
    }

    /// A whole part.
    fn add(&mut self, name: &str, bytes: &[u8]) -> Result<(), PackageError> {
        self.start(name)?.write_all(bytes)?;
        Ok(())
    }
}

/// Marks one worksheet part: the sheet streamed, its notes into its comments part and
/// legacy drawing (its own, extended, or new ones), its relationships.
fn mark_sheet(
    pkg: &mut Package<'_>,
    staging: &mut Staging,
    part: &str,
    idmap: u32,
    marks: &super::SheetMarks,
    styles: &mut Styles,
) -> Result<(), PackageError> {
    let sheet_rels = read_rels(pkg, part)?;
    let vml_id = free_id(&sheet_rels, "rIdIntakeVml");
    let drawing = (!marks.is_empty()).then_some(vml_id.as_str());
    let marked = {
        let file = pkg.zip.by_name(part)?;
        // Buffered both ways (the reader in `sheet`): the deflater and quick-xml both work
        // best in large chunks.
        let mut sink = BufWriter::with_capacity(BUFFER, staging.start(part)?);
        let marked = super::sheet::mark(part, file, &mut sink, marks, styles, drawing)?;
        sink.flush()?;
        marked
    };
    if marks.is_empty() {
        // Streamed only to make an earlier copy's marks plain: no notes to add.
        return Ok(());
    }
    let related = |kind: &str| {
        sheet_rels
            .iter()
            .find(|r| r.kind == kind)
            .and_then(|r| r.part.clone())
            .and_then(|p| pkg.actual(&p))
    };
    let texts: Notes = marks.iter().map(|(at, m)| (*at, m.note())).collect();
    let mut new_rels: Vec<(String, &str, String)> = Vec::new();
    // Comments: the sheet's own, extended, or a part of ours; shapes for the cells that got
    // a comment of their own.
    let shapes: Vec<((u32, u32), usize)> = match related(REL_COMMENTS) {
        Some(comments) => {
            let old = pkg.read(&comments)?;
            let own = notes::merge_comments(&comments, &old, &texts, staging.start(&comments)?)?;
            texts
                .iter()
                .filter(|(at, _)| own.contains(at))
                .map(|(at, t)| (*at, t.lines().count()))
                .collect()
        }
        None => {
            let comments = pkg.free_name("xl/commentsIntake", ".xml", &staging.written);
            staging.add(&comments, notes::new_comments(&texts).as_bytes())?;
            staging.new_types.push((comments.clone(), TYPE_COMMENTS));
            let id = free_id(&sheet_rels, "rIdIntakeNotes");
            new_rels.push((id, REL_COMMENTS, comments));
            texts
                .iter()
                .map(|(at, t)| (*at, t.lines().count()))
                .collect()
        }
    };
    // Shapes: into the sheet's legacy drawing, or a drawing of ours.
    match &marked.legacy_drawing {
        Some(id) => {
            let vml = sheet_rels
                .iter()
                .find(|r| &r.id == id)
                .and_then(|r| r.part.clone())
                .and_then(|p| pkg.actual(&p))
                .ok_or_else(|| {
                    PackageError::Unsupported(format!("the legacy drawing of {part} is missing"))
                })?;
            let old = pkg.read(&vml)?;
            let new = notes::extend_vml(&vml, &old, &shapes)?;
            staging.add(&vml, &new)?;
        }
        None => {
            let vml = pkg.free_name("xl/drawings/vmlDrawingIntake", ".vml", &staging.written);
            staging.add(&vml, notes::new_vml(&shapes, idmap).as_bytes())?;
            staging.new_types.push((vml.clone(), TYPE_VML));
            new_rels.push((vml_id, REL_VML, vml));
        }
    }
    // The sheet's relationships.
    let rels_part = rels_of(part);
    let mut added = String::new();
    for (id, kind, target) in &new_rels {
        added.push_str(&format!(
            r#"<Relationship Id="{}" Type="{kind}" Target="/{}"/>"#,
            esc(id),
            esc(target)
        ));
    }
    match pkg.actual(&rels_part) {
        Some(rels_name) => {
            let old = pkg.read(&rels_part)?;
            let out = staging.start(&rels_name)?;
            append_before_end(&rels_part, &old, "Relationships", &added, out)?;
        }
        None => {
            let text = format!(
                r#"{}<Relationships xmlns="{NS_PACKAGE_RELS}">{added}</Relationships>"#,
                xml::DECL
            );
            staging.add(&rels_part, text.as_bytes())?;
            staging.new_types.push((rels_part, TYPE_RELS));
        }
    }
    Ok(())
}

/// What the workbook part says: its sheets.
struct Book {
    sheets: Vec<SheetEntry>,
}

fn survey_workbook(part: &str, bytes: &[u8]) -> Result<Book, PackageError> {
    let mut reader = xml::reader(bytes);
    let mut buf = Vec::new();
    let mut sheets = Vec::new();
    let mut root = true;
    loop {
        buf.clear();
        match reader
            .read_event_into(&mut buf)
            .map_err(PackageError::xml(part))?
        {
            Event::Start(e) | Event::Empty(e) => {
                if root {
                    root = false;
                    let main = e.attributes().flatten().any(|a| {
                        a.key.as_ref().starts_with("xmlns") && a.value.as_ref() == NS_MAIN
                    });
                    if !main {
                        return Err(PackageError::Unsupported(
                            "the workbook is not transitional SpreadsheetML".into(),
                        ));
                    }
                }
                if e.local_name().as_ref() == "sheet" {
                    sheets.push(SheetEntry {
                        name: xml::attr(&e, "name").unwrap_or_default(),
                        sheet_id: xml::attr(&e, "sheetId")
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(0),
                        rel: rel_id(&e).unwrap_or_default(),
                    });
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(Book { sheets })
}

/// The `r:id` of an element (whatever the prefix bound to the relationships namespace).
fn rel_id(e: &BytesStart<'_>) -> Option<String> {
    e.attributes().flatten().find_map(|a| {
        (a.key.local_name().as_ref() == "id" && a.key.prefix().is_some())
            .then(|| a.value.clone().into_owned())
    })
}

/// The prefix a sheet element uses for its relationship id ("r").
fn rel_prefix(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    text.find(&format!("=\"{REL}\""))
        .and_then(|at| {
            let before = &text[..at];
            let start = before.rfind("xmlns:")? + "xmlns:".len();
            Some(before[start..].to_string())
        })
        .unwrap_or_else(|| "r".into())
}

#[allow(clippy::too_many_arguments)] // the workbook's parts and what changes in it
fn write_workbook<W: Write>(
    part: &str,
    bytes: &[u8],
    new_sheet: &SheetEntry,
    removed: Option<usize>,
    names_xml: &str,
    out: W,
) -> Result<(), PackageError> {
    let moved = |old: usize| -> Option<usize> {
        match removed {
            Some(r) if r == old => None,
            Some(r) if old > r => Some(old),
            _ => Some(old + 1),
        }
    };
    let rel = rel_prefix(bytes);
    let mut reader = xml::reader(bytes);
    let mut writer = Writer::new(out);
    let mut buf = Vec::new();
    let mut depth = 0usize;
    let mut prefix = String::new();
    let mut names_done = false;
    let mut sheet_no = 0usize;
    let ours = |prefix: &str| {
        if prefix.is_empty() {
            names_xml.to_string()
        } else {
            names_xml
                .replace("<definedName", &format!("<{prefix}definedName"))
                .replace("</definedName", &format!("</{prefix}definedName"))
        }
    };
    loop {
        buf.clear();
        let ev = reader
            .read_event_into(&mut buf)
            .map_err(PackageError::xml(part))?;
        let (open, empty) = match &ev {
            Event::Start(e) => (Some(e.clone().into_owned()), false),
            Event::Empty(e) => (Some(e.clone().into_owned()), true),
            _ => (None, false),
        };
        if let Some(e) = open {
            let name = xml::local(&e);
            if depth == 0 {
                prefix = xml::prefix_of(&e);
            }
            match (depth, name.as_str()) {
                (1, "sheets") => {
                    writer.write_event(Event::Start(e.borrow()))?;
                    let mut s = BytesStart::new(format!("{prefix}sheet"));
                    s.push_attribute(("name", new_sheet.name.as_str()));
                    s.push_attribute(("sheetId", new_sheet.sheet_id.to_string().as_str()));
                    s.push_attribute((format!("{rel}:id").as_str(), new_sheet.rel.as_str()));
                    writer.write_event(Event::Empty(s))?;
                    if empty {
                        writer.write_event(Event::End(e.to_end()))?;
                    } else {
                        depth += 1;
                    }
                    continue;
                }
                (2, "sheet") => {
                    let no = sheet_no;
                    sheet_no += 1;
                    if removed == Some(no) {
                        if !empty {
                            xml::finish_element::<_, Vec<u8>>(&mut reader, &mut buf, None, part)?;
                        }
                        continue;
                    }
                }
                (2, "workbookView") => {
                    let active = xml::attr(&e, "activeTab")
                        .and_then(|v| v.parse::<usize>().ok())
                        .unwrap_or(0);
                    let active = moved(active).unwrap_or(0);
                    let e = xml::rewrite(&e, &[("activeTab", active.to_string())], &[]);
                    write_open(&mut writer, e, empty)?;
                    if !empty {
                        depth += 1;
                    }
                    continue;
                }
                (1, "definedNames") => {
                    writer.write_event(Event::Start(e.borrow()))?;
                    if empty {
                        writer.get_mut().write_all(ours(&prefix).as_bytes())?;
                        writer.write_event(Event::End(e.to_end()))?;
                        names_done = true;
                    } else {
                        depth += 1;
                    }
                    continue;
                }
                (2, "definedName") => {
                    let own = xml::attr(&e, "name").is_some_and(|n| {
                        n.eq_ignore_ascii_case(COPY_NAME) || n.eq_ignore_ascii_case(MARKER_NAME)
                    });
                    let local = xml::attr(&e, "localSheetId").and_then(|v| v.parse::<usize>().ok());
                    let keep = !own && local.is_none_or(|l| moved(l).is_some());
                    if !keep {
                        if !empty {
                            xml::finish_element::<_, Vec<u8>>(&mut reader, &mut buf, None, part)?;
                        }
                        continue;
                    }
                    let e = match local.and_then(moved) {
                        Some(l) => xml::rewrite(&e, &[("localSheetId", l.to_string())], &[]),
                        None => e,
                    };
                    write_open(&mut writer, e, empty)?;
                    if !empty {
                        depth += 1;
                    }
                    continue;
                }
                (1, n) if !names_done && AFTER_DEFINED_NAMES.contains(&n) => {
                    let text = format!(
                        "<{prefix}definedNames>{}</{prefix}definedNames>",
                        ours(&prefix)
                    );
                    writer.get_mut().write_all(text.as_bytes())?;
                    names_done = true;
                }
                _ => {}
            }
            write_open(&mut writer, e, empty)?;
            if !empty {
                depth += 1;
            }
            continue;
        }
        match ev {
            Event::Eof => break,
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                let name = e.local_name().as_ref().to_string();
                match (depth, name.as_str()) {
                    (1, "definedNames") => {
                        writer.get_mut().write_all(ours(&prefix).as_bytes())?;
                        names_done = true;
                    }
                    (0, _) if !names_done => {
                        let text = format!(
                            "<{prefix}definedNames>{}</{prefix}definedNames>",
                            ours(&prefix)
                        );
                        writer.get_mut().write_all(text.as_bytes())?;
                        names_done = true;
                    }
                    _ => {}
                }
                writer.write_event(Event::End(e))?;
            }
            other => writer.write_event(other)?,
        }
    }
    Ok(())
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

/// The workbook's relationships without `dropped` ids, with `added` appended.
fn write_workbook_rels<W: Write>(
    part: &str,
    bytes: &[u8],
    dropped: &HashSet<String>,
    added: &str,
    out: W,
) -> Result<(), PackageError> {
    let mut reader = xml::reader(bytes);
    let mut writer = Writer::new(out);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let ev = reader
            .read_event_into(&mut buf)
            .map_err(PackageError::xml(part))?;
        match &ev {
            Event::Empty(e) | Event::Start(e)
                if e.local_name().as_ref() == "Relationship"
                    && xml::attr(e, "Id").is_some_and(|id| dropped.contains(&id)) =>
            {
                if matches!(ev, Event::Start(_)) {
                    xml::finish_element::<_, Vec<u8>>(&mut reader, &mut buf, None, part)?;
                }
            }
            Event::End(e) if e.local_name().as_ref() == "Relationships" => {
                writer.get_mut().write_all(added.as_bytes())?;
                writer.write_event(ev)?;
            }
            Event::Eof => break,
            _ => writer.write_event(ev)?,
        }
    }
    Ok(())
}

/// `[Content_Types].xml` without the dropped parts, with the workbook a plain xlsx and the
/// new parts' types.
fn write_content_types<W: Write>(
    bytes: &[u8],
    workbook_part: &str,
    dropped: &HashSet<String>,
    added: &[(String, &str)],
    out: W,
) -> Result<(), PackageError> {
    let part = "[Content_Types].xml";
    let mut reader = xml::reader(bytes);
    let mut writer = Writer::new(out);
    let mut buf = Vec::new();
    let workbook_name = format!("/{workbook_part}").to_lowercase();
    loop {
        buf.clear();
        let ev = reader
            .read_event_into(&mut buf)
            .map_err(PackageError::xml(part))?;
        match &ev {
            Event::Empty(e) | Event::Start(e) if e.local_name().as_ref() == "Override" => {
                let name = xml::attr(e, "PartName").unwrap_or_default().to_lowercase();
                let start = matches!(ev, Event::Start(_));
                if dropped.contains(name.trim_start_matches('/')) {
                    if start {
                        xml::finish_element::<_, Vec<u8>>(&mut reader, &mut buf, None, part)?;
                    }
                    continue;
                }
                let e = if name == workbook_name {
                    xml::rewrite(e, &[("ContentType", TYPE_WORKBOOK.into())], &[])
                } else {
                    e.clone().into_owned()
                };
                write_open(&mut writer, e, !start)?;
            }
            Event::End(e) if e.local_name().as_ref() == "Types" => {
                let mut text = String::new();
                for (name, kind) in added {
                    text.push_str(&format!(
                        r#"<Override PartName="/{}" ContentType="{kind}"/>"#,
                        esc(name)
                    ));
                }
                writer.get_mut().write_all(text.as_bytes())?;
                writer.write_event(ev)?;
            }
            Event::Eof => break,
            _ => writer.write_event(ev)?,
        }
    }
    Ok(())
}

/// A part with `added` written just before the end tag of its root `root`.
fn append_before_end<W: Write>(
    part: &str,
    bytes: &[u8],
    root: &str,
    added: &str,
    out: W,
) -> Result<(), PackageError> {
    let mut reader = xml::reader(bytes);
    let mut writer = Writer::new(out);
    let mut buf = Vec::new();
    let mut done = false;
    loop {
        buf.clear();
        let ev = reader
            .read_event_into(&mut buf)
            .map_err(PackageError::xml(part))?;
        match &ev {
            Event::End(e) if e.local_name().as_ref() == root => {
                writer.get_mut().write_all(added.as_bytes())?;
                writer.write_event(ev)?;
                done = true;
            }
            Event::Empty(e) if e.local_name().as_ref() == root => {
                let e = e.clone().into_owned();
                writer.write_event(Event::Start(e.borrow()))?;
                writer.get_mut().write_all(added.as_bytes())?;
                writer.write_event(Event::End(e.to_end()))?;
                done = true;
            }
            Event::Eof => break,
            _ => writer.write_event(ev)?,
        }
    }
    if !done {
        return Err(PackageError::Unsupported(format!(
            "part {part} has no {}",
            root
        )));
    }
    Ok(())
}
