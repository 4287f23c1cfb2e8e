//! Lock e-mails sent per account, so a lock storm mails the owner at most a few times a day
//! (research §2.2 L4: ≤ 5 a day).

use std::future::Future;

use latchkey_domain::AccountId;

use crate::db::Tx;
use crate::error::Result;
use crate::sql::args;

/// The record of lock e-mails.
pub trait LockNoticeRepo {
    /// Lock e-mails sent to the account since `since_ms`.
    fn lock_notices_since(
        &mut self,
        account: AccountId,
        since_ms: i64,
    ) -> impl Future<Output = Result<i64>> + Send;
    /// Records a lock e-mail; rows older than `forget_before_ms` are dropped on the way.
    fn record_lock_notice(
        &mut self,
        account: AccountId,
        now_ms: i64,
        forget_before_ms: i64,
    ) -> impl Future<Output = Result<()>> + Send;
}

impl LockNoticeRepo for Tx {
    async fn lock_notices_since(&mut self, account: AccountId, since_ms: i64) -> Result<i64> {
        let row = self
            .inner
            .fetch_optional(
                "SELECT COUNT(*) AS n FROM lock_notices WHERE account_id = $1 AND sent_at_ms > $2",
                args![account.to_string(), since_ms],
            )
            .await?;
        Ok(row.map(|r| r.int("n")).transpose()?.unwrap_or(0))
    }

    async fn record_lock_notice(
        &mut self,
        account: AccountId,
        now_ms: i64,
        forget_before_ms: i64,
    ) -> Result<()> {
        self.inner
            .execute(
                "DELETE FROM lock_notices WHERE account_id = $1 AND sent_at_ms <= $2",
                args![account.to_string(), forget_before_ms],
            )
            .await?;
        self.inner
            .execute(
                "INSERT INTO lock_notices (account_id, sent_at_ms) VALUES ($1, $2)",
                args![account.to_string(), now_ms],
            )
            .await?;
        Ok(())
    }
}
