#![no_std]
#![warn(missing_docs)]
//! Latchkey digital-key protocol, suite v1 — wire formats, strict decoders and pure checks.
//!
//! This crate is the shared language of the lock (`latchkey-lock`, `no_std`), the phone
//! (`latchkey-holder`) and the server: every byte that crosses BLE, MQTT or HTTP between them is
//! encoded and decoded here, and nothing here performs I/O or keeps state. The byte-exact
//! specification is `docs/protocol.md`; the rationale is the design brief `protocol.md`.
//!
//! | module | what crosses the wire |
//! |---|---|
//! | [`credential`] | COSE_Sign1 credential over fixed-profile CBOR claims |
//! | [`handshake`] | M1–M4, TH2/TH3 transcript hashes, the HKDF key schedule |
//! | [`revocation`] | signed, versioned deny-list with `min_epoch` and per-user floors |
//! | [`time_token`] | signed time bound to the lock's session nonce |
//! | [`remote_command`] | server-signed, counter-bound command relayed by a hub |
//! | [`log`] | 32-byte records, hash chain, sealed batches, server ack |
//! | [`claim`] | claim bundle and the setup-secret proof |
//! | [`framing`] | 1-byte-header BLE framing and bounded reassembly |
//! | [`checks`] | the lock's pure accept/refuse decisions, cheap first |
//! | [`crypto`] | the `Crypto` trait; software (RustCrypto) and `ring` backends |
//!
//! Without features the crate needs neither `std` nor an allocator: encoders write into caller
//! buffers, decoders borrow from the input, and lists have fixed capacities ([`bounded`]).
//! `alloc` adds `Vec` helpers ([`owned`]); `std` adds the `ring` backend.

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod bounded;
pub mod cbor;
pub mod checks;
pub mod claim;
pub mod cose;
pub mod credential;
pub mod crypto;
pub mod error;
pub mod framing;
pub mod handshake;
pub mod ids;
pub mod log;
#[cfg(feature = "alloc")]
pub mod owned;
pub mod remote_command;
pub mod revocation;
pub mod time_token;

pub use error::Error;
