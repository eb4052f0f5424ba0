//! # Files staff take away
//!
//! A filed file, or its annotated copy, by its file row's number: the row gives the object's
//! SHA-256, and only that names a path (under `objects/`), so nothing a request says ever
//! reaches the file system. The exports are the same workbooks `intake export` writes.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::{PageError, Shared, Visit};
use crate::store::views;

/// `GET /download/{id}` (the filed file) and `GET /download/{id}/annotated` (its copy with the
/// findings marked); anything else under `/download/` is not found.
pub async fn file(
    State(s): State<Shared>,
    Extension(_visit): Extension<Visit>,
    Path(rest): Path<String>,
) -> Result<Response, PageError> {
    let (id, annotated) = match rest.split_once('/') {
        None => (rest.as_str(), false),
        Some((id, "annotated")) => (id, true),
        Some(_) => return Err(PageError::NotFound),
    };
    if id.is_empty() || id.len() > 18 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PageError::NotFound);
    }
    let id: i64 = id.parse().map_err(|_| PageError::NotFound)?;
    let found = s
        .with_store(move |store, _| {
            let Some((sha, name)) = views::downloadable(store, id, annotated)? else {
                return Ok(None);
            };
            let bytes = store
                .objects()
                .get(&sha)
                .map_err(|e| PageError::Internal(format!("object {sha}: {e}")))?;
            Ok(Some((bytes, name)))
        })
        .await?;
    let Some((bytes, name)) = found else {
        return Err(PageError::NotFound);
    };
    let name = if annotated {
        let stem = name.rsplit_once('.').map_or(name.as_str(), |(s, _)| s);
        format!("{stem} - kết quả kiểm tra.xlsx")
    } else {
        name
    };
    Ok(attachment(bytes, &name))
}

/// `GET /export/{campaign}/status.xlsx` and `/export/{campaign}/consolidated.xlsx`.
pub async fn export(
    State(s): State<Shared>,
    Extension(_visit): Extension<Visit>,
    Path((campaign, what)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let Some(c) = s.config().campaign(&campaign).cloned() else {
        return Err(PageError::NotFound);
    };
    let status = match what.as_str() {
        "status.xlsx" => true,
        "consolidated.xlsx" => false,
        _ => return Err(PageError::NotFound),
    };
    let now = s.clock.now();
    let id = c.id.clone();
    let dispatch = c.dispatch.clone();
    let bytes = s
        .with_store(move |store, config| {
            let xlsx = if status {
                let mut st = crate::store::query::status(store, config, now)?;
                st.campaigns.retain(|x| x.id == id);
                crate::export::status_xlsx(&st, config.timezone)
            } else {
                let about = crate::export::About {
                    department: config.department.name.clone(),
                    as_of: now.with_timezone(&config.timezone).naive_local(),
                };
                crate::export::consolidated_xlsx(
                    &c,
                    &crate::export::consolidated(store, &id)?,
                    &about,
                )
            };
            xlsx.map_err(|e| PageError::Internal(format!("export of {id}: {e}")))
        })
        .await?;
    // Named by the dispatch staff know, never by the campaign's internal id.
    let dispatch = dispatch.replace(['/', '\\'], "-");
    let name = if status {
        format!("Tình trạng nộp - Công văn {dispatch}.xlsx")
    } else {
        format!("Số liệu tổng hợp - Công văn {dispatch}.xlsx")
    };
    Ok(attachment(bytes, &name))
}

fn content_type(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xlsm" => "application/vnd.ms-excel.sheet.macroEnabled.12",
        "xls" => "application/vnd.ms-excel",
        "ods" => "application/vnd.oasis.opendocument.spreadsheet",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "doc" => "application/msword",
        "odt" => "application/vnd.oasis.opendocument.text",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

/// A download: never shown inline, named in ASCII and in UTF-8 (RFC 6266).
fn attachment(bytes: Vec<u8>, name: &str) -> Response {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " .-_()".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        super::render::encode(name).replace('/', "%2F")
    );
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(name)),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}
