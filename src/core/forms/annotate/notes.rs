//! # Notes of a marked package
//!
//! A cell note in SpreadsheetML is two parts: the text in the sheet's comments part and a
//! shape in its legacy VML drawing, which Excel needs to show it. A sheet without notes gets
//! both, new; a sheet with notes keeps them: ours are appended to its comments part (under an
//! author of our own; on a cell that already has a note, our lines are added to that note)
//! and our shapes to its drawing, whose other shapes (form controls, the agency's notes) stay.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;

use quick_xml::Writer;
use quick_xml::events::Event;

use super::xml::{self, DECL, NS_MAIN, PackageError, esc};

/// The author our notes are written under.
pub(super) const AUTHOR: &str = "Kiểm tra số liệu";

/// The notes of one sheet: text by (row, col), in cell order.
pub(super) type Notes = BTreeMap<(u32, u32), String>;

/// The rich-text run of a note's text.
fn run(text: &str) -> String {
    format!(
        r#"<r><rPr><sz val="9"/><color indexed="81"/><rFont val="Tahoma"/><family val="2"/></rPr><t xml:space="preserve">{}</t></r>"#,
        esc(text)
    )
}

fn comment(at: (u32, u32), author: usize, text: &str) -> String {
    format!(
        r#"<comment ref="{}" authorId="{author}"><text>{}</text></comment>"#,
        super::a1(at.0, at.1),
        run(text)
    )
}

/// A comments part holding `notes`.
pub(super) fn new_comments(notes: &Notes) -> String {
    let mut out = format!(
        r#"{DECL}<comments xmlns="{NS_MAIN}"><authors><author>{}</author></authors><commentList>"#,
        esc(AUTHOR)
    );
    for (at, text) in notes {
        out.push_str(&comment(*at, 0, text));
    }
    out.push_str("</commentList></comments>");
    out
}

/// Streams an existing comments part with `notes` merged in; answers the cells that got a
/// note of their own (and so need a shape).
pub(super) fn merge_comments<W: Write>(
    part: &str,
    bytes: &[u8],
    notes: &Notes,
    out: W,
) -> Result<HashSet<(u32, u32)>, PackageError> {
    let mut reader = xml::reader(bytes);
    let mut writer = Writer::new(out);
    let mut buf = Vec::new();
    let mut depth = 0usize;
    let mut authors = 0usize;
    let mut prefix = String::new();
    let mut current: Option<(u32, u32)> = None;
    let mut merged: HashSet<(u32, u32)> = HashSet::new();
    let mut appended = false;
    let append_new = |w: &mut Writer<W>,
                      authors: usize,
                      merged: &HashSet<(u32, u32)>,
                      prefix: &str|
     -> Result<(), PackageError> {
        for (at, text) in notes.iter().filter(|(at, _)| !merged.contains(at)) {
            let c = comment(*at, authors, text);
            let c = if prefix.is_empty() {
                c
            } else {
                // The part names its elements with a prefix: ours follow it.
                c.replace("<", &format!("<{prefix}"))
                    .replace(&format!("<{prefix}/"), &format!("</{prefix}"))
            };
            w.get_mut().write_all(c.as_bytes())?;
        }
        Ok(())
    };
    loop {
        buf.clear();
        let ev = reader
            .read_event_into(&mut buf)
            .map_err(PackageError::xml(part))?;
        match &ev {
            Event::Start(e) | Event::Empty(e) => {
                let empty = matches!(ev, Event::Empty(_));
                let name = xml::local(e);
                if depth == 0 {
                    prefix = xml::prefix_of(e);
                }
                match (depth, name.as_str()) {
                    (1, "authors") | (1, "commentList") if empty => {
                        let e = e.clone().into_owned();
                        writer.write_event(Event::Start(e.borrow()))?;
                        if name == "authors" {
                            write_author(&mut writer, &prefix)?;
                        } else {
                            append_new(&mut writer, authors, &merged, &prefix)?;
                            appended = true;
                        }
                        writer.write_event(Event::End(e.to_end()))?;
                        continue;
                    }
                    (2, "author") => authors += 1,
                    (2, "comment") => {
                        current = xml::attr(e, "ref").and_then(|r| super::parse_a1(&r));
                        if current.is_some_and(|at| notes.contains_key(&at)) && empty {
                            // A note without text: ours cannot be added inside it.
                            current = None;
                        }
                    }
                    _ => {}
                }
                if !empty {
                    depth += 1;
                }
                writer.write_event(ev)?;
            }
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                let name = e.local_name().as_ref().to_string();
                match (depth, name.as_str()) {
                    (1, "authors") => write_author(&mut writer, &prefix)?,
                    (1, "commentList") => {
                        append_new(&mut writer, authors, &merged, &prefix)?;
                        appended = true;
                    }
                    (3, "text") => {
                        if let Some(at) = current
                            && let Some(text) = notes.get(&at)
                            && merged.insert(at)
                        {
                            let r = run(&format!("\n{text}"));
                            let r = if prefix.is_empty() {
                                r
                            } else {
                                r.replace("<", &format!("<{prefix}"))
                                    .replace(&format!("<{prefix}/"), &format!("</{prefix}"))
                            };
                            writer.get_mut().write_all(r.as_bytes())?;
                        }
                    }
                    (2, "comment") => current = None,
                    _ => {}
                }
                writer.write_event(ev)?;
            }
            Event::Eof => break,
            _ => writer.write_event(ev)?,
        }
    }
    if !appended {
        return Err(PackageError::Unsupported(format!(
            "comments part {part} has no comment list"
        )));
    }
    Ok(notes
        .keys()
        .filter(|at| !merged.contains(at))
        .copied()
        .collect())
}

fn write_author<W: Write>(writer: &mut Writer<W>, prefix: &str) -> Result<(), PackageError> {
    let text = format!("<{prefix}author>{}</{prefix}author>", esc(AUTHOR));
    writer.get_mut().write_all(text.as_bytes())?;
    Ok(())
}

/// The namespaces of a VML drawing, and the prefixes Excel gives them.
const VML_NS: [(&str, &str); 3] = [
    ("v", "urn:schemas-microsoft-com:vml"),
    ("o", "urn:schemas-microsoft-com:office:office"),
    ("x", "urn:schemas-microsoft-com:office:excel"),
];

/// The prefixes a drawing binds to the VML, Office and Excel namespaces.
#[derive(Debug, Clone)]
struct Prefixes {
    v: String,
    o: String,
    x: String,
}

impl Default for Prefixes {
    fn default() -> Self {
        Prefixes {
            v: "v".into(),
            o: "o".into(),
            x: "x".into(),
        }
    }
}

/// The shape type of a note, as Excel writes it.
fn shapetype(p: &Prefixes) -> String {
    let Prefixes { v, o, .. } = p;
    format!(
        r#"<{v}:shapetype id="_x0000_t202" coordsize="21600,21600" {o}:spt="202" path="m,l,21600r21600,l21600,xe"><{v}:stroke joinstyle="miter"/><{v}:path gradientshapeok="t" {o}:connecttype="rect"/></{v}:shapetype>"#
    )
}

/// The VML shape of a note at (row, col), `lines` long, with shape number `id`.
fn shape(p: &Prefixes, at: (u32, u32), lines: usize, id: u64) -> String {
    let Prefixes { v, o, x } = p;
    let (r, c) = at;
    let tall = 3 + lines.min(24) as u32;
    format!(
        r##"<{v}:shape id="_x0000_s{id}" type="#_x0000_t202" style="position:absolute;margin-left:59.25pt;margin-top:1.5pt;width:240pt;height:{h}pt;z-index:{z};visibility:hidden" fillcolor="#ffffe1" {o}:insetmode="auto"><{v}:fill color2="#ffffe1"/><{v}:shadow on="t" color="black" obscured="t"/><{v}:path {o}:connecttype="none"/><{v}:textbox style="mso-direction-alt:auto"><div style="text-align:left"></div></{v}:textbox><{x}:ClientData ObjectType="Note"><{x}:MoveWithCells/><{x}:SizeWithCells/><{x}:Anchor>{c1}, 15, {r}, 10, {c4}, 15, {r2}, 4</{x}:Anchor><{x}:AutoFill>False</{x}:AutoFill><{x}:Row>{r}</{x}:Row><{x}:Column>{c}</{x}:Column></{x}:ClientData></{v}:shape>"##,
        h = 15 * tall,
        z = id % 65_536,
        c1 = c + 1,
        c4 = c + 5,
        r2 = r + tall,
    )
}

/// A new VML drawing with the shapes of `cells`; `idmap` keeps its shape numbers apart from
/// the other drawings' (block `idmap` of 1,024).
pub(super) fn new_vml(cells: &[((u32, u32), usize)], idmap: u32) -> String {
    let p = Prefixes::default();
    let mut out = String::from("<xml");
    for (prefix, ns) in VML_NS {
        out.push_str(&format!(r#" xmlns:{prefix}="{ns}""#));
    }
    out.push('>');
    out.push_str(&format!(
        r#"<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{idmap}"/></o:shapelayout>"#
    ));
    out.push_str(&shapetype(&p));
    let first = u64::from(idmap) * 1024 + 1;
    for (k, (at, lines)) in cells.iter().enumerate() {
        out.push_str(&shape(&p, *at, *lines, first + k as u64));
    }
    out.push_str("</xml>");
    out
}

/// An existing VML drawing with the shapes of `cells` added before its end. VML is often not
/// well-formed XML, so it is edited as text: our shapes use the prefixes its root binds (Excel
/// writes `v:`, openpyxl `ns1:`), declared on the root when it binds none.
pub(super) fn extend_vml(
    part: &str,
    bytes: &[u8],
    cells: &[((u32, u32), usize)],
) -> Result<Vec<u8>, PackageError> {
    let text = String::from_utf8_lossy(bytes);
    let unsupported = |why: &str| PackageError::Unsupported(format!("drawing {part}: {why}"));
    let root_at = text
        .find("<xml")
        .ok_or_else(|| unsupported("it has no root"))?;
    let root_end = root_at
        + text[root_at..]
            .find('>')
            .ok_or_else(|| unsupported("its root is not closed"))?;
    let root = &text[root_at..root_end];
    let mut declared = String::new();
    let mut found = Vec::new();
    for (usual, ns) in VML_NS {
        let bound = root
            .match_indices(&format!("=\"{ns}\""))
            .find_map(|(at, _)| {
                let start = root[..at].rfind("xmlns:")? + "xmlns:".len();
                Some(root[start..at].to_string())
            });
        match bound {
            Some(prefix) => found.push(prefix),
            None if root.contains(&format!("xmlns:{usual}=")) => {
                return Err(unsupported("its prefixes are bound to other namespaces"));
            }
            None => {
                declared.push_str(&format!(r#" xmlns:{usual}="{ns}""#));
                found.push(usual.to_string());
            }
        }
    }
    let p = Prefixes {
        v: found[0].clone(),
        o: found[1].clone(),
        x: found[2].clone(),
    };
    let end = text
        .rfind("</xml>")
        .ok_or_else(|| unsupported("it has no end"))?;
    let highest = text
        .match_indices("_x0000_s")
        .filter_map(|(at, m)| {
            let digits: String = text[at + m.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .take(12)
                .collect();
            digits.parse::<u64>().ok()
        })
        .max()
        .unwrap_or(1024);
    let mut added = String::new();
    if !text.contains("\"_x0000_t202\"") {
        added.push_str(&shapetype(&p));
    }
    for (k, (at, lines)) in cells.iter().enumerate() {
        added.push_str(&shape(&p, *at, *lines, highest + 1 + k as u64));
    }
    let mut out = Vec::with_capacity(bytes.len() + added.len() + declared.len());
    out.extend_from_slice(text[..root_end].as_bytes());
    out.extend_from_slice(declared.as_bytes());
    out.extend_from_slice(text[root_end..end].as_bytes());
    out.extend_from_slice(added.as_bytes());
    out.extend_from_slice(text[end..].as_bytes());
    Ok(out)
}
