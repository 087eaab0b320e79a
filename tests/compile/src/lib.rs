//! The compile-time tests live in `tests/ui.rs` and `ui/`.
