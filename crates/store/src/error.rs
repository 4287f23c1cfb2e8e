//! Store errors. Each variant says what went wrong and what the operator can do next.

use latchkey_domain::DomainError;

/// Result alias for store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Everything that can go wrong below the services.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL is not one we understand.
    #[error("database URL {0}")]
    BadUrl(String),
    /// The database could not be reached or opened.
    #[error("cannot open the database: {0}")]
    Connect(String),
    /// A query failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The database was written by a newer Latchkey.
    #[error(
        "the database schema is version {found}, but this binary supports up to {supported}: \
         it was written by a newer Latchkey — run that version (downgrades are not supported)"
    )]
    SchemaTooNew {
        /// Version found in the database.
        found: i64,
        /// Highest version this binary knows.
        supported: i64,
    },
    /// A migration this binary knows was applied with different content.
    #[error("migration {version} in the database differs from this binary's: {detail}")]
    MigrationMismatch {
        /// The migration version.
        version: i64,
        /// What differs.
        detail: String,
    },
    /// The database needs migrations that were not run.
    #[error(
        "the database schema is at version {current}, this binary needs {latest}: run `latchkey migrate`"
    )]
    SchemaBehind {
        /// Version in the database.
        current: i64,
        /// Version this binary needs.
        latest: i64,
    },
    /// The master key does not open this database's keys.
    #[error(
        "the master key does not match this database: use the key file that was created with it \
         (restore it from your key backup); a new key cannot read existing data"
    )]
    MasterKeyMismatch,
    /// Sealed data failed to decrypt (moved, altered, or another tenant's).
    #[error(
        "sealed data in {what} failed authentication (altered, moved between rows, or wrong key)"
    )]
    Unseal {
        /// Which column.
        what: String,
    },
    /// A stored value is not what the schema promises.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// A business rule refused the change.
    #[error(transparent)]
    Domain(#[from] DomainError),
}

impl StoreError {
    /// True when the error is a unique-key clash (a concurrent writer won).
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::Database(db)) => db.is_unique_violation(),
            _ => false,
        }
    }
}
