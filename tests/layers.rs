//! The library's top-level modules form layers, and no module reaches back up.
//!
//! At the bottom is a pure core (text, the vocabulary, the forms, the template engine,
//! extraction, identification, classification, the wording of mail, planning) that does no
//! IO and knows no backend, so that it can be tested and fuzzed on its own and every surface
//! words things the same way. The configuration holds compiled core values (form
//! specifications, templates) and the stages above read its campaigns; the store records
//! what those stages decide; the adapters (sources, outbox transports, the board) and the
//! orchestration (ingest, notices, the daemon) sit on top. A cycle between modules means
//! that one of them leans on something above it: then none of them can be understood, tested
//! or changed alone, and the layers erode one convenient import at a time.
//!
//! This test reads `src/`, takes for each top-level module of the library the other
//! top-level modules its code names (`crate::x` paths, `use crate::{x, y}` groups, `super::`
//! paths that climb to the crate root; each module of the pure core, `core::x`, is a node of
//! its own), leaving out comments and `#[cfg(test)]` code, and
//! fails on any cycle, printing one shortest cycle through each edge on one as a path
//! `a → b → c → a`, with where each edge is named. The fix is to move what the lower module
//! needs down to where it belongs, not to hide the reference.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fs;
use std::path::{Path, PathBuf};

/// Top-level modules of the binary, not the library.
const BINARY: &[&str] = &["main", "cli", "cmd", "logging", "usage", "lib"];

/// Top-level modules that only group others: each of their modules is a node of its own
/// (`core::pipeline`), so that the layers inside the group are checked too.
const GROUPS: &[&str] = &["core"];

type Graph = BTreeMap<String, BTreeSet<String>>;

#[test]
fn top_level_modules_form_no_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let (graph, sites) = module_graph(&src);
    assert!(
        graph.len() > 10,
        "found only {} library modules in {}",
        graph.len(),
        src.display()
    );

    let mut problems = Vec::new();
    for cycle in cycles(&graph) {
        let mut line = cycle.join(" → ");
        line.push_str(&format!(" → {}", cycle[0]));
        let mut at = Vec::new();
        for (i, from) in cycle.iter().enumerate() {
            let to = &cycle[(i + 1) % cycle.len()];
            if let Some(site) = sites.get(&(from.clone(), to.clone())) {
                at.push(format!("\n      {from} → {to}: {site}"));
            }
        }
        problems.push(format!("cycle {line}{}", at.concat()));
    }
    assert!(
        problems.is_empty(),
        "the library's modules must form layers, with no cycle:\n  {}",
        problems.join("\n  ")
    );
}

/// One shortest cycle through each edge that lies on a cycle, each cycle once.
fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    let mut found = BTreeSet::new();
    for (from, tos) in graph {
        for to in tos {
            if let Some(mut path) = shortest_path(graph, to, from) {
                // path runs to … from; the edge from → to closes it. Start at the least name.
                let least = (0..path.len()).min_by_key(|&i| &path[i]).unwrap_or(0);
                path.rotate_left(least);
                found.insert(path);
            }
        }
    }
    found.into_iter().collect()
}

fn shortest_path(graph: &Graph, start: &str, goal: &str) -> Option<Vec<String>> {
    let mut previous: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    let mut seen = BTreeSet::from([start]);
    while let Some(node) = queue.pop_front() {
        if node == goal {
            let mut path = vec![node.to_string()];
            let mut at = node;
            while let Some(&p) = previous.get(at) {
                path.push(p.to_string());
                at = p;
            }
            path.reverse();
            return Some(path);
        }
        for next in graph.get(node).into_iter().flatten() {
            if seen.insert(next) {
                previous.insert(next, node);
                queue.push_back(next);
            }
        }
    }
    None
}

/// For each library module, the other library modules it names, and for each edge the
/// first place that names it (`file:line`).
fn module_graph(src: &Path) -> (Graph, BTreeMap<(String, String), String>) {
    let lib = strip(&fs::read_to_string(src.join("lib.rs")).expect("src/lib.rs"));
    let mut modules: BTreeSet<String> = BTreeSet::new();
    for m in declared_modules(&lib) {
        if BINARY.contains(&m.as_str()) {
            continue;
        }
        if GROUPS.contains(&m.as_str()) {
            let group =
                strip(&fs::read_to_string(src.join(&m).join("mod.rs")).expect("a group's mod.rs"));
            modules.extend(
                declared_modules(&group)
                    .into_iter()
                    .map(|child| format!("{m}::{child}")),
            );
        } else {
            modules.insert(m);
        }
    }
    let mut graph: Graph = modules
        .iter()
        .map(|m| (m.clone(), BTreeSet::new()))
        .collect();
    let mut sites = BTreeMap::new();
    for module in &modules {
        // `core::pipeline` lives in src/core/pipeline.rs and src/core/pipeline/, one level down.
        let (group, name) = match module.split_once("::") {
            Some((g, n)) => (Some(g), n),
            None => (None, module.as_str()),
        };
        let (dir, depth) = match group {
            Some(g) => (src.join(g), 2),
            None => (src.to_path_buf(), 1),
        };
        let mut files = Vec::new();
        let file = dir.join(format!("{name}.rs"));
        if file.is_file() {
            files.push((file, depth));
        }
        collect(&dir.join(name), depth + 1, &mut files);
        let mut test_only = BTreeSet::new();
        files.sort();
        for (file, depth) in &files {
            if test_only.contains(file) {
                continue;
            }
            let text = fs::read_to_string(file).expect("a source file");
            let (code, test_modules) = without_tests(&strip(&text));
            for name in test_modules {
                test_only.extend(module_files(file, &name));
            }
            for (to, line) in references(&code, *depth, group) {
                if &to == module || !modules.contains(&to) {
                    continue;
                }
                graph.get_mut(module).expect("listed").insert(to.clone());
                let rel = file.strip_prefix(src.parent().unwrap()).unwrap_or(file);
                sites
                    .entry((module.clone(), to))
                    .or_insert_with(|| format!("{}:{line}", rel.display()));
            }
        }
    }
    (graph, sites)
}

/// Every `.rs` file under `dir`, with the depth of the module it defines below the crate
/// root (`a/b.rs` and `a/b/mod.rs` are both depth 2).
fn collect(dir: &Path, depth: usize, files: &mut Vec<(PathBuf, usize)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, depth + 1, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let own = if path.file_name().is_some_and(|n| n == "mod.rs") {
                depth - 1
            } else {
                depth
            };
            files.push((path, own));
        }
    }
}

/// The files that define child module `name` of the module in `file`.
fn module_files(file: &Path, name: &str) -> Vec<PathBuf> {
    let dir = file.parent().unwrap();
    let base = if file.file_name().is_some_and(|n| n == "mod.rs") {
        dir.to_path_buf()
    } else {
        dir.join(file.file_stem().unwrap())
    };
    let mut files = vec![base.join(format!("{name}.rs"))];
    let mut nested = Vec::new();
    collect(&base.join(name), 0, &mut nested);
    files.extend(nested.into_iter().map(|(p, _)| p));
    files
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The source with comments removed and string and character literals emptied, lines kept.
fn strip(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let newlines = |out: &mut String, from: &[char]| {
        out.extend(from.iter().filter(|&&c| c == '\n'));
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let start = i;
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            newlines(&mut out, &chars[start..i.min(chars.len())]);
        } else if c == 'r' && matches!(next, Some('"' | '#')) && raw_start(&chars, i) {
            // A raw string: r"…", r#"…"#, br#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            let start = j;
            j += 1;
            loop {
                if j >= chars.len() {
                    break;
                }
                if chars[j] == '"' && (0..hashes).all(|k| chars.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            out.push_str("\"\"");
            newlines(&mut out, &chars[start..j.min(chars.len())]);
            i = j;
        } else if c == '"' {
            let start = i;
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
            newlines(&mut out, &chars[start..i.min(chars.len())]);
        } else if c == '\'' {
            // A character literal ('a', '\n', '\u{…}') or a lifetime ('a).
            if next == Some('\\') {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
                out.push_str("' '");
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
                out.push_str("' '");
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Whether the `r` at `i` starts a raw string: it starts a word, or follows a `b` or `c`
/// that does.
fn raw_start(chars: &[char], i: usize) -> bool {
    let starts = |k: usize| k == 0 || !is_ident(chars[k - 1]);
    starts(i) || (i > 0 && matches!(chars[i - 1], 'b' | 'c') && starts(i - 1))
}

/// The code without the items marked `#[cfg(test)]` (lines kept), and the names of the
/// child modules so marked that live in their own files.
fn without_tests(code: &str) -> (String, Vec<String>) {
    const MARK: &str = "#[cfg(test)]";
    let mut out = String::with_capacity(code.len());
    let mut files = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find(MARK) {
        out.push_str(&rest[..at]);
        let item = &rest[at..];
        let mut end = MARK.len();
        // Further attributes, then the item up to `;` or its closing brace.
        let bytes = item.as_bytes();
        let mut depth = 0i32;
        let mut opened = false;
        while end < bytes.len() {
            match bytes[end] {
                b'(' | b'[' => depth += 1,
                b')' | b']' => depth -= 1,
                b'{' => {
                    if depth == 0 {
                        opened = true;
                    }
                    depth += 1;
                }
                b'}' => {
                    depth -= 1;
                    if depth == 0 && opened {
                        end += 1;
                        break;
                    }
                }
                b';' if depth == 0 => {
                    end += 1;
                    break;
                }
                _ => {}
            }
            end += 1;
        }
        let skipped = &item[..end];
        let words: Vec<&str> = skipped[MARK.len()..]
            .split(|c: char| !is_ident(c))
            .filter(|w| !w.is_empty())
            .collect();
        if !opened
            && let Some(i) = words.iter().position(|w| *w == "mod")
            && let Some(name) = words.get(i + 1)
        {
            files.push(name.to_string());
        }
        out.extend(skipped.chars().filter(|&c| c == '\n'));
        rest = &item[end..];
    }
    out.push_str(rest);
    (out, files)
}

/// The names of the modules `lib.rs` declares.
fn declared_modules(code: &str) -> Vec<String> {
    let words: Vec<&str> = code
        .split(|c: char| !is_ident(c) && c != ';')
        .filter(|w| !w.is_empty())
        .collect();
    words
        .windows(2)
        .filter(|w| w[0] == "mod")
        .filter_map(|w| w[1].strip_suffix(';'))
        .map(str::to_string)
        .collect()
}

/// The crate-root names the code refers to, with the line of each reference: `crate::x`,
/// `crate::{x, y::z}`, and `super::…::x` climbing `depth` levels to the root. A module of a
/// group is named with it (`crate::core::x` and, from inside `group`, `super::…::x` climbing
/// to the group, are `core::x`).
fn references(code: &str, depth: usize, group: Option<&str>) -> Vec<(String, usize)> {
    let chars: Vec<char> = code.chars().collect();
    let mut found = Vec::new();
    let mut line = 1;
    let mut i = 0;
    let word_at = |i: usize, word: &str| -> bool {
        let w: Vec<char> = word.chars().collect();
        chars.len() >= i + w.len()
            && chars[i..i + w.len()] == w[..]
            && (i == 0 || !is_ident(chars[i - 1]))
            && chars.get(i + w.len()).is_none_or(|&c| !is_ident(c))
    };
    let skip_space = |mut i: usize| {
        while chars.get(i).is_some_and(|c| c.is_whitespace()) {
            i += 1;
        }
        i
    };
    let separator = |i: usize| -> Option<usize> {
        let i = skip_space(i);
        (chars.get(i) == Some(&':') && chars.get(i + 1) == Some(&':')).then(|| skip_space(i + 2))
    };
    let ident = |mut i: usize| -> (String, usize) {
        let mut name = String::new();
        while let Some(&c) = chars.get(i).filter(|&&c| is_ident(c)) {
            name.push(c);
            i += 1;
        }
        (name, i)
    };
    while i < chars.len() {
        if chars[i] == '\n' {
            line += 1;
            i += 1;
            continue;
        }
        let mut root = None;
        if word_at(i, "crate") {
            root = separator(i + "crate".len());
        } else if word_at(i, "super") {
            // Only a path that starts here: not `x::super`.
            let before: String = chars[..i].iter().rev().take(2).collect();
            if before != "::" {
                let mut at = i;
                let mut levels = 0;
                while word_at(at, "super") {
                    match separator(at + "super".len()) {
                        Some(next) => {
                            levels += 1;
                            at = next;
                        }
                        None => break,
                    }
                }
                if levels == depth && levels > 0 {
                    root = Some(at);
                } else if let Some(g) = group
                    && levels + 1 == depth
                {
                    // Up to the group's own module: the next name is a module of the group.
                    let (child, _) = ident(at);
                    if !child.is_empty() {
                        found.push((format!("{g}::{child}"), line));
                    }
                }
            }
        }
        let Some(mut at) = root else {
            i += 1;
            continue;
        };
        // `core::x`: a group's module is named with the group.
        let mut prefix = String::new();
        let (first, after) = ident(at);
        if GROUPS.contains(&first.as_str())
            && let Some(next) = separator(after)
        {
            prefix = format!("{first}::");
            at = next;
        }
        if chars.get(at) == Some(&'{') {
            // A group: the first name of each item at its top level.
            let mut j = at + 1;
            let mut nesting = 1;
            let mut expect = true;
            let mut group_line = line;
            while j < chars.len() && nesting > 0 {
                match chars[j] {
                    '{' => nesting += 1,
                    '}' => nesting -= 1,
                    ',' if nesting == 1 => expect = true,
                    '\n' => group_line += 1,
                    c if expect && nesting == 1 && is_ident(c) => {
                        let (name, next) = ident(j);
                        found.push((format!("{prefix}{name}"), group_line));
                        expect = false;
                        j = next;
                        continue;
                    }
                    _ => {}
                }
                j += 1;
            }
        } else {
            let (name, _) = ident(at);
            if !name.is_empty() {
                found.push((format!("{prefix}{name}"), line));
            }
        }
        i += 1;
    }
    found
}
