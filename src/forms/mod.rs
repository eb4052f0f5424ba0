//! # Forms: specifications, recognition and validation
//!
//! The appendix forms are data ([`spec`]); a workbook an agency sends is matched to a form
//! and its rows and columns located (`recognise`); each cell is understood the Vietnamese
//! way (`value`, `legacy`) and checked against the form's rules (`validate`), giving
//! findings that point at the sheet's own cells.

pub mod spec;
