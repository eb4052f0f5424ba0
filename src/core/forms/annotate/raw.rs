//! # Rows without marks, copied as bytes
//!
//! Most of a marked sheet is rows no finding is on; taking each of their cells apart as XML
//! events only to write them back as they were cost more than the rest of the copy. The
//! streamer hands such a row's content here: its bytes go to the output unread up to the row's
//! own end tag, which is left for the XML reader so it stays in step. Comments and CDATA
//! sections are passed over whole, so an end tag written inside one is not taken for the row's.
//!
//! [`Lookahead`] is the buffered reader under both: unlike `BufReader`, it can be asked to
//! hold a few more bytes without consuming any, which the end tag's test needs at a buffer's
//! edge.

use std::io::{self, BufRead, Read, Write};

/// A buffered reader that can look a few bytes ahead across its buffer's end.
pub(super) struct Lookahead<R> {
    inner: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl<R: Read> Lookahead<R> {
    pub(super) fn with_capacity(capacity: usize, inner: R) -> Self {
        Lookahead {
            inner,
            buf: vec![0; capacity.max(1)],
            start: 0,
            end: 0,
        }
    }

    /// The buffered bytes, after making sure there are at least `n` unless the input ends
    /// first.
    fn peek(&mut self, n: usize) -> io::Result<&[u8]> {
        if self.end - self.start < n {
            if self.buf.len() < n {
                self.buf.resize(n, 0);
            }
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            while self.end < n {
                match self.inner.read(&mut self.buf[self.end..]) {
                    Ok(0) => break,
                    Ok(k) => self.end += k,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(&self.buf[self.start..self.end])
    }
}

impl<R: Read> Read for Lookahead<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = {
            let have = self.fill_buf()?;
            let n = have.len().min(out.len());
            out[..n].copy_from_slice(&have[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for Lookahead<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            loop {
                match self.inner.read(&mut self.buf) {
                    Ok(k) => {
                        self.end = k;
                        break;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(&self.buf[self.start..self.end])
    }

    fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
    }
}

/// Copies from `src` to `out` up to, not including, the end tag `</{name}` (followed by `>`
/// or white space) that is not inside a comment or CDATA section. Returns false when the
/// input ended first (everything read was copied; the reader then reports the unclosed row
/// as it would have).
pub(super) fn copy_to_end_tag<R: Read, W: Write>(
    src: &mut Lookahead<R>,
    out: &mut W,
    name: &[u8],
) -> io::Result<bool> {
    // `</` + name + one byte after it; long enough for "<![CDATA[" and "<!--" too.
    let want = (name.len() + 3).max(9);
    loop {
        if !copy_to_byte(src, out, b'<')? {
            return Ok(false);
        }
        let head = src.peek(want)?;
        if head.is_empty() {
            return Ok(false);
        }
        if head.len() > name.len() + 2
            && head[1] == b'/'
            && &head[2..2 + name.len()] == name
            && matches!(head[2 + name.len()], b'>' | b' ' | b'\t' | b'\r' | b'\n')
        {
            return Ok(true);
        }
        let close: &[u8] = if head.starts_with(b"<![CDATA[") {
            b"]]>"
        } else if head.starts_with(b"<!--") {
            b"-->"
        } else {
            out.write_all(b"<")?;
            src.consume(1);
            continue;
        };
        let open = if close == b"]]>" { 9 } else { 4 };
        out.write_all(&head[..open])?;
        src.consume(open);
        if !copy_through(src, out, close)? {
            return Ok(false);
        }
    }
}

/// Copies from `src` to `out` through the first `close` (three bytes); false when the input
/// ended first.
fn copy_through<R: Read, W: Write>(
    src: &mut Lookahead<R>,
    out: &mut W,
    close: &[u8],
) -> io::Result<bool> {
    loop {
        if !copy_to_byte(src, out, close[0])? {
            return Ok(false);
        }
        let head = src.peek(close.len())?;
        if head.is_empty() {
            return Ok(false);
        }
        if head.starts_with(close) {
            out.write_all(close)?;
            src.consume(close.len());
            return Ok(true);
        }
        out.write_all(&head[..1])?;
        src.consume(1);
    }
}

/// Copies from `src` to `out` up to, not including, the next `byte`, leaving it next to read;
/// false when the input ended first.
fn copy_to_byte<R: Read, W: Write>(
    src: &mut Lookahead<R>,
    out: &mut W,
    byte: u8,
) -> io::Result<bool> {
    loop {
        let buf = src.fill_buf()?;
        if buf.is_empty() {
            return Ok(false);
        }
        let found = memchr::memchr(byte, buf);
        let n = found.unwrap_or(buf.len());
        out.write_all(&buf[..n])?;
        src.consume(n);
        if found.is_some() {
            return Ok(true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Copies `input` through `copy_to_end_tag` with a buffer of `cap` bytes; returns what was
    /// copied, whether the tag was found, and what the reader still holds.
    fn run(input: &str, name: &str, cap: usize) -> (String, bool, String) {
        let mut src = Lookahead::with_capacity(cap, input.as_bytes());
        let mut out = Vec::new();
        let found = copy_to_end_tag(&mut src, &mut out, name.as_bytes()).unwrap();
        let mut rest = String::new();
        src.read_to_string(&mut rest).unwrap();
        (String::from_utf8(out).unwrap(), found, rest)
    }

    #[test]
    fn the_copy_stops_at_the_rows_own_end_tag_at_any_buffer_edge() {
        let cases = [
            (
                r#"<c r="A1"><v>1</v></c><c r="B1" t="s"><v>2</v></c></row><row r="2">"#,
                "row",
                r#"<c r="A1"><v>1</v></c><c r="B1" t="s"><v>2</v></c>"#,
            ),
            // Another element whose name begins with the row's.
            (
                "<rows/><rowx>a</rowx></row >",
                "row",
                "<rows/><rowx>a</rowx>",
            ),
            // A prefixed sheet.
            (
                "<x:c><x:v>1</x:v></x:c></x:row>",
                "x:row",
                "<x:c><x:v>1</x:v></x:c>",
            ),
            // An end tag inside CDATA or a comment is not the row's.
            (
                "<c><is><t><![CDATA[</row> ]] ]>]]></t></is></c><!-- </row> -- --></row>",
                "row",
                "<c><is><t><![CDATA[</row> ]] ]>]]></t></is></c><!-- </row> -- -->",
            ),
            ("", "row", ""),
        ];
        for (input, name, copied) in cases {
            for cap in (1..=24).chain([64, 4096]) {
                let (out, found, rest) = run(input, name, cap);
                assert_eq!(out, copied, "{input:?} with a buffer of {cap}");
                assert_eq!(found, !input.is_empty(), "{input:?}");
                assert_eq!(format!("{out}{rest}"), input, "{input:?}: nothing lost");
                if found {
                    assert!(rest.starts_with(&format!("</{name}")), "{rest:?}");
                }
            }
        }
    }

    #[test]
    fn an_unclosed_row_is_copied_whole() {
        for input in [
            "<c><v>1</v></c>",
            "<c/><![CDATA[ </row>",
            "<c/><!-- x",
            "<c/></ro",
        ] {
            for cap in [1, 2, 5, 9, 64, 4096] {
                let (out, found, rest) = run(input, "row", cap);
                assert!(!found, "{input:?}");
                assert_eq!(format!("{out}{rest}"), input);
            }
        }
    }

    #[test]
    fn a_tag_split_across_reads_is_still_seen() {
        // A reader that hands out one byte at a time: every tag straddles a read.
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                let Some((&b, rest)) = self.0.split_first() else {
                    return Ok(0);
                };
                if out.is_empty() {
                    return Ok(0);
                }
                out[0] = b;
                self.0 = rest;
                Ok(1)
            }
        }
        let input = b"<c><v>1</v></c><!-- </row> --></row>tail";
        let mut src = Lookahead::with_capacity(4, Trickle(input));
        let mut out = Vec::new();
        assert!(copy_to_end_tag(&mut src, &mut out, b"row").unwrap());
        assert_eq!(out, b"<c><v>1</v></c><!-- </row> -->");
        let mut rest = Vec::new();
        src.read_to_end(&mut rest).unwrap();
        assert_eq!(rest, b"</row>tail");
    }
}
