//! # Cell formats of a marked package
//!
//! A marked cell keeps everything of its format but the fill: its `cellXfs` entry is cloned,
//! appended, and given one of two new solid fills (errors red, warnings amber), so number
//! formats, fonts, borders and alignment stay. The summary sheet's few formats (bold
//! headers, bordered cells, a link font) are appended beside them. Existing entries are never
//! renumbered, so every other cell of every sheet keeps its index. When an earlier copy of
//! ours is marked again, formats whose fill is one of ours are cloned without it, so that a
//! corrected cell is no longer shown red.

use std::collections::{HashMap, HashSet};
use std::io::Write;

use quick_xml::Writer;
use quick_xml::events::Event;

use super::xml::{self, PackageError};
use super::{ERROR_FILL, WARNING_FILL};

/// The formats of the summary sheet, in the order they are appended to `cellXfs`.
#[derive(Debug, Clone, Copy)]
pub(super) enum Look {
    Title = 0,
    Header,
    Text,
    Link,
    ErrorLevel,
    WarningLevel,
}

const LOOKS: u32 = 6;

/// Gray of the summary's header row.
const HEADER_FILL: u32 = 0xD9D9D9;

/// What `styles.xml` holds, and the formats to append to it.
#[derive(Debug)]
pub(super) struct Styles {
    fonts: u32,
    fills: u32,
    borders: u32,
    cell_xfs: u32,
    style_xfs: u32,
    /// Cloned formats in order: (the cell's own format, its fill: an error's, a warning's,
    /// or none).
    clones: Vec<(u32, Fill)>,
    index: HashMap<(u32, Fill), u32>,
    /// Formats whose fill is one of ours: the marks of an earlier copy.
    stale: HashSet<u32>,
    /// Whether cells in a stale format lose its fill (set for an earlier copy marked again).
    clearing: bool,
}

/// The fill a cloned format gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Fill {
    Error,
    Warning,
    None,
}

impl Styles {
    /// Counts the entries of a `styles.xml`.
    pub(super) fn survey(part: &str, bytes: &[u8]) -> Result<Styles, PackageError> {
        let mut reader = xml::reader(bytes);
        let mut buf = Vec::new();
        let mut depth = 0usize;
        let mut container: Option<String> = None;
        let mut seen = HashSet::new();
        let mut counts: HashMap<String, u32> = HashMap::new();
        // Fills that are ours (solid, in our colours), and each cell format's fill.
        let mut solid = false;
        let mut our_fills: HashSet<u32> = HashSet::new();
        let mut xf_fills: Vec<u32> = Vec::new();
        let ours = [
            format!("FF{ERROR_FILL:06X}"),
            format!("FF{WARNING_FILL:06X}"),
        ];
        loop {
            buf.clear();
            let ev = reader
                .read_event_into(&mut buf)
                .map_err(PackageError::xml(part))?;
            match &ev {
                Event::Start(e) | Event::Empty(e) => {
                    let name = xml::local(e);
                    if depth == 1 && is_container(&name) {
                        seen.insert(name.clone());
                        if matches!(ev, Event::Start(_)) {
                            container = Some(name);
                        }
                    } else if depth == 2
                        && let Some(c) = &container
                    {
                        *counts.entry(c.clone()).or_default() += 1;
                        if c == "cellXfs" {
                            let fill = xml::attr_cow(e, "fillId").and_then(|v| v.parse().ok());
                            xf_fills.push(fill.unwrap_or(0));
                        }
                        solid = false;
                    } else if depth > 2 && container.as_deref() == Some("fills") {
                        if name == "patternFill" {
                            solid = xml::attr_cow(e, "patternType").as_deref() == Some("solid");
                        } else if name == "fgColor"
                            && solid
                            && xml::attr_cow(e, "rgb").is_some_and(|rgb| {
                                ours.iter().any(|o| o.eq_ignore_ascii_case(&rgb))
                            })
                        {
                            our_fills.insert(counts.get("fills").copied().unwrap_or(1) - 1);
                        }
                    }
                    if matches!(ev, Event::Start(_)) {
                        depth += 1;
                    }
                }
                Event::End(_) => {
                    depth = depth.saturating_sub(1);
                    if depth == 1 {
                        container = None;
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        for needed in ["fonts", "fills", "borders", "cellXfs"] {
            if !seen.contains(needed) {
                return Err(PackageError::Unsupported(format!(
                    "styles part has no {}",
                    needed
                )));
            }
        }
        let count = |name: &str| counts.get(name).copied().unwrap_or(0);
        let styles = Styles {
            fonts: count("fonts"),
            fills: count("fills"),
            borders: count("borders"),
            cell_xfs: count("cellXfs"),
            style_xfs: count("cellStyleXfs"),
            clones: Vec::new(),
            index: HashMap::new(),
            stale: (0u32..)
                .zip(&xf_fills)
                .filter(|(_, fill)| our_fills.contains(fill))
                .map(|(xf, _)| xf)
                .collect(),
            clearing: false,
        };
        if styles.cell_xfs == 0 {
            return Err(PackageError::Unsupported(
                "styles part has no cell format".into(),
            ));
        }
        Ok(styles)
    }

    /// The index of a summary format.
    pub(super) fn look(&self, look: Look) -> u32 {
        self.cell_xfs + look as u32
    }

    /// The index of the format of a marked cell whose own format is `own`.
    pub(super) fn marked(&mut self, own: u32, error: bool) -> u32 {
        self.clone_of(own, if error { Fill::Error } else { Fill::Warning })
    }

    /// From now on, cells in a format an earlier copy gave its marks lose that fill
    /// ([`Styles::unmarked`]): for a copy of ours coming back to be marked again.
    pub(super) fn clear_earlier_marks(&mut self) {
        self.clearing = !self.stale.is_empty();
    }

    /// Whether any cell may need [`Styles::unmarked`].
    pub(super) fn clearing(&self) -> bool {
        self.clearing
    }

    /// The format a cell in format `own` gets when no finding is on it: `own`, or, when
    /// clearing and `own` carries an earlier mark's fill, its clone without a fill.
    pub(super) fn unmarked(&mut self, own: u32) -> u32 {
        if self.clearing && self.stale.contains(&own) {
            self.clone_of(own, Fill::None)
        } else {
            own
        }
    }

    fn clone_of(&mut self, own: u32, fill: Fill) -> u32 {
        let own = if own < self.cell_xfs { own } else { 0 };
        let next = self.cell_xfs + LOOKS + self.clones.len() as u32;
        *self.index.entry((own, fill)).or_insert_with(|| {
            self.clones.push((own, fill));
            next
        })
    }

    /// Writes `styles.xml` again with the new fonts, fills, border and formats appended.
    pub(super) fn write<W: Write>(
        &self,
        part: &str,
        bytes: &[u8],
        out: W,
    ) -> Result<(), PackageError> {
        let wanted: HashSet<u32> = self.clones.iter().map(|(own, _)| *own).collect();
        let mut captured: HashMap<u32, Vec<Event<'static>>> = HashMap::new();
        let mut reader = xml::reader(bytes);
        let mut writer = Writer::new(out);
        let mut buf = Vec::new();
        let mut depth = 0usize;
        let mut container: Option<String> = None;
        let mut xf_no = 0u32;
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
                if depth == 1 && is_container(&name) {
                    let added = self.added(&name);
                    let clones = if name == "cellXfs" {
                        self.clones.len() as u32
                    } else {
                        0
                    };
                    let total = self.existing(&name) + added.len() as u32 + clones;
                    let start = xml::rewrite(&e, &[("count", total.to_string())], &[]);
                    writer.write_event(Event::Start(start.borrow()))?;
                    if empty {
                        self.append(&name, &added, &captured, &mut writer)?;
                        writer.write_event(Event::End(start.to_end()))?;
                    } else {
                        depth += 1;
                        container = Some(name);
                    }
                    continue;
                }
                if depth == 2 && container.as_deref() == Some("cellXfs") {
                    let no = xf_no;
                    xf_no += 1;
                    let mut events = vec![ev.into_owned()];
                    writer.write_event(events[0].borrow())?;
                    if !empty {
                        let mut d = 1usize;
                        while d > 0 {
                            buf.clear();
                            let ev = reader
                                .read_event_into(&mut buf)
                                .map_err(PackageError::xml(part))?;
                            match &ev {
                                Event::Start(_) => d += 1,
                                Event::End(_) => d -= 1,
                                Event::Eof => {
                                    return Err(PackageError::Unsupported(
                                        "styles part ends inside a format".into(),
                                    ));
                                }
                                _ => {}
                            }
                            writer.write_event(ev.borrow())?;
                            if wanted.contains(&no) {
                                events.push(ev.into_owned());
                            }
                        }
                    }
                    if wanted.contains(&no) {
                        captured.insert(no, events);
                    }
                    continue;
                }
                if !empty {
                    depth += 1;
                }
                writer.write_event(ev)?;
                continue;
            }
            match ev {
                Event::Eof => break,
                Event::End(e) if depth == 2 && container.is_some() => {
                    let name = container.take().unwrap_or_default();
                    let added = self.added(&name);
                    self.append(&name, &added, &captured, &mut writer)?;
                    writer.write_event(Event::End(e))?;
                    depth -= 1;
                }
                Event::End(e) => {
                    depth = depth.saturating_sub(1);
                    writer.write_event(Event::End(e))?;
                }
                other => writer.write_event(other)?,
            }
        }
        Ok(())
    }

    fn existing(&self, container: &str) -> u32 {
        match container {
            "fonts" => self.fonts,
            "fills" => self.fills,
            "borders" => self.borders,
            "cellXfs" => self.cell_xfs,
            "cellStyleXfs" => self.style_xfs,
            _ => 0,
        }
    }

    /// The new children of a container, as XML text (the clones of `cellXfs` come apart).
    fn added(&self, container: &str) -> Vec<String> {
        let font = |extra: &str| {
            format!(r#"<font>{extra}<sz val="11"/><name val="Calibri"/><family val="2"/></font>"#)
        };
        let solid = |rgb: u32| {
            format!(
                r#"<fill><patternFill patternType="solid"><fgColor rgb="FF{rgb:06X}"/><bgColor indexed="64"/></patternFill></fill>"#
            )
        };
        match container {
            "fonts" => vec![
                font("<b/>"),
                r#"<font><u/><sz val="11"/><color rgb="FF0563C1"/><name val="Calibri"/><family val="2"/></font>"#.into(),
                r#"<font><b/><sz val="14"/><name val="Calibri"/><family val="2"/></font>"#.into(),
            ],
            "fills" => vec![solid(ERROR_FILL), solid(WARNING_FILL), solid(HEADER_FILL)],
            "borders" => vec![
                r#"<border><left style="thin"><color auto="1"/></left><right style="thin"><color auto="1"/></right><top style="thin"><color auto="1"/></top><bottom style="thin"><color auto="1"/></bottom><diagonal/></border>"#.into(),
            ],
            "cellXfs" => {
                let (bold, link, big) = (self.fonts, self.fonts + 1, self.fonts + 2);
                let (error, warning, gray) = (self.fills, self.fills + 1, self.fills + 2);
                let thin = self.borders;
                let xf_id = if self.style_xfs > 0 { r#" xfId="0""# } else { "" };
                let top = r#"<alignment vertical="top" wrapText="1"/>"#;
                let xf = |font: u32, fill: u32, border: u32, inner: &str| {
                    format!(
                        r#"<xf numFmtId="0" fontId="{font}" fillId="{fill}" borderId="{border}"{xf_id} applyFont="1" applyFill="1" applyBorder="1" applyAlignment="1">{inner}</xf>"#
                    )
                };
                vec![
                    xf(big, 0, 0, ""),
                    xf(
                        bold,
                        gray,
                        thin,
                        r#"<alignment horizontal="center" vertical="center" wrapText="1"/>"#,
                    ),
                    xf(0, 0, thin, top),
                    xf(link, 0, thin, top),
                    xf(bold, error, thin, top),
                    xf(0, warning, thin, top),
                ]
            }
            _ => Vec::new(),
        }
    }

    fn append<W: Write>(
        &self,
        container: &str,
        added: &[String],
        captured: &HashMap<u32, Vec<Event<'static>>>,
        writer: &mut Writer<W>,
    ) -> Result<(), PackageError> {
        for text in added {
            writer.get_mut().write_all(text.as_bytes())?;
        }
        if container != "cellXfs" {
            return Ok(());
        }
        for (own, fill) in &self.clones {
            let fill = match fill {
                Fill::Error => self.fills,
                Fill::Warning => self.fills + 1,
                Fill::None => 0,
            };
            let events = captured.get(own).ok_or_else(|| {
                PackageError::Unsupported(format!("cell format {own} not found in styles"))
            })?;
            for (k, ev) in events.iter().enumerate() {
                match ev {
                    Event::Start(e) | Event::Empty(e) if k == 0 => {
                        let set = [("fillId", fill.to_string()), ("applyFill", "1".into())];
                        let e = xml::rewrite(e, &set, &[]);
                        if matches!(ev, Event::Empty(_)) {
                            writer.write_event(Event::Empty(e))?;
                        } else {
                            writer.write_event(Event::Start(e))?;
                        }
                    }
                    other => writer.write_event(other.borrow())?,
                }
            }
        }
        Ok(())
    }
}

fn is_container(name: &str) -> bool {
    matches!(
        name,
        "fonts" | "fills" | "borders" | "cellXfs" | "cellStyleXfs"
    )
}
