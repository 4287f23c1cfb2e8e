//! Sessions and one-time tokens. Both are stored only as HMAC digests of the secret the client
//! holds (`Keyring::token_digest`): a copy of the database cannot be replayed as a cookie or link.

use std::future::Future;

use latchkey_domain::{AccountId, OrgId};

use crate::db::Tx;
use crate::error::{Result, StoreError};
use crate::sql::{Row, args};

/// A live session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Whose session.
    pub account_id: AccountId,
    /// Started, epoch ms UTC.
    pub created_at_ms: i64,
    /// Last request, epoch ms UTC.
    pub last_seen_at_ms: i64,
    /// Inactivity after which it ends.
    pub idle_timeout_ms: i64,
    /// When it ends regardless of activity.
    pub absolute_expiry_ms: i64,
    /// When its owner last proved who they are (sign-in or step-up), epoch ms UTC.
    pub authenticated_at_ms: i64,
}

/// What spending a one-time token yields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpentToken {
    /// The account the token was issued for, if any.
    pub account: Option<AccountId>,
    /// The organisation it was issued in (invitations), if any.
    pub org: Option<OrgId>,
}

/// Session and one-time-token storage.
pub trait SessionRepo {
    /// Stores a new session under the digest of its id.
    fn insert_session(
        &mut self,
        digest: &[u8],
        session: &SessionRecord,
    ) -> impl Future<Output = Result<()>> + Send;
    /// The live session with this digest, its last-seen time moved to `now_ms`; an expired
    /// (idle or absolute) session is deleted and `None` returned.
    fn touch_session(
        &mut self,
        digest: &[u8],
        now_ms: i64,
    ) -> impl Future<Output = Result<Option<SessionRecord>>> + Send;
    /// Ends one session.
    fn delete_session(&mut self, digest: &[u8]) -> impl Future<Output = Result<()>> + Send;
    /// The account's live and expired-but-not-yet-swept sessions, newest first, with digests.
    fn sessions_of(
        &mut self,
        account: AccountId,
    ) -> impl Future<Output = Result<Vec<(Vec<u8>, SessionRecord)>>> + Send;
    /// Ends every session of an account (password change, disable, role removal); returns how many.
    fn delete_sessions_of(
        &mut self,
        account: AccountId,
    ) -> impl Future<Output = Result<u64>> + Send;
    /// Stores a one-time token's digest.
    fn insert_token(
        &mut self,
        digest: &[u8],
        purpose: &str,
        account: Option<AccountId>,
        org: Option<OrgId>,
        now_ms: i64,
        expires_at_ms: i64,
    ) -> impl Future<Output = Result<()>> + Send;
    /// The account and organisation of a live token without spending it, or `None` (renders a
    /// page; spends nothing — mail scanners prefetch links).
    fn live_token(
        &mut self,
        digest: &[u8],
        purpose: &str,
        now_ms: i64,
    ) -> impl Future<Output = Result<Option<SpentToken>>> + Send;
    /// Spends a live token: `Some` exactly once, `None` if unknown, used, expired or of another
    /// purpose.
    fn spend_token(
        &mut self,
        digest: &[u8],
        purpose: &str,
        now_ms: i64,
    ) -> impl Future<Output = Result<Option<SpentToken>>> + Send;
    /// Voids every unused token of `purpose` (for `account`, or account-less ones when `None`):
    /// re-sending a link revokes the older ones.
    fn revoke_tokens(
        &mut self,
        purpose: &str,
        account: Option<AccountId>,
        now_ms: i64,
    ) -> impl Future<Output = Result<u64>> + Send;
}

fn account_id(text: Option<String>) -> Result<Option<AccountId>> {
    text.map(|t| {
        t.parse()
            .map_err(|_| StoreError::Corrupt(format!("account id {t:?}")))
    })
    .transpose()
}

fn spent(row: &Row) -> Result<SpentToken> {
    Ok(SpentToken {
        account: account_id(row.opt_text("account_id")?)?,
        org: row
            .opt_text("org_id")?
            .map(|t| {
                t.parse()
                    .map_err(|_| StoreError::Corrupt(format!("token org id {t:?}")))
            })
            .transpose()?,
    })
}

const SESSION_COLUMNS: &str = "id_digest, account_id, created_at_ms, last_seen_at_ms, idle_timeout_ms, \
                               absolute_expiry_ms, authenticated_at_ms";

fn decode_session(row: &Row) -> Result<SessionRecord> {
    Ok(SessionRecord {
        account_id: account_id(Some(row.text("account_id")?))?
            .ok_or_else(|| StoreError::Corrupt("session without account".into()))?,
        created_at_ms: row.int("created_at_ms")?,
        last_seen_at_ms: row.int("last_seen_at_ms")?,
        idle_timeout_ms: row.int("idle_timeout_ms")?,
        absolute_expiry_ms: row.int("absolute_expiry_ms")?,
        authenticated_at_ms: row.int("authenticated_at_ms")?,
    })
}

impl SessionRepo for Tx {
    async fn insert_session(&mut self, digest: &[u8], session: &SessionRecord) -> Result<()> {
        self.inner
            .execute(
                "INSERT INTO sessions (id_digest, account_id, created_at_ms, last_seen_at_ms, idle_timeout_ms, \
                 absolute_expiry_ms, authenticated_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                args![
                    digest,
                    session.account_id.to_string(),
                    session.created_at_ms,
                    session.last_seen_at_ms,
                    session.idle_timeout_ms,
                    session.absolute_expiry_ms,
                    session.authenticated_at_ms
                ],
            )
            .await?;
        Ok(())
    }

    async fn touch_session(&mut self, digest: &[u8], now_ms: i64) -> Result<Option<SessionRecord>> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id_digest = $1");
        let Some(row) = self.inner.fetch_optional(&sql, args![digest]).await? else {
            return Ok(None);
        };
        let mut session = decode_session(&row)?;
        let idle_expired = now_ms
            >= session
                .last_seen_at_ms
                .saturating_add(session.idle_timeout_ms);
        if idle_expired || now_ms >= session.absolute_expiry_ms {
            self.delete_session(digest).await?;
            return Ok(None);
        }
        self.inner
            .execute(
                "UPDATE sessions SET last_seen_at_ms = $1 WHERE id_digest = $2",
                args![now_ms, digest],
            )
            .await?;
        session.last_seen_at_ms = now_ms;
        Ok(Some(session))
    }

    async fn delete_session(&mut self, digest: &[u8]) -> Result<()> {
        self.inner
            .execute("DELETE FROM sessions WHERE id_digest = $1", args![digest])
            .await?;
        Ok(())
    }

    async fn sessions_of(&mut self, account: AccountId) -> Result<Vec<(Vec<u8>, SessionRecord)>> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE account_id = $1 ORDER BY created_at_ms DESC"
        );
        self.inner
            .fetch_all(&sql, args![account.to_string()])
            .await?
            .iter()
            .map(|r| Ok((r.bytes("id_digest")?, decode_session(r)?)))
            .collect()
    }

    async fn delete_sessions_of(&mut self, account: AccountId) -> Result<u64> {
        self.inner
            .execute(
                "DELETE FROM sessions WHERE account_id = $1",
                args![account.to_string()],
            )
            .await
    }

    async fn insert_token(
        &mut self,
        digest: &[u8],
        purpose: &str,
        account: Option<AccountId>,
        org: Option<OrgId>,
        now_ms: i64,
        expires_at_ms: i64,
    ) -> Result<()> {
        self.inner
            .execute(
                "INSERT INTO one_time_tokens (digest, purpose, account_id, org_id, created_at_ms, \
                 expires_at_ms) VALUES ($1, $2, $3, $4, $5, $6)",
                args![
                    digest,
                    purpose,
                    account.map(|a| a.to_string()),
                    org.map(|o| o.to_string()),
                    now_ms,
                    expires_at_ms
                ],
            )
            .await?;
        Ok(())
    }

    async fn live_token(
        &mut self,
        digest: &[u8],
        purpose: &str,
        now_ms: i64,
    ) -> Result<Option<SpentToken>> {
        let row = self
            .inner
            .fetch_optional(
                "SELECT account_id, org_id FROM one_time_tokens WHERE digest = $1 AND purpose = $2 \
                 AND used_at_ms IS NULL AND expires_at_ms > $3",
                args![digest, purpose, now_ms],
            )
            .await?;
        row.map(|r| spent(&r)).transpose()
    }

    async fn spend_token(
        &mut self,
        digest: &[u8],
        purpose: &str,
        now_ms: i64,
    ) -> Result<Option<SpentToken>> {
        let row = self
            .inner
            .fetch_optional(
                "UPDATE one_time_tokens SET used_at_ms = $1 WHERE digest = $2 AND purpose = $3 \
                 AND used_at_ms IS NULL AND expires_at_ms > $1 RETURNING account_id, org_id",
                args![now_ms, digest, purpose],
            )
            .await?;
        row.map(|r| spent(&r)).transpose()
    }

    async fn revoke_tokens(
        &mut self,
        purpose: &str,
        account: Option<AccountId>,
        now_ms: i64,
    ) -> Result<u64> {
        match account {
            Some(account) => {
                self.inner
                    .execute(
                        "UPDATE one_time_tokens SET used_at_ms = $1 WHERE purpose = $2 AND account_id = $3 \
                         AND used_at_ms IS NULL",
                        args![now_ms, purpose, account.to_string()],
                    )
                    .await
            }
            None => {
                self.inner
                    .execute(
                        "UPDATE one_time_tokens SET used_at_ms = $1 WHERE purpose = $2 AND account_id IS NULL \
                         AND used_at_ms IS NULL",
                        args![now_ms, purpose],
                    )
                    .await
            }
        }
    }
}
