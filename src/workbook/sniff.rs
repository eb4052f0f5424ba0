//! # Format sniffing
//!
//! Tells a workbook's format from its bytes, so that a file named `.xls` that is really an
//! xlsx, or a `.docx` sent by mistake, gets the right answer. The contents decide; the
//! name's extension only breaks ties the contents leave open (an encrypted OOXML file hides
//! whether it is an xlsx or an xlsm, and a package without content types says neither).

use std::io::{Cursor, Read};

use super::WorkbookFormat;
use super::ole::{self, Cfb};
use super::package;

/// Sniff the format from magic bytes, and the name's extension where the bytes cannot tell
/// (xlsx from xlsm, an encrypted OOXML package in an OLE container): `None` for non-workbooks.
///
/// A zip is a workbook when its `[Content_Types].xml` names a SpreadsheetML workbook part
/// (xlsx, xltx; macro-enabled: xlsm, xltm — the binary xlsb is not taken) or its `mimetype`
/// is an OpenDocument spreadsheet; an OLE file when it holds a `Workbook`/`Book` stream (xls)
/// or an `EncryptedPackage` (an encrypted xlsx/xlsm, so that inspecting it says `Encrypted`).
pub fn sniff(bytes: &[u8], name: &str) -> Option<WorkbookFormat> {
    let by_name = extension_format(name);
    if bytes.starts_with(&ole::MAGIC) {
        let cfb = Cfb::parse(bytes)?;
        if cfb.has_stream("EncryptedPackage") {
            return Some(match by_name {
                Some(WorkbookFormat::Xlsm) => WorkbookFormat::Xlsm,
                _ => WorkbookFormat::Xlsx,
            });
        }
        if cfb.has_stream("Workbook") || cfb.has_stream("Book") {
            return Some(WorkbookFormat::Xls);
        }
        return None;
    }
    if bytes.starts_with(package::ZIP_MAGIC) {
        return sniff_zip(bytes, by_name);
    }
    None
}

/// True when the bytes are an OLE compound file holding an encrypted OOXML package (an
/// `EncryptedPackage` stream, beside its `EncryptionInfo`): what Office writes for an xlsx
/// saved with a password to open.
pub fn is_encrypted_ooxml(bytes: &[u8]) -> bool {
    bytes.starts_with(&ole::MAGIC)
        && Cfb::parse(bytes).is_some_and(|cfb| cfb.has_stream("EncryptedPackage"))
}

fn extension_format(name: &str) -> Option<WorkbookFormat> {
    let ext = name.trim().rsplit_once('.')?.1.to_ascii_lowercase();
    match ext.as_str() {
        "xlsx" | "xltx" => Some(WorkbookFormat::Xlsx),
        "xlsm" | "xltm" => Some(WorkbookFormat::Xlsm),
        "xls" | "xlt" => Some(WorkbookFormat::Xls),
        "ods" | "ots" => Some(WorkbookFormat::Ods),
        _ => None,
    }
}

/// Content types of SpreadsheetML main parts, and what each makes the package.
const OOXML_MAIN_TYPES: [(&str, WorkbookFormat); 4] = [
    (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        WorkbookFormat::Xlsx,
    ),
    (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
        WorkbookFormat::Xlsx,
    ),
    (
        "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
        WorkbookFormat::Xlsm,
    ),
    (
        "application/vnd.ms-excel.template.macroEnabled.main+xml",
        WorkbookFormat::Xlsm,
    ),
];

const ODS_MIMETYPES: [&str; 2] = [
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.spreadsheet-template",
];

/// Parts read to sniff are small; a bigger one is not a sound package.
const SNIFF_PART_LIMIT: u64 = 1024 * 1024;

fn sniff_zip(bytes: &[u8], by_name: Option<WorkbookFormat>) -> Option<WorkbookFormat> {
    if package::zip_entries_upper_bound(bytes) > package::MAX_PARTS {
        // Too many parts to open cheaply: believe the name, and let the inspection say
        // that the file is too large.
        return by_name.filter(|f| *f != WorkbookFormat::Xls);
    }
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    if let Some(mimetype) = read_small(&mut zip, "mimetype") {
        let mimetype = String::from_utf8_lossy(&mimetype);
        if ODS_MIMETYPES.contains(&mimetype.trim()) {
            return Some(WorkbookFormat::Ods);
        }
    }
    let types = read_small(&mut zip, "[Content_Types].xml")?;
    let types = String::from_utf8_lossy(&types);
    let found = OOXML_MAIN_TYPES
        .iter()
        .filter(|(ct, _)| contains_ignore_ascii_case(&types, ct))
        .map(|(_, f)| *f)
        .collect::<Vec<_>>();
    match found.as_slice() {
        [] => None,
        [one] => Some(*one),
        // Both kinds claimed: the name decides, macros assumed when it does not.
        _ => match by_name {
            Some(WorkbookFormat::Xlsx) => Some(WorkbookFormat::Xlsx),
            _ => Some(WorkbookFormat::Xlsm),
        },
    }
}

fn read_small(zip: &mut zip::ZipArchive<Cursor<&[u8]>>, name: &str) -> Option<Vec<u8>> {
    let file = zip.by_name(name).ok()?;
    let mut out = Vec::new();
    file.take(SNIFF_PART_LIMIT).read_to_end(&mut out).ok()?;
    Some(out)
}

fn contains_ignore_ascii_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::Write;

    use super::*;
    use crate::workbook::ole::testfile;

    /// A zip holding these (name, content) parts, deflated.
    pub(crate) fn zip_of(parts: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data) in parts {
            let method = if *name == "mimetype" {
                zip::CompressionMethod::Stored
            } else {
                zip::CompressionMethod::Deflated
            };
            let options = zip::write::SimpleFileOptions::default().compression_method(method);
            out.start_file(*name, options).unwrap();
            out.write_all(data).unwrap();
        }
        out.finish().unwrap().into_inner()
    }

    fn xlsx_bytes() -> Vec<u8> {
        let mut wb = rust_xlsxwriter::Workbook::new();
        wb.add_worksheet().write_string(0, 0, "x").unwrap();
        wb.save_to_buffer().unwrap()
    }

    #[test]
    fn sniffs_xlsx_by_content_whatever_the_name() {
        let bytes = xlsx_bytes();
        assert_eq!(sniff(&bytes, "a.xlsx"), Some(WorkbookFormat::Xlsx));
        assert_eq!(sniff(&bytes, "a.xls"), Some(WorkbookFormat::Xlsx));
        assert_eq!(sniff(&bytes, "noext"), Some(WorkbookFormat::Xlsx));
    }

    #[test]
    fn sniffs_xlsm_by_content_type() {
        let mut wb = rust_xlsxwriter::Workbook::new();
        wb.add_worksheet().write_string(0, 0, "x").unwrap();
        // A tiny stand-in for a VBA project: rust_xlsxwriter only copies it in.
        let dir = tempfile::tempdir().unwrap();
        let vba = dir.path().join("vbaProject.bin");
        std::fs::write(&vba, testfile::build(&[("dir", b"x")])).unwrap();
        wb.add_vba_project(&vba).unwrap();
        let bytes = wb.save_to_buffer().unwrap();
        assert_eq!(sniff(&bytes, "a.xlsx"), Some(WorkbookFormat::Xlsm));
        assert_eq!(sniff(&bytes, "a.xlsm"), Some(WorkbookFormat::Xlsm));
    }

    #[test]
    fn sniffs_ods_by_mimetype() {
        let bytes = zip_of(&[
            (
                "mimetype",
                b"application/vnd.oasis.opendocument.spreadsheet",
            ),
            ("content.xml", b"<office:document-content/>"),
        ]);
        assert_eq!(sniff(&bytes, "b.ods"), Some(WorkbookFormat::Ods));
        assert_eq!(sniff(&bytes, "b.xlsx"), Some(WorkbookFormat::Ods));
        let text = zip_of(&[
            ("mimetype", b"application/vnd.oasis.opendocument.text"),
            ("content.xml", b"<office:document-content/>"),
        ]);
        assert_eq!(sniff(&text, "b.ods"), None);
    }

    #[test]
    fn a_docx_is_not_a_workbook() {
        let types = br#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#;
        let bytes = zip_of(&[
            ("[Content_Types].xml", types),
            ("word/document.xml", b"<w:document/>"),
        ]);
        assert_eq!(sniff(&bytes, "report.docx"), None);
        assert_eq!(sniff(&bytes, "report.xlsx"), None);
    }

    #[test]
    fn sniffs_xls_and_encrypted_ooxml_in_ole() {
        let xls = testfile::build(&[("Workbook", &[0u8; 5000])]);
        assert_eq!(sniff(&xls, "c.xls"), Some(WorkbookFormat::Xls));
        assert_eq!(sniff(&xls, "c.xlsx"), Some(WorkbookFormat::Xls));
        assert!(!is_encrypted_ooxml(&xls));

        let enc = testfile::build(&[
            ("EncryptionInfo", b"\x04\x00\x04\x00"),
            ("EncryptedPackage", &[7u8; 5000]),
        ]);
        assert!(is_encrypted_ooxml(&enc));
        assert_eq!(sniff(&enc, "d.xlsx"), Some(WorkbookFormat::Xlsx));
        assert_eq!(sniff(&enc, "d.XLSM"), Some(WorkbookFormat::Xlsm));
        assert_eq!(sniff(&enc, "d.xls"), Some(WorkbookFormat::Xlsx));

        let doc = testfile::build(&[("WordDocument", &[0u8; 5000])]);
        assert_eq!(sniff(&doc, "e.xls"), None);
    }

    #[test]
    fn garbage_is_not_a_workbook() {
        assert_eq!(sniff(b"", "x.xlsx"), None);
        assert_eq!(sniff(b"hello, world", "x.xlsx"), None);
        assert_eq!(sniff(b"PK\x03\x04 not really a zip", "x.xlsx"), None);
        let mut ole_garbage = ole::MAGIC.to_vec();
        ole_garbage.extend([0x5Au8; 3000]);
        assert_eq!(sniff(&ole_garbage, "x.xls"), None);
        assert!(!is_encrypted_ooxml(&ole_garbage));
        assert_eq!(sniff(b"%PDF-1.7", "x.pdf"), None);
    }
}
