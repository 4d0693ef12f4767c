//! Unit and property tests of the core.
