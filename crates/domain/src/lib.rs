//! # latchkey-domain
//!
//! The pure rules of Latchkey: identifiers, the injected clock, the error vocabulary shared by the
//! server, the API and the CLI, tenancy (organisations and their contracts, sites), and the audit
//! hash chain. Nothing in this crate performs IO; effects live in `latchkey-store` and
//! `latchkey-server`, which call down into these rules.

pub mod audit;
pub mod clock;
pub mod directory;
pub mod error;
pub mod identity;
pub mod ids;
pub mod import;
pub mod tenancy;
pub mod time;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{DomainError, ErrorCode};
pub use ids::{
    AccountId, DeviceGroupId, DeviceId, GrantId, GroupId, OrgId, Scope, SiteId, SpaceId, TenantId,
};
