//! Repository traits, one file per concept, implemented on [`crate::Tx`]. Each method that touches
//! tenant data takes the tenant explicitly.

pub mod account_notices;
pub mod accounts;
pub mod api_tokens;
pub mod audit;
pub mod device_groups;
pub mod device_registry;
pub mod devices;
pub mod grants;
pub mod invitations;
mod keys;
pub mod labels;
pub mod mail;
pub mod member_profiles;
pub mod memberships;
pub mod mfa;
pub mod org_settings;
pub mod orgs;
pub mod people_groups;
pub mod role_scopes;
pub mod sessions;
pub mod sites;
pub mod spaces;

pub use account_notices::AccountNoticeRepo;
pub use accounts::{AccountRecord, AccountRepo, AccountStatus};
pub use api_tokens::{ApiTokenRecord, ApiTokenRepo};
pub use audit::{AuditRepo, Checkpoint, NewAuditEvent};
pub use device_groups::DeviceGroupRepo;
pub use device_registry::DeviceRegistryRepo;
pub use devices::{DeviceRepo, TrustedDevice};
pub use grants::{AccessSnapshot, GrantFilter, GrantRecord, GrantRepo};
pub use invitations::InvitationRepo;
pub use labels::LabelRepo;
pub use mail::{Attempt, MailRepo, NewMail, QueuedMail};
pub use member_profiles::{MemberProfile, MemberProfileRepo};
pub use memberships::{Membership, MembershipRepo};
pub use mfa::MfaRepo;
pub use org_settings::OrgSettingsRepo;
pub use orgs::OrganisationRepo;
pub use people_groups::GroupRepo;
pub use role_scopes::RoleScopeRepo;
pub use sessions::{SessionRecord, SessionRepo, SpentToken};
pub use sites::SiteRepo;
pub use spaces::SpaceRepo;
