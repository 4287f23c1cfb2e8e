#![no_std]
//! Latchkey digital-key protocol, suite v1 — wire formats, strict decoders and pure checks.
//!
//! This crate is the shared language of the lock (`latchkey-lock`, `no_std`), the phone
//! (`latchkey-holder`) and the server: every byte that crosses BLE, MQTT or HTTP between them is
//! encoded and decoded here, and nothing here performs I/O or keeps state. The byte-exact
//! specification is `docs/protocol.md`; the rationale is the design brief `protocol.md`.
//!
//! Without features the crate needs neither `std` nor an allocator: encoders write into caller
//! buffers and decoders borrow from the input. `alloc` adds `Vec` helpers; `std` adds the `ring`
//! crypto backend.

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod cbor;
pub mod crypto;
pub mod error;

pub use error::Error;
pub mod bounded;
pub mod checks;
pub mod claim;
pub mod cose;
pub mod credential;
pub mod framing;
pub mod handshake;
pub mod ids;
pub mod log;
pub mod remote_command;
pub mod revocation;
pub mod time_token;
