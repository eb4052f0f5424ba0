//! The staff board over HTTP: the board started on 127.0.0.1:0 against a store filled by the
//! demo (the fixture mail as of 12 July 2018), a real HTTP client over TCP. Every page, every
//! action with a session and its CSRF token (and in the audit log with the name), the same
//! actions refused without them or from another site, downloads of filed files and nothing
//! else, the access rules (loopback, accounts, token), live events, and a clean stop.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use intake::board::BoardServer;
use intake::config::Config;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue};

const NOW: &str = "2018-07-12T09:00:00+07:00";
const CAMPAIGN: &str = "742-2018";

/// The demo's data folder, made once and copied for each test (each test may change it).
fn demo_data() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        common::intake_ok(
            dir.path(),
            &[
                "--now",
                NOW,
                "demo",
                "--fixtures",
                common::fixtures_dir().to_str().unwrap(),
            ],
        );
        dir
    })
    .path()
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

/// A running board on its own copy of the demo store.
struct Board {
    dir: tempfile::TempDir,
    addr: SocketAddr,
    http: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Board {
    async fn start(adjust: impl FnOnce(&mut Config, &Path)) -> Board {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().to_path_buf();
        tokio::task::spawn_blocking(move || {
            copy_tree(&demo_data().join("var"), &target.join("var"))
        })
        .await
        .unwrap();
        let mut config = common::config(dir.path());
        config.board.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        adjust(&mut config, dir.path());
        let store_dir = config.store_dir.clone();
        let server = BoardServer::bind(config, store_dir, common::inspector(), common::clock(NOW))
            .await
            .expect("the board binds on loopback");
        let addr = server.local_addr();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(server.serve(async {
            let _ = rx.await;
        }));
        Board {
            dir,
            addr,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
            stop: Some(tx),
            served: Some(served),
        }
    }

    async fn open() -> Board {
        Board::start(|_, _| {}).await
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn store_dir(&self) -> PathBuf {
        self.dir.path().join("var/store")
    }

    fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.store_dir().join("intake.sqlite")).unwrap()
    }

    fn count(&self, sql: &str) -> i64 {
        self.db().query_row(sql, [], |r| r.get(0)).unwrap()
    }

    /// Everything an action could change, to compare before and after a refused one.
    fn fingerprint(&self) -> (i64, i64, i64, i64, i64) {
        (
            self.count("SELECT count(*) FROM events"),
            self.count("SELECT count(*) FROM outbox"),
            self.count("SELECT count(*) FROM exemptions"),
            self.count("SELECT count(*) FROM extensions"),
            self.count("SELECT count(*) FROM messages"),
        )
    }

    async fn get(&self, path: &str, cookie: Option<&str>) -> reqwest::Response {
        let mut req = self.http.get(self.url(path));
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        req.send().await.unwrap()
    }

    /// A page that must render: 200, HTML in Vietnamese.
    async fn page(&self, path: &str, cookie: Option<&str>) -> String {
        let r = self.get(path, cookie).await;
        assert_eq!(r.status(), StatusCode::OK, "GET {path}");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let body = r.text().await.unwrap();
        assert!(body.contains("<html lang=\"vi\">"), "GET {path}: {body}");
        body
    }

    /// A session: its cookie and its CSRF token, from a first page.
    async fn session(&self) -> (String, String) {
        let r = self.get(&format!("/campaign/{CAMPAIGN}"), None).await;
        assert_eq!(r.status(), StatusCode::OK);
        let cookie = cookie_of(&r);
        let body = r.text().await.unwrap();
        (cookie, csrf_of(&body))
    }

    async fn post(
        &self,
        path: &str,
        cookie: Option<&str>,
        form: &[(&str, &str)],
        extra: &[(&'static str, &str)],
    ) -> reqwest::Response {
        let mut headers = HeaderMap::new();
        if let Some(c) = cookie {
            headers.insert("cookie", HeaderValue::from_str(c).unwrap());
        }
        for (k, v) in extra {
            headers.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        self.http
            .post(self.url(path))
            .headers(headers)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(encode_form(form))
            .send()
            .await
            .unwrap()
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(Duration::from_secs(10), self.served.take().unwrap())
            .await
            .expect("the board stops within 10 s")
            .unwrap()
            .unwrap();
    }
}

fn encode_form(form: &[(&str, &str)]) -> String {
    form.iter()
        .map(|(k, v)| format!("{}={}", pct(k), pct(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn cookie_of(r: &reqwest::Response) -> String {
    let set = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.starts_with("intake_board="))
        .expect("a session cookie");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    set.split(';').next().unwrap().to_string()
}

/// Every value of `attr="…"` that follows `marker` in the page.
fn values_after(html: &str, marker: &str) -> Vec<String> {
    html.match_indices(marker)
        .filter_map(|(i, _)| {
            let rest = &html[i + marker.len()..];
            let end = rest.find('"')?;
            Some(rest[..end].to_string())
        })
        .collect()
}

fn csrf_of(html: &str) -> String {
    values_after(html, "name=\"csrf\" value=\"")
        .into_iter()
        .next()
        .expect("a CSRF token in the page")
}

fn events(store: &Path, kind: &str) -> Vec<intake::store::query::Event> {
    let store = intake::store::Store::open_read(store).unwrap();
    intake::store::query::events(&store, &Default::default())
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == kind)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_renders_in_vietnamese() {
    let b = Board::open().await;
    let (cookie, _) = b.session().await;
    let c = Some(cookie.as_str());

    let home = b.page("/", c).await;
    for words in [
        "Tổng quan",
        "Công văn 742/SKHĐT-THQH",
        "Hạn nộp",
        "đã quá hạn 3 ngày",
        "Phải nộp",
        "Tỷ lệ nộp báo cáo",
        "Tỷ lệ đúng hạn",
        "Phụ lục I",
        "Thư đi",
    ] {
        assert!(home.contains(words), "the overview lacks {words:?}: {home}");
    }

    let matrix = b.page(&format!("/campaign/{CAMPAIGN}"), c).await;
    assert_eq!(matrix.matches("<tr class=\"agency\">").count(), 38);
    for words in [
        "Ủy ban nhân dân huyện Đình Lập",
        "chưa nộp",
        "hợp lệ",
        "lần 1",
        "trễ hạn",
    ] {
        assert!(matrix.contains(words), "the matrix lacks {words:?}");
    }
    assert!(matrix.contains("class=\"missing\"") && matrix.contains("class=\"ok\""));
    let districts = b
        .page(&format!("/campaign/{CAMPAIGN}?kind=district"), c)
        .await;
    assert_eq!(districts.matches("<tr class=\"agency\">").count(), 11);
    let missing = b
        .page(&format!("/campaign/{CAMPAIGN}?only=missing"), c)
        .await;
    let n = missing.matches("<tr class=\"agency\">").count();
    assert!(n > 0 && n < 38, "{n} agencies with something missing");
    assert!(
        missing.split("<tr class=\"agency\">").skip(1).all(|row| row
            .split("</tr>")
            .next()
            .unwrap()
            .contains("chưa nộp"))
    );

    let agency = b.page("/agency/so-y-te", c).await;
    for words in [
        "Sở Y tế",
        "Các lần nộp",
        "Thư và tệp đã nhận",
        "Biên nhận và thư nhắc đã gửi",
        "đã gửi lúc",
        "Tải tệp đã lưu",
        "Gia hạn",
        "Miễn nộp",
    ] {
        assert!(agency.contains(words), "the agency page lacks {words:?}");
    }
    // Sở Y tế's Appendix I has findings: the cell and the message are shown.
    assert!(
        agency.contains("<td class=\"mono nowrap\">G40</td>"),
        "findings with their cells"
    );
    assert!(agency.contains("/annotated\">Tải bản đánh dấu lỗi"));

    let quarantine = b.page("/quarantine", c).await;
    assert!(quarantine.contains("Thư chờ xác nhận"));
    assert!(quarantine.contains("chờ xác nhận đơn vị") && quarantine.contains("Có thể là"));
    assert!(quarantine.contains("Người thực hiện"));

    let log = b.page("/log", c).await;
    assert!(log.contains("Nhật ký tiếp nhận") && log.contains("đã lưu"));
    let rows = log.matches("<tr class=\"event\">").count();
    assert_eq!(rows, 50, "one page of the configured size");
    assert!(log.contains("Trang sau"));
    let page2 = b.page("/log?page=2", c).await;
    assert!(page2.contains("Trang trước"));
    let only = b.page("/log?agency=so-y-te&kind=filed", c).await;
    let n = only.matches("<tr class=\"event\">").count();
    assert!(n >= 1);
    assert_eq!(only.matches("<td>đã lưu</td>").count(), n);
    let none = b.page("/log?since=2030-01-01", c).await;
    assert!(none.contains("Không có sự kiện nào khớp bộ lọc"));
    assert_eq!(
        b.get("/log?since=hôm-qua", c).await.status(),
        StatusCode::BAD_REQUEST
    );

    for path in ["/static/board.css", "/static/board.js"] {
        assert_eq!(b.get(path, None).await.status(), StatusCode::OK);
    }
    // An open board has no login: the form sends back to the overview.
    assert_eq!(b.get("/login", c).await.status(), StatusCode::SEE_OTHER);
    for path in [
        "/nowhere",
        "/agency/so-khong-co",
        "/campaign/1999",
        "/export/1999/status.xlsx",
    ] {
        assert_eq!(
            b.get(path, c).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_with_a_session_and_its_token_are_done_and_logged_with_the_name() {
    let b = Board::open().await;
    let (cookie, csrf) = b.session().await;
    let c = Some(cookie.as_str());
    let staff = "Nguyễn Văn A";

    // Extend: the agency's deadline moves and the reminder steps ahead are reopened.
    let r = b
        .post(
            "/action/extend",
            c,
            &[
                ("csrf", &csrf),
                ("actor", staff),
                ("campaign", CAMPAIGN),
                ("agency", "ubnd-dinh-lap"),
                ("until", "2018-07-20T17:00"),
                ("reason", "Mất điện"),
            ],
            &[("origin", &format!("http://{}", b.addr))],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/agency/ubnd-dinh-lap");
    let page = b.page("/agency/ubnd-dinh-lap", c).await;
    assert!(
        page.contains("Đã gia hạn cho") && page.contains("17:00 ngày 20/07/2018"),
        "{page}"
    );
    let e = &events(&b.store_dir(), "extended")[0];
    assert_eq!(e.actor.as_deref(), Some(staff));
    assert_eq!(e.agency.as_deref(), Some("ubnd-dinh-lap"));
    // The name is remembered in the session: the next form offers it.
    assert!(page.contains(&format!("value=\"{staff}\"")));

    // Exempt.
    let r = b
        .post(
            "/action/exempt",
            c,
            &[
                ("csrf", &csrf),
                ("actor", staff),
                ("campaign", CAMPAIGN),
                ("agency", "so-y-te"),
                ("deliverable", "pl2"),
                ("reason", "Không có dự án"),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let e = &events(&b.store_dir(), "exempted")[0];
    assert_eq!(
        (e.actor.as_deref(), e.agency.as_deref()),
        (Some(staff), Some("so-y-te"))
    );
    let matrix = b.page(&format!("/campaign/{CAMPAIGN}"), c).await;
    assert!(matrix.contains("class=\"exempt\""));

    // Re-send a receipt: a copy of its outbox row is queued.
    let agency = b.page("/agency/so-y-te", c).await;
    let outbox: i64 = values_after(&agency, "name=\"outbox\" value=\"")[0]
        .parse()
        .unwrap();
    let rows = b.count("SELECT count(*) FROM outbox");
    let r = b
        .post(
            "/action/resend",
            c,
            &[
                ("csrf", &csrf),
                ("actor", staff),
                ("outbox", &outbox.to_string()),
                ("agency", "so-y-te"),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(b.count("SELECT count(*) FROM outbox"), rows + 1);
    let (subject, copy_subject): (String, String) = b
        .db()
        .query_row(
            "SELECT a.subject, b.subject FROM outbox a, outbox b WHERE a.id = ?1 AND b.id = (SELECT max(id) FROM outbox)",
            [outbox],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(subject, copy_subject);
    assert_eq!(
        b.count("SELECT count(*) FROM outbox WHERE id = (SELECT max(id) FROM outbox) AND sent_at IS NULL AND kind = 'receipt'"),
        1
    );
    let e = &events(&b.store_dir(), "receipt-resent")[0];
    assert_eq!(e.actor.as_deref(), Some(staff));
    let page = b.page("/agency/so-y-te", c).await;
    assert!(page.contains("Đã xếp gửi lại biên nhận") && page.contains("đang chờ gửi"));
    let log = b.page("/log?kind=receipt-resent", c).await;
    assert!(log.contains("cán bộ gửi lại biên nhận") && log.contains(staff));

    // Re-validate.
    let r = b
        .post(
            "/action/revalidate",
            c,
            &[("csrf", &csrf), ("actor", staff), ("campaign", CAMPAIGN)],
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let e = events(&b.store_dir(), "revalidated");
    assert!(e.iter().any(|e| {
        e.actor.as_deref() == Some(staff)
            && e.detail
                .as_deref()
                .unwrap_or("")
                .contains("Đã kiểm tra lại")
    }));
    let page = b.page(&format!("/campaign/{CAMPAIGN}"), c).await;
    assert!(
        page.contains("Đã kiểm tra lại"),
        "the flash tells the counts"
    );

    // Assign a probable message to the agency guessed.
    let (message, guess): (i64, String) = b
        .db()
        .query_row(
            "SELECT id, probable FROM messages WHERE outcome = 'probable-agency' ORDER BY id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let quarantine = b.page("/quarantine", c).await;
    assert!(quarantine.contains(&format!("name=\"message\" value=\"{message}\"")));
    let r = b
        .post(
            "/action/assign",
            c,
            &[
                ("csrf", &csrf),
                ("actor", staff),
                ("message", &message.to_string()),
                ("agency", &guess),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let e = &events(&b.store_dir(), "assigned")[0];
    assert_eq!(
        (e.actor.as_deref(), e.agency.as_deref()),
        (Some(staff), Some(guess.as_str()))
    );
    let page = b.page("/quarantine", c).await;
    assert!(page.contains("Đã gán thư"), "{page}");
    assert!(!page.contains(&format!("name=\"message\" value=\"{message}\"")));
    // Again: refused with a sentence, nothing filed twice.
    let before = b.fingerprint();
    b.post(
        "/action/assign",
        c,
        &[
            ("csrf", &csrf),
            ("actor", staff),
            ("message", &message.to_string()),
            ("agency", &guess),
        ],
        &[],
    )
    .await;
    assert_eq!(b.fingerprint(), before);
    assert!(
        b.page("/quarantine", c)
            .await
            .contains("Không gán được thư")
    );
    // The agency may be given by its name as well as by its code.
    let (other, code): (i64, String) = b
        .db()
        .query_row(
            "SELECT id, probable FROM messages WHERE outcome = 'probable-agency' ORDER BY id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let name = common::config(b.dir.path())
        .agency(&code)
        .unwrap()
        .name
        .clone();
    let r = b
        .post(
            "/action/assign",
            c,
            &[
                ("csrf", &csrf),
                ("actor", staff),
                ("message", &format!("BN-{other:06}")),
                ("agency", &name.to_uppercase()),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let q = b.page("/quarantine", c).await;
    assert!(
        q.contains("Đã gán thư"),
        "{}",
        q.split("<main").next().unwrap()
    );
    // Filed as that agency's (here a duplicate of what it sent itself), by whom.
    let store = intake::store::Store::open_read(&b.store_dir()).unwrap();
    let last = &intake::store::query::events(&store, &Default::default()).unwrap()[0];
    assert_eq!(
        (last.agency.as_deref(), last.actor.as_deref()),
        (Some(code.as_str()), Some(staff))
    );

    // An open board asks the name: without it nothing is done.
    let before = b.fingerprint();
    let r = b
        .post(
            "/action/exempt",
            c,
            &[
                ("csrf", &csrf),
                ("actor", "  "),
                ("campaign", CAMPAIGN),
                ("agency", "so-tu-phap"),
                ("deliverable", "pl1"),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("Người thực hiện"));
    assert_eq!(b.fingerprint(), before);
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_without_a_session_or_token_or_from_another_site_are_refused() {
    let b = Board::open().await;
    let (cookie, csrf) = b.session().await;
    let c = Some(cookie.as_str());
    let outbox = b
        .count("SELECT min(id) FROM outbox WHERE kind = 'receipt' AND sent_at IS NOT NULL")
        .to_string();
    let message = b
        .count("SELECT min(id) FROM messages WHERE outcome = 'probable-agency'")
        .to_string();
    let actions: Vec<(&str, Vec<(&str, &str)>)> = vec![
        (
            "/action/extend",
            vec![
                ("campaign", CAMPAIGN),
                ("agency", "so-y-te"),
                ("until", "2018-07-20T17:00"),
            ],
        ),
        (
            "/action/exempt",
            vec![
                ("campaign", CAMPAIGN),
                ("agency", "so-y-te"),
                ("deliverable", "pl1"),
            ],
        ),
        (
            "/action/resend",
            vec![("outbox", outbox.as_str()), ("agency", "so-y-te")],
        ),
        ("/action/revalidate", vec![("campaign", CAMPAIGN)]),
        (
            "/action/assign",
            vec![("message", message.as_str()), ("agency", "so-y-te")],
        ),
    ];
    let before = b.fingerprint();
    let other = format!("http://{}", b.addr);
    for (path, fields) in &actions {
        let with = |token: Option<&'static str>| {
            let mut f = fields.clone();
            f.push(("actor", "Kẻ giả mạo"));
            if let Some(t) = token {
                f.push(("csrf", t));
            }
            f
        };
        let good = {
            let mut f = with(None);
            f.push(("csrf", csrf.as_str()));
            f
        };
        // No session at all.
        let r = b.post(path, None, &good, &[]).await;
        assert_eq!(
            r.status(),
            StatusCode::FORBIDDEN,
            "{path} without a session"
        );
        // A session that does not exist.
        let fake = format!("intake_board={}", "ab".repeat(32));
        let r = b.post(path, Some(&fake), &good, &[]).await;
        assert_eq!(
            r.status(),
            StatusCode::FORBIDDEN,
            "{path} with a made-up session"
        );
        // The session without its token, or with a forged one.
        let r = b.post(path, c, &with(None), &[]).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path} without a token");
        let r = b
            .post(
                path,
                c,
                &with(Some(
                    "0000000000000000000000000000000000000000000000000000000000000000",
                )),
                &[],
            )
            .await;
        assert_eq!(
            r.status(),
            StatusCode::FORBIDDEN,
            "{path} with a forged token"
        );
        // The right session and token, sent from another site's page.
        let r = b
            .post(path, c, &good, &[("origin", "http://evil.example")])
            .await;
        assert_eq!(
            r.status(),
            StatusCode::FORBIDDEN,
            "{path} from another origin"
        );
        let r = b
            .post(
                path,
                c,
                &good,
                &[("sec-fetch-site", "cross-site"), ("origin", &other)],
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path} cross-site");
        let r = b
            .post(path, c, &good, &[("referer", "http://evil.example/form")])
            .await;
        assert_eq!(
            r.status(),
            StatusCode::FORBIDDEN,
            "{path} referred by another site"
        );
        // A GET does nothing.
        let r = b.get(path, c).await;
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED, "GET {path}");
    }
    assert_eq!(b.fingerprint(), before, "a refused action changes nothing");
    // A page asked for under another host name (DNS rebinding onto loopback) is refused.
    let r = b
        .http
        .get(b.url("/"))
        .header("host", "intake.evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_give_the_filed_bytes_and_nothing_else() {
    let b = Board::open().await;
    let (cookie, _) = b.session().await;
    let c = Some(cookie.as_str());
    let page = b.page("/agency/so-y-te", c).await;
    let ids: Vec<String> = values_after(&page, "href=\"/download/");
    let file = ids.iter().find(|i| !i.contains('/')).expect("a filed file");
    let (filed, name): (String, String) = b
        .db()
        .query_row(
            "SELECT filed_path, name FROM files WHERE id = ?1",
            [file.parse::<i64>().unwrap()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let r = b.get(&format!("/download/{file}"), c).await;
    assert_eq!(r.status(), StatusCode::OK);
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(
        disposition.contains(&pct_utf8(&name)),
        "{disposition} names {name}"
    );
    assert_eq!(
        r.bytes().await.unwrap().as_ref(),
        std::fs::read(b.store_dir().join(filed)).unwrap()
    );
    let annotated = ids
        .iter()
        .find(|i| i.ends_with("/annotated"))
        .expect("an annotated copy");
    let r = b.get(&format!("/download/{annotated}"), c).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.unwrap().starts_with(b"PK"), "an xlsx");

    // A file that was not filed (a duplicate's, say) is not offered.
    let unfiled = b.count("SELECT coalesce(min(id), 0) FROM files WHERE filed_path IS NULL");
    if unfiled > 0 {
        assert_eq!(
            b.get(&format!("/download/{unfiled}"), c).await.status(),
            StatusCode::NOT_FOUND
        );
    }
    for path in [
        "/download/999999",
        "/download/-1",
        "/download/1e3",
        "/download/..%2F..%2Fetc%2Fpasswd",
        "/download/%2e%2e%2fintake.sqlite",
        &format!("/download/{file}/..%2F..%2Fintake.sqlite"),
        &format!("/download/{file}/original"),
        "/download/",
    ] {
        assert_eq!(
            b.get(path, c).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    // Sent as written, not normalised by the client.
    for path in [
        "/download/../../etc/passwd",
        "/download/1/../../../etc/passwd",
        "/download/%2e%2e/%2e%2e/etc/passwd",
    ] {
        let head = raw_get(b.addr, path, &cookie).await;
        assert!(head.starts_with("HTTP/1.1 404"), "{path}: {head}");
    }

    // The exports, as `intake export` writes them.
    for what in ["status.xlsx", "consolidated.xlsx"] {
        let r = b.get(&format!("/export/{CAMPAIGN}/{what}"), c).await;
        assert_eq!(r.status(), StatusCode::OK, "{what}");
        assert!(
            r.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .contains(".xlsx")
        );
        assert!(r.bytes().await.unwrap().starts_with(b"PK"));
    }
    assert_eq!(
        b.get(&format!("/export/{CAMPAIGN}/../../x"), c)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    b.stop().await;
}

fn pct_utf8(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A GET written byte for byte on the socket; the status line and headers of the answer.
async fn raw_get(addr: SocketAddr, path: &str, cookie: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(
        format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
        .await
        .unwrap()
        .unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_board_reachable_from_other_machines_needs_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::config(dir.path());
    config.board.listen = "0.0.0.0:0".parse().unwrap();
    config.board.accounts = None;
    config.board.token_file = None;
    let store_dir = config.store_dir.clone();
    let e = BoardServer::bind(
        config.clone(),
        store_dir.clone(),
        common::inspector(),
        common::clock(NOW),
    )
    .await
    .expect_err("no accounts, not loopback");
    assert!(
        matches!(e, intake::board::BoardError::Unprotected(_)),
        "{e}"
    );
    assert!(e.to_string().contains("accounts"), "{e}");
    // The configuration says so too, before anything starts.
    let toml =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/intake.toml"))
            .unwrap()
            .replace("listen = \"127.0.0.1:8080\"", "listen = \"0.0.0.0:8080\"");
    let cfg = dir.path().join("config");
    copy_tree(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config"), &cfg);
    std::fs::write(cfg.join("intake.toml"), toml).unwrap();
    let e = Config::load(&cfg.join("intake.toml")).unwrap_err();
    assert_eq!(e.key, "board.listen", "{e}");
    // An accounts file that is missing or holds no hash stops it as well.
    config.board.accounts = Some(dir.path().join("no-such-file"));
    let e = BoardServer::bind(
        config.clone(),
        store_dir.clone(),
        common::inspector(),
        common::clock(NOW),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(e, intake::board::BoardError::Accounts { .. }),
        "{e}"
    );
    std::fs::write(dir.path().join("short-token"), "abc\n").unwrap();
    config.board.accounts = None;
    config.board.token_file = Some(dir.path().join("short-token"));
    let e = BoardServer::bind(config, store_dir, common::inspector(), common::clock(NOW))
        .await
        .unwrap_err();
    assert!(matches!(e, intake::board::BoardError::Token { .. }), "{e}");
}

async fn login(b: &Board, name: &str, password: &str) -> reqwest::Response {
    let r = b.get("/login?next=/agency/so-y-te", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = cookie_of(&r);
    let html = r.text().await.unwrap();
    assert!(html.contains("Đăng nhập"));
    let csrf = csrf_of(&html);
    b.post(
        "/login",
        Some(&cookie),
        &[
            ("csrf", &csrf),
            ("name", name),
            ("password", password),
            ("next", "/agency/so-y-te"),
        ],
        &[],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_with_an_argon2_account_or_the_token() {
    let b = Board::start(|config, dir| {
        let accounts = dir.join("board-accounts");
        std::fs::write(
            &accounts,
            format!(
                "# staff of the planning division\n{}\n{}\n",
                intake::board::auth::account_line("Nguyễn Văn A", "mật khẩu của A"),
                intake::board::auth::account_line("tran.thi.b", "bí mật B")
            ),
        )
        .unwrap();
        std::fs::write(dir.join("token"), "a-long-shared-token-0123456789\n").unwrap();
        config.board.accounts = Some(accounts);
        config.board.token_file = Some(dir.join("token"));
    })
    .await;
    // Without a login, pages send to the login form and actions are refused.
    let r = b.get("/agency/so-y-te", None).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login?next=/agency/so-y-te");
    assert_eq!(
        b.get("/download/1", None).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(b.get("/events", None).await.status(), StatusCode::FORBIDDEN);

    let r = login(&b, "Nguyễn Văn A", "mật khẩu sai").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.text().await.unwrap().contains("không đúng"));
    let r = login(&b, "người lạ", "mật khẩu của A").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let r = login(&b, "Nguyễn Văn A", "mật khẩu của A").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/agency/so-y-te");
    let cookie = cookie_of(&r);
    let page = b.page("/agency/so-y-te", Some(&cookie)).await;
    assert!(page.contains("Đăng xuất") && page.contains("Nguyễn Văn A"));
    assert!(
        !page.contains("name=\"actor\""),
        "the account names who acts"
    );
    // The account's name goes to the audit log; an actor field cannot override it.
    let csrf = csrf_of(&page);
    let r = b
        .post(
            "/action/exempt",
            Some(&cookie),
            &[
                ("csrf", &csrf),
                ("actor", "Người khác"),
                ("campaign", CAMPAIGN),
                ("agency", "so-y-te"),
                ("deliverable", "pl3"),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let e = &events(&b.store_dir(), "exempted")[0];
    assert_eq!(e.actor.as_deref(), Some("Nguyễn Văn A"));

    // Logging out ends the session.
    let r = b
        .post("/logout", Some(&cookie), &[("csrf", &csrf)], &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        b.get("/", Some(&cookie)).await.status(),
        StatusCode::SEE_OTHER
    );

    // The shared token, with the name of who uses it.
    let r = login(&b, "Lê Văn C", "a-long-shared-token-0123456789").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cookie = cookie_of(&r);
    assert!(b.page("/", Some(&cookie)).await.contains("Lê Văn C"));
    let r = login(&b, "Lê Văn C", "a-long-shared-token-012345678").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_pages_hear_of_changes_and_the_board_stops_with_them_open() {
    let b = Board::open().await;
    let (cookie, csrf) = b.session().await;
    let mut events = b.get("/events", Some(&cookie)).await;
    assert_eq!(events.status(), StatusCode::OK);
    assert!(
        events.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    // Let the watcher take the store's stamp, then change the store.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let r = b
        .post(
            "/action/exempt",
            Some(&cookie),
            &[
                ("csrf", &csrf),
                ("actor", "Nguyễn Văn A"),
                ("campaign", CAMPAIGN),
                ("agency", "so-tu-phap"),
                ("deliverable", "pl1"),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !seen.contains("event: change") {
        let chunk = tokio::time::timeout_at(deadline, events.chunk())
            .await
            .expect("a change event within 10 s")
            .unwrap()
            .expect("the stream stays open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    // A write of another process (the daemon marking a mail sent) is heard as well.
    b.db()
        .execute(
            "UPDATE outbox SET attempts = attempts + 1 WHERE id = (SELECT min(id) FROM outbox)",
            [],
        )
        .unwrap();
    let mut seen = String::new();
    while !seen.contains("event: change") {
        let chunk = tokio::time::timeout_at(
            tokio::time::Instant::now() + Duration::from_secs(10),
            events.chunk(),
        )
        .await
        .expect("a change event within 10 s")
        .unwrap()
        .expect("the stream stays open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    // The stream is still open: stopping the board must not wait for it.
    b.stop().await;
}

/// Takes in, as `intake run --once` with the department's own server (`mx.langson.example`)
/// trusted, a copy of Sở Tài chính's Phụ lục II under a new Message-ID on which that server
/// wrote that the From domain fails DMARC: the message is held (`sender-unverified`), no DNS
/// asked. The board's own configuration needs nothing of this.
fn take_in_forged_message(dir: &Path) -> i64 {
    let cfg = dir.join("config");
    copy_tree(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config"), &cfg);
    let toml = std::fs::read_to_string(cfg.join("intake.toml")).unwrap();
    let mut lines: Vec<String> = toml
        .lines()
        .filter(|l| !l.trim_start().starts_with("trusted_authserv_ids"))
        .map(str::to_string)
        .collect();
    let at = lines
        .iter()
        .position(|l| l.trim() == "[auth]")
        .expect("intake.toml has an [auth] table");
    lines.insert(
        at + 1,
        "trusted_authserv_ids = [\"mx.langson.example\"]".into(),
    );
    std::fs::write(cfg.join("intake.toml"), lines.join("\n") + "\n").unwrap();
    std::fs::write(
        dir.join("var/maildir/new/1531360000.forged.eml"),
        forged_message(),
    )
    .unwrap();
    common::intake_ok(
        dir,
        &[
            "--config",
            cfg.join("intake.toml").to_str().unwrap(),
            "--now",
            NOW,
            "run",
            "--once",
        ],
    );
    let db = rusqlite::Connection::open(dir.join("var/store/intake.sqlite")).unwrap();
    db.query_row(
        "SELECT id FROM messages WHERE outcome = 'sender-unverified' AND probable = 'so-tai-chinh'",
        [],
        |r| r.get(0),
    )
    .expect("the forged message is held")
}

/// Sở Tài chính's Phụ lục II of the fixture mail, made a new file (a zip comment: the same
/// workbook, other bytes, so not a duplicate once released), in a message From its address on
/// which the department's server wrote that the domain fails DMARC.
fn forged_message() -> Vec<u8> {
    use base64::Engine;
    use mail_parser::MimeHeaders;
    let fixture =
        std::fs::read(common::fixtures_dir().join("02-so-tai-chinh-pl2-gmail-rfc2047.eml"))
            .unwrap();
    let parsed = mail_parser::MessageParser::default()
        .parse(&fixture)
        .unwrap();
    let mut xlsx = parsed
        .attachments()
        .find(|a| a.attachment_name().is_some_and(|n| n.ends_with(".xlsx")))
        .expect("the fixture has a workbook")
        .contents()
        .to_vec();
    let eocd = xlsx.len() - 22;
    assert_eq!(
        &xlsx[eocd..eocd + 4],
        b"PK\x05\x06",
        "an xlsx without a zip comment"
    );
    let comment = b"forged copy";
    xlsx[eocd + 20..].copy_from_slice(&(comment.len() as u16).to_le_bytes());
    xlsx.extend_from_slice(comment);
    let body = base64::engine::general_purpose::STANDARD.encode(&xlsx);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "Authentication-Results: mx.langson.example; dmarc=fail header.from=langson.example\r\n\
         Received: from mail.langson.example (mail.langson.example [192.0.2.10])\r\n\
         \tby mx.skhdt.langson.example with ESMTPS id 5AFE7A8FBE;\r\n\
         \tWed, 11 Jul 2018 10:00:05 +0700\r\n\
         From: So Tai chinh <so-tai-chinh@langson.example>\r\n\
         To: skhdt@langson.example\r\n\
         Subject: =?UTF-8?Q?S=E1=BB=9F_T=C3=A0i_ch=C3=ADnh_g=E1=BB=ADi_l=E1=BA=A1i_Ph=E1=BB=A5_l=E1=BB=A5c_II?=\r\n\
         Date: Wed, 11 Jul 2018 10:00:00 +0700\r\n\
         Message-ID: <forged.1@langson.example>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
         --b1\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n\
         Kinh gui So Ke hoach va Dau tu: Phu luc II theo Cong van 742/SKHDT-THQH.\r\n\
         --b1\r\n\
         Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet; name=\"Phu luc II - So Tai chinh.xlsx\"\r\n\
         Content-Disposition: attachment; filename=\"Phu luc II - So Tai chinh.xlsx\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n\
         {}\r\n\
         --b1--\r\n",
        lines.join("\r\n")
    )
    .into_bytes()
}

/// The part of a page from `marker` to the end of its element `tag`.
fn section<'a>(html: &'a str, marker: &str, tag: &str) -> &'a str {
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in the page: {html}"));
    let rest = &html[start..];
    let end = rest.find(&format!("</{tag}>")).unwrap_or(rest.len());
    &rest[..end]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_held_for_a_failed_sender_check_is_released_with_a_reason() {
    let held = std::sync::Arc::new(std::sync::Mutex::new(0i64));
    let h = held.clone();
    let b = Board::start(move |_, dir| *h.lock().unwrap() = take_in_forged_message(dir)).await;
    let held = *held.lock().unwrap();
    let (cookie, csrf) = b.session().await;
    let c = Some(cookie.as_str());
    let staff = "Nguyễn Văn A";

    // The quarantine shows it first, labelled, with the agency it claims, the evidence and a
    // release form whose reason is required.
    let page = b.page("/quarantine", c).await;
    let article = section(&page, &format!("id=\"m{held}\""), "article");
    assert!(
        page.find(&format!("id=\"m{held}\"")) < page.find("chờ xác nhận đơn vị"),
        "held messages come first"
    );
    for words in [
        "Giữ lại: người gửi không qua kiểm tra xác thực",
        "Tự nhận là: <a href=\"/agency/so-tai-chinh\">Sở Tài chính</a>",
        "xác thực thất bại",
        "dmarc=fail (theo mx.langson.example)",
        "dkim=none",
        "Phu luc II - So Tai chinh.xlsx",
        "name=\"reason\" required",
        "name=\"agency\" list=\"agencies\" required value=\"Sở Tài chính\"",
        "Cho phép ghi nhận",
    ] {
        assert!(
            article.contains(words),
            "the held message lacks {words:?}: {article}"
        );
    }
    assert!(article.contains(&format!("name=\"message\" value=\"{held}\"")));
    // The claimed agency's page shows it, with its verdict, as not taken in.
    let agency = b.page("/agency/so-tai-chinh", c).await;
    let m = section(&agency, &format!("id=\"m{held}\""), "article");
    assert!(
        m.contains("xác thực thất bại") && m.contains("không qua kiểm tra xác thực người gửi"),
        "{m}"
    );
    assert!(m.contains("<details class=\"evidence\">") && m.contains("dmarc=fail"));
    assert!(!agency.contains("Phụ lục II, lần 2"));

    // Without a reason: the sentence, and nothing changes.
    let before = b.fingerprint();
    for reason in ["", "   "] {
        let r = b
            .post(
                "/action/assign",
                c,
                &[
                    ("csrf", &csrf),
                    ("actor", staff),
                    ("message", &held.to_string()),
                    ("agency", "so-tai-chinh"),
                    ("reason", reason),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()["location"], format!("/quarantine#m{held}"));
        let q = b.page("/quarantine", c).await;
        assert!(
            q.contains("Cần ghi lý do cho phép ghi nhận thư bị giữ lại."),
            "{}",
            q.split("<main").next().unwrap()
        );
        assert!(q.contains(&format!("name=\"message\" value=\"{held}\"")));
    }
    assert_eq!(
        b.fingerprint(),
        before,
        "a release without a reason changes nothing"
    );
    assert!(events(&b.store_dir(), "released").is_empty());

    // With a reason: filed as Sở Tài chính's second Phụ lục II, the release logged by name.
    let why = "Đã gọi điện xác nhận với Sở Tài chính";
    let r = b
        .post(
            "/action/assign",
            c,
            &[
                ("csrf", &csrf),
                ("actor", staff),
                ("message", &held.to_string()),
                ("agency", "so-tai-chinh"),
                ("reason", why),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let q = b.page("/quarantine", c).await;
    assert!(
        q.contains(&format!("Đã cho phép ghi nhận thư bị giữ lại BN-{held:06}")),
        "{}",
        q.split("<main").next().unwrap()
    );
    assert!(!q.contains(&format!("name=\"message\" value=\"{held}\"")));
    let released = events(&b.store_dir(), "released");
    assert_eq!(released.len(), 1);
    let e = &released[0];
    assert_eq!(
        (e.actor.as_deref(), e.agency.as_deref()),
        (Some(staff), Some("so-tai-chinh"))
    );
    assert!(e.detail.as_deref().unwrap_or("").contains(why), "{e:?}");
    let filed = e.message.expect("the release names the new record");
    assert_eq!(
        b.count(&format!(
            "SELECT count(*) FROM versions WHERE agency = 'so-tai-chinh' AND deliverable = 'pl2' AND version = 2 AND message = {filed}"
        )),
        1,
        "released as Sở Tài chính's Phụ lục II, lần 2"
    );
    let agency = b.page("/agency/so-tai-chinh", c).await;
    let v = section(&agency, "Phụ lục II, lần 2", "h3");
    assert!(v.contains("chưa xác thực người gửi"), "{v}");
    assert!(agency.contains(&format!("id=\"m{filed}\"")));

    // The log: the release, by whom and why, with the message's verdict.
    let log = b.page("/log?kind=released", c).await;
    let row = section(&log, "<tr class=\"event\">", "tr");
    for words in [
        "cán bộ cho phép ghi nhận thư bị giữ lại",
        staff,
        why,
        "xác thực thất bại",
    ] {
        assert!(row.contains(words), "the log row lacks {words:?}: {row}");
    }
    // And the accepted-but-unauthenticated list names it.
    let list = b
        .page(&format!("/unverified?campaign={CAMPAIGN}&verdict=fail"), c)
        .await;
    assert_eq!(list.matches("<tr class=\"version\">").count(), 1, "{list}");
    assert!(list.contains("Sở Tài chính") && list.contains(&format!("#m{filed}")));
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepted_versions_whose_sender_was_not_authenticated_are_listed_and_marked() {
    let b = Board::open().await;
    let (cookie, _) = b.session().await;
    let c = Some(cookie.as_str());
    let db = b.db();
    // Sở Công Thương's Phụ lục III came by mail with verdict `none` (the demo's domain
    // publishes no policy); Cục Thuế's is made `pass`, Sở Xây dựng's made one taken in before
    // authentication was checked, Sở GTVT's `temperror` and forwarded by a clerk.
    let message = |agency: &str| -> i64 {
        db.query_row(
            "SELECT message FROM versions WHERE agency = ?1 AND state = 'accepted' ORDER BY version DESC LIMIT 1",
            [agency],
            |r| r.get(0),
        )
        .unwrap()
    };
    let (none, pass, unchecked, temp) = (
        message("so-cong-thuong"),
        message("cuc-thue"),
        message("so-xay-dung"),
        message("so-gtvt"),
    );
    assert_eq!(
        db.query_row("SELECT auth FROM messages WHERE id = ?1", [none], |r| {
            r.get::<_, String>(0)
        })
        .unwrap(),
        "none"
    );
    db.execute("UPDATE messages SET auth = 'pass' WHERE id = ?1", [pass])
        .unwrap();
    db.execute(
        "UPDATE messages SET auth = NULL, auth_evidence = NULL WHERE id = ?1",
        [unchecked],
    )
    .unwrap();
    db.execute(
        "UPDATE messages SET auth = 'temperror', forwarded_by = 'van-thu@skhdt.langson.example' WHERE id = ?1",
        [temp],
    )
    .unwrap();
    let expected = b.count(
        "SELECT count(*) FROM versions v JOIN messages m ON m.id = v.message WHERE v.state = 'accepted' AND m.source = 'mailbox' AND (m.auth IS NULL OR m.auth <> 'pass')",
    );
    assert!(expected > 3);

    let list = b.page("/unverified", c).await;
    assert!(list.contains("Bản nộp chưa xác thực người gửi"));
    assert!(list.contains(&format!("{expected} lần nộp")), "{list}");
    let rows: Vec<&str> = list
        .split("<tr class=\"version\">")
        .skip(1)
        .map(|r| r.split("</tr>").next().unwrap())
        .collect();
    assert_eq!(rows.len() as i64, expected);
    let row = |m: i64| rows.iter().find(|r| r.contains(&format!("#m{m}\"")));
    let r = row(none).expect("the `none` version is listed");
    assert!(
        r.contains("/agency/so-cong-thuong") && r.contains("Phụ lục III") && r.contains("lần 1"),
        "{r}"
    );
    assert!(r.contains("không xác thực được") && r.contains("<details class=\"evidence\">"));
    assert!(
        row(pass).is_none(),
        "an authenticated version is not listed"
    );
    assert!(row(unchecked).unwrap().contains("chưa kiểm tra xác thực"));
    let r = row(temp).unwrap();
    assert!(
        r.contains("chưa xác thực được (lỗi DNS)")
            && r.contains("chuyển tiếp bởi van-thu@skhdt.langson.example"),
        "{r}"
    );
    let only = b.page("/unverified?verdict=temperror", c).await;
    assert_eq!(only.matches("<tr class=\"version\">").count(), 1);
    assert_eq!(
        b.get("/unverified?verdict=whatever", c).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        b.get("/unverified?campaign=1999", c).await.status(),
        StatusCode::NOT_FOUND
    );
    // The campaign's figures count them and link to the list.
    let matrix = b.page(&format!("/campaign/{CAMPAIGN}"), c).await;
    assert!(matrix.contains(&format!(
        "<a href=\"/unverified?campaign={CAMPAIGN}\">{expected}</a>"
    )));

    // The agency page: the verdict of each message, the forward, the versions marked.
    let page = b.page("/agency/so-gtvt", c).await;
    let m = section(&page, &format!("id=\"m{temp}\""), "article");
    assert!(
        m.contains("chưa xác thực được (lỗi DNS)")
            && m.contains("chuyển tiếp bởi van-thu@skhdt.langson.example"),
        "{m}"
    );
    assert!(section(&page, "Phụ lục I, lần 1", "h3").contains("chưa xác thực người gửi"));
    let page = b.page("/agency/cuc-thue", c).await;
    assert!(!section(&page, "Phụ lục III, lần 1", "h3").contains("chưa xác thực người gửi"));
    assert!(page.contains(">đã xác thực</span>"));
    // The log shows the verdict of the messages its events are about.
    let log = b.page("/log?agency=so-cong-thuong", c).await;
    assert!(log.contains(">không xác thực được</span>"), "{log}");
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_sender_wrote_is_escaped_and_cut() {
    let b = Board::open().await;
    let (cookie, _) = b.session().await;
    let c = Some(cookie.as_str());
    let message: i64 = b
        .db()
        .query_row(
            "SELECT id FROM messages WHERE agency = 'so-tu-phap' ORDER BY id LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let subject = format!(
        "<script>alert(1)</script>\u{202e}gnp.exe {}",
        "dài ".repeat(200)
    );
    let name = format!("<img src=x onerror=alert(1)>{}.xlsx", "x".repeat(300));
    let db = b.db();
    db.execute(
        "UPDATE messages SET subject = ?1, from_name = '\"><b>Kẻ</b>' WHERE id = ?2",
        rusqlite::params![subject, message],
    )
    .unwrap();
    db.execute(
        "UPDATE files SET name = ?1 WHERE message = ?2",
        rusqlite::params![name, message],
    )
    .unwrap();
    let page = b.page("/agency/so-tu-phap", c).await;
    assert!(!page.contains("<script>alert") && !page.contains("<img src=x"));
    assert!(!page.contains("<b>Kẻ</b>"));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;gnp.exe dài"));
    assert!(!page.contains('\u{202e}'), "bidi controls are removed");
    let m = section(&page, &format!("id=\"m{message}\""), "article");
    let h3 = section(m, "<h3>", "h3");
    assert!(h3.contains("…") && h3.chars().count() < 400, "{h3}");
    assert!(m.contains("&lt;img src=x onerror=alert(1)&gt;xxx"));
    assert!(!m.contains(&"x".repeat(160)), "file names are cut");
    b.stop().await;
}
