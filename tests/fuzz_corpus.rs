//! Corpus replay: every seed of the fuzz targets (`fuzz/corpus/<target>/`) and every input
//! the fuzzer once broke intake with (`fuzz/regressions/<target>/`) goes through the entry
//! points the targets call (`intake::fuzzing`): none may panic, take long, or end outside the
//! limits. The seeds are real fixtures, so they must also be read as what they are; workbooks
//! of the formats the daemon reads in a child process are read there too, as the daemon does,
//! and must give what the in-process reading gives. `fuzz/regressions/workbook-child/` holds
//! inputs that only the child process may read (they exhaust calamine's memory in-process).

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use intake::fuzzing;
use intake::workbook::{Inspector, WorkbookFormat};

/// Longest one input may take, in a debug build.
const PER_INPUT: Duration = Duration::from_secs(10);

/// The files of `fuzz/<kind>/<target>/`, dotfiles aside, sorted.
fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(kind)
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    files.sort();
    files
}

/// Every seed and regression of `target` through `check`, each within [`PER_INPUT`];
/// returns how many seeds there were.
fn replay(target: &str, mut check: impl FnMut(&Path, &[u8], bool)) -> usize {
    let seeds = inputs("corpus", target);
    assert!(!seeds.is_empty(), "the {target} corpus is empty");
    let regressions = inputs("regressions", target);
    for (path, seed) in seeds
        .iter()
        .map(|p| (p, true))
        .chain(regressions.iter().map(|p| (p, false)))
    {
        let data = std::fs::read(path).unwrap();
        let start = Instant::now();
        check(path, &data, seed);
        let took = start.elapsed();
        assert!(
            took < PER_INPUT,
            "{} took {took:?} (bound {PER_INPUT:?})",
            path.display()
        );
    }
    eprintln!(
        "{target}: {} seeds, {} regressions",
        seeds.len(),
        regressions.len()
    );
    seeds.len()
}

#[test]
fn mail_corpus() {
    let mut files = 0;
    let n = replay("mail", |path, data, seed| {
        let s = fuzzing::mail(data);
        if seed {
            assert!(s.message, "{} is read as a message", path.display());
        }
        files += s.files;
    });
    assert!(
        files >= n,
        "the fixtures carry at least a file each on average ({files} files in {n} messages)"
    );
}

/// The address space the replay may use, as the fuzzer's `-m 1024` gives a target: an
/// allocation sized by what a file declares fails here as it would there, instead of being
/// granted lazily by the kernel.
const ADDRESS_SPACE: u64 = 2 << 30;

#[test]
fn workbook_corpus() {
    let limit = libc::rlimit {
        rlim_cur: ADDRESS_SPACE,
        rlim_max: ADDRESS_SPACE,
    };
    // SAFETY: setrlimit only reads the struct given.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_AS, &limit) }, 0);
    // The daemon's reading: xls and ods in the child process, under the same limits.
    let child = Inspector::new(fuzzing::workbook_limits(), Some(common::bin()));
    replay("workbook", |path, data, seed| {
        let here = fuzzing::workbook(data);
        let there = fuzzing::workbook_with(&child, data);
        assert_eq!(
            here.cells,
            there.cells,
            "{}: read in-process and in the child process alike",
            path.display()
        );
        if seed {
            assert_eq!(here.formats.len(), 1, "{} is sniffed", path.display());
            assert!(
                matches!(here.cells[..], [Some(n)] if n > 0),
                "{} is read: {here:?}",
                path.display()
            );
            assert_eq!(here.reader_panics, 0, "{}", path.display());
        }
    });
    // Findings in calamine's whole-sheet xls reader (allocations sized by what the file
    // declares): in-process they abort, which is why the daemon reads xls and ods in a child
    // process under an address-space limit. Replayed there, each must end in an outcome.
    for path in inputs("regressions", "workbook-child") {
        let data = std::fs::read(&path).unwrap();
        let start = Instant::now();
        let there = fuzzing::workbook_with(&child, &data);
        assert!(start.elapsed() < PER_INPUT, "{}: {there:?}", path.display());
    }
    // Every format the daemon reads has seeds.
    let formats: std::collections::BTreeSet<&str> = inputs("corpus", "workbook")
        .iter()
        .map(|p| {
            let data = std::fs::read(p).unwrap();
            match intake::workbook::sniff(&data, "").unwrap() {
                WorkbookFormat::Xlsx | WorkbookFormat::Xlsm => "xlsx",
                WorkbookFormat::Xls => "xls",
                WorkbookFormat::Ods => "ods",
            }
        })
        .collect();
    assert_eq!(formats.len(), 3, "seeds of xlsx, xls and ods: {formats:?}");
}

#[test]
fn auth_results_corpus() {
    let mut trusted = 0;
    replay("auth_results", |path, data, seed| {
        let s = fuzzing::auth_results(data);
        let name = path.file_name().unwrap().to_string_lossy();
        if seed && name.ends_with("-value") {
            assert!(
                s.parsed && (s.results > 0 || name.starts_with("none")),
                "{name}: {s:?}"
            );
        }
        trusted += usize::from(s.trusted);
    });
    assert!(trusted > 0, "a seed header block has a trusted header");
}
