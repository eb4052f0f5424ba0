//! Forms through the whole pipeline: an agency e-mails a filled appendix; intake recognises
//! it, finds the errors at their cells, files it as invalid or accepted, sends a receipt that
//! lists the findings with the marked copy attached, consolidates accepted values with the
//! districts' total, and re-validates stored workbooks after a spec change.

mod common;

use base64::Engine;
use common::Typed;
use intake::daemon::Worker;
use intake::source::maildir::Maildir;
use intake::store::query;
use mail_parser::MimeHeaders;

/// A mail from `from` with one xlsx attachment, arriving on 5 July 2018.
fn mail(from: &str, id: &str, name: &str, xlsx: &[u8]) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(xlsx);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "Received: from mail.langson.example by mx.skhdt.langson.example; Thu, 5 Jul 2018 09:00:00 +0700\r\n\
         From: {from}\r\nTo: skhdt@langson.example\r\nSubject: Gửi Phụ lục I\r\nMessage-ID: <{id}@langson.example>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nKính gửi Sở.\r\n\
         --b\r\nContent-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet; name=\"{name}\"\r\n\
         Content-Disposition: attachment; filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
        lines.join("\r\n")
    )
    .into_bytes()
}

/// Plausible values for a district's Appendix I: every number 10, shares that add to 100,
/// budget revenue equal to its parts.
fn district_value(
    structure_last: f64,
    revenue_total: f64,
) -> impl Fn(&str, &str, &str) -> Option<Typed> {
    move |_, row, col| {
        let n = match row {
            "co-cau-nlts" => 21.61,
            "co-cau-cnxd" => 19.5,
            "co-cau-dv" => 49.42,
            "co-cau-thue" => structure_last,
            "thu-ns" => revenue_total,
            "thu-ns-noi-dia" => 200.0,
            "thu-ns-xnk" => 100.0,
            "thu-ns-khac" => 0.0,
            "luong-thuc" => 45.5,
            _ if col == "mt2020" => return Some(Typed::Text("8 - 9")),
            _ => 10.0,
        };
        Some(Typed::Number(n))
    }
}

#[test]
fn a_filled_form_is_checked_filed_consolidated_and_revalidated() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::config(dir.path());
    let campaign = &config.campaigns[0];
    let pl1 = campaign.deliverable("pl1").unwrap().spec.clone().unwrap();
    let maildir = Maildir::open(&config.mailbox.path, config.mailbox.on_filed).unwrap();
    let mut worker = Worker::open(
        config.clone(),
        common::inspector(),
        common::clock("2018-07-12T09:00:00+07:00"),
    )
    .unwrap();

    // Cao Lộc: shares 21.61 + 19.5 + 49.42 + 9.46 = 99.99, within the tolerance of the decimals given.
    let ok = common::filled_form(&pl1, "UBND huyện Cao Lộc", &district_value(9.46, 300.0));
    maildir
        .deliver(
            "1530756000.a.mx",
            &mail("ubnd-cao-loc@langson.example", "a", "PL1_CaoLoc.xlsx", &ok),
        )
        .unwrap();
    // Lộc Bình: shares add to 97.53 (error), and budget revenue 350 ≠ 200 + 100 + 0 (error).
    let bad = common::filled_form(&pl1, "UBND huyện Lộc Bình", &district_value(7.0, 350.0));
    maildir
        .deliver(
            "1530756001.b.mx",
            &mail(
                "ubnd-loc-binh@langson.example",
                "b",
                "PL1_LocBinh.xlsx",
                &bad,
            ),
        )
        .unwrap();
    worker.pass().unwrap();

    let good = query::item_summary(worker.store(), "maildir:1530756000.a.mx")
        .unwrap()
        .unwrap();
    assert_eq!(good.files[0].form.as_deref(), Some("742-2018-pl1"));
    assert_eq!(
        good.files[0].valid,
        Some(true),
        "{:?}",
        good.files[0].findings
    );
    let wrong = query::item_summary(worker.store(), "maildir:1530756001.b.mx")
        .unwrap()
        .unwrap();
    assert_eq!(wrong.files[0].valid, Some(false));
    let layout = intake::core::forms::blank::Layout::of(&pl1, &pl1.sheets[0]);
    let row_of = |id: &str| {
        layout.first_row + pl1.sheets[0].rows.iter().position(|r| r.id == id).unwrap() as u32
    };
    // The sum finding sits on the first share's cell, in each checked column (TH 2016, TH 2017, ƯTH 2018).
    for col in [0u32, 1, 3] {
        let cell = intake::workbook::a1(row_of("co-cau-nlts"), layout.first_value_col as u32 + col);
        assert!(
            wrong.files[0]
                .findings
                .contains(&format!("co-cau-kinh-te-100@{cell}")),
            "{cell} in {:?}",
            wrong.files[0].findings
        );
    }
    let total_cell = intake::workbook::a1(row_of("thu-ns"), layout.first_value_col as u32);
    assert!(
        wrong.files[0]
            .findings
            .contains(&format!("thu-ns-tong@{total_cell}")),
        "{:?}",
        wrong.files[0].findings
    );

    // Status: accepted for Cao Lộc, invalid for Lộc Bình.
    let status = query::status(
        worker.store(),
        &config,
        common::time("2018-07-12T09:00:00+07:00"),
    )
    .unwrap();
    let cell = |code: &str| {
        status.campaigns[0]
            .agencies
            .iter()
            .find(|a| a.code == code)
            .unwrap()
            .deliverables[0]
            .state
            .clone()
    };
    assert_eq!(
        (
            cell("ubnd-cao-loc").as_str(),
            cell("ubnd-loc-binh").as_str()
        ),
        ("accepted", "invalid")
    );

    // The receipt to Lộc Bình lists the findings with their cells and attaches the marked copy.
    let receipts: Vec<String> = common::tree(&config.outbox_dir)
        .into_iter()
        .filter(|f| f.ends_with(".eml") && !f.starts_with(".staging"))
        .map(|f| {
            String::from_utf8_lossy(&std::fs::read(config.outbox_dir.join(f)).unwrap()).into_owned()
        })
        .collect();
    let to_loc_binh = receipts
        .iter()
        .find(|r| r.contains("To: ubnd-loc-binh@langson.example"))
        .expect("a receipt to Lộc Bình");
    let parsed = mail_parser::MessageParser::default()
        .parse(to_loc_binh.as_bytes())
        .unwrap();
    let body = parsed.body_text(0).unwrap();
    assert!(body.contains("KHÔNG HỢP LỆ"), "{body}");
    assert!(body.contains(&format!("ô {total_cell}")), "{body}");
    let attachment = parsed
        .attachments()
        .next()
        .expect("the marked copy is attached");
    assert!(
        attachment
            .attachment_name()
            .unwrap()
            .starts_with("Kết quả kiểm tra")
    );
    let copy = intake::workbook::Inspector::new(Default::default(), None)
        .read(
            attachment.contents(),
            intake::workbook::WorkbookFormat::Xlsx,
        )
        .unwrap();
    assert_eq!(
        copy.sheets[0].name,
        intake::core::forms::annotate::SUMMARY_SHEET
    );

    // Consolidation: Cao Lộc's accepted values; the districts' total only for additive rows.
    let data = intake::export::consolidated(worker.store(), "742-2018").unwrap();
    let key = |row: &str, agency: &str| {
        (
            "pl1".to_string(),
            "pl1".to_string(),
            row.to_string(),
            "th2016".to_string(),
            agency.to_string(),
        )
    };
    assert_eq!(
        data.get(&key("luong-thuc", "ubnd-cao-loc"))
            .and_then(|v| v.number),
        Some(45.5)
    );
    assert!(
        !data.contains_key(&key("luong-thuc", "ubnd-loc-binh")),
        "an invalid version is not consolidated"
    );
    let about = intake::export::About {
        department: config.department.name.clone(),
        as_of: common::time("2018-07-12T09:00:00+07:00").naive_local(),
    };
    let xlsx = intake::export::consolidated_xlsx(campaign, &data, &about).unwrap();
    let grid = intake::workbook::Inspector::new(Default::default(), None)
        .read(&xlsx, intake::workbook::WorkbookFormat::Xlsx)
        .unwrap();
    let value_at = |sheet: &str, label: &str, header: &str| {
        let sheet = grid.sheets.iter().find(|s| s.name == sheet).unwrap();
        let find = |text: &str| {
            sheet
                .cells
                .iter()
                .find(|x| x.value == intake::workbook::CellValue::Text(text.into()))
                .unwrap_or_else(|| panic!("no {text} on {}", sheet.name))
        };
        let (row, col) = (find(label).row, find(header).col);
        sheet
            .cells
            .iter()
            .find(|x| x.row == row && x.col == col)
            .map(|x| x.value.clone())
    };
    let total = "Tổng các huyện, thành phố";
    assert_eq!(
        value_at("PL1 TH 2016", "Sản lượng lương thực có hạt", total),
        Some(intake::workbook::CellValue::Number(45.5)),
        "districts' total of an additive row"
    );
    assert_eq!(
        value_at("PL1 TH 2016", "Tỷ lệ hộ nghèo", total),
        None,
        "no total for a rate"
    );
    assert_eq!(
        value_at("PL1 toàn tỉnh", "Sản lượng lương thực có hạt", "TH 2016"),
        Some(intake::workbook::CellValue::Number(45.5)),
        "the province sheet takes the districts' total"
    );

    // A rule change for the campaign (the structure sum made a warning, the revenue sum off)
    // and re-validation: Lộc Bình's workbook is now accepted with warnings; the log says so.
    let mut relaxed = config.clone();
    relaxed.campaigns[0]
        .rules
        .insert("thu-ns-tong".into(), intake::config::RuleSetting::Off);
    relaxed.campaigns[0].rules.insert(
        "co-cau-kinh-te-100".into(),
        intake::config::RuleSetting::Warning,
    );
    drop(worker);
    let store = intake::store::Store::open(&relaxed.store_dir).unwrap();
    let r = intake::revalidate::revalidate(
        &relaxed,
        &store,
        &common::inspector(),
        "742-2018",
        "Nguyễn Văn A",
        common::time("2018-07-13T09:00:00+07:00"),
    )
    .unwrap();
    assert_eq!((r.checked, r.changed, r.versions_changed), (2, 1, 1));
    let status =
        query::status(&store, &relaxed, common::time("2018-07-13T09:00:00+07:00")).unwrap();
    let row = status.campaigns[0]
        .agencies
        .iter()
        .find(|a| a.code == "ubnd-loc-binh")
        .unwrap();
    // Three structure warnings, and three from the labour structure this filler puts 10 in.
    assert_eq!(
        (
            row.deliverables[0].state.as_str(),
            row.deliverables[0].warnings
        ),
        ("accepted", 6)
    );
    let log = query::events(&store, &query::LogFilter::default()).unwrap();
    assert!(log.iter().any(|e| e.kind == "revalidated"
        && e.agency.as_deref() == Some("ubnd-loc-binh")
        && e.actor.as_deref() == Some("Nguyễn Văn A")));
}

/// Checks a filled Appendix I for Cao Lộc in-process; returns (valid, findings as rule@cell).
fn check_pl1(value: &dyn Fn(&str, &str, &str) -> Option<Typed>) -> (bool, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let config = common::config(dir.path());
    let campaign = &config.campaigns[0];
    let pl1 = campaign.deliverable("pl1").unwrap().spec.clone().unwrap();
    let xlsx = common::filled_form(&pl1, "UBND huyện Cao Lộc", value);
    let agency = campaign
        .agencies
        .iter()
        .find(|a| a.code == "ubnd-cao-loc")
        .unwrap();
    let from = intake::core::forms::validate::From {
        code: &agency.code,
        kind: agency.kind,
    };
    let c = intake::core::pipeline::check::check(
        &xlsx,
        intake::workbook::WorkbookFormat::Xlsx,
        &common::inspector(),
        campaign,
        Some(from),
    )
    .unwrap();
    let findings = c
        .findings
        .iter()
        .map(|f| format!("{}@{}", f.rule, f.cell.as_deref().unwrap_or("-")))
        .collect();
    (c.valid, findings)
}

#[test]
fn values_written_as_agencies_write_them_are_understood() {
    let base = district_value(9.46, 300.0);
    // Percent cells formatted as percentages hold fractions: each is read as its percentage,
    // however few there are.
    let pl1 = intake::config::Config::embedded(std::path::Path::new("/x"))
        .unwrap()
        .campaigns[0]
        .deliverable("pl1")
        .unwrap()
        .spec
        .clone()
        .unwrap();
    let percent = |row: &str| {
        pl1.sheets[0]
            .row(row)
            .is_some_and(|r| r.kind == Some(intake::core::forms::value::ValueKind::Percent))
    };
    let formatted = |s: &str, row: &str, col: &str| match base(s, row, col) {
        Some(Typed::Number(n)) if percent(row) => Some(Typed::Percent(n / 100.0)),
        Some(Typed::Text(_)) if percent(row) => Some(Typed::Percent(0.085)),
        other => other,
    };
    let (valid, findings) = check_pl1(&formatted);
    assert!(valid, "{findings:?}");
    assert!(
        !findings
            .iter()
            .any(|f| f.starts_with("co-cau-kinh-te-100") || f.starts_with("ty-le-hay-phan-so")),
        "shares 0.2161 + … formatted as percentages are 21.61 + …: {findings:?}"
    );
    // One formatted cell alone is read the same way.
    let one = |s: &str, row: &str, col: &str| match (row, col) {
        ("grdp-tang", "uth2018") => Some(Typed::Percent(0.0946)),
        _ => base(s, row, col),
    };
    let (valid, findings) = check_pl1(&one);
    assert!(valid, "{findings:?}");
    assert_eq!(findings, check_pl1(&base).1);
    // Fractions without the format stay as written, and each such cell is named.
    let unformatted = |s: &str, row: &str, col: &str| match (row, col) {
        ("grdp-tang", "uth2018") => Some(Typed::Number(0.912)),
        _ => base(s, row, col),
    };
    let (_, findings) = check_pl1(&unformatted);
    let doubts: Vec<&String> = findings
        .iter()
        .filter(|f| f.starts_with("ty-le-hay-phan-so@"))
        .collect();
    assert_eq!(doubts.len(), 1, "{findings:?}");

    // A total whose optional parts are blank is still checked against the parts given.
    let partial = |s: &str, row: &str, col: &str| match row {
        "thu-ns" => Some(Typed::Number(100.0)),
        "thu-ns-noi-dia" => Some(Typed::Number(70.0)),
        "thu-ns-xnk" | "thu-ns-khac" => None,
        _ => base(s, row, col),
    };
    let (valid, findings) = check_pl1(&partial);
    assert!(
        !valid && findings.iter().any(|f| f.starts_with("thu-ns-tong@D")),
        "{findings:?}"
    );

    // "từ 8% trở lên" planned and 12 estimated is no deviation; "1.200" people are 1200.
    let bounded = |s: &str, row: &str, col: &str| match (row, col) {
        ("grdp-tang", "kh2018") => Some(Typed::Text("từ 8% trở lên")),
        ("grdp-tang", "uth2018") => Some(Typed::Number(12.0)),
        ("viec-lam", _) => Some(Typed::Text("1.200")),
        _ => base(s, row, col),
    };
    let (_, findings) = check_pl1(&bounded);
    assert!(
        !findings
            .iter()
            .any(|f| f.starts_with("uoc-th-so-voi-kh") || f.starts_with("dau-phan-cach")),
        "{findings:?}"
    );
}
