//! # Pages as HTML
//!
//! The board's MiniJinja templates (compiled in, auto-escaped as `.html`), its stylesheet and
//! script, and the Vietnamese wording of times, rates and states the templates show.

use axum::http::header;
use axum::response::IntoResponse;
use chrono::{DateTime, FixedOffset};
use minijinja::{Environment, Value};
use serde::Serialize;

use super::PageError;
use crate::core::words;

/// The compiled templates.
pub struct Pages {
    env: Environment<'static>,
}

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("overview.html", include_str!("templates/overview.html")),
    ("campaign.html", include_str!("templates/campaign.html")),
    ("agency.html", include_str!("templates/agency.html")),
    ("quarantine.html", include_str!("templates/quarantine.html")),
    ("log.html", include_str!("templates/log.html")),
    ("unverified.html", include_str!("templates/unverified.html")),
    ("left_alone.html", include_str!("templates/left_alone.html")),
    ("login.html", include_str!("templates/login.html")),
    ("error.html", include_str!("templates/error.html")),
    ("_staff.html", include_str!("templates/_staff.html")),
    ("_figures.html", include_str!("templates/_figures.html")),
    ("_files.html", include_str!("templates/_files.html")),
    ("_auth.html", include_str!("templates/_auth.html")),
];

impl Default for Pages {
    fn default() -> Self {
        Self::new()
    }
}

impl Pages {
    /// Compiles the templates; a broken one is a bug caught by the unit tests.
    pub fn new() -> Pages {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
        env.set_formatter(escape);
        env.add_filter("vi", words::number_filter);
        for (name, text) in TEMPLATES {
            env.add_template(name, text)
                .unwrap_or_else(|e| panic!("board template {name}: {e:#}"));
        }
        Pages { env }
    }

    /// Renders a page with the shared frame's values (`base`) and its own.
    pub fn page<B: Serialize, P: Serialize>(
        &self,
        name: &str,
        base: &B,
        page: &P,
    ) -> Result<axum::response::Html<String>, PageError> {
        let ctx = minijinja::context! {
            base => Value::from(minijinja::value::Serde(base)),
            page => Value::from(minijinja::value::Serde(page)),
        };
        self.env
            .get_template(name)
            .and_then(|t| t.render(ctx))
            .map(axum::response::Html)
            .map_err(|e| PageError::Internal(format!("board template {name}: {e:#}")))
    }
}

/// HTML escaping of the five characters that matter; `/` is left alone, so that a matrix of
/// dates is not half entities.
fn escape(
    out: &mut minijinja::Output,
    state: &mut minijinja::State,
    value: &Value,
) -> Result<(), minijinja::Error> {
    if *state.auto_escape() != minijinja::AutoEscape::Html || value.is_safe() {
        return minijinja::escape_formatter(out, state, value);
    }
    let text = value.to_string();
    let mut rest = text.as_str();
    while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
        out.write_str(&rest[..i])?;
        out.write_str(match rest.as_bytes()[i] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            _ => "&#39;",
        })?;
        rest = &rest[i + 1..];
    }
    out.write_str(rest)?;
    Ok(())
}

/// A bare page with one sentence, for refusals and errors (no session needed).
pub fn error_page(text: &str) -> String {
    static PAGES: std::sync::LazyLock<Pages> = std::sync::LazyLock::new(Pages::new);
    PAGES
        .env
        .get_template("error.html")
        .and_then(|t| t.render(minijinja::context! { text => text }))
        .unwrap_or_else(|_| text.to_string())
}

/// The stylesheet.
pub async fn css() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("templates/board.css"),
    )
}

/// The live-refresh script.
pub async fn js() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("templates/board.js"),
    )
}

/// Percent-encodes a query value.
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// An RFC 3339 time as people read it everywhere: `09:05 ngày 12/07/2018` ([`words::when`]).
pub fn local(at: &str, tz: chrono_tz::Tz) -> String {
    words::when_text(at, tz)
}

/// A time as people read it everywhere ([`words::when`]).
pub fn local_time(t: DateTime<FixedOffset>, tz: chrono_tz::Tz) -> String {
    words::when(t, tz)
}

/// Time left before a deadline, or how long it is past ([`words::time_left`]), and whether
/// it is past.
pub fn time_left(
    deadline: DateTime<FixedOffset>,
    now: DateTime<FixedOffset>,
    tz: chrono_tz::Tz,
) -> (String, bool) {
    (words::time_left(deadline, now, tz), now >= deadline)
}

/// A cell's CSS class and Vietnamese words ([`words::state_with_warnings`]); accepted with
/// warnings is a state of its own.
pub fn state_class(state: &str, warnings: u32) -> (&'static str, String) {
    let class = match state {
        "accepted" if warnings > 0 => "warn",
        "accepted" => "ok",
        "invalid" => "bad",
        "received" => "part",
        "exempt" => "exempt",
        _ => "missing",
    };
    let state = if class == "missing" { "missing" } else { state };
    (class, words::state_with_warnings(state, warnings))
}

/// Vietnamese words for an event kind, with the board's own kinds ([`words::event`]).
pub fn event_label(kind: &str) -> String {
    words::event(kind)
}

/// A sender authentication verdict as a small badge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Badge {
    /// The verdict as stored (`pass`, `none`, `fail`, `temperror`, or `unchecked`).
    pub verdict: &'static str,
    /// CSS class (the state colours: green, grey, amber, red).
    pub class: &'static str,
    /// Its words.
    pub label: &'static str,
    /// Longer words, shown on hover.
    pub title: &'static str,
}

/// The badge of a stored verdict; None when none was recorded (a dropped file, mail taken in
/// before authentication was checked) or the value is not a verdict.
pub fn verdict_badge(auth: Option<&str>) -> Option<Badge> {
    use crate::auth::Verdict;
    let v = Verdict::parse(auth?)?;
    let (class, label) = match v {
        Verdict::Pass => ("ok", "đã xác thực"),
        Verdict::None => ("missing", "không xác thực được"),
        Verdict::TempError => ("warn", "chưa xác thực được (lỗi DNS)"),
        Verdict::Fail => ("bad", "xác thực thất bại"),
    };
    Some(Badge {
        verdict: v.as_str(),
        class,
        label,
        title: v.words(),
    })
}

/// The badge of mail taken in before sender authentication was checked.
pub const UNCHECKED: Badge = Badge {
    verdict: "unchecked",
    class: "missing",
    label: "chưa kiểm tra xác thực",
    title: "thư nhận trước khi có kiểm tra xác thực người gửi",
};

/// True when a message's sender was not authenticated: a verdict other than `pass`, or none
/// recorded for mail (dropped files have no sender to authenticate).
pub fn not_authenticated(auth: Option<&str>, source: Option<&str>) -> bool {
    match auth {
        Some(a) => a != "pass",
        None => source == Some("mailbox"),
    }
}

/// The evidence of a verdict, one line per fact, as staff read it: from the stored
/// authentication, else from a `; `-joined line (a held message's `evidence`). Each line is
/// cleaned of control and bidi characters and cut.
pub fn evidence_lines(auth_evidence: Option<&str>, joined: Option<&str>) -> Vec<String> {
    let lines = match auth_evidence.and_then(crate::auth::Authentication::from_json) {
        Some(a) => a.evidence(),
        None => joined
            .map(|j| j.split("; ").map(str::to_string).collect())
            .unwrap_or_default(),
    };
    lines
        .iter()
        .map(|l| crate::core::text::bounded(l, 300))
        .filter(|l| !l.is_empty())
        .take(40)
        .collect()
}

/// An agency kind's Vietnamese name.
pub fn kind_vi(kind: crate::config::AgencyKind) -> &'static str {
    match kind {
        crate::config::AgencyKind::Department => "sở, ban, ngành",
        crate::config::AgencyKind::District => "huyện, thành phố",
        crate::config::AgencyKind::Office => "văn phòng",
    }
}

/// A byte count for people ([`words::size`]).
pub fn size(bytes: i64) -> String {
    words::size(u64::try_from(bytes).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_compile_and_words_read_right() {
        let _ = Pages::new();
        assert!(
            error_page("<b title='x'>a/b & c").contains("&lt;b title=&#39;x&#39;&gt;a/b &amp; c")
        );
        let at = |s| DateTime::parse_from_rfc3339(s).unwrap();
        let deadline = at("2018-07-10T00:00:00+07:00");
        let tz = chrono_tz::Asia::Ho_Chi_Minh;
        // The board counts days as every other surface does (crate::core::words).
        assert_eq!(
            time_left(deadline, at("2018-07-12T09:00:00+07:00"), tz),
            ("đã quá hạn 3 ngày".to_string(), true)
        );
        assert_eq!(
            time_left(deadline, at("2018-07-09T23:30:00+07:00"), tz).0,
            "còn 30 phút"
        );
        // The matrix legend is static HTML: it must use the vocabulary's words for states.
        let legend = TEMPLATES
            .iter()
            .find(|(n, _)| *n == "campaign.html")
            .unwrap()
            .1;
        for (class, state) in [
            ("ok", "accepted"),
            ("bad", "invalid"),
            ("part", "received"),
            ("missing", "missing"),
            ("exempt", "exempt"),
        ] {
            assert!(
                legend.contains(&format!(
                    "<span class=\"{class}\">{}</span>",
                    words::state(state)
                )),
                "{state}"
            );
            assert_eq!(state_class(state, 0).0, class);
        }
        assert!(legend.contains(&words::state_with_warnings("accepted", 1)));
        assert_eq!(encode("/log?a=Sở y"), "/log%3Fa%3DS%E1%BB%9F%20y");
        assert_eq!(state_class("accepted", 2).0, "warn");
        assert_eq!(
            local("2018-07-09T10:00:00+00:00", chrono_tz::Asia::Ho_Chi_Minh),
            "17:00 ngày 09/07/2018"
        );
        assert!(event_label("probable-agency-reassigned").contains("gán lại"));
        assert_eq!(verdict_badge(Some("fail")).unwrap().class, "bad");
        assert_eq!(
            verdict_badge(Some("temperror")).unwrap().label,
            "chưa xác thực được (lỗi DNS)"
        );
        assert_eq!(verdict_badge(None), None);
        assert_eq!(verdict_badge(Some("bogus")), None);
        assert!(not_authenticated(Some("none"), Some("mailbox")));
        assert!(not_authenticated(None, Some("mailbox")));
        assert!(!not_authenticated(None, Some("drop")));
        assert!(!not_authenticated(Some("pass"), Some("mailbox")));
        assert_eq!(
            evidence_lines(None, Some("dkim=none; dmarc=fail p=reject (theo intake)")),
            ["dkim=none", "dmarc=fail p=reject (theo intake)"]
        );
        let json = r#"{"verdict":"fail","domain":"langson.example","dkim":[],"dmarc":{"result":"fail","by":"mx.langson.example"}}"#;
        let lines = evidence_lines(Some(json), Some("ignored"));
        assert!(
            lines.contains(&"dmarc=fail (theo mx.langson.example)".to_string()),
            "{lines:?}"
        );
    }
}
