//! Spaces: a tree per site. The repository stores rows; the tree rules live in
//! `latchkey_domain::directory::SpaceTree`, checked by the service over `spaces()` in the same
//! transaction as the write.

use std::future::Future;

use latchkey_domain::directory::{LabelKind, Space};
use latchkey_domain::{SiteId, SpaceId, TenantId};

use crate::db::Tx;
use crate::error::Result;
use crate::repo::labels::LabelRepo;
use crate::repo::sites::stale;
use crate::sql::{Row, args};

/// Space storage; every call is scoped to one tenant.
pub trait SpaceRepo {
    /// Adds a space (with its labels).
    fn insert_space(
        &mut self,
        tenant: TenantId,
        space: &Space,
    ) -> impl Future<Output = Result<()>> + Send;
    /// One space, or `None` (also another tenant's).
    fn space(
        &mut self,
        tenant: TenantId,
        id: SpaceId,
    ) -> impl Future<Output = Result<Option<Space>>> + Send;
    /// Every space of the tenant, by id.
    fn spaces(&mut self, tenant: TenantId) -> impl Future<Output = Result<Vec<Space>>> + Send;
    /// Saves parent, name, kind and labels if the stored version is still `space.version`;
    /// returns the new version.
    fn update_space(
        &mut self,
        tenant: TenantId,
        space: &Space,
    ) -> impl Future<Output = Result<i64>> + Send;
    /// Removes the space and its labels (the caller checks it holds nothing).
    fn delete_space(
        &mut self,
        tenant: TenantId,
        id: SpaceId,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Serialises the directory writes of one organisation until the transaction ends (the
    /// organisation row's lock on PostgreSQL; SQLite's single writer already serialises). Tree
    /// rules are checked over rows read after it, so two concurrent moves cannot together make
    /// a cycle, and a device cannot be placed in a space that a concurrent command deletes.
    fn lock_directory(&mut self, tenant: TenantId) -> impl Future<Output = Result<()>> + Send;
    /// How many spaces a site holds.
    fn count_spaces_in_site(
        &mut self,
        tenant: TenantId,
        site: SiteId,
    ) -> impl Future<Output = Result<i64>> + Send;
}

const COLUMNS: &str = "id, site_id, parent_id, name, kind, created_at_ms, version";

fn decode(row: &Row, labels: Vec<String>) -> Result<Space> {
    Ok(Space {
        id: row.id("id")?,
        site_id: row.id("site_id")?,
        parent_id: row.opt_id("parent_id")?,
        name: row.text("name")?,
        kind: row.text("kind")?,
        labels,
        created_at_ms: row.int("created_at_ms")?,
        version: row.int("version")?,
    })
}

impl SpaceRepo for Tx {
    async fn insert_space(&mut self, tenant: TenantId, space: &Space) -> Result<()> {
        self.enter(&tenant.to_string()).await?;
        self.inner
            .execute(
                "INSERT INTO spaces (tenant_id, id, site_id, parent_id, name, kind, created_at_ms, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                args![
                    tenant.to_string(),
                    space.id.to_string(),
                    space.site_id.to_string(),
                    space.parent_id.map(|p| p.to_string()),
                    space.name.as_str(),
                    space.kind.as_str(),
                    space.created_at_ms,
                    space.version
                ],
            )
            .await?;
        self.set_labels(
            tenant,
            LabelKind::Space,
            &space.id.to_string(),
            &space.labels,
        )
        .await
    }

    async fn space(&mut self, tenant: TenantId, id: SpaceId) -> Result<Option<Space>> {
        self.enter(&tenant.to_string()).await?;
        let sql = format!("SELECT {COLUMNS} FROM spaces WHERE tenant_id = $1 AND id = $2");
        let row = self
            .inner
            .fetch_optional(&sql, args![tenant.to_string(), id.to_string()])
            .await?;
        match row {
            None => Ok(None),
            Some(r) => {
                let labels = self
                    .labels_of(tenant, LabelKind::Space, &id.to_string())
                    .await?;
                decode(&r, labels).map(Some)
            }
        }
    }

    async fn spaces(&mut self, tenant: TenantId) -> Result<Vec<Space>> {
        self.enter(&tenant.to_string()).await?;
        let mut labels = self.labels_by_object(tenant, LabelKind::Space).await?;
        let sql = format!("SELECT {COLUMNS} FROM spaces WHERE tenant_id = $1 ORDER BY id");
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

    async fn update_space(&mut self, tenant: TenantId, space: &Space) -> Result<i64> {
        self.enter(&tenant.to_string()).await?;
        let changed = self
            .inner
            .execute(
                "UPDATE spaces SET parent_id = $1, name = $2, kind = $3, version = version + 1 \
                 WHERE tenant_id = $4 AND id = $5 AND version = $6",
                args![
                    space.parent_id.map(|p| p.to_string()),
                    space.name.as_str(),
                    space.kind.as_str(),
                    tenant.to_string(),
                    space.id.to_string(),
                    space.version
                ],
            )
            .await?;
        if changed == 0 {
            return Err(stale("space"));
        }
        self.set_labels(
            tenant,
            LabelKind::Space,
            &space.id.to_string(),
            &space.labels,
        )
        .await?;
        Ok(space.version + 1)
    }

    async fn delete_space(&mut self, tenant: TenantId, id: SpaceId) -> Result<()> {
        self.enter(&tenant.to_string()).await?;
        self.set_labels(tenant, LabelKind::Space, &id.to_string(), &[])
            .await?;
        self.inner
            .execute(
                "DELETE FROM space_manager_scopes WHERE tenant_id = $1 AND space_id = $2",
                args![tenant.to_string(), id.to_string()],
            )
            .await?;
        self.inner
            .execute(
                "DELETE FROM spaces WHERE tenant_id = $1 AND id = $2",
                args![tenant.to_string(), id.to_string()],
            )
            .await?;
        Ok(())
    }

    async fn lock_directory(&mut self, tenant: TenantId) -> Result<()> {
        // A no-op UPDATE takes the row lock; portable, unlike SELECT … FOR UPDATE.
        self.inner
            .execute(
                "UPDATE organisations SET version = version WHERE id = $1",
                args![tenant.to_string()],
            )
            .await?;
        Ok(())
    }

    async fn count_spaces_in_site(&mut self, tenant: TenantId, site: SiteId) -> Result<i64> {
        self.enter(&tenant.to_string()).await?;
        let row = self
            .inner
            .fetch_optional(
                "SELECT COUNT(*) AS n FROM spaces WHERE tenant_id = $1 AND site_id = $2",
                args![tenant.to_string(), site.to_string()],
            )
            .await?;
        row.map_or(Ok(0), |r| r.int("n"))
    }
}
