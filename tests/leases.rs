//! A daemon that lost its lease files nothing: a pass given the token it held before another
//! daemon took the source over records no item and leaves every one at the source for the new
//! holder, whose pass (with the token now in force) files them all, each once. Deterministic,
//! on the embedded store (the lease steps are the same statements on PostgreSQL, where
//! `tests/postgres_store.rs` and `tests/cluster.rs` run them under real daemons).

mod common;

use intake::source::Source;
use intake::source::maildir::Maildir;
use intake::store::Store;
use intake::store::leases::Fence;

const NOW: &str = "2018-07-12T09:00:00+07:00";

fn pass(
    config: &intake::config::Config,
    store: &Store,
    fence: Fence,
) -> intake::ingest::PassReport {
    let mut maildir = Maildir::open(&config.mailbox.path, config.mailbox.on_filed).unwrap();
    intake::ingest::pass(
        config,
        store,
        &common::inspector(),
        &intake::core::pipeline::Memo::default(),
        &intake::auth::Authenticator::new(&config.auth),
        &common::clock(NOW),
        &mut [(&mut maildir as &mut dyn Source, Some(fence))],
        &mut intake::ingest::Failures::default(),
    )
    .unwrap()
}

#[test]
fn a_stale_holder_files_nothing_and_the_new_one_files_each_item_once() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::config(dir.path());
    common::runs::deliver_fixtures(dir.path());
    let waiting = common::tree(&config.mailbox.path.join("new")).len();
    assert!(waiting > 20, "{waiting} fixtures");
    let store = Store::open(&config.store_dir).unwrap();
    let ttl = intake::store::leases::LEASE_MS;
    for who in ["old", "new"] {
        store.heartbeat(who, ttl, NOW).unwrap();
    }
    let token = store.acquire("mailbox", "old", ttl).unwrap().unwrap();
    let stale = Fence {
        name: "mailbox".into(),
        holder: "old".into(),
        token,
    };
    // The source passes to another daemon (the old one paused past its lease, say).
    store.release(&stale).unwrap();
    let taken = store.acquire("mailbox", "new", ttl).unwrap().unwrap();
    assert!(taken > token);

    let report = pass(&config, &store, stale);
    assert_eq!(report.taken(), 0, "{report:?}");
    let index = rusqlite::Connection::open(config.store_dir.join("intake.sqlite")).unwrap();
    let recorded: i64 = index
        .query_row("SELECT count(*) FROM messages", [], |r| r.get(0))
        .unwrap();
    assert_eq!(recorded, 0, "the stale holder recorded nothing");
    assert_eq!(
        common::tree(&config.mailbox.path.join("new")).len(),
        waiting,
        "and acknowledged nothing at the source"
    );

    let report = pass(
        &config,
        &store,
        Fence {
            name: "mailbox".into(),
            holder: "new".into(),
            token: taken,
        },
    );
    assert_eq!(report.taken(), waiting, "{report:?}");
    let (rows, keys): (i64, i64) = index
        .query_row(
            "SELECT count(*), count(DISTINCT source_key) FROM messages",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((rows, keys), (waiting as i64, waiting as i64));
}
