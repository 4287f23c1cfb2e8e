//! Groups of devices and their members. A group is written whole (fields, labels and member
//! list) under its version, so concurrent edits of the same group cannot interleave.

use std::future::Future;

use latchkey_domain::directory::{DeviceGroup, LabelKind};
use latchkey_domain::{DeviceGroupId, DeviceId, TenantId};

use crate::db::Tx;
use crate::error::Result;
use crate::repo::labels::LabelRepo;
use crate::repo::sites::stale;
use crate::sql::{Row, args};

/// DeviceGroup storage; every call is scoped to one tenant.
pub trait DeviceGroupRepo {
    /// Adds a group with its labels and members.
    fn insert_device_group(
        &mut self,
        tenant: TenantId,
        group: &DeviceGroup,
    ) -> impl Future<Output = Result<()>> + Send;
    /// One group, or `None` (also another tenant's).
    fn device_group(
        &mut self,
        tenant: TenantId,
        id: DeviceGroupId,
    ) -> impl Future<Output = Result<Option<DeviceGroup>>> + Send;
    /// Every group of the tenant, by id.
    fn device_groups(
        &mut self,
        tenant: TenantId,
    ) -> impl Future<Output = Result<Vec<DeviceGroup>>> + Send;
    /// Saves fields, labels and members if the stored version is still `group.version`;
    /// returns the new version.
    fn update_device_group(
        &mut self,
        tenant: TenantId,
        group: &DeviceGroup,
    ) -> impl Future<Output = Result<i64>> + Send;
    /// Removes the group, its members and labels.
    fn delete_device_group(
        &mut self,
        tenant: TenantId,
        id: DeviceGroupId,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Takes the device out of every device group (the device was deleted).
    fn remove_device_from_all_groups(
        &mut self,
        tenant: TenantId,
        device: DeviceId,
    ) -> impl Future<Output = Result<()>> + Send;
}

const COLUMNS: &str = "id, name, description, created_at_ms, version";

fn decode(row: &Row) -> Result<DeviceGroup> {
    Ok(DeviceGroup {
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
    async fn device_group_member_ids(
        &mut self,
        tenant: TenantId,
        id: DeviceGroupId,
    ) -> Result<Vec<DeviceId>> {
        self.inner
            .fetch_all(
                "SELECT device_id FROM device_group_members WHERE tenant_id = $1 AND device_group_id = $2 ORDER BY device_id",
                args![tenant.to_string(), id.to_string()],
            )
            .await?
            .iter()
            .map(|r| r.id("device_id"))
            .collect()
    }

    async fn write_device_group_member_ids(
        &mut self,
        tenant: TenantId,
        group: &DeviceGroup,
    ) -> Result<()> {
        self.inner
            .execute(
                "DELETE FROM device_group_members WHERE tenant_id = $1 AND device_group_id = $2",
                args![tenant.to_string(), group.id.to_string()],
            )
            .await?;
        for device in &group.members {
            self.inner
                .execute(
                    "INSERT INTO device_group_members (tenant_id, device_group_id, device_id) VALUES ($1, $2, $3)",
                    args![
                        tenant.to_string(),
                        group.id.to_string(),
                        device.to_string()
                    ],
                )
                .await?;
        }
        self.set_labels(
            tenant,
            LabelKind::DeviceGroup,
            &group.id.to_string(),
            &group.labels,
        )
        .await
    }

    async fn fill_device_group(
        &mut self,
        tenant: TenantId,
        mut group: DeviceGroup,
    ) -> Result<DeviceGroup> {
        group.labels = self
            .labels_of(tenant, LabelKind::DeviceGroup, &group.id.to_string())
            .await?;
        group.members = self.device_group_member_ids(tenant, group.id).await?;
        Ok(group)
    }
}

impl DeviceGroupRepo for Tx {
    async fn insert_device_group(&mut self, tenant: TenantId, group: &DeviceGroup) -> Result<()> {
        self.enter(&tenant.to_string()).await?;
        self.inner
            .execute(
                "INSERT INTO device_groups (tenant_id, id, name, description, created_at_ms, version) \
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
        self.write_device_group_member_ids(tenant, group).await
    }

    async fn device_group(
        &mut self,
        tenant: TenantId,
        id: DeviceGroupId,
    ) -> Result<Option<DeviceGroup>> {
        self.enter(&tenant.to_string()).await?;
        let sql = format!("SELECT {COLUMNS} FROM device_groups WHERE tenant_id = $1 AND id = $2");
        let row = self
            .inner
            .fetch_optional(&sql, args![tenant.to_string(), id.to_string()])
            .await?;
        match row {
            None => Ok(None),
            Some(r) => {
                let group = decode(&r)?;
                self.fill_device_group(tenant, group).await.map(Some)
            }
        }
    }

    async fn device_groups(&mut self, tenant: TenantId) -> Result<Vec<DeviceGroup>> {
        self.enter(&tenant.to_string()).await?;
        let sql = format!("SELECT {COLUMNS} FROM device_groups WHERE tenant_id = $1 ORDER BY id");
        let rows = self
            .inner
            .fetch_all(&sql, args![tenant.to_string()])
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let group = decode(&row)?;
            out.push(self.fill_device_group(tenant, group).await?);
        }
        Ok(out)
    }

    async fn update_device_group(&mut self, tenant: TenantId, group: &DeviceGroup) -> Result<i64> {
        self.enter(&tenant.to_string()).await?;
        let changed = self
            .inner
            .execute(
                "UPDATE device_groups SET name = $1, description = $2, version = version + 1 \
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
            return Err(stale("device group"));
        }
        self.write_device_group_member_ids(tenant, group).await?;
        Ok(group.version + 1)
    }

    async fn delete_device_group(&mut self, tenant: TenantId, id: DeviceGroupId) -> Result<()> {
        self.enter(&tenant.to_string()).await?;
        self.inner
            .execute(
                "DELETE FROM device_group_members WHERE tenant_id = $1 AND device_group_id = $2",
                args![tenant.to_string(), id.to_string()],
            )
            .await?;
        self.set_labels(tenant, LabelKind::DeviceGroup, &id.to_string(), &[])
            .await?;
        self.inner
            .execute(
                "DELETE FROM device_groups WHERE tenant_id = $1 AND id = $2",
                args![tenant.to_string(), id.to_string()],
            )
            .await?;
        Ok(())
    }

    async fn remove_device_from_all_groups(
        &mut self,
        tenant: TenantId,
        device: DeviceId,
    ) -> Result<()> {
        self.enter(&tenant.to_string()).await?;
        self.inner
            .execute(
                "DELETE FROM device_group_members WHERE tenant_id = $1 AND device_id = $2",
                args![tenant.to_string(), device.to_string()],
            )
            .await?;
        Ok(())
    }
}
