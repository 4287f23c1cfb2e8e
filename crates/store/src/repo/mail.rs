//! The mail outbox: enqueue in the caller's transaction; the delivery worker reads due messages
//! per scope and records each attempt.

use std::future::Future;

use latchkey_domain::Scope;
use uuid::Uuid;

use crate::db::Tx;
use crate::error::{Result, StoreError};
use crate::keyring::{Cell, TenantKeys};
use crate::sql::{Row, args};

const TABLE: &str = "mail_outbox";

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMail {
    /// What the message is for (`invitation`, `test`, …): logged and counted, never PII.
    pub kind: String,
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
}

/// A message waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMail {
    /// Message id (also the Message-ID's local part).
    pub id: String,
    /// Scope it belongs to.
    pub scope: Scope,
    /// The content.
    pub mail: NewMail,
    /// When it was enqueued, epoch ms UTC.
    pub created_at_ms: i64,
    /// Delivery attempts so far.
    pub attempts: i64,
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// Delivered.
    Sent,
    /// Failed; try again at the given time.
    Retry {
        /// Why it failed (no PII: transport errors only).
        error: String,
        /// When to try again, epoch ms UTC.
        at_ms: i64,
    },
    /// Failed for good (permanent rejection or too many attempts).
    GaveUp {
        /// Why.
        error: String,
    },
}

/// Outbox storage.
pub trait MailRepo {
    /// Enqueues a message in this transaction; returns its id.
    fn enqueue_mail(
        &mut self,
        scope: Scope,
        mail: &NewMail,
        now_ms: i64,
    ) -> impl Future<Output = Result<String>> + Send;
    /// Pending messages of `scope` due at `now_ms`, oldest first.
    fn due_mail(
        &mut self,
        scope: Scope,
        now_ms: i64,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<QueuedMail>>> + Send;
    /// Reserves a due message for this node until `lease_until_ms`; false if another node did.
    fn claim_mail(
        &mut self,
        scope: Scope,
        id: &str,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// Records the outcome of one delivery attempt.
    fn record_mail_attempt(
        &mut self,
        scope: Scope,
        id: &str,
        attempt: &Attempt,
        now_ms: i64,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Removes a message (a stored request once it is resolved: nothing of it is kept).
    fn delete_mail(&mut self, scope: Scope, id: &str) -> impl Future<Output = Result<()>> + Send;
    /// Counts messages of `scope` by status: (pending, sent, failed).
    fn mail_counts(&mut self, scope: Scope)
    -> impl Future<Output = Result<(i64, i64, i64)>> + Send;
}

fn cell<'a>(column: &'a str, id: &'a str) -> Cell<'a> {
    Cell {
        table: TABLE,
        column,
        row_id: id,
    }
}

fn open(keys: &TenantKeys, column: &str, id: &str, row: &Row) -> Result<String> {
    let sealed = row.bytes(column)?;
    keys.open(cell(column, id), &sealed)
        .and_then(|plain| String::from_utf8(plain).ok())
        .ok_or_else(|| StoreError::Unseal {
            what: format!("{TABLE}.{column} of {id}"),
        })
}

impl MailRepo for Tx {
    async fn enqueue_mail(&mut self, scope: Scope, mail: &NewMail, now_ms: i64) -> Result<String> {
        let keys = self.scope_keys(scope).await?;
        self.enter(&scope.storage_key()).await?;
        let id = Uuid::now_v7().hyphenated().to_string();
        self.inner
            .execute(
                "INSERT INTO mail_outbox (tenant_id, id, kind, recipient_sealed, subject_sealed, body_sealed, \
                 created_at_ms, next_attempt_at_ms, attempts, status) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7, 0, 'pending')",
                args![
                    scope.storage_key(),
                    id.as_str(),
                    mail.kind.as_str(),
                    keys.seal(cell("recipient_sealed", &id), mail.to.as_bytes()),
                    keys.seal(cell("subject_sealed", &id), mail.subject.as_bytes()),
                    keys.seal(cell("body_sealed", &id), mail.body.as_bytes()),
                    now_ms
                ],
            )
            .await?;
        Ok(id)
    }

    async fn due_mail(&mut self, scope: Scope, now_ms: i64, limit: i64) -> Result<Vec<QueuedMail>> {
        let keys = self.scope_keys(scope).await?;
        self.enter(&scope.storage_key()).await?;
        let rows = self
            .inner
            .fetch_all(
                "SELECT id, kind, recipient_sealed, subject_sealed, body_sealed, created_at_ms, attempts \
                 FROM mail_outbox WHERE tenant_id = $1 AND status = 'pending' AND next_attempt_at_ms <= $2 \
                 ORDER BY next_attempt_at_ms, id LIMIT $3",
                args![scope.storage_key(), now_ms, limit],
            )
            .await?;
        rows.iter()
            .map(|row| {
                let id = row.text("id")?;
                Ok(QueuedMail {
                    scope,
                    mail: NewMail {
                        kind: row.text("kind")?,
                        to: open(&keys, "recipient_sealed", &id, row)?,
                        subject: open(&keys, "subject_sealed", &id, row)?,
                        body: open(&keys, "body_sealed", &id, row)?,
                    },
                    created_at_ms: row.int("created_at_ms")?,
                    attempts: row.int("attempts")?,
                    id,
                })
            })
            .collect()
    }

    async fn claim_mail(
        &mut self,
        scope: Scope,
        id: &str,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> Result<bool> {
        self.enter(&scope.storage_key()).await?;
        let claimed = self
            .inner
            .execute(
                "UPDATE mail_outbox SET next_attempt_at_ms = $1 \
                 WHERE tenant_id = $2 AND id = $3 AND status = 'pending' AND next_attempt_at_ms <= $4",
                args![lease_until_ms, scope.storage_key(), id, now_ms],
            )
            .await?;
        Ok(claimed == 1)
    }

    async fn record_mail_attempt(
        &mut self,
        scope: Scope,
        id: &str,
        attempt: &Attempt,
        now_ms: i64,
    ) -> Result<()> {
        self.enter(&scope.storage_key()).await?;
        let (status, error, next_at, finished) = match attempt {
            Attempt::Sent => ("sent", None, now_ms, Some(now_ms)),
            Attempt::Retry { error, at_ms } => ("pending", Some(error.clone()), *at_ms, None),
            Attempt::GaveUp { error } => ("failed", Some(error.clone()), now_ms, Some(now_ms)),
        };
        self.inner
            .execute(
                "UPDATE mail_outbox SET status = $1, last_error = $2, next_attempt_at_ms = $3, \
                 finished_at_ms = $4, attempts = attempts + 1 \
                 WHERE tenant_id = $5 AND id = $6 AND status = 'pending'",
                args![status, error, next_at, finished, scope.storage_key(), id],
            )
            .await?;
        Ok(())
    }

    async fn delete_mail(&mut self, scope: Scope, id: &str) -> Result<()> {
        self.enter(&scope.storage_key()).await?;
        self.inner
            .execute(
                "DELETE FROM mail_outbox WHERE tenant_id = $1 AND id = $2",
                args![scope.storage_key(), id],
            )
            .await?;
        Ok(())
    }

    async fn mail_counts(&mut self, scope: Scope) -> Result<(i64, i64, i64)> {
        self.enter(&scope.storage_key()).await?;
        let rows = self
            .inner
            .fetch_all(
                "SELECT status, COUNT(*) AS n FROM mail_outbox WHERE tenant_id = $1 GROUP BY status",
                args![scope.storage_key()],
            )
            .await?;
        let mut counts = (0, 0, 0);
        for row in rows {
            let n = row.int("n")?;
            match row.text("status")?.as_str() {
                "pending" => counts.0 = n,
                "sent" => counts.1 = n,
                _ => counts.2 = n,
            }
        }
        Ok(counts)
    }
}
