//! The consolidated workbook as staff print it: four districts and three provincial
//! departments send Appendix I through the mailbox, intake files and accepts them, and the
//! consolidated workbook is written, read back with calamine (exact totals, coverage and
//! province cells), then rendered by LibreOffice (`soffice --headless --convert-to pdf`, a
//! fresh profile per run) and read with poppler's `pdfinfo` and `pdftotext`: the pages are
//! A4 landscape and few, and the text is Vietnamese, with the coverage of the totals and no
//! internal id. Without LibreOffice or poppler the test fails and says how to install them.
//! `INTAKE_KEEP_PDF=FILE` keeps a copy of the PDF to look at.

mod common;

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine;
use calamine::{Data, Reader, Xlsx};
use common::Typed;
use intake::daemon::Worker;
use intake::source::maildir::Maildir;

const NOW: &str = "2018-07-12T09:00:00+07:00";

/// The districts that report (4 of 11) and the provincial departments.
const DISTRICTS: [(&str, f64); 4] = [
    ("ubnd-cao-loc", 1.0),
    ("ubnd-loc-binh", 2.0),
    ("ubnd-dinh-lap", 3.0),
    ("ubnd-chi-lang", 4.0),
];
const DEPARTMENTS: [(&str, f64); 3] = [
    ("cuc-thong-ke", 20.0),
    ("so-y-te", 30.0),
    ("so-nn-ptnt", 40.0),
];

/// A mail from `from` with one xlsx attachment, arriving on 5 July 2018.
fn mail(from: &str, id: &str, xlsx: &[u8]) -> Vec<u8> {
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
         --b\r\nContent-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet; name=\"PL1.xlsx\"\r\n\
         Content-Disposition: attachment; filename=\"PL1.xlsx\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
        lines.join("\r\n")
    )
    .into_bytes()
}

/// Appendix I filled with numbers that depend on `k`: shares that add to 100, budget revenue
/// equal to its parts (200 + k, 100, 0), grain 40 + k, a range in MT 2020, 10 + k elsewhere.
fn values(k: f64) -> impl Fn(&str, &str, &str) -> Option<Typed> {
    move |_, row, col| {
        let n = match row {
            "co-cau-nlts" | "co-cau-ld-nlts" => 21.61,
            "co-cau-cnxd" | "co-cau-ld-cnxd" => 19.5,
            "co-cau-dv" | "co-cau-ld-dv" => 49.42,
            "co-cau-thue" => 9.47,
            "thu-ns" => 300.0 + k,
            "thu-ns-noi-dia" => 200.0 + k,
            "thu-ns-xnk" => 100.0,
            "thu-ns-khac" => 0.0,
            _ if col == "mt2020" => return Some(Typed::Text("8 - 9")),
            "luong-thuc" => 40.0 + k,
            _ => 10.0 + k,
        };
        Some(Typed::Number(n))
    }
}

/// The store after the seven agencies' mail, and the workbook's bytes.
fn consolidated_workbook(dir: &Path) -> Vec<u8> {
    let config = common::config(dir);
    let campaign = config.campaigns[0].clone();
    let pl1 = campaign.deliverable("pl1").unwrap().spec.clone().unwrap();
    let maildir = Maildir::open(&config.mailbox.path, config.mailbox.on_filed).unwrap();
    let mut worker = Worker::open(config.clone(), common::inspector(), common::clock(NOW)).unwrap();
    for (i, (code, k)) in DISTRICTS.iter().chain(&DEPARTMENTS).enumerate() {
        let name = &campaign
            .agencies
            .iter()
            .find(|a| a.code == *code)
            .unwrap()
            .name;
        let xlsx = common::filled_form(&pl1, name, &values(*k));
        maildir
            .deliver(
                &format!("15307560{i:02}.m.mx"),
                &mail(&format!("{code}@langson.example"), &format!("m{i}"), &xlsx),
            )
            .unwrap();
    }
    worker.pass().unwrap();
    let data = intake::export::consolidated(worker.store(), &campaign.id).unwrap();
    for (code, _) in DISTRICTS.iter().chain(&DEPARTMENTS) {
        assert!(
            data.keys().any(|k| k.4 == *code),
            "{code}'s workbook was not accepted"
        );
    }
    let about = intake::export::About {
        department: config.department.name.clone(),
        as_of: common::time(NOW)
            .with_timezone(&config.timezone)
            .naive_local(),
    };
    intake::export::consolidated_xlsx(&campaign, &data, &about).unwrap()
}

fn text(range: &calamine::Range<Data>, row: u32, col: u32) -> String {
    range
        .get_value((row, col))
        .map(|d| d.to_string())
        .unwrap_or_default()
}

fn number(range: &calamine::Range<Data>, row: u32, col: u32) -> Option<f64> {
    match range.get_value((row, col)) {
        Some(Data::Float(f)) => Some(*f),
        Some(Data::Int(i)) => Some(*i as f64),
        _ => None,
    }
}

/// The row (0-based) whose column `col` says `label`.
fn row_of(range: &calamine::Range<Data>, col: u32, label: &str) -> u32 {
    (0..range.height() as u32)
        .find(|r| text(range, *r, col) == label)
        .unwrap_or_else(|| panic!("no row {label}"))
}

/// The column (0-based) whose header, on `row`, says `label`.
fn col_of(range: &calamine::Range<Data>, row: u32, label: &str) -> u32 {
    (0..range.width() as u32)
        .find(|c| text(range, row, *c) == label)
        .unwrap_or_else(|| panic!("no column {label}"))
}

#[test]
fn the_consolidated_workbook_reads_back_and_prints_in_libreoffice() {
    let soffice = tool("soffice");
    let pdfinfo = tool("pdfinfo");
    let pdftotext = tool("pdftotext");
    let dir = tempfile::tempdir().unwrap();
    let xlsx = consolidated_workbook(dir.path());

    // Read back: the province sheet of Appendix I first, in the form's layout.
    let mut book = Xlsx::new(Cursor::new(xlsx.clone())).unwrap();
    let names = book.sheet_names();
    assert_eq!(names[0], "PL1 toàn tỉnh", "{names:?}");
    assert!(names.contains(&"PL1 TH 2016".to_string()), "{names:?}");
    assert_eq!(
        names.len(),
        4 + 14,
        "a province sheet per form sheet, a detail sheet per column: {names:?}"
    );
    let province = book.worksheet_range("PL1 toàn tỉnh").unwrap();
    assert_eq!(
        text(&province, 0, 0),
        "ĐƠN VỊ: SỞ KẾ HOẠCH VÀ ĐẦU TƯ TỈNH LẠNG SƠN"
    );
    assert_eq!(text(&province, 1, 0), "PHỤ LỤC I");
    let header = row_of(&province, 0, "STT");
    let th2016 = col_of(&province, header, "TH 2016");
    let mt2020 = col_of(&province, header, "MT 2020");
    let note = col_of(&province, header, "Ghi chú");
    let missing = col_of(&province, header, "Huyện, thành phố chưa có trong tổng");
    let sources = col_of(&province, header, "Đơn vị có số liệu");
    let label = |l: &str| row_of(&province, 1, l);

    // Districts' sum of an additive row: 41 + 42 + 43 + 44, four of eleven, said in "Ghi chú".
    let grain = label("Sản lượng lương thực có hạt");
    assert_eq!(number(&province, grain, th2016), Some(170.0));
    assert_eq!(
        number(&province, grain, mt2020),
        None,
        "ranges are not summed"
    );
    assert_eq!(
        text(&province, grain, note),
        "Tổng TH 2016: 4/11; TH 2017: 4/11; KH 2018: 4/11; ƯTH 2018: 4/11; MT 2020: 0/11 huyện, thành phố"
    );
    let said = text(&province, grain, missing);
    assert!(
        said.starts_with("Ủy ban nhân dân thành phố Lạng Sơn, "),
        "{said}"
    );
    assert_eq!(said.matches("Ủy ban nhân dân").count(), 7 + 4, "{said}");
    assert!(
        said.contains("; ghi khoảng hoặc chữ, không cộng: Ủy ban nhân dân huyện Chi Lăng"),
        "{said}"
    );
    let from = text(&province, grain, sources);
    assert!(from.starts_with("Ủy ban nhân dân huyện Chi Lăng"), "{from}");
    assert!(
        from.contains("Sở Nông nghiệp và Phát triển nông thôn báo cáo số toàn tỉnh: TH 2016 80"),
        "{from}"
    );
    // Budget revenue: 4 × 300 + 1 + 2 + 3 + 4.
    let revenue = label("Thu ngân sách nhà nước trên địa bàn");
    assert_eq!(number(&province, revenue, th2016), Some(1210.0));
    assert_eq!(text(&province, revenue, note), "Tổng 4/11 huyện, thành phố");
    // A rate, even one the form asks of one department beside the districts: left to staff,
    // who are told who reported it.
    let growth = label("Tốc độ tăng trưởng GRDP");
    assert_eq!(number(&province, growth, th2016), None);
    assert_eq!(text(&province, growth, note), "Để cán bộ điền");
    assert!(
        text(&province, growth, sources).starts_with("Đã báo cáo: Cục Thống kê tỉnh"),
        "{}",
        text(&province, growth, sources)
    );
    // A ratio only Sở Y tế reports.
    assert_eq!(
        number(&province, label("Số bác sĩ/vạn dân"), th2016),
        Some(40.0)
    );
    // Two departments report health insurance coverage: left for staff.
    let insured = label("Tỷ lệ dân số tham gia bảo hiểm y tế");
    assert_eq!(number(&province, insured, th2016), None);
    assert_eq!(text(&province, insured, note), "Để cán bộ điền");
    assert!(text(&province, insured, sources).starts_with("Đã báo cáo: Sở Y tế"));
    // An average only Cục Thống kê is asked for: its figure.
    let head = label("GRDP bình quân đầu người (USD)");
    assert_eq!(number(&province, head, th2016), Some(30.0));
    assert_eq!(text(&province, head, sources), "Cục Thống kê tỉnh");

    // The detail sheet: the total with its coverage beside it.
    let detail = book.worksheet_range("PL1 TH 2016").unwrap();
    let head = row_of(&detail, 0, "STT");
    let total = col_of(&detail, head, "Tổng các huyện, thành phố");
    let grain = row_of(&detail, 1, "Sản lượng lương thực có hạt");
    assert_eq!(number(&detail, grain, total), Some(170.0));
    assert_eq!(text(&detail, grain, total + 1), "4/11 huyện, thành phố");
    let cao_loc = col_of(&detail, head, "Ủy ban nhân dân huyện Cao Lộc");
    assert_eq!(number(&detail, grain, cao_loc), Some(41.0));
    let poor = row_of(&detail, 1, "Tỷ lệ hộ nghèo");
    assert_eq!(number(&detail, poor, total), None);
    assert_eq!(text(&detail, poor, total + 1), "tỷ lệ, không cộng");

    // Rendered by LibreOffice.
    let out = dir.path().join("pdf");
    std::fs::create_dir_all(&out).unwrap();
    let file = out.join("so-lieu-tong-hop.xlsx");
    std::fs::write(&file, &xlsx).unwrap();
    let profile = dir.path().join("lo-profile");
    let started = Instant::now();
    run(
        Command::new(&soffice)
            .arg(format!(
                "-env:UserInstallation=file://{}",
                profile.display()
            ))
            .args([
                "--headless",
                "--norestore",
                "--convert-to",
                "pdf",
                "--outdir",
            ])
            .arg(&out)
            .arg(&file)
            .env("HOME", dir.path()),
        Duration::from_secs(180),
    );
    let took = started.elapsed();
    let pdf = out.join("so-lieu-tong-hop.pdf");
    assert!(pdf.exists(), "soffice wrote no PDF");
    if let Some(keep) = std::env::var_os("INTAKE_KEEP_PDF") {
        std::fs::copy(&pdf, keep).unwrap();
    }
    let info = run(Command::new(&pdfinfo).arg(&pdf), Duration::from_secs(30));
    let pages: usize = field(&info, "Pages:").parse().unwrap();
    let size = field(&info, "Page size:");
    eprintln!("LibreOffice rendered {pages} pages ({size}) in {took:.1?}");
    assert!(
        size.contains("841.89 x 595.") && size.contains("A4"),
        "A4 landscape: {size}"
    );
    assert!(
        (18..=40).contains(&pages),
        "18 sheets, one page wide: {pages} pages"
    );
    let text = run(
        Command::new(&pdftotext)
            .args(["-layout"])
            .arg(&pdf)
            .arg("-"),
        Duration::from_secs(30),
    );
    for wanted in [
        "Phụ lục I — Số liệu tổng hợp toàn tỉnh",
        "PHỤ LỤC I",
        "Sản lượng lương thực có hạt",
        "4/11 huyện, thành phố",
        "Để cán bộ điền",
        "Tổng các huyện, thành phố",
        "1.210,0",
        "Trang 1/",
    ] {
        assert!(text.contains(wanted), "the PDF lacks {wanted:?}");
    }
    for id in [
        "742-2018",
        "pl1",
        "pl2",
        "th2016",
        "uth2018",
        "so-y-te",
        "cuc-thong-ke",
        "ubnd-",
        "luong-thuc",
        "chi-tieu",
        "ngan-sach",
    ] {
        assert!(
            !text.to_lowercase().contains(id),
            "the PDF shows the internal id {id:?}"
        );
    }
}

/// A tool the test needs, or a failure that says how to install it.
fn tool(name: &str) -> PathBuf {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .chain([PathBuf::from("/usr/bin")])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "{name} is missing: install LibreOffice Calc and poppler-utils \
                 (`bash .ci/install-imap.sh`, or `apt-get install libreoffice-calc-nogui poppler-utils`)"
            )
        })
}

/// Runs `cmd`, fails on a non-zero exit or after `limit`, and returns its stdout (kept in a
/// file beside `cmd`'s so that a long output never blocks it).
fn run(cmd: &mut Command, limit: Duration) -> String {
    let out = tempfile::NamedTempFile::new().unwrap();
    let err = tempfile::NamedTempFile::new().unwrap();
    let mut child = cmd
        .stdout(out.reopen().unwrap())
        .stderr(err.reopen().unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} took more than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        status.success(),
        "{cmd:?} failed: {}",
        std::fs::read_to_string(err.path()).unwrap_or_default()
    );
    String::from_utf8_lossy(&std::fs::read(out.path()).unwrap()).into_owned()
}

/// The value of a `pdfinfo` field.
fn field(info: &str, name: &str) -> String {
    info.lines()
        .find_map(|l| l.strip_prefix(name))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| panic!("pdfinfo says no {name}: {info}"))
}
