//! Groups of people and their members. A group is written whole (fields, labels and member
//! list) under its version, so concurrent edits of the same group cannot interleave.

use std::future::Future;

use latchkey_domain::directory::{Group, LabelKind};
use latchkey_domain::{AccountId, GroupId, TenantId};

use crate::db::Tx;
use crate::error::Result;
use crate::repo::labels::LabelRepo;
use crate::repo::sites::stale;
use crate::sql::{Row, args};

/// Group storage; every call is scoped to one tenant.
pub trait GroupRepo {
    /// Adds a group with its labels and members.
    fn insert_group(
        &mut self,
        tenant: TenantId,
        group: &Group,
    ) -> impl Future<Output = Result<()>> + Send;
    /// One group, or `None` (also another tenant's).
    fn group(
        &mut self,
        tenant: TenantId,
        id: GroupId,
    ) -> impl Future<Output = Result<Option<Group>>> + Send;
    /// Every group of the tenant, by id.
    fn groups(&mut self, tenant: TenantId) -> impl Future<Output = Result<Vec<Group>>> + Send;
    /// Saves fields, labels and members if the stored version is still `group.version`;
    /// returns the new version.
    fn update_group(
        &mut self,
        tenant: TenantId,
        group: &Group,
    ) -> impl Future<Output = Result<i64>> + Send;
    /// Removes the group, its members and labels.
    fn delete_group(
        &mut self,
        tenant: TenantId,
        id: GroupId,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Takes the account out of every group (the person left the organisation).
    fn remove_from_all_groups(
        &mut self,
        tenant: TenantId,
        account: AccountId,
    ) -> impl Future<Output = Result<()>> + Send;
}

const COLUMNS: &str = "id, name, description, created_at_ms, version";

fn decode(row: &Row) -> Result<Group> {
    Ok(Group {
        id: row.id("id")?,
        name: row.text("name")?,
        description: row.opt_text("description")?,
        labels: Vec::new(),
        members: Vec::new(),
        created_at_ms: row.int("created_at_ms")?,
        version: row.int("version")?,
    })
}

impl Tx {
    async fn group_members(&mut self, tenant: TenantId, id: GroupId) -> Result<Vec<AccountId>> {
        self.inner
            .fetch_all(
                "SELECT account_id FROM group_members WHERE tenant_id = $1 AND group_id = $2 ORDER BY account_id",
                args![tenant.to_string(), id.to_string()],
            )
            .await?
            .iter()
            .map(|r| r.id("account_id"))
            .collect()
    }

    async fn write_group_members(&mut self, tenant: TenantId, group: &Group) -> Result<()> {
        self.inner
            .execute(
                "DELETE FROM group_members WHERE tenant_id = $1 AND group_id = $2",
                args![tenant.to_string(), group.id.to_string()],
            )
            .await?;
        for account in &group.members {
            self.inner
                .execute(
                    "INSERT INTO group_members (tenant_id, group_id, account_id) VALUES ($1, $2, $3)",
                    args![
                        tenant.to_string(),
                        group.id.to_string(),
                        account.to_string()
                    ],
                )
                .await?;
        }
        self.set_labels(
            tenant,
            LabelKind::Group,
            &group.id.to_string(),
            &group.labels,
        )
        .await
    }

    async fn fill_group(&mut self, tenant: TenantId, mut group: Group) -> Result<Group> {
        group.labels = self
            .labels_of(tenant, LabelKind::Group, &group.id.to_string())
            .await?;
        group.members = self.group_members(tenant, group.id).await?;
        Ok(group)
    }
}

impl GroupRepo for Tx {
    async fn insert_group(&mut self, tenant: TenantId, group: &Group) -> Result<()> {
        self.enter(&tenant.to_string()).await?;
        self.inner
            .execute(
                "INSERT INTO people_groups (tenant_id, id, name, description, created_at_ms, version) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                args![
                    tenant.to_string(),
                    group.id.to_string(),
                    group.name.as_str(),
                    group.description.clone(),
                    group.created_at_ms,
                    group.version
                ],
            )
            .await?;
        self.write_group_members(tenant, group).await
    }

    async fn group(&mut self, tenant: TenantId, id: GroupId) -> Result<Option<Group>> {
        self.enter(&tenant.to_string()).await?;
        let sql = format!("SELECT {COLUMNS} FROM people_groups WHERE tenant_id = $1 AND id = $2");
        let row = self
            .inner
            .fetch_optional(&sql, args![tenant.to_string(), id.to_string()])
            .await?;
        match row {
            None => Ok(None),
            Some(r) => {
                let group = decode(&r)?;
                self.fill_group(tenant, group).await.map(Some)
            }
        }
    }

    async fn groups(&mut self, tenant: TenantId) -> Result<Vec<Group>> {
        self.enter(&tenant.to_string()).await?;
        let sql = format!("SELECT {COLUMNS} FROM people_groups WHERE tenant_id = $1 ORDER BY id");
        let rows = self
            .inner
            .fetch_all(&sql, args![tenant.to_string()])
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let group = decode(&row)?;
            out.push(self.fill_group(tenant, group).await?);
        }
        Ok(out)
    }

    async fn update_group(&mut self, tenant: TenantId, group: &Group) -> Result<i64> {
        self.enter(&tenant.to_string()).await?;
        let changed = self
            .inner
            .execute(
                "UPDATE people_groups SET name = $1, description = $2, version = version + 1 \
                 WHERE tenant_id = $3 AND id = $4 AND version = $5",
                args![
                    group.name.as_str(),
                    group.description.clone(),
                    tenant.to_string(),
                    group.id.to_string(),
                    group.version
                ],
            )
            .await?;
        if changed == 0 {
            return Err(stale("group"));
        }
        self.write_group_members(tenant, group).await?;
        Ok(group.version + 1)
    }

    async fn delete_group(&mut self, tenant: TenantId, id: GroupId) -> Result<()> {
        self.enter(&tenant.to_string()).await?;
        self.inner
            .execute(
                "DELETE FROM group_members WHERE tenant_id = $1 AND group_id = $2",
                args![tenant.to_string(), id.to_string()],
            )
            .await?;
        self.set_labels(tenant, LabelKind::Group, &id.to_string(), &[])
            .await?;
        self.inner
            .execute(
                "DELETE FROM people_groups WHERE tenant_id = $1 AND id = $2",
                args![tenant.to_string(), id.to_string()],
            )
            .await?;
        Ok(())
    }

    async fn remove_from_all_groups(&mut self, tenant: TenantId, account: AccountId) -> Result<()> {
        self.enter(&tenant.to_string()).await?;
        self.inner
            .execute(
                "DELETE FROM group_members WHERE tenant_id = $1 AND account_id = $2",
                args![tenant.to_string(), account.to_string()],
            )
            .await?;
        Ok(())
    }
}
