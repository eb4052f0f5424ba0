//! # `intake doctor`
//!
//! Before a reporting round, staff or the technician check that intake can do its job: the
//! mailbox (login, capabilities, folders for IMAP; the folders for a Maildir), the store, the
//! drop folder and the outbox. One line per check, a verdict and, on failure, the fix.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

use intake::config::Config;
use intake::config::store::{IndexAt, ObjectsAt};
use intake::source::imap::doctor::{Verdict, diagnose};

/// Runs every check and prints the verdicts; exit 0 when all passed, 1 otherwise.
pub fn doctor(config: &Config) -> Result<ExitCode> {
    let mut verdicts = Vec::new();
    for m in config.mailboxes() {
        // Among several mailboxes, each verdict says which.
        let named = |v: Verdict| match &m.name {
            Some(n) => Verdict {
                check: format!("{} ({n})", v.check),
                ..v
            },
            None => v,
        };
        match &m.imap {
            Some(imap) => {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                verdicts.extend(rt.block_on(diagnose(imap)).into_iter().map(named));
            }
            None => verdicts.push(named(writable("Hộp thư Maildir", &m.path.join("new")))),
        }
    }
    verdicts.push(writable("Kho lưu (store)", &config.store_dir));
    verdicts.push(store_opens(config));
    if let ObjectsAt::S3(s3) = &config.store.objects {
        verdicts.push(bucket_answers(s3));
    }
    verdicts.push(writable("Thư mục nộp tệp (drop)", &config.drop.path));
    match &config.outbox.smtp {
        Some(smtp) => verdicts.push(smtp_server(smtp)),
        None => verdicts.push(writable("Hộp thư đi (outbox)", &config.outbox_dir)),
    }
    verdicts.push(sender_checks(config));
    let mut failed = 0;
    for v in &verdicts {
        let mark = if v.ok { "✔" } else { "✘" };
        println!("{mark} {} — {}", v.check, v.detail);
        if let Some(fix) = &v.fix {
            println!("    → {fix}");
        }
        failed += usize::from(!v.ok);
    }
    if failed == 0 {
        println!("Mọi kiểm tra đều đạt.");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("{failed} kiểm tra không đạt.");
        Ok(ExitCode::from(1))
    }
}

/// The name servers answer the lookups sender authentication makes, for an agency's domain.
fn sender_checks(config: &Config) -> Verdict {
    let check = "Xác thực người gửi (DNS: DKIM, DMARC)".to_string();
    let domain = config
        .agencies()
        .iter()
        .flat_map(|a| a.addresses.iter())
        .find_map(|a| a.rsplit_once('@').map(|(_, d)| d.to_string()))
        .unwrap_or_else(|| "langson.gov.vn".into());
    let auth = intake::auth::Authenticator::new(&config.auth);
    let trusted = if config.auth.trusted_authserv_ids.is_empty() {
        "; no trusted authserv-id: every Authentication-Results header is ignored (SPF unused)"
            .to_string()
    } else {
        format!(
            "; Authentication-Results trusted from {}",
            config.auth.trusted_authserv_ids.join(", ")
        )
    };
    match auth.probe(&domain) {
        Ok(detail) => Verdict {
            check,
            ok: true,
            detail: format!("{detail}{trusted}"),
            fix: None,
        },
        Err(detail) => Verdict {
            check,
            ok: false,
            detail,
            fix: Some("Kiểm tra máy chủ DNS ([auth] nameservers trong intake.toml, hoặc /etc/resolv.conf); khi DNS không trả lời, thư vẫn được tiếp nhận nhưng ghi là chưa xác thực (temperror).".into()),
        },
    }
}

/// A folder exists (or can be made) and a file can be written in it.
fn writable(what: &str, dir: &Path) -> Verdict {
    let probe = dir.join(format!(".intake-doctor-{}", std::process::id()));
    let result = std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&probe, b"ok"))
        .and_then(|()| std::fs::remove_file(&probe));
    match result {
        Ok(()) => Verdict { check: what.into(), ok: true, detail: format!("{} is writable", dir.display()), fix: None },
        Err(e) => Verdict {
            check: what.into(),
            ok: false,
            detail: format!("{}: {e}", dir.display()),
            fix: Some("Tạo thư mục và cấp quyền ghi cho tài khoản chạy intake, hoặc đổi đường dẫn trong intake.toml.".into()),
        },
    }
}

/// The submission server answers, its certificate is trusted and the login is accepted.
fn smtp_server(smtp: &intake::config::smtp::Smtp) -> Verdict {
    let check = format!("Máy chủ gửi thư smtp://{}:{}", smtp.host, smtp.port);
    let fail = |detail: String, fix: &str| Verdict {
        check: check.clone(),
        ok: false,
        detail,
        fix: Some(fix.into()),
    };
    let transport = match intake::outbox::smtp::SmtpTransport::new(smtp) {
        Ok(t) => t,
        Err(e) => {
            return fail(
                e.to_string(),
                "Kiểm tra [outbox.smtp] trong intake.toml: mật khẩu (password_env / password_file) và ca_file.",
            );
        }
    };
    match transport.check() {
        Ok(true) => Verdict {
            check: check.clone(),
            ok: true,
            detail: format!(
                "connected{}{}",
                match smtp.security {
                    intake::config::imap::Security::Tls => ", TLS",
                    intake::config::imap::Security::StartTls => ", STARTTLS",
                    intake::config::imap::Security::Plain => ", plaintext (loopback)",
                },
                if smtp.auth.is_some() {
                    ", login accepted"
                } else {
                    ""
                }
            ),
            fix: None,
        },
        Ok(false) => fail(
            "the server did not answer as an SMTP server".into(),
            "Kiểm tra host và port; cổng gửi thư thường là 587 (STARTTLS) hoặc 465 (TLS).",
        ),
        Err(e) => fail(
            e,
            "Kiểm tra host, port, security, chứng chỉ (ca_file), tài khoản và mật khẩu gửi thư.",
        ),
    }
}

/// The store's index opens and answers.
fn store_opens(config: &Config) -> Verdict {
    let dir = &config.store_dir;
    let (check, fix) = match &config.store.index {
        IndexAt::Sqlite => (
            "Chỉ mục kho lưu (SQLite)",
            "Kiểm tra quyền ghi và dung lượng đĩa của thư mục kho lưu.",
        ),
        IndexAt::Postgres(_) => (
            "Chỉ mục kho lưu (PostgreSQL)",
            "Kiểm tra địa chỉ (url), tên đăng nhập, mật khẩu và quyền của tài khoản đó trên cơ sở dữ liệu trong [store].",
        ),
    };
    if config.store.index == IndexAt::Sqlite && !intake::store::Store::exists(dir) {
        return Verdict {
            check: check.into(),
            ok: true,
            detail: format!("no store yet in {}; intake run makes it", dir.display()),
            fix: None,
        };
    }
    match intake::store::Store::open_read_with(dir, &config.store)
        .and_then(|s| intake::store::query::totals(&s))
    {
        Ok(t) => Verdict {
            check: check.into(),
            ok: true,
            detail: format!("{} messages, {} versions", t.messages, t.versions),
            fix: None,
        },
        Err(e) => Verdict {
            check: check.into(),
            ok: false,
            detail: format!("{e:#}"),
            fix: Some(fix.into()),
        },
    }
}

/// The bucket that keeps the store's objects answers, takes the credentials and may be
/// written (a small object written, read back and deleted).
fn bucket_answers(s3: &intake::config::store::S3) -> Verdict {
    let check = "Kho đối tượng (S3)".to_string();
    let probed = intake::store::Bucket::open(s3).and_then(|b| b.probe());
    match probed {
        Ok(()) => Verdict {
            check,
            ok: true,
            detail: format!(
                "s3://{}/{} at {} is written and read back",
                s3.bucket, s3.prefix, s3.endpoint
            ),
            fix: None,
        },
        Err(e) => Verdict {
            check,
            ok: false,
            detail: e.to_string(),
            fix: Some(
                "Kiểm tra địa chỉ (endpoint), tên bucket, khoá truy cập và quyền ghi của khoá đó trong [store.objects]."
                    .into(),
            ),
        },
    }
}
