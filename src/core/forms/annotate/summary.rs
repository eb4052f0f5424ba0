//! # The summary sheet of a marked package
//!
//! "Kết quả kiểm tra" as a worksheet part of its own: the title, the tally, and one row per
//! finding under a frozen, filtered header, each cell reference a link to the marked cell.
//! Text is written inline (`t="inlineStr"`), so the workbook's shared strings stay as they are.

use super::styles::{Look, Styles};
use super::xml::{DECL, NS_MAIN, NS_REL, esc};
use super::{SUMMARY_HEADER_ROW, SUMMARY_HEADERS, a1};

/// Column widths of the summary table, in characters.
const WIDTHS: [u32; 8] = [10, 14, 8, 40, 14, 14, 18, 70];

/// One listed finding: its eight texts, whether it is an error, and the cell to link to
/// (`'Sheet'!E9`) when it was marked.
pub(super) struct Line {
    pub(super) texts: [String; 8],
    pub(super) error: bool,
    pub(super) link: Option<String>,
}

/// The worksheet part.
pub(super) fn sheet(title: &str, tally: &str, lines: &[Line], styles: &Styles) -> String {
    let header = SUMMARY_HEADER_ROW;
    let last = header + lines.len() as u32;
    let mut out = format!(
        r#"{DECL}<worksheet xmlns="{NS_MAIN}" xmlns:r="{NS_REL}"><sheetPr><pageSetUpPr fitToPage="1"/></sheetPr><dimension ref="A1:H{}"/><sheetViews><sheetView workbookViewId="0"><pane ySplit="{}" topLeftCell="A{}" activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft" activeCell="A{}" sqref="A{}"/></sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/><cols>"#,
        last + 1,
        header + 1,
        header + 2,
        header + 2,
        header + 2,
    );
    for (k, w) in WIDTHS.iter().enumerate() {
        out.push_str(&format!(
            r#"<col min="{n}" max="{n}" width="{w}" customWidth="1"/>"#,
            n = k + 1
        ));
    }
    out.push_str("</cols><sheetData>");
    let cell = |out: &mut String, row: u32, col: u32, text: &str, look: Look| {
        out.push_str(&format!(
            r#"<c r="{}" s="{}" t="inlineStr"><is><t xml:space="preserve">{}</t></is></c>"#,
            a1(row, col),
            styles.look(look),
            esc(text)
        ));
    };
    out.push_str(r#"<row r="1">"#);
    cell(&mut out, 0, 0, title, Look::Title);
    out.push_str(r#"</row><row r="2">"#);
    out.push_str(&format!(
        r#"<c r="A2" t="inlineStr"><is><t xml:space="preserve">{}</t></is></c>"#,
        esc(tally)
    ));
    out.push_str(&format!(r#"</row><row r="{}">"#, header + 1));
    for (k, text) in SUMMARY_HEADERS.iter().enumerate() {
        cell(&mut out, header, k as u32, text, Look::Header);
    }
    out.push_str("</row>");
    let mut links = String::new();
    for (i, line) in lines.iter().enumerate() {
        let row = header + 1 + i as u32;
        out.push_str(&format!(r#"<row r="{}">"#, row + 1));
        for (k, text) in line.texts.iter().enumerate() {
            let look = match (k, line.error, &line.link) {
                (0, true, _) => Look::ErrorLevel,
                (0, false, _) => Look::WarningLevel,
                (2, _, Some(_)) => Look::Link,
                _ => Look::Text,
            };
            cell(&mut out, row, k as u32, text, look);
        }
        out.push_str("</row>");
        if let Some(target) = &line.link {
            links.push_str(&format!(
                r#"<hyperlink ref="{}" location="{}" display="{}"/>"#,
                a1(row, 2),
                esc(target),
                esc(&line.texts[2])
            ));
        }
    }
    out.push_str("</sheetData>");
    if !lines.is_empty() {
        out.push_str(&format!(
            r#"<autoFilter ref="A{}:H{}"/>"#,
            header + 1,
            last + 1
        ));
    }
    if !links.is_empty() {
        out.push_str(&format!("<hyperlinks>{links}</hyperlinks>"));
    }
    out.push_str(
        r#"<pageMargins left="0.5" right="0.5" top="0.6" bottom="0.6" header="0.3" footer="0.3"/><pageSetup paperSize="9" orientation="landscape" fitToHeight="0"/></worksheet>"#,
    );
    out
}

/// The defined names the summary needs (filter range, print titles), for sheet index 0.
pub(super) fn defined_names(sheet_name: &str, listed: usize) -> String {
    let quoted = format!("'{}'", sheet_name.replace('\'', "''"));
    let header = SUMMARY_HEADER_ROW + 1;
    let mut out = String::new();
    if listed > 0 {
        out.push_str(&format!(
            r#"<definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">{}!$A${header}:$H${}</definedName>"#,
            esc(&quoted),
            header as usize + listed
        ));
    }
    out.push_str(&format!(
        r#"<definedName name="_xlnm.Print_Titles" localSheetId="0">{}!${header}:${header}</definedName>"#,
        esc(&quoted)
    ));
    out
}
