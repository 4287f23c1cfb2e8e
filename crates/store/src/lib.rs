//! # latchkey-store
//!
//! Storage for Latchkey. Services open a [`Tx`] on a [`Store`] and call the repository traits in
//! [`repo`], every one of which takes the tenant it works in (tenancy is structural: there is no
//! unscoped query). One repository implementation runs on both backends through the portable SQL
//! layer (`sql.rs`): SQLite (embedded default) and PostgreSQL (with row-level security as a second
//! wall). PII columns are sealed with per-tenant keys from the [`keyring`].

mod db;
mod error;
pub mod keyring;
mod migrate;
pub mod repo;
mod sql;

pub use db::{Backend, OpenMode, Opened, Store, StoreUrl, Tx, VerifyReport};
pub use error::{Result, StoreError};
pub use keyring::{KeyError, MasterKey};
pub use migrate::{known_versions, latest_version};

/// Every table the schema must have (checked by `latchkey db verify`).
pub const TABLES: &[&str] = &[
    "schema_migrations",
    "keyring_meta",
    "organisations",
    "tenant_keys",
    "sites",
    "audit_events",
    "audit_heads",
    "audit_checkpoints",
    "mail_outbox",
    "accounts",
    "sessions",
    "one_time_tokens",
    "memberships",
    "account_links",
    "api_tokens",
    "trusted_devices",
    "mfa_enrolments",
    "recovery_codes",
    "account_notices",
    "site_holidays",
    "spaces",
    "space_manager_scopes",
    "people_groups",
    "group_members",
    "devices",
    "device_owners",
    "device_groups",
    "device_group_members",
    "labels",
    "grants",
    "access_versions",
];
