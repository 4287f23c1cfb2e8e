//! What invitations add to memberships and one-time tokens:
//! - tokens bound to an account *and* an organisation: an account invited into two organisations
//!   holds one live link per organisation, so re-sending one must not void the other;
//! - the name the inviting admin typed, sealed with the tenant's key and shown while the
//!   membership is only invited (an existing account's own name stays private until it joins).

use std::future::Future;

use latchkey_domain::{AccountId, OrgId};

use crate::db::Tx;
use crate::error::{Result, StoreError};
use crate::keyring::Cell;
use crate::sql::args;

fn name_cell(row_id: &str) -> Cell<'_> {
    Cell {
        table: "memberships",
        column: "invited_name_sealed",
        row_id,
    }
}

/// Invitation storage beyond the membership row itself.
pub trait InvitationRepo {
    /// Voids every unused token of `purpose` issued for `account` in `org`; returns how many.
    fn revoke_org_tokens(
        &mut self,
        purpose: &str,
        account: AccountId,
        org: OrgId,
        now_ms: i64,
    ) -> impl Future<Output = Result<u64>> + Send;
    /// Records (or with `None` clears) the name typed when `account` was invited into `org`.
    fn set_invited_name(
        &mut self,
        org: OrgId,
        account: AccountId,
        name: Option<&str>,
    ) -> impl Future<Output = Result<()>> + Send;
    /// The name typed when `account` was invited into `org`, if recorded.
    fn invited_name(
        &mut self,
        org: OrgId,
        account: AccountId,
    ) -> impl Future<Output = Result<Option<String>>> + Send;
}

impl InvitationRepo for Tx {
    async fn revoke_org_tokens(
        &mut self,
        purpose: &str,
        account: AccountId,
        org: OrgId,
        now_ms: i64,
    ) -> Result<u64> {
        self.inner
            .execute(
                "UPDATE one_time_tokens SET used_at_ms = $1 WHERE purpose = $2 AND account_id = $3 \
                 AND org_id = $4 AND used_at_ms IS NULL",
                args![now_ms, purpose, account.to_string(), org.to_string()],
            )
            .await
    }

    async fn set_invited_name(
        &mut self,
        org: OrgId,
        account: AccountId,
        name: Option<&str>,
    ) -> Result<()> {
        self.enter(&org.to_string()).await?;
        let row_id = format!("{org}/{account}");
        let sealed = match name {
            Some(name) => Some(
                self.tenant_keys(org)
                    .await?
                    .seal(name_cell(&row_id), name.as_bytes()),
            ),
            None => None,
        };
        self.inner
            .execute(
                "UPDATE memberships SET invited_name_sealed = $1 WHERE tenant_id = $2 AND account_id = $3",
                args![sealed, org.to_string(), account.to_string()],
            )
            .await?;
        Ok(())
    }

    async fn invited_name(&mut self, org: OrgId, account: AccountId) -> Result<Option<String>> {
        self.enter(&org.to_string()).await?;
        let row = self
            .inner
            .fetch_optional(
                "SELECT invited_name_sealed FROM memberships WHERE tenant_id = $1 AND account_id = $2",
                args![org.to_string(), account.to_string()],
            )
            .await?;
        let Some(sealed) = row
            .map(|r| r.opt_bytes("invited_name_sealed"))
            .transpose()?
            .flatten()
        else {
            return Ok(None);
        };
        let row_id = format!("{org}/{account}");
        let plain = self
            .tenant_keys(org)
            .await?
            .open(name_cell(&row_id), &sealed)
            .ok_or_else(|| StoreError::Unseal {
                what: format!("memberships.invited_name_sealed of {row_id}"),
            })?;
        String::from_utf8(plain)
            .map(Some)
            .map_err(|_| StoreError::Corrupt(format!("invited name of {row_id}: not UTF-8")))
    }
}
