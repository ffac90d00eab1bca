//! Runs the unit tests of `examples/common/pyrandom.rs`, the Python-compatible
//! generator the seed ports share: every draw is checked against CPython's.

#[path = "../examples/common/pyrandom.rs"]
mod pyrandom;
