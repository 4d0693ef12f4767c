//! End-to-end tests of the HTTP API: the router over a real SQLite file, driven by requests.

mod harness;

mod applications;
mod customers;
mod hostile;
mod invoices;
mod seed_002;
mod seed_003;
