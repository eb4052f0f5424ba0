//! # The pure core
//!
//! What intake decides, from bytes to words, with no IO and no knowledge of where anything is
//! kept: every function here takes values and returns values, so each can be tested and
//! fuzzed on its own and every surface (receipts, reminders, the board, the command line)
//! says things the same way. The store, the sources, the outbox and the board sit around it
//! (`crate::store`, `crate::source`, `crate::outbox`, `crate::board`); the configuration
//! holds the core's compiled values (form specifications, templates) and the stages read its
//! campaigns.
//!
//! In the order a message meets them:
//! - [`extract`], [`forward`]: a message's parts, attachments (also in zip files and forwarded
//!   mail) and the forwarded original's sender;
//! - [`identify`], [`classify`]: which listed agency sent it, which deliverable each workbook is;
//! - [`forms`]: recognising an agency's layout, validating against the form, marking copies;
//! - [`pipeline`]: examining an item and planning what is recorded (version, outcome, receipt);
//! - [`reminder`]: which reminder step is due for whom;
//! - [`receipt`], [`letters`], [`templates`], [`words`], [`text`]: the wording of mail and of
//!   every table, in Vietnamese.

pub mod classify;
pub mod extract;
pub mod forms;
pub mod forward;
pub mod identify;
pub mod letters;
pub mod pipeline;
pub mod receipt;
pub mod reminder;
pub mod templates;
pub mod text;
pub mod words;
