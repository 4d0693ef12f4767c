//! Settle's domain core: money, documents, payments, application rules and the journal.
//!
//! This crate knows nothing about SQL, HTTP, JSON, async or the clock. Every command is a
//! function from loaded state and a request to a balanced [`ledger::JournalTxn`] (or a typed
//! [`error::Rejection`]); every balance is the fold of postings in [`ledger::Effects`].

#![warn(missing_docs)]
#![deny(clippy::float_arithmetic)]

pub mod adjustment;
pub mod aging;
pub mod application;
pub mod customer;
pub mod document;
pub mod error;
pub mod fold;
pub mod ids;
pub mod ledger;
pub mod money;
pub mod payment;
pub mod refund;
pub mod settings;
pub mod subscription;
pub mod version;

#[cfg(test)]
mod tests;
