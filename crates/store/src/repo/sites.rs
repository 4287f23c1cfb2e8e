//! Sites of an organisation.

use std::future::Future;

use latchkey_domain::tenancy::Site;
use latchkey_domain::{SiteId, TenantId};

use crate::db::Tx;
use crate::error::{Result, StoreError};
use crate::sql::{Row, args};

/// Site storage; every call is scoped to one tenant.
pub trait SiteRepo {
    /// Adds a site to the tenant.
    fn insert_site(
        &mut self,
        tenant: TenantId,
        site: &Site,
    ) -> impl Future<Output = Result<()>> + Send;
    /// One site of the tenant, or `None` (also when it belongs to another tenant).
    fn site(
        &mut self,
        tenant: TenantId,
        id: SiteId,
    ) -> impl Future<Output = Result<Option<Site>>> + Send;
    /// The tenant's sites, oldest first.
    fn sites(&mut self, tenant: TenantId) -> impl Future<Output = Result<Vec<Site>>> + Send;
}

fn decode(tenant: TenantId, row: &Row) -> Result<Site> {
    let id = row.text("id")?;
    Ok(Site {
        id: id
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("site id {id:?}")))?,
        org_id: tenant,
        name: row.text("name")?,
        time_zone: row.text("time_zone")?,
        created_at_ms: row.int("created_at_ms")?,
    })
}

impl SiteRepo for Tx {
    async fn insert_site(&mut self, tenant: TenantId, site: &Site) -> Result<()> {
        self.enter(&tenant.to_string()).await?;
        self.inner
            .execute(
                "INSERT INTO sites (tenant_id, id, name, time_zone, created_at_ms) \
                 VALUES ($1, $2, $3, $4, $5)",
                args![
                    tenant.to_string(),
                    site.id.to_string(),
                    site.name.as_str(),
                    site.time_zone.as_str(),
                    site.created_at_ms
                ],
            )
            .await?;
        Ok(())
    }

    async fn site(&mut self, tenant: TenantId, id: SiteId) -> Result<Option<Site>> {
        self.enter(&tenant.to_string()).await?;
        let row = self
            .inner
            .fetch_optional(
                "SELECT id, name, time_zone, created_at_ms FROM sites WHERE tenant_id = $1 AND id = $2",
                args![tenant.to_string(), id.to_string()],
            )
            .await?;
        row.map(|r| decode(tenant, &r)).transpose()
    }

    async fn sites(&mut self, tenant: TenantId) -> Result<Vec<Site>> {
        self.enter(&tenant.to_string()).await?;
        self.inner
            .fetch_all(
                "SELECT id, name, time_zone, created_at_ms FROM sites WHERE tenant_id = $1 ORDER BY id",
                args![tenant.to_string()],
            )
            .await?
            .iter()
            .map(|r| decode(tenant, r))
            .collect()
    }
}
