-- Version 2: what several daemons sharing one index need (the embedded store has one daemon
-- and keeps the tables empty, so that moving up copies the same layout).

-- Each source (a mailbox, the drop folder) is worked by one daemon at a time. Its token rises
-- at every change of holder and is checked inside every filing transaction, so a daemon that
-- lost its lease without knowing it files nothing.
CREATE TABLE IF NOT EXISTS leases (
    name          TEXT PRIMARY KEY,           -- mailbox, mailbox:<name>, drop, …
    holder        TEXT NOT NULL,              -- daemons.holder
    token         BIGINT NOT NULL,
    expires_ms    BIGINT NOT NULL            -- the database's clock, ms since 1970
);

-- The daemons working the store, each renewing its row while it lives.
CREATE TABLE IF NOT EXISTS daemons (
    holder        TEXT PRIMARY KEY,           -- host:pid:random, new at every start
    host          TEXT NOT NULL,
    pid           BIGINT NOT NULL,
    backend       BIGINT,                    -- its PostgreSQL session, gone when it dies
    started_at    TEXT NOT NULL,
    seen_ms       BIGINT NOT NULL
);

-- Staff's board sessions, so that any daemon's board knows them. Kept by a hash of the
-- cookie's id, never the id itself.
CREATE TABLE IF NOT EXISTS board_sessions (
    id_hash       TEXT PRIMARY KEY,
    body          TEXT NOT NULL,              -- JSON: user, CSRF token, message, …
    seen_ms       BIGINT NOT NULL
);

-- Failed board logins per address, so that every daemon's board counts the same tries.
CREATE TABLE IF NOT EXISTS board_logins (
    peer          TEXT PRIMARY KEY,           -- the visitor's IP address
    failures      BIGINT NOT NULL,
    since_ms      BIGINT NOT NULL
);
