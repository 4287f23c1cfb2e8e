//! Opening a store: backend selection by URL, connection settings, start-up checks (schema
//! version, master key), migrations, and transactions.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use latchkey_domain::Clock;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::error::{Result, StoreError};
use crate::keyring::{Keyring, MasterKey};
use crate::migrate;
use crate::sql::{Row, TxInner, Value, args};

/// Which database engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file (the default, one machine).
    Sqlite,
    /// PostgreSQL 15+ (many nodes, many tenants).
    Postgres,
}

impl Backend {
    /// Lower-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A database URL: `sqlite://path/to/file.db` or `postgres://user:pass@host:port/db`.
/// `Display` hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreUrl {
    url: String,
    backend: Backend,
}

impl StoreUrl {
    /// Parses and classifies a URL.
    pub fn parse(url: &str) -> Result<Self> {
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::BadUrl(format!(
                "{:?} is not supported: use sqlite://path/to/latchkey.db or postgres://user:password@host:5432/dbname",
                redact(url)
            )));
        };
        Ok(Self {
            url: url.to_owned(),
            backend,
        })
    }

    /// The URL of a SQLite file at `path`.
    pub fn sqlite_file(path: &std::path::Path) -> Self {
        Self {
            url: format!("sqlite://{}", path.display()),
            backend: Backend::Sqlite,
        }
    }

    /// The backend this URL selects.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The SQLite file path, for SQLite URLs.
    pub fn sqlite_path(&self) -> Option<&str> {
        let rest = self
            .url
            .strip_prefix("sqlite://")
            .or_else(|| self.url.strip_prefix("sqlite:"))?;
        Some(rest.split('?').next().unwrap_or(rest))
    }
}

fn redact(url: &str) -> String {
    // postgres://user:secret@host → postgres://user:***@host
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

impl std::fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact(&self.url))
    }
}
impl std::fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// How to treat the schema when opening.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Create the database if missing and apply pending migrations (serve, migrate).
    Migrate,
    /// Open an existing database as it is; pending migrations are an error (db verify, audit).
    Existing,
}

#[derive(Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// An open store: a connection pool and the keyring that seals tenant data.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    keyring: Arc<Keyring>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

/// What opening did.
#[derive(Debug, Clone)]
pub struct Opened {
    /// The store.
    pub store: Store,
    /// Names of migrations applied by this open.
    pub applied: Vec<&'static str>,
}

fn connect_error(url: &StoreUrl, e: sqlx::Error) -> StoreError {
    let hint = match url.backend {
        Backend::Sqlite => "check that the directory exists and is writable",
        Backend::Postgres => {
            "check that PostgreSQL is running at that host and port, and the user, password and database name"
        }
    };
    StoreError::Connect(format!("{url}: {e} ({hint})"))
}

impl Store {
    /// Connects, checks the schema version and the master key, and (in `Migrate` mode) applies
    /// pending migrations, all in one transaction: a failed start-up changes nothing.
    pub async fn open(
        url: &StoreUrl,
        master: &MasterKey,
        clock: &dyn Clock,
        mode: OpenMode,
    ) -> Result<Opened> {
        let pool = match url.backend {
            Backend::Sqlite => {
                let options = SqliteConnectOptions::from_str(&url.url)
                    .map_err(|e| StoreError::BadUrl(format!("{url}: {e}")))?
                    .create_if_missing(mode == OpenMode::Migrate)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(5))
                    .foreign_keys(true);
                let pool = SqlitePoolOptions::new()
                    .max_connections(8)
                    .connect_with(options)
                    .await
                    .map_err(|e| connect_error(url, e))?;
                Pool::Sqlite(pool)
            }
            Backend::Postgres => {
                let options = PgConnectOptions::from_str(&url.url)
                    .map_err(|e| StoreError::BadUrl(format!("{url}: {e}")))?;
                // One direct connection first: an unreachable server or a bad password is
                // reported at once, instead of after the pool's acquire timeout of retries.
                sqlx::Connection::close(
                    <sqlx::PgConnection as sqlx::Connection>::connect_with(&options)
                        .await
                        .map_err(|e| connect_error(url, e))?,
                )
                .await
                .map_err(|e| connect_error(url, e))?;
                let pool = PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await
                    .map_err(|e| connect_error(url, e))?;
                Pool::Postgres(pool)
            }
        };
        let store = Store {
            pool,
            keyring: Arc::new(Keyring::new(master)),
        };
        let applied = store.start_up(clock, mode).await;
        match applied {
            Ok(applied) => Ok(Opened { store, applied }),
            Err(e) => {
                store.close().await;
                Err(e)
            }
        }
    }

    async fn start_up(&self, clock: &dyn Clock, mode: OpenMode) -> Result<Vec<&'static str>> {
        let mut tx = self.write().await?;
        let postgres = tx.inner.is_postgres();
        let current = migrate::check_applied(&migrate::applied(&mut tx.inner).await?, postgres)?;
        if current >= 1 {
            self.check_master_key(&mut tx).await?;
        }
        let applied = match mode {
            OpenMode::Migrate => migrate::apply_pending(&mut tx.inner, clock.now_ms()).await?,
            OpenMode::Existing if current < migrate::latest_version() => {
                return Err(StoreError::SchemaBehind {
                    current,
                    latest: migrate::latest_version(),
                });
            }
            OpenMode::Existing => Vec::new(),
        };
        let has_check = tx
            .inner
            .fetch_optional("SELECT key_check FROM keyring_meta WHERE id = 1", args![])
            .await?
            .is_some();
        if !has_check {
            tx.inner
                .execute(
                    "INSERT INTO keyring_meta (id, key_check, created_at_ms) VALUES (1, $1, $2)",
                    args![self.keyring.key_check(), clock.now_ms()],
                )
                .await?;
        }
        tx.commit().await?;
        Ok(applied)
    }

    async fn check_master_key(&self, tx: &mut Tx) -> Result<()> {
        let row = tx
            .inner
            .fetch_optional("SELECT key_check FROM keyring_meta WHERE id = 1", args![])
            .await?;
        match row {
            Some(row) if !self.keyring.matches_key_check(&row.bytes("key_check")?) => {
                Err(StoreError::MasterKeyMismatch)
            }
            _ => Ok(()),
        }
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// The keyring (for the audit public key).
    pub fn keyring(&self) -> &Keyring {
        &self.keyring
    }

    /// Begins a transaction that will write. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`): a deferred transaction that reads then writes can fail with
    /// SQLITE_BUSY even with a busy timeout (research: sqlx #451, lldap #1021).
    pub async fn write(&self) -> Result<Tx> {
        let inner = match &self.pool {
            Pool::Sqlite(pool) => TxInner::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(pool) => TxInner::Postgres(pool.begin().await?),
        };
        Ok(Tx::new(inner, self.keyring.clone()))
    }

    /// Begins a transaction that only reads (a consistent snapshot; never blocks writers).
    pub async fn read(&self) -> Result<Tx> {
        let inner = match &self.pool {
            Pool::Sqlite(pool) => TxInner::Sqlite(pool.begin().await?),
            Pool::Postgres(pool) => TxInner::Postgres(pool.begin().await?),
        };
        Ok(Tx::new(inner, self.keyring.clone()))
    }

    /// Checks the database answers and the schema is current (readiness).
    pub async fn ready(&self) -> Result<()> {
        let mut tx = self.read().await?;
        let current = migrate::check_applied(
            &migrate::applied(&mut tx.inner).await?,
            tx.inner.is_postgres(),
        )?;
        if current != migrate::latest_version() {
            return Err(StoreError::SchemaBehind {
                current,
                latest: migrate::latest_version(),
            });
        }
        Ok(())
    }

    /// Connection pool figures for `/metrics`: (open connections, idle connections).
    pub fn pool_stats(&self) -> (u32, usize) {
        match &self.pool {
            Pool::Sqlite(p) => (p.size(), p.num_idle()),
            Pool::Postgres(p) => (p.size(), p.num_idle()),
        }
    }

    /// Closes every connection cleanly (SQLite checkpoints its WAL).
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }

    /// Checks the database: SQLite's integrity and foreign keys, the schema version and
    /// migration checksums, the expected tables, and on PostgreSQL that every table with a
    /// `tenant_id` has row-level security enabled and forced with a policy.
    pub async fn verify(&self) -> Result<VerifyReport> {
        let mut tx = self.read().await?;
        let mut problems = Vec::new();
        let postgres = tx.inner.is_postgres();
        let applied = migrate::applied(&mut tx.inner).await?;
        let schema_version = match migrate::check_applied(&applied, postgres) {
            Ok(v) => v,
            Err(e) => {
                problems.push(e.to_string());
                applied.last().map_or(0, |m| m.version)
            }
        };
        if schema_version < migrate::latest_version() {
            problems.push(format!(
                "schema at version {schema_version}, this binary needs {}: run `latchkey migrate`",
                migrate::latest_version()
            ));
        }
        for table in crate::TABLES {
            let sql = if postgres {
                "SELECT COUNT(*) AS n FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = $1"
            } else {
                "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = $1"
            };
            let n = count(&mut tx.inner, sql, args![*table]).await?;
            if n == 0 {
                problems.push(format!("table {table} is missing"));
            }
        }
        if postgres {
            for unprotected in tables_without_row_security(&mut tx.inner).await? {
                problems.push(format!(
                    "table {unprotected} has a tenant_id but no forced row-level security policy"
                ));
            }
        } else {
            for row in tx
                .inner
                .fetch_all("PRAGMA integrity_check", args![])
                .await?
            {
                let line = row.text("integrity_check")?;
                if line != "ok" {
                    problems.push(format!("integrity: {line}"));
                }
            }
            let broken = tx
                .inner
                .fetch_all("PRAGMA foreign_key_check", args![])
                .await?;
            if !broken.is_empty() {
                problems.push(format!("{} rows break foreign keys", broken.len()));
            }
        }
        Ok(VerifyReport {
            backend: self.backend(),
            schema_version,
            problems,
        })
    }
}

async fn count(tx: &mut TxInner, sql: &str, args: Vec<Value>) -> Result<i64> {
    match tx.fetch_optional(sql, args).await? {
        Some(row) => row.int("n"),
        None => Ok(0),
    }
}

/// PostgreSQL tables in the current schema that carry a `tenant_id` column but lack
/// ENABLE + FORCE row-level security or a policy. Must be empty (security.md meta-test).
async fn tables_without_row_security(tx: &mut TxInner) -> Result<Vec<String>> {
    let rows: Vec<Row> = tx
        .fetch_all(
            "SELECT c.relname::text AS name FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = current_schema() AND c.relkind = 'r' \
               AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid \
                           AND a.attname = 'tenant_id' AND NOT a.attisdropped) \
               AND NOT (c.relrowsecurity AND c.relforcerowsecurity \
                        AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid)) \
             ORDER BY 1",
            args![],
        )
        .await?;
    rows.iter().map(|r| r.text("name")).collect()
}

/// The findings of [`Store::verify`].
#[derive(Debug, Clone)]
pub struct VerifyReport {
    /// Backend checked.
    pub backend: Backend,
    /// Schema version found.
    pub schema_version: i64,
    /// Everything wrong; empty when the database is healthy.
    pub problems: Vec<String>,
}

/// A transaction. Repository traits are implemented on it; commit to keep the changes, drop to
/// roll them back.
pub struct Tx {
    pub(crate) inner: TxInner,
    pub(crate) keyring: Arc<Keyring>,
    scope: Option<String>,
}

impl Tx {
    fn new(inner: TxInner, keyring: Arc<Keyring>) -> Self {
        Self {
            inner,
            keyring,
            scope: None,
        }
    }

    /// Sets the tenant whose rows the following statements may see. On PostgreSQL this is the
    /// `app.tenant_id` setting that row-level security checks (local to the transaction); on
    /// SQLite the explicit `tenant_id` in every query is the only wall.
    pub(crate) async fn enter(&mut self, chain_key: &str) -> Result<()> {
        if self.inner.is_postgres() && self.scope.as_deref() != Some(chain_key) {
            self.inner
                .execute(
                    "SELECT set_config('app.tenant_id', $1, true)",
                    args![chain_key],
                )
                .await?;
            self.scope = Some(chain_key.to_owned());
        }
        Ok(())
    }

    /// Makes the transaction's changes durable.
    pub async fn commit(self) -> Result<()> {
        self.inner.commit().await
    }
}
