//! Repository traits, one file per concept, implemented on [`crate::Tx`]. Each method that touches
//! tenant data takes the tenant explicitly.

pub mod audit;
mod keys;
pub mod mail;
pub mod orgs;
pub mod sites;

pub use audit::{AuditRepo, Checkpoint, NewAuditEvent};
pub use mail::{Attempt, MailRepo, NewMail, QueuedMail};
pub use orgs::OrganisationRepo;
pub use sites::SiteRepo;
