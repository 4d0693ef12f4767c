//! Smoke tests of the settle binary.
