//! # Which agency sent it
//!
//! First the From address against the roster's addresses and domains: a sure answer (whether
//! the From can be believed is for [`crate::auth`] to say). Sender and Reply-To are claims
//! anyone can write and never identify an agency. A message a department clerk forwards is the
//! agency's whose message it carries. Failing that, the agency names and aliases are looked
//! for, without accents or case, in the subject, the file names and the workbooks' heading
//! cells: a *probable* answer that staff must confirm. Pure functions over the roster.

use crate::config::Agency;
use crate::core::text::{Phrase, tokens};

/// How an agency was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgencyMatch {
    /// The sender's address is on the roster.
    Address { code: String, address: String },
    /// The sender's domain is wholly the agency's.
    Domain { code: String, address: String },
    /// The agency's own message, forwarded by a department clerk or attached with its own
    /// valid signature; `address` is the agency's sender, `forwarder` who sent it on.
    Forwarded {
        code: String,
        address: String,
        forwarder: String,
        evidence: String,
    },
    /// A drop-folder file in the agency's sub-folder.
    Folder { code: String },
    /// A drop-folder file whose name or headings name the agency (staff put it there).
    Named { code: String, evidence: String },
    /// The agency's name appears in the message; staff must confirm.
    Probable { code: String, evidence: String },
    /// Nothing tells.
    Unknown,
}

impl AgencyMatch {
    /// The agency code when the match is sure (address or domain).
    pub fn sure(&self) -> Option<&str> {
        match self {
            AgencyMatch::Address { code, .. }
            | AgencyMatch::Domain { code, .. }
            | AgencyMatch::Forwarded { code, .. }
            | AgencyMatch::Folder { code }
            | AgencyMatch::Named { code, .. } => Some(code),
            AgencyMatch::Probable { .. } | AgencyMatch::Unknown => None,
        }
    }

    /// `address`, `domain`, `probable` or `none`, as logged.
    pub fn how(&self) -> &'static str {
        match self {
            AgencyMatch::Address { .. } => "address",
            AgencyMatch::Domain { .. } => "domain",
            AgencyMatch::Forwarded { .. } => "forwarded",
            AgencyMatch::Folder { .. } => "folder",
            AgencyMatch::Named { .. } => "name",
            AgencyMatch::Probable { .. } => "probable",
            AgencyMatch::Unknown => "none",
        }
    }
}

/// The texts that may name an agency when the address does not.
#[derive(Debug, Clone, Default)]
pub struct Clues<'a> {
    /// The subject.
    pub subject: &'a str,
    /// The display name of From (people write "Văn thư Sở Y tế").
    pub from_name: Option<&'a str>,
    /// File names.
    pub file_names: Vec<&'a str>,
    /// Heading cells of the workbooks.
    pub headings: Vec<&'a str>,
}

/// The agency an address is on the roster for: by the address itself, else by a domain
/// wholly the agency's.
pub fn by_address(agencies: &[&Agency], address: &str) -> Option<AgencyMatch> {
    if let Some(a) = agencies
        .iter()
        .find(|a| a.addresses.iter().any(|x| x == address))
    {
        return Some(AgencyMatch::Address {
            code: a.code.clone(),
            address: address.to_string(),
        });
    }
    let domain = address.rsplit_once('@').map(|(_, d)| d)?;
    agencies
        .iter()
        .find(|a| a.domains.iter().any(|d| d == domain))
        .map(|a| AgencyMatch::Domain {
            code: a.code.clone(),
            address: address.to_string(),
        })
}

/// Finds the agency of a message from its From address, else from the clues.
pub fn identify(agencies: &[&Agency], from: Option<&str>, clues: &Clues<'_>) -> AgencyMatch {
    if let Some(m) = from.and_then(|a| by_address(agencies, a)) {
        return m;
    }
    let places: Vec<(&str, &str)> = std::iter::once(("tiêu đề", clues.subject))
        .chain(clues.from_name.map(|n| ("tên người gửi", n)))
        .chain(clues.file_names.iter().map(|n| ("tên tệp", *n)))
        .chain(clues.headings.iter().map(|h| ("ô tiêu đề bảng", *h)))
        .collect();
    by_name(agencies, &places)
}

/// The agency whose longest name or alias occurs in the texts, when only one does.
fn by_name(agencies: &[&Agency], places: &[(&str, &str)]) -> AgencyMatch {
    let words: Vec<(&str, &str, Vec<String>)> = places
        .iter()
        .map(|(what, text)| (*what, *text, tokens(text)))
        .collect();
    let mut best: Option<(usize, &Agency, String)> = None;
    let mut tie = false;
    for agency in agencies {
        for name in std::iter::once(&agency.name).chain(agency.aliases.iter()) {
            let phrase = Phrase::new(name);
            // One-word aliases such as "SYT" only count in a subject or file name.
            for (what, text, w) in &words {
                if !phrase.occurs_in(w) || (phrase.len() < 2 && *what == "ô tiêu đề bảng") {
                    continue;
                }
                let len = phrase.len();
                match &best {
                    Some((l, a, _)) if *l > len || (*l == len && a.code == agency.code) => {}
                    Some((l, _, _)) if *l == len => tie = true,
                    _ => {
                        tie = false;
                        best = Some((len, agency, format!("{what} \"{text}\" có \"{name}\"")));
                    }
                }
            }
        }
    }
    match best {
        Some((_, agency, evidence)) if !tie => AgencyMatch::Probable {
            code: agency.code.clone(),
            evidence,
        },
        _ => AgencyMatch::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AgencyKind;

    fn agency(code: &str, name: &str, aliases: &[&str]) -> Agency {
        Agency {
            code: code.into(),
            name: name.into(),
            kind: AgencyKind::Department,
            addresses: vec![format!("{code}@langson.example")],
            domains: vec![format!("{}.langson.example", code.replace('-', ""))],
            aliases: aliases.iter().map(|s| s.to_string()).collect(),
            auth: Default::default(),
        }
    }

    fn roster() -> Vec<Agency> {
        vec![
            agency("so-y-te", "Sở Y tế", &["SYT"]),
            agency(
                "ubnd-cao-loc",
                "Ủy ban nhân dân huyện Cao Lộc",
                &["UBND huyện Cao Lộc", "UBND H. Cao Lộc", "Cao Lộc"],
            ),
            agency(
                "ubnd-loc-binh",
                "Ủy ban nhân dân huyện Lộc Bình",
                &["Lộc Bình"],
            ),
        ]
    }

    #[test]
    fn address_then_domain_then_names() {
        let r = roster();
        let r: Vec<&Agency> = r.iter().collect();
        let none = Clues::default();
        assert_eq!(
            identify(&r, Some("so-y-te@langson.example"), &none).sure(),
            Some("so-y-te")
        );
        let m = identify(&r, Some("ke-toan@soyte.langson.example"), &none);
        assert_eq!((m.how(), m.sure()), ("domain", Some("so-y-te")));
        // Only From identifies: a personal From is not an agency's, whatever else is written.
        assert_eq!(identify(&r, Some("a@gmail.example"), &none).how(), "none");

        let subject = Clues {
            subject: "BC giua ky So Y te",
            ..Default::default()
        };
        assert!(
            matches!(identify(&r, Some("a@gmail.example"), &subject), AgencyMatch::Probable { code, .. } if code == "so-y-te")
        );
        let heading = Clues {
            subject: "Báo cáo",
            headings: vec!["UBND H. Cao Loc"],
            ..Default::default()
        };
        assert!(
            matches!(identify(&r, Some("a@gmail.example"), &heading), AgencyMatch::Probable { code, .. } if code == "ubnd-cao-loc")
        );
        assert_eq!(
            identify(
                &r,
                Some("a@gmail.example"),
                &Clues {
                    subject: "Hello",
                    ..Default::default()
                }
            ),
            AgencyMatch::Unknown
        );
    }

    #[test]
    fn two_agencies_named_alike_is_no_answer() {
        let r = roster();
        let r: Vec<&Agency> = r.iter().collect();
        let both = Clues {
            subject: "Cao Lộc và Lộc Bình",
            ..Default::default()
        };
        assert_eq!(identify(&r, None, &both), AgencyMatch::Unknown);
        // The longer, more specific name wins over a short one.
        let longer = Clues {
            subject: "UBND huyện Cao Lộc gửi Lộc Bình",
            ..Default::default()
        };
        assert!(
            matches!(identify(&r, None, &longer), AgencyMatch::Probable { code, .. } if code == "ubnd-cao-loc")
        );
    }
}
