//! DKIM signing for the tests: fresh RSA keys made with the `openssl` command, and two
//! independent signers, dkimpy (PyPI `dkimpy` 1.1.8, through `dkim_sign.py` beside this file)
//! and mail-auth's own (rust-crypto RSA-SHA256). Both sign rsa-sha256, relaxed/relaxed, the
//! headers From, To, Subject, Date and Message-ID, and return the message with the
//! `DKIM-Signature` header prepended. Publish [`DkimKey::txt`] at
//! `SELECTOR._domainkey.DOMAIN` (see `dns.rs`) for verifiers to find the key.
#![allow(dead_code)] // each test file uses a different part of this module

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use mail_auth::common::crypto::{RsaKey, Sha256};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::{Canonicalization, DkimSigner};
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::PemObject;

/// The headers both signers sign.
pub const SIGNED_HEADERS: [&str; 5] = ["From", "To", "Subject", "Date", "Message-ID"];
/// The dkimpy release the tests are written against.
const DKIMPY: &str = "dkimpy==1.1.8";
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/common/dkim_sign.py");

/// An RSA key pair for DKIM.
#[derive(Clone, Debug)]
pub struct DkimKey {
    /// The private key, PKCS#8 PEM (`BEGIN PRIVATE KEY`), which both signers read.
    pub private_pem: String,
    /// The public key as DKIM publishes it: base64 of the DER SubjectPublicKeyInfo, one line.
    pub public_b64: String,
}

impl DkimKey {
    /// A fresh 2048-bit RSA key, made by `openssl genpkey` (about 0.1 s); panics with how to
    /// install openssl when it is missing.
    pub fn generate() -> DkimKey {
        let private = openssl(
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
            ],
            b"",
        );
        let public = openssl(&["pkey", "-pubout"], &private);
        let private_pem = String::from_utf8(private).unwrap();
        let public_b64: String = String::from_utf8(public)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        assert!(
            private_pem.starts_with("-----BEGIN PRIVATE KEY-----") && !public_b64.is_empty(),
            "openssl gave no PKCS#8 key pair"
        );
        DkimKey {
            private_pem,
            public_b64,
        }
    }

    /// The TXT record value to publish at `SELECTOR._domainkey.DOMAIN`:
    /// `v=DKIM1; k=rsa; p=...`.
    pub fn txt(&self) -> String {
        format!("v=DKIM1; k=rsa; p={}", self.public_b64)
    }
}

/// Runs `openssl ARGS` with `input` on stdin and returns its stdout.
fn openssl(args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child = match Command::new("openssl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => panic!("openssl does not run ({e}): apt-get install -y openssl"),
    };
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The Python interpreter that has dkimpy: `python3` on PATH (pyenv here), else Debian's
/// `/usr/bin/python3`. Found once per process; panics with how to install dkimpy when none has
/// it.
pub fn python() -> &'static str {
    static FOUND: OnceLock<Option<&'static str>> = OnceLock::new();
    let found = FOUND.get_or_init(|| {
        ["python3", "/usr/bin/python3"].into_iter().find(|py| {
            Command::new(py)
                .args(["-c", "import dkim"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
    });
    match found {
        Some(py) => py,
        None => panic!(
            "dkimpy is not installed for python3 or /usr/bin/python3: \
             python3 -m pip install {DKIMPY} (or run .ci/install-imap.sh)"
        ),
    }
}

/// Signs a raw message with dkimpy (an independent signer): rsa-sha256, relaxed/relaxed, the
/// headers [`SIGNED_HEADERS`]; returns the signed message (the signature prepended, its lines
/// ending like the message's). Panics with `pip install dkimpy==1.1.8` when it is missing.
pub fn sign_dkimpy(raw: &[u8], domain: &str, selector: &str, key: &DkimKey) -> Vec<u8> {
    let py = python();
    let mut child = Command::new(py)
        .arg(SCRIPT)
        .args([domain, selector, &SIGNED_HEADERS.join(":")])
        .env("DKIM_PRIVATE_KEY", &key.private_pem)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{py} does not run: {e}"));
    child.stdin.take().unwrap().write_all(raw).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() && out.stdout.starts_with(b"DKIM-Signature:"),
        "dkimpy could not sign: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Signs a raw message with mail-auth's own signer (rust-crypto RSA-SHA256), relaxed/relaxed,
/// the headers [`SIGNED_HEADERS`]; returns the signed message (the signature prepended, its
/// lines ending like the message's).
pub fn sign_mail_auth(raw: &[u8], domain: &str, selector: &str, key: &DkimKey) -> Vec<u8> {
    let der = PrivateKeyDer::from_pem_slice(key.private_pem.as_bytes())
        .expect("the test key is a PEM private key");
    let rsa = RsaKey::<Sha256>::from_key_der(der).expect("mail-auth reads the test key");
    let signature = DkimSigner::from_key(rsa)
        .domain(domain)
        .selector(selector)
        .headers(SIGNED_HEADERS)
        .header_canonicalization(Canonicalization::Relaxed)
        .body_canonicalization(Canonicalization::Relaxed)
        .sign(raw)
        .expect("mail-auth signs the message");
    // mail-auth folds its header with CRLF.
    let mut header = signature.to_header();
    if !raw.windows(2).any(|w| w == b"\r\n") {
        header = header.replace("\r\n", "\n");
    }
    let mut signed = header.into_bytes();
    signed.extend_from_slice(raw);
    signed
}
