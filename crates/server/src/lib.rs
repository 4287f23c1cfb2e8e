//! # latchkey-server
//!
//! The server: application services (each a command that validates with `latchkey-domain` and
//! writes through `latchkey-store` together with its audit event in one transaction), the HTTP
//! surface (REST `/api/v1` with OpenAPI, the console, `/healthz`, `/readyz`, `/metrics`), TLS,
//! configuration, logging and start-up. The `latchkey` binary is a thin CLI over this crate.

pub mod access;
pub mod app;
pub mod config;
pub mod console;
pub mod directory;
pub mod identity;
pub mod logging;
pub mod mail;
pub mod serve;
pub mod startup;
pub mod tenancy;
pub mod tls;
pub mod web;

pub use app::{Actor, App, ServiceError};
pub use config::{Config, ConfigSources, FlagOverrides};
