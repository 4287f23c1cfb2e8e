//! API tokens for integrations (tenant rows). Only the HMAC digest of the secret is stored; the
//! secret is shown once at creation.

use std::future::Future;

use latchkey_domain::identity::ApiScope;
use latchkey_domain::{AccountId, OrgId};

use crate::db::Tx;
use crate::error::{Result, StoreError};
use crate::sql::{Row, args};

/// An API token as stored (without its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTokenRecord {
    /// The organisation it acts in.
    pub org_id: OrgId,
    /// Public id (UUIDv7), for listing and revoking.
    pub id: String,
    /// The account it acts as.
    pub account_id: AccountId,
    /// A name its owner chose ("door sync", "HR export").
    pub name: String,
    /// Read-only or read-write.
    pub scope: ApiScope,
    /// Created, epoch ms UTC.
    pub created_at_ms: i64,
    /// Stops working at, epoch ms UTC.
    pub expires_at_ms: i64,
    /// Revoked at, if revoked.
    pub revoked_at_ms: Option<i64>,
    /// Last used at, if ever.
    pub last_used_at_ms: Option<i64>,
}

impl ApiTokenRecord {
    /// True if the token may be used at `now_ms`.
    pub fn is_live(&self, now_ms: i64) -> bool {
        self.revoked_at_ms.is_none() && now_ms < self.expires_at_ms
    }
}

/// API token storage, scoped to one organisation.
pub trait ApiTokenRepo {
    /// Stores a new token under the digest of its secret.
    fn insert_api_token(
        &mut self,
        token: &ApiTokenRecord,
        digest: &[u8],
    ) -> impl Future<Output = Result<()>> + Send;
    /// The token of `org` with this digest (live or not), or `None`.
    fn api_token_by_digest(
        &mut self,
        org: OrgId,
        digest: &[u8],
    ) -> impl Future<Output = Result<Option<ApiTokenRecord>>> + Send;
    /// The organisation's tokens, newest first.
    fn api_tokens(
        &mut self,
        org: OrgId,
    ) -> impl Future<Output = Result<Vec<ApiTokenRecord>>> + Send;
    /// Revokes one token; false if it does not exist in `org` or was already revoked.
    fn revoke_api_token(
        &mut self,
        org: OrgId,
        id: &str,
        now_ms: i64,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// Revokes every live token an account holds in `org` (disable, deletion, role removal).
    fn revoke_api_tokens_of(
        &mut self,
        org: OrgId,
        account: AccountId,
        now_ms: i64,
    ) -> impl Future<Output = Result<u64>> + Send;
    /// Records a use.
    fn touch_api_token(
        &mut self,
        org: OrgId,
        id: &str,
        now_ms: i64,
    ) -> impl Future<Output = Result<()>> + Send;
}

const COLUMNS: &str = "id, account_id, name, scope, created_at_ms, expires_at_ms, revoked_at_ms, \
                       last_used_at_ms";

fn decode(org: OrgId, row: &Row) -> Result<ApiTokenRecord> {
    let account = row.text("account_id")?;
    let scope = row.text("scope")?;
    Ok(ApiTokenRecord {
        org_id: org,
        id: row.text("id")?,
        account_id: account
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("api token account {account:?}")))?,
        name: row.text("name")?,
        scope: ApiScope::parse(&scope)
            .ok_or_else(|| StoreError::Corrupt(format!("api token scope {scope:?}")))?,
        created_at_ms: row.int("created_at_ms")?,
        expires_at_ms: row.int("expires_at_ms")?,
        revoked_at_ms: row.opt_int("revoked_at_ms")?,
        last_used_at_ms: row.opt_int("last_used_at_ms")?,
    })
}

impl ApiTokenRepo for Tx {
    async fn insert_api_token(&mut self, t: &ApiTokenRecord, digest: &[u8]) -> Result<()> {
        self.enter(&t.org_id.to_string()).await?;
        self.inner
            .execute(
                "INSERT INTO api_tokens (tenant_id, id, account_id, name, scope, digest, created_at_ms, \
                 expires_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                args![
                    t.org_id.to_string(),
                    t.id.as_str(),
                    t.account_id.to_string(),
                    t.name.as_str(),
                    t.scope.as_str(),
                    digest,
                    t.created_at_ms,
                    t.expires_at_ms
                ],
            )
            .await?;
        Ok(())
    }

    async fn api_token_by_digest(
        &mut self,
        org: OrgId,
        digest: &[u8],
    ) -> Result<Option<ApiTokenRecord>> {
        self.enter(&org.to_string()).await?;
        let sql = format!("SELECT {COLUMNS} FROM api_tokens WHERE tenant_id = $1 AND digest = $2");
        let row = self
            .inner
            .fetch_optional(&sql, args![org.to_string(), digest])
            .await?;
        row.map(|r| decode(org, &r)).transpose()
    }

    async fn api_tokens(&mut self, org: OrgId) -> Result<Vec<ApiTokenRecord>> {
        self.enter(&org.to_string()).await?;
        let sql = format!(
            "SELECT {COLUMNS} FROM api_tokens WHERE tenant_id = $1 ORDER BY created_at_ms DESC, id DESC"
        );
        self.inner
            .fetch_all(&sql, args![org.to_string()])
            .await?
            .iter()
            .map(|r| decode(org, r))
            .collect()
    }

    async fn revoke_api_token(&mut self, org: OrgId, id: &str, now_ms: i64) -> Result<bool> {
        self.enter(&org.to_string()).await?;
        let changed = self
            .inner
            .execute(
                "UPDATE api_tokens SET revoked_at_ms = $1 WHERE tenant_id = $2 AND id = $3 \
                 AND revoked_at_ms IS NULL",
                args![now_ms, org.to_string(), id],
            )
            .await?;
        Ok(changed > 0)
    }

    async fn revoke_api_tokens_of(
        &mut self,
        org: OrgId,
        account: AccountId,
        now_ms: i64,
    ) -> Result<u64> {
        self.enter(&org.to_string()).await?;
        self.inner
            .execute(
                "UPDATE api_tokens SET revoked_at_ms = $1 WHERE tenant_id = $2 AND account_id = $3 \
                 AND revoked_at_ms IS NULL",
                args![now_ms, org.to_string(), account.to_string()],
            )
            .await
    }

    async fn touch_api_token(&mut self, org: OrgId, id: &str, now_ms: i64) -> Result<()> {
        self.enter(&org.to_string()).await?;
        self.inner
            .execute(
                "UPDATE api_tokens SET last_used_at_ms = $1 WHERE tenant_id = $2 AND id = $3",
                args![now_ms, org.to_string(), id],
            )
            .await?;
        Ok(())
    }
}
