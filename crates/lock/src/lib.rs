#![no_std]
#![warn(missing_docs)]
//! Latchkey lock core: the offline lock as a state machine driven by events (BLE frame
//! received, button pressed, timer tick, power-on), over narrow traits for flash, clock,
//! actuator and entropy ([`platform`]) and the protocol crate's `Crypto`.
//!
//! It implements the design brief's check order (via `latchkey_protocol::checks`), a
//! verified-credential cache, wrong-attempt lockout, a revocation store that only moves
//! forward, last-known-good time that never goes backwards and an untrusted-time mode after
//! RTC loss, an event log with persisted sequence ceilings (no reuse after power loss) whose
//! records are freed only by a valid server ack, remote commands with counter and expiry, and
//! provisioning that needs a button press, the label's setup secret, and refuses a second claim.
//! There is no default key: an unclaimed lock answers no handshake.
//!
//! Feature `sim` adds an in-memory board with power-loss injection at every flash write.

#[cfg(feature = "std")]
extern crate std;

pub mod counters;
pub mod machine;
pub mod platform;
#[cfg(feature = "sim")]
pub mod sim;

pub use machine::{ClaimRefusal, LockCore, LockError};
