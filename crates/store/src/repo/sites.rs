//! Sites of an organisation, and each site's holiday calendar.

use std::future::Future;

use latchkey_domain::directory::{Holiday, LabelKind};
use latchkey_domain::tenancy::Site;
use latchkey_domain::{DomainError, ErrorCode, SiteId, TenantId};

use crate::db::Tx;
use crate::error::{Result, StoreError};
use crate::repo::labels::LabelRepo;
use crate::sql::{Row, args};

/// Site storage; every call is scoped to one tenant.
pub trait SiteRepo {
    /// Adds a site to the tenant (with its labels).
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
    /// The tenant's sites, by id (oldest first).
    fn sites(&mut self, tenant: TenantId) -> impl Future<Output = Result<Vec<Site>>> + Send;
    /// Saves name, time zone, address and labels if the stored version is still
    /// `site.version` (else `stale_version`); returns the new version.
    fn update_site(
        &mut self,
        tenant: TenantId,
        site: &Site,
    ) -> impl Future<Output = Result<i64>> + Send;
    /// Removes the site, its holidays and labels (the caller checks it holds nothing).
    fn delete_site(
        &mut self,
        tenant: TenantId,
        id: SiteId,
    ) -> impl Future<Output = Result<()>> + Send;
    /// The site's holidays, by date.
    fn holidays(
        &mut self,
        tenant: TenantId,
        site: SiteId,
    ) -> impl Future<Output = Result<Vec<Holiday>>> + Send;
    /// Replaces the site's whole holiday calendar.
    fn replace_holidays(
        &mut self,
        tenant: TenantId,
        site: SiteId,
        holidays: &[Holiday],
    ) -> impl Future<Output = Result<()>> + Send;
}

const COLUMNS: &str = "id, name, time_zone, address, created_at_ms, version";

fn decode(tenant: TenantId, row: &Row, labels: Vec<String>) -> Result<Site> {
    Ok(Site {
        id: row.id("id")?,
        org_id: tenant,
        name: row.text("name")?,
        time_zone: row.text("time_zone")?,
        address: row.opt_text("address")?,
        labels,
        created_at_ms: row.int("created_at_ms")?,
        version: row.int("version")?,
    })
}

impl SiteRepo for Tx {
    async fn insert_site(&mut self, tenant: TenantId, site: &Site) -> Result<()> {
        self.enter(&tenant.to_string()).await?;
        self.inner
            .execute(
                "INSERT INTO sites (tenant_id, id, name, time_zone, address, created_at_ms, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                args![
                    tenant.to_string(),
                    site.id.to_string(),
                    site.name.as_str(),
                    site.time_zone.as_str(),
                    site.address.clone(),
                    site.created_at_ms,
                    site.version
                ],
            )
            .await?;
        self.set_labels(tenant, LabelKind::Site, &site.id.to_string(), &site.labels)
            .await
    }

    async fn site(&mut self, tenant: TenantId, id: SiteId) -> Result<Option<Site>> {
        self.enter(&tenant.to_string()).await?;
        let sql = format!("SELECT {COLUMNS} FROM sites WHERE tenant_id = $1 AND id = $2");
        let row = self
            .inner
            .fetch_optional(&sql, args![tenant.to_string(), id.to_string()])
            .await?;
        match row {
            None => Ok(None),
            Some(r) => {
                let labels = self
                    .labels_of(tenant, LabelKind::Site, &id.to_string())
                    .await?;
                decode(tenant, &r, labels).map(Some)
            }
        }
    }

    async fn sites(&mut self, tenant: TenantId) -> Result<Vec<Site>> {
        self.enter(&tenant.to_string()).await?;
        let mut labels = self.labels_by_object(tenant, LabelKind::Site).await?;
        let sql = format!("SELECT {COLUMNS} FROM sites WHERE tenant_id = $1 ORDER BY id");
        self.inner
            .fetch_all(&sql, args![tenant.to_string()])
            .await?
            .iter()
            .map(|r| {
                let id = r.text("id")?;
                decode(tenant, r, labels.remove(&id).unwrap_or_default())
            })
            .collect()
    }

    async fn update_site(&mut self, tenant: TenantId, site: &Site) -> Result<i64> {
        self.enter(&tenant.to_string()).await?;
        let changed = self
            .inner
            .execute(
                "UPDATE sites SET name = $1, time_zone = $2, address = $3, version = version + 1 \
                 WHERE tenant_id = $4 AND id = $5 AND version = $6",
                args![
                    site.name.as_str(),
                    site.time_zone.as_str(),
                    site.address.clone(),
                    tenant.to_string(),
                    site.id.to_string(),
                    site.version
                ],
            )
            .await?;
        if changed == 0 {
            return Err(stale("site"));
        }
        self.set_labels(tenant, LabelKind::Site, &site.id.to_string(), &site.labels)
            .await?;
        Ok(site.version + 1)
    }

    async fn delete_site(&mut self, tenant: TenantId, id: SiteId) -> Result<()> {
        self.enter(&tenant.to_string()).await?;
        self.inner
            .execute(
                "DELETE FROM site_holidays WHERE tenant_id = $1 AND site_id = $2",
                args![tenant.to_string(), id.to_string()],
            )
            .await?;
        self.set_labels(tenant, LabelKind::Site, &id.to_string(), &[])
            .await?;
        self.inner
            .execute(
                "DELETE FROM sites WHERE tenant_id = $1 AND id = $2",
                args![tenant.to_string(), id.to_string()],
            )
            .await?;
        Ok(())
    }

    async fn holidays(&mut self, tenant: TenantId, site: SiteId) -> Result<Vec<Holiday>> {
        self.enter(&tenant.to_string()).await?;
        self.inner
            .fetch_all(
                "SELECT day, name FROM site_holidays WHERE tenant_id = $1 AND site_id = $2 ORDER BY day",
                args![tenant.to_string(), site.to_string()],
            )
            .await?
            .iter()
            .map(|r| {
                Ok(Holiday {
                    date: r.text("day")?,
                    name: r.text("name")?,
                })
            })
            .collect()
    }

    async fn replace_holidays(
        &mut self,
        tenant: TenantId,
        site: SiteId,
        holidays: &[Holiday],
    ) -> Result<()> {
        self.enter(&tenant.to_string()).await?;
        self.inner
            .execute(
                "DELETE FROM site_holidays WHERE tenant_id = $1 AND site_id = $2",
                args![tenant.to_string(), site.to_string()],
            )
            .await?;
        for h in holidays {
            self.inner
                .execute(
                    "INSERT INTO site_holidays (tenant_id, site_id, day, name) VALUES ($1, $2, $3, $4)",
                    args![
                        tenant.to_string(),
                        site.to_string(),
                        h.date.as_str(),
                        h.name.as_str()
                    ],
                )
                .await?;
        }
        Ok(())
    }
}

/// The error for an update whose version no longer matches.
pub(crate) fn stale(what: &str) -> StoreError {
    StoreError::Domain(DomainError::new(
        ErrorCode::StaleVersion,
        format!("the {what} changed since it was read; reload it and try again"),
    ))
}
