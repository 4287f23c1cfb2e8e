//! A person's per-organisation profile, on their membership row: a display name override and an
//! employee number, sealed with the tenant keys (the number unique per organisation through its
//! blind index), and labels.

use std::collections::HashMap;
use std::future::Future;

use latchkey_domain::directory::LabelKind;
use latchkey_domain::{AccountId, DomainError, ErrorCode, OrgId, Scope};

use crate::db::Tx;
use crate::error::{Result, StoreError};
use crate::keyring::{Cell, TenantKeys};
use crate::repo::labels::LabelRepo;
use crate::sql::{Row, args};

/// The profile fields of one membership.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberProfile {
    /// Shown instead of the account's name in this organisation.
    pub display_name: Option<String>,
    /// The organisation's employee number (unique in the organisation).
    pub employee_number: Option<String>,
    /// Labels, normalised and sorted.
    pub labels: Vec<String>,
}

/// Profile storage; every call is scoped to one organisation.
pub trait MemberProfileRepo {
    /// The profile of a membership (`None` if there is no such membership).
    fn member_profile(
        &mut self,
        org: OrgId,
        account: AccountId,
    ) -> impl Future<Output = Result<Option<MemberProfile>>> + Send;
    /// Every membership's profile, keyed by account.
    fn member_profiles(
        &mut self,
        org: OrgId,
    ) -> impl Future<Output = Result<HashMap<AccountId, MemberProfile>>> + Send;
    /// Saves a profile; an employee number another member already has is a conflict.
    fn set_member_profile(
        &mut self,
        org: OrgId,
        account: AccountId,
        profile: &MemberProfile,
    ) -> impl Future<Output = Result<()>> + Send;
}

const TABLE: &str = "memberships";

fn cell<'a>(column: &'a str, id: &'a str) -> Cell<'a> {
    Cell {
        table: TABLE,
        column,
        row_id: id,
    }
}

fn open_text(
    keys: &TenantKeys,
    column: &str,
    id: &str,
    sealed: Option<Vec<u8>>,
) -> Result<Option<String>> {
    sealed
        .map(|bytes| {
            let plain = keys
                .open(cell(column, id), &bytes)
                .ok_or_else(|| StoreError::Unseal {
                    what: format!("{TABLE}.{column} of {id}"),
                })?;
            String::from_utf8(plain)
                .map_err(|_| StoreError::Corrupt(format!("{column}: not UTF-8")))
        })
        .transpose()
}

/// The key under which employee numbers are compared: trimmed and case-folded.
fn number_key(number: &str) -> String {
    number.trim().to_lowercase()
}

fn decode(keys: &TenantKeys, row: &Row) -> Result<(AccountId, MemberProfile)> {
    let id = row.text("account_id")?;
    Ok((
        row.id("account_id")?,
        MemberProfile {
            display_name: open_text(
                keys,
                "display_name_sealed",
                &id,
                row.opt_bytes("display_name_sealed")?,
            )?,
            employee_number: open_text(
                keys,
                "employee_number_sealed",
                &id,
                row.opt_bytes("employee_number_sealed")?,
            )?,
            labels: Vec::new(),
        },
    ))
}

const COLUMNS: &str = "account_id, display_name_sealed, employee_number_sealed";

impl MemberProfileRepo for Tx {
    async fn member_profile(
        &mut self,
        org: OrgId,
        account: AccountId,
    ) -> Result<Option<MemberProfile>> {
        let keys = self.scope_keys(Scope::Tenant(org)).await?;
        self.enter(&org.to_string()).await?;
        let sql =
            format!("SELECT {COLUMNS} FROM memberships WHERE tenant_id = $1 AND account_id = $2");
        let row = self
            .inner
            .fetch_optional(&sql, args![org.to_string(), account.to_string()])
            .await?;
        let Some(row) = row else { return Ok(None) };
        let (_, mut profile) = decode(&keys, &row)?;
        profile.labels = self
            .labels_of(org, LabelKind::Person, &account.to_string())
            .await?;
        Ok(Some(profile))
    }

    async fn member_profiles(&mut self, org: OrgId) -> Result<HashMap<AccountId, MemberProfile>> {
        let keys = self.scope_keys(Scope::Tenant(org)).await?;
        self.enter(&org.to_string()).await?;
        let mut labels = self.labels_by_object(org, LabelKind::Person).await?;
        let sql = format!("SELECT {COLUMNS} FROM memberships WHERE tenant_id = $1");
        let rows = self.inner.fetch_all(&sql, args![org.to_string()]).await?;
        let mut out = HashMap::with_capacity(rows.len());
        for row in rows {
            let (account, mut profile) = decode(&keys, &row)?;
            profile.labels = labels.remove(&account.to_string()).unwrap_or_default();
            out.insert(account, profile);
        }
        Ok(out)
    }

    async fn set_member_profile(
        &mut self,
        org: OrgId,
        account: AccountId,
        profile: &MemberProfile,
    ) -> Result<()> {
        let keys = self.scope_keys(Scope::Tenant(org)).await?;
        self.enter(&org.to_string()).await?;
        let id = account.to_string();
        let name = profile
            .display_name
            .as_ref()
            .map(|n| keys.seal(cell("display_name_sealed", &id), n.as_bytes()));
        let number = profile
            .employee_number
            .as_ref()
            .map(|n| keys.seal(cell("employee_number_sealed", &id), n.as_bytes()));
        let bidx = profile
            .employee_number
            .as_ref()
            .map(|n| keys.blind_index("employee_number", &number_key(n)));
        let result = self
            .inner
            .execute(
                "UPDATE memberships SET display_name_sealed = $1, employee_number_sealed = $2, \
                 employee_number_bidx = $3 WHERE tenant_id = $4 AND account_id = $5",
                args![name, number, bidx, org.to_string(), id.clone()],
            )
            .await;
        match result {
            Err(e) if e.is_unique_violation() => {
                return Err(StoreError::Domain(
                    DomainError::new(
                        ErrorCode::Conflict,
                        "another person of this organisation already has this employee number",
                    )
                    .with_field("employee_number"),
                ));
            }
            other => {
                other?;
            }
        }
        self.set_labels(org, LabelKind::Person, &id, &profile.labels)
            .await
    }
}
