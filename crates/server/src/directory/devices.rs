//! The device registry: locks and hubs with a name, a model and a place. Org admins manage all;
//! space managers manage the devices placed in their subtrees (and may place devices only
//! there); device owners read and rename, relabel, enable or disable their own devices but do
//! not move or delete them.

use latchkey_domain::directory::{
    Device, DeviceKind, DeviceStatus, DirectoryScope, SpaceTree, optional_text, parse_labels,
};
use latchkey_domain::tenancy::parse_name;
use latchkey_domain::{DeviceId, DomainError, OrgId, SpaceId};
use latchkey_store::Tx;
use latchkey_store::repo::{DeviceRegistryRepo, SpaceRepo};

use super::scope::{directory_scope, role_refused};
use super::spaces::body_id;
use super::{Change, ListQuery, Page, audit_change, check_version, require_active_org, snapshot};
use crate::app::{Actor, App, ServiceError};
use crate::identity::principal::Principal;

/// Longest model text, in characters.
pub const MAX_MODEL_CHARS: usize = 200;

/// A new device.
#[derive(Debug, Clone, Default)]
pub struct NewDevice {
    /// `lock` or `hub`.
    pub kind: String,
    /// Display name.
    pub name: String,
    /// Model.
    pub model: Option<String>,
    /// The space it is placed in (required for locks).
    pub space_id: Option<String>,
    /// `enabled` (default) or `disabled`.
    pub status: Option<String>,
    /// Labels.
    pub labels: Vec<String>,
}

/// A change to a device (JSON merge patch).
#[derive(Debug, Clone, Default)]
pub struct DevicePatch {
    /// The version the client last saw.
    pub version: Option<i64>,
    /// New name.
    pub name: Option<String>,
    /// New model (`Some(None)` clears it).
    pub model: Option<Option<String>>,
    /// New place (`Some(None)` unplaces a hub).
    pub space_id: Option<Option<String>>,
    /// New status.
    pub status: Option<String>,
    /// New labels.
    pub labels: Option<Vec<String>>,
}

/// Filters of the device list.
#[derive(Debug, Clone, Default)]
pub struct DeviceFilter {
    /// Only devices placed directly in this space.
    pub space_id: Option<String>,
    /// Only `lock` or `hub`.
    pub kind: Option<String>,
    /// Only `enabled` or `disabled`.
    pub status: Option<String>,
}

fn device_not_found() -> ServiceError {
    DomainError::not_found("device").into()
}

/// Checks a place the caller wants to put a device: a space of the organisation within the
/// caller's reach (for a space manager, one of their subtrees), 422 otherwise.
fn check_place(
    scope: &DirectoryScope,
    tree: &SpaceTree,
    kind: DeviceKind,
    space: Option<SpaceId>,
) -> Result<(), DomainError> {
    kind.check_placement(space)?;
    match space {
        Some(s) if !tree.contains(s) || !scope.covers_space(tree, s) => Err(DomainError::invalid(
            "space_id",
            "space_id names no space of this organisation that you manage",
        )),
        None if !scope.is_everything() => Err(DomainError::invalid(
            "space_id",
            "you manage devices only within your spaces: give space_id",
        )),
        _ => Ok(()),
    }
}

/// The device, the tree and the caller's scope, if the caller reaches the device (else 404).
async fn visible_device(
    tx: &mut Tx,
    principal: &Principal,
    org: OrgId,
    id: DeviceId,
    write: bool,
) -> Result<(Device, SpaceTree, DirectoryScope), ServiceError> {
    let scope = directory_scope(principal, tx, org, write).await?;
    let device = tx.device(org, id).await?.ok_or_else(device_not_found)?;
    let tree = SpaceTree::of(&tx.spaces(org).await?);
    if !scope.covers_device(&tree, device.id, device.space_id) {
        return Err(device_not_found());
    }
    Ok((device, tree, scope))
}

impl App {
    /// The devices the caller reaches, filtered and a page at a time.
    pub async fn devices_page(
        &self,
        principal: &Principal,
        org: OrgId,
        filter: &DeviceFilter,
        query: &ListQuery,
    ) -> Result<Page<Device>, ServiceError> {
        let label = query.label()?;
        let space: Option<SpaceId> = filter
            .space_id
            .as_deref()
            .map(|s| body_id("space_id", s))
            .transpose()?;
        let kind = filter.kind.as_deref().map(DeviceKind::parse).transpose()?;
        let status = filter
            .status
            .as_deref()
            .map(DeviceStatus::parse)
            .transpose()?;
        let mut tx = self.store.read().await?;
        let scope = directory_scope(principal, &mut tx, org, false).await?;
        let tree = SpaceTree::of(&tx.spaces(org).await?);
        let items = tx
            .devices(org)
            .await?
            .into_iter()
            .filter(|d| scope.covers_device(&tree, d.id, d.space_id))
            .filter(|d| space.is_none_or(|s| d.space_id == Some(s)))
            .filter(|d| kind.is_none_or(|k| d.kind == k))
            .filter(|d| status.is_none_or(|s| d.status == s))
            .filter(|d| label.as_ref().is_none_or(|l| d.labels.contains(l)))
            .collect();
        Ok(query.page(items, |d| d.id.to_string())?)
    }

    /// One device the caller reaches.
    pub async fn device_of(
        &self,
        principal: &Principal,
        org: OrgId,
        id: DeviceId,
    ) -> Result<Device, ServiceError> {
        let mut tx = self.store.read().await?;
        Ok(visible_device(&mut tx, principal, org, id, false).await?.0)
    }

    /// Registers a device (org admins; space managers within their subtrees). Audited as
    /// `device_created`.
    pub async fn add_device(
        &self,
        principal: &Principal,
        actor: &Actor,
        org: OrgId,
        input: NewDevice,
    ) -> Result<Device, ServiceError> {
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let scope = directory_scope(principal, &mut tx, org, true).await?;
        if matches!(scope, DirectoryScope::Devices(_)) {
            return Err(role_refused("registering devices"));
        }
        let kind = DeviceKind::parse(input.kind.trim())?;
        let space_id: Option<SpaceId> = input
            .space_id
            .as_deref()
            .map(|s| body_id("space_id", s))
            .transpose()?;
        let device = Device {
            id: DeviceId::generate(),
            kind,
            name: parse_name("name", &input.name)?,
            model: optional_text("model", input.model.as_deref(), MAX_MODEL_CHARS)?,
            space_id,
            status: input
                .status
                .as_deref()
                .map(DeviceStatus::parse)
                .transpose()?
                .unwrap_or(DeviceStatus::Enabled),
            labels: parse_labels(&input.labels)?,
            created_at_ms: now_ms,
            version: 1,
        };
        let tree = SpaceTree::of(&tx.spaces(org).await?);
        check_place(&scope, &tree, kind, space_id)?;
        require_active_org(&mut tx, org).await?;
        tx.insert_device(org, &device).await?;
        audit_change(
            &mut tx,
            actor,
            org,
            now_ms,
            Change {
                change: "device_created",
                target: format!("device:{}", device.id),
                before: serde_json::Value::Null,
                after: snapshot(&device),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(device)
    }

    /// Changes a device. Device owners may not move it (403). Audited as `device_moved` (when
    /// its place changed) or `device_changed`.
    pub async fn change_device(
        &self,
        principal: &Principal,
        actor: &Actor,
        org: OrgId,
        id: DeviceId,
        if_match: Option<i64>,
        patch: DevicePatch,
    ) -> Result<Device, ServiceError> {
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let (before, tree, scope) = visible_device(&mut tx, principal, org, id, true).await?;
        if patch.space_id.is_some() && matches!(scope, DirectoryScope::Devices(_)) {
            return Err(role_refused("moving devices"));
        }
        check_version(&[if_match, patch.version], before.version)?;
        let mut after = before.clone();
        if let Some(name) = &patch.name {
            after.name = parse_name("name", name)?;
        }
        if let Some(model) = &patch.model {
            after.model = optional_text("model", model.as_deref(), MAX_MODEL_CHARS)?;
        }
        if let Some(status) = &patch.status {
            after.status = DeviceStatus::parse(status)?;
        }
        if let Some(labels) = &patch.labels {
            after.labels = parse_labels(labels)?;
        }
        if let Some(space) = &patch.space_id {
            let space: Option<SpaceId> = space
                .as_deref()
                .map(|s| body_id("space_id", s))
                .transpose()?;
            check_place(&scope, &tree, after.kind, space)?;
            after.space_id = space;
        }
        require_active_org(&mut tx, org).await?;
        after.version = tx.update_device(org, &after).await?;
        let change = if after.space_id == before.space_id {
            "device_changed"
        } else {
            "device_moved"
        };
        audit_change(
            &mut tx,
            actor,
            org,
            now_ms,
            Change {
                change,
                target: format!("device:{id}"),
                before: snapshot(&before),
                after: snapshot(&after),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Removes a device from the registry (org admins; space managers within their subtrees),
    /// with its owners and device-group memberships. Audited as `device_deleted`.
    pub async fn delete_device(
        &self,
        principal: &Principal,
        actor: &Actor,
        org: OrgId,
        id: DeviceId,
        if_match: Option<i64>,
    ) -> Result<(), ServiceError> {
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let (before, _, scope) = visible_device(&mut tx, principal, org, id, true).await?;
        if matches!(scope, DirectoryScope::Devices(_)) {
            return Err(role_refused("deleting devices"));
        }
        check_version(&[if_match], before.version)?;
        require_active_org(&mut tx, org).await?;
        tx.delete_device(org, id).await?;
        audit_change(
            &mut tx,
            actor,
            org,
            now_ms,
            Change {
                change: "device_deleted",
                target: format!("device:{id}"),
                before: snapshot(&before),
                after: serde_json::Value::Null,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
