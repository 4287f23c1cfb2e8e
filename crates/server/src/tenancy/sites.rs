//! Sites inside an organisation. Changes are refused while the organisation is not active.

use latchkey_domain::tenancy::{OrgStatus, Site, parse_name, parse_time_zone};
use latchkey_domain::{DomainError, ErrorCode, OrgId, Scope, SiteId};
use latchkey_store::repo::{AuditRepo, OrganisationRepo, SiteRepo};
use serde_json::json;

use crate::app::{Actor, App, ServiceError};
use crate::tenancy::organisations::audit_event;

impl App {
    /// Adds a site with its IANA time zone; audited as `site_created` in the tenant's chain.
    pub async fn create_site(
        &self,
        actor: &Actor,
        org_id: OrgId,
        name: &str,
        time_zone: &str,
    ) -> Result<Site, ServiceError> {
        let name = parse_name("name", name)?;
        let time_zone = parse_time_zone(time_zone)?;
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let org = tx
            .organisation(org_id)
            .await?
            .ok_or_else(|| DomainError::not_found("organisation"))?;
        if org.status != OrgStatus::Active {
            return Err(DomainError::new(
                ErrorCode::TenantInactive,
                format!(
                    "the organisation is {}; resume it before making changes",
                    org.status.as_str()
                ),
            )
            .into());
        }
        let site = Site {
            address: None,
            labels: Vec::new(),
            version: 1,
            id: SiteId::generate(),
            org_id,
            name,
            time_zone,
            created_at_ms: now_ms,
        };
        tx.insert_site(org_id, &site).await?;
        tx.append_audit(
            Scope::Tenant(org_id),
            audit_event(
                actor,
                now_ms,
                "site_created",
                format!("site:{}", site.id),
                json!({ "site_id": site.id, "time_zone": site.time_zone }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(site)
    }

    /// The organisation's sites.
    pub async fn list_sites(&self, org_id: OrgId) -> Result<Vec<Site>, ServiceError> {
        let mut tx = self.store.read().await?;
        if tx.organisation(org_id).await?.is_none() {
            return Err(DomainError::not_found("organisation").into());
        }
        Ok(tx.sites(org_id).await?)
    }
}
