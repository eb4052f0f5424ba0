//! # `intake store migrate`
//!
//! Moves a store's objects from local disk to the bucket the configuration names; the work
//! is `intake::store::migrate`'s, this module words it for the technician.

use std::process::ExitCode;

use anyhow::Result;

use intake::config::Config;
use intake::store::migrate;
use intake::words::{integer, size};

/// `intake store migrate [--json]`.
pub fn migrate(config: &Config, json: bool) -> Result<ExitCode> {
    let moved = migrate::objects(&config.store_dir, &config.store.objects)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&moved)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "Đã chuyển {} tệp lưu trữ ({}) của kho lưu {} từ {} sang {}: chép mới {}, {} tệp đã có sẵn ở nơi mới; mọi tệp đã được đọc lại và kiểm tra mã SHA-256.",
        integer(moved.objects as i64),
        size(moved.bytes),
        config.store_dir.display(),
        moved.from,
        moved.to,
        integer(moved.copied as i64),
        integer((moved.objects - moved.copied) as i64),
    );
    println!(
        "Các bản trên đĩa vẫn còn trong {}: xoá khi đã chắc chắn về kho đối tượng (chạy `intake verify` trước).",
        config.store_dir.join("objects").display()
    );
    Ok(ExitCode::SUCCESS)
}
