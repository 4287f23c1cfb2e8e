//! The protocol crate's single integration test binary (one binary: link time on 2 cores).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "all/support.rs"]
mod support;

#[path = "all/attacks.rs"]
mod attacks;
#[path = "all/codec.rs"]
mod codec;
#[path = "all/properties.rs"]
mod properties;
#[path = "all/vectors.rs"]
mod vectors;
#[path = "all/wycheproof.rs"]
mod wycheproof_vectors;
