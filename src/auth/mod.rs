//! # Who really sent it: sender authentication
//!
//! A From header is a claim anyone can write; a forged submission that replaces an agency's
//! real figures is the worst thing intake could do. Every mailbox message is therefore
//! authenticated once, when it is taken in, and the verdict is stored with it: DKIM verified
//! on the raw bytes, DMARC evaluated for the From domain, SPF taken only from an
//! Authentication-Results header of the department's own server ([`results`]). The lookups are
//! the adapter's ([`verify`]); what they mean is decided here, without IO ([`decide`]).

pub mod results;
pub mod verify;

use serde::{Deserialize, Serialize};

pub use verify::Authenticator;

/// What authentication says of the From domain.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// An aligned DKIM signature or SPF pass proves the domain.
    Pass,
    /// Nothing proves or disproves it: the domain publishes no DMARC policy that asks
    /// receivers to act, and no aligned signature was found.
    #[default]
    None,
    /// The domain's DMARC policy (quarantine or reject) fails, or our own server says so.
    Fail,
    /// A lookup that would decide did not answer in time.
    #[serde(rename = "temperror")]
    TempError,
}

impl Verdict {
    /// `pass`, `none`, `fail` or `temperror`, as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::None => "none",
            Verdict::Fail => "fail",
            Verdict::TempError => "temperror",
        }
    }

    /// Parses a stored verdict.
    pub fn parse(s: &str) -> Option<Verdict> {
        Some(match s {
            "pass" => Verdict::Pass,
            "none" => Verdict::None,
            "fail" => Verdict::Fail,
            "temperror" => Verdict::TempError,
            _ => return None,
        })
    }

    /// In Vietnamese, for staff and agencies.
    pub fn words(self) -> &'static str {
        match self {
            Verdict::Pass => "đã xác thực",
            Verdict::None => "không xác thực được (tên miền không công bố chính sách)",
            Verdict::Fail => "xác thực thất bại",
            Verdict::TempError => "chưa xác thực được (DNS không trả lời)",
        }
    }
}

/// One DKIM signature's check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DkimCheck {
    /// The signing domain (`d=`).
    pub domain: String,
    /// The selector (`s=`).
    pub selector: String,
    /// `pass`, `fail`, `neutral`, `permerror`, `temperror`.
    pub result: String,
    /// Why, when it did not pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The signing domain is the From domain or shares it (relaxed alignment).
    pub aligned: bool,
}

/// SPF as our own server's trusted Authentication-Results header reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpfCheck {
    /// `pass`, `fail`, `softfail`, `neutral`, `none`, `temperror`, `permerror`.
    pub result: String,
    /// The envelope sender's domain it was checked for.
    pub domain: String,
    /// The server that checked it (its authserv-id).
    pub by: String,
}

/// The DMARC evaluation of the From domain.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DmarcCheck {
    /// `pass`, `fail`, `none` (no record), `temperror`, `permerror`.
    pub result: String,
    /// The published policy: `none`, `quarantine`, `reject`; None without a record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// `intake` for our own evaluation, else the authserv-id that reported it.
    pub by: String,
}

/// An attached (message/rfc822) message's own signature, for forwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InnerAuth {
    /// Its From address, lower case.
    pub from: String,
    /// Pass when an aligned DKIM signature of its own verifies.
    pub verdict: Verdict,
    /// The signatures checked.
    pub dkim: Vec<DkimCheck>,
}

/// The authentication of one message: its verdict and the evidence for it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authentication {
    /// The verdict.
    pub verdict: Verdict,
    /// The From domain checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Each DKIM signature.
    #[serde(default)]
    pub dkim: Vec<DkimCheck>,
    /// SPF, from a trusted Authentication-Results header only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spf: Option<SpfCheck>,
    /// DMARC: our own evaluation, or our server's when it said fail or pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dmarc: Option<DmarcCheck>,
    /// Authentication-Results headers not believed, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<String>,
    /// Anything else staff should know (a lookup that timed out, a test domain not looked up).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Attached messages' own signatures.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inner: Vec<InnerAuth>,
}

impl Authentication {
    /// The evidence in one line per fact, technical terms as mail servers write them.
    pub fn evidence(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(d) = &self.domain {
            out.push(format!("From: {}", crate::core::text::bounded(d, 120)));
        }
        for k in &self.dkim {
            out.push(format!(
                "dkim={} d={} s={}{}{}",
                k.result,
                crate::core::text::bounded(&k.domain, 80),
                crate::core::text::bounded(&k.selector, 40),
                if k.aligned {
                    " (khớp From)"
                } else {
                    " (không khớp From)"
                },
                k.reason
                    .as_deref()
                    .map(|r| format!(": {}", crate::core::text::bounded(r, 120)))
                    .unwrap_or_default()
            ));
        }
        if self.dkim.is_empty() {
            out.push("dkim=none (thư không có chữ ký)".into());
        }
        match &self.spf {
            Some(s) => out.push(format!(
                "spf={} smtp.mailfrom={} (theo {})",
                s.result,
                crate::core::text::bounded(&s.domain, 80),
                s.by
            )),
            None => out.push("spf: không có kết quả từ máy chủ tin cậy".into()),
        }
        if let Some(d) = &self.dmarc {
            out.push(format!(
                "dmarc={}{} (theo {})",
                d.result,
                d.policy
                    .as_deref()
                    .map(|p| format!(" p={p}"))
                    .unwrap_or_default(),
                d.by
            ));
        }
        out.extend(self.ignored.iter().map(|i| {
            format!(
                "bỏ qua Authentication-Results: {}",
                crate::core::text::bounded(i, 160)
            )
        }));
        out.extend(
            self.notes
                .iter()
                .map(|n| crate::core::text::bounded(n, 200)),
        );
        out
    }

    /// The stored form (JSON).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads the stored form; None when absent or unreadable.
    pub fn from_json(s: &str) -> Option<Authentication> {
        serde_json::from_str(s).ok()
    }

    /// The inner message from this address whose own signature verifies.
    pub fn inner_pass(&self, from: &str) -> bool {
        self.inner
            .iter()
            .any(|i| i.from == from && i.verdict == Verdict::Pass)
    }
}

/// True when a signing domain aligns with the From domain (relaxed: one is the other or a
/// parent of it). Without the public-suffix list the parent must be the whole signing domain,
/// never a shared suffix, so two agencies under one government domain are not confused here;
/// the roster's addresses tell them apart.
pub fn aligned(signing: &str, from: &str) -> bool {
    let (s, f) = (
        signing.trim_end_matches('.').to_ascii_lowercase(),
        from.trim_end_matches('.').to_ascii_lowercase(),
    );
    !s.is_empty() && (s == f || f.ends_with(&format!(".{s}")) || s.ends_with(&format!(".{f}")))
}

/// What SPF, as our own server reported it, says of the From domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpfSays {
    /// Nothing aligned with From (no trusted report, or another domain checked).
    Nothing,
    /// The From domain's SPF passed.
    Pass,
    /// The From domain's own SPF record says the sending server is not allowed (`-all`).
    Fail,
}

impl SpfSays {
    /// What a trusted report of SPF says of the From domain.
    pub fn of(spf: Option<&SpfCheck>, from: &str) -> SpfSays {
        match spf {
            Some(s) if aligned(&s.domain, from) && s.result == "pass" => SpfSays::Pass,
            Some(s) if aligned(&s.domain, from) && s.result == "fail" => SpfSays::Fail,
            _ => SpfSays::Nothing,
        }
    }
}

/// Decides the verdict from the facts gathered. `own` is our DMARC evaluation (None when no
/// lookup was made); `reported` the DMARC result our trusted server wrote, when any.
pub fn decide(
    dkim: &[DkimCheck],
    spf: SpfSays,
    own: Option<&DmarcCheck>,
    reported: Option<&DmarcCheck>,
) -> Verdict {
    if dkim.iter().any(|k| k.result == "pass" && k.aligned) || spf == SpfSays::Pass {
        return Verdict::Pass;
    }
    if own.is_some_and(|d| d.result == "pass") || reported.is_some_and(|d| d.result == "pass") {
        return Verdict::Pass;
    }
    // Our own server evaluated with the connecting address we cannot see: its word that
    // DMARC failed, or that the From domain's own SPF refused the sender, stands.
    if reported.is_some_and(|d| d.result == "fail") || spf == SpfSays::Fail {
        return Verdict::Fail;
    }
    match own {
        Some(d) if d.result == "temperror" => Verdict::TempError,
        Some(d)
            if d.result == "fail"
                && matches!(d.policy.as_deref(), Some("quarantine" | "reject")) =>
        {
            Verdict::Fail
        }
        _ if dkim.iter().any(|k| k.result == "temperror" && k.aligned) => Verdict::TempError,
        _ => Verdict::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dkim(domain: &str, result: &str, from: &str) -> DkimCheck {
        DkimCheck {
            domain: domain.into(),
            selector: "s".into(),
            result: result.into(),
            reason: None,
            aligned: aligned(domain, from),
        }
    }

    fn dmarc(result: &str, policy: Option<&str>) -> DmarcCheck {
        DmarcCheck {
            result: result.into(),
            policy: policy.map(str::to_string),
            by: "intake".into(),
        }
    }

    #[test]
    fn alignment_is_the_domain_or_its_parent_never_a_shared_suffix() {
        assert!(aligned("langson.example", "langson.example"));
        assert!(aligned("langson.example", "soyte.langson.example"));
        assert!(aligned("mail.langson.example", "langson.example"));
        assert!(!aligned(
            "sotaichinh.langson.example",
            "soyte.langson.example"
        ));
        assert!(!aligned("evil.example", "langson.example"));
        assert!(!aligned("", "langson.example"));
    }

    #[test]
    fn verdicts() {
        let from = "langson.example";
        // Signed and aligned: pass, whatever DMARC says.
        assert_eq!(
            decide(&[dkim(from, "pass", from)], SpfSays::Nothing, None, None),
            Verdict::Pass
        );
        // A valid signature of another domain proves nothing about From.
        let other = [dkim("evil.example", "pass", from)];
        assert_eq!(
            decide(
                &other,
                SpfSays::Nothing,
                Some(&dmarc("fail", Some("reject"))),
                None
            ),
            Verdict::Fail
        );
        assert_eq!(
            decide(
                &other,
                SpfSays::Nothing,
                Some(&dmarc("fail", Some("none"))),
                None
            ),
            Verdict::None
        );
        // No DMARC record: none.
        assert_eq!(
            decide(&[], SpfSays::Nothing, Some(&dmarc("none", None)), None),
            Verdict::None
        );
        // SPF aligned pass from our server: pass.
        assert_eq!(
            decide(
                &[],
                SpfSays::Pass,
                Some(&dmarc("fail", Some("reject"))),
                None
            ),
            Verdict::Pass
        );
        // Our server's dmarc=fail holds even where we found no record (it saw the IP), and
        // whatever policy the domain publishes.
        assert_eq!(
            decide(
                &[],
                SpfSays::Nothing,
                Some(&dmarc("none", None)),
                Some(&dmarc("fail", None))
            ),
            Verdict::Fail
        );
        assert_eq!(
            decide(
                &[],
                SpfSays::Nothing,
                Some(&dmarc("fail", Some("none"))),
                Some(&dmarc("fail", None))
            ),
            Verdict::Fail
        );
        // The From domain's own SPF refusing the sender, as our server saw it: fail.
        assert_eq!(
            decide(&[], SpfSays::Fail, Some(&dmarc("none", None)), None),
            Verdict::Fail
        );
        let spf = |domain: &str, result: &str| SpfCheck {
            result: result.into(),
            domain: domain.into(),
            by: "mx".into(),
        };
        assert_eq!(
            SpfSays::of(Some(&spf("evil.example", "fail")), from),
            SpfSays::Nothing
        );
        assert_eq!(SpfSays::of(Some(&spf(from, "fail")), from), SpfSays::Fail);
        assert_eq!(
            SpfSays::of(Some(&spf(from, "softfail")), from),
            SpfSays::Nothing
        );
        // DNS down: temperror.
        assert_eq!(
            decide(&[], SpfSays::Nothing, Some(&dmarc("temperror", None)), None),
            Verdict::TempError
        );
        assert_eq!(
            decide(
                &[dkim(from, "temperror", from)],
                SpfSays::Nothing,
                None,
                None
            ),
            Verdict::TempError
        );
    }

    #[test]
    fn stored_form_round_trips() {
        let a = Authentication {
            verdict: Verdict::TempError,
            domain: Some("langson.example".into()),
            notes: vec!["x".into()],
            ..Default::default()
        };
        let json = a.to_json();
        assert!(json.contains("\"temperror\""), "{json}");
        assert_eq!(Authentication::from_json(&json), Some(a));
    }
}
