//! The back office through HTTP: the router over a real SQLite file, driven by requests.

mod harness;

mod actions;
mod admin;
mod anonymous;
mod attention;
mod collect;
mod credits;
mod customers;
mod invoices;
mod pay;
mod reports;
mod sessions;
mod subscriptions;
mod unapply;
