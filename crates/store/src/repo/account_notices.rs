//! Security e-mails sent per account (lock mails, reset links), so that neither a lock storm nor
//! a flood of forgot-password requests can mail-bomb the owner (research §2.2 L4: ≤ 5 lock mails
//! a day).

use std::future::Future;

use latchkey_domain::AccountId;

use crate::db::Tx;
use crate::error::Result;
use crate::sql::args;

/// The record of security e-mails.
pub trait AccountNoticeRepo {
    /// E-mails of `kind` sent to the account after `since_ms`.
    fn notices_since(
        &mut self,
        account: AccountId,
        kind: &str,
        since_ms: i64,
    ) -> impl Future<Output = Result<i64>> + Send;
    /// Records an e-mail of `kind`; rows of that kind at or before `forget_before_ms` are dropped
    /// on the way (they no longer count).
    fn record_notice(
        &mut self,
        account: AccountId,
        kind: &str,
        now_ms: i64,
        forget_before_ms: i64,
    ) -> impl Future<Output = Result<()>> + Send;
}

impl AccountNoticeRepo for Tx {
    async fn notices_since(
        &mut self,
        account: AccountId,
        kind: &str,
        since_ms: i64,
    ) -> Result<i64> {
        let row = self
            .inner
            .fetch_optional(
                "SELECT COUNT(*) AS n FROM account_notices WHERE account_id = $1 AND kind = $2 \
                 AND sent_at_ms > $3",
                args![account.to_string(), kind, since_ms],
            )
            .await?;
        Ok(row.map(|r| r.int("n")).transpose()?.unwrap_or(0))
    }

    async fn record_notice(
        &mut self,
        account: AccountId,
        kind: &str,
        now_ms: i64,
        forget_before_ms: i64,
    ) -> Result<()> {
        self.inner
            .execute(
                "DELETE FROM account_notices WHERE account_id = $1 AND kind = $2 AND sent_at_ms <= $3",
                args![account.to_string(), kind, forget_before_ms],
            )
            .await?;
        self.inner
            .execute(
                "INSERT INTO account_notices (account_id, kind, sent_at_ms) VALUES ($1, $2, $3)",
                args![account.to_string(), kind, now_ms],
            )
            .await?;
        Ok(())
    }
}
