//! # Form commands: `intake validate` and `intake template export`
//!
//! Staff check a workbook without filing it, and write the blank forms that go out with a
//! dispatch. Output: a Vietnamese table, or `--json`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use serde::Serialize;

use intake::config::{Campaign, Config};
use intake::core::forms::{blank, spec::Severity, validate::From};
use intake::core::pipeline::check;
use intake::workbook::{self, Inspector};

/// Exit code of `validate` when the file cannot be read or recognised.
const UNREADABLE: u8 = 2;

#[derive(Serialize)]
struct ValidateJson<'a> {
    file: String,
    form: Option<&'a str>,
    form_version: Option<u32>,
    deliverable: Option<&'a str>,
    agency: Option<&'a str>,
    recognised_by: Option<&'a str>,
    confidence: f64,
    valid: bool,
    errors: usize,
    warnings: usize,
    findings: &'a [intake::core::forms::validate::Finding],
    /// Every value read: the form's sheet, indicator and column, the cell it came from.
    values: &'a [intake::core::forms::validate::Datum],
}

/// `intake validate FILE`: exit 0 valid, 1 errors, 2 unreadable or unrecognised.
pub fn validate(
    config: &Config,
    inspector: &Inspector,
    file: &Path,
    agency: Option<&str>,
    campaign: Option<&str>,
    json: bool,
    annotated: Option<&Path>,
) -> Result<ExitCode> {
    let campaign = pick_campaign(config, campaign)?;
    let from = match agency {
        Some(code) => {
            let a = crate::usage::campaign_agency(campaign, config, code)?;
            Some(From {
                code: &a.code,
                kind: a.kind,
            })
        }
        None => None,
    };
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound
                    | std::io::ErrorKind::IsADirectory
                    | std::io::ErrorKind::PermissionDenied
            ) =>
        {
            return Err(crate::usage::Usage(format!("cannot read {}: {e}", file.display())).into());
        }
        Err(e) => {
            return Err(anyhow::Error::new(e).context(format!("cannot read {}", file.display())));
        }
    };
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let shown = file.display().to_string();
    let Some(format) = workbook::sniff(&bytes, &name)
        .or_else(|| workbook::is_encrypted_ooxml(&bytes).then_some(workbook::WorkbookFormat::Xlsx))
    else {
        return unreadable(
            &shown,
            agency,
            json,
            "không phải tệp bảng tính (xlsx, xlsm, xls, ods)",
        );
    };
    let checked = match check::check(&bytes, format, inspector, campaign, from) {
        Ok(c) => c,
        Err(e) => return unreadable(&shown, agency, json, &e.to_string()),
    };
    if let Some(out) = annotated {
        let submission = intake::core::forms::annotate::Submission {
            bytes: &bytes,
            format,
            grid: &checked.grid,
            digest: checked.copy_digest.as_deref(),
        };
        let copy = intake::core::forms::annotate::marked_copy(
            &submission,
            &checked.findings,
            check::spec_of(campaign, checked.form.as_deref()),
            &format!("Kết quả kiểm tra {name}"),
        )?;
        std::fs::write(out, copy.bytes)
            .with_context(|| format!("cannot write {}", out.display()))?;
    }
    let (errors, warnings) = (
        checked.count(Severity::Error),
        checked.count(Severity::Warning),
    );
    if json {
        let out = ValidateJson {
            file: shown,
            form: checked.form.as_deref(),
            form_version: checked.form_version,
            deliverable: checked.deliverable.as_deref(),
            agency,
            recognised_by: checked.by.map(|b| match b {
                intake::core::forms::recognise::RecognisedBy::Marker => "marker",
                intake::core::forms::recognise::RecognisedBy::Content => "content",
            }),
            confidence: checked.confidence,
            valid: checked.valid,
            errors,
            warnings,
            findings: &checked.findings,
            values: &checked.data,
        };
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        match &checked.form {
            Some(form) => println!(
                "Tệp {shown}: biểu mẫu {} (độ tin cậy {}%)",
                checked
                    .deliverable
                    .as_deref()
                    .map_or_else(|| form.clone(), |d| config.names().deliverable(None, d)),
                intake::core::words::number((checked.confidence * 100.0).round())
            ),
            None => println!("Tệp {shown}: không nhận ra biểu mẫu"),
        }
        println!(
            "Kết quả: {} — {errors} lỗi, {warnings} cảnh báo",
            if checked.valid {
                "HỢP LỆ"
            } else {
                "KHÔNG HỢP LỆ"
            }
        );
        if !checked.findings.is_empty() {
            let mut t = comfy_table::Table::new();
            t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
            t.set_header(vec!["Mức độ", "Biểu", "Ô", "Nội dung", "Quy tắc"]);
            for f in &checked.findings {
                let level = if f.severity == Severity::Error {
                    "Lỗi"
                } else {
                    "Cảnh báo"
                };
                t.add_row(vec![
                    level,
                    &f.sheet,
                    f.cell.as_deref().unwrap_or("—"),
                    &f.message,
                    &f.rule,
                ]);
            }
            println!("{t}");
        }
    }
    Ok(match (&checked.form, checked.valid) {
        (None, _) => ExitCode::from(UNREADABLE),
        (Some(_), true) => ExitCode::SUCCESS,
        (Some(_), false) => ExitCode::from(1),
    })
}

fn unreadable(file: &str, agency: Option<&str>, json: bool, why: &str) -> Result<ExitCode> {
    if json {
        let finding = serde_json::json!({"rule": "khong-doc-duoc", "severity": "error", "sheet": "", "cell": null, "indicator": null, "message": format!("Không đọc được tệp: {why}")});
        let out = serde_json::json!({"file": file, "form": null, "form_version": null, "agency": agency, "valid": false, "findings": [finding]});
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("Tệp {file}: không đọc được ({why})");
    }
    Ok(ExitCode::from(UNREADABLE))
}

/// `intake template export`: one xlsx per form of the campaign, for an agency or for all.
pub fn export_templates(
    config: &Config,
    campaign: Option<&str>,
    agency: Option<&str>,
    out: &Path,
) -> Result<ExitCode> {
    let campaign = pick_campaign(config, campaign)?;
    let who = match agency {
        Some(code) => Some(crate::usage::campaign_agency(campaign, config, code)?),
        None => None,
    };
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut written: Vec<PathBuf> = Vec::new();
    for d in &campaign.deliverables {
        let Some(spec) = &d.spec else { continue };
        let bytes = blank::blank_form(
            spec,
            who.map(|a| (a.code.as_str(), a.kind, a.name.as_str())),
        )?;
        let name = match who {
            Some(a) => format!("{} - {} - {}.xlsx", d.label, spec.id, a.code),
            None => format!("{} - {}.xlsx", d.label, spec.id),
        };
        let path = out.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
    }
    if written.is_empty() {
        bail!("campaign {} has no form specification", campaign.id);
    }
    for p in &written {
        println!("Đã ghi biểu mẫu: {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// The campaign named, or the only one; another code is a usage error listing the valid ones.
pub fn pick_campaign<'c>(config: &'c Config, id: Option<&str>) -> Result<&'c Campaign> {
    Ok(crate::usage::campaign(config, id)?)
}
