//! The DNS and DKIM test harness itself, before intake relies on it: a private dnsmasq on
//! loopback serves a DKIM key (a 2048-bit key, split into 255-byte strings) and a DMARC policy;
//! mail signed by dkimpy and by mail-auth verifies through it (DKIM pass, DMARC pass with
//! `p=reject`), an unsigned or altered copy does not; a domain without a DMARC record reads as
//! "no record", not as a DNS error; a stopped server gives a DKIM temporary error within the
//! resolver's timeout, and a restarted one answers again.
//!
//! The recipe for a resolver that asks one name server on a loopback port (hickory-resolver
//! 0.26, re-exported as `mail_auth::hickory_resolver`; its config types are `#[non_exhaustive]`,
//! so they are built by constructor and then changed field by field):
//!
//! ```ignore
//! use mail_auth::hickory_resolver::config::{
//!     NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
//! };
//! let mut server = NameServerConfig::udp_and_tcp(addr.ip()); // UDP, then TCP on truncation
//! for connection in &mut server.connections {
//!     connection.port = addr.port(); // the constructors leave port 53
//! }
//! let config = ResolverConfig::from_name_servers(vec![server]); // no search domains
//! let mut opts = ResolverOpts::default();
//! opts.timeout = Duration::from_secs(1); // per try
//! opts.attempts = 1; // RETRIES after a failed try (default 2): 1 = two tries of 1 s each
//! opts.cache_size = 1024; // answers cached for their TTL (the default is 8192)
//! opts.use_hosts_file = ResolveHosts::Never; // DNS only, never /etc/hosts
//! let authenticator = MessageAuthenticator::new(config, opts)?; // builds a TokioResolver
//! ```
//!
//! `MessageAuthenticator::new` calls `TokioResolver::builder_with_config(config,
//! TokioRuntimeProvider::default()).with_options(opts).build()`; the resolver itself is
//! `authenticator.resolver()` (or `.0`). With the server down a lookup fails after
//! (attempts + 1) × timeout, not at once: UDP to a closed loopback port times out rather than
//! being refused. Measured here: 2.0 s with timeout 1 s and attempts 1, 1.0 s with attempts 0,
//! for one DKIM verify and again for DMARC's policy lookup.

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use common::dkim::{DkimKey, sign_dkimpy, sign_mail_auth};
use common::dns::DnsServer;
use mail_auth::dmarc::Policy;
use mail_auth::dmarc::verify::DmarcParameters;
use mail_auth::hickory_resolver::TokioResolver;
use mail_auth::hickory_resolver::config::{
    NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use mail_auth::hickory_resolver::net::{DnsError, NetError};
use mail_auth::hickory_resolver::proto::op::ResponseCode;
use mail_auth::hickory_resolver::proto::rr::RData;
use mail_auth::{
    AuthenticatedMessage, DkimResult, DmarcResult, MessageAuthenticator, SpfOutput, SpfResult,
};

const DOMAIN: &str = "langson.example";
const SELECTOR: &str = "sel";
const DKIM_NAME: &str = "sel._domainkey.langson.example";
const DMARC_NAME: &str = "_dmarc.langson.example";
const DMARC_REJECT: &str = "v=DMARC1; p=reject";
/// The resolver's timeout per query in these tests.
const TIMEOUT: Duration = Duration::from_secs(1);

/// An authenticator whose resolver asks only the name server at `addr` (the recipe above).
fn authenticator(addr: SocketAddr) -> MessageAuthenticator {
    let mut server = NameServerConfig::udp_and_tcp(addr.ip());
    for connection in &mut server.connections {
        connection.port = addr.port();
    }
    let config = ResolverConfig::from_name_servers(vec![server]);
    let mut opts = ResolverOpts::default();
    opts.timeout = TIMEOUT;
    opts.attempts = 1;
    opts.cache_size = 1024;
    opts.use_hosts_file = ResolveHosts::Never;
    MessageAuthenticator::new(config, opts).expect("the resolver builds")
}

/// A report as an agency sends it: CRLF lines, the signed headers, a short body.
fn message(from: &str) -> Vec<u8> {
    format!(
        "From: =?UTF-8?B?U+G7nyBUw6BpIGNow61uaA==?= <{from}>\r\n\
         To: intake@skhdt.langson.example\r\n\
         Subject: Bao cao thang 6\r\n\
         Date: Mon, 1 Jul 2024 09:30:00 +0700\r\n\
         Message-ID: <bc-2024-06@langson.example>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         Kinh gui So Ke hoach va Dau tu,\r\n\
         \r\n\
         Bao cao dinh kem.\r\n"
    )
    .into_bytes()
}

/// The DKIM results of a message, one per signature.
async fn dkim(auth: &MessageAuthenticator, raw: &[u8]) -> Vec<DkimResult> {
    let msg = AuthenticatedMessage::parse(raw).expect("the message parses");
    auth.verify_dkim(&msg)
        .await
        .iter()
        .map(|o| o.result().clone())
        .collect()
}

/// DMARC for a message that came with no SPF result (as intake sees mail: after the MTA).
async fn dmarc(auth: &MessageAuthenticator, raw: &[u8]) -> mail_auth::DmarcOutput {
    let msg = AuthenticatedMessage::parse(raw).expect("the message parses");
    let dkim = auth.verify_dkim(&msg).await;
    let spf = SpfOutput::new(DOMAIN.to_string()).with_result(SpfResult::None);
    auth.verify_dmarc(DmarcParameters::new(&msg, &dkim, DOMAIN, &spf))
        .await
}

/// The TXT records at `name`, each as its character-strings.
async fn txt_strings(resolver: &TokioResolver, dns: &DnsServer, name: &str) -> Vec<Vec<Vec<u8>>> {
    let lookup = resolver
        .txt_lookup(name)
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}\n{}", dns.log()));
    lookup
        .answers()
        .iter()
        .filter_map(|r| match &r.data {
            RData::TXT(t) => Some(t.txt_data.iter().map(|s| s.to_vec()).collect()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn dnsmasq_serves_txt_records_and_nxdomain() {
    let key = DkimKey::generate();
    let txt = key.txt();
    assert!(txt.len() > 255, "a 2048-bit key needs more than one string");
    let rua = "v=DMARC1; p=none; rua=mailto:a@langson.example,mailto:b@langson.example";
    let dns = DnsServer::start(&[
        (DKIM_NAME, &txt),
        (DMARC_NAME, rua),
        ("quoted.test", r#"say "hi" \ bye"#),
    ]);
    let auth = authenticator(dns.addr());
    let resolver = auth.resolver();

    // The key comes back as one record of 255-byte strings which join to the text.
    let key_record = txt_strings(resolver, &dns, "sel._domainkey.langson.example.").await;
    assert_eq!(key_record.len(), 1);
    assert!(key_record[0].len() >= 2);
    assert!(key_record[0].iter().all(|s| s.len() <= 255));
    assert_eq!(key_record[0].concat(), txt.as_bytes());
    // Commas, quotes and backslashes inside a text survive.
    assert_eq!(
        txt_strings(resolver, &dns, "_dmarc.langson.example.").await,
        [[rua.as_bytes()]]
    );
    assert_eq!(
        txt_strings(resolver, &dns, "quoted.test.").await,
        [[br#"say "hi" \ bye"#.as_slice()]]
    );

    // Unknown names under the test domains are NXDOMAIN: "no such record", not a failure.
    for name in [
        "nope.langson.example.",
        "_dmarc.other.example.",
        "_dmarc.example.",
        "x.invalid.",
    ] {
        match resolver.txt_lookup(name).await {
            Err(NetError::Dns(DnsError::NoRecordsFound(no))) => {
                assert_eq!(no.response_code, ResponseCode::NXDomain, "{name}")
            }
            other => panic!("{name}: expected NXDOMAIN, got {other:?}"),
        }
    }
    // The domain holding the records exists (an A record), and has no TXT record of its own.
    let ips: Vec<IpAddr> = resolver
        .lookup_ip("langson.example.")
        .await
        .expect("langson.example has an address")
        .iter()
        .collect();
    assert_eq!(ips, [IpAddr::V4(Ipv4Addr::LOCALHOST)]);
    match resolver.txt_lookup("langson.example.").await {
        Err(NetError::Dns(DnsError::NoRecordsFound(no))) => {
            assert_eq!(no.response_code, ResponseCode::NoError)
        }
        other => panic!("langson.example TXT: expected NODATA, got {other:?}"),
    }
    // Names outside the test domains are refused (the server forwards nothing): to mail-auth
    // a resolver error, i.e. a temporary error.
    match resolver.txt_lookup("example.com.").await {
        Err(NetError::Dns(DnsError::ResponseCode(ResponseCode::Refused))) => {}
        other => panic!("example.com: expected REFUSED, got {other:?}"),
    }
    assert!(
        dns.log()
            .contains("query[TXT] sel._domainkey.langson.example"),
        "{}",
        dns.log()
    );
}

#[tokio::test]
async fn dkim_and_dmarc_pass_through_the_private_dns() {
    let key = DkimKey::generate();
    let dns = DnsServer::start(&[(DKIM_NAME, &key.txt()), (DMARC_NAME, DMARC_REJECT)]);
    let auth = authenticator(dns.addr());
    let raw = message("so-tai-chinh@langson.example");

    for (signer, signed) in [
        ("dkimpy", sign_dkimpy(&raw, DOMAIN, SELECTOR, &key)),
        ("mail-auth", sign_mail_auth(&raw, DOMAIN, SELECTOR, &key)),
    ] {
        assert!(
            signed.ends_with(&raw),
            "{signer}: the signature is prepended"
        );
        assert_eq!(
            dkim(&auth, &signed).await,
            [DkimResult::Pass],
            "{signer}\n{}\n{}",
            String::from_utf8_lossy(&signed),
            dns.log()
        );
        let out = dmarc(&auth, &signed).await;
        assert_eq!(out.dkim_result(), &DmarcResult::Pass, "{signer}");
        assert_eq!(out.spf_result(), &DmarcResult::None, "{signer}");
        assert_eq!(out.result(), DmarcResult::Pass, "{signer}");
        assert_eq!(out.policy(), Policy::Reject, "{signer}");
        assert_eq!(out.domain(), DOMAIN);

        // Altered after signing: DKIM fails, and DMARC has no aligned pass.
        let tampered = String::from_utf8(signed)
            .unwrap()
            .replace("Bao cao thang 6", "Bao cao thang 7")
            .into_bytes();
        assert!(
            matches!(dkim(&auth, &tampered).await[..], [DkimResult::Fail(_)]),
            "{signer}"
        );
        let out = dmarc(&auth, &tampered).await;
        assert_ne!(out.dkim_result(), &DmarcResult::Pass, "{signer}");
        assert!(matches!(out.result(), DmarcResult::Fail(_)), "{signer}");
        assert_eq!(out.policy(), Policy::Reject, "{signer}");
    }

    // Unsigned: no DKIM result at all, DMARC fails and the domain says reject.
    assert!(dkim(&auth, &raw).await.is_empty());
    let out = dmarc(&auth, &raw).await;
    assert_eq!(out.dkim_result(), &DmarcResult::None);
    assert!(matches!(out.result(), DmarcResult::Fail(_)));
    assert_eq!(out.policy(), Policy::Reject);
    assert!(out.dmarc_record().is_some());
}

#[tokio::test]
async fn a_domain_without_dmarc_record_is_no_record_not_a_dns_error() {
    let key = DkimKey::generate();
    let dns = DnsServer::start(&[
        (DKIM_NAME, &key.txt()),
        (DMARC_NAME, DMARC_REJECT),
        ("sel._domainkey.other.example", &key.txt()),
    ]);
    let auth = authenticator(dns.addr());

    // Signed by its own domain (DKIM passes), but other.example publishes no DMARC policy.
    let raw = message("ke-toan@other.example");
    let signed = sign_dkimpy(&raw, "other.example", SELECTOR, &key);
    assert_eq!(dkim(&auth, &signed).await, [DkimResult::Pass]);
    for raw in [&signed, &raw] {
        let out = dmarc(&auth, raw).await;
        assert!(out.dmarc_record().is_none(), "{out:?}");
        assert_eq!(out.dkim_result(), &DmarcResult::None, "{out:?}");
        assert_eq!(out.spf_result(), &DmarcResult::None, "{out:?}");
        assert_eq!(out.result(), DmarcResult::None, "{out:?}");
        assert_eq!(out.policy(), Policy::None, "{out:?}");
    }

    // A domain the server knows nothing about reads the same.
    let out = dmarc(&auth, &message("ai-do@nowhere.test")).await;
    assert!(out.dmarc_record().is_none(), "{out:?}");
    assert_eq!(out.result(), DmarcResult::None, "{out:?}");
}

#[tokio::test]
async fn a_dns_outage_is_a_temporary_error_within_the_timeout() {
    let key = DkimKey::generate();
    let mut dns = DnsServer::start(&[(DKIM_NAME, &key.txt()), (DMARC_NAME, DMARC_REJECT)]);
    // One authenticator for the whole test, its cache enabled: the server's answers carry
    // TTL 0, so nothing cached hides the outage.
    let auth = authenticator(dns.addr());
    let signed = sign_mail_auth(
        &message("so-tai-chinh@langson.example"),
        DOMAIN,
        SELECTOR,
        &key,
    );
    assert_eq!(dkim(&auth, &signed).await, [DkimResult::Pass]);

    let addr = dns.addr();
    dns.stop();
    let msg = AuthenticatedMessage::parse(&signed).unwrap();
    let start = Instant::now();
    let dkim_out = auth.verify_dkim(&msg).await;
    let took = start.elapsed();
    assert!(
        matches!(dkim_out[..], [ref o] if matches!(o.result(), DkimResult::TempError(_))),
        "{dkim_out:?}"
    );
    assert!(took < Duration::from_secs(5), "DKIM verify took {took:?}");
    eprintln!("DKIM verify during the outage took {took:?} (timeout {TIMEOUT:?}, 1 retry)");

    // DMARC cannot find the policy either: a temporary error, never "no record".
    let spf = SpfOutput::new(DOMAIN.to_string()).with_result(SpfResult::None);
    let start = Instant::now();
    let out = auth
        .verify_dmarc(DmarcParameters::new(&msg, &dkim_out, DOMAIN, &spf))
        .await;
    let took = start.elapsed();
    assert!(
        matches!(out.dkim_result(), DmarcResult::TempError(_)),
        "{out:?}"
    );
    assert!(matches!(out.result(), DmarcResult::TempError(_)), "{out:?}");
    assert!(out.dmarc_record().is_none(), "{out:?}");
    assert!(took < Duration::from_secs(5), "DMARC verify took {took:?}");
    eprintln!("DMARC verify during the outage took {took:?}");

    // The outage ends: the same resolver passes again.
    dns.restart();
    assert_eq!(dns.addr(), addr);
    assert_eq!(dkim(&auth, &signed).await, [DkimResult::Pass]);
}
