//! # `intake init`: a configuration to start from
//!
//! Whoever installs intake needs a configuration before the daemon can run, and the example
//! compiled into the binary keeps its data beside a checkout. `intake init DIR` writes that
//! example into DIR as files to edit: an `intake.toml` with a comment above every key (what it
//! does, its usual values) whose data lives under `--data-dir` (`/var/lib/intake`, the
//! service's state directory, unless told otherwise), and the campaign, roster, forms and mail
//! templates of the example with their format notes. The Debian package ships what this
//! writes as `/etc/intake/`. An existing file is never overwritten.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};

/// The annotated main file; `@DATA_DIR@` becomes the data directory, quoted for TOML.
const MAIN: &str = include_str!("init/intake.toml");

/// Where the service keeps its data when no `--data-dir` is given.
pub const DEFAULT_DATA_DIR: &str = "/var/lib/intake";

/// The files `intake init` writes, relative to its folder, with their contents.
pub fn files(data_dir: &Path) -> Vec<(String, String)> {
    let quoted = toml::Value::String(data_dir.to_string_lossy().into_owned()).to_string();
    let mut out = vec![(
        "intake.toml".to_string(),
        MAIN.replace("\"@DATA_DIR@\"", &quoted),
    )];
    for (name, text) in intake::config::embedded_files() {
        if name != "intake.toml" {
            out.push((name.to_string(), text.to_string()));
        }
    }
    out.push((
        "forms/README.md".into(),
        include_str!("../../config/forms/README.md").into(),
    ));
    out.push((
        "templates/README.md".into(),
        include_str!("../../config/templates/README.md").into(),
    ));
    out
}

/// `intake init DIR [--data-dir PATH]`: writes the files, or none when any already exists
/// (exit 2, naming it).
pub fn init(dir: &Path, data_dir: &Path) -> Result<ExitCode> {
    // A relative data directory is meant from where the command is typed, not from DIR.
    let data_dir = std::path::absolute(data_dir)?;
    let files = files(&data_dir);
    let existing: Vec<PathBuf> = files
        .iter()
        .map(|(name, _)| dir.join(name))
        .filter(|p| p.symlink_metadata().is_ok())
        .collect();
    if !existing.is_empty() {
        for p in &existing {
            eprintln!("intake: {} đã có; không ghi đè.", p.display());
        }
        eprintln!(
            "intake: không ghi tệp nào. Chọn một thư mục khác, hoặc xoá các tệp trên nếu muốn viết lại cấu hình mẫu."
        );
        return Ok(ExitCode::from(2));
    }
    for (name, text) in &files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        // create_new: a file that appeared since the check above is still not overwritten.
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        f.write_all(text.as_bytes())
            .and_then(|()| f.sync_all())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let main = dir.join("intake.toml");
    println!(
        "Đã ghi {} tệp cấu hình vào {}; dữ liệu (kho lưu, hộp thư Maildir, thư mục nộp tệp, hộp thư đi) sẽ ở {}.",
        files.len(),
        dir.display(),
        data_dir.display()
    );
    println!("Bước tiếp theo:");
    println!(
        "  1. Sửa {} (mỗi khoá có chú thích), danh sách đơn vị trong rosters/, đợt báo cáo trong campaigns/.",
        main.display()
    );
    println!(
        "  2. Kiểm tra: intake --config {} check-config",
        main.display()
    );
    println!(
        "  3. Thử hộp thư và máy chủ thư: intake --config {} doctor",
        main.display()
    );
    Ok(ExitCode::SUCCESS)
}
