//! Reading xlsx workbooks: `Inspector::read` against the bare calamine read of every cell
//! (`Xlsx::new`, then one streaming pass over each sheet), in the same process, interleaved,
//! in CPU time of the thread (median of the rounds).
//!
//! The workbooks are the backlog's (`common/backlog.rs`: agencies' own layouts, filled blank
//! forms, unrelated tables), and one in four a form as spreadsheet programs write it: merged
//! title rows and two-row headers, percent and thousands formats, totals as formulas, on two
//! sheets.
//!
//! ```sh
//! cargo build --release --example bench_read
//! target/release/examples/bench_read                 # 200 workbooks, 7 rounds
//! target/release/examples/bench_read 400 9           # workbooks, rounds
//! target/release/examples/bench_read 200 20 intake   # only intake's reads (to profile)
//! target/release/examples/bench_read 200 20 bare     # only the bare reads
//! ```
//!
//! On a shared machine times move from round to round; instruction counts do not. Each
//! side's, exactly, over one round (the `Collected` line):
//!
//! ```sh
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     --toggle-collect='bench_read::run_intake' target/release/examples/bench_read 40 1 intake
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     --toggle-collect='bench_read::run_bare' target/release/examples/bench_read 40 1 bare
//! ```

#[path = "common/backlog.rs"]
#[allow(dead_code)]
mod backlog;

use std::io::Cursor;
use std::path::Path;

use calamine::{Reader, Xlsx};
use intake::workbook::{Inspector, Limits, WorkbookFormat};
use rust_xlsxwriter::{Format, FormatAlign, Formula, Workbook};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args
        .first()
        .map_or(200, |a| a.parse().expect("a number of workbooks"));
    let rounds: usize = args
        .get(1)
        .map_or(7, |a| a.parse().expect("a number of rounds"));
    let only = args.get(2).map(String::as_str);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let setting = backlog::Setting::shipped(root);
    let mut rng = backlog::Rng::new(742);
    let mut books: Vec<Vec<u8>> = Vec::with_capacity(n);
    for i in 0..n {
        if i % 4 == 3 {
            books.push(styled_form(&mut rng));
        } else {
            books.push(backlog::workbook(&setting, "UBND huyện Cao Lộc", &mut rng).2);
        }
    }
    let inspector = Inspector::new(Limits::default(), None);
    match only {
        Some("intake") => {
            for _ in 0..rounds {
                run_intake(&inspector, &books);
            }
            return;
        }
        Some("bare") => {
            for _ in 0..rounds {
                run_bare(&books);
            }
            return;
        }
        _ => {}
    }
    let bytes: usize = books.iter().map(Vec::len).sum();
    let cells_intake: usize = books
        .iter()
        .map(|b| {
            let g = inspector
                .read(b, WorkbookFormat::Xlsx)
                .expect("a readable workbook");
            g.sheets.iter().map(|s| s.cells.len()).sum::<usize>()
        })
        .sum();
    let cells_bare: u64 = books.iter().map(|b| bare(b)).sum();
    println!(
        "{n} workbooks, {:.1} MB, {cells_intake} cells kept by intake, {cells_bare} read bare",
        bytes as f64 / 1e6
    );

    // CPU time of this thread: the machine may be shared, which disturbs it less than wall
    // time, but still from round to round; `valgrind --tool=callgrind` counts instructions
    // exactly (see the header).
    let mut runs: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    for round in 0..rounds {
        let mut line = format!("round {round}:");
        for (side, what) in ["intake", "bare calamine"].iter().enumerate() {
            let t = cpu_ms();
            if side == 0 {
                run_intake(&inspector, &books);
            } else {
                run_bare(&books);
            }
            let t = cpu_ms() - t;
            line.push_str(&format!("   {what} {t:7.1} CPU-ms"));
            runs[side].push(t);
        }
        println!("{line}   ratio {:.3}", runs[0][round] / runs[1][round]);
    }
    let mut ratios: Vec<f64> = runs[0].iter().zip(&runs[1]).map(|(a, b)| a / b).collect();
    let [mut intake, mut bare_runs] = runs;
    let (ti, tb) = (median(&mut intake), median(&mut bare_runs));
    println!(
        "median of {rounds}: intake {ti:.1} CPU-ms ({:.2} ms/workbook), bare calamine {tb:.1} CPU-ms ({:.2} ms/workbook)",
        ti / n as f64,
        tb / n as f64,
    );
    println!(
        "intake / bare calamine: {:.3} (ratio of the medians), {:.3} (median of the rounds' ratios)",
        ti / tb,
        median(&mut ratios)
    );
}

/// One round of intake's reads.
#[inline(never)]
fn run_intake(inspector: &Inspector, books: &[Vec<u8>]) {
    for b in books {
        std::hint::black_box(inspector.read(b, WorkbookFormat::Xlsx).unwrap());
    }
}

/// One round of bare reads.
#[inline(never)]
fn run_bare(books: &[Vec<u8>]) {
    for b in books {
        std::hint::black_box(bare(b));
    }
}

/// CPU time this thread has used, in milliseconds.
fn cpu_ms() -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid timespec for the call to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    t.tv_sec as f64 * 1000.0 + t.tv_nsec as f64 / 1e6
}

/// Every cell of every sheet, read as cheaply as calamine reads: one streaming pass a sheet.
fn bare(bytes: &[u8]) -> u64 {
    let mut wb = Xlsx::new(Cursor::new(bytes)).unwrap();
    let names = wb.sheet_names();
    let mut cells = 0;
    for name in names {
        let Ok(mut reader) = wb.worksheet_cells_reader(&name) else {
            continue;
        };
        while let Some(cell) = reader.next_cell().unwrap() {
            if !matches!(cell.get_value(), calamine::DataRef::Empty) {
                cells += 1;
            }
        }
    }
    cells
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// A form as a spreadsheet program writes it: merged title block and headers, percent and
/// thousands formats, totals as formulas, on a sheet whose name needs escaping and a second
/// sheet of detail.
fn styled_form(rng: &mut backlog::Rng) -> Vec<u8> {
    let mut wb = Workbook::new();
    let center = Format::new().set_align(FormatAlign::Center).set_bold();
    let percent = Format::new().set_num_format("0.0%");
    let thousands = Format::new().set_num_format("#,##0,");
    let number = Format::new().set_num_format("#,##0.0");
    for (s, name) in ["Biểu 01 (R&D <1>)", "Chi tiết"].iter().enumerate() {
        let ws = wb.add_worksheet();
        ws.set_name(*name).unwrap();
        ws.merge_range(0, 0, 0, 9, "UBND TỈNH LẠNG SƠN", &center)
            .unwrap();
        ws.merge_range(1, 0, 1, 9, "BÁO CÁO TIẾN ĐỘ", &center)
            .unwrap();
        for c in 0..10u16 {
            ws.merge_range(3, c, 4, c, &format!("Cột {c}"), &center)
                .unwrap();
        }
        let rows = if s == 0 { 300 } else { 1_100 };
        for r in 5..5 + rows {
            ws.write_number(r, 0, f64::from(r - 4)).unwrap();
            ws.write_string(r, 1, format!("Chỉ tiêu {r}")).unwrap();
            for c in 2..7u16 {
                ws.write_number_with_format(r, c, rng.amount(1.0, 90_000.0), &number)
                    .unwrap();
            }
            ws.write_number_with_format(r, 7, rng.amount(0.0, 1.0), &percent)
                .unwrap();
            ws.write_number_with_format(r, 8, rng.amount(1e5, 9e7), &thousands)
                .unwrap();
            ws.write_formula_with_format(
                r,
                9,
                Formula::new(format!("=SUM(C{0}:G{0})", r + 1)).set_result("0"),
                &number,
            )
            .unwrap();
        }
    }
    wb.save_to_buffer().unwrap()
}
