//! # Checking an IMAP account before relying on it
//!
//! `intake doctor` asks the server what intake will need: a login, the mailbox, the
//! capabilities that decide between push and polling and between MOVE and COPY, and the
//! folder filed mail goes to. Read-only: nothing is created, nothing is marked.

use futures::TryStreamExt;

use super::conn::{self, within};
use super::utf7;
use crate::config::imap::{Imap, ImapAction};

/// One check's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// What was checked, in Vietnamese.
    pub check: String,
    /// Passed.
    pub ok: bool,
    /// What was found (English detail for the technician).
    pub detail: String,
    /// What to do when it failed or is degraded, in Vietnamese.
    pub fix: Option<String>,
}

fn verdict(check: &str, ok: bool, detail: impl Into<String>, fix: Option<&str>) -> Verdict {
    Verdict {
        check: check.into(),
        ok,
        detail: detail.into(),
        fix: fix.map(str::to_string),
    }
}

/// Runs the checks against the configured account.
pub async fn diagnose(s: &Imap) -> Vec<Verdict> {
    let mut out = Vec::new();
    let (mut session, caps) = match conn::open(s).await {
        Ok(x) => x,
        Err(e) => {
            out.push(verdict(
                "Kết nối và đăng nhập hộp thư IMAP",
                false,
                e.to_string(),
                Some("Kiểm tra máy chủ, cổng, chế độ TLS, chứng chỉ (ca_file) và mật khẩu (password_env / password_file) trong [mailbox.imap]."),
            ));
            return out;
        }
    };
    out.push(verdict(
        "Kết nối và đăng nhập hộp thư IMAP",
        true,
        format!("{}@{}:{} ({:?})", s.user, s.host, s.port, s.security),
        None,
    ));
    out.push(verdict(
        "Máy chủ hỗ trợ IDLE (nhận thư tức thì)",
        caps.idle,
        if caps.idle {
            "IDLE"
        } else {
            "no IDLE: intake polls instead"
        },
        (!caps.idle).then_some("Không bắt buộc: intake sẽ hỏi máy chủ định kỳ (poll_secs)."),
    ));
    let can_move = caps.mv || caps.uidplus;
    out.push(verdict(
        "Máy chủ hỗ trợ MOVE hoặc UIDPLUS (chuyển thư đã lưu)",
        can_move || !matches!(s.on_filed, ImapAction::Move(_)),
        format!("MOVE: {}, UIDPLUS: {}", caps.mv, caps.uidplus),
        (!can_move).then_some("Đặt on_filed = \"keyword\" hoặc \"keep\" trong [mailbox.imap]."),
    ));
    match within(
        s.timeout,
        "SELECT",
        session.examine(&utf7::encode(&s.folder)),
    )
    .await
    {
        Ok(m) => out.push(verdict(
            &format!("Hộp thư \"{}\"", s.folder),
            true,
            format!(
                "{} messages, UIDVALIDITY {}",
                m.exists,
                m.uid_validity.unwrap_or(0)
            ),
            None,
        )),
        Err(e) => out.push(verdict(
            &format!("Hộp thư \"{}\"", s.folder),
            false,
            e.to_string(),
            Some("Kiểm tra tên hộp thư (folder) trong [mailbox.imap]."),
        )),
    }
    if let ImapAction::Move(target) = &s.on_filed {
        let encoded = utf7::encode(target);
        let listed: Result<Vec<_>, _> = within(s.timeout, "LIST", async {
            session
                .list(Some(""), Some(&encoded))
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await;
        match listed {
            Ok(names) if !names.is_empty() => out.push(verdict(
                &format!("Thư mục lưu thư đã xử lý \"{target}\""),
                true,
                format!("exists as {encoded}"),
                None,
            )),
            Ok(_) => out.push(verdict(
                &format!("Thư mục lưu thư đã xử lý \"{target}\""),
                true,
                format!("{encoded} does not exist yet; intake creates it on the first filing"),
                None,
            )),
            Err(e) => out.push(verdict(
                &format!("Thư mục lưu thư đã xử lý \"{target}\""),
                false,
                e.to_string(),
                Some("Kiểm tra quyền tạo thư mục của tài khoản."),
            )),
        }
    }
    let _ = within(s.timeout, "LOGOUT", session.logout()).await;
    out
}
