//! Sender-authentication benchmark: the time `intake::auth::Authenticator` adds per message.
//!
//! A private DNS server (Debian's dnsmasq on loopback, the tests' `tests/common/dns.rs`)
//! publishes a fresh 2048-bit DKIM key at `sel._domainkey.langson.example` and
//! `v=DMARC1; p=reject` at `_dmarc.langson.example`. N distinct messages (own Message-ID and
//! text; three fixture workbooks attached, about 32 KB of base64; about 34 KB each) come from
//! `so-y-te@langson.example`, every other one signed by mail-auth's signer for
//! langson.example, the rest unsigned. Each verdict is checked (signed: pass, unsigned: fail
//! under p=reject) so that every timing is of the whole lookup-and-verify path. Measured:
//!
//! - **cold**: a fresh `Authenticator` per message (empty cache), the `check_one` call timed
//!   (building the authenticator, a runtime and a resolver, is reported apart);
//! - **warm**: one `Authenticator`, a warm-up pass over a few messages, then `check_one` on
//!   every message. dnsmasq answers with TTL 0, but the authenticator keeps every answer at
//!   least `Auth.cache` (300 s by default), so this is the cached path: the DNS queries
//!   dnsmasq logged during the pass are counted and printed (0 expected);
//! - **batch**: `check_all` over batches of 64 (as the ingest pass does), warm cache; the cost
//!   per message is the batch's time / 64, median and p99 over the full batches;
//! - **no DNS**: the embedded default (no name servers; a reserved `.example` domain is never
//!   looked up): `check_one`, the parse-only floor; and `check_all` over batches of 64, what
//!   the ingest pass pays per message for mail from a test domain.
//!
//! Percentiles are nearest-rank over the timed calls, in microseconds.
//!
//! `cargo run --release --example bench_auth [-- N] [--json]` (N defaults to 2000; needs
//! `/usr/sbin/dnsmasq`, package `dnsmasq-base`, and `openssl` for the key)

#[path = "../tests/common/dkim.rs"]
mod dkim;
#[path = "../tests/common/dns.rs"]
mod dns;

use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine;
use dkim::{DkimKey, sign_mail_auth};
use dns::DnsServer;
use intake::auth::{Authenticator, Verdict};
use intake::config::auth::Auth;

const DOMAIN: &str = "langson.example";
const SELECTOR: &str = "sel";
/// Messages per `check_all` call, as the ingest pass batches them.
const BATCH: usize = 64;
/// Messages checked before the warm pass is timed.
const WARM_UP: usize = 4;
/// The attached workbooks (fixtures), about 24 KB together.
const WORKBOOKS: [&str; 3] = [
    "01-PL1_SoYTe.xlsx",
    "02-Phu_luc_II_-_So_Tai_chinh.xlsx",
    "03-Phu_luc_III_-_Ke_hoach_nam_2019_-_So_Cong_Thuong.xlsx",
];

/// One message to check.
struct Message {
    raw: Vec<u8>,
    signed: bool,
}

/// Timings of one measurement, split by signed and unsigned messages.
#[derive(Default)]
struct Split {
    signed: Vec<Duration>,
    unsigned: Vec<Duration>,
}

impl Split {
    fn push(&mut self, signed: bool, d: Duration) {
        if signed {
            self.signed.push(d);
        } else {
            self.unsigned.push(d);
        }
    }
}

fn main() {
    let mut n = 2000usize;
    let mut json = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--json" => json = true,
            a => {
                n = a
                    .parse()
                    .unwrap_or_else(|_| panic!("usage: bench_auth [N] [--json], not {a:?}"))
            }
        }
    }
    assert!(
        n >= 2 * BATCH,
        "use at least {} messages (two batches)",
        2 * BATCH
    );
    let load_before = loadavg();

    let key = DkimKey::generate();
    let dns = DnsServer::start(&[
        (&format!("{SELECTOR}._domainkey.{DOMAIN}"), &key.txt()),
        (&format!("_dmarc.{DOMAIN}"), "v=DMARC1; p=reject"),
    ]);
    let messages = build(n, &key);
    let size = messages.iter().map(|m| m.raw.len()).sum::<usize>() / n;
    let with_dns = Auth {
        nameservers: vec![dns.addr()],
        ..Default::default()
    };

    // a) cold: a fresh authenticator (runtime, resolver, empty cache) per message.
    let mut cold = Split::default();
    let mut build_times = Vec::with_capacity(n);
    for m in &messages {
        let started = Instant::now();
        let auth = Authenticator::new(&with_dns);
        build_times.push(started.elapsed());
        let started = Instant::now();
        let a = auth.check_one(&m.raw);
        cold.push(m.signed, started.elapsed());
        expect(m, a.verdict, "cold");
    }

    // b) warm: one authenticator, its cache filled by a few messages first.
    let auth = Authenticator::new(&with_dns);
    for m in &messages[..WARM_UP] {
        expect(m, auth.check_one(&m.raw).verdict, "warm-up");
    }
    let queries_before = queries(&dns);
    let mut warm = Split::default();
    for m in &messages {
        let started = Instant::now();
        let a = auth.check_one(&m.raw);
        warm.push(m.signed, started.elapsed());
        expect(m, a.verdict, "warm");
    }
    let warm_queries = queries(&dns) - queries_before;

    // c) batch: check_all over batches of 64, the same warm authenticator.
    let queries_before = queries(&dns);
    let mut per_message = Vec::new();
    for chunk in messages.chunks(BATCH).filter(|c| c.len() == BATCH) {
        let raws: Vec<Option<&[u8]>> = chunk.iter().map(|m| Some(&m.raw[..])).collect();
        let started = Instant::now();
        let out = auth.check_all(&raws);
        per_message.push(started.elapsed() / BATCH as u32);
        for (m, a) in chunk.iter().zip(out) {
            expect(m, a.expect("a verdict for each message").verdict, "batch");
        }
    }
    let batch_queries = queries(&dns) - queries_before;
    drop(auth);

    // d) no DNS: the embedded default; the reserved test domain is never looked up.
    let local = Authenticator::new(&Auth::default());
    let mut no_dns = Split::default();
    for m in &messages {
        let started = Instant::now();
        let a = local.check_one(&m.raw);
        no_dns.push(m.signed, started.elapsed());
        assert!(
            a.notes.iter().any(|note| note.contains("reserved")),
            "no DNS: the test domain should not be looked up: {a:?}"
        );
    }
    let mut local_batches = Vec::new();
    for chunk in messages.chunks(BATCH).filter(|c| c.len() == BATCH) {
        let raws: Vec<Option<&[u8]>> = chunk.iter().map(|m| Some(&m.raw[..])).collect();
        let started = Instant::now();
        let out = local.check_all(&raws);
        local_batches.push(started.elapsed() / BATCH as u32);
        assert!(
            out.iter().all(Option::is_some),
            "a verdict for each message"
        );
    }
    let load_after = loadavg();

    let rows = [
        ("cold", "signed", stats(&mut cold.signed)),
        ("cold", "unsigned", stats(&mut cold.unsigned)),
        ("warm", "signed", stats(&mut warm.signed)),
        ("warm", "unsigned", stats(&mut warm.unsigned)),
        ("batch of 64, warm", "mixed", stats(&mut per_message)),
        ("no DNS", "signed", stats(&mut no_dns.signed)),
        ("no DNS", "unsigned", stats(&mut no_dns.unsigned)),
        ("no DNS, batch of 64", "mixed", stats(&mut local_batches)),
    ];
    let build = stats(&mut build_times);
    if json {
        let rows: Vec<serde_json::Value> = rows
            .iter()
            .map(|(case, kind, s)| {
                serde_json::json!({
                    "case": case, "messages": kind, "count": s.count,
                    "p50_us": tenth(s.p50), "p99_us": tenth(s.p99), "mean_us": tenth(s.mean),
                })
            })
            .collect();
        let out = serde_json::json!({
            "messages": n,
            "bytes_per_message": size,
            "batch": BATCH,
            "authenticator_new_p50_us": tenth(build.p50),
            "dns_queries_warm": warm_queries,
            "dns_queries_batch": batch_queries,
            "loadavg": [load_before, load_after],
            "rows": rows,
        });
        println!("{}", serde_json::to_string_pretty(&out).unwrap());
        return;
    }
    println!(
        "{n} messages of {:.1} KB (half signed, rsa-sha256 2048 bits), DNS: dnsmasq on {}",
        size as f64 / 1000.0,
        dns.addr()
    );
    println!("load average before {load_before:.2}, after {load_after:.2}");
    println!();
    println!(
        "{:<21} {:<9} {:>6} {:>9} {:>9} {:>9}",
        "case", "messages", "count", "p50 µs", "p99 µs", "mean µs"
    );
    for (case, kind, s) in &rows {
        println!(
            "{case:<21} {kind:<9} {:>6} {:>9.0} {:>9.0} {:>9.0}",
            s.count, s.p50, s.p99, s.mean
        );
    }
    println!();
    println!(
        "cold excludes Authenticator::new (runtime and resolver): p50 {:.0} µs, p99 {:.0} µs",
        build.p50, build.p99
    );
    println!(
        "batches: per message = time of check_all over {BATCH} / {BATCH}, over {} full batches",
        rows[4].2.count
    );
    println!(
        "DNS queries dnsmasq answered during the warm pass: {warm_queries}, during the batches: \
         {batch_queries} (answers have TTL 0; the authenticator keeps them {} s)",
        with_dns.cache.as_secs()
    );
}

/// The messages: even ones signed, odd ones not; each with its own Message-ID and text.
fn build(n: usize, key: &DkimKey) -> Vec<Message> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("mailbox-fixtures/workbooks");
    let attachments: Vec<(&str, String)> = WORKBOOKS
        .iter()
        .map(|name| {
            let bytes = std::fs::read(dir.join(name))
                .unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()));
            let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
            let lines: Vec<&str> = b64
                .as_bytes()
                .chunks(76)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect();
            (*name, lines.join("\r\n"))
        })
        .collect();
    (0..n)
        .map(|i| {
            let mut raw = format!(
                "From: So Y te Lang Son <so-y-te@{DOMAIN}>\r\n\
                 To: baocao@skhdt.langson.example\r\n\
                 Subject: Bao cao PL1 - So Y te - lan {i}\r\n\
                 Date: Thu, 12 Jul 2018 09:{:02}:{:02} +0700\r\n\
                 Message-ID: <bench-auth-{i:06}@{DOMAIN}>\r\n\
                 MIME-Version: 1.0\r\n\
                 Content-Type: multipart/mixed; boundary=\"=_bench{i}\"\r\n\
                 \r\n\
                 --=_bench{i}\r\n\
                 Content-Type: text/plain; charset=utf-8\r\n\
                 Content-Transfer-Encoding: 8bit\r\n\
                 \r\n\
                 Kính gửi Sở Kế hoạch và Đầu tư,\r\n\
                 \r\n\
                 Sở Y tế gửi kèm báo cáo (bản số {i}).\r\n\
                 \r\n\
                 Trân trọng.\r\n",
                (i / 60) % 60,
                i % 60
            );
            for (name, b64) in &attachments {
                raw.push_str(&format!(
                    "--=_bench{i}\r\n\
                     Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet; name=\"{name}\"\r\n\
                     Content-Disposition: attachment; filename=\"{name}\"\r\n\
                     Content-Transfer-Encoding: base64\r\n\
                     \r\n\
                     {b64}\r\n"
                ));
            }
            raw.push_str(&format!("--=_bench{i}--\r\n"));
            let signed = i % 2 == 0;
            let raw = if signed {
                sign_mail_auth(raw.as_bytes(), DOMAIN, SELECTOR, key)
            } else {
                raw.into_bytes()
            };
            Message { raw, signed }
        })
        .collect()
}

/// Panics unless the verdict is the one the message must get: a timing of a message that
/// went wrong (a DNS error, a bad signature) would measure something else.
fn expect(m: &Message, got: Verdict, case: &str) {
    let want = if m.signed {
        Verdict::Pass
    } else {
        Verdict::Fail
    };
    assert_eq!(
        got,
        want,
        "{case}: a {} message got {got:?}",
        if m.signed { "signed" } else { "unsigned" }
    );
}

/// The queries dnsmasq has logged so far.
fn queries(dns: &DnsServer) -> usize {
    dns.log().lines().filter(|l| l.contains(" query[")).count()
}

/// The 1-minute load average (NaN when unknown).
fn loadavg() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN)
}

/// Rounded to a tenth (of a microsecond), for the JSON.
fn tenth(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Count, nearest-rank p50 and p99, and mean, in microseconds.
struct Stats {
    count: usize,
    p50: f64,
    p99: f64,
    mean: f64,
}

fn stats(times: &mut [Duration]) -> Stats {
    times.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let rank = |p: f64| {
        let k = ((p * times.len() as f64).ceil() as usize).clamp(1, times.len());
        us(times[k - 1])
    };
    Stats {
        count: times.len(),
        p50: rank(0.50),
        p99: rank(0.99),
        mean: times.iter().map(|d| us(*d)).sum::<f64>() / times.len() as f64,
    }
}
