//! Second-factor storage besides the account row: a TOTP secret waiting for its first code
//! (sealed with the platform keys) and the recovery codes (HMAC digests only, each used once).

use std::future::Future;

use latchkey_domain::{AccountId, Scope};

use crate::db::Tx;
use crate::error::{Result, StoreError};
use crate::keyring::Cell;
use crate::sql::args;

const TABLE: &str = "mfa_enrolments";

/// Pending enrolments and recovery codes.
pub trait MfaRepo {
    /// Stores (or replaces) the account's pending TOTP secret.
    fn put_pending_totp(
        &mut self,
        account: AccountId,
        secret: &[u8],
        now_ms: i64,
    ) -> impl Future<Output = Result<()>> + Send;
    /// The pending secret and when it was made, if any.
    fn pending_totp(
        &mut self,
        account: AccountId,
    ) -> impl Future<Output = Result<Option<(Vec<u8>, i64)>>> + Send;
    /// Forgets the pending secret.
    fn delete_pending_totp(
        &mut self,
        account: AccountId,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Replaces the account's recovery codes with these digests.
    fn replace_recovery_codes(
        &mut self,
        account: AccountId,
        digests: &[Vec<u8>],
        now_ms: i64,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Spends an unused recovery code: true exactly once per code.
    fn spend_recovery_code(
        &mut self,
        account: AccountId,
        digest: &[u8],
        now_ms: i64,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// How many recovery codes are left.
    fn recovery_codes_left(
        &mut self,
        account: AccountId,
    ) -> impl Future<Output = Result<i64>> + Send;
}

fn cell(id: &str) -> Cell<'_> {
    Cell {
        table: TABLE,
        column: "secret_sealed",
        row_id: id,
    }
}

impl MfaRepo for Tx {
    async fn put_pending_totp(
        &mut self,
        account: AccountId,
        secret: &[u8],
        now_ms: i64,
    ) -> Result<()> {
        let keys = self.scope_keys(Scope::Platform).await?;
        let id = account.to_string();
        let sealed = keys.seal(cell(&id), secret);
        self.inner
            .execute(
                "DELETE FROM mfa_enrolments WHERE account_id = $1",
                args![id.clone()],
            )
            .await?;
        self.inner
            .execute(
                "INSERT INTO mfa_enrolments (account_id, secret_sealed, created_at_ms) VALUES ($1, $2, $3)",
                args![id, sealed, now_ms],
            )
            .await?;
        Ok(())
    }

    async fn pending_totp(&mut self, account: AccountId) -> Result<Option<(Vec<u8>, i64)>> {
        let keys = self.scope_keys(Scope::Platform).await?;
        let id = account.to_string();
        let row = self
            .inner
            .fetch_optional(
                "SELECT secret_sealed, created_at_ms FROM mfa_enrolments WHERE account_id = $1",
                args![id.clone()],
            )
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let secret = keys
            .open(cell(&id), &row.bytes("secret_sealed")?)
            .ok_or_else(|| StoreError::Unseal {
                what: format!("{TABLE}.secret_sealed of {id}"),
            })?;
        Ok(Some((secret, row.int("created_at_ms")?)))
    }

    async fn delete_pending_totp(&mut self, account: AccountId) -> Result<()> {
        self.inner
            .execute(
                "DELETE FROM mfa_enrolments WHERE account_id = $1",
                args![account.to_string()],
            )
            .await?;
        Ok(())
    }

    async fn replace_recovery_codes(
        &mut self,
        account: AccountId,
        digests: &[Vec<u8>],
        now_ms: i64,
    ) -> Result<()> {
        self.inner
            .execute(
                "DELETE FROM recovery_codes WHERE account_id = $1",
                args![account.to_string()],
            )
            .await?;
        for digest in digests {
            self.inner
                .execute(
                    "INSERT INTO recovery_codes (account_id, digest, created_at_ms) VALUES ($1, $2, $3)",
                    args![account.to_string(), digest.clone(), now_ms],
                )
                .await?;
        }
        Ok(())
    }

    async fn spend_recovery_code(
        &mut self,
        account: AccountId,
        digest: &[u8],
        now_ms: i64,
    ) -> Result<bool> {
        let changed = self
            .inner
            .execute(
                "UPDATE recovery_codes SET used_at_ms = $1 WHERE account_id = $2 AND digest = $3 \
                 AND used_at_ms IS NULL",
                args![now_ms, account.to_string(), digest],
            )
            .await?;
        Ok(changed == 1)
    }

    async fn recovery_codes_left(&mut self, account: AccountId) -> Result<i64> {
        let row = self
            .inner
            .fetch_optional(
                "SELECT COUNT(*) AS n FROM recovery_codes WHERE account_id = $1 AND used_at_ms IS NULL",
                args![account.to_string()],
            )
            .await?;
        Ok(row.map(|r| r.int("n")).transpose()?.unwrap_or(0))
    }
}
