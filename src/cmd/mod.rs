//! # The commands, one module each
//!
//! What each subcommand of `intake` does, apart from how the command line is parsed: a module
//! per command or group of related commands, each wording the library's work for staff.

pub mod backup;
pub mod check;
pub mod docs;
pub mod doctor;
pub mod forms;
pub mod init;
