//! # `intake inspect-workbook` (hidden): the child that reads an untrusted workbook
//!
//! The library reads xls and ods workbooks, whose readers a hostile file could exhaust, in a
//! child process of this binary (`intake::workbook::child_main`); this is that child's entry,
//! taken before logging starts or any configuration is read.

use std::process::ExitCode;

use intake::workbook::{self, WorkbookFormat};

/// Reads a workbook of `format` from stdin and prints what it holds; exit 2 for an unknown format.
pub fn child(format: &str) -> ExitCode {
    let Some(format) = parse_format(format) else {
        return ExitCode::from(2);
    };
    ExitCode::from(workbook::child_main(format, workbook::Limits::default()) as u8)
}

fn parse_format(s: &str) -> Option<WorkbookFormat> {
    Some(match s {
        "xlsx" => WorkbookFormat::Xlsx,
        "xlsm" => WorkbookFormat::Xlsm,
        "xls" => WorkbookFormat::Xls,
        "ods" => WorkbookFormat::Ods,
        _ => return None,
    })
}
