//! # intake
//!
//! Takes in the reports that agencies e-mail to a provincial planning department: finds who
//! sent each message and which deliverable each workbook is, files every version, logs every
//! outcome and queues a receipt. The pipeline, from bytes to decisions, is pure; IO lives at
//! the edges.
//!
//! ```text
//!  source::{maildir, imap, drop} ──► extract ──► workbook (bounded reading) ──► identify ──► classify
//!        ▲ acknowledge                                                                │
//!        │ after commit            pipeline::plan ◄── store (prior versions, dups) ◄──┘
//!        └──────────── ingest ──► store::record (objects, index, log, outbox) ──► outbox (lettre)
//! ```
//!
//! The tree shows the layers:
//! - [`core`]: the pure core (extraction, identification, classification, recognition and
//!   validation of forms, planning, reminders, the wording of mail and tables): no IO, no
//!   backend.
//! - [`config`]: TOML in two steps (raw, then resolved); the shipped `config/` is embedded.
//! - [`workbook`]: reads spreadsheets within limits (a child process for formats that cannot
//!   be streamed); [`auth`]: who really sent a message (DKIM, DMARC, our own server's
//!   Authentication-Results).
//! - [`store`]: the store's one interface (record an item, prior versions, claim mail, decide
//!   a reminder step, leases, the board's views) over its two databases (`store::db`: SQLite
//!   embedded, PostgreSQL shared) and its two object stores (disk, an S3 bucket).
//! - Adapters at the edges: [`source`] (Maildir, IMAP, the drop folder), [`outbox`] (file,
//!   SMTP), [`board`] (the staff web board), [`export`].
//! - Orchestration: [`ingest`] runs passes, [`notices`] queues reminders and the digest,
//!   [`revalidate`], and [`daemon`] the long-running loop (with the lease keeper that shares
//!   sources between daemons).
//! - The binary's commands, one file each, are in `src/cmd/`.

pub mod auth;
pub mod board;
pub mod causes;
pub mod clock;
pub mod config;
pub mod config_file;
pub mod core;
pub mod daemon;
pub mod export;
#[doc(hidden)]
pub mod fuzzing;
pub mod health;
pub mod ingest;
pub mod notices;
pub mod outbox;
pub mod panics;
pub mod progress;
pub mod report;
pub mod revalidate;
pub mod samples;
pub mod service;
pub mod source;
pub mod store;
pub mod workbook;
