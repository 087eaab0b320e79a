//! The tests live in this package's `tests/` folder.
