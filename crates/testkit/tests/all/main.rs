//! The one integration test binary (each extra binary costs link time on 2 cores).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

/// Generates `name::sqlite` and `name::postgres` tests from `async fn name(db: TestDb)`; the
/// PostgreSQL one skips (or fails under LATCHKEY_REQUIRE_SERVICES=1) without a server.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => { $(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() -> anyhow::Result<()> {
                super::$name(latchkey_testkit::TestDb::sqlite()?).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() -> anyhow::Result<()> {
                match latchkey_testkit::TestDb::postgres().await? {
                    Some(db) => super::$name(db).await,
                    None => Ok(()),
                }
            }
        }
    )* };
}

mod account_console;
mod account_security;
mod audit_tamper;
mod browser;
mod conformance;
mod console_sign_in;
mod directory;
mod directory_console;
mod encryption_at_rest;
mod grants;
mod http;
mod identity;
mod imports;
mod journey;
mod mail;
mod orgs_console;
mod orgs_people;
mod security_settings;
mod sessions;
mod startup;
