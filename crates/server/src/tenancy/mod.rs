//! Tenancy services: organisations (operators) and sites (inside an organisation).

pub mod organisations;
pub mod security_settings;
pub mod sites;
