//! # Which campaign and which deliverable
//!
//! A workbook is tied to a deliverable by the marker its blank form carries, else by the
//! titles in its heading cells, else by whole-word keywords of its sheet and file names. A
//! document goes by its file name; one that tells nothing goes with the message's only
//! deliverable when there is just one. Deep form recognition plugs in here later.

use chrono::{DateTime, FixedOffset};

use crate::config::{Campaign, Deliverable};
use crate::core::text::{Phrase, tokens};
use crate::workbook::FormMarker;

/// What is known of one file for classification.
#[derive(Debug, Clone, Default)]
pub struct FileFacts<'a> {
    /// The file's name.
    pub name: &'a str,
    /// The marker of a blank form, when found.
    pub marker: Option<&'a FormMarker>,
    /// Visible sheet names.
    pub sheets: Vec<&'a str>,
    /// Heading cell texts.
    pub headings: Vec<&'a str>,
}

/// How a deliverable was told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// The blank form's marker.
    Marker,
    /// A title in the heading cells.
    Heading,
    /// Keywords of sheet or file names.
    Name,
    /// The only deliverable of the same message.
    Sibling,
}

impl How {
    /// As stored and logged.
    pub fn as_str(self) -> &'static str {
        match self {
            How::Marker => "marker",
            How::Heading => "heading",
            How::Name => "name",
            How::Sibling => "sibling",
        }
    }
}

/// The deliverable of a file, when it can be told.
pub fn deliverable<'c>(
    campaign: &'c Campaign,
    facts: &FileFacts<'_>,
) -> Option<(&'c Deliverable, How)> {
    if let Some(m) = facts.marker
        && let Some(d) = campaign
            .deliverables
            .iter()
            .find(|d| d.form.as_deref() == Some(m.form.as_str()))
    {
        return Some((d, How::Marker));
    }
    let heading_words: Vec<Vec<String>> = facts.headings.iter().map(|h| tokens(h)).collect();
    if let Some(d) = longest(campaign, |d| &d.titles, &heading_words) {
        return Some((d, How::Heading));
    }
    let mut name_words: Vec<Vec<String>> = facts.sheets.iter().map(|s| tokens(s)).collect();
    name_words.push(tokens(facts.name));
    if let Some(d) = longest(campaign, |d| &d.keywords, &name_words) {
        return Some((d, How::Name));
    }
    longest(campaign, |d| &d.titles, &name_words).map(|d| (d, How::Name))
}

/// The deliverable with the longest phrase occurring in the texts, unless two tie.
fn longest<'c>(
    campaign: &'c Campaign,
    phrases: impl Fn(&Deliverable) -> &Vec<String>,
    texts: &[Vec<String>],
) -> Option<&'c Deliverable> {
    let mut best: Option<(usize, &Deliverable)> = None;
    let mut tie = false;
    for d in &campaign.deliverables {
        let found = phrases(d)
            .iter()
            .map(|p| Phrase::new(p))
            .filter(|p| texts.iter().any(|t| p.occurs_in(t)))
            .map(|p| p.len())
            .max();
        match (found, best) {
            (Some(len), Some((l, _))) if len == l => tie = true,
            (Some(len), Some((l, _))) if len < l => {}
            (Some(len), _) => {
                best = Some((len, d));
                tie = false;
            }
            (None, _) => {}
        }
    }
    best.filter(|_| !tie).map(|(_, d)| d)
}

/// The campaign a message from `agency` (when known) arriving at `at` belongs to.
///
/// Among the campaigns the agency reports in and that are open at that time: the one whose
/// forms or subject keywords the message carries, else the one due soonest.
pub fn campaign<'c>(
    campaigns: &'c [Campaign],
    agency: Option<&str>,
    at: DateTime<FixedOffset>,
    subject: &str,
    forms: &[&str],
) -> Option<&'c Campaign> {
    let open: Vec<&Campaign> = campaigns
        .iter()
        .filter(|c| agency.is_none_or(|a| c.has_agency(a)) && c.is_open_at(at))
        .collect();
    if open.len() <= 1 {
        return open.into_iter().next();
    }
    if let Some(c) = open.iter().find(|c| {
        c.deliverables
            .iter()
            .any(|d| d.form.as_deref().is_some_and(|f| forms.contains(&f)))
    }) {
        return Some(c);
    }
    let words = tokens(subject);
    let score = |c: &Campaign| {
        c.keywords
            .iter()
            .filter(|k| Phrase::new(k).occurs_in(&words))
            .count()
    };
    let top = open.iter().map(|c| score(c)).max().unwrap_or(0);
    let mut best: Vec<&Campaign> = open.into_iter().filter(|c| score(c) == top).collect();
    best.sort_by_key(|c| (c.deadline < at, (c.deadline - at).num_seconds().abs()));
    best.into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::path::Path;

    fn example() -> Campaign {
        Config::embedded(Path::new("/x"))
            .unwrap()
            .campaigns
            .remove(0)
    }

    fn id(c: &Campaign, facts: FileFacts<'_>) -> Option<(String, How)> {
        deliverable(c, &facts).map(|(d, h)| (d.id.clone(), h))
    }

    #[test]
    fn markers_headings_and_names() {
        let c = example();
        let m = FormMarker {
            form: "742-2018-pl2".into(),
            version: 1,
        };
        assert_eq!(
            id(
                &c,
                FileFacts {
                    name: "baocao.xlsx",
                    marker: Some(&m),
                    ..Default::default()
                }
            ),
            Some(("pl2".into(), How::Marker))
        );
        let h = FileFacts {
            name: "x.xls",
            headings: vec![
                "SỞ Y TẾ",
                "PHỤ LỤC",
                "KẾ HOẠCH PHÁT TRIỂN KINH TẾ - XÃ HỘI NĂM 2019",
            ],
            ..Default::default()
        };
        assert_eq!(id(&c, h), Some(("pl3".into(), How::Heading)));
        assert_eq!(
            id(
                &c,
                FileFacts {
                    name: "PL1_SoYTe.xlsx",
                    ..Default::default()
                }
            )
            .map(|x| x.0),
            Some("pl1".into())
        );
        assert_eq!(
            id(
                &c,
                FileFacts {
                    name: "Phu luc II.xlsx",
                    ..Default::default()
                }
            )
            .map(|x| x.0),
            Some("pl2".into())
        );
        assert_eq!(
            id(
                &c,
                FileFacts {
                    name: "Phụ lục III - KH 2019.xlsx",
                    ..Default::default()
                }
            )
            .map(|x| x.0),
            Some("pl3".into())
        );
        assert_eq!(
            id(
                &c,
                FileFacts {
                    name: "Bao cao danh gia giua ky co cau lai nen kinh te.docx",
                    ..Default::default()
                }
            )
            .map(|x| x.0),
            Some("pl2".into())
        );
        assert_eq!(
            id(
                &c,
                FileFacts {
                    name: "baocao.docx",
                    ..Default::default()
                }
            ),
            None
        );
    }
}
