#![warn(missing_docs)]
//! Latchkey holder: the phone side of suite v1.
//!
//! A [`wallet::Wallet`] keeps the phone's credentials (bound to a holder key behind the
//! protocol crate's `Signer` trait, so secure hardware can back it), the site's lock directory,
//! and what the phone carries as a courier: the newest revocation list, server acks for locks,
//! and sealed log batches collected from locks. [`unlock::Attempt`] is the initiator side of one
//! handshake, transport-agnostic; [`link::SimLink`] is an in-memory BLE link with configurable
//! MTU, loss, duplication, reordering and delay for whole-unlock tests.

pub mod link;
pub mod unlock;
pub mod wallet;
