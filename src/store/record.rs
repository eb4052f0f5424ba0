//! # Recording an item
//!
//! The writes of one planned item inside the current batch: its objects, the message row, its
//! files with their findings and values, new versions, the intake-log events and the queued
//! receipt; and the rewrites that re-validation makes.

use std::collections::HashSet;

use super::db::{OptionalExtension, ToValue, Value as DbValue, params};
use chrono::{DateTime, FixedOffset};
use serde_json::json;

use super::{Recorded, Result, Store, component, io, receipt_number, unique};
use crate::config::Config;
use crate::core::forms::spec::Severity;
use crate::core::identify::AgencyMatch;
use crate::core::pipeline::{Examined, Outcome, Plan, Validation, VersionState};
use crate::core::receipt::{self, ReceiptFile, ReceiptInput};

impl Store {
    /// Records one examined item and its plan inside the current batch: the raw bytes and
    /// every file as objects, the message, its files, new versions, log events and the receipt.
    pub fn record(
        &self,
        config: &Config,
        raw: &[u8],
        ex: &Examined,
        plan: &Plan,
        now: DateTime<FixedOffset>,
        actor: Option<&str>,
    ) -> Result<Recorded> {
        let io_err = |e| io(&self.dir, e);
        self.objects.put(&ex.raw_sha256, raw).map_err(io_err)?;
        for f in &ex.files {
            self.objects.put(&f.sha256, &f.bytes).map_err(io_err)?;
        }
        let e = &ex.envelope;
        let (match_how, probable, evidence) = match (&ex.agency, actor) {
            (_, Some(_)) => ("assigned", None, None),
            (m, _) if plan.outcome == Outcome::SenderUnverified => (
                m.how(),
                plan.claimed.clone(),
                ex.auth.as_ref().map(|a| a.evidence().join("; ")),
            ),
            (AgencyMatch::Probable { code, evidence }, _) => {
                ("probable", Some(code.clone()), Some(evidence.clone()))
            }
            (AgencyMatch::Forwarded { evidence, .. }, _) => {
                ("forwarded", None, Some(evidence.clone()))
            }
            (m, _) => (m.how(), None, None),
        };
        let forwarded_by = match &ex.agency {
            AgencyMatch::Forwarded { forwarder, .. } => Some(forwarder.as_str()),
            _ => None,
        };
        let detail = ex.failure.as_ref().map(|f| f.1.clone()).or_else(|| {
            (!ex.skipped.is_empty()).then(|| {
                ex.skipped
                    .iter()
                    .map(|s| format!("{}: {}", s.name, s.reason))
                    .collect::<Vec<_>>()
                    .join("; ")
            })
        });
        let auto = e.auto.as_ref().map(|a| format!("{a:?}"));
        let id = self
            .conn
            .insert_id(
                "INSERT INTO messages (source, source_key, message_id, raw_sha256, raw_size, from_addr, from_name, subject, arrived_at, processed_at, campaign, agency, agency_match, probable, evidence, outcome, auto_mail, detail, acknowledged, auth, auth_evidence, forwarded_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)",
                params![
                    ex.source.as_str(), ex.key, e.message_id, ex.raw_sha256, ex.raw_size as i64, e.from, e.from_name, e.subject,
                    ex.arrived.to_rfc3339(), now.to_rfc3339(), ex.campaign, plan.agency, match_how, probable, evidence,
                    plan.outcome.as_str(), auto, detail, if plan.acknowledge { 0 } else { 2 },
                    ex.verdict().map(|v| v.as_str()), ex.auth.as_ref().map(|a| a.to_json()), forwarded_by
                ],
            )
            .map_err(|e| self.sql(e))?;
        let links = self.file_rows(id, ex, plan)?;
        self.log_item(id, ex, plan, now, actor)?;
        if let Some(to) = &plan.receipt_to {
            self.queue_receipt(config, id, to, ex, plan, now)?;
        }
        if let (Some(to), Some(code)) = (&plan.unverified_notice_to, &plan.claimed) {
            self.queue_unverified_notice(config, id, to, code, ex, now)?;
        }
        if matches!(
            ex.envelope.auto,
            Some(crate::core::extract::AutoMail::Bounce)
        ) {
            let (ours, why) = crate::core::extract::bounce::bounced(raw, &self.instance()?);
            for b in ours {
                self.mark_bounced(
                    b.id,
                    why.as_deref()
                        .unwrap_or("returned by the recipient's server"),
                    id,
                    now,
                )?;
            }
        }
        if let Some(to) = &plan.receipt_withheld {
            self.event(
                now,
                "receipt-withheld",
                ex,
                id,
                plan.agency.as_deref(),
                None,
                &format!(
                    "{to}: more than {} receipts within an hour",
                    config.receipts_per_hour
                ),
                None,
            )?;
        }
        Ok(Recorded { id, links })
    }

    fn file_rows(&self, id: i64, ex: &Examined, plan: &Plan) -> Result<Vec<(String, String)>> {
        let mut links = Vec::new();
        let mut used: HashSet<String> = HashSet::new();
        for (seq, f) in ex.files.iter().enumerate() {
            let version = plan.file_versions[seq];
            let filed = match (&plan.agency, &ex.campaign, &f.deliverable, version) {
                (Some(agency), Some(campaign), Some((d, _)), Some(v))
                    if plan.outcome == Outcome::Filed =>
                {
                    Some(format!(
                        "{}/{}/{}/v{}-{}",
                        component(campaign),
                        component(agency),
                        component(d),
                        v,
                        component(&f.name)
                    ))
                }
                // Files staff must decide on: from an unknown sender, or that no deliverable claims.
                _ if plan.returned.contains(&seq) => None,
                _ if plan.outcome.quarantines()
                    || (plan.outcome == Outcome::Filed
                        && version.is_none()
                        && f.deliverable.is_none()) =>
                {
                    Some(format!("_quarantine/{:06}/{}", id, component(&f.name)))
                }
                _ => None,
            };
            let filed = filed.map(|p| unique(&mut used, p));
            if let Some(p) = &filed {
                links.push((f.sha256.clone(), p.clone()));
            }
            let file_id = self
                .conn
                .insert_id(
                    "INSERT INTO files (message, seq, name, kind, origin, sha256, size, check_result, check_detail, deliverable, matched_by, version, filed_path, form, form_version, recognised_by, errors, warnings, annotated)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
                    params![
                        id, seq as i64, f.name, f.kind.noun(), f.origin, f.sha256, f.bytes.len() as i64, f.check.as_str(), f.check.detail(),
                        f.deliverable.as_ref().map(|d| &d.0), f.deliverable.as_ref().map(|d| d.1.as_str()), version, filed,
                        f.validation.as_ref().and_then(|v| v.form.clone()), f.validation.as_ref().and_then(|v| v.form_version),
                        f.validation.as_ref().and_then(|v| v.by), f.validation.as_ref().map(|v| v.count(Severity::Error) as i64),
                        f.validation.as_ref().map(|v| v.count(Severity::Warning) as i64),
                        f.validation.as_ref().and_then(|v| v.annotated.as_ref()).map(|a| crate::core::pipeline::sha256_hex(a))
                    ],
                )
                .map_err(|e| self.sql(e))?;
            if let Some(v) = &f.validation {
                self.validation_rows(file_id, v, version.map(|n| (plan, ex, n)), f)?;
            }
        }
        if let (Some(agency), Some(campaign)) = (&plan.agency, &ex.campaign) {
            for v in &plan.versions {
                self.conn
                    .execute(
                        "INSERT INTO versions (campaign, agency, deliverable, version, message, received_at, state, late, warnings) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                        params![campaign, agency, v.deliverable, v.version, id, ex.arrived.to_rfc3339(), v.state.as_str(), v.late as i64, v.warnings as i64],
                    )
                    .map_err(|e| self.sql(e))?;
            }
        }
        Ok(links)
    }

    /// A workbook's findings, its annotated copy, and — when filed as a version — its values.
    fn validation_rows(
        &self,
        file: i64,
        v: &Validation,
        filed: Option<(&Plan, &Examined, u32)>,
        f: &crate::core::pipeline::ExaminedFile,
    ) -> Result<()> {
        if let Some(copy) = &v.annotated {
            let sha = crate::core::pipeline::sha256_hex(copy);
            self.objects.put(&sha, copy).map_err(|e| io(&self.dir, e))?;
        }
        self.insert_findings(file, &v.findings)?;
        let (Some((plan, ex, version)), Some(form)) = (filed, &v.form) else {
            return Ok(());
        };
        let (Some(agency), Some(campaign), Some((deliverable, _))) =
            (&plan.agency, &ex.campaign, &f.deliverable)
        else {
            return Ok(());
        };
        self.insert_data(file, campaign, agency, deliverable, version, form, v)
    }

    /// A workbook's findings, in the order found.
    fn insert_findings(
        &self,
        file: i64,
        findings: &[crate::core::forms::validate::Finding],
    ) -> Result<()> {
        let rows: Vec<Vec<DbValue>> = findings
            .iter()
            .map(|x| {
                let severity = if x.severity == Severity::Error {
                    "error"
                } else {
                    "warning"
                };
                params![
                    file,
                    x.rule,
                    severity,
                    x.sheet,
                    x.cell,
                    x.indicator,
                    x.label,
                    x.column,
                    x.value,
                    x.expected,
                    x.message
                ]
                .iter()
                .map(|p| p.to_value())
                .collect()
            })
            .collect();
        self.conn
            .insert_rows(
                "INSERT INTO findings (file, rule, severity, sheet, cell, indicator, label, col, value, expected, message)",
                11,
                &rows,
            )
            .map_err(|e| self.sql(e))
    }

    /// The values a workbook holds, for consolidation.
    #[allow(clippy::too_many_arguments)] // the key of a consolidated value, one part each
    fn insert_data(
        &self,
        file: i64,
        campaign: &str,
        agency: &str,
        deliverable: &str,
        version: u32,
        form: &str,
        v: &Validation,
    ) -> Result<()> {
        use crate::core::forms::value::Value;
        let mut rows: Vec<Vec<DbValue>> = Vec::with_capacity(v.data.len());
        for d in &v.data {
            let (value, low, high) = match &d.value {
                Value::Number { value, .. } => (Some(*value), None, None),
                Value::Range { low, high, .. } => (None, Some(*low), Some(*high)),
                Value::AtLeast { value, .. } => (None, Some(*value), None),
                Value::AtMost { value, .. } => (None, None, Some(*value)),
                _ => (None, None, None),
            };
            rows.push(
                params![
                    file,
                    campaign,
                    agency,
                    deliverable,
                    version,
                    form,
                    v.form_version,
                    d.sheet,
                    d.indicator,
                    d.column,
                    value,
                    low,
                    high,
                    d.text,
                    d.unit,
                    d.cell
                ]
                .iter()
                .map(|p| p.to_value())
                .collect(),
            );
        }
        self.conn
            .insert_rows(
                "INSERT INTO data (file, campaign, agency, deliverable, version, form, form_version, sheet, indicator, col, value, low, high, text, unit, cell)",
                16,
                &rows,
            )
            .map_err(|e| self.sql(e))
    }

    fn log_item(
        &self,
        id: i64,
        ex: &Examined,
        plan: &Plan,
        now: DateTime<FixedOffset>,
        actor: Option<&str>,
    ) -> Result<()> {
        let e = &ex.envelope;
        let files = json!(ex
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| json!({"name": f.name, "kind": f.kind.noun(), "deliverable": f.deliverable.as_ref().map(|d| &d.0), "version": plan.file_versions[i], "check": f.check.as_str(),
                "form": f.validation.as_ref().and_then(|v| v.form.clone()),
                "errors": f.validation.as_ref().map(|v| v.count(Severity::Error)),
                "warnings": f.validation.as_ref().map(|v| v.count(Severity::Warning))}))
            .collect::<Vec<_>>());
        let who = e
            .from
            .clone()
            .or_else(|| ex.agency.sure().map(str::to_string))
            .unwrap_or_default();
        if actor.is_none() {
            self.event(
                now,
                "received",
                ex,
                id,
                plan.agency.as_deref(),
                None,
                &format!("{who}: {}", crate::core::text::bounded(&e.subject, 200)),
                None,
            )?;
        }
        let detail = match (&ex.agency, plan.outcome) {
            (AgencyMatch::Probable { code, evidence }, Outcome::ProbableAgency) => {
                format!("có thể là {code} ({evidence})")
            }
            (_, Outcome::SenderUnverified) => format!(
                "mang địa chỉ của {} nhưng {}: {}",
                plan.claimed.as_deref().unwrap_or("-"),
                ex.verdict().unwrap_or_default().words(),
                ex.auth
                    .as_ref()
                    .map(|a| a.evidence().join("; "))
                    .unwrap_or_default()
            ),
            (_, Outcome::ListIgnored) => format!(
                "thư gửi qua danh sách thư / thư hàng loạt ({}): không tiếp nhận",
                match &e.auto {
                    Some(crate::core::extract::AutoMail::Bulk(p)) => format!("Precedence: {p}"),
                    Some(crate::core::extract::AutoMail::List) => "List-Id".into(),
                    Some(crate::core::extract::AutoMail::AutoSubmitted(v)) =>
                        format!("Auto-Submitted: {v}"),
                    Some(crate::core::extract::AutoMail::OutOfOffice) => "trả lời vắng mặt".into(),
                    Some(crate::core::extract::AutoMail::Bounce) => "thư báo lỗi gửi".into(),
                    None => String::new(),
                }
            ),
            (AgencyMatch::Forwarded { evidence, .. }, _) => evidence.clone(),
            _ => ex.failure.as_ref().map(|f| f.1.clone()).unwrap_or_default(),
        };
        let detail = if plan.returned.is_empty() {
            detail
        } else {
            let names: Vec<&str> = plan
                .returned
                .iter()
                .map(|&i| ex.files[i].name.as_str())
                .collect();
            let note = format!(
                "tệp do hệ thống đã gửi đi, gửi lại nguyên vẹn, không ghi nhận: {}",
                names.join(", ")
            );
            if detail.is_empty() {
                note
            } else {
                format!("{detail}; {note}")
            }
        };
        let kind = if actor.is_some() && plan.outcome == Outcome::Filed {
            "assigned"
        } else {
            plan.outcome.as_str()
        };
        self.event(
            now,
            kind,
            ex,
            id,
            plan.agency.as_deref(),
            Some(files.to_string()),
            &detail,
            actor,
        )
    }

    #[allow(clippy::too_many_arguments)] // one column each; a struct would only rename them
    fn event(
        &self,
        at: DateTime<FixedOffset>,
        kind: &str,
        ex: &Examined,
        id: i64,
        agency: Option<&str>,
        files: Option<String>,
        detail: &str,
        actor: Option<&str>,
    ) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO events (at, kind, source, message, message_id, agency, campaign, files, detail, actor) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![at.to_rfc3339(), kind, ex.source.as_str(), id, ex.envelope.message_id, agency, ex.campaign, files, detail, actor],
            )
            .map_err(|e| self.sql(e))?;
        Ok(())
    }

    fn queue_receipt(
        &self,
        config: &Config,
        id: i64,
        to: &str,
        ex: &Examined,
        plan: &Plan,
        now: DateTime<FixedOffset>,
    ) -> Result<()> {
        let campaign = ex.campaign.as_deref().and_then(|c| config.campaign(c));
        let agency_code = plan.agency.clone().or_else(|| match &ex.agency {
            AgencyMatch::Probable { code, .. } => Some(code.clone()),
            _ => None,
        });
        let agency = agency_code.as_deref().and_then(|c| config.agency(c));
        let missing = match (campaign, &plan.agency) {
            (Some(c), Some(a)) => {
                let held = self.held(&c.id, a)?;
                let excused = self.exemptions(&c.id)?;
                c.deliverables
                    .iter()
                    .filter(|d| {
                        !matches!(held.get(&d.id), Some((_, _, Some(VersionState::Accepted))))
                    })
                    // A deliverable staff excused is owed no more.
                    .filter(|d| !excused.contains(&(a.clone(), d.id.clone())))
                    .map(|d| d.label.clone())
                    .collect()
            }
            _ => Vec::new(),
        };
        let files = ex
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| ReceiptFile {
                name: f.name.clone(),
                kind: f.kind.noun(),
                deliverable: f
                    .deliverable
                    .as_ref()
                    .and_then(|(d, _)| campaign.and_then(|c| c.deliverable(d)))
                    .map(|d| (d.label.clone(), d.name.clone())),
                version: plan.file_versions[i],
                check: f.check.as_str(),
                validation: f.validation.as_ref().filter(|v| v.form.is_some()).map(|v| {
                    (
                        v.valid,
                        v.count(Severity::Error),
                        v.count(Severity::Warning),
                    )
                }),
                findings: f
                    .validation
                    .as_ref()
                    .map(|v| receipt::finding_lines(&v.findings))
                    .unwrap_or_default(),
                annotated: f
                    .validation
                    .as_ref()
                    .and_then(|v| v.annotated.as_ref())
                    .is_some_and(|a| receipt::attachable(a)),
            })
            .collect();
        let attachments: Vec<serde_json::Value> = ex
            .files
            .iter()
            .filter_map(|f| f.validation.as_ref()?.annotated.as_ref().map(|a| (f, a)))
            .filter(|(_, a)| receipt::attachable(a))
            .map(|(f, a)| {
                json!({"sha256": crate::core::pipeline::sha256_hex(a), "name": crate::core::words::annotated_name(&f.name), "content_type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"})
            })
            .collect();
        let arrived = ex.arrived.with_timezone(&config.timezone).fixed_offset();
        let earlier = if plan.outcome == Outcome::Duplicate {
            self.earlier_filings(ex, plan.agency.as_deref(), campaign)?
        } else {
            Vec::new()
        };
        let window = (plan.outcome == Outcome::NoCampaign)
            .then(|| {
                plan.agency
                    .as_deref()
                    .and_then(|a| window_of(config, a, ex.arrived))
            })
            .flatten();
        let forwarded_by = match &ex.agency {
            AgencyMatch::Forwarded { forwarder, .. } => Some(forwarder.clone()),
            _ => None,
        };
        let rendered = receipt::render(
            &config.templates,
            &ReceiptInput {
                number: receipt_number(id),
                department: &config.department,
                campaign,
                agency,
                subject: &ex.envelope.subject,
                arrived,
                outcome: plan.outcome,
                files,
                late: plan.late,
                missing,
                extension: match (campaign, &plan.agency) {
                    (Some(c), Some(a)) => self.extension(&c.id, a)?,
                    _ => None,
                },
                detail: ex.failure.as_ref().map(|f| f.1.clone()).or_else(|| {
                    (!ex.skipped.is_empty()).then(|| {
                        ex.skipped
                            .iter()
                            .map(|s| format!("{}: {}", s.name, s.reason))
                            .collect::<Vec<_>>()
                            .join("; ")
                    })
                }),
                earlier,
                window,
                forwarded_by,
            },
        );
        let refs = serde_json::to_string(&ex.envelope.references).unwrap_or_default();
        let outbox = self
            .conn
            .insert_id(
                "INSERT INTO outbox (created_at, kind, message, agency, to_addr, subject, body, in_reply_to, refs, attachments, cc_addr) VALUES (?1, 'receipt', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![now.to_rfc3339(), id, plan.agency, to, rendered.subject, rendered.body, ex.envelope.message_id, refs, serde_json::to_string(&attachments).unwrap_or_default(), plan.receipt_cc],
            )
            .map_err(|e| self.sql(e))?;
        for a in &attachments {
            if let Some(sha) = a["sha256"].as_str() {
                self.note_sent_file(sha, outbox, now)?;
            }
        }
        Ok(())
    }

    /// For a resend: where each of its files was filed before, by the same agency.
    fn earlier_filings(
        &self,
        ex: &Examined,
        agency: Option<&str>,
        campaign: Option<&crate::config::Campaign>,
    ) -> Result<Vec<receipt::Earlier>> {
        let Some(agency) = agency else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for f in &ex.files {
            let row = self
                .conn
                .query_row(
                    "SELECT f.deliverable, f.version, m.arrived_at, m.id FROM files f JOIN messages m ON m.id = f.message
                     WHERE f.sha256 = ?1 AND f.version IS NOT NULL AND m.agency = ?2 ORDER BY m.id LIMIT 1",
                    params![f.sha256, agency],
                    |r| Ok((r.get::<Option<String>>(0)?, r.get::<Option<u32>>(1)?, r.get::<String>(2)?, r.get::<i64>(3)?)),
                )
                .optional()
                .map_err(|e| self.sql(e))?;
            if let Some((deliverable, version, at, message)) = row {
                out.push(receipt::Earlier {
                    name: f.name.clone(),
                    deliverable: deliverable.and_then(|d| {
                        campaign
                            .and_then(|c| c.deliverable(&d))
                            .map(|d| d.label.clone())
                            .or(Some(d))
                    }),
                    version,
                    received: DateTime::parse_from_rfc3339(&at).unwrap_or(ex.arrived),
                    number: receipt_number(message),
                });
            }
        }
        Ok(out)
    }

    /// Tells an agency's registered address that a message in its name failed the sender
    /// check and is held for staff (at most once a day per agency: the plan decides).
    fn queue_unverified_notice(
        &self,
        config: &Config,
        id: i64,
        to: &str,
        code: &str,
        ex: &Examined,
        now: DateTime<FixedOffset>,
    ) -> Result<()> {
        let Some(agency) = config.agency(code) else {
            return Ok(());
        };
        let tz = ex.arrived.with_timezone(&config.timezone).fixed_offset();
        let subject = format!(
            "Cảnh báo: thư mang tên {} không qua được kiểm tra người gửi [{}]",
            agency.name,
            receipt_number(id)
        );
        // Nothing the sender wrote is quoted: the notice must not carry a forger's words.
        let body = format!(
            "Kính gửi: {name}.\n\n\
             Lúc {at}, {dept} nhận được một thư ghi người gửi là địa chỉ thư điện tử của quý cơ quan. \
             Thư không qua được kiểm tra xác thực người gửi (DKIM/DMARC) của tên miền, nên có thể \
             không phải do quý cơ quan gửi. Thư và các tệp kèm theo được giữ lại, KHÔNG được ghi nhận \
             là báo cáo của quý cơ quan cho đến khi cán bộ của Sở xác minh.\n\n\
             Nếu quý cơ quan đã gửi thư này, đề nghị liên hệ {division}{dept_short} và nêu mã {number}; \
             đồng thời đề nghị bộ phận quản trị thư điện tử của quý cơ quan kiểm tra cấu hình DKIM, SPF, DMARC.\n\
             Nếu không, quý cơ quan không cần làm gì thêm.\n\n\
             Mỗi ngày hệ thống gửi tối đa một thông báo như thế này cho mỗi đơn vị.\n\n\
             Đây là thư tự động của hệ thống tiếp nhận báo cáo, {dept}. Đề nghị không trả lời thư này.\n",
            name = agency.name,
            at = crate::core::words::when(ex.arrived, *tz.offset()),
            dept = config.department.name,
            dept_short = config.department.short_name,
            division = config
                .department
                .division
                .as_deref()
                .map(|d| format!("{d}, "))
                .unwrap_or_default(),
            number = receipt_number(id),
        );
        self.queue_mail(
            &super::mail::NewMail {
                kind: "unverified-notice",
                message: Some(id),
                agency: Some(code.to_string()),
                to: to.to_string(),
                subject,
                body,
                attachments: Vec::new(),
            },
            now,
        )?;
        Ok(())
    }

    /// The authentication stored with a message when it was taken in.
    pub fn message_auth(&self, message: i64) -> Result<Option<crate::auth::Authentication>> {
        let json: Option<String> = self
            .conn
            .query_row(
                "SELECT auth_evidence FROM messages WHERE id = ?1",
                params![message],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.sql(e))?
            .flatten();
        Ok(json.and_then(|j| crate::auth::Authentication::from_json(&j)))
    }

    /// Writes staff's release of a message held for a failed sender check to the log.
    pub fn log_release(
        &self,
        held: i64,
        filed: i64,
        agency: &str,
        reason: &str,
        actor: &str,
        now: DateTime<FixedOffset>,
    ) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO events (at, kind, source, message, agency, detail, actor) VALUES (?1, 'released', 'store', ?2, ?3, ?4, ?5)",
                params![now.to_rfc3339(), filed, agency, format!("{} (thư giữ lại {}): {}", receipt_number(filed), receipt_number(held), crate::core::text::bounded(reason, 500)), actor],
            )
            .map_err(|e| self.sql(e))?;
        Ok(())
    }

    /// Replaces a stored workbook's findings, values and annotated copy after re-validation.
    pub fn replace_validation(
        &self,
        file: i64,
        v: &Validation,
        filed: Option<(String, String, u32)>,
        campaign: &str,
    ) -> Result<()> {
        let s = |e| self.sql(e);
        self.conn
            .execute("DELETE FROM findings WHERE file = ?1", params![file])
            .map_err(s)?;
        self.conn
            .execute("DELETE FROM data WHERE file = ?1", params![file])
            .map_err(s)?;
        let annotated = v
            .annotated
            .as_ref()
            .map(|a| crate::core::pipeline::sha256_hex(a));
        self.conn
            .execute(
                "UPDATE files SET form = ?1, form_version = ?2, errors = ?3, warnings = ?4, annotated = ?5 WHERE id = ?6",
                params![v.form, v.form_version, v.count(Severity::Error) as i64, v.count(Severity::Warning) as i64, annotated, file],
            )
            .map_err(s)?;
        if let Some(copy) = &v.annotated {
            self.objects
                .put(annotated.as_deref().unwrap_or_default(), copy)
                .map_err(|e| io(&self.dir, e))?;
        }
        self.insert_findings(file, &v.findings)?;
        if let (Some((agency, deliverable, version)), Some(form)) = (filed, &v.form) {
            self.insert_data(file, campaign, &agency, &deliverable, version, form, v)?;
        }
        Ok(())
    }

    /// Recomputes each version's state from its workbooks' current checks; returns how many changed.
    pub fn recompute_states(&self, campaign: &str) -> Result<usize> {
        let states = |s: &Self| {
            s.query_rows("SELECT state FROM versions WHERE campaign = ?1 ORDER BY agency, deliverable, version", params![campaign], |r| r.get::<String>(0))
        };
        let before = states(self)?;
        self
            .conn
            .execute(
                "UPDATE versions SET
                    state = CASE
                        WHEN NOT EXISTS (SELECT 1 FROM files f WHERE f.message = versions.message AND f.deliverable = versions.deliverable AND f.version = versions.version AND f.kind = 'workbook') THEN 'received'
                        WHEN EXISTS (SELECT 1 FROM files f WHERE f.message = versions.message AND f.deliverable = versions.deliverable AND f.version = versions.version AND f.kind = 'workbook' AND f.check_result = 'ok' AND coalesce(f.errors, 0) = 0) THEN 'accepted'
                        ELSE 'invalid' END,
                    warnings = coalesce((SELECT min(f.warnings) FROM files f WHERE f.message = versions.message AND f.deliverable = versions.deliverable AND f.version = versions.version AND f.kind = 'workbook' AND f.check_result = 'ok' AND coalesce(f.errors, 0) = 0), 0)
                 WHERE campaign = ?1",
                params![campaign],
            )
            .map_err(|e| self.sql(e))?;
        let after = states(self)?;
        Ok(before.iter().zip(&after).filter(|(a, b)| a != b).count())
    }

    /// Logs a changed outcome of re-validation.
    #[allow(clippy::too_many_arguments)] // one column each
    pub fn log_revalidated(
        &self,
        message: i64,
        agency: Option<&str>,
        campaign: &str,
        file: &str,
        change: &str,
        actor: &str,
        at: DateTime<FixedOffset>,
    ) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO events (at, kind, source, message, agency, campaign, files, detail, actor) VALUES (?1, 'revalidated', 'store', ?2, ?3, ?4, ?5, ?6, ?7)",
                params![at.to_rfc3339(), message, agency, campaign, json!([{"name": file}]).to_string(), change, actor],
            )
            .map_err(|e| self.sql(e))?;
        Ok(())
    }
}

/// The round nearest in time of the agency's rounds, none of which is open at `at`.
fn window_of<'c>(
    config: &'c Config,
    agency: &str,
    at: DateTime<FixedOffset>,
) -> Option<receipt::Window<'c>> {
    let mine = config.campaigns.iter().filter(|c| c.has_agency(agency));
    let next = mine
        .clone()
        .filter(|c| c.opens.is_some_and(|o| o > at))
        .min_by_key(|c| c.opens);
    if let Some(campaign) = next {
        return Some(receipt::Window {
            campaign,
            before: true,
            at: campaign.opens,
        });
    }
    mine.filter(|c| c.closes.is_some_and(|x| x <= at))
        .max_by_key(|c| c.closes)
        .map(|campaign| receipt::Window {
            campaign,
            before: false,
            at: campaign.closes,
        })
}
