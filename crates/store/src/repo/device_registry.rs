//! The device registry: locks and hubs, where they are placed, and who owns them. (Not to be
//! confused with `devices.rs`, the browsers trusted for sign-in.)

use std::future::Future;

use latchkey_domain::directory::{Device, DeviceKind, DeviceStatus, LabelKind};
use latchkey_domain::{DeviceId, SpaceId, TenantId};

use crate::db::Tx;
use crate::error::{Result, StoreError};
use crate::repo::labels::LabelRepo;
use crate::repo::sites::stale;
use crate::sql::{Row, args};

/// Device registry storage; every call is scoped to one tenant.
pub trait DeviceRegistryRepo {
    /// Registers a device (with its labels).
    fn insert_device(
        &mut self,
        tenant: TenantId,
        device: &Device,
    ) -> impl Future<Output = Result<()>> + Send;
    /// One device, or `None` (also another tenant's).
    fn device(
        &mut self,
        tenant: TenantId,
        id: DeviceId,
    ) -> impl Future<Output = Result<Option<Device>>> + Send;
    /// Every device of the tenant, by id.
    fn devices(&mut self, tenant: TenantId) -> impl Future<Output = Result<Vec<Device>>> + Send;
    /// Saves the mutable fields and labels if the stored version is still `device.version`;
    /// returns the new version.
    fn update_device(
        &mut self,
        tenant: TenantId,
        device: &Device,
    ) -> impl Future<Output = Result<i64>> + Send;
    /// Removes the device, its labels, its owners and its device-group memberships.
    fn delete_device(
        &mut self,
        tenant: TenantId,
        id: DeviceId,
    ) -> impl Future<Output = Result<()>> + Send;
    /// The devices placed directly in a space.
    fn devices_in_space(
        &mut self,
        tenant: TenantId,
        space: SpaceId,
    ) -> impl Future<Output = Result<Vec<DeviceId>>> + Send;
}

const COLUMNS: &str = "id, kind, name, model, space_id, status, created_at_ms, version";

fn decode(row: &Row, labels: Vec<String>) -> Result<Device> {
    let kind = row.text("kind")?;
    let status = row.text("status")?;
    Ok(Device {
        id: row.id("id")?,
        kind: DeviceKind::parse(&kind)
            .map_err(|_| StoreError::Corrupt(format!("device kind {kind:?}")))?,
        name: row.text("name")?,
        model: row.opt_text("model")?,
        space_id: row.opt_id("space_id")?,
        status: DeviceStatus::parse(&status)
            .map_err(|_| StoreError::Corrupt(format!("device status {status:?}")))?,
        labels,
        created_at_ms: row.int("created_at_ms")?,
        version: row.int("version")?,
    })
}

impl DeviceRegistryRepo for Tx {
    async fn insert_device(&mut self, tenant: TenantId, device: &Device) -> Result<()> {
        self.enter(&tenant.to_string()).await?;
        self.inner
            .execute(
                "INSERT INTO devices (tenant_id, id, kind, name, model, space_id, status, created_at_ms, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                args![
                    tenant.to_string(),
                    device.id.to_string(),
                    device.kind.as_str(),
                    device.name.as_str(),
                    device.model.clone(),
                    device.space_id.map(|s| s.to_string()),
                    device.status.as_str(),
                    device.created_at_ms,
                    device.version
                ],
            )
            .await?;
        self.set_labels(
            tenant,
            LabelKind::Device,
            &device.id.to_string(),
            &device.labels,
        )
        .await
    }

    async fn device(&mut self, tenant: TenantId, id: DeviceId) -> Result<Option<Device>> {
        self.enter(&tenant.to_string()).await?;
        let sql = format!("SELECT {COLUMNS} FROM devices WHERE tenant_id = $1 AND id = $2");
        let row = self
            .inner
            .fetch_optional(&sql, args![tenant.to_string(), id.to_string()])
            .await?;
        match row {
            None => Ok(None),
            Some(r) => {
                let labels = self
                    .labels_of(tenant, LabelKind::Device, &id.to_string())
                    .await?;
                decode(&r, labels).map(Some)
            }
        }
    }

    async fn devices(&mut self, tenant: TenantId) -> Result<Vec<Device>> {
        self.enter(&tenant.to_string()).await?;
        let mut labels = self.labels_by_object(tenant, LabelKind::Device).await?;
        let sql = format!("SELECT {COLUMNS} FROM devices WHERE tenant_id = $1 ORDER BY id");
        self.inner
            .fetch_all(&sql, args![tenant.to_string()])
            .await?
            .iter()
            .map(|r| {
                let id = r.text("id")?;
                decode(r, labels.remove(&id).unwrap_or_default())
            })
            .collect()
    }

    async fn update_device(&mut self, tenant: TenantId, device: &Device) -> Result<i64> {
        self.enter(&tenant.to_string()).await?;
        let changed = self
            .inner
            .execute(
                "UPDATE devices SET name = $1, model = $2, space_id = $3, status = $4, version = version + 1 \
                 WHERE tenant_id = $5 AND id = $6 AND version = $7",
                args![
                    device.name.as_str(),
                    device.model.clone(),
                    device.space_id.map(|s| s.to_string()),
                    device.status.as_str(),
                    tenant.to_string(),
                    device.id.to_string(),
                    device.version
                ],
            )
            .await?;
        if changed == 0 {
            return Err(stale("device"));
        }
        self.set_labels(
            tenant,
            LabelKind::Device,
            &device.id.to_string(),
            &device.labels,
        )
        .await?;
        Ok(device.version + 1)
    }

    async fn delete_device(&mut self, tenant: TenantId, id: DeviceId) -> Result<()> {
        self.enter(&tenant.to_string()).await?;
        self.set_labels(tenant, LabelKind::Device, &id.to_string(), &[])
            .await?;
        for sql in [
            "DELETE FROM device_owners WHERE tenant_id = $1 AND device_id = $2",
            "DELETE FROM device_group_members WHERE tenant_id = $1 AND device_id = $2",
            "DELETE FROM devices WHERE tenant_id = $1 AND id = $2",
        ] {
            self.inner
                .execute(sql, args![tenant.to_string(), id.to_string()])
                .await?;
        }
        Ok(())
    }

    async fn devices_in_space(
        &mut self,
        tenant: TenantId,
        space: SpaceId,
    ) -> Result<Vec<DeviceId>> {
        self.enter(&tenant.to_string()).await?;
        self.inner
            .fetch_all(
                "SELECT id FROM devices WHERE tenant_id = $1 AND space_id = $2 ORDER BY id",
                args![tenant.to_string(), space.to_string()],
            )
            .await?
            .iter()
            .map(|r| r.id("id"))
            .collect()
    }
}
