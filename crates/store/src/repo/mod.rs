//! Repository traits, one file per concept, implemented on [`crate::Tx`]. Each method that touches
//! tenant data takes the tenant explicitly.

pub mod accounts;
pub mod audit;
mod keys;
pub mod mail;
pub mod orgs;
pub mod sessions;
pub mod sites;

pub use accounts::{AccountRecord, AccountRepo, AccountStatus};
pub use audit::{AuditRepo, Checkpoint, NewAuditEvent};
pub use mail::{Attempt, MailRepo, NewMail, QueuedMail};
pub use orgs::OrganisationRepo;
pub use sessions::{SessionRecord, SessionRepo};
pub use sites::SiteRepo;
