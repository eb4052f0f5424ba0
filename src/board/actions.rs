//! # What staff do from the board
//!
//! Every action is a POST from one of the board's pages carrying the session's CSRF token
//! (the origin and session were checked by [`super::guard`]); it runs on a blocking thread,
//! through the same store functions as the command line, so it is written to the audit log
//! with the staff member's name; then the browser is sent back to the page it came from with
//! a sentence saying what was done.

use axum::Extension;
use axum::extract::{Form, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, FixedOffset, NaiveDateTime};
use serde::Deserialize;

use super::auth::{self, Flash};
use super::pages::{self, pick};
use super::{PageError, Shared, Visit};
use crate::store::receipt_number;
use crate::store::views;

/// The fields every action form has.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Common {
    /// The session's CSRF token.
    pub csrf: String,
    /// "Người thực hiện": who acts (asked on an open board; the account's name otherwise).
    pub actor: String,
}

/// Checks the CSRF token and finds the name for the audit log; remembers a given name.
fn staff(s: &Shared, visit: &Visit, common: &Common) -> Result<String, PageError> {
    if !auth::same(common.csrf.as_bytes(), visit.session.csrf.as_bytes()) {
        return Err(PageError::Forbidden("bad csrf token"));
    }
    if let Some(user) = &visit.session.user {
        return Ok(user.clone());
    }
    let name = common
        .actor
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if name.is_empty() || name.chars().count() > 100 {
        return Err(PageError::BadRequest(
            "Hãy ghi họ và tên người thực hiện (ô \"Người thực hiện\"): việc này được ghi vào nhật ký cùng tên người làm.".into(),
        ));
    }
    s.sessions
        .update(&visit.session.id, |v| v.actor = Some(name.clone()));
    Ok(name)
}

fn done(s: &Shared, visit: &Visit, to: &str, kind: &'static str, text: String) -> Response {
    s.sessions.update(&visit.session.id, |v| {
        v.flash = Some(Flash { kind, text });
    });
    if kind == "ok" {
        s.changed();
    }
    Redirect::to(to).into_response()
}

fn agency_page(code: &str) -> String {
    format!("/agency/{}", super::render::encode(code))
}

/// The form of an extension.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ExtendForm {
    #[serde(flatten)]
    common: Common,
    campaign: String,
    agency: String,
    /// A local time (`YYYY-MM-DDTHH:MM`, as a datetime field sends it) or RFC 3339.
    until: String,
    reason: String,
}

fn parse_local(s: &str, tz: chrono_tz::Tz) -> Option<DateTime<FixedOffset>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t);
    }
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .and_then(|t| t.and_local_timezone(tz).earliest())
        .map(|t| t.fixed_offset())
}

fn reason(r: &str) -> Option<String> {
    Some(r.trim().to_string()).filter(|r| !r.is_empty())
}

/// `POST /action/extend`: gives an agency a later deadline, and reopens the reminder steps
/// that fall after it.
pub async fn extend(
    State(s): State<Shared>,
    Extension(visit): Extension<Visit>,
    Form(f): Form<ExtendForm>,
) -> Result<Response, PageError> {
    let actor = staff(&s, &visit, &f.common)?;
    let campaign = pick(&s.config(), &f.campaign)?.clone();
    let Some(agency) = campaign
        .agencies
        .iter()
        .find(|a| a.code == f.agency)
        .cloned()
    else {
        return Err(PageError::BadRequest(format!(
            "Không có đơn vị \"{}\" trong đợt báo cáo này.",
            f.agency
        )));
    };
    let back = agency_page(&agency.code);
    let tz = s.config().timezone;
    let Some(until) = parse_local(&f.until, tz) else {
        return Ok(done(
            &s,
            &visit,
            &back,
            "error",
            "Hãy chọn ngày và giờ của hạn mới.".into(),
        ));
    };
    if until <= campaign.deadline {
        return Ok(done(
            &s,
            &visit,
            &back,
            "error",
            format!(
                "Hạn mới phải sau hạn chung của đợt ({}).",
                super::render::local_time(campaign.deadline, tz)
            ),
        ));
    }
    let now = s.clock.now();
    let why = reason(&f.reason);
    let (c, code, who) = (campaign.clone(), agency.code.clone(), actor.clone());
    let reopened = s
        .with_store(move |store, config| {
            store.begin()?;
            let result = (|| {
                store.extend(&c.id, &code, until, &who, why.as_deref(), now)?;
                crate::notices::reopen_after_extension(config, store, &c, &code, until, now)
            })();
            match result {
                Ok(n) => {
                    store.commit()?;
                    Ok(n)
                }
                Err(e) => {
                    store.rollback();
                    Err(e.into())
                }
            }
        })
        .await?;
    tracing::info!(agency = %agency.code, campaign = %campaign.id, until = %until, actor = %actor, "extension granted from the board");
    Ok(done(
        &s,
        &visit,
        &back,
        "ok",
        format!(
            "Đã gia hạn cho {} đến {}; {reopened} bước nhắc sẽ được nhắc lại theo hạn mới.",
            agency.name,
            super::render::local_time(until, tz)
        ),
    ))
}

/// The form of an exemption.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ExemptForm {
    #[serde(flatten)]
    common: Common,
    campaign: String,
    agency: String,
    deliverable: String,
    reason: String,
}

/// `POST /action/exempt`: excuses an agency from a deliverable.
pub async fn exempt(
    State(s): State<Shared>,
    Extension(visit): Extension<Visit>,
    Form(f): Form<ExemptForm>,
) -> Result<Response, PageError> {
    let actor = staff(&s, &visit, &f.common)?;
    let campaign = pick(&s.config(), &f.campaign)?.clone();
    let Some(agency) = campaign
        .agencies
        .iter()
        .find(|a| a.code == f.agency)
        .cloned()
    else {
        return Err(PageError::BadRequest(format!(
            "Không có đơn vị \"{}\" trong đợt báo cáo này.",
            f.agency
        )));
    };
    let Some(d) = campaign.deliverable(&f.deliverable).cloned() else {
        return Err(PageError::BadRequest(format!(
            "Không có báo cáo \"{}\" trong đợt báo cáo này.",
            f.deliverable
        )));
    };
    let now = s.clock.now();
    let why = reason(&f.reason);
    let (c, code, did, who) = (
        campaign.id.clone(),
        agency.code.clone(),
        d.id.clone(),
        actor.clone(),
    );
    s.with_store(move |store, _| Ok(store.exempt(&c, &code, &did, &who, why.as_deref(), now)?))
        .await?;
    tracing::info!(agency = %agency.code, campaign = %campaign.id, deliverable = %d.id, actor = %actor, "exemption granted from the board");
    Ok(done(
        &s,
        &visit,
        &agency_page(&agency.code),
        "ok",
        format!("Đã miễn nộp {} cho {}.", d.label, agency.name),
    ))
}

/// The form of a re-sent receipt.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ResendForm {
    #[serde(flatten)]
    common: Common,
    /// The outbox row to copy.
    outbox: String,
    /// The agency page to go back to.
    agency: String,
}

/// `POST /action/resend`: queues a copy of a receipt again.
pub async fn resend(
    State(s): State<Shared>,
    Extension(visit): Extension<Visit>,
    Form(f): Form<ResendForm>,
) -> Result<Response, PageError> {
    let actor = staff(&s, &visit, &f.common)?;
    let Ok(id) = f.outbox.trim().parse::<i64>() else {
        return Err(PageError::BadRequest(
            "Không rõ thư nào cần gửi lại.".into(),
        ));
    };
    let back = match s.config().agency(&f.agency) {
        Some(a) => agency_page(&a.code),
        None => "/".into(),
    };
    let now = s.clock.now();
    let who = actor.clone();
    let copy = s
        .with_store(move |store, _| Ok(views::resend(store, id, &who, now)?))
        .await?;
    Ok(match copy {
        Some(new) => {
            tracing::info!(outbox = id, copy = new, actor = %actor, "receipt queued again from the board");
            done(
                &s,
                &visit,
                &back,
                "ok",
                format!("Đã xếp gửi lại biên nhận (thư đi số {new}, bản sao của thư số {id})."),
            )
        }
        None => done(
            &s,
            &visit,
            &back,
            "error",
            format!("Thư số {id} không phải biên nhận đã gửi hoặc đã dừng gửi, nên không gửi lại."),
        ),
    })
}

/// The form of a re-validation.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RevalidateForm {
    #[serde(flatten)]
    common: Common,
    campaign: String,
}

/// `POST /action/revalidate`: checks a campaign's stored workbooks again.
pub async fn revalidate(
    State(s): State<Shared>,
    Extension(visit): Extension<Visit>,
    Form(f): Form<RevalidateForm>,
) -> Result<Response, PageError> {
    let actor = staff(&s, &visit, &f.common)?;
    let campaign = pick(&s.config(), &f.campaign)?.clone();
    let now = s.clock.now();
    let inspector = s.inspector.clone();
    let (id, who) = (campaign.id.clone(), actor.clone());
    let r = s
        .with_store(move |store, config| {
            let r = crate::revalidate::revalidate(config, store, &inspector, &id, &who, now)?;
            let detail = format!(
                "Đã kiểm tra lại {} biểu: {} thay đổi kết quả, {} lần nộp đổi tình trạng",
                r.checked, r.changed, r.versions_changed
            );
            views::log_revalidation(store, &id, &detail, &who, now)?;
            Ok(r)
        })
        .await?;
    tracing::info!(campaign = %campaign.id, checked = r.checked, changed = r.changed, actor = %actor, "revalidated from the board");
    Ok(done(
        &s,
        &visit,
        &format!("/campaign/{}", super::render::encode(&campaign.id)),
        "ok",
        format!(
            "Đã kiểm tra lại {} biểu: {} thay đổi kết quả, {} lần nộp đổi tình trạng.",
            r.checked, r.changed, r.versions_changed
        ),
    ))
}

/// The form that attributes a message.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AssignForm {
    #[serde(flatten)]
    common: Common,
    /// The message row.
    message: String,
    /// The agency's code.
    agency: String,
    /// Why (required to release a message held for a failed sender check).
    reason: String,
}

/// `POST /action/assign`: attributes a quarantined or probable message to an agency and files
/// it as that agency's; a message held because its sender failed authentication is released
/// this way, with the reason staff give (required) written to the log.
pub async fn assign(
    State(s): State<Shared>,
    Extension(visit): Extension<Visit>,
    Form(f): Form<AssignForm>,
) -> Result<Response, PageError> {
    let actor = staff(&s, &visit, &f.common)?;
    let Ok(id) = f
        .message
        .trim()
        .trim_start_matches("BN-")
        .trim_start_matches('0')
        .parse::<i64>()
    else {
        return Err(PageError::BadRequest("Không rõ thư nào cần gán.".into()));
    };
    let code = f.agency.trim().to_string();
    // A code, or the agency's name as typed (the list offers names).
    let config = s.config();
    let found = config.agency_named(&code);
    let Some(agency) = found.cloned() else {
        return Ok(done(
            &s,
            &visit,
            "/quarantine",
            "error",
            format!("Không có đơn vị \"{code}\"; hãy chọn đơn vị trong danh sách."),
        ));
    };
    let inspector = s.inspector.clone();
    let clock = s.clock;
    let who = actor.clone();
    let reason = f.reason.clone();
    let code = agency.code.clone();
    let (held, result) = s
        .with_store(move |store, config| {
            let held = crate::store::query::held_claim(store, id)?.is_some();
            Ok((
                held,
                crate::ingest::assign(
                    config,
                    store,
                    &inspector,
                    &clock,
                    id,
                    &code,
                    &who,
                    Some(&reason),
                ),
            ))
        })
        .await?;
    let code = agency.code.clone();
    Ok(match result {
        Ok((new, outcome)) if held => {
            tracing::info!(receipt = id, agency = %code, actor = %actor, "held message released from the board");
            done(
                &s,
                &visit,
                "/quarantine",
                "ok",
                format!(
                    "Đã cho phép ghi nhận thư bị giữ lại {} là thư của {}: {} (bản ghi mới {}); lý do đã ghi vào nhật ký.",
                    receipt_number(id),
                    agency.name,
                    crate::core::words::event(outcome.as_str()),
                    receipt_number(new)
                ),
            )
        }
        Ok((new, outcome)) => {
            tracing::info!(receipt = id, agency = %code, actor = %actor, "message assigned from the board");
            done(
                &s,
                &visit,
                "/quarantine",
                "ok",
                format!(
                    "Đã gán thư {} cho {}: {} (bản ghi mới {}).",
                    receipt_number(id),
                    agency.name,
                    crate::core::words::event(outcome.as_str()),
                    receipt_number(new)
                ),
            )
        }
        Err(crate::ingest::AssignError::Store(e)) => return Err(e.into()),
        Err(crate::ingest::AssignError::ReasonRequired(_)) => done(
            &s,
            &visit,
            &format!("/quarantine#m{id}"),
            "error",
            "Cần ghi lý do cho phép ghi nhận thư bị giữ lại.".into(),
        ),
        Err(crate::ingest::AssignError::NoSuchAgency(c)) => done(
            &s,
            &visit,
            "/quarantine",
            "error",
            format!("Không có đơn vị \"{c}\"; hãy chọn đơn vị trong danh sách."),
        ),
        Err(e) => {
            tracing::warn!(receipt = id, agency = %code, error = %crate::causes::chain(&e), "assignment refused");
            done(
                &s,
                &visit,
                "/quarantine",
                "error",
                format!(
                    "Không gán được thư {}: thư này không còn chờ xác nhận.",
                    receipt_number(id)
                ),
            )
        }
    })
}

/// The login form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    csrf: String,
    name: String,
    password: String,
    next: String,
}

/// `POST /login`: checks an account's password (or the shared token) and starts a fresh
/// session for that name.
pub async fn login(
    State(s): State<Shared>,
    Extension(visit): Extension<Visit>,
    Form(f): Form<LoginForm>,
) -> Result<Response, PageError> {
    if !auth::same(f.csrf.as_bytes(), visit.session.csrf.as_bytes()) {
        return Err(PageError::Forbidden("bad csrf token on login"));
    }
    if !s.access.needs_login() {
        return Ok(Redirect::to("/").into_response());
    }
    if s.sessions.locked_out(visit.peer) {
        let page = pages::login_page(
            &s,
            &visit,
            &f.next,
            Some("Đăng nhập sai quá nhiều lần; hãy đợi 5 phút rồi thử lại."),
        )?;
        return Ok((axum::http::StatusCode::TOO_MANY_REQUESTS, page).into_response());
    }
    let st = s.clone();
    let (name, password) = (f.name.clone(), f.password.clone());
    let who = tokio::task::spawn_blocking(move || st.access.check(&name, &password))
        .await
        .map_err(|e| PageError::Internal(format!("login check failed: {e}")))?;
    s.sessions.note_login(visit.peer, who.is_some());
    let Some(who) = who else {
        tracing::warn!(name = %f.name.trim(), peer = ?visit.peer, "board login refused");
        let page = pages::login_page(
            &s,
            &visit,
            &f.next,
            Some("Tên đăng nhập hoặc mật khẩu không đúng."),
        )?;
        return Ok((axum::http::StatusCode::UNAUTHORIZED, page).into_response());
    };
    tracing::info!(name = %who, "board login");
    // A new session id at login: one fixed before it gives nobody else the logged-in one.
    s.sessions.remove(&visit.session.id);
    let session = s.sessions.create(Some(who));
    let mut r = Redirect::to(&pages::local_path(&f.next)).into_response();
    super::set_cookie(&mut r, &session.id, visit.https);
    Ok(r)
}

/// `POST /logout`: ends the session.
pub async fn logout(
    State(s): State<Shared>,
    Extension(visit): Extension<Visit>,
    Form(f): Form<Common>,
) -> Result<Response, PageError> {
    if !auth::same(f.csrf.as_bytes(), visit.session.csrf.as_bytes()) {
        return Err(PageError::Forbidden("bad csrf token on logout"));
    }
    s.sessions.remove(&visit.session.id);
    let mut r = Redirect::to(if s.access.needs_login() {
        "/login"
    } else {
        "/"
    })
    .into_response();
    if let Ok(v) = axum::http::HeaderValue::from_str(&auth::clear_cookie()) {
        r.headers_mut().append(axum::http::header::SET_COOKIE, v);
    }
    Ok(r)
}
