//! # latchkey-testkit
//!
//! Real components for tests: a database per test (a SQLite file in a temp dir, or a private
//! schema in the PostgreSQL named by `LATCHKEY_TEST_POSTGRES_URL`), the real server started
//! in-process on 127.0.0.1:0, and a real headless Chromium driven over WebDriver. Tests that need
//! a service print why they skip when it is absent, and fail instead when
//! `LATCHKEY_REQUIRE_SERVICES=1` (set by `.ci/run`).

pub mod browser;
pub mod db;
pub mod fixtures;
pub mod server;
pub mod session;
pub mod smtp;

pub use browser::Browser;
pub use db::TestDb;
pub use server::TestServer;
pub use session::ApiSession;
pub use smtp::{CapturedMail, SmtpListener};

/// True when CI demands that service-backed tests run rather than skip.
pub fn services_required() -> bool {
    std::env::var("LATCHKEY_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

/// Reports a missing service: an error under `LATCHKEY_REQUIRE_SERVICES=1`, otherwise a printed
/// skip notice and `Ok(None)`.
pub fn missing_service<T>(what: &str) -> anyhow::Result<Option<T>> {
    if services_required() {
        anyhow::bail!("{what} is required (LATCHKEY_REQUIRE_SERVICES=1) but not available");
    }
    eprintln!("SKIP: {what} not available; set it up to run this test (see README, Testing)");
    Ok(None)
}
