//! End-to-end tests of the HTTP API: the router over a real SQLite file, driven by requests.

mod harness;

mod applications;
mod bounds;
mod credit_memos;
mod customers;
mod export;
mod hostile;
mod idempotency;
mod imports;
mod invoices;
mod negative_payments;
mod openapi;
mod payment_links;
mod policies;
mod previews;
mod refunds_and_voids;
mod reliability;
mod reports;
mod seed_000;
mod seed_001;
mod seed_002;
mod seed_003;
mod subscriptions;
mod tenancy;
