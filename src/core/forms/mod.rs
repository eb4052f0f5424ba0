//! # Forms: specifications, recognition and validation
//!
//! The appendix forms are data ([`spec`]); a workbook an agency sends is matched to a form
//! and its rows and columns located ([`recognise`]); each cell is understood the Vietnamese
//! way ([`value`], [`legacy`]) and checked against the form's rules ([`validate`]), giving
//! findings that point at the sheet's own cells. [`check`] ties these together for one
//! workbook; [`blank`] writes the forms agencies fill, [`annotate`] the copy with the
//! findings marked that a receipt carries.

pub mod annotate;
pub mod blank;
pub mod check;
pub mod legacy;
mod meaning;

pub use meaning::is_percent_row;
pub mod recognise;
pub mod spec;
pub mod validate;
pub mod value;
