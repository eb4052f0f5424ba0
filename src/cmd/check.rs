//! # `intake check-config`: everything the service will need, checked before it needs it
//!
//! Loading a configuration already checks its syntax, its keys and the files it names (the
//! roster, the campaigns, the form specifications). What a service discovers only later is
//! checked here too: every mail template renders against sample data; the secrets it will
//! read (IMAP and SMTP passwords, the board's token and accounts) are present — never
//! printed; the CA files exist; the addresses it writes from and to are well-formed; the
//! folders it writes into are writable or can be made. Each problem names the file, the key
//! and the fix; any problem exits 2. The file checked is named, or "the built-in example".

use std::path::Path;
use std::process::ExitCode;
use std::str::FromStr;

use anyhow::Result;

use intake::config::Config;

/// One thing the service would trip on.
struct Problem {
    key: String,
    problem: String,
    fix: String,
}

/// `intake check-config`.
pub fn check_config(config: &Config, built_in: bool) -> Result<ExitCode> {
    let file = if built_in {
        "the built-in example".to_string()
    } else {
        config.origin.display().to_string()
    };
    let mut broken = 0;
    for (_, result) in intake::samples::check(config) {
        if let Err(e) = result {
            eprintln!("intake: {e}");
            broken += 1;
        }
    }
    if broken > 0 {
        eprintln!(
            "intake: {broken} template sample(s) do not render; config/templates/README.md lists the variables"
        );
    }
    let problems = problems(config);
    for p in &problems {
        eprintln!("intake: {file}: {}: {}; {}", p.key, p.problem, p.fix);
    }
    if broken + problems.len() > 0 {
        eprintln!(
            "intake: {} problem(s) in {file}; the service would fail on them",
            broken + problems.len()
        );
        return Ok(ExitCode::from(2));
    }
    if built_in {
        println!(
            "Cấu hình hợp lệ: cấu hình mẫu dựng sẵn (không có tệp; intake init THƯ_MỤC để ghi ra)"
        );
    } else {
        println!("Cấu hình hợp lệ: {file}");
    }
    for c in &config.campaigns {
        println!(
            "  Công văn {} — {} đơn vị × {} báo cáo, hạn nộp {} ({})",
            c.dispatch,
            c.agencies.len(),
            c.deliverables.len(),
            c.deadline_text,
            intake::core::words::when(c.deadline, config.timezone)
        );
        for d in &c.deliverables {
            if let Some(spec) = &d.spec {
                println!("    {}: đặc tả biểu phiên bản {}", d.label, spec.version);
            }
        }
    }
    println!(
        "  hộp thư: {}\n  thư mục nộp tệp: {}\n  kho lưu: {}\n  hộp thư đi: {}",
        config
            .mailboxes()
            .map(|m| m.describe())
            .collect::<Vec<_>>()
            .join(", "),
        config.drop.path.display(),
        config.store_dir.display(),
        match &config.outbox.smtp {
            Some(s) => format!("smtp://{}:{}", s.host, s.port),
            None => config.outbox_dir.display().to_string(),
        }
    );
    println!(
        "  mẫu thư: {} (đã thử với dữ liệu mẫu)",
        intake::core::templates::TemplateKind::ALL
            .iter()
            .map(|k| config.templates.file(*k))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("  mật khẩu và khoá: có đủ (không in ra)");
    Ok(ExitCode::SUCCESS)
}

/// Every problem `check-config` would report (templates included), one line each: what a
/// reload refuses a configuration for.
pub fn problems_of(config: &Config) -> Vec<String> {
    let mut out: Vec<String> = intake::samples::check(config)
        .into_iter()
        .filter_map(|(_, r)| r.err().map(|e| e.to_string()))
        .collect();
    out.extend(
        problems(config)
            .into_iter()
            .map(|p| format!("{}: {}; {}", p.key, p.problem, p.fix)),
    );
    out
}

/// Every mailbox with the key that names it in the file: `mailbox`, or `mailbox[n]` among
/// several `[[mailbox]]`.
fn mailboxes(config: &Config) -> Vec<(&intake::config::Mailbox, String)> {
    let many = !config.more_mailboxes.is_empty() || config.mailbox.name.is_some();
    config
        .mailboxes()
        .enumerate()
        .map(|(n, m)| {
            let key = if many {
                format!("mailbox[{n}]")
            } else {
                "mailbox".to_string()
            };
            (m, key)
        })
        .collect()
}

/// Everything beyond the templates that the service would trip on.
fn problems(config: &Config) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut add = |key: &str, problem: String, fix: &str| {
        out.push(Problem {
            key: key.into(),
            problem,
            fix: fix.into(),
        })
    };
    // Secrets, read as the service will read them.
    for (m, key) in mailboxes(config) {
        let Some(imap) = &m.imap else { continue };
        if let Err(e) = imap.secret.read() {
            add(
                &format!("{key}.imap.password_env / password_file"),
                format!("the IMAP password cannot be read: {e}"),
                "set the variable in the service's environment (/etc/intake/env), or name a readable file",
            );
        }
        if let Some(ca) = &imap.ca_file {
            readable(ca, &format!("{key}.imap.ca_file"), &mut add);
        }
    }
    if let Some(smtp) = &config.outbox.smtp {
        if let Some((_, secret)) = &smtp.auth
            && let Err(e) = secret.read()
        {
            add(
                "outbox.smtp.password_env / password_file",
                format!("the SMTP password cannot be read: {e}"),
                "set the variable in the service's environment (/etc/intake/env), or name a readable file",
            );
        }
        if let Some(ca) = &smtp.ca_file {
            readable(ca, "outbox.smtp.ca_file", &mut add);
        }
    }
    if config.board.enabled
        && let Err(e) = intake::board::auth::Access::from_config(&config.board)
    {
        add(
            "board.accounts / board.token_file",
            e.to_string(),
            "make the accounts file with `intake board-account NAME`, or give a readable token file",
        );
    }
    // Addresses mail is written from and to.
    if lettre::message::Mailbox::from_str(&config.department.reply_from).is_err() {
        add(
            "department.reply_from",
            format!("\"{}\" is not a mail address", config.department.reply_from),
            "write it as \"Name <user@domain>\" or user@domain",
        );
    }
    for a in &config.department.addresses {
        address(a, "department.addresses", &mut add);
    }
    if let Some(d) = &config.digest {
        for a in &d.to {
            address(a, "digest.to", &mut add);
        }
    }
    for agency in config.agencies() {
        for a in &agency.addresses {
            address(
                a,
                &format!("roster: agency {} addresses", agency.code),
                &mut add,
            );
        }
    }
    // Folders written into.
    let mut folders = vec![
        ("data_dir".to_string(), config.data_dir.as_path()),
        ("store".to_string(), config.store_dir.as_path()),
        ("drop.path".to_string(), config.drop.path.as_path()),
    ];
    for (m, key) in mailboxes(config) {
        if m.imap.is_none() {
            folders.push((format!("{key}.path"), m.path.as_path()));
        }
    }
    if config.outbox.smtp.is_none() {
        folders.push(("outbox.path".to_string(), config.outbox_dir.as_path()));
    }
    for (key, path) in folders {
        let key = key.as_str();
        if let Err(why) = writable(path) {
            add(
                key,
                format!("{} cannot be written: {why}", path.display()),
                "make the folder and give the service's user write access to it (the package's unit allows /var/lib/intake)",
            );
        }
    }
    out
}

fn readable(path: &Path, key: &str, add: &mut impl FnMut(&str, String, &str)) {
    if let Err(e) = std::fs::File::open(path) {
        add(
            key,
            format!("cannot read {}: {e}", path.display()),
            "name a readable PEM file, or remove the key to use the system's CAs",
        );
    }
}

fn address(text: &str, key: &str, add: &mut impl FnMut(&str, String, &str)) {
    if lettre::Address::from_str(text.trim()).is_err() {
        add(
            key,
            format!("\"{text}\" is not a mail address"),
            "write a full address such as vanthu@soyte.langson.gov.vn",
        );
    }
}

/// True when `path` is a folder intake can write into, or can be made: the nearest existing
/// ancestor must be a writable folder.
fn writable(path: &Path) -> std::result::Result<(), String> {
    let mut at = path;
    loop {
        match std::fs::metadata(at) {
            Ok(m) if m.is_dir() => break,
            Ok(_) => return Err(format!("{} is not a folder", at.display())),
            Err(_) => match at.parent() {
                Some(p) if !p.as_os_str().is_empty() => at = p,
                _ => {
                    at = Path::new(".");
                    break;
                }
            },
        }
    }
    let c = std::ffi::CString::new(at.as_os_str().as_encoded_bytes())
        .map_err(|_| "the path holds a NUL byte".to_string())?;
    // SAFETY: a valid NUL-terminated path; access(2) only reads it.
    if unsafe { libc::access(c.as_ptr(), libc::W_OK | libc::X_OK) } != 0 {
        return Err(format!(
            "{}: {}",
            at.display(),
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}
