//! # `intake store migrate`
//!
//! Moves a store up to where the configuration says: its index into PostgreSQL, its objects
//! into a bucket. The work is `intake::store::migrate`'s; this module words it for the
//! technician.

use std::process::ExitCode;

use anyhow::Result;

use intake::config::Config;
use intake::core::words::{integer, size};
use intake::store::migrate;

/// `intake store migrate [--json]`.
pub fn migrate(config: &Config, json: bool) -> Result<ExitCode> {
    let done = migrate::run(&config.store_dir, &config.store)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&done)?);
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(index) = &done.index {
        println!(
            "Đã chuyển chỉ mục kho lưu từ {} sang cơ sở dữ liệu {}: {} dòng của {} bảng, đã đếm lại ở cả hai nơi.",
            index.from,
            index.to,
            integer(index.rows.values().sum::<u64>() as i64),
            integer(index.rows.len() as i64),
        );
        println!(
            "Tệp {} vẫn còn nhưng không còn được dùng làm chỉ mục: xoá khi đã chắc chắn về cơ sở dữ liệu.",
            index.from
        );
    }
    if let Some(moved) = &done.objects {
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
    }
    Ok(ExitCode::SUCCESS)
}
