//! A district's filled form, shared by the benchmark examples.

use intake::core::forms::blank::Layout;
use intake::core::forms::spec::FormSpec;
use rust_xlsxwriter::Workbook;

/// Adds the form's sheets to `wb`, every value cell holding a number consistent enough to
/// be read (its sums do not add up, so a check has findings).
pub fn add_form_sheets(wb: &mut Workbook, spec: &FormSpec) {
    for sheet in &spec.sheets {
        let l = Layout::of(spec, sheet);
        let ws = wb.add_worksheet();
        ws.set_name(&sheet.name).unwrap();
        ws.write_string(l.header_row, l.code_col, &sheet.code_header)
            .unwrap();
        ws.write_string(l.header_row, l.label_col, &sheet.label_header)
            .unwrap();
        ws.write_string(l.header_row, l.unit_col, &sheet.unit_header)
            .unwrap();
        for (j, c) in sheet.columns.iter().enumerate() {
            ws.write_string(l.header_row, l.first_value_col + j as u16, &c.label)
                .unwrap();
        }
        for (i, row) in sheet.rows.iter().enumerate() {
            let r = l.first_row + i as u32;
            ws.write_string(r, l.code_col, &row.code).unwrap();
            ws.write_string(r, l.label_col, &row.label).unwrap();
            if row.kind.is_some() {
                for j in 0..sheet.columns.len() {
                    ws.write_number(r, l.first_value_col + j as u16, 10.0 + i as f64)
                        .unwrap();
                }
            }
        }
    }
}

/// Adds the hidden sheet carrying the blank form's marker.
pub fn add_marker(wb: &mut Workbook, spec: &FormSpec) {
    let m = wb.add_worksheet();
    m.set_name("_intake").unwrap();
    m.write_string(0, 0, intake::core::forms::blank::marker_text(spec))
        .unwrap();
    m.set_hidden(true);
}
