//! The staff board in a real browser: the store is filled by the real binary (`intake demo` on
//! the fixture mail, as of 12 July 2018), the board is served in-process on loopback, and a
//! headless Chromium driven through ChromeDriver does what staff do: reads the overview, opens
//! the matrix (38 agencies, Vietnamese states), follows an agency's link, opens the quarantine
//! and attributes the probable message to its agency through the page's form. Screenshots of
//! each page go to `target/board-screenshots/`.

#[path = "common/browser.rs"]
mod browser;
mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use browser::Browser;
use fantoccini::Locator;
use fantoccini::elements::Element;
use intake::board::BoardServer;

const NOW: &str = "2018-07-12T09:00:00+07:00";
const CAMPAIGN: &str = "742-2018";
/// The agency whose link is followed and whose quarantined message is attributed: Sở Y tế
/// sent two versions of Phụ lục I, and a personal Gmail message the board guesses is theirs.
const AGENCY: &str = "so-y-te";
const STAFF: &str = "Nguyễn Văn A";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_read_the_matrix_open_an_agency_and_attribute_a_message_in_chromium() {
    assert!(
        Path::new(browser::CHROMIUM).exists() && Path::new(browser::CHROMEDRIVER).exists(),
        "{}",
        browser::INSTALL
    );
    let shots = screenshots_dir();
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

    let mut config = common::config(dir.path());
    config.board.listen = ([127, 0, 0, 1], 0).into();
    let store_dir = config.store_dir.clone();
    let server = BoardServer::bind(config, store_dir, common::inspector(), common::clock(NOW))
        .await
        .expect("the board binds on loopback");
    let base = format!("http://{}", server.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server.serve(async {
        let _ = stopped.await;
    }));

    let browser = Browser::start(1366, 900, &shots.join("chromedriver.log")).await;
    let c = &browser.client;

    // The overview: the campaign's figures.
    c.goto(&format!("{base}/")).await.unwrap();
    let main = text(c, "main").await;
    assert!(main.contains("Tổng quan"), "{main}");
    assert!(main.contains("Công văn 742/SKHĐT-THQH"), "{main}");
    browser.screenshot(&shots.join("01-front-page.png")).await;

    // The matrix, reached by the overview's button.
    click(c, &format!("a.button[href='/campaign/{CAMPAIGN}']")).await;
    wait_path(c, &format!("/campaign/{CAMPAIGN}")).await;
    let rows = c
        .find_all(Locator::Css("table.matrix tbody tr.agency"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 38, "one matrix row per agency");
    let first = rows[0].text().await.unwrap();
    assert!(
        first.contains("Văn phòng Ủy ban nhân dân tỉnh"),
        "the roster's first agency heads the matrix: {first}"
    );
    let headers = text(c, "table.matrix thead").await;
    for d in ["Phụ lục I", "Phụ lục II", "Phụ lục III"] {
        assert!(headers.contains(d), "{headers}");
    }
    let matrix = text(c, "table.matrix tbody").await;
    for word in ["chưa nộp", "hợp lệ", "không hợp lệ", "trễ hạn", "lần 2"] {
        assert!(
            matrix.contains(word),
            "the matrix says \"{word}\":\n{matrix}"
        );
    }
    let links = c
        .find_all(Locator::Css("table.matrix tbody a[href^='/agency/']"))
        .await
        .unwrap();
    assert_eq!(links.len(), 38, "each agency's name links to its page");
    browser.screenshot(&shots.join("02-matrix.png")).await;

    // An agency's page, by its link in the matrix.
    click(c, &format!("table.matrix a[href='/agency/{AGENCY}']")).await;
    wait_path(c, &format!("/agency/{AGENCY}")).await;
    assert_eq!(text(c, "h1").await, "Sở Y tế");
    let page = text(c, "main").await;
    for word in [
        "Các lần nộp",
        "lần 2",
        "Phụ lục I",
        "Biên nhận và thư nhắc đã gửi",
    ] {
        assert!(
            page.contains(word),
            "the agency page says \"{word}\":\n{page}"
        );
    }
    browser.screenshot(&shots.join("03-agency.png")).await;

    // The quarantine, by the menu; the message the board thinks is Sở Y tế's.
    click(c, "header nav a[href='/quarantine']").await;
    wait_path(c, "/quarantine").await;
    assert_eq!(text(c, "h1").await, "Thư chờ xác nhận");
    let (article, id) = probable_message(c, AGENCY).await;
    browser
        .screenshot(&shots.join("04-quarantine-before.png"))
        .await;
    let form = article
        .find(Locator::Css("form[action='/action/assign']"))
        .await
        .expect("each quarantined message has an assign form");
    if let Ok(actor) = form.find(Locator::Css("input[name='actor']")).await {
        actor.clear().await.unwrap();
        actor.send_keys(STAFF).await.unwrap();
    }
    let agency = form
        .find(Locator::Css("input[name='agency']"))
        .await
        .unwrap();
    assert_eq!(
        agency.prop("value").await.unwrap().as_deref(),
        Some("Sở Y tế"),
        "the form is filled with the probable agency, by name"
    );
    form.find(Locator::Css("button[type='submit']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let flash = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("p.flash"))
        .await
        .expect("the action's result is shown")
        .text()
        .await
        .unwrap();
    let number = format!("BN-{id:06}");
    assert!(
        flash.contains(&format!("Đã gán thư {number} cho Sở Y tế")),
        "the page tells the message was attributed: {flash}"
    );
    // The attribution is filed as a record of its own, named in the same sentence.
    let record: i64 = flash
        .split("bản ghi mới BN-")
        .nth(1)
        .and_then(|s| s.get(..6))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("the page names the new record: {flash}"));
    wait_path(c, "/quarantine").await;
    assert!(
        c.find(Locator::Id(&format!("m{id}"))).await.is_err(),
        "the attributed message left the quarantine"
    );
    browser
        .screenshot(&shots.join("05-quarantine-after.png"))
        .await;

    // The agency's page now lists it.
    c.goto(&format!("{base}/agency/{AGENCY}")).await.unwrap();
    let page = text(c, "main").await;
    assert!(
        page.contains("BC giua ky So Y te"),
        "the agency page lists the attributed message:\n{page}"
    );
    browser.screenshot(&shots.join("06-agency-after.png")).await;

    browser.close().await;
    let _ = stop.send(());
    serving.await.unwrap().unwrap();

    // The store agrees: the attribution is in the intake log with the staff member's name.
    let log: serde_json::Value = serde_json::from_str(&common::intake_ok(
        dir.path(),
        &["--now", NOW, "log", "--agency", AGENCY, "--json"],
    ))
    .unwrap();
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "assigned"
                && e["actor"] == STAFF
                && e["message"] == serde_json::json!(record)),
        "the log records the attribution by {STAFF}: {log:#}"
    );
}

/// `target/board-screenshots/`, created.
fn screenshots_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/board-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The visible text of the first element matching `css`.
async fn text(c: &fantoccini::Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
        .text()
        .await
        .unwrap()
}

async fn click(c: &fantoccini::Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
        .click()
        .await
        .unwrap();
}

/// Waits until the browser shows `path` (a click's navigation has finished).
async fn wait_path(c: &fantoccini::Client, path: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let url = c.current_url().await.unwrap();
        let ready: bool = c
            .execute("return document.readyState === 'complete';", vec![])
            .await
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        if url.path() == path && ready {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the browser shows {url}, not {path}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The quarantined message whose probable agency is `agency`, and its row number.
async fn probable_message(c: &fantoccini::Client, agency: &str) -> (Element, i64) {
    let articles = c.find_all(Locator::Css("article.message")).await.unwrap();
    assert!(!articles.is_empty(), "the quarantine lists messages");
    for a in articles {
        if a.find(Locator::Css(&format!("a[href='/agency/{agency}']")))
            .await
            .is_ok()
        {
            let id = a.attr("id").await.unwrap().unwrap_or_default();
            let id = id.trim_start_matches('m').parse().unwrap();
            return (a, id);
        }
    }
    panic!("no quarantined message is guessed to be {agency}'s")
}
