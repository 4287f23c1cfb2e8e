//! Spaces: a tree per site of any depth. Org admins create, rename, move and delete; space
//! managers read their subtrees. A move is checked against the whole tree in the write
//! transaction: same site only, never under the space itself or its descendants (422).
//! Deleting a space that still holds child spaces or devices is refused (409) naming them.

use latchkey_domain::directory::{DirectoryScope, Space, SpaceTree, parse_kind, parse_labels};
use latchkey_domain::tenancy::parse_name;
use latchkey_domain::{DomainError, OrgId, SiteId, SpaceId};
use latchkey_store::Tx;
use latchkey_store::repo::{DeviceRegistryRepo, SiteRepo, SpaceRepo};

use super::scope::{directory_scope, require_everything};
use super::{
    Change, ListQuery, Page, audit_change, check_version, conflict, require_active_org, snapshot,
};
use crate::app::{Actor, App, ServiceError};
use crate::identity::principal::Principal;

/// A new space.
#[derive(Debug, Clone, Default)]
pub struct NewSpace {
    /// The site whose tree it joins.
    pub site_id: String,
    /// The space it goes in (`None`: the top of the site).
    pub parent_id: Option<String>,
    /// Display name.
    pub name: String,
    /// Free kind label.
    pub kind: String,
    /// Labels.
    pub labels: Vec<String>,
}

/// A change to a space (JSON merge patch); a new `parent_id` moves it.
#[derive(Debug, Clone, Default)]
pub struct SpacePatch {
    /// The version the client last saw.
    pub version: Option<i64>,
    /// New parent (`Some(None)`: the top of its site).
    pub parent_id: Option<Option<String>>,
    /// New name.
    pub name: Option<String>,
    /// New kind.
    pub kind: Option<String>,
    /// New labels.
    pub labels: Option<Vec<String>>,
}

/// Filters of the space list.
#[derive(Debug, Clone, Default)]
pub struct SpaceFilter {
    /// Only spaces of this site.
    pub site_id: Option<String>,
    /// Only the children of this space.
    pub parent_id: Option<String>,
}

fn space_not_found() -> ServiceError {
    DomainError::not_found("space").into()
}

/// Parses an id from a request body; a bad one names the field (422).
pub(crate) fn body_id<K>(
    field: &'static str,
    raw: &str,
) -> Result<latchkey_domain::ids::Id<K>, DomainError> {
    raw.trim()
        .parse()
        .map_err(|_| DomainError::invalid(field, format!("{field} must be an id")))
}

/// The space, its tree and the caller's scope, if the caller reaches the space (else 404).
async fn visible_space(
    tx: &mut Tx,
    principal: &Principal,
    org: OrgId,
    id: SpaceId,
    write: bool,
) -> Result<(Space, SpaceTree, DirectoryScope), ServiceError> {
    let scope = directory_scope(principal, tx, org, write).await?;
    let spaces = tx.spaces(org).await?;
    let tree = SpaceTree::of(&spaces);
    let space = spaces
        .into_iter()
        .find(|s| s.id == id)
        .filter(|s| scope.covers_space(&tree, s.id))
        .ok_or_else(space_not_found)?;
    Ok((space, tree, scope))
}

impl App {
    /// The spaces the caller reaches, filtered and a page at a time.
    pub async fn spaces_page(
        &self,
        principal: &Principal,
        org: OrgId,
        filter: &SpaceFilter,
        query: &ListQuery,
    ) -> Result<Page<Space>, ServiceError> {
        let label = query.label()?;
        let site: Option<SiteId> = filter
            .site_id
            .as_deref()
            .map(|s| body_id("site_id", s))
            .transpose()?;
        let parent: Option<SpaceId> = filter
            .parent_id
            .as_deref()
            .map(|s| body_id("parent_id", s))
            .transpose()?;
        let mut tx = self.store.read().await?;
        let scope = directory_scope(principal, &mut tx, org, false).await?;
        let spaces = tx.spaces(org).await?;
        let tree = SpaceTree::of(&spaces);
        let items = spaces
            .into_iter()
            .filter(|s| scope.covers_space(&tree, s.id))
            .filter(|s| site.is_none_or(|site| s.site_id == site))
            .filter(|s| parent.is_none_or(|p| s.parent_id == Some(p)))
            .filter(|s| label.as_ref().is_none_or(|l| s.labels.contains(l)))
            .collect();
        Ok(query.page(items, |s| s.id.to_string())?)
    }

    /// One space the caller reaches.
    pub async fn space_of(
        &self,
        principal: &Principal,
        org: OrgId,
        id: SpaceId,
    ) -> Result<Space, ServiceError> {
        let mut tx = self.store.read().await?;
        Ok(visible_space(&mut tx, principal, org, id, false).await?.0)
    }

    /// Adds a space to a site's tree (org admins). Audited as `space_created`.
    pub async fn add_space(
        &self,
        principal: &Principal,
        actor: &Actor,
        org: OrgId,
        input: NewSpace,
    ) -> Result<Space, ServiceError> {
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let scope = directory_scope(principal, &mut tx, org, true).await?;
        require_everything(&scope, "adding spaces")?;
        let site_id: SiteId = body_id("site_id", &input.site_id)?;
        let parent_id: Option<SpaceId> = input
            .parent_id
            .as_deref()
            .map(|p| body_id("parent_id", p))
            .transpose()?;
        let name = parse_name("name", &input.name)?;
        let kind = parse_kind(&input.kind)?;
        let labels = parse_labels(&input.labels)?;
        if tx.site(org, site_id).await?.is_none() {
            return Err(DomainError::invalid(
                "site_id",
                "site_id names no site of this organisation",
            )
            .into());
        }
        let space = Space {
            id: SpaceId::generate(),
            site_id,
            parent_id,
            name,
            kind,
            labels,
            created_at_ms: now_ms,
            version: 1,
        };
        let tree = SpaceTree::of(&tx.spaces(org).await?);
        tree.check_parent(space.id, site_id, parent_id)?;
        require_active_org(&mut tx, org).await?;
        tx.insert_space(org, &space).await?;
        audit_change(
            &mut tx,
            actor,
            org,
            now_ms,
            Change {
                change: "space_created",
                target: format!("space:{}", space.id),
                before: serde_json::Value::Null,
                after: snapshot(&space),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(space)
    }

    /// Renames, re-kinds, re-labels or moves a space (org admins). A move stays in the site
    /// and never makes a cycle. Audited as `space_moved` (when the parent changed) or
    /// `space_changed`.
    pub async fn change_space(
        &self,
        principal: &Principal,
        actor: &Actor,
        org: OrgId,
        id: SpaceId,
        if_match: Option<i64>,
        patch: SpacePatch,
    ) -> Result<Space, ServiceError> {
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let (before, tree, scope) = visible_space(&mut tx, principal, org, id, true).await?;
        require_everything(&scope, "changing spaces")?;
        check_version(&[if_match, patch.version], before.version)?;
        let mut after = before.clone();
        if let Some(name) = &patch.name {
            after.name = parse_name("name", name)?;
        }
        if let Some(kind) = &patch.kind {
            after.kind = parse_kind(kind)?;
        }
        if let Some(labels) = &patch.labels {
            after.labels = parse_labels(labels)?;
        }
        if let Some(parent) = &patch.parent_id {
            let parent: Option<SpaceId> = parent
                .as_deref()
                .map(|p| body_id("parent_id", p))
                .transpose()?;
            tree.check_parent(id, before.site_id, parent)?;
            after.parent_id = parent;
        }
        require_active_org(&mut tx, org).await?;
        after.version = tx.update_space(org, &after).await?;
        let change = if after.parent_id == before.parent_id {
            "space_changed"
        } else {
            "space_moved"
        };
        audit_change(
            &mut tx,
            actor,
            org,
            now_ms,
            Change {
                change,
                target: format!("space:{id}"),
                before: snapshot(&before),
                after: snapshot(&after),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes an empty space (org admins): one that still holds child spaces or devices is
    /// refused (409) with what is in it. Audited as `space_deleted`.
    pub async fn delete_space(
        &self,
        principal: &Principal,
        actor: &Actor,
        org: OrgId,
        id: SpaceId,
        if_match: Option<i64>,
    ) -> Result<(), ServiceError> {
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let (before, tree, scope) = visible_space(&mut tx, principal, org, id, true).await?;
        require_everything(&scope, "deleting spaces")?;
        check_version(&[if_match], before.version)?;
        let children = tree.children_of(id).len();
        let devices = tx.devices_in_space(org, id).await?;
        if children > 0 || !devices.is_empty() {
            let mut held = Vec::new();
            if children > 0 {
                held.push(format!("{children} child space(s)"));
            }
            if !devices.is_empty() {
                let ids: Vec<String> = devices.iter().map(ToString::to_string).collect();
                held.push(format!("{} device(s) ({})", devices.len(), ids.join(", ")));
            }
            return Err(conflict(format!(
                "the space still holds {}; move or delete them first",
                held.join(" and ")
            )));
        }
        require_active_org(&mut tx, org).await?;
        tx.delete_space(org, id).await?;
        audit_change(
            &mut tx,
            actor,
            org,
            now_ms,
            Change {
                change: "space_deleted",
                target: format!("space:{id}"),
                before: snapshot(&before),
                after: serde_json::Value::Null,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
