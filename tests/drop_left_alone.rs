//! Every item of the drop folder gets an outcome staff see: `intake run --once` over a folder
//! with a link to a valid workbook, a FIFO, a hidden workbook, a workbook three levels deep and
//! a valid workbook files only the last and logs each other item once with its reason (in the
//! intake log as a table and as JSON, and on the board's page fetched over HTTP); a second pass
//! logs nothing again; an item that goes and comes back is logged again.

mod common;

use std::ffi::CString;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, SystemTime};

use intake::board::BoardServer;

const NOW: &str = "2018-07-05T18:00:00+07:00";

/// Sets an item's modification time (of the link itself, not its target) a minute back, so
/// that it has stayed the settle time.
fn age(path: &Path) {
    let c = CString::new(path.to_str().unwrap()).unwrap();
    let past = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 60;
    let t = libc::timespec {
        tv_sec: past as libc::time_t,
        tv_nsec: 0,
    };
    let times = [t, t];
    let rc = unsafe {
        libc::utimensat(
            libc::AT_FDCWD,
            c.as_ptr(),
            times.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    assert_eq!(rc, 0, "utimensat {}", path.display());
}

fn mkfifo(path: &Path) {
    let c = CString::new(path.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

fn db(dir: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join("var/store/intake.sqlite")).unwrap()
}

/// The `left-alone` events of the drop folder: (path, reason), in order.
fn left_alone_events(dir: &Path) -> Vec<(String, String)> {
    let conn = db(dir);
    let mut st = conn
        .prepare(
            "SELECT files FROM events WHERE kind = 'left-alone' AND source = 'drop' ORDER BY id",
        )
        .unwrap();
    st.query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|f| {
            let v: serde_json::Value = serde_json::from_str(&f.unwrap()).unwrap();
            (
                v[0]["name"].as_str().unwrap().to_string(),
                v[0]["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn sorted(mut v: Vec<(String, String)>) -> Vec<(String, String)> {
    v.sort();
    v
}

fn pair(p: &str, r: &str) -> (String, String) {
    (p.to_string(), r.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_item_the_drop_folder_does_not_take_is_logged_once_and_listed_on_the_board() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::config(dir.path());
    let drop = config.drop.path.clone();
    let workbook = common::fixtures_dir().join("workbooks/23-PL3_SoYTe.xlsx");
    std::fs::create_dir_all(drop.join("so-y-te/a/b")).unwrap();
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::copy(&workbook, outside.join("PL1_SoYTe.xlsx")).unwrap();

    // The valid workbook, and four items intake does not take.
    std::fs::copy(&workbook, drop.join("so-y-te/PL3_SoYTe.xlsx")).unwrap();
    std::os::unix::fs::symlink(
        outside.join("PL1_SoYTe.xlsx"),
        drop.join("so-y-te/link.xlsx"),
    )
    .unwrap();
    mkfifo(&drop.join("pipe"));
    std::fs::copy(&workbook, drop.join(".hidden.xlsx")).unwrap();
    std::fs::copy(&workbook, drop.join("so-y-te/a/b/deep.xlsx")).unwrap();
    for p in [
        "so-y-te/PL3_SoYTe.xlsx",
        "so-y-te/link.xlsx",
        "pipe",
        ".hidden.xlsx",
        "so-y-te/a/b/deep.xlsx",
    ] {
        age(&drop.join(p));
    }
    // An editor's lock file that has just appeared: not settled, so not reported.
    std::fs::write(drop.join(".~lock.PL3_SoYTe.xlsx#"), b"lock").unwrap();

    common::intake_ok(dir.path(), &["--now", NOW, "run", "--once"]);
    let conn = db(dir.path());
    let taken: Vec<(String, String)> = conn
        .prepare("SELECT source_key, outcome FROM messages WHERE source = 'drop'")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(taken.len(), 1, "{taken:?}");
    assert!(
        taken[0].0.starts_with("drop:so-y-te/PL3_SoYTe.xlsx:"),
        "{taken:?}"
    );
    assert_eq!(taken[0].1, "filed");
    assert!(
        !drop.join("so-y-te/PL3_SoYTe.xlsx").exists(),
        "the valid workbook is moved aside once filed"
    );
    let want = sorted(vec![
        pair(".hidden.xlsx", "hidden"),
        pair("pipe", "fifo"),
        pair("so-y-te/a/b/deep.xlsx", "too-deep"),
        pair("so-y-te/link.xlsx", "symlink"),
    ]);
    assert_eq!(sorted(left_alone_events(dir.path())), want);
    // Left where they are; the link's target untouched.
    assert!(drop.join("so-y-te/link.xlsx").is_symlink());
    assert!(outside.join("PL1_SoYTe.xlsx").exists());
    assert!(drop.join(".hidden.xlsx").exists() && drop.join("so-y-te/a/b/deep.xlsx").exists());

    // The intake log, for staff and for scripts.
    let table = common::intake_ok(dir.path(), &["--now", NOW, "log"]);
    for words in [
        "để nguyên trong thư mục nhận",
        "so-y-te/link.xlsx",
        "là liên kết (symlink)",
        "ống dẫn FIFO",
        "tên bắt đầu bằng dấu chấm",
        "nằm quá sâu: chỉ nhận tệp ở thư mục nhận và tối đa hai cấp thư mục con",
    ] {
        assert!(table.contains(words), "`{words}` in the log:\n{table}");
    }
    let json: Vec<serde_json::Value> = serde_json::from_str(&common::intake_ok(
        dir.path(),
        &["--now", NOW, "log", "--json"],
    ))
    .unwrap();
    let listed: Vec<_> = json
        .iter()
        .filter(|e| e["kind"] == "left-alone" && e["source"] == "drop")
        .map(|e| {
            pair(
                e["files"][0]["name"].as_str().unwrap(),
                e["files"][0]["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(sorted(listed), want);

    // A second pass logs none of them again; the lock file, gone by then, never at all.
    std::fs::remove_file(drop.join(".~lock.PL3_SoYTe.xlsx#")).unwrap();
    common::intake_ok(dir.path(), &["--now", NOW, "run", "--once"]);
    assert_eq!(left_alone_events(dir.path()).len(), 4);

    // The FIFO goes, then comes back: logged again.
    std::fs::remove_file(drop.join("pipe")).unwrap();
    common::intake_ok(dir.path(), &["--now", NOW, "run", "--once"]);
    assert_eq!(left_alone_events(dir.path()).len(), 4);
    mkfifo(&drop.join("pipe"));
    age(&drop.join("pipe"));
    common::intake_ok(dir.path(), &["--now", NOW, "run", "--once"]);
    let events = left_alone_events(dir.path());
    assert_eq!(events.len(), 5);
    assert_eq!(events[4], pair("pipe", "fifo"));

    // The board lists them: path in the folder, reason in Vietnamese, when first seen.
    let mut config = common::config(dir.path());
    config.board.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    let store_dir = config.store_dir.clone();
    let server = BoardServer::bind(config, store_dir, common::inspector(), common::clock(NOW))
        .await
        .unwrap();
    let addr = server.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(server.serve(async {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let page = http
        .get(format!("http://{addr}/left-alone"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Mục để nguyên trong thư mục nhận"), "{html}");
    for (path, words) in [
        ("so-y-te/link.xlsx", "là liên kết (symlink)"),
        ("pipe", "không phải tệp thường (ống dẫn FIFO)"),
        (".hidden.xlsx", "tên bắt đầu bằng dấu chấm"),
        ("so-y-te/a/b/deep.xlsx", "nằm quá sâu"),
    ] {
        let row = html
            .split("<tr>")
            .find(|r| r.contains(&format!("<code>{path}</code>")))
            .unwrap_or_else(|| panic!("{path} listed on the board:\n{html}"));
        assert!(row.contains(words), "{path}: {row}");
        // First seen at the pass's time (the clock of the test), in the department's words.
        assert!(row.contains("2018"), "{path}: {row}");
    }
    assert!(
        !html.contains("PL3_SoYTe.xlsx</code>"),
        "the filed workbook is not left alone"
    );
    // The intake log page words the event for a dropped item, not as ordinary mail.
    let log = http
        .get(format!("http://{addr}/log"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(log.contains("để nguyên trong thư mục nhận"), "{log}");
    stop.send(()).unwrap();
    served.await.unwrap().unwrap();
}
