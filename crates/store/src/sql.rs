//! The portable SQL layer: one transaction type over either backend, binding only the portable
//! types (i64, text, bytes, each nullable). Repository code is written once against it with `$N`
//! placeholders, which both SQLite and PostgreSQL accept; the backend difference is confined to
//! this file and `db.rs` (how to begin, how to set the tenant for row-level security).
//!
//! Why not one repository implementation per backend: with portable types the SQL text is
//! identical, and two copies of it drift (the research's vaultwarden and rauthy migration bugs).

use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{Postgres, Row as _, Sqlite, Transaction};

use crate::error::{Result, StoreError};

/// A bound parameter.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    Int(Option<i64>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(Some(v))
    }
}
impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        Value::Int(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(Some(v.to_owned()))
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(Some(v))
    }
}
impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        Value::Text(v)
    }
}
impl From<Option<&str>> for Value {
    fn from(v: Option<&str>) -> Self {
        Value::Text(v.map(str::to_owned))
    }
}
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Bytes(Some(v))
    }
}
impl From<Option<Vec<u8>>> for Value {
    fn from(v: Option<Vec<u8>>) -> Self {
        Value::Bytes(v)
    }
}
impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Self {
        Value::Bytes(Some(v.to_vec()))
    }
}

/// Builds a parameter list: `args![a, b]`.
macro_rules! args {
    ($($value:expr),* $(,)?) => {
        vec![$($crate::sql::Value::from($value)),*]
    };
}
pub(crate) use args;

/// A result row from either backend, read by column name.
pub(crate) enum Row {
    Sqlite(SqliteRow),
    Postgres(PgRow),
}

macro_rules! typed_getter {
    ($name:ident, $ty:ty) => {
        pub(crate) fn $name(&self, column: &str) -> Result<$ty> {
            let got = match self {
                Row::Sqlite(r) => r.try_get::<$ty, _>(column),
                Row::Postgres(r) => r.try_get::<$ty, _>(column),
            };
            got.map_err(|e| StoreError::Corrupt(format!("column {column}: {e}")))
        }
    };
}

impl Row {
    typed_getter!(int, i64);
    typed_getter!(opt_int, Option<i64>);
    typed_getter!(text, String);
    typed_getter!(opt_text, Option<String>);
    typed_getter!(bytes, Vec<u8>);
    typed_getter!(opt_bytes, Option<Vec<u8>>);

    /// A typed id column.
    pub(crate) fn id<K>(&self, column: &str) -> Result<latchkey_domain::ids::Id<K>> {
        let text = self.text(column)?;
        text.parse()
            .map_err(|_| StoreError::Corrupt(format!("column {column}: id {text:?}")))
    }

    /// A nullable typed id column.
    pub(crate) fn opt_id<K>(&self, column: &str) -> Result<Option<latchkey_domain::ids::Id<K>>> {
        self.opt_text(column)?
            .map(|text| {
                text.parse()
                    .map_err(|_| StoreError::Corrupt(format!("column {column}: id {text:?}")))
            })
            .transpose()
    }

    /// A 32-byte hash column.
    pub(crate) fn hash32(&self, column: &str) -> Result<[u8; 32]> {
        self.bytes(column)?
            .try_into()
            .map_err(|_| StoreError::Corrupt(format!("column {column}: not 32 bytes")))
    }
}

/// The backend-specific transaction.
pub(crate) enum TxInner {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

macro_rules! bind_all {
    ($query:expr, $args:expr) => {{
        let mut q = $query;
        for arg in $args {
            q = match arg {
                Value::Int(v) => q.bind(v),
                Value::Text(v) => q.bind(v),
                Value::Bytes(v) => q.bind(v),
            };
        }
        q
    }};
}

impl TxInner {
    /// Runs a statement; returns the number of rows it changed.
    pub(crate) async fn execute(&mut self, sql: &str, args: Vec<Value>) -> Result<u64> {
        Ok(match self {
            TxInner::Sqlite(tx) => bind_all!(sqlx::query(sql), args)
                .execute(&mut **tx)
                .await?
                .rows_affected(),
            TxInner::Postgres(tx) => bind_all!(sqlx::query(sql), args)
                .execute(&mut **tx)
                .await?
                .rows_affected(),
        })
    }

    /// Runs a query and returns all rows.
    pub(crate) async fn fetch_all(&mut self, sql: &str, args: Vec<Value>) -> Result<Vec<Row>> {
        Ok(match self {
            TxInner::Sqlite(tx) => bind_all!(sqlx::query(sql), args)
                .fetch_all(&mut **tx)
                .await?
                .into_iter()
                .map(Row::Sqlite)
                .collect(),
            TxInner::Postgres(tx) => bind_all!(sqlx::query(sql), args)
                .fetch_all(&mut **tx)
                .await?
                .into_iter()
                .map(Row::Postgres)
                .collect(),
        })
    }

    /// Runs a query expected to return at most one row.
    pub(crate) async fn fetch_optional(
        &mut self,
        sql: &str,
        args: Vec<Value>,
    ) -> Result<Option<Row>> {
        Ok(match self {
            TxInner::Sqlite(tx) => bind_all!(sqlx::query(sql), args)
                .fetch_optional(&mut **tx)
                .await?
                .map(Row::Sqlite),
            TxInner::Postgres(tx) => bind_all!(sqlx::query(sql), args)
                .fetch_optional(&mut **tx)
                .await?
                .map(Row::Postgres),
        })
    }

    /// Runs several statements without parameters (migrations).
    pub(crate) async fn execute_script(&mut self, sql: &str) -> Result<()> {
        match self {
            TxInner::Sqlite(tx) => {
                sqlx::raw_sql(sql).execute(&mut **tx).await?;
            }
            TxInner::Postgres(tx) => {
                sqlx::raw_sql(sql).execute(&mut **tx).await?;
            }
        }
        Ok(())
    }

    pub(crate) async fn commit(self) -> Result<()> {
        match self {
            TxInner::Sqlite(tx) => tx.commit().await?,
            TxInner::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }

    pub(crate) fn is_postgres(&self) -> bool {
        matches!(self, TxInner::Postgres(_))
    }
}
