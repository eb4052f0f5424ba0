//! A headless Chromium driven through a private ChromeDriver, for the board's browser test:
//! chromedriver is started on a free loopback port in a process group of its own (so the
//! Chromium it starts goes with it), Chromium gets a fresh profile and the flags this
//! machine's closed network needs, and both are killed when the [`Browser`] is dropped.
#![allow(dead_code)] // not every test uses every helper

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;

/// Debian's Chromium.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// Debian's ChromeDriver (package chromium-driver).
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// What the test says when either is missing.
pub const INSTALL: &str = "chromium is not installed: apt-get install -y chromium chromium-driver";

/// A running chromedriver with one Chromium session.
pub struct Browser {
    /// The WebDriver session.
    pub client: Client,
    /// The window's size between screenshots.
    size: (u32, u32),
    driver: Driver,
}

/// The chromedriver process and the profile folder of its Chromium.
struct Driver {
    child: Child,
    profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium of `width` × `height` pixels; chromedriver's
    /// log goes to `log`. Panics with [`INSTALL`] when Chromium or ChromeDriver is missing.
    pub async fn start(width: u32, height: u32, log: &Path) -> Browser {
        assert!(
            Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists(),
            "{INSTALL}"
        );
        let port = free_port();
        let profile = tempfile::tempdir().expect("a temp folder for the Chromium profile");
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group: dropping the driver also ends the Chromium it started.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("{INSTALL} ({CHROMEDRIVER}: {e})"));
        let driver = Driver { child, profile };
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on {addr} within 10 s (log: {})",
                log.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities(driver.profile.path(), width, height))
            .connect(&format!("http://{addr}"))
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "chromedriver could not start Chromium: {e} (log: {})",
                    log.display()
                )
            });
        Browser {
            client,
            size: (width, height),
            driver,
        }
    }

    /// Ends the session (Chromium exits); chromedriver is killed on drop.
    pub async fn close(self) {
        let Browser { client, driver, .. } = self;
        let _ = client.close().await;
        drop(driver);
    }

    /// Saves a PNG of the whole page at `path` and prints the path: the window is made as tall
    /// as the document, and taller while a box that scrolls by itself (the matrix, 80 % of the
    /// window high) still hides rows, up to 8000 px.
    pub async fn screenshot(&self, path: &Path) -> PathBuf {
        let (width, height) = self.size;
        self.client.set_window_size(width, height).await.unwrap();
        for _ in 0..8 {
            let m = self.measure().await;
            let want = (m.page + m.hidden * 5 / 4).min(8000);
            if want <= m.viewport {
                break;
            }
            self.client
                .set_window_size(width, want + m.chrome)
                .await
                .unwrap();
        }
        let png = self.client.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "the screenshot is a PNG");
        std::fs::write(path, png).unwrap();
        println!("screenshot: {}", path.display());
        self.client.set_window_size(width, height).await.unwrap();
        path.to_path_buf()
    }

    /// The heights that decide a whole-page screenshot.
    async fn measure(&self) -> Heights {
        let v = self
            .client
            .execute(
                "var hidden = 0;
                 document.querySelectorAll('*').forEach(function (e) {
                   var y = getComputedStyle(e).overflowY;
                   if ((y === 'auto' || y === 'scroll') && e.scrollHeight > e.clientHeight)
                     hidden = Math.max(hidden, e.scrollHeight - e.clientHeight);
                 });
                 return [document.documentElement.scrollHeight, hidden, window.innerHeight,
                         Math.max(0, window.outerHeight - window.innerHeight)];",
                vec![],
            )
            .await
            .unwrap();
        let n = |i: usize| v[i].as_u64().unwrap_or(0) as u32;
        Heights {
            page: n(0),
            hidden: n(1),
            viewport: n(2),
            chrome: n(3),
        }
    }
}

/// What [`Browser::screenshot`] measures, in CSS pixels.
struct Heights {
    /// The document.
    page: u32,
    /// The most rows a box that scrolls by itself hides.
    hidden: u32,
    /// The window's inside.
    viewport: u32,
    /// The window's frame (headless Chromium still has one).
    chrome: u32,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: kill(2) on the process group this struct started (its leader is our child).
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Chromium's options: headless, no sandbox (the tests run as root), and no background
/// connections (this machine's network is closed; Chromium would retry them at every start).
fn capabilities(profile: &Path, width: u32, height: u32) -> Capabilities {
    let args = vec![
        "--headless=new".to_string(),
        "--no-sandbox".to_string(),
        "--disable-gpu".to_string(),
        "--disable-quic".to_string(),
        "--no-first-run".to_string(),
        "--disable-background-networking".to_string(),
        "--disable-component-update".to_string(),
        "--disable-sync".to_string(),
        "--disable-dev-shm-usage".to_string(),
        "--hide-scrollbars".to_string(),
        "--lang=vi-VN".to_string(),
        format!("--window-size={width},{height}"),
        format!("--user-data-dir={}", profile.display()),
    ];
    let mut caps = Capabilities::new();
    caps.insert("browserName".into(), "chrome".into());
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({ "binary": CHROMIUM, "args": args }),
    );
    caps
}

/// A loopback port nothing listens on now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}
