//! Outgoing mail. Services enqueue a message in the outbox in the same transaction as the action
//! that sends it (so an acknowledged action never loses its mail); the delivery worker
//! (`delivery.rs`) sends due messages through a transport (`transport.rs`) with retries and
//! backoff. Messages are sealed at rest: their bodies carry one-time links.

pub mod delivery;
pub mod transport;

pub use delivery::{DeliveryReport, backoff_ms};
pub use transport::{MailError, Mailer};
