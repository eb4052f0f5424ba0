//! # Authentication-Results
//!
//! Reads RFC 8601 `Authentication-Results` header fields and picks the one intake may trust.
//! Anyone can write such a header, so only the topmost one from a configured authserv-id,
//! above the first hop from outside the department's own mail servers, counts (RFC 8601 §5).

use serde::Serialize;

/// Longest header value parsed; the rest is cut.
const MAX_VALUE: usize = 16 * 1024;
/// Most resinfos read from one header.
const MAX_RESINFOS: usize = 64;
/// Most header fields walked by [`trusted`].
const MAX_FIELDS: usize = 2_000;
/// Most bytes of the header block read by [`trusted`].
const MAX_HEADER: usize = 1024 * 1024;
/// Most lines in [`Trusted::ignored`] before they are summed up.
const MAX_IGNORED: usize = 20;

/// Whitespace, with line breaks of folded headers.
const WS: &[u8] = b" \t\r\n";
/// Bytes ending a method, result or property name.
const TOKEN_STOP: &[u8] = b"();=/\"";
/// Bytes ending an unquoted property value, which may hold `/`, `=` and `@`.
const VALUE_STOP: &[u8] = b"();\"";

/// One method's result in an Authentication-Results header, e.g. `spf=pass smtp.mailfrom=a@b`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MethodResult {
    /// The method, lower case: `spf`, `dkim`, `dmarc`, `arc`, `iprev`, `auth`, ...
    pub method: String,
    /// The result, lower case: `pass`, `fail`, `softfail`, `neutral`, `none`, `temperror`, `permerror`, `policy`, ...
    pub result: String,
    /// The `reason="..."` text, when given.
    pub reason: Option<String>,
    /// Properties as (ptype.property, value) in order, names lower case, values as written (quotes removed).
    pub props: Vec<(String, String)>,
}

impl MethodResult {
    /// The value of a property, e.g. `smtp.mailfrom`, case-insensitive on the name.
    pub fn prop(&self, name: &str) -> Option<&str> {
        self.props
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One parsed Authentication-Results header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuthResults {
    /// The authserv-id, lower case.
    pub authserv_id: String,
    /// The results, in order; empty for `none`.
    pub results: Vec<MethodResult>,
}

impl AuthResults {
    /// The first result of a method (`spf`, `dkim`, `dmarc`).
    pub fn method(&self, method: &str) -> Option<&MethodResult> {
        self.all(method).next()
    }

    /// Every result of a method (a message may carry several `dkim=` results).
    pub fn all(&self, method: &str) -> impl Iterator<Item = &MethodResult> {
        self.results
            .iter()
            .filter(move |r| r.method.eq_ignore_ascii_case(method))
    }
}

/// What the trusted-header search found, for the evidence shown to staff.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Trusted {
    /// The topmost A-R header from a trusted authserv-id inside the trusted region, when any.
    pub header: Option<AuthResults>,
    /// Why other A-R headers were ignored, one short English line each.
    pub ignored: Vec<String>,
}

/// Parses the value of one Authentication-Results header (unfolded or folded). None when the authserv-id or the syntax cannot be read (such a header is never trusted).
///
/// A resinfo that cannot be read ends the parse but keeps the results before it. When the
/// very first one cannot be read the header is None: a lone `none` is the only way to say
/// "no results", and a header whose results cannot be read says nothing we could rely on.
pub fn parse(value: &str) -> Option<AuthResults> {
    read(value).ok()
}

/// Why a header value could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Unreadable {
    /// The authserv-id is missing or malformed.
    Id,
    /// The authserv-id (given) was read but no result after it.
    Results(String),
}

/// A position in a header value.
struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(s: &'a str) -> Self {
        Cursor { s, pos: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        self.pos += usize::from(hit);
        hit
    }

    /// Skips whitespace, line breaks and comments; false on an unterminated comment.
    fn cfws(&mut self) -> bool {
        loop {
            match self.peek() {
                Some(b) if WS.contains(&b) => self.pos += 1,
                Some(b'(') => {
                    if self.comment().is_none() {
                        return false;
                    }
                }
                _ => return true,
            }
        }
    }

    /// Reads a (nested) comment starting at `(` and returns its text without the outer parentheses.
    fn comment(&mut self) -> Option<&'a str> {
        let bytes = self.s.as_bytes();
        let start = self.pos + 1;
        let mut depth = 0usize;
        let mut i = self.pos;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' => i += 1,
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        self.pos = i + 1;
                        return Some(&self.s[start..i]);
                    }
                }
                _ => {}
            }
            i += 1;
        }
        self.pos = bytes.len();
        None
    }

    /// Reads a run of bytes that are neither whitespace nor in `stop`.
    fn run(&mut self, stop: &[u8]) -> &'a str {
        let start = self.pos;
        let bytes = self.s.as_bytes();
        while self.pos < bytes.len()
            && !WS.contains(&bytes[self.pos])
            && !stop.contains(&bytes[self.pos])
        {
            self.pos += 1;
        }
        &self.s[start..self.pos]
    }

    /// Reads a quoted string starting at `"`, escapes and line breaks removed.
    fn quoted(&mut self) -> Option<String> {
        let mut out = String::new();
        let mut chars = self.s[self.pos + 1..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => out.push(chars.next()?.1),
                '"' => {
                    self.pos += i + 2;
                    return Some(out);
                }
                '\r' | '\n' => {}
                _ => out.push(c),
            }
        }
        None
    }

    /// Reads a quoted string or a non-empty run of bytes not in `stop`.
    fn value(&mut self, stop: &[u8]) -> Option<String> {
        if self.peek() == Some(b'"') {
            // A quoted local-part may go on with `@domain`.
            let mut out = self.quoted()?;
            if self.peek() == Some(b'@') {
                out.push_str(self.run(stop));
            }
            return Some(out);
        }
        let run = self.run(stop);
        (!run.is_empty()).then(|| run.to_string())
    }
}

/// Turns a parser condition into `?`-able form.
fn need(ok: bool) -> Option<()> {
    ok.then_some(())
}

/// A host name or authserv-id as compared: trimmed, lower case, no trailing dot.
fn norm(s: &str) -> String {
    s.trim().trim_end_matches('.').to_lowercase()
}

/// The value cut to at most `max` bytes on a character boundary, and whether it was cut.
fn bounded(value: &str, max: usize) -> (&str, bool) {
    if value.len() <= max {
        return (value, false);
    }
    let mut end = max;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    (&value[..end], true)
}

/// Reads the authserv-id: a dot-atom or quoted string, never holding `=` or the like.
fn authserv_id(c: &mut Cursor) -> Option<String> {
    need(c.cfws())?;
    let raw = if c.peek() == Some(b'"') {
        c.quoted()?
    } else {
        c.run(b"();\"").to_string()
    };
    let id = norm(&raw);
    let bad = id.is_empty() || id.bytes().any(|b| b"=,:<>[]\\@\" \t\r\n".contains(&b));
    (!bad).then_some(id)
}

/// What one resinfo slot held.
enum Step {
    /// A method's result.
    Result(MethodResult),
    /// The `none` keyword.
    None,
    /// Nothing before the next `;` or the end.
    Empty,
}

/// Reads one resinfo up to the next `;` or the end; None when it cannot be read.
fn resinfo(c: &mut Cursor) -> Option<Step> {
    need(c.cfws())?;
    if c.at_end() || c.peek() == Some(b';') {
        return Some(Step::Empty);
    }
    let method = c.run(TOKEN_STOP).to_ascii_lowercase();
    need(!method.is_empty() && c.cfws())?;
    if c.eat(b'/') {
        need(c.cfws() && !c.run(TOKEN_STOP).is_empty() && c.cfws())?;
    } else if method == "none" && c.peek() != Some(b'=') {
        return Some(Step::None);
    }
    need(c.eat(b'=') && c.cfws())?;
    let result = c.run(TOKEN_STOP).to_ascii_lowercase();
    need(!result.is_empty())?;
    let mut out = MethodResult {
        method,
        result,
        reason: None,
        props: Vec::new(),
    };
    loop {
        need(c.cfws())?;
        if c.at_end() || c.peek() == Some(b';') {
            return Some(Step::Result(out));
        }
        // `ptype.property=value` or `reason=value`; other bare names (Microsoft's
        // `action=none`) are kept as properties under their own name.
        let name = c.run(TOKEN_STOP).to_ascii_lowercase();
        need(!name.is_empty() && c.cfws() && c.eat(b'=') && c.cfws())?;
        let value = c.value(VALUE_STOP)?;
        if name == "reason" {
            out.reason.get_or_insert(value);
        } else {
            out.props.push((name, value));
        }
    }
}

/// Parses a header value, telling why it could not be read.
fn read(value: &str) -> Result<AuthResults, Unreadable> {
    let (text, cut) = bounded(value, MAX_VALUE);
    let mut c = Cursor::new(text);
    let authserv_id = authserv_id(&mut c).ok_or(Unreadable::Id)?;
    let unreadable = || Unreadable::Results(authserv_id.clone());
    if !c.cfws() {
        return Err(unreadable());
    }
    let before_version = c.pos;
    let version = c.run(b"();\"=");
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
        c.pos = before_version;
    } else if !c.cfws() {
        return Err(unreadable());
    }
    if !c.eat(b';') {
        return Err(unreadable());
    }
    let mut results = Vec::new();
    while results.len() < MAX_RESINFOS {
        match resinfo(&mut c) {
            // A result running into a cut may have lost part of a value: drop it.
            Some(Step::Result(_)) if cut && c.at_end() => break,
            Some(Step::Result(r)) => results.push(r),
            Some(Step::None) if results.is_empty() => {
                return Ok(AuthResults {
                    authserv_id,
                    results,
                });
            }
            Some(Step::Empty) => {}
            _ if results.is_empty() => return Err(unreadable()),
            _ => break,
        }
        if !c.eat(b';') {
            break;
        }
    }
    if results.is_empty() {
        return Err(unreadable());
    }
    Ok(AuthResults {
        authserv_id,
        results,
    })
}

/// Finds the trusted A-R header in a raw header block (bytes up to the blank line, or the whole message; stop at the first empty line).
///
/// `trusted_ids` are the configured authserv-ids (compared case-insensitively, trailing dots
/// ignored); `internal_hosts` are further host names of the department's own mail servers.
/// `X-Original-Authentication-Results` fields (copies kept by relays) are skipped and not listed.
pub fn trusted(raw: &[u8], trusted_ids: &[String], internal_hosts: &[String]) -> Trusted {
    let ids = normed(trusted_ids);
    let ours = [ids.clone(), normed(internal_hosts)].concat();
    let text = String::from_utf8_lossy(&raw[..raw.len().min(MAX_HEADER)]);
    let mut header = None;
    let mut ignored = Vec::new();
    let mut region = Region::Inside;
    for (name, value) in fields(&text) {
        if name.eq_ignore_ascii_case("received") {
            region = match region {
                Region::Inside => classify(&value, &ours),
                Region::Entered(from) => Region::Outside(format!(
                    "below a Received header beneath the entry hop (mail came in from {from})"
                )),
                outside => outside,
            };
            continue;
        }
        if !name.eq_ignore_ascii_case("authentication-results") {
            continue;
        }
        if ids.is_empty() {
            if ignored.is_empty() {
                ignored.push("no authserv-id is configured as trusted".to_string());
            }
            continue;
        }
        let line = match (&region, read(&value)) {
            (Region::Outside(why), Ok(a)) => format!("authserv-id \"{}\" is {why}", a.authserv_id),
            (Region::Outside(why), Err(_)) => format!("unreadable header {why}"),
            (_, Err(Unreadable::Id)) => "unreadable authserv-id".to_string(),
            (_, Err(Unreadable::Results(id))) => {
                format!("authserv-id \"{id}\": unreadable results")
            }
            (_, Ok(a)) if !ids.contains(&a.authserv_id) => {
                format!("authserv-id \"{}\" is not trusted", a.authserv_id)
            }
            (_, Ok(a)) if header.is_some() => {
                format!(
                    "authserv-id \"{}\": a trusted header was already found above",
                    a.authserv_id
                )
            }
            (_, Ok(a)) => {
                header = Some(a);
                continue;
            }
        };
        ignored.push(line);
    }
    if ignored.len() > MAX_IGNORED {
        let more = ignored.len() - MAX_IGNORED;
        ignored.truncate(MAX_IGNORED);
        ignored.push(format!("and {more} more"));
    }
    Trusted { header, ignored }
}

/// The non-empty names of a list, normalized.
fn normed(list: &[String]) -> Vec<String> {
    list.iter()
        .map(|s| norm(s))
        .filter(|s| !s.is_empty())
        .collect()
}

/// Where the walk down the header block is.
enum Region {
    /// Above any Received header added outside.
    Inside,
    /// Just below the hop where mail came in from the given host; the next Received ends the region.
    Entered(String),
    /// Outside the region, with the reason for staff.
    Outside(String),
}

/// The header fields as (name, unfolded value), up to the first empty line; lines that are
/// not fields (an mbox `From ` line) get an empty name so their continuations go nowhere.
fn fields(text: &str) -> Vec<(&str, String)> {
    let mut out: Vec<(&str, String)> = Vec::new();
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = out.last_mut() {
                value.push('\n');
                value.push_str(line);
            }
            continue;
        }
        if out.len() >= MAX_FIELDS {
            break;
        }
        let field = line.split_once(':').and_then(|(name, value)| {
            let name = name.trim_end();
            let ok = !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic());
            ok.then(|| (name, value.to_string()))
        });
        out.push(field.unwrap_or(("", String::new())));
    }
    out
}

/// Whether a host is one of the hosts in `list` or a subdomain of one.
fn covers(list: &[String], host: &str) -> bool {
    let host = norm(host);
    !host.is_empty()
        && list.iter().any(|h| {
            host == *h
                || host
                    .strip_suffix(h.as_str())
                    .is_some_and(|p| p.ends_with('.'))
        })
}

/// A word or a comment of a Received header, up to its `;`.
enum Item<'a> {
    Word(&'a str),
    Comment(&'a str),
}

/// Classifies a Received header met inside the region.
///
/// The `from` word may be the client's own HELO name, so a hop into our server is internal
/// only when it and the reverse-DNS name in the comment after it (when given) are both ours,
/// or when the address our server recorded for the peer (the first `[...]` in that comment)
/// is loopback, as when a content filter such as amavis hands mail back.
fn classify(value: &str, ours: &[String]) -> Region {
    let mut c = Cursor::new(value);
    let mut items = Vec::new();
    while items.len() < 256 {
        match c.peek() {
            None | Some(b';') => break,
            Some(b) if WS.contains(&b) || b == b')' => c.pos += 1,
            Some(b'(') => match c.comment() {
                Some(text) => items.push(Item::Comment(text)),
                None => break,
            },
            _ => items.push(Item::Word(c.run(b"();"))),
        }
    }
    let keyword = |kw: &str| {
        items
            .iter()
            .position(|i| matches!(i, Item::Word(w) if w.eq_ignore_ascii_case(kw)))
    };
    let word_after = |at: usize| match items.get(at + 1) {
        Some(Item::Word(w)) => Some(norm(w)),
        _ => None,
    };
    let with = keyword("with").and_then(word_after);
    if with.is_some_and(|w| matches!(w.as_str(), "lmtp" | "lmtpa" | "lmtps" | "lmtpsa" | "local")) {
        return Region::Inside;
    }
    let by = keyword("by").and_then(word_after);
    if !by.as_deref().is_some_and(|h| covers(ours, h)) {
        let by = by.unwrap_or_else(|| "an unreadable host".to_string());
        return Region::Outside(format!("below a Received header added outside (by {by})"));
    }
    let Some(at) = keyword("from") else {
        return Region::Inside;
    };
    let host = word_after(at).unwrap_or_default();
    let comment = items.iter().skip(at + 1).take(2).find_map(|i| match i {
        Item::Comment(text) => Some(*text),
        Item::Word(_) => None,
    });
    // Postfix and sendmail write `from HELO (RDNS [IP])`; Exim writes `from RDNS ([IP] helo=..)`.
    let rdns = comment
        .and_then(|t| t.split_whitespace().next())
        .filter(|w| !w.starts_with('[') && !w.contains('='))
        .map(norm);
    // The connecting address is ours to read only where our server wrote it: the `from` word
    // itself (`from [IP]`), or the comment before any `helo=`, whose text is the sender's.
    let before_helo = |t: &str| match t.to_ascii_lowercase().find("helo=") {
        Some(i) => t[..i].to_string(),
        None => t.to_string(),
    };
    let peer = if host.starts_with('[') {
        Some(host.trim_matches(['[', ']']).to_ascii_lowercase())
    } else {
        comment.map(before_helo).and_then(|t| {
            t.split_once('[')
                .and_then(|(_, r)| r.split_once(']'))
                .map(|(ip, _)| ip.to_ascii_lowercase())
        })
    };
    let loopback = peer.is_some_and(|ip| {
        let ip = ip.strip_prefix("ipv6:").unwrap_or(&ip);
        ip.starts_with("127.") || ip == "::1"
    });
    if loopback || (covers(ours, &host) && rdns.as_deref().is_none_or(|n| covers(ours, n))) {
        return Region::Inside;
    }
    let host = if host.is_empty() {
        "an unreadable host".to_string()
    } else {
        host
    };
    match rdns {
        Some(rdns) if rdns != host => Region::Entered(format!("{host} ({rdns})")),
        _ => Region::Entered(host),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_helo_claiming_loopback_does_not_make_a_hop_ours() {
        let ids = vec!["mx.langson.example".to_string()];
        // Exim's stamp of an outside peer whose HELO says 127.0.0.1, then a stamp the sender
        // wrote claiming our server, then the sender's own A-R.
        let raw = b"Received: from [203.0.113.5] (helo=[127.0.0.1]) by mx.langson.example with esmtp id 1; Thu, 5 Jul 2018 09:00:00 +0700\r\nReceived: from a.evil.example by mx.langson.example; Thu, 5 Jul 2018 08:59:00 +0700\r\nAuthentication-Results: mx.langson.example; dmarc=pass header.from=langson.example\r\nFrom: a@langson.example\r\n\r\nx";
        assert_eq!(trusted(raw, &ids, &[]).header, None);
        let raw = b"Received: from x.evil.example (x.evil.example [203.0.113.5] helo=[127.0.0.1]) by mx.langson.example; Thu, 5 Jul 2018 09:00:00 +0700\r\nReceived: by x.evil.example; Thu, 5 Jul 2018 08:59:00 +0700\r\nAuthentication-Results: mx.langson.example; dmarc=pass header.from=langson.example\r\nFrom: a@langson.example\r\n\r\nx";
        assert_eq!(trusted(raw, &ids, &[]).header, None);
    }

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn pick(raw: &str, ids: &[&str]) -> Trusted {
        trusted(
            raw.as_bytes(),
            &strings(ids),
            &strings(&["relay.langson.example"]),
        )
    }

    #[test]
    fn gmail() {
        let a = parse(
            "mx.google.com;\r\n       dkim=pass header.i=@example.com header.s=20161025 header.b=abc;\r\n       \
             spf=pass (google.com: domain of x@example.com designates 1.2.3.4 as permitted sender) \
             smtp.mailfrom=x@example.com;\r\n       dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=example.com",
        )
        .unwrap();
        assert_eq!(a.authserv_id, "mx.google.com");
        assert_eq!(a.results.len(), 3);
        let dkim = a.method("dkim").unwrap();
        assert_eq!(dkim.prop("header.i"), Some("@example.com"));
        assert_eq!(dkim.prop("HEADER.B"), Some("abc"));
        assert_eq!(
            a.method("spf").unwrap().prop("smtp.mailfrom"),
            Some("x@example.com")
        );
        let dmarc = a.method("DMARC").unwrap();
        assert_eq!(
            (dmarc.result.as_str(), dmarc.prop("header.from")),
            ("pass", Some("example.com"))
        );
    }

    #[test]
    fn microsoft_365() {
        let value = "spf=pass (sender IP is 1.2.3.4) smtp.mailfrom=example.com; dkim=pass (signature was verified) \
                     header.d=example.com;dmarc=pass action=none header.from=example.com;compauth=pass reason=100";
        // Microsoft writes no authserv-id, so its header can never be trusted.
        assert_eq!(parse(value), None);
        let a = parse(&format!("eur.prod.protection.outlook.com; {value}")).unwrap();
        let methods: Vec<_> = a.results.iter().map(|r| r.method.as_str()).collect();
        assert_eq!(methods, ["spf", "dkim", "dmarc", "compauth"]);
        assert_eq!(a.method("dmarc").unwrap().prop("action"), Some("none"));
        assert_eq!(a.method("compauth").unwrap().reason.as_deref(), Some("100"));
    }

    #[test]
    fn opendmarc_and_postfix_opendkim() {
        let a =
            parse("mx.langson.example; dmarc=fail (p=reject dis=none) header.from=langson.example")
                .unwrap();
        assert_eq!(a.method("dmarc").unwrap().result, "fail");
        let a = parse(
            "mx.langson.example;\r\n\tdkim=pass (2048-bit key; unprotected) header.d=agency.example\r\n\t\
             header.i=@agency.example header.a=rsa-sha256 header.s=sel1 header.b=\"AbC+/12=\";\r\n\t\
             dkim=fail (1024-bit key) header.d=other.example header.b=xY/z+w==;\n spf=softfail (\"nested (deep)\\) x\") \
             smtp.mailfrom=\"odd \\\"quoted\\\"\"@agency.example reason=\"not listed\"",
        )
        .unwrap();
        assert_eq!(a.all("dkim").count(), 2);
        let dkim = a.method("dkim").unwrap();
        assert_eq!(
            dkim.props[4],
            ("header.b".to_string(), "AbC+/12=".to_string())
        );
        assert_eq!(
            a.all("dkim").nth(1).unwrap().prop("header.b"),
            Some("xY/z+w==")
        );
        let spf = a.method("spf").unwrap();
        assert_eq!(spf.result, "softfail");
        assert_eq!(spf.reason.as_deref(), Some("not listed"));
        assert_eq!(
            spf.prop("smtp.mailfrom"),
            Some("odd \"quoted\"@agency.example")
        );
    }

    #[test]
    fn none_version_and_quoted_id() {
        let a = parse("Mx.Example.ORG. ; none").unwrap();
        assert_eq!(
            (a.authserv_id.as_str(), a.results.len()),
            ("mx.example.org", 0)
        );
        let a = parse("mx.example.org 1; spf=pass smtp.mailfrom=@example.net").unwrap();
        assert_eq!(
            a.method("spf").unwrap().prop("smtp.mailfrom"),
            Some("@example.net")
        );
        let a = parse("\"MX.Example.org\" (our MX); auth/1=pass smtp.auth=staff;").unwrap();
        assert_eq!(a.authserv_id, "mx.example.org");
        assert_eq!(a.method("auth").unwrap().prop("smtp.auth"), Some("staff"));
        assert_eq!(
            parse("mx.example.org; x-unknown=Whatever").unwrap().results[0].result,
            "whatever"
        );
    }

    #[test]
    fn garbage() {
        assert_eq!(read("spf=pass smtp.mailfrom=a@b"), Err(Unreadable::Id));
        assert_eq!(parse(""), None);
        assert_eq!(parse("   (only a comment) "), None);
        assert_eq!(parse("mx.example.org"), None);
        assert_eq!(parse("mx.example.org;"), None);
        assert_eq!(parse("mx.example.org spf=pass"), None);
        assert_eq!(parse("\"mx.example.org; spf=pass"), None);
        assert_eq!(
            parse("mx.example.org; spf=pass (unterminated smtp.mailfrom=a@b"),
            None
        );
        let a = parse("mx.example.org; dkim=pass header.d=a.example; spf=pass (oops").unwrap();
        assert_eq!(a.results.len(), 1);
        let a = parse("mx.example.org; dkim=pass; spf pass; dmarc=pass").unwrap();
        assert_eq!(a.results.len(), 1);
    }

    #[test]
    fn bounded_work() {
        let many = format!(
            "mx.example.org; {}",
            "dkim=pass header.d=example.com; ".repeat(700)
        );
        assert!(many.len() > 20_000);
        assert_eq!(parse(&many).unwrap().results.len(), MAX_RESINFOS);
        let long = format!(
            "mx.example.org; spf=pass smtp.mailfrom=a@b; dkim=pass header.b={}",
            "é".repeat(10_000)
        );
        let a = parse(&long).unwrap();
        assert_eq!(a.results.len(), 1, "the cut dkim result is dropped");
        assert_eq!(
            parse(&format!("mx.example.org; spf=pass ({}", "(".repeat(20_000))),
            None
        );
    }

    const ENTRY: &str = "Received: from mail.evil.example (unknown [1.2.3.4])\r\n\tby mx.langson.example (Postfix) \
                         with ESMTP id X for <c@d>; Mon, 02 Jul 2018 10:00:00 +0700\r\n";

    #[test]
    fn trusted_on_top() {
        let raw = format!(
            "Authentication-Results: mx.langson.example; spf=pass smtp.mailfrom=a@agency.example\r\n{ENTRY}\
             Subject: x\r\n\r\nAuthentication-Results: mx.langson.example; spf=fail\r\n"
        );
        let t = pick(&raw, &["MX.Langson.Example."]);
        assert_eq!(t.header.unwrap().method("spf").unwrap().result, "pass");
        assert!(t.ignored.is_empty());
    }

    #[test]
    fn untrusted_and_unreadable_ignored() {
        let raw = "authentication-results: mx.evil.example; spf=pass\nAuthentication-Results: spf=pass\n\
                   Authentication-Results: relay.langson.example; spf=pass\n\
                   X-Original-Authentication-Results: mx.langson.example; spf=pass\n";
        let t = pick(raw, &["mx.langson.example"]);
        assert_eq!(t.header, None);
        assert_eq!(
            t.ignored,
            [
                "authserv-id \"mx.evil.example\" is not trusted",
                "unreadable authserv-id",
                "authserv-id \"relay.langson.example\" is not trusted",
            ]
        );
    }

    #[test]
    fn below_outside_received() {
        let raw = "Received: from x by mail.evil.example; Mon, 02 Jul 2018 10:00:00 +0700\n\
                   Authentication-Results: mx.langson.example; spf=pass\n";
        let t = pick(raw, &["mx.langson.example"]);
        assert_eq!(t.header, None);
        assert_eq!(
            t.ignored,
            [
                "authserv-id \"mx.langson.example\" is below a Received header added outside (by mail.evil.example)"
            ]
        );
    }

    #[test]
    fn dovecot_lmtp_stamp_above() {
        let raw = "Return-Path: <a@b>\nReceived: from mx.langson.example ([127.0.0.1])\n\tby imap.host (Dovecot) \
                   with LMTP id abc\n\t(envelope-from <a@b>)\n\tfor <c@d>; Mon, 02 Jul 2018 10:00:00 +0700\n\
                   Authentication-Results: mx.langson.example; dmarc=pass header.from=agency.example\n";
        let t = pick(raw, &["mx.langson.example"]);
        assert_eq!(
            t.header
                .unwrap()
                .method("dmarc")
                .unwrap()
                .prop("header.from"),
            Some("agency.example")
        );
    }

    #[test]
    fn postfix_entry_hop() {
        let raw = format!(
            "Received: from relay.langson.example (relay.langson.example [10.0.0.2]) by mx.langson.example \
             (Postfix) with ESMTP id Y; date\n{ENTRY}Authentication-Results: mx.langson.example; spf=pass\n\
             Received: from evil-inside by mail.evil.example; date\n\
             Authentication-Results: mx.langson.example; spf=pass dkim=pass\n"
        );
        let t = pick(&raw, &["langson.example"]);
        assert_eq!(
            t.header, None,
            "mx.langson.example is ours but not a trusted id"
        );
        let t = pick(&raw, &["mx.langson.example"]);
        assert_eq!(t.header.unwrap().results.len(), 1);
        assert_eq!(
            t.ignored,
            [
                "authserv-id \"mx.langson.example\" is below a Received header beneath the entry hop \
              (mail came in from mail.evil.example (unknown))"
            ]
        );
    }

    #[test]
    fn helo_with_our_name_is_still_outside() {
        let raw = "Received: from mx.langson.example (unknown [1.2.3.4]) by mx.langson.example; d\n\
                   Received: from a by mx.langson.example; d\n\
                   Authentication-Results: mx.langson.example; spf=pass\n";
        let t = pick(raw, &["mx.langson.example"]);
        assert_eq!(t.header, None);
        assert!(t.ignored[0].contains("(mail came in from mx.langson.example (unknown))"));
    }

    #[test]
    fn loopback_hop_from_content_filter() {
        let raw = "Received: from localhost (localhost [127.0.0.1]) by mx.langson.example (Postfix) with ESMTP; d\n\
                   Received: from mx.langson.example ([127.0.0.1]) by localhost (amavisd-new) with ESMTP; d\n\
                   Received: from localhost (mail.evil.example [1.2.3.4]) by mx.langson.example (Postfix); d\n\
                   Authentication-Results: mx.langson.example; spf=pass\n";
        // The amavis stamp is "by localhost", which is not ours unless configured.
        let t = trusted(
            raw.as_bytes(),
            &strings(&["mx.langson.example"]),
            &strings(&["localhost"]),
        );
        assert!(t.header.is_some());
        // A client saying HELO localhost from outside still makes its hop the entry hop.
        let evil = "Received: from localhost (mail.evil.example [1.2.3.4]) by mx.langson.example (Postfix); d\n\
                    Authentication-Results: mx.langson.example; spf=pass\n\
                    Received: from [127.0.0.1] (unknown [1.2.3.4]) by mx.langson.example; d\n\
                    Authentication-Results: mx.langson.example; spf=pass dkim=pass\n";
        let t = pick(evil, &["mx.langson.example"]);
        assert_eq!(t.header.unwrap().results.len(), 1);
        assert_eq!(t.ignored.len(), 1);
        assert!(t.ignored[0].contains("(mail came in from localhost (mail.evil.example))"));
    }

    #[test]
    fn topmost_trusted_wins() {
        let raw = "Authentication-Results: mx.langson.example; spf=pass\n\
                   Authentication-Results: mx.langson.example; spf=fail\n";
        let t = pick(raw, &["mx.langson.example"]);
        assert_eq!(t.header.unwrap().method("spf").unwrap().result, "pass");
        assert_eq!(
            t.ignored,
            ["authserv-id \"mx.langson.example\": a trusted header was already found above"]
        );
    }

    #[test]
    fn none_configured() {
        let raw = "Authentication-Results: mx.langson.example; spf=pass\nAuthentication-Results: a.example; none\n";
        let t = pick(raw, &[]);
        assert_eq!(t.header, None);
        assert_eq!(t.ignored, ["no authserv-id is configured as trusted"]);
    }

    #[test]
    fn ignored_is_bounded() {
        let raw = "Authentication-Results: mx.evil.example; spf=pass\n".repeat(30);
        let t = pick(&raw, &["mx.langson.example"]);
        assert_eq!(t.ignored.len(), MAX_IGNORED + 1);
        assert_eq!(t.ignored.last().unwrap(), "and 10 more");
        let flood =
            "X: y\n".repeat(MAX_FIELDS) + "Authentication-Results: mx.langson.example; spf=pass\n";
        assert_eq!(pick(&flood, &["mx.langson.example"]).header, None);
    }
}
