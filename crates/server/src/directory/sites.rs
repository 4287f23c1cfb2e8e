//! Sites in the directory: name, IANA time zone, address, labels and the holiday calendar.
//! Org admins change them; space managers read the sites their subtrees lie in.

use latchkey_domain::directory::{Holiday, optional_text, parse_holidays, parse_labels};
use latchkey_domain::tenancy::{Site, parse_name, parse_time_zone};
use latchkey_domain::{DomainError, OrgId, SiteId};
use latchkey_store::Tx;
use latchkey_store::repo::{SiteRepo, SpaceRepo};
use serde_json::json;

use super::scope::{directory_scope, require_everything, space_tree};
use super::{
    Change, ListQuery, Page, audit_change, check_version, conflict, require_active_org, snapshot,
};
use crate::app::{Actor, App, ServiceError};
use crate::identity::principal::Principal;

/// Longest address, in characters.
pub const MAX_ADDRESS_CHARS: usize = 500;

/// A new site.
#[derive(Debug, Clone, Default)]
pub struct NewSite {
    /// Display name.
    pub name: String,
    /// IANA time zone.
    pub time_zone: String,
    /// Postal address.
    pub address: Option<String>,
    /// Labels.
    pub labels: Vec<String>,
}

/// A change to a site (JSON merge patch): `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct SitePatch {
    /// The version the client last saw (body `version`).
    pub version: Option<i64>,
    /// New name.
    pub name: Option<String>,
    /// New time zone.
    pub time_zone: Option<String>,
    /// New address (`Some(None)` clears it).
    pub address: Option<Option<String>>,
    /// New labels (replace the set).
    pub labels: Option<Vec<String>>,
}

fn site_not_found() -> ServiceError {
    DomainError::not_found("site").into()
}

/// The site if the caller may see it, else 404.
async fn visible_site(
    tx: &mut Tx,
    principal: &Principal,
    org: OrgId,
    id: SiteId,
    write: bool,
) -> Result<(Site, latchkey_domain::directory::DirectoryScope), ServiceError> {
    let scope = directory_scope(principal, tx, org, write).await?;
    let site = tx.site(org, id).await?.ok_or_else(site_not_found)?;
    let tree = space_tree(tx, org).await?;
    if !scope.covers_site(&tree, site.id) {
        return Err(site_not_found());
    }
    Ok((site, scope))
}

impl App {
    /// The sites the caller may see, a page at a time.
    pub async fn sites_page(
        &self,
        principal: &Principal,
        org: OrgId,
        query: &ListQuery,
    ) -> Result<Page<Site>, ServiceError> {
        let label = query.label()?;
        let mut tx = self.store.read().await?;
        let scope = directory_scope(principal, &mut tx, org, false).await?;
        let tree = space_tree(&mut tx, org).await?;
        let sites = tx
            .sites(org)
            .await?
            .into_iter()
            .filter(|s| scope.covers_site(&tree, s.id))
            .filter(|s| label.as_ref().is_none_or(|l| s.labels.contains(l)))
            .collect();
        Ok(query.page(sites, |s| s.id.to_string())?)
    }

    /// One site the caller may see.
    pub async fn site_of(
        &self,
        principal: &Principal,
        org: OrgId,
        id: SiteId,
    ) -> Result<Site, ServiceError> {
        let mut tx = self.store.read().await?;
        Ok(visible_site(&mut tx, principal, org, id, false).await?.0)
    }

    /// Adds a site (org admins). Audited as `authz_admin` / `site_created`.
    pub async fn add_site(
        &self,
        principal: &Principal,
        actor: &Actor,
        org: OrgId,
        input: NewSite,
    ) -> Result<Site, ServiceError> {
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let scope = directory_scope(principal, &mut tx, org, true).await?;
        require_everything(&scope, "adding sites")?;
        let site = Site {
            id: SiteId::generate(),
            org_id: org,
            name: parse_name("name", &input.name)?,
            time_zone: parse_time_zone(&input.time_zone)?,
            address: optional_text("address", input.address.as_deref(), MAX_ADDRESS_CHARS)?,
            labels: parse_labels(&input.labels)?,
            created_at_ms: now_ms,
            version: 1,
        };
        require_active_org(&mut tx, org).await?;
        tx.insert_site(org, &site).await?;
        audit_change(
            &mut tx,
            actor,
            org,
            now_ms,
            Change {
                change: "site_created",
                target: format!("site:{}", site.id),
                before: serde_json::Value::Null,
                after: snapshot(&site),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(site)
    }

    /// Changes a site (org admins); `if_match` is the `If-Match` version. Audited as
    /// `site_changed` with before and after.
    pub async fn change_site(
        &self,
        principal: &Principal,
        actor: &Actor,
        org: OrgId,
        id: SiteId,
        if_match: Option<i64>,
        patch: SitePatch,
    ) -> Result<Site, ServiceError> {
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let (before, scope) = visible_site(&mut tx, principal, org, id, true).await?;
        require_everything(&scope, "changing sites")?;
        check_version(&[if_match, patch.version], before.version)?;
        let mut after = before.clone();
        if let Some(name) = &patch.name {
            after.name = parse_name("name", name)?;
        }
        if let Some(tz) = &patch.time_zone {
            after.time_zone = parse_time_zone(tz)?;
        }
        if let Some(address) = &patch.address {
            after.address = optional_text("address", address.as_deref(), MAX_ADDRESS_CHARS)?;
        }
        if let Some(labels) = &patch.labels {
            after.labels = parse_labels(labels)?;
        }
        require_active_org(&mut tx, org).await?;
        after.version = tx.update_site(org, &after).await?;
        audit_change(
            &mut tx,
            actor,
            org,
            now_ms,
            Change {
                change: "site_changed",
                target: format!("site:{id}"),
                before: snapshot(&before),
                after: snapshot(&after),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes a site that holds no spaces (org admins); refused with 409 otherwise. Audited as
    /// `site_deleted`.
    pub async fn delete_site(
        &self,
        principal: &Principal,
        actor: &Actor,
        org: OrgId,
        id: SiteId,
        if_match: Option<i64>,
    ) -> Result<(), ServiceError> {
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let (before, scope) = visible_site(&mut tx, principal, org, id, true).await?;
        require_everything(&scope, "deleting sites")?;
        check_version(&[if_match], before.version)?;
        let spaces = tx.count_spaces_in_site(org, id).await?;
        if spaces > 0 {
            return Err(conflict(format!(
                "the site still holds {spaces} space(s) (and the devices in them); delete or move them first"
            )));
        }
        require_active_org(&mut tx, org).await?;
        let holidays = tx.holidays(org, id).await?;
        tx.delete_site(org, id).await?;
        audit_change(
            &mut tx,
            actor,
            org,
            now_ms,
            Change {
                change: "site_deleted",
                target: format!("site:{id}"),
                before: json!({ "site": snapshot(&before), "holidays": snapshot(&holidays) }),
                after: serde_json::Value::Null,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A site's holiday calendar (anyone who may see the site).
    pub async fn site_holidays(
        &self,
        principal: &Principal,
        org: OrgId,
        id: SiteId,
    ) -> Result<(Site, Vec<Holiday>), ServiceError> {
        let mut tx = self.store.read().await?;
        let (site, _) = visible_site(&mut tx, principal, org, id, false).await?;
        let holidays = tx.holidays(org, id).await?;
        Ok((site, holidays))
    }

    /// Replaces a site's holiday calendar (org admins); bumps the site's version. Audited as
    /// `site_holidays_changed` with the calendars before and after.
    pub async fn set_site_holidays(
        &self,
        principal: &Principal,
        actor: &Actor,
        org: OrgId,
        id: SiteId,
        expected: [Option<i64>; 2],
        holidays: &[(String, String)],
    ) -> Result<(Site, Vec<Holiday>), ServiceError> {
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let (mut site, scope) = visible_site(&mut tx, principal, org, id, true).await?;
        require_everything(&scope, "changing holidays")?;
        check_version(&expected, site.version)?;
        let after = parse_holidays(holidays)?;
        require_active_org(&mut tx, org).await?;
        let before = tx.holidays(org, id).await?;
        tx.replace_holidays(org, id, &after).await?;
        site.version = tx.update_site(org, &site).await?;
        audit_change(
            &mut tx,
            actor,
            org,
            now_ms,
            Change {
                change: "site_holidays_changed",
                target: format!("site:{id}"),
                before: snapshot(&before),
                after: snapshot(&after),
            },
        )
        .await?;
        tx.commit().await?;
        Ok((site, after))
    }
}
