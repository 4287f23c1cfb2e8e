//! Repository traits, one file per concept, implemented on [`crate::Tx`]. Each method that touches
//! tenant data takes the tenant explicitly.

pub mod account_notices;
pub mod accounts;
pub mod api_tokens;
pub mod audit;
pub mod devices;
pub mod invitations;
mod keys;
pub mod mail;
pub mod memberships;
pub mod mfa;
pub mod org_settings;
pub mod orgs;
pub mod sessions;
pub mod sites;

pub use account_notices::AccountNoticeRepo;
pub use accounts::{AccountRecord, AccountRepo, AccountStatus};
pub use api_tokens::{ApiTokenRecord, ApiTokenRepo};
pub use audit::{AuditRepo, Checkpoint, NewAuditEvent};
pub use devices::{DeviceRepo, TrustedDevice};
pub use invitations::InvitationRepo;
pub use mail::{Attempt, MailRepo, NewMail, QueuedMail};
pub use memberships::{Membership, MembershipRepo};
pub use mfa::MfaRepo;
pub use org_settings::OrgSettingsRepo;
pub use orgs::OrganisationRepo;
pub use sessions::{SessionRecord, SessionRepo, SpentToken};
pub use sites::SiteRepo;
