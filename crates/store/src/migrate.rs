//! Embedded, forward-only migrations, one tree per backend, applied at start-up in a single
//! transaction. Each applied migration's SHA-256 is recorded, so an edited migration is caught by
//! `latchkey db verify`, and a database written by a newer binary is refused.

use sha2::{Digest, Sha256};

use crate::error::{Result, StoreError};
use crate::sql::{TxInner, args};

/// One schema step: the same version number on both backends.
pub(crate) struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

/// Every migration this binary knows, oldest first. Append only; never edit a released one.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sqlite: include_str!("migrations/sqlite/0001_initial.sql"),
        postgres: include_str!("migrations/postgres/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "mail_outbox",
        sqlite: include_str!("migrations/sqlite/0002_mail_outbox.sql"),
        postgres: include_str!("migrations/postgres/0002_mail_outbox.sql"),
    },
    Migration {
        version: 3,
        name: "identity",
        sqlite: include_str!("migrations/sqlite/0003_identity.sql"),
        postgres: include_str!("migrations/postgres/0003_identity.sql"),
    },
    Migration {
        version: 4,
        name: "memberships",
        sqlite: include_str!("migrations/sqlite/0004_memberships.sql"),
        postgres: include_str!("migrations/postgres/0004_memberships.sql"),
    },
    Migration {
        version: 5,
        name: "orgs_invited_name",
        sqlite: include_str!("migrations/sqlite/0005_orgs_invited_name.sql"),
        postgres: include_str!("migrations/postgres/0005_orgs_invited_name.sql"),
    },
    Migration {
        version: 6,
        name: "account",
        sqlite: include_str!("migrations/sqlite/0006_account.sql"),
        postgres: include_str!("migrations/postgres/0006_account.sql"),
    },
    Migration {
        version: 7,
        name: "directory",
        sqlite: include_str!("migrations/sqlite/0007_directory.sql"),
        postgres: include_str!("migrations/postgres/0007_directory.sql"),
    },
    Migration {
        version: 8,
        name: "grants",
        sqlite: include_str!("migrations/sqlite/0008_grants.sql"),
        postgres: include_str!("migrations/postgres/0008_grants.sql"),
    },
];

/// Every schema version this binary knows, oldest first (numbers may skip: branches reserve theirs).
pub fn known_versions() -> Vec<i64> {
    MIGRATIONS.iter().map(|m| m.version).collect()
}

/// The newest schema version this binary knows.
pub fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

impl Migration {
    fn script(&self, postgres: bool) -> &'static str {
        if postgres { self.postgres } else { self.sqlite }
    }

    fn checksum(&self, postgres: bool) -> String {
        hex::encode(Sha256::digest(self.script(postgres).as_bytes()))
    }
}

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at_ms BIGINT NOT NULL
)";

/// A migration recorded in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedMigration {
    /// Version.
    pub version: i64,
    /// Name.
    pub name: String,
    /// SHA-256 of the script as applied.
    pub checksum: String,
}

pub(crate) async fn applied(tx: &mut TxInner) -> Result<Vec<AppliedMigration>> {
    let exists_sql = if tx.is_postgres() {
        "SELECT COUNT(*) AS n FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_name = 'schema_migrations'"
    } else {
        "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    };
    let exists = tx
        .fetch_optional(exists_sql, args![])
        .await?
        .map(|row| row.int("n"))
        .transpose()?
        .unwrap_or(0);
    if exists == 0 {
        return Ok(Vec::new());
    }
    tx.fetch_all(
        "SELECT version, name, checksum FROM schema_migrations ORDER BY version",
        args![],
    )
    .await?
    .iter()
    .map(|row| {
        Ok(AppliedMigration {
            version: row.int("version")?,
            name: row.text("name")?,
            checksum: row.text("checksum")?,
        })
    })
    .collect()
}

/// Refuses a database that is newer than this binary or whose applied migrations differ from
/// ours. Returns the current version.
pub(crate) fn check_applied(applied: &[AppliedMigration], postgres: bool) -> Result<i64> {
    let current = applied.last().map_or(0, |m| m.version);
    if current > latest_version() {
        return Err(StoreError::SchemaTooNew {
            found: current,
            supported: latest_version(),
        });
    }
    for done in applied {
        let known = MIGRATIONS.iter().find(|m| m.version == done.version);
        match known {
            None => {
                return Err(StoreError::MigrationMismatch {
                    version: done.version,
                    detail: "unknown to this binary".into(),
                });
            }
            Some(m) if m.checksum(postgres) != done.checksum => {
                return Err(StoreError::MigrationMismatch {
                    version: done.version,
                    detail: format!(
                        "checksum {} ≠ expected {}",
                        done.checksum,
                        m.checksum(postgres)
                    ),
                });
            }
            Some(_) => {}
        }
    }
    Ok(current)
}

/// Applies every pending migration inside `tx` (the caller commits). Returns the applied ones.
pub(crate) async fn apply_pending(tx: &mut TxInner, now_ms: i64) -> Result<Vec<&'static str>> {
    let postgres = tx.is_postgres();
    let current = check_applied(&applied(tx).await?, postgres)?;
    tx.execute(CREATE_TABLE, args![]).await?;
    let mut done = Vec::new();
    for m in MIGRATIONS.iter().filter(|m| m.version > current) {
        tx.execute_script(m.script(postgres)).await?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, checksum, applied_at_ms) \
             VALUES ($1, $2, $3, $4)",
            args![m.version, m.name, m.checksum(postgres), now_ms],
        )
        .await?;
        done.push(m.name);
    }
    Ok(done)
}
