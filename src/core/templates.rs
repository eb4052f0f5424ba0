//! # Mail templates
//!
//! Receipts, reminders and the staff digest are written by staff, not by code: each is a
//! MiniJinja template in `config/templates/` (documented in its README), rendered against a
//! context of plain values. A rendered template's first line is `Tiêu đề: <subject>`; the rest,
//! after one blank line, is the body. Templates are compiled when the configuration is
//! loaded, so a syntax error is a configuration error naming the file and line; undefined
//! variables are errors too (strict: every context field is always present, null when it does
//! not apply, so a misspelt name is an error even in a condition), caught by `intake
//! check-config`, which renders each template against sample data ([`crate::samples::check`]). At run time a
//! template that fails on some rarely taken branch never leaves a mail unwritten:
//! [`Templates::render_or_default`] logs the error and falls back to the shipped template.

use std::fmt;
use std::sync::OnceLock;

use minijinja::{Environment, UndefinedBehavior, Value};
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
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.add_filter("vi", crate::core::words::number_filter);
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
        self.render_value(kind, &Value::from(minijinja::value::Serde(context)))
    }

    /// Renders `kind` against `context`; should the template fail, logs why (file and line)
    /// and renders the shipped template instead, so that no mail goes unwritten.
    pub fn render_or_default<S: Serialize>(&self, kind: TemplateKind, context: &S) -> Rendered {
        let context = Value::from(minijinja::value::Serde(context));
        let e = match self.render_value(kind, &context) {
            Ok(r) => return r,
            Err(e) => e,
        };
        tracing::error!(
            file = %e.file,
            line = e.line,
            error = %e.message,
            "template failed to render, using the shipped one"
        );
        let shipped = shipped();
        if std::ptr::eq(self, shipped) {
            return last_resort(kind);
        }
        shipped.render_value(kind, &context).unwrap_or_else(|e| {
            tracing::error!(
                file = %e.file,
                line = e.line,
                error = %e.message,
                "shipped template failed to render too"
            );
            last_resort(kind)
        })
    }

    fn render_value(&self, kind: TemplateKind, context: &Value) -> Result<Rendered, TemplateError> {
        let file = self.file(kind);
        let template = self
            .env
            .get_template(kind.file_name())
            .map_err(|e| error(file, &e))?;
        let text = template.render(context).map_err(|e| error(file, &e))?;
        split(file, &text)
    }
}

/// The shipped templates, as compiled into the binary.
pub const SHIPPED: [(TemplateKind, &str); 3] = [
    (
        TemplateKind::Receipt,
        include_str!("../../config/templates/receipt.txt"),
    ),
    (
        TemplateKind::Reminder,
        include_str!("../../config/templates/reminder.txt"),
    ),
    (
        TemplateKind::Digest,
        include_str!("../../config/templates/digest.txt"),
    ),
];

/// The shipped templates, compiled once: the fallback of [`Templates::render_or_default`].
pub fn shipped() -> &'static Templates {
    static COMPILED: OnceLock<Templates> = OnceLock::new();
    COMPILED.get_or_init(|| {
        Templates::parse(
            SHIPPED
                .iter()
                .map(|&(kind, text)| (kind, format!("(shipped) {}", kind.file_name()), text.into()))
                .collect(),
        )
        .expect("the shipped templates compile (see the tests)")
    })
}

/// What goes out when even the shipped template fails: never, while the tests pass.
fn last_resort(kind: TemplateKind) -> Rendered {
    let subject = match kind {
        TemplateKind::Receipt => "Biên nhận thư gửi báo cáo",
        TemplateKind::Reminder => "Nhắc nộp báo cáo",
        TemplateKind::Digest => "Tổng hợp tiếp nhận báo cáo",
    };
    Rendered {
        subject: subject.into(),
        body: "Hệ thống tiếp nhận báo cáo không soạn được nội dung thư này. Cán bộ của Sở sẽ \
               liên hệ khi cần.\n"
            .into(),
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
    // Branches left out leave blank lines behind: runs of them count as one.
    let mut body = String::with_capacity(rest.len());
    let mut blank = true;
    for line in rest.trim_end().lines() {
        let line = line.trim_end();
        if line.is_empty() && blank {
            continue;
        }
        blank = line.is_empty();
        body.push_str(line);
        body.push('\n');
    }
    // Mail text is NFC whatever the context carried (a subject decoded from windows-1258).
    Ok(Rendered {
        subject: crate::core::words::nfc(&subject),
        body: crate::core::words::nfc(&body),
    })
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
    use crate::config::Config;
    use crate::samples::{check, sample, samples};

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

    #[test]
    fn runs_of_blank_lines_count_as_one() {
        let t = parse("Tiêu đề: x\r\n\r\n\r\na  \r\n\n\n\nb\n\n").unwrap();
        let r = t
            .render(TemplateKind::Receipt, &serde_json::json!({}))
            .unwrap();
        assert_eq!(r.body, "a\n\nb\n");
    }

    fn config() -> Config {
        Config::embedded(std::path::Path::new("/x")).unwrap()
    }

    /// The configuration with the shipped templates but `text` for `kind`.
    fn edited(kind: TemplateKind, text: &str) -> Config {
        let mut config = config();
        let templates = Templates::parse(
            SHIPPED
                .iter()
                .map(|&(k, shipped)| {
                    let text = if k == kind { text } else { shipped };
                    (k, format!("templates/{}", k.file_name()), text.into())
                })
                .collect(),
        )
        .unwrap();
        config.templates = std::sync::Arc::new(templates);
        config
    }

    fn rendered(kind: TemplateKind) -> Vec<Rendered> {
        let config = config();
        samples(&config)
            .into_iter()
            .filter(|(k, _)| *k == kind)
            .map(|(k, ctx)| shipped().render(k, &ctx).unwrap())
            .collect()
    }

    #[test]
    fn mail_text_is_nfc_whatever_the_context_carries() {
        use unicode_normalization::UnicodeNormalization;
        // A subject decoded from windows-1258: base letters and combining tone marks.
        let nfd: String = "Báo cáo Phụ lục I - Sở Y tế".nfd().collect();
        assert_ne!(nfd, "Báo cáo Phụ lục I - Sở Y tế");
        let config = config();
        let mut input = sample::receipts(&config).remove(0);
        input.subject = &nfd;
        let r = shipped().render(
            TemplateKind::Receipt,
            &crate::core::receipt::ReceiptCtx::of(&input),
        );
        let r = r.unwrap();
        assert!(
            r.subject.ends_with("Re: Báo cáo Phụ lục I - Sở Y tế"),
            "{}",
            r.subject
        );
        assert!(
            r.body.contains("\"Báo cáo Phụ lục I - Sở Y tế\""),
            "{}",
            r.body
        );
        assert!(r.body.nfc().eq(r.body.chars()) && r.subject.nfc().eq(r.subject.chars()));
    }

    #[test]
    fn the_shipped_templates_render_every_sample() {
        let config = config();
        let results = check(&config);
        let count =
            |kind: TemplateKind| samples(&config).iter().filter(|(k, _)| *k == kind).count();
        assert_eq!(
            TemplateKind::ALL.map(count),
            [6, 4, 3],
            "receipts, reminders, digests"
        );
        for (file, result) in &results {
            let r = result.as_ref().unwrap_or_else(|e| panic!("{file}: {e}"));
            // A null or a yes/no printed as is: the template missed an `if`.
            for raw in ["None", "True", "False"] {
                assert!(
                    !r.subject.contains(raw) && !r.body.contains(raw),
                    "{raw} in {file}:\n{}\n{}",
                    r.subject,
                    r.body
                );
            }
        }
        assert!(
            results
                .iter()
                .any(|(file, _)| file == "templates/digest.txt")
        );
    }

    #[test]
    fn receipt_samples_read_as_receipts() {
        let r = rendered(TemplateKind::Receipt);
        assert!(
            r[0].subject
                .starts_with("Biên nhận CV 742/SKHĐT-THQH [BN-000007] - Re: ")
        );
        assert!(
            r[0].body.contains("• … và 4 nội dung khác."),
            "{}",
            r[0].body
        );
        assert!(r[1].body.contains("Thư đến SAU thời hạn"), "{}", r[1].body);
        assert!(r[2].body.contains("Hệ thống cho rằng thư là của"));
        assert!(r[3].body.contains("Thư không có tệp báo cáo"));
        assert!(r[4].body.contains("vượt quá dung lượng"));
        assert!(r[5].body.contains("Kính gửi: Quý cơ quan, đơn vị."));
        for r in &r {
            assert!(!r.body.contains("\n\n\n"), "{}", r.body);
        }
    }

    #[test]
    fn reminders_cite_the_dispatch_and_say_what_is_owed() {
        let r = rendered(TemplateKind::Reminder);
        let subjects: Vec<&str> = r.iter().map(|r| r.subject.as_str()).collect();
        assert_eq!(
            subjects,
            [
                "Nhắc nộp báo cáo theo CV 742/SKHĐT-THQH - còn 5 ngày",
                "Nhắc nộp báo cáo theo CV 742/SKHĐT-THQH - hôm nay là hạn cuối",
                "Nhắc nộp báo cáo theo CV 742/SKHĐT-THQH - đã quá hạn 2 ngày",
                "Nhắc nộp báo cáo theo CV 742/SKHĐT-THQH - còn 3 ngày",
            ]
        );
        let before = &r[0].body;
        for phrase in [
            "Kính gửi: Văn phòng Ủy ban nhân dân tỉnh.",
            "Công văn số 742/SKHĐT-THQH ngày 29/06/2018 của Sở Kế hoạch và Đầu tư tỉnh Lạng Sơn (Khung hướng dẫn",
            "Thời hạn nộp báo cáo: trước ngày 10/7/2018 (hết ngày 09/07/2018); hiện còn 5 ngày.",
            ": chưa nhận được báo cáo và biểu số liệu.",
            ": đã nhận báo cáo, chưa nhận được biểu số liệu",
            "lần nộp thứ 2 (nhận lúc 00:00 ngày 07/07/2018) chưa dùng được (3 lỗi)",
            "       • Lỗi ô G40 (biểu PL1)",
            "Kèm theo thư này là 2 biểu mẫu trống",
            "quý cơ quan trả lời thư này, đính kèm các tệp",
            "Mã thư nhắc: NN-000012.",
            "Đây là thư tự động",
        ] {
            assert!(before.contains(phrase), "{phrase:?} in\n{before}");
        }
        assert!(r[1].body.contains("Hôm nay là ngày cuối cùng"));
        assert!(
            r[1].body
                .contains("(nhận lúc 00:00 ngày 07/07/2018) chưa dùng được (không đọc được)."),
            "{}",
            r[1].body
        );
        assert!(!r[1].body.contains("Kèm theo thư này"), "{}", r[1].body);
        assert!(r[2].body.contains("hiện đã quá hạn 2 ngày"));
        assert!(r[2].body.contains("khẩn trương"));
        assert!(
            r[3].body
                .contains("được gia hạn nộp báo cáo đến 00:00 ngày 15/07/2018; hiện còn 3 ngày")
        );
        assert!(!r[3].body.contains("khẩn trương"), "{}", r[3].body);
    }

    #[test]
    fn the_digest_gives_figures_and_lists_or_says_there_are_none() {
        let r = rendered(TemplateKind::Digest);
        assert_eq!(r[0].subject, "Tổng hợp tiếp nhận báo cáo ngày 12/07/2018");
        let full = &r[0].body;
        for phrase in [
            "Phải nộp: 114 · Đã nhận: 85 · Hợp lệ: 76 · Đúng hạn: 57",
            "Tỷ lệ nộp báo cáo: 74,6% · Tỷ lệ hợp lệ: 66,7% · Tỷ lệ đúng hạn: 50,0%",
            "Đơn vị còn thiếu (3):",
            "- Sở Nội vụ: Phụ lục II, Phụ lục III",
            "Phụ lục I lần nộp thứ 2 · không có số liệu · nhận lúc",
            "[BN-000042] Sở Nội vụ · Phụ lục II lần nộp thứ 2 · 3 lỗi",
            "chưa xác nhận đơn vị gửi (có thể là Sở Nội vụ)",
            "từ (không rõ địa chỉ)",
            "intake assign",
            "Máy chủ trả lời: 550 5.1.1",
        ] {
            assert!(full.contains(phrase), "{phrase:?} in\n{full}");
        }
        assert!(!full.contains("Không có."), "{full}");
        let quiet = &r[1].body;
        assert!(quiet.contains("Tất cả đơn vị đã nộp đủ."));
        assert_eq!(quiet.matches("   Không có.\n").count(), 3, "{quiet}");
        assert!(r[2].body.contains("Không có đợt thu thập nào đang mở."));
    }

    fn line_of(text: &str, needle: &str) -> usize {
        text.lines().position(|l| l.contains(needle)).unwrap() + 1
    }

    #[test]
    fn check_names_the_file_and_line_of_a_misspelt_variable_on_a_rare_branch() {
        // Only the oversized-message sample takes this branch.
        let receipt_text = SHIPPED[0].1.replace("({{ detail }})", "({{ detial }})");
        let config = edited(TemplateKind::Receipt, &receipt_text);
        let failed: Vec<_> = check(&config)
            .into_iter()
            .filter_map(|(file, r)| r.err().map(|e| (file, e)))
            .collect();
        assert_eq!(failed.len(), 1, "{failed:?}");
        let (file, e) = &failed[0];
        assert_eq!(file, "templates/receipt.txt");
        assert_eq!(e.file, "templates/receipt.txt");
        assert_eq!(e.line, Some(line_of(&receipt_text, "detial")), "{e}");
        assert!(e.message.contains("undefined"), "{e}");
        // At run time the same mistake falls back to the shipped template.
        let (_, ctx) = &samples(&config)[4];
        let r = config
            .templates
            .render_or_default(TemplateKind::Receipt, ctx);
        assert!(
            r.body.contains("(thư 52,3 MB, giới hạn 40 MB)"),
            "{}",
            r.body
        );
    }

    #[test]
    fn a_misspelt_name_in_a_condition_is_caught() {
        let reminder_text = SHIPPED[1]
            .1
            .replacen("{% if extension %}", "{% if extention %}", 1);
        assert_ne!(reminder_text, SHIPPED[1].1);
        let config = edited(TemplateKind::Reminder, &reminder_text);
        let failed: Vec<_> = check(&config)
            .into_iter()
            .filter_map(|(file, r)| r.err().map(|e| (file, e)))
            .collect();
        assert!(!failed.is_empty());
        assert_eq!(failed[0].1.line, Some(line_of(&reminder_text, "extention")));
    }

    #[test]
    fn check_catches_a_mistake_only_the_overdue_reminder_reaches() {
        let reminder_text = SHIPPED[1].1.replace(
            "khẩn trương gửi ngay",
            "khẩn trương {{ agnecy.name }} gửi ngay",
        );
        let config = edited(TemplateKind::Reminder, &reminder_text);
        let failed: Vec<_> = check(&config)
            .into_iter()
            .filter_map(|(file, r)| r.err().map(|e| (file, e)))
            .collect();
        assert_eq!(failed.len(), 1, "{failed:?}");
        assert_eq!(failed[0].0, "templates/reminder.txt");
        assert_eq!(
            failed[0].1.line,
            Some(line_of(&reminder_text, "agnecy")),
            "{}",
            failed[0].1
        );
    }

    #[test]
    fn the_readme_documents_every_field_and_no_other() {
        fn fields(v: &serde_json::Value, out: &mut std::collections::BTreeSet<String>) {
            match v {
                serde_json::Value::Object(m) => {
                    for (k, v) in m {
                        out.insert(k.clone());
                        fields(v, out);
                    }
                }
                serde_json::Value::Array(a) => a.iter().for_each(|v| fields(v, out)),
                _ => {}
            }
        }
        let mut used = std::collections::BTreeSet::new();
        for (_, ctx) in samples(&config()) {
            fields(&ctx, &mut used);
        }
        let readme = include_str!("../../config/templates/README.md");
        let documented: std::collections::BTreeSet<String> = readme
            .lines()
            .filter_map(|l| l.strip_prefix("| `")?.split_once('`'))
            .map(|(name, _)| name)
            .filter(|n| n.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            .map(str::to_string)
            .collect();
        assert_eq!(
            used.difference(&documented).collect::<Vec<_>>(),
            Vec::<&String>::new(),
            "fields the README does not document"
        );
        assert_eq!(
            documented.difference(&used).collect::<Vec<_>>(),
            Vec::<&String>::new(),
            "documented fields no context has"
        );
    }
}
