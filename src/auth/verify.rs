//! # The authentication adapter: DNS lookups through mail-auth
//!
//! DKIM keys and DMARC policies come from DNS, through the configured name servers (else the
//! system's) with hickory's answer cache. A batch of messages is checked concurrently under
//! one deadline, so a DNS outage costs a batch at most `[auth] timeout_ms`; after an outage
//! the resolver is left alone for a while and messages are marked `temperror` at once.
//! Without configured name servers, the reserved test domains (RFC 6761: `.example`,
//! `.test`, `.invalid`, `.localhost`) are never looked up: the public DNS has no answer.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use mail_auth::hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use mail_auth::{
    AuthenticatedMessage, DkimResult, DmarcResult, MessageAuthenticator, SpfOutput, SpfResult,
    dmarc::Policy, dmarc::verify::DmarcParameters,
};
use tracing::warn;

use super::results::{self, AuthResults};
use super::{
    Authentication, DkimCheck, DmarcCheck, InnerAuth, SpfCheck, SpfSays, Verdict, aligned,
};
use crate::config::auth::Auth;

/// How long the resolver is left alone after it failed to answer.
const BACKOFF: Duration = Duration::from_secs(30);
/// Attached messages checked per message, at most.
const MAX_INNER: usize = 8;
/// Domains remembered as not answering, at most.
const MAX_DOWN: usize = 1024;
/// Signatures checked per message, at most (each costs a lookup).
const MAX_SIGNATURES: usize = 8;

/// Checks messages' senders; one per process, shared by every pass.
pub struct Authenticator {
    settings: Auth,
    runtime: Option<tokio::runtime::Runtime>,
    resolver: Option<MessageAuthenticator>,
    /// Why DNS cannot be used at all (no system configuration), when that is so.
    unusable: Option<String>,
    /// Domains whose lookups did not answer, and until when they are left alone: per domain,
    /// so one sender's unanswering name servers never switch checks off for everyone else.
    down_until: Mutex<HashMap<String, Instant>>,
}

impl Authenticator {
    /// An authenticator with these settings. A resolver that cannot be built (no system DNS
    /// configuration) is not an error: every message is then `temperror`, and says why.
    pub fn new(settings: &Auth) -> Authenticator {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("intake-dns")
            .enable_all()
            .build();
        let runtime = match runtime {
            Ok(rt) => rt,
            Err(e) => {
                return Authenticator {
                    settings: settings.clone(),
                    runtime: None,
                    resolver: None,
                    unusable: Some(format!("cannot start the DNS runtime: {e}")),
                    down_until: Mutex::new(HashMap::new()),
                };
            }
        };
        let built = {
            let _guard = runtime.enter();
            resolver(settings)
        };
        let (resolver, unusable) = match built {
            Ok(r) => (Some(r), None),
            Err(e) => {
                warn!(error = %e, "no DNS resolver: sender authentication will say temperror");
                (None, Some(e))
            }
        };
        Authenticator {
            settings: settings.clone(),
            runtime: Some(runtime),
            resolver,
            unusable,
            down_until: Mutex::new(HashMap::new()),
        }
    }

    /// Authenticates each raw message (None for items that are not mail), concurrently, under
    /// one deadline.
    pub fn check_all(&self, raws: &[Option<&[u8]>]) -> Vec<Option<Authentication>> {
        if raws.iter().all(Option::is_none) {
            return raws.iter().map(|_| None).collect();
        }
        let Some(rt) = &self.runtime else {
            return raws
                .iter()
                .map(|r| r.map(|raw| self.unavailable(raw)))
                .collect();
        };
        // block_on may not run inside another runtime's thread: use a thread of our own.
        std::thread::scope(|s| {
            s.spawn(|| {
                rt.block_on(async {
                    let checks = raws.iter().map(|r| async move {
                        match r {
                            Some(raw) => Some(self.check(raw).await),
                            None => None,
                        }
                    });
                    futures::future::join_all(checks).await
                })
            })
            .join()
            .unwrap_or_else(|_| raws.iter().map(|_| None).collect())
        })
    }

    /// Authenticates one raw message.
    pub fn check_one(&self, raw: &[u8]) -> Authentication {
        self.check_all(&[Some(raw)])
            .pop()
            .flatten()
            .unwrap_or_default()
    }

    /// Asks the resolver for a domain's DMARC record, for `intake doctor`: what it answered,
    /// or why it did not.
    pub fn probe(&self, domain: &str) -> Result<String, String> {
        if self.settings.nameservers.is_empty() && is_reserved(domain) {
            return Ok(format!(
                "{domain} is a reserved test domain: not looked up in the public DNS"
            ));
        }
        let (Some(rt), Some(resolver)) = (&self.runtime, &self.resolver) else {
            return Err(self
                .unusable
                .clone()
                .unwrap_or_else(|| "DNS is not available".into()));
        };
        let name = format!("_dmarc.{}.", domain.trim_end_matches('.'));
        let timeout = self.settings.timeout;
        let answer = std::thread::scope(|s| {
            s.spawn(|| {
                // The timer is made inside the runtime, as it must be.
                rt.block_on(async {
                    tokio::time::timeout(timeout, resolver.txt_raw_lookup(name.as_str())).await
                })
            })
            .join()
        })
        .map_err(|_| "the lookup failed".to_string())?;
        match answer {
            Ok(Ok(txt)) => Ok(format!(
                "_dmarc.{domain}: {}",
                crate::core::text::bounded(&String::from_utf8_lossy(&txt), 100)
            )),
            Ok(Err(mail_auth::Error::Dns(mail_auth::DnsError::RecordNotFound(_)))) => Ok(format!(
                "_dmarc.{domain}: no record (the name server answered)"
            )),
            Ok(Err(e)) => Err(format!("_dmarc.{domain}: {e}")),
            Err(_) => Err(format!(
                "_dmarc.{domain}: no answer within {} ms",
                timeout.as_millis()
            )),
        }
    }

    fn unavailable(&self, raw: &[u8]) -> Authentication {
        let mut a = facts_without_dns(raw, &self.settings);
        a.notes.push(
            self.unusable
                .clone()
                .unwrap_or_else(|| "DNS is not available".into()),
        );
        a
    }

    fn is_down(&self, domain: &str) -> bool {
        let mut down = self.down_until.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        down.retain(|_, until| *until > now);
        down.contains_key(domain)
    }

    fn mark_down(&self, domain: &str) {
        let mut down = self.down_until.lock().unwrap_or_else(|e| e.into_inner());
        if down.len() >= MAX_DOWN {
            down.clear();
        }
        down.insert(domain.to_string(), Instant::now() + BACKOFF);
    }

    async fn check(&self, raw: &[u8]) -> Authentication {
        let limited = limit_signatures(raw);
        let raw: &[u8] = &limited;
        let trusted = results::trusted(
            raw,
            &self.settings.trusted_authserv_ids,
            &self.settings.internal_hosts,
        );
        let Some(message) = AuthenticatedMessage::parse(raw) else {
            let mut a = Authentication {
                ignored: trusted.ignored,
                ..Default::default()
            };
            a.notes
                .push("the headers cannot be read for authentication".into());
            return a;
        };
        let from_domain = from_domain(&message);
        let mut a = Authentication {
            domain: from_domain.clone(),
            ignored: trusted.ignored.clone(),
            ..Default::default()
        };
        let Some(from) = from_domain else {
            a.notes.push("no From address to authenticate".into());
            return a;
        };
        let (spf, spf_output, mailfrom) = spf_of(trusted.header.as_ref(), &message, &from);
        a.spf = spf;
        let reported = reported_dmarc(trusted.header.as_ref());
        let local_only = self.settings.nameservers.is_empty() && is_reserved(&from);
        let resolver = match &self.resolver {
            Some(r) if !local_only && !self.is_down(&from) => r,
            _ => {
                if local_only {
                    a.notes.push(format!(
                        "{from} is a reserved test domain: not looked up in the public DNS"
                    ));
                } else if let Some(why) = &self.unusable {
                    a.notes.push(why.clone());
                } else {
                    a.notes.push(format!(
                        "DNS did not answer for {from} a moment ago; not asked again for {} s",
                        BACKOFF.as_secs()
                    ));
                }
                a.dkim = unverified_signatures(&message, &from, local_only);
                a.dmarc = reported.clone();
                let spf = SpfSays::of(a.spf.as_ref(), &from);
                a.verdict = if local_only {
                    super::decide(&a.dkim, spf, None, reported.as_ref())
                } else {
                    match super::decide(&[], spf, None, reported.as_ref()) {
                        Verdict::None => Verdict::TempError,
                        v => v,
                    }
                };
                a.inner = inner_without_dns(raw);
                return a;
            }
        };
        let work = async {
            let dkim_out = resolver.verify_dkim(&message).await;
            let dmarc_out = resolver
                .verify_dmarc(DmarcParameters::new(
                    &message,
                    &dkim_out,
                    &mailfrom,
                    &spf_output,
                ))
                .await;
            let dkim = dkim_checks(&dkim_out, &from);
            let inner = self.inner(resolver, raw).await;
            (dkim, dmarc_check(&dmarc_out), inner)
        };
        match tokio::time::timeout(self.settings.timeout, work).await {
            Ok((dkim, own, inner)) => {
                a.verdict = super::decide(
                    &dkim,
                    SpfSays::of(a.spf.as_ref(), &from),
                    own.as_ref(),
                    reported.as_ref(),
                );
                if a.verdict == Verdict::TempError {
                    self.mark_down(&from);
                }
                a.dkim = dkim;
                // Our server's word is shown when it decided, else our own evaluation.
                a.dmarc = match (&reported, own) {
                    (Some(r), _) if a.verdict != Verdict::Pass || r.result == "pass" => {
                        Some(r.clone())
                    }
                    (_, own) => own,
                };
                a.inner = inner;
            }
            Err(_) => {
                self.mark_down(&from);
                a.notes.push(format!(
                    "DNS did not answer within {} ms",
                    self.settings.timeout.as_millis()
                ));
                a.dkim = unverified_signatures(&message, &from, false);
                a.dmarc = reported.clone();
                a.verdict = match super::decide(
                    &[],
                    SpfSays::of(a.spf.as_ref(), &from),
                    None,
                    reported.as_ref(),
                ) {
                    Verdict::None => Verdict::TempError,
                    v => v,
                };
                a.inner = inner_without_dns(raw);
            }
        }
        a
    }

    /// Each attached message's own DKIM signatures, aligned with its own From.
    async fn inner(&self, resolver: &MessageAuthenticator, raw: &[u8]) -> Vec<InnerAuth> {
        let mut out = Vec::new();
        for inner_raw in attached_messages(raw) {
            let inner_raw = limit_signatures(&inner_raw).into_owned();
            let Some(m) = AuthenticatedMessage::parse(&inner_raw) else {
                continue;
            };
            let Some(from) = m.froms().first().map(|f| f.trim().to_lowercase()) else {
                continue;
            };
            let domain = from.rsplit_once('@').map(|(_, d)| d.to_string());
            let dkim = match (&domain, m.dkim_headers.is_empty()) {
                (Some(d), false) => dkim_checks(&resolver.verify_dkim(&m).await, d),
                _ => Vec::new(),
            };
            let verdict = if dkim.iter().any(|k| k.result == "pass" && k.aligned) {
                Verdict::Pass
            } else if dkim.iter().any(|k| k.result == "temperror" && k.aligned) {
                Verdict::TempError
            } else {
                Verdict::None
            };
            out.push(InnerAuth {
                from,
                verdict,
                dkim,
            });
        }
        out
    }
}

/// Builds the resolver: the configured name servers, else the system's.
fn resolver(settings: &Auth) -> Result<MessageAuthenticator, String> {
    let mut opts = ResolverOpts::default();
    // Two tries of each query (hickory's `attempts` counts retries) within the budget; the
    // whole check of a batch is bounded by `settings.timeout` in any case.
    opts.timeout = settings.timeout / 2;
    opts.attempts = 1;
    opts.use_hosts_file = mail_auth::hickory_resolver::config::ResolveHosts::Never;
    opts.edns0 = true;
    opts.cache_size = 4096;
    opts.positive_min_ttl = Some(settings.cache);
    opts.negative_min_ttl = Some(settings.cache.min(Duration::from_secs(60)));
    opts.positive_max_ttl = Some(Duration::from_secs(86_400));
    let config = if settings.nameservers.is_empty() {
        let (config, system) = mail_auth::hickory_resolver::system_conf::read_system_conf()
            .map_err(|e| {
                format!("cannot read the system's DNS configuration ({e}); set [auth] nameservers")
            })?;
        opts.ndots = system.ndots;
        config
    } else {
        ResolverConfig::from_name_servers(
            settings
                .nameservers
                .iter()
                .map(|a: &SocketAddr| {
                    let mut ns = NameServerConfig::udp_and_tcp(a.ip());
                    for c in &mut ns.connections {
                        c.port = a.port();
                    }
                    ns
                })
                .collect(),
        )
    };
    MessageAuthenticator::new(config, opts).map_err(|e| format!("cannot build a DNS resolver: {e}"))
}

/// A message with its DKIM-Signature headers beyond the first [`MAX_SIGNATURES`] left out:
/// each costs a hash of the whole body and a lookup, and a sender may write thousands.
fn limit_signatures(raw: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    const NAME: &[u8] = b"dkim-signature:";
    let head_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 2)
        .or_else(|| raw.windows(2).position(|w| w == b"\n\n").map(|p| p + 1))
        .unwrap_or(raw.len());
    // A header's name up to its colon, blanks removed, as lenient readers take it.
    let is_signature = |line: &[u8]| {
        if line.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
            return false;
        }
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            return false;
        };
        let name: Vec<u8> = line[..=colon]
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        name.eq_ignore_ascii_case(NAME)
    };
    let head = &raw[..head_end];
    let count = head
        .split(|b| *b == b'\n')
        .filter(|l| is_signature(l))
        .count();
    if count <= MAX_SIGNATURES {
        return std::borrow::Cow::Borrowed(raw);
    }
    // Keep whole fields: a signature's folded lines go with it.
    let mut out = Vec::with_capacity(raw.len());
    let mut kept = 0;
    let mut dropping = false;
    for line in head.split_inclusive(|b| *b == b'\n') {
        let continuation = line.first().is_some_and(|b| *b == b' ' || *b == b'\t');
        if !continuation {
            dropping = is_signature(line) && {
                kept += 1;
                kept > MAX_SIGNATURES
            };
        }
        if !dropping {
            out.extend_from_slice(line);
        }
    }
    out.extend_from_slice(&raw[head_end..]);
    std::borrow::Cow::Owned(out)
}

/// RFC 6761 names that no public name server answers for.
fn is_reserved(domain: &str) -> bool {
    let tld = domain
        .trim_end_matches('.')
        .rsplit('.')
        .next()
        .unwrap_or_default();
    matches!(
        tld.to_ascii_lowercase().as_str(),
        "example" | "test" | "invalid" | "localhost"
    )
}

fn from_domain(message: &AuthenticatedMessage<'_>) -> Option<String> {
    message
        .froms()
        .first()
        .and_then(|f| f.rsplit_once('@'))
        .map(|(_, d)| d.trim().trim_end_matches('>').to_lowercase())
        .filter(|d| !d.is_empty())
}

/// SPF from the trusted header, as mail-auth's DMARC evaluation wants it, and the envelope
/// sender's domain (from that header, else the Return-Path our delivery agent wrote).
fn spf_of(
    header: Option<&AuthResults>,
    message: &AuthenticatedMessage<'_>,
    from: &str,
) -> (Option<SpfCheck>, SpfOutput, String) {
    let return_path = message
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(b"Return-Path"))
        .and_then(|(_, v)| std::str::from_utf8(v).ok())
        .and_then(|v| v.trim().trim_matches(['<', '>']).rsplit_once('@'))
        .map(|(_, d)| d.trim().to_lowercase());
    let Some((h, spf)) = header.and_then(|h| h.method("spf").map(|s| (h, s))) else {
        let domain = return_path.unwrap_or_else(|| from.to_string());
        return (
            None,
            SpfOutput::new(domain.clone()).with_result(SpfResult::None),
            domain,
        );
    };
    let domain = spf
        .prop("smtp.mailfrom")
        .map(|m| m.rsplit_once('@').map_or(m, |(_, d)| d))
        .or_else(|| spf.prop("smtp.helo"))
        .map(|d| d.trim().to_lowercase())
        .or(return_path)
        .unwrap_or_else(|| from.to_string());
    let result = match spf.result.as_str() {
        "pass" => SpfResult::Pass,
        "fail" | "hardfail" => SpfResult::Fail,
        "softfail" => SpfResult::SoftFail,
        "neutral" => SpfResult::Neutral,
        "temperror" => SpfResult::TempError,
        "permerror" => SpfResult::PermError,
        _ => SpfResult::None,
    };
    (
        Some(SpfCheck {
            result: spf.result.clone(),
            domain: domain.clone(),
            by: h.authserv_id.clone(),
        }),
        SpfOutput::new(domain.clone()).with_result(result),
        domain,
    )
}

/// The DMARC result our trusted server reported, when it reported one.
fn reported_dmarc(header: Option<&AuthResults>) -> Option<DmarcCheck> {
    let h = header?;
    let d = h.method("dmarc")?;
    let policy = d
        .prop("policy.published-domain-policy")
        .or_else(|| d.prop("policy.dmarc"))
        .map(str::to_ascii_lowercase);
    Some(DmarcCheck {
        result: d.result.clone(),
        policy,
        by: h.authserv_id.clone(),
    })
}

fn dkim_checks(out: &[mail_auth::DkimOutput<'_>], from: &str) -> Vec<DkimCheck> {
    out.iter()
        .take(MAX_SIGNATURES)
        .map(|o| {
            let (result, reason) = match o.result() {
                DkimResult::Pass => ("pass", None),
                DkimResult::Neutral(e) => ("neutral", Some(e.to_string())),
                DkimResult::Fail(e) => ("fail", Some(e.to_string())),
                DkimResult::PermError(e) => ("permerror", Some(e.to_string())),
                DkimResult::TempError(e) => ("temperror", Some(e.to_string())),
                DkimResult::None => ("none", None),
            };
            let (domain, selector) = o
                .signature()
                .map(|s| (s.d.to_lowercase(), s.s.clone()))
                .unwrap_or_default();
            DkimCheck {
                aligned: aligned(&domain, from),
                domain,
                selector,
                result: result.into(),
                reason,
            }
        })
        .collect()
}

/// The signatures a message carries, not verified (no DNS): `temperror`, or `none` for a
/// reserved test domain that is never looked up.
fn unverified_signatures(
    message: &AuthenticatedMessage<'_>,
    from: &str,
    local_only: bool,
) -> Vec<DkimCheck> {
    message
        .dkim_headers
        .iter()
        .take(MAX_SIGNATURES)
        .map(|h| {
            let domain = h.header.d.to_lowercase();
            DkimCheck {
                aligned: aligned(&domain, from),
                selector: h.header.s.clone(),
                domain,
                result: if local_only { "none" } else { "temperror" }.into(),
                reason: Some("not verified: no DNS lookup".into()),
            }
        })
        .collect()
}

fn dmarc_check(out: &mail_auth::DmarcOutput) -> Option<DmarcCheck> {
    let record = out.dmarc_record().is_some();
    let result = match out.result() {
        DmarcResult::Pass => "pass",
        DmarcResult::Fail(_) => "fail",
        DmarcResult::TempError(_) => "temperror",
        DmarcResult::PermError(_) => "permerror",
        DmarcResult::None if record => "fail",
        DmarcResult::None => "none",
    };
    let policy = record.then(|| {
        match out.policy() {
            Policy::Reject => "reject",
            Policy::Quarantine => "quarantine",
            _ => "none",
        }
        .to_string()
    });
    Some(DmarcCheck {
        result: result.into(),
        policy,
        by: "intake".into(),
    })
}

/// Facts that need no DNS, for when there is none at all.
fn facts_without_dns(raw: &[u8], settings: &Auth) -> Authentication {
    let trusted = results::trusted(
        raw,
        &settings.trusted_authserv_ids,
        &settings.internal_hosts,
    );
    let Some(message) = AuthenticatedMessage::parse(raw) else {
        return Authentication {
            verdict: Verdict::TempError,
            ignored: trusted.ignored,
            ..Default::default()
        };
    };
    let domain = from_domain(&message);
    let from = domain.clone().unwrap_or_default();
    let (spf, _, _) = spf_of(trusted.header.as_ref(), &message, &from);
    let reported = reported_dmarc(trusted.header.as_ref());
    let verdict = match super::decide(
        &[],
        SpfSays::of(spf.as_ref(), &from),
        None,
        reported.as_ref(),
    ) {
        Verdict::None => Verdict::TempError,
        v => v,
    };
    Authentication {
        verdict,
        dkim: unverified_signatures(&message, &from, false),
        domain,
        spf,
        dmarc: reported,
        ignored: trusted.ignored,
        inner: inner_without_dns(raw),
        ..Default::default()
    }
}

fn inner_without_dns(raw: &[u8]) -> Vec<InnerAuth> {
    attached_messages(raw)
        .iter()
        .filter_map(|r| {
            let m = AuthenticatedMessage::parse(r)?;
            Some(InnerAuth {
                from: m.froms().first()?.trim().to_lowercase(),
                verdict: Verdict::None,
                dkim: Vec::new(),
            })
        })
        .collect()
}

/// The raw bytes of each attached message (message/rfc822), depth first, at most a few.
fn attached_messages(raw: &[u8]) -> Vec<Vec<u8>> {
    // Parsing decodes every attachment: not worth it for the many messages that attach none.
    const RFC822: &[u8] = b"message/rfc822";
    if !raw
        .windows(RFC822.len())
        .any(|w| w.eq_ignore_ascii_case(RFC822))
    {
        return Vec::new();
    }
    let Some(message) = mail_parser::MessageParser::default().parse(raw) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    collect_inner(&message, 0, &mut out);
    out
}

fn collect_inner(message: &mail_parser::Message<'_>, depth: usize, out: &mut Vec<Vec<u8>>) {
    if depth >= 3 {
        return;
    }
    for part in &message.parts {
        if out.len() >= MAX_INNER {
            return;
        }
        if let mail_parser::PartType::Message(inner) = &part.body {
            out.push(inner.raw_message().to_vec());
            collect_inner(inner, depth + 1, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_of_signatures_cost_no_more_than_a_few() {
        let mut raw = String::new();
        for i in 0..5000 {
            raw.push_str(&format!(
                "DKIM-Signature: v=1; a=rsa-sha256; d=langson.example; s=s{i}; l={i};\r\n\th=from; bh=AAAA; b=AAAA\r\n"
            ));
        }
        for i in 0..100 {
            raw.push_str(&format!(
                "dkim-signature :v=1; d=langson.example; s=t{i}\r\n"
            ));
        }
        raw.push_str("From: <so-y-te@langson.example>\r\nSubject: x\r\n\r\nbody\r\n");
        let limited = limit_signatures(raw.as_bytes());
        let text = String::from_utf8_lossy(&limited);
        assert_eq!(text.matches("DKIM-Signature:").count(), MAX_SIGNATURES);
        assert_eq!(text.matches("dkim-signature :").count(), 0);
        assert_eq!(text.matches("\th=from").count(), MAX_SIGNATURES);
        assert!(text.ends_with("Subject: x\r\n\r\nbody\r\n"));
        let started = Instant::now();
        let a = Authenticator::new(&Auth::default()).check_one(raw.as_bytes());
        assert!(a.dkim.len() <= MAX_SIGNATURES, "{}", a.dkim.len());
        assert!(started.elapsed() < Duration::from_secs(2));
        // A message with few is left as it is.
        let plain = b"From: <a@b.example>\r\n\r\nx";
        assert!(matches!(
            limit_signatures(plain),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn a_domain_that_does_not_answer_is_left_alone_not_every_domain() {
        let auth = Authenticator::new(&Auth::default());
        auth.mark_down("poison.example");
        assert!(auth.is_down("poison.example"));
        assert!(!auth.is_down("langson.example"));
    }

    #[test]
    fn reserved_names_are_not_looked_up() {
        assert!(is_reserved("langson.example"));
        assert!(is_reserved("a.test."));
        assert!(!is_reserved("langson.gov.vn"));
    }

    #[test]
    fn test_domains_are_decided_without_dns_and_without_delay() {
        let auth = Authenticator::new(&Auth::default());
        let raw = b"From: So Y te <so-y-te@langson.example>\r\nTo: a@b.example\r\nSubject: x\r\n\r\nbody\r\n";
        let started = Instant::now();
        let a = auth.check_one(raw);
        assert_eq!(a.verdict, Verdict::None, "{a:?}");
        assert_eq!(a.domain.as_deref(), Some("langson.example"));
        assert!(started.elapsed() < Duration::from_secs(1));
        assert!(a.notes[0].contains("reserved"), "{:?}", a.notes);
    }

    #[test]
    fn a_trusted_report_of_failure_holds_without_dns() {
        let settings = Auth {
            trusted_authserv_ids: vec!["mx.langson.example".into()],
            ..Auth::default()
        };
        let auth = Authenticator::new(&settings);
        let raw = b"Authentication-Results: mx.langson.example; dmarc=fail header.from=langson.example; spf=fail smtp.mailfrom=x@evil.example\r\nFrom: <so-tai-chinh@langson.example>\r\nSubject: x\r\n\r\nbody\r\n";
        let a = auth.check_one(raw);
        assert_eq!(a.verdict, Verdict::Fail, "{a:?}");
        assert_eq!(a.spf.as_ref().unwrap().domain, "evil.example");
        // The same header from an id not configured is ignored.
        let a = Authenticator::new(&Auth::default()).check_one(raw);
        assert_eq!(a.verdict, Verdict::None, "{a:?}");
        assert!(!a.ignored.is_empty());
    }
}
