-- The intake store's index. Files themselves live in objects/ (by SHA-256) and the filed tree.
CREATE TABLE IF NOT EXISTS messages (
    id            INTEGER PRIMARY KEY,
    source        TEXT NOT NULL,              -- mailbox | drop
    source_key    TEXT NOT NULL UNIQUE,       -- Maildir unique name, or drop path+size+mtime
    message_id    TEXT,
    raw_sha256    TEXT NOT NULL,
    raw_size      INTEGER NOT NULL,
    from_addr     TEXT,
    from_name     TEXT,
    subject       TEXT,
    arrived_at    TEXT NOT NULL,
    processed_at  TEXT NOT NULL,
    campaign      TEXT,
    agency        TEXT,                       -- sure or confirmed agency
    agency_match  TEXT NOT NULL,              -- address | domain | probable | assigned | none
    probable      TEXT,                       -- a guessed agency awaiting staff
    evidence      TEXT,
    outcome       TEXT NOT NULL,
    auto_mail     TEXT,
    detail        TEXT,
    acknowledged  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS messages_message_id ON messages(message_id);
CREATE INDEX IF NOT EXISTS messages_raw ON messages(raw_sha256);
CREATE INDEX IF NOT EXISTS messages_unacked ON messages(acknowledged) WHERE acknowledged = 0;

CREATE TABLE IF NOT EXISTS files (
    id            INTEGER PRIMARY KEY,
    message       INTEGER NOT NULL REFERENCES messages(id),
    seq           INTEGER NOT NULL,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL,              -- workbook | document
    origin        TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    size          INTEGER NOT NULL,
    check_result  TEXT NOT NULL,              -- ok | empty | unreadable | encrypted
    check_detail  TEXT,
    deliverable   TEXT,
    matched_by    TEXT,
    version       INTEGER,
    filed_path    TEXT,                       -- relative to the store; NULL until filed
    form          TEXT,                       -- recognised form id
    form_version  INTEGER,
    recognised_by TEXT,                       -- marker | content
    errors        INTEGER,                    -- validation findings of severity error
    warnings      INTEGER,
    annotated     TEXT                        -- SHA-256 of the annotated copy, when findings
);
CREATE INDEX IF NOT EXISTS files_message ON files(message);

CREATE TABLE IF NOT EXISTS versions (
    campaign      TEXT NOT NULL,
    agency        TEXT NOT NULL,
    deliverable   TEXT NOT NULL,
    version       INTEGER NOT NULL,
    message       INTEGER NOT NULL REFERENCES messages(id),
    received_at   TEXT NOT NULL,
    state         TEXT NOT NULL,              -- received | invalid | accepted
    late          INTEGER NOT NULL,
    warnings      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign, agency, deliverable, version)
);

-- Validation findings of a file, in the order found.
CREATE TABLE IF NOT EXISTS findings (
    id            INTEGER PRIMARY KEY,
    file          INTEGER NOT NULL REFERENCES files(id),
    rule          TEXT NOT NULL,
    severity      TEXT NOT NULL,              -- error | warning
    sheet         TEXT NOT NULL,
    cell          TEXT,
    indicator     TEXT,
    label         TEXT,
    col           TEXT,
    value         TEXT,
    expected      TEXT,
    message       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS findings_file ON findings(file);

-- Values read from workbooks, for consolidation.
CREATE TABLE IF NOT EXISTS data (
    file          INTEGER NOT NULL REFERENCES files(id),
    campaign      TEXT NOT NULL,
    agency        TEXT NOT NULL,
    deliverable   TEXT NOT NULL,
    version       INTEGER NOT NULL,           -- the submission's version
    form          TEXT NOT NULL,
    form_version  INTEGER NOT NULL,
    sheet         TEXT NOT NULL,
    indicator     TEXT NOT NULL,
    col           TEXT NOT NULL,
    value         REAL,                       -- a single number
    low           REAL,                       -- a range, "at least" or "at most"
    high          REAL,
    text          TEXT NOT NULL,              -- the cell as written
    unit          TEXT,
    cell          TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS data_cell ON data(campaign, deliverable, agency, version);

CREATE TABLE IF NOT EXISTS events (
    id            INTEGER PRIMARY KEY,
    at            TEXT NOT NULL,
    kind          TEXT NOT NULL,
    source        TEXT NOT NULL,
    message       INTEGER,
    message_id    TEXT,
    agency        TEXT,
    campaign      TEXT,
    files         TEXT,                       -- JSON
    detail        TEXT,
    actor         TEXT
);
CREATE INDEX IF NOT EXISTS events_at ON events(at);

CREATE TABLE IF NOT EXISTS outbox (
    id            INTEGER PRIMARY KEY,
    created_at    TEXT NOT NULL,
    kind          TEXT NOT NULL,              -- receipt | reminder | digest
    message       INTEGER REFERENCES messages(id),
    agency        TEXT,
    to_addr       TEXT NOT NULL,
    subject       TEXT NOT NULL,
    body          TEXT NOT NULL,
    in_reply_to   TEXT,
    refs          TEXT,
    sent_at       TEXT,
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    delivered_as  TEXT,
    attachments   TEXT,                       -- JSON: [{"sha256", "name", "content_type"}]
    next_attempt_at TEXT,                     -- after a transient failure: not before then
    failed_at     TEXT                        -- refused for good, given up, or cancelled
);
CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox(sent_at) WHERE sent_at IS NULL;
CREATE INDEX IF NOT EXISTS outbox_to ON outbox(to_addr, created_at);
CREATE INDEX IF NOT EXISTS outbox_agency ON outbox(agency);
CREATE INDEX IF NOT EXISTS outbox_message ON outbox(message);

-- Where the IMAP source stands in each mailbox: UIDs are meaningful only under their
-- UIDVALIDITY; every message with a UID up to last_uid is recorded and settled (acknowledged
-- or left alone). When the server's UIDVALIDITY differs, the mailbox is read again from the
-- start and already filed messages are recognised by Message-ID and content hash.
CREATE TABLE IF NOT EXISTS imap_sync (
    account       TEXT NOT NULL,              -- user@host
    mailbox       TEXT NOT NULL,              -- as configured (UTF-8)
    uid_validity  INTEGER NOT NULL,
    last_uid      INTEGER NOT NULL,
    previous_validity INTEGER,                -- set by a resync, for recognising old keys
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (account, mailbox)
);

-- Staff decisions per agency: a deliverable it need not send, a later deadline.
CREATE TABLE IF NOT EXISTS exemptions (
    campaign      TEXT NOT NULL,
    agency        TEXT NOT NULL,
    deliverable   TEXT NOT NULL,
    at            TEXT NOT NULL,
    actor         TEXT NOT NULL,
    reason        TEXT,
    PRIMARY KEY (campaign, agency, deliverable)
);

CREATE TABLE IF NOT EXISTS extensions (
    campaign      TEXT NOT NULL,
    agency        TEXT NOT NULL,
    until         TEXT NOT NULL,
    at            TEXT NOT NULL,
    actor         TEXT NOT NULL,
    reason        TEXT,
    PRIMARY KEY (campaign, agency)
);

-- Each reminder step of each agency, decided once: queued (with its outbox row) or skipped
-- (superseded by a later step, stale, no address). The key makes a step happen at most once
-- across restarts and clock jumps.
CREATE TABLE IF NOT EXISTS reminders (
    campaign      TEXT NOT NULL,
    agency        TEXT NOT NULL,
    step          INTEGER NOT NULL,           -- days from the last day of submission
    due_at        TEXT NOT NULL,
    decided_at    TEXT NOT NULL,
    outcome       TEXT NOT NULL,              -- queued | skipped
    reason        TEXT,
    outbox        INTEGER REFERENCES outbox(id),
    PRIMARY KEY (campaign, agency, step)
);

-- The staff digest, once per local day.
CREATE TABLE IF NOT EXISTS digests (
    day           TEXT PRIMARY KEY,           -- YYYY-MM-DD in the department's time zone
    at            TEXT NOT NULL,
    outbox        INTEGER REFERENCES outbox(id)
);

-- Facts about the store itself (its instance name, used in the Message-IDs it makes).
CREATE TABLE IF NOT EXISTS meta (
    key           TEXT PRIMARY KEY,
    value         TEXT NOT NULL
);

-- Items the drop folder leaves alone (links, special files, hidden, temporary, too deep), each
-- logged once while it stays there; a row goes when its item goes.
CREATE TABLE IF NOT EXISTS drop_left_alone (
    path          TEXT PRIMARY KEY,           -- relative to the drop folder
    reason        TEXT NOT NULL,              -- symlink | fifo | device | socket | hidden | temporary | too-deep
    first_seen    TEXT NOT NULL,
    event         INTEGER REFERENCES events(id)
);
