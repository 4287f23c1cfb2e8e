//! One fresh database per test, on either backend.

use std::str::FromStr;

use latchkey_domain::ManualClock;
use latchkey_store::{MasterKey, OpenMode, Store, StoreUrl};
use sqlx::Connection as _;
use tempfile::TempDir;

/// The test's database: where it is, and the master key it was opened with.
pub struct TestDb {
    /// URL of the database.
    pub url: StoreUrl,
    /// Master key the store uses.
    pub master: MasterKey,
    /// A clock the test moves.
    pub clock: ManualClock,
    /// The SQLite file's directory (kept alive for the test's duration).
    pub dir: TempDir,
    /// For PostgreSQL: the raw URL (with the private schema's search_path).
    pub pg_url: Option<String>,
}

/// 2026-11-29T09:00:00Z, the start of every test clock.
pub const TEST_EPOCH_MS: i64 = 1_796_115_600_000 - 2 * 86_400_000;

impl TestDb {
    /// A SQLite file in a fresh temp dir.
    pub fn sqlite() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let url = StoreUrl::sqlite_file(&dir.path().join("latchkey.db"));
        Ok(Self {
            url,
            master: MasterKey::generate(),
            clock: ManualClock::at(TEST_EPOCH_MS),
            dir,
            pg_url: None,
        })
    }

    /// A private schema in the PostgreSQL named by `LATCHKEY_TEST_POSTGRES_URL`, or `None` (skip)
    /// when it is not set and not required.
    pub async fn postgres() -> anyhow::Result<Option<Self>> {
        let Ok(base) = std::env::var("LATCHKEY_TEST_POSTGRES_URL") else {
            return crate::missing_service("PostgreSQL (LATCHKEY_TEST_POSTGRES_URL)");
        };
        let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
        let mut conn = sqlx::PgConnection::connect(&base).await?;
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        let separator = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{separator}options=-c%20search_path%3D{schema}");
        Ok(Some(Self {
            url: StoreUrl::parse(&url)?,
            master: MasterKey::generate(),
            clock: ManualClock::at(TEST_EPOCH_MS),
            dir: tempfile::tempdir()?,
            pg_url: Some(url),
        }))
    }

    /// Opens (creating and migrating) the store.
    pub async fn open(&self) -> anyhow::Result<Store> {
        Ok(
            Store::open(&self.url, &self.master, &self.clock, OpenMode::Migrate)
                .await?
                .store,
        )
    }

    /// A direct connection as the application role, bypassing the store — for tests that play
    /// an attacker with database access. `tenant` sets `app.tenant_id` on PostgreSQL.
    async fn raw_connect(&self, tenant: Option<&str>) -> anyhow::Result<RawConnection> {
        Ok(match &self.pg_url {
            Some(url) => {
                let mut conn = sqlx::PgConnection::connect(url).await?;
                if let Some(t) = tenant {
                    sqlx::query("SELECT set_config('app.tenant_id', $1, false)")
                        .bind(t)
                        .execute(&mut conn)
                        .await?;
                }
                RawConnection::Postgres(conn)
            }
            None => {
                let options = sqlx::sqlite::SqliteConnectOptions::from_str(&self.sqlite_url())?;
                RawConnection::Sqlite(sqlx::SqliteConnection::connect_with(&options).await?)
            }
        })
    }

    /// Runs raw SQL statements (see [`TestDb::raw_connect`]).
    pub async fn raw_execute(
        &self,
        tenant: Option<&str>,
        statements: &[&str],
    ) -> anyhow::Result<()> {
        let mut conn = self.raw_connect(tenant).await?;
        for sql in statements {
            match &mut conn {
                RawConnection::Postgres(c) => {
                    sqlx::query(sql).execute(&mut *c).await?;
                }
                RawConnection::Sqlite(c) => {
                    sqlx::query(sql).execute(&mut *c).await?;
                }
            }
        }
        conn.close().await
    }

    /// Reads the first (text) column of the rows a raw query returns (attacker's view).
    pub async fn raw_texts(&self, tenant: Option<&str>, sql: &str) -> anyhow::Result<Vec<String>> {
        use sqlx::Row as _;
        let mut conn = self.raw_connect(tenant).await?;
        let texts = match &mut conn {
            RawConnection::Postgres(c) => sqlx::query(sql)
                .fetch_all(&mut *c)
                .await?
                .iter()
                .map(|r| r.try_get::<String, _>(0))
                .collect::<Result<_, _>>()?,
            RawConnection::Sqlite(c) => sqlx::query(sql)
                .fetch_all(&mut *c)
                .await?
                .iter()
                .map(|r| r.try_get::<String, _>(0))
                .collect::<Result<_, _>>()?,
        };
        conn.close().await?;
        Ok(texts)
    }

    fn sqlite_url(&self) -> String {
        self.url
            .sqlite_path()
            .map(|p| format!("sqlite://{p}"))
            .unwrap_or_default()
    }

    /// The SQLite database file, for reading its raw bytes.
    pub fn sqlite_file(&self) -> Option<std::path::PathBuf> {
        self.url.sqlite_path().map(std::path::PathBuf::from)
    }
}

/// A raw connection to either backend.
enum RawConnection {
    Postgres(sqlx::PgConnection),
    Sqlite(sqlx::SqliteConnection),
}

impl RawConnection {
    async fn close(self) -> anyhow::Result<()> {
        match self {
            RawConnection::Postgres(c) => c.close().await?,
            RawConnection::Sqlite(c) => c.close().await?,
        }
        Ok(())
    }
}
