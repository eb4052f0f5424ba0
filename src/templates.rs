//! # Mail templates
//!
//! Receipts, reminders and the staff digest are written by staff, not by code: each is a
//! MiniJinja template in `config/templates/` (documented in its README), rendered against a
//! context of plain values. A rendered template's first line is `Tiêu đề: <subject>`; the rest,
//! after one blank line, is the body. Templates are compiled when the configuration is
//! loaded, so a syntax error is a configuration error naming the file and line; undefined
//! variables are errors too (semi-strict), so a misspelt name is caught by `intake
//! check-config`, which renders each template against sample data.

use std::fmt;

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

/// Which template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TemplateKind {
    /// The answer to an agency's message.
    Receipt,
    /// A reminder to an agency that has not sent everything.
    Reminder,
    /// The daily summary for staff.
    Digest,
}

impl TemplateKind {
    /// Every kind, in the order they are documented.
    pub const ALL: [TemplateKind; 3] = [
        TemplateKind::Receipt,
        TemplateKind::Reminder,
        TemplateKind::Digest,
    ];

    /// The file name under the templates folder.
    pub fn file_name(self) -> &'static str {
        match self {
            TemplateKind::Receipt => "receipt.txt",
            TemplateKind::Reminder => "reminder.txt",
            TemplateKind::Digest => "digest.txt",
        }
    }
}

/// A template that does not compile or render.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {message}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
pub struct TemplateError {
    /// The template file, as the configuration names it.
    pub file: String,
    /// The line, when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

/// A rendered mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
}

/// The compiled templates.
pub struct Templates {
    env: Environment<'static>,
    files: Vec<(TemplateKind, String)>,
}

impl fmt::Debug for Templates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Templates")
            .field("files", &self.files)
            .finish()
    }
}

/// The subject line's prefix.
const SUBJECT: &str = "Tiêu đề:";

impl Templates {
    /// Compiles `(kind, file as shown to people, text)` for every kind.
    pub fn parse(sources: Vec<(TemplateKind, String, String)>) -> Result<Templates, TemplateError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
        env.set_syntax(
            minijinja::syntax::SyntaxConfig::builder()
                .trim_blocks(true)
                .lstrip_blocks(true)
                .keep_trailing_newline(true)
                .build()
                .expect("the default delimiters are valid"),
        );
        let mut files = Vec::new();
        for (kind, file, text) in sources {
            env.add_template_owned(kind.file_name(), text)
                .map_err(|e| error(&file, &e))?;
            files.push((kind, file));
        }
        for kind in TemplateKind::ALL {
            if !files.iter().any(|(k, _)| *k == kind) {
                return Err(TemplateError {
                    file: kind.file_name().into(),
                    line: None,
                    message: "is missing".into(),
                });
            }
        }
        Ok(Templates { env, files })
    }

    /// The file a kind was read from.
    pub fn file(&self, kind: TemplateKind) -> &str {
        self.files
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, f)| f.as_str())
            .unwrap_or(kind.file_name())
    }

    /// Renders `kind` against `context`.
    pub fn render<S: Serialize>(
        &self,
        kind: TemplateKind,
        context: &S,
    ) -> Result<Rendered, TemplateError> {
        let file = self.file(kind).to_string();
        let template = self
            .env
            .get_template(kind.file_name())
            .map_err(|e| error(&file, &e))?;
        let text = template
            .render(minijinja::Value::from(minijinja::value::Serde(context)))
            .map_err(|e| error(&file, &e))?;
        split(&file, &text)
    }
}

/// Splits rendered text into the subject line and the body.
fn split(file: &str, text: &str) -> Result<Rendered, TemplateError> {
    let text = text.trim_start_matches(['\n', '\r']);
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    let Some(subject) = first.trim().strip_prefix(SUBJECT) else {
        return Err(TemplateError {
            file: file.into(),
            line: Some(1),
            message: format!("the first line must be \"{SUBJECT} …\", the mail's subject"),
        });
    };
    let subject = subject.split_whitespace().collect::<Vec<_>>().join(" ");
    if subject.is_empty() {
        return Err(TemplateError {
            file: file.into(),
            line: Some(1),
            message: "the subject renders empty".into(),
        });
    }
    let body = rest
        .strip_prefix('\n')
        .unwrap_or(rest)
        .trim_end()
        .to_string()
        + "\n";
    Ok(Rendered { subject, body })
}

fn error(file: &str, e: &minijinja::Error) -> TemplateError {
    let mut message = e.to_string();
    if let Some(detail) = e.detail()
        && !message.contains(detail)
    {
        message = format!("{message}: {detail}");
    }
    TemplateError {
        file: file.into(),
        line: e.line(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(receipt: &str) -> Result<Templates, TemplateError> {
        Templates::parse(
            TemplateKind::ALL
                .iter()
                .map(|&k| {
                    let text = if k == TemplateKind::Receipt {
                        receipt.to_string()
                    } else {
                        "Tiêu đề: x\n\ny\n".to_string()
                    };
                    (k, format!("templates/{}", k.file_name()), text)
                })
                .collect(),
        )
    }

    #[test]
    fn subject_and_body() {
        let t = parse("Tiêu đề: Biên nhận {{ number }}\n\nKính gửi: {{ to }}.\n").unwrap();
        let r = t
            .render(
                TemplateKind::Receipt,
                &serde_json::json!({"number": "BN-000001", "to": "Sở Y tế"}),
            )
            .unwrap();
        assert_eq!(r.subject, "Biên nhận BN-000001");
        assert_eq!(r.body, "Kính gửi: Sở Y tế.\n");
    }

    #[test]
    fn errors_name_file_and_line() {
        let e = parse("Tiêu đề: x\n\n{% if %}\n").unwrap_err();
        assert_eq!(
            (e.file.as_str(), e.line),
            ("templates/receipt.txt", Some(3))
        );
        let t = parse("Tiêu đề: x\n\n{{ nmuber }}\n").unwrap();
        let e = t
            .render(TemplateKind::Receipt, &serde_json::json!({"number": 1}))
            .unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        let t = parse("Kính gửi\n").unwrap();
        assert!(
            t.render(TemplateKind::Receipt, &serde_json::json!({}))
                .is_err()
        );
    }
}
