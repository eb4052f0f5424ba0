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
//! - [`auth`]: who really sent a message (DKIM, DMARC, our own server's Authentication-Results).
//! - [`config`]: TOML in two steps (raw, then resolved); the shipped `config/` is embedded.
//! - [`extract`], [`forward`], [`identify`], [`classify`], [`pipeline`]: pure stages; [`workbook`] reads
//!   spreadsheets within limits (a child process for formats that cannot be streamed).
//! - [`store`]: SQLite index, content-addressed objects, the filed tree; [`ingest`] runs passes.
//! - [`source`], [`outbox`], [`daemon`]: adapters and the long-running loop; [`board`]: the
//!   staff web board the daemon serves.
//! - [`words`]: the one vocabulary every surface words states, rates, spans, numbers and
//!   dates with.

pub mod auth;
pub mod board;
pub mod causes;
pub mod classify;
pub mod clock;
pub mod config;
pub mod config_file;
pub mod daemon;
pub mod export;
pub mod extract;
pub mod forms;
pub mod forward;
#[doc(hidden)]
pub mod fuzzing;
pub mod health;
pub mod identify;
pub mod ingest;
pub mod letters;
pub mod notices;
pub mod outbox;
pub mod panics;
pub mod pipeline;
pub mod progress;
pub mod receipt;
pub mod reminder;
pub mod report;
pub mod revalidate;
pub mod samples;
pub mod service;
pub mod source;
pub mod store;
pub mod templates;
pub mod text;
pub mod words;
pub mod workbook;
