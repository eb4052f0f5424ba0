//! A private S3 endpoint for the object-storage tests: moto's server on a loopback port
//! chosen free at run time, with one bucket made for the test. moto keeps everything in
//! memory and takes any credentials; its REST API is S3's, so what intake sends it is what it
//! would send a real service. Stopped when dropped.
#![allow(dead_code)] // each test file uses a different part of this module

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The access key id the tests give (moto takes any).
pub const KEY_ID: &str = "intake-test-key";
/// The secret access key the tests give.
pub const SECRET: &str = "intake-test-secret";

/// A running moto server.
pub struct Moto {
    /// Its port on 127.0.0.1.
    pub port: u16,
    child: Child,
}

fn find(program: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .map(|d| Path::new(d).join(program))
        .find(|p| p.is_file())
}

impl Moto {
    /// Starts moto's server; fails, saying how to install it, when it is not there.
    pub fn start() -> Moto {
        let mut command = match find("moto_server") {
            Some(program) => Command::new(program),
            None if Command::new("python3")
                .args(["-c", "import moto.server"])
                .output()
                .is_ok_and(|o| o.status.success()) =>
            {
                let mut c = Command::new("python3");
                c.args(["-m", "moto.server"]);
                c
            }
            None => panic!(
                "moto's S3 server is not installed (no moto_server on PATH, no moto for python3): \
                 pip install 'moto[server]==5.2.6'"
            ),
        };
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = command
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let mut moto = Moto { port, child };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            if let Ok(Some(status)) = moto.child.try_wait() {
                panic!("moto_server exited at start: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "moto_server did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto.request("GET", "/", b"");
        moto
    }

    /// The endpoint's address.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Makes a bucket.
    pub fn bucket(&self, name: &str) {
        let (status, body) = self.request("PUT", &format!("/{name}"), b"");
        assert_eq!(status, 200, "creating bucket {name}: {body}");
    }

    /// The keys under `prefix` in `bucket`, sorted.
    pub fn keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut path = format!("/{bucket}?list-type=2&prefix={prefix}");
            if let Some(t) = &token {
                path.push_str(&format!("&continuation-token={}", encode(t)));
            }
            let (status, body) = self.request("GET", &path, b"");
            assert_eq!(status, 200, "listing {bucket}: {body}");
            keys.extend(between_all(&body, "<Key>", "</Key>"));
            token = between_all(&body, "<NextContinuationToken>", "</NextContinuationToken>")
                .into_iter()
                .next();
            if token.is_none() {
                break;
            }
        }
        keys.sort();
        keys
    }

    /// Deletes an object.
    pub fn delete(&self, bucket: &str, key: &str) {
        let (status, body) = self.request("DELETE", &format!("/{bucket}/{key}"), b"");
        assert!(
            status == 204 || status == 200,
            "deleting {key}: {status} {body}"
        );
    }

    /// Replaces an object's bytes.
    pub fn overwrite(&self, bucket: &str, key: &str, bytes: &[u8]) {
        let (status, body) = self.request("PUT", &format!("/{bucket}/{key}"), bytes);
        assert_eq!(status, 200, "writing {key}: {body}");
    }

    /// One HTTP/1.1 request: (status, body). moto checks no signatures, but takes some
    /// requests (a DELETE) only from a caller that names credentials.
    fn request(&self, method: &str, path: &str, body: &[u8]) -> (u16, String) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: {}\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential={KEY_ID}/20180712/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00\r\n\
             Connection: close\r\n\r\n",
            self.port,
            body.len()
        )
        .unwrap();
        s.write_all(body).unwrap();
        let mut answer = Vec::new();
        s.read_to_end(&mut answer).unwrap();
        let text = String::from_utf8_lossy(&answer).into_owned();
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (status, body)
    }

    /// Stops the server now (everything it held is gone).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.stop();
    }
}

fn between_all(text: &str, open: &str, close: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(open) {
        rest = &rest[i + open.len()..];
        let Some(j) = rest.find(close) else { break };
        out.push(rest[..j].to_string());
        rest = &rest[j + close.len()..];
    }
    out
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
