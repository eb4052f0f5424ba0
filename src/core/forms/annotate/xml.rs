//! # XML plumbing of the package route
//!
//! quick-xml readers and writers over package parts, and the few element edits every part
//! needs: an attribute read by local name, an element rewritten with attributes replaced,
//! a subtree copied or skipped. Unchanged events are written back as they were read.

use std::borrow::Cow;
use std::io::{BufRead, Write};

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, Writer};

/// Why the package route gave up on a workbook; it is then rebuilt from its values.
#[derive(Debug, thiserror::Error)]
pub(super) enum PackageError {
    /// A part's XML could not be read or written.
    #[error("part {part}: {source}")]
    Xml {
        /// The part.
        part: String,
        /// The cause.
        #[source]
        source: quick_xml::Error,
    },
    /// The zip package could not be read or written.
    #[error("zip package: {0}")]
    Zip(#[from] zip::result::ZipError),
    /// Reading or writing bytes failed.
    #[error("package io: {0}")]
    Io(#[from] std::io::Error),
    /// The package is of a kind this route does not edit; the text says which.
    #[error("{0}")]
    Unsupported(String),
}

impl PackageError {
    pub(super) fn xml(part: &str) -> impl FnOnce(quick_xml::Error) -> PackageError + '_ {
        move |source| PackageError::Xml {
            part: part.to_string(),
            source,
        }
    }
}

/// A reader that keeps every byte of text as it is.
pub(super) fn reader<R: BufRead>(r: R) -> Reader<R> {
    let mut reader = Reader::from_reader(r);
    let config = reader.config_mut();
    config.trim_text(false);
    config.expand_empty_elements = false;
    reader
}

/// The value of the attribute whose local name is `local` (any prefix), unescaped.
pub(super) fn attr(e: &BytesStart<'_>, local: &str) -> Option<String> {
    e.attributes().flatten().find_map(|a| {
        (a.key.local_name().as_ref() == local).then(|| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map(Cow::into_owned)
                .unwrap_or_else(|_| a.value.clone().into_owned())
        })
    })
}

/// Like [`attr`], borrowing the value when it holds no escapes (the hot path of a sheet).
pub(super) fn attr_cow<'a>(e: &'a BytesStart<'_>, local: &str) -> Option<Cow<'a, str>> {
    e.attributes().flatten().find_map(|a| {
        (a.key.local_name().as_ref() == local).then(|| {
            let value = a.value.clone();
            if value.contains('&') {
                Cow::Owned(
                    a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .map(Cow::into_owned)
                        .unwrap_or_else(|_| value.into_owned()),
                )
            } else {
                value
            }
        })
    })
}

/// The element with the attributes of local names in `set` replaced (or added, at the end),
/// those in `drop` removed, the rest kept byte for byte.
pub(super) fn rewrite(
    e: &BytesStart<'_>,
    set: &[(&str, String)],
    drop: &[&str],
) -> BytesStart<'static> {
    let mut out = BytesStart::new(e.name().as_ref().to_string());
    let mut done = vec![false; set.len()];
    for a in e.attributes().flatten() {
        let local = a.key.local_name();
        let local = local.as_ref();
        if drop.contains(&local) {
            continue;
        }
        match set.iter().position(|(k, _)| *k == a.key.as_ref()) {
            Some(i) => {
                done[i] = true;
                out.push_attribute((set[i].0, set[i].1.as_str()));
            }
            None => out.push_attribute(a),
        }
    }
    for ((k, v), done) in set.iter().zip(done) {
        if !done {
            out.push_attribute((*k, v.as_str()));
        }
    }
    out
}

/// The local name of an element.
pub(super) fn local(e: &BytesStart<'_>) -> String {
    e.local_name().as_ref().to_string()
}

/// The element name's prefix with its colon ("x:" for `x:worksheet`), or "".
pub(super) fn prefix_of(e: &BytesStart<'_>) -> String {
    match e.name().as_ref().split_once(':') {
        Some((p, _)) => format!("{p}:"),
        None => String::new(),
    }
}

/// Copies (when `out` is given) or skips the rest of an element whose start was just read,
/// up to and including its end.
pub(super) fn finish_element<R: BufRead, W: Write>(
    reader: &mut Reader<R>,
    buf: &mut Vec<u8>,
    mut out: Option<&mut Writer<W>>,
    part: &str,
) -> Result<(), PackageError> {
    let mut depth = 1usize;
    loop {
        buf.clear();
        let ev = reader
            .read_event_into(buf)
            .map_err(PackageError::xml(part))?;
        match &ev {
            Event::Start(_) => depth += 1,
            Event::End(_) => depth -= 1,
            Event::Eof => {
                return Err(PackageError::Unsupported(format!(
                    "part {part} ends inside an element"
                )));
            }
            _ => {}
        }
        if let Some(w) = out.as_deref_mut() {
            w.write_event(ev)?;
        }
        if depth == 0 {
            return Ok(());
        }
    }
}

/// Text escaped for XML content and attribute values. Characters XML 1.0 cannot hold (control
/// characters a cell may carry into a finding) are written as SpreadsheetML writes them,
/// `_x0001_`, which Excel shows as the character.
pub(super) fn esc(text: &str) -> Cow<'_, str> {
    let invalid = |c: char| {
        (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{FFFE}' | '\u{FFFF}')
    };
    if !text.chars().any(invalid) {
        return quick_xml::escape::escape(text);
    }
    let mut clean = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if invalid(c) {
            clean.push_str(&format!("_x{:04X}_", u32::from(c)));
        } else {
            clean.push(c);
        }
    }
    Cow::Owned(quick_xml::escape::escape(&clean).into_owned())
}

/// The XML declaration every new part starts with.
pub(super) const DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";

/// SpreadsheetML's main namespace (transitional).
pub(super) const NS_MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";

/// The namespace of relationship ids in parts.
pub(super) const NS_REL: &str =
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

#[cfg(test)]
mod tests {
    #[test]
    fn text_xml_cannot_hold_is_written_as_spreadsheetml_does() {
        assert_eq!(super::esc("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        assert_eq!(super::esc("x\u{1}y\tz\n"), "x_x0001_y\tz\n");
    }
}
