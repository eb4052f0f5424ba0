//! # `intake backup`, `intake verify`, `intake restore`
//!
//! The technician's side of the store's safety: a consistent copy taken while the daemon runs,
//! a check that everything received is still there byte for byte (and the repair of what can
//! be rebuilt), and the way back from a backup. The work is done by `intake::store::backup`
//! and `intake::store::verify`; this module words it for staff.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

use intake::config::Config;
use intake::core::words::{integer, size, when_text};
use intake::store::backup;
use intake::store::verify::{self, Report};

/// `intake backup DIR`.
pub fn backup(config: &Config, dest: &Path) -> Result<ExitCode> {
    let m = backup::backup(&config.store_dir, &config.store, dest)?;
    println!(
        "Đã sao lưu kho lưu {} vào {} (thời điểm chụp chỉ mục: {}).",
        config.store_dir.display(),
        dest.display(),
        when_text(&m.taken_at, config.timezone)
    );
    println!(
        "  Chỉ mục: {} thư, {} tệp, {} lần nộp, {} dòng nhật ký, {} thư đi (phiên bản lược đồ {}).",
        integer(m.messages as i64),
        integer(m.files as i64),
        integer(m.versions as i64),
        integer(m.events as i64),
        integer(m.outbox as i64),
        m.schema_version
    );
    println!(
        "  Tệp lưu trữ: {} tệp, {}, đã kiểm tra mã SHA-256 từng tệp ({} liên kết cứng, {} bản chép).",
        integer(m.objects as i64),
        size(m.object_bytes),
        integer(m.linked as i64),
        integer((m.objects - m.linked) as i64)
    );
    if m.linked > 0 {
        println!(
            "  Lưu ý: liên kết cứng nằm trên cùng ổ đĩa với kho lưu; hãy chép bản sao lưu sang ổ hoặc máy khác."
        );
    }
    println!("Khôi phục: intake restore {}", dest.display());
    Ok(ExitCode::SUCCESS)
}

/// `intake verify [--repair] [--json]`: exit 0 when nothing wrong is left, 1 otherwise.
pub fn verify(config: &Config, repair: bool, json: bool) -> Result<ExitCode> {
    let options = verify::Options {
        repair,
        outbox_dir: config
            .outbox
            .smtp
            .is_none()
            .then(|| config.outbox_dir.clone()),
        store: config.store.clone(),
    };
    let report = verify::verify(&config.store_dir, &options)?;
    if json {
        let mut value = serde_json::to_value(&report)?;
        value["sound"] = report.sound().into();
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print!("{}", words(&report));
    }
    Ok(if report.sound() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `intake restore BACKUP [--force]`.
pub fn restore(config: &Config, from: &Path, force: bool) -> Result<ExitCode> {
    let r = backup::restore(from, &config.store_dir, force)?;
    let m = &r.manifest;
    if let Some(aside) = &r.set_aside {
        println!("Kho lưu cũ đã được chuyển sang {}.", aside.display());
    }
    println!(
        "Đã khôi phục bản sao lưu {} (chụp lúc {}) vào {}: {} thư, {} lần nộp, {} tệp lưu trữ; đã dựng lại {} tệp trong cây thư mục.",
        from.display(),
        when_text(&m.taken_at, config.timezone),
        config.store_dir.display(),
        integer(m.messages as i64),
        integer(m.versions as i64),
        integer(r.objects as i64),
        integer(r.links as i64)
    );
    let report = verify::verify(&config.store_dir, &verify::Options::default())?;
    if report.sound() {
        println!("Kiểm tra kho lưu sau khi khôi phục: nguyên vẹn.");
        Ok(ExitCode::SUCCESS)
    } else {
        print!("{}", words(&report));
        Ok(ExitCode::from(1))
    }
}

/// The report for staff, one line per check.
fn words(r: &Report) -> String {
    let mut out = format!(
        "Kiểm tra kho lưu {} (phiên bản lược đồ {})\n",
        r.store.display(),
        r.schema_version
    );
    let mut line = |ok: bool, text: String| {
        out.push_str(if ok { "✔ " } else { "✘ " });
        out.push_str(&text);
        out.push('\n');
    };
    let some = |list: &[String]| {
        let mut shown: Vec<&str> = list.iter().take(5).map(String::as_str).collect();
        if list.len() > 5 {
            shown.push("…");
        }
        shown.join(", ")
    };
    if r.integrity.is_empty() {
        line(true, "Chỉ mục SQLite nguyên vẹn.".into());
    } else {
        line(
            false,
            format!("Chỉ mục SQLite bị hỏng: {}", some(&r.integrity)),
        );
    }
    if r.foreign_keys.is_empty() {
        line(
            true,
            "Mọi dòng của chỉ mục đều trỏ tới dòng có thật.".into(),
        );
    } else {
        line(
            false,
            format!(
                "{} dòng trỏ tới dòng không còn: {}",
                integer(r.foreign_keys.len() as i64),
                some(&r.foreign_keys)
            ),
        );
    }
    line(
        r.corrupt.is_empty(),
        format!(
            "{} tệp lưu trữ ({}) đã kiểm tra mã SHA-256{}",
            integer(r.objects as i64),
            size(r.object_bytes),
            if r.corrupt.is_empty() {
                ": đúng cả.".to_string()
            } else {
                format!(
                    "; {} tệp bị thay đổi nội dung: {}",
                    integer(r.corrupt.len() as i64),
                    some(&r.corrupt)
                )
            }
        ),
    );
    if r.missing.is_empty() {
        line(
            true,
            format!(
                "Đủ {} tệp mà chỉ mục nhắc tới.",
                integer(r.referenced as i64)
            ),
        );
    } else {
        line(
            false,
            format!(
                "Thiếu {} trong {} tệp mà chỉ mục nhắc tới: {}",
                integer(r.missing.len() as i64),
                integer(r.referenced as i64),
                some(&r.missing)
            ),
        );
    }
    let tree_bad = r.tree_missing.len() + r.tree_altered.len();
    if tree_bad == 0 {
        line(
            true,
            format!(
                "Cây thư mục: {} tệp đúng chỗ, đúng nội dung.",
                integer(r.tree as i64)
            ),
        );
    } else {
        let mut text = format!("Cây thư mục: {} tệp", integer(r.tree as i64));
        if !r.tree_missing.is_empty() {
            text.push_str(&format!(
                ", thiếu {} ({})",
                integer(r.tree_missing.len() as i64),
                some(&r.tree_missing)
            ));
        }
        if !r.tree_altered.is_empty() {
            text.push_str(&format!(
                ", {} tệp khác với bản đã nhận ({})",
                integer(r.tree_altered.len() as i64),
                some(&r.tree_altered)
            ));
        }
        if r.repair {
            text.push_str(&format!(
                "; đã dựng lại {}",
                integer(r.tree_repaired as i64)
            ));
            if !r.tree_moved_aside.is_empty() {
                text.push_str(&format!(
                    " (tệp bị sửa được giữ lại bên cạnh: {})",
                    some(&r.tree_moved_aside)
                ));
            }
        }
        line(r.repair && r.tree_repaired == tree_bad, text);
    }
    if r.outbox_sent > 0 || !r.outbox_missing.is_empty() {
        if r.outbox_missing.is_empty() {
            line(
                true,
                format!(
                    "Hộp thư đi: đủ {} tệp .eml của thư đã gửi.",
                    integer(r.outbox_sent as i64)
                ),
            );
        } else {
            line(
                false,
                format!(
                    "Hộp thư đi: thiếu {} trong {} tệp .eml của thư đã gửi: {}",
                    integer(r.outbox_missing.len() as i64),
                    integer(r.outbox_sent as i64),
                    some(&r.outbox_missing)
                ),
            );
        }
    }
    if r.leftovers.is_empty() {
        line(true, "Không còn tệp tạm sót lại.".into());
    } else if r.repair {
        line(
            r.leftovers_removed == r.leftovers.len(),
            format!(
                "Tệp tạm sót lại sau lần chạy bị ngắt: {}, đã xoá {}.",
                integer(r.leftovers.len() as i64),
                integer(r.leftovers_removed as i64)
            ),
        );
    } else {
        line(
            false,
            format!(
                "Tệp tạm sót lại sau lần chạy bị ngắt: {} ({})",
                integer(r.leftovers.len() as i64),
                some(&r.leftovers)
            ),
        );
    }
    if r.sound() {
        out.push_str("Kho lưu nguyên vẹn.\n");
    } else if r.unrepairable() > 0 {
        out.push_str(
            "Có hư hỏng không tự sửa được: khôi phục từ bản sao lưu gần nhất (intake restore THƯ_MỤC --force).\n",
        );
    } else {
        out.push_str("Có chỗ cần sửa: chạy intake verify --repair để dựng lại.\n");
    }
    out
}
