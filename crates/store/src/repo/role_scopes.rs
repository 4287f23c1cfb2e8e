//! The scope of roles with scope: the space subtrees a space manager manages (their roots), and
//! the devices a device owner owns. Read on every request that needs them (no cache), so a
//! change takes effect on the next request.

use std::future::Future;

use latchkey_domain::{AccountId, DeviceId, SpaceId, TenantId};

use crate::db::Tx;
use crate::error::Result;
use crate::sql::args;

/// Role scope storage; every call is scoped to one tenant.
pub trait RoleScopeRepo {
    /// The roots of the space subtrees the account manages, by id.
    fn managed_spaces(
        &mut self,
        tenant: TenantId,
        account: AccountId,
    ) -> impl Future<Output = Result<Vec<SpaceId>>> + Send;
    /// Replaces the roots of the subtrees the account manages.
    fn set_managed_spaces(
        &mut self,
        tenant: TenantId,
        account: AccountId,
        spaces: &[SpaceId],
    ) -> impl Future<Output = Result<()>> + Send;
    /// The devices the account owns, by id.
    fn owned_devices(
        &mut self,
        tenant: TenantId,
        account: AccountId,
    ) -> impl Future<Output = Result<Vec<DeviceId>>> + Send;
    /// Replaces the devices the account owns.
    fn set_owned_devices(
        &mut self,
        tenant: TenantId,
        account: AccountId,
        devices: &[DeviceId],
    ) -> impl Future<Output = Result<()>> + Send;
}

impl RoleScopeRepo for Tx {
    async fn managed_spaces(
        &mut self,
        tenant: TenantId,
        account: AccountId,
    ) -> Result<Vec<SpaceId>> {
        self.enter(&tenant.to_string()).await?;
        self.inner
            .fetch_all(
                "SELECT space_id FROM space_manager_scopes WHERE tenant_id = $1 AND account_id = $2 \
                 ORDER BY space_id",
                args![tenant.to_string(), account.to_string()],
            )
            .await?
            .iter()
            .map(|r| r.id("space_id"))
            .collect()
    }

    async fn set_managed_spaces(
        &mut self,
        tenant: TenantId,
        account: AccountId,
        spaces: &[SpaceId],
    ) -> Result<()> {
        self.enter(&tenant.to_string()).await?;
        self.inner
            .execute(
                "DELETE FROM space_manager_scopes WHERE tenant_id = $1 AND account_id = $2",
                args![tenant.to_string(), account.to_string()],
            )
            .await?;
        for space in spaces {
            self.inner
                .execute(
                    "INSERT INTO space_manager_scopes (tenant_id, account_id, space_id) VALUES ($1, $2, $3)",
                    args![tenant.to_string(), account.to_string(), space.to_string()],
                )
                .await?;
        }
        Ok(())
    }

    async fn owned_devices(
        &mut self,
        tenant: TenantId,
        account: AccountId,
    ) -> Result<Vec<DeviceId>> {
        self.enter(&tenant.to_string()).await?;
        self.inner
            .fetch_all(
                "SELECT device_id FROM device_owners WHERE tenant_id = $1 AND account_id = $2 \
                 ORDER BY device_id",
                args![tenant.to_string(), account.to_string()],
            )
            .await?
            .iter()
            .map(|r| r.id("device_id"))
            .collect()
    }

    async fn set_owned_devices(
        &mut self,
        tenant: TenantId,
        account: AccountId,
        devices: &[DeviceId],
    ) -> Result<()> {
        self.enter(&tenant.to_string()).await?;
        self.inner
            .execute(
                "DELETE FROM device_owners WHERE tenant_id = $1 AND account_id = $2",
                args![tenant.to_string(), account.to_string()],
            )
            .await?;
        for device in devices {
            self.inner
                .execute(
                    "INSERT INTO device_owners (tenant_id, device_id, account_id) VALUES ($1, $2, $3)",
                    args![tenant.to_string(), device.to_string(), account.to_string()],
                )
                .await?;
        }
        Ok(())
    }
}
