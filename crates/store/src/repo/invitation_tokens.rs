//! One-time tokens bound to an account *and* an organisation (invitations): an account invited
//! into two organisations holds one live link per organisation, so re-sending one invitation
//! must not void the other's.

use std::future::Future;

use latchkey_domain::{AccountId, OrgId};

use crate::db::Tx;
use crate::error::Result;
use crate::sql::args;

/// Organisation-scoped one-time tokens.
pub trait InvitationTokenRepo {
    /// Voids every unused token of `purpose` issued for `account` in `org`; returns how many.
    fn revoke_org_tokens(
        &mut self,
        purpose: &str,
        account: AccountId,
        org: OrgId,
        now_ms: i64,
    ) -> impl Future<Output = Result<u64>> + Send;
}

impl InvitationTokenRepo for Tx {
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
}
