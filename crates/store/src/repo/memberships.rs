//! Memberships: an account's role in one organisation. Tenant rows (row-level security on
//! PostgreSQL); the platform-level `account_links` table mirrors only the pair of ids so that
//! sign-in can list an account's organisations before entering any tenant. Both are written in
//! the same transaction.

use std::future::Future;

use latchkey_domain::identity::{MembershipStatus, Role};
use latchkey_domain::{AccountId, DomainError, ErrorCode, OrgId};

use crate::db::Tx;
use crate::error::{Result, StoreError};
use crate::sql::{Row, args};

/// A membership as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// The organisation.
    pub org_id: OrgId,
    /// The account.
    pub account_id: AccountId,
    /// Role in the organisation.
    pub role: Role,
    /// Life-cycle status.
    pub status: MembershipStatus,
    /// Creation time, epoch ms UTC.
    pub created_at_ms: i64,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// When a guest's membership ends, epoch ms UTC (`None`: it does not end).
    pub expires_at_ms: Option<i64>,
}

impl Membership {
    /// True while the membership is active and, for a time-limited one, not yet past its end:
    /// an expired guest is treated exactly like a disabled member.
    pub fn is_active_at(&self, now_ms: i64) -> bool {
        self.status == MembershipStatus::Active && self.expires_at_ms.is_none_or(|end| now_ms < end)
    }
}

/// Membership storage; every call is scoped to one organisation except `organisations_of`.
pub trait MembershipRepo {
    /// Adds a membership (and its platform link); a second one for the same pair is a conflict.
    fn insert_membership(
        &mut self,
        membership: &Membership,
    ) -> impl Future<Output = Result<()>> + Send;
    /// The account's membership of `org`, or `None`.
    fn membership(
        &mut self,
        org: OrgId,
        account: AccountId,
    ) -> impl Future<Output = Result<Option<Membership>>> + Send;
    /// Every membership of `org`, oldest first.
    fn memberships(&mut self, org: OrgId) -> impl Future<Output = Result<Vec<Membership>>> + Send;
    /// Saves role and status if the stored version is still `membership.version`; returns the
    /// new version.
    fn update_membership(
        &mut self,
        membership: &Membership,
    ) -> impl Future<Output = Result<i64>> + Send;
    /// Removes the membership and its link.
    fn delete_membership(
        &mut self,
        org: OrgId,
        account: AccountId,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Memberships holding a seat at `now_ms`: invited or active, and not a guest whose time has
    /// run out (an expired guest can do nothing, like a disabled member, so holds no seat). Call
    /// [`MembershipRepo::lock_seats`] first in the same transaction when the count guards an
    /// insert.
    fn seats_in_use(&mut self, org: OrgId, now_ms: i64)
    -> impl Future<Output = Result<i64>> + Send;
    /// Serialises seat-changing transactions of `org` (the organisation's row lock on
    /// PostgreSQL; SQLite's single writer already serialises), so that parallel invitations
    /// cannot both take the last seat.
    fn lock_seats(&mut self, org: OrgId) -> impl Future<Output = Result<()>> + Send;
    /// The organisations the account belongs to (any status), by id.
    fn organisations_of(
        &mut self,
        account: AccountId,
    ) -> impl Future<Output = Result<Vec<OrgId>>> + Send;
}

const COLUMNS: &str = "account_id, role, status, created_at_ms, version, expires_at_ms";

fn decode(org: OrgId, row: &Row) -> Result<Membership> {
    let account = row.text("account_id")?;
    let role = row.text("role")?;
    let status = row.text("status")?;
    Ok(Membership {
        org_id: org,
        account_id: account
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("membership account {account:?}")))?,
        role: Role::parse(&role)
            .ok_or_else(|| StoreError::Corrupt(format!("membership role {role:?}")))?,
        status: MembershipStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("membership status {status:?}")))?,
        created_at_ms: row.int("created_at_ms")?,
        version: row.int("version")?,
        expires_at_ms: row.opt_int("expires_at_ms")?,
    })
}

impl MembershipRepo for Tx {
    async fn insert_membership(&mut self, m: &Membership) -> Result<()> {
        let (org, account) = (m.org_id.to_string(), m.account_id.to_string());
        if self.membership(m.org_id, m.account_id).await?.is_some() {
            return Err(StoreError::Domain(DomainError::new(
                ErrorCode::Conflict,
                "this account is already a member of the organisation",
            )));
        }
        self.inner
            .execute(
                "INSERT INTO memberships (tenant_id, account_id, role, status, created_at_ms, version, expires_at_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                args![
                    org.clone(),
                    account.clone(),
                    m.role.as_str(),
                    m.status.as_str(),
                    m.created_at_ms,
                    m.version,
                    m.expires_at_ms
                ],
            )
            .await?;
        self.inner
            .execute(
                "INSERT INTO account_links (account_id, org_id) VALUES ($1, $2)",
                args![account, org],
            )
            .await?;
        Ok(())
    }

    async fn membership(&mut self, org: OrgId, account: AccountId) -> Result<Option<Membership>> {
        self.enter(&org.to_string()).await?;
        let sql =
            format!("SELECT {COLUMNS} FROM memberships WHERE tenant_id = $1 AND account_id = $2");
        let row = self
            .inner
            .fetch_optional(&sql, args![org.to_string(), account.to_string()])
            .await?;
        row.map(|r| decode(org, &r)).transpose()
    }

    async fn memberships(&mut self, org: OrgId) -> Result<Vec<Membership>> {
        self.enter(&org.to_string()).await?;
        let sql = format!(
            "SELECT {COLUMNS} FROM memberships WHERE tenant_id = $1 ORDER BY created_at_ms, account_id"
        );
        self.inner
            .fetch_all(&sql, args![org.to_string()])
            .await?
            .iter()
            .map(|r| decode(org, r))
            .collect()
    }

    async fn update_membership(&mut self, m: &Membership) -> Result<i64> {
        self.enter(&m.org_id.to_string()).await?;
        let changed = self
            .inner
            .execute(
                "UPDATE memberships SET role = $1, status = $2, expires_at_ms = $6, version = version + 1 \
                 WHERE tenant_id = $3 AND account_id = $4 AND version = $5",
                args![
                    m.role.as_str(),
                    m.status.as_str(),
                    m.org_id.to_string(),
                    m.account_id.to_string(),
                    m.version,
                    m.expires_at_ms
                ],
            )
            .await?;
        if changed == 0 {
            return Err(StoreError::Domain(DomainError::new(
                ErrorCode::Conflict,
                "the membership was changed by someone else; reload and try again",
            )));
        }
        Ok(m.version + 1)
    }

    async fn delete_membership(&mut self, org: OrgId, account: AccountId) -> Result<()> {
        self.enter(&org.to_string()).await?;
        self.inner
            .execute(
                "DELETE FROM memberships WHERE tenant_id = $1 AND account_id = $2",
                args![org.to_string(), account.to_string()],
            )
            .await?;
        self.inner
            .execute(
                "DELETE FROM account_links WHERE account_id = $1 AND org_id = $2",
                args![account.to_string(), org.to_string()],
            )
            .await?;
        Ok(())
    }

    async fn seats_in_use(&mut self, org: OrgId, now_ms: i64) -> Result<i64> {
        self.enter(&org.to_string()).await?;
        let row = self
            .inner
            .fetch_optional(
                "SELECT COUNT(*) AS seats FROM memberships WHERE tenant_id = $1 \
                 AND status IN ('invited', 'active') \
                 AND (expires_at_ms IS NULL OR expires_at_ms > $2)",
                args![org.to_string(), now_ms],
            )
            .await?;
        row.map_or(Ok(0), |r| r.int("seats"))
    }

    async fn lock_seats(&mut self, org: OrgId) -> Result<()> {
        // A no-op UPDATE takes the row lock on PostgreSQL; portable, unlike SELECT … FOR UPDATE.
        self.inner
            .execute(
                "UPDATE organisations SET version = version WHERE id = $1",
                args![org.to_string()],
            )
            .await?;
        Ok(())
    }

    async fn organisations_of(&mut self, account: AccountId) -> Result<Vec<OrgId>> {
        self.inner
            .fetch_all(
                "SELECT org_id FROM account_links WHERE account_id = $1 ORDER BY org_id",
                args![account.to_string()],
            )
            .await?
            .iter()
            .map(|r| {
                let id = r.text("org_id")?;
                id.parse()
                    .map_err(|_| StoreError::Corrupt(format!("account link org {id:?}")))
            })
            .collect()
    }
}
