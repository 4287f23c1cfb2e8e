//! Groups of devices (org admins): name, description, labels and member devices of the
//! organisation. A deleted device leaves its groups in the same transaction (see the registry
//! repository).

use latchkey_domain::directory::group::MAX_DESCRIPTION_CHARS;
use latchkey_domain::directory::{DeviceGroup, optional_text, parse_labels};
use latchkey_domain::tenancy::parse_name;
use latchkey_domain::{DeviceGroupId, DeviceId, DomainError, OrgId};
use latchkey_store::Tx;
use latchkey_store::repo::{DeviceGroupRepo, DeviceRegistryRepo};

use super::scope::{directory_scope, require_everything};
use super::spaces::body_id;
use super::{
    Change, ListQuery, Page, audit_change, check_version, conflict, require_active_org, snapshot,
};
use crate::app::{Actor, App, ServiceError};
use crate::identity::principal::Principal;

/// A new group, or a group's fields.
#[derive(Debug, Clone, Default)]
pub struct NewDeviceGroup {
    /// Display name.
    pub name: String,
    /// What it is for.
    pub description: Option<String>,
    /// Labels.
    pub labels: Vec<String>,
    /// Initial members (device ids).
    pub members: Vec<String>,
}

/// A change to a group's fields (JSON merge patch); members change through their sub-resource.
#[derive(Debug, Clone, Default)]
pub struct DeviceGroupPatch {
    /// The version the client last saw.
    pub version: Option<i64>,
    /// New name.
    pub name: Option<String>,
    /// New description (`Some(None)` clears it).
    pub description: Option<Option<String>>,
    /// New labels.
    pub labels: Option<Vec<String>>,
}

fn device_group_not_found() -> ServiceError {
    DomainError::not_found("device group").into()
}

/// Checks that every device is in the organisation (422 naming the first that is not).
async fn devices_of_org(
    tx: &mut Tx,
    org: OrgId,
    raw: &[String],
) -> Result<Vec<DeviceId>, ServiceError> {
    let mut out = Vec::with_capacity(raw.len());
    for text in raw {
        let id: DeviceId = body_id("device_id", text)?;
        if tx.device(org, id).await?.is_none() {
            return Err(DomainError::invalid(
                "device_id",
                format!("{id} is not a device of this organisation"),
            )
            .into());
        }
        out.push(id);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Saves a changed group with its audit event and commits.
async fn save_device_group(
    mut tx: Tx,
    actor: &Actor,
    org: OrgId,
    now_ms: i64,
    change: &str,
    before: DeviceGroup,
    mut after: DeviceGroup,
) -> Result<DeviceGroup, ServiceError> {
    require_active_org(&mut tx, org).await?;
    after.version = tx.update_device_group(org, &after).await?;
    audit_change(
        &mut tx,
        actor,
        org,
        now_ms,
        Change {
            change,
            target: format!("device_group:{}", after.id),
            before: snapshot(&before),
            after: snapshot(&after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

async fn admin_device_group(
    tx: &mut Tx,
    principal: &Principal,
    org: OrgId,
    id: DeviceGroupId,
    write: bool,
) -> Result<DeviceGroup, ServiceError> {
    let scope = directory_scope(principal, tx, org, write).await?;
    require_everything(&scope, "managing device groups")?;
    tx.device_group(org, id)
        .await?
        .ok_or_else(device_group_not_found)
}

impl App {
    /// The organisation's groups, a page at a time (org admins).
    pub async fn device_groups_page(
        &self,
        principal: &Principal,
        org: OrgId,
        query: &ListQuery,
    ) -> Result<Page<DeviceGroup>, ServiceError> {
        let label = query.label()?;
        let mut tx = self.store.read().await?;
        let scope = directory_scope(principal, &mut tx, org, false).await?;
        require_everything(&scope, "managing device groups")?;
        let items = tx
            .device_groups(org)
            .await?
            .into_iter()
            .filter(|g| label.as_ref().is_none_or(|l| g.labels.contains(l)))
            .collect();
        Ok(query.page(items, |g| g.id.to_string())?)
    }

    /// One group (org admins).
    pub async fn device_group_of(
        &self,
        principal: &Principal,
        org: OrgId,
        id: DeviceGroupId,
    ) -> Result<DeviceGroup, ServiceError> {
        let mut tx = self.store.read().await?;
        admin_device_group(&mut tx, principal, org, id, false).await
    }

    /// Adds a group (org admins). Audited as `group_created`.
    pub async fn add_device_group(
        &self,
        principal: &Principal,
        actor: &Actor,
        org: OrgId,
        input: NewDeviceGroup,
    ) -> Result<DeviceGroup, ServiceError> {
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let scope = directory_scope(principal, &mut tx, org, true).await?;
        require_everything(&scope, "managing device groups")?;
        let group = DeviceGroup {
            id: DeviceGroupId::generate(),
            name: parse_name("name", &input.name)?,
            description: optional_text(
                "description",
                input.description.as_deref(),
                MAX_DESCRIPTION_CHARS,
            )?,
            labels: parse_labels(&input.labels)?,
            members: devices_of_org(&mut tx, org, &input.members).await?,
            created_at_ms: now_ms,
            version: 1,
        };
        require_active_org(&mut tx, org).await?;
        tx.insert_device_group(org, &group).await?;
        audit_change(
            &mut tx,
            actor,
            org,
            now_ms,
            Change {
                change: "device_group_created",
                target: format!("device_group:{}", group.id),
                before: serde_json::Value::Null,
                after: snapshot(&group),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(group)
    }

    /// Changes a group's fields (org admins). Audited as `group_changed`.
    pub async fn change_device_group(
        &self,
        principal: &Principal,
        actor: &Actor,
        org: OrgId,
        id: DeviceGroupId,
        if_match: Option<i64>,
        patch: DeviceGroupPatch,
    ) -> Result<DeviceGroup, ServiceError> {
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let before = admin_device_group(&mut tx, principal, org, id, true).await?;
        check_version(&[if_match, patch.version], before.version)?;
        let mut after = before.clone();
        if let Some(name) = &patch.name {
            after.name = parse_name("name", name)?;
        }
        if let Some(description) = &patch.description {
            after.description =
                optional_text("description", description.as_deref(), MAX_DESCRIPTION_CHARS)?;
        }
        if let Some(labels) = &patch.labels {
            after.labels = parse_labels(labels)?;
        }
        save_device_group(
            tx,
            actor,
            org,
            now_ms,
            "device_group_changed",
            before,
            after,
        )
        .await
    }

    /// Adds a device of the organisation to a device group (org admins); 409 if already in it.
    /// Audited as `group_member_added`.
    pub async fn add_device_group_member(
        &self,
        principal: &Principal,
        actor: &Actor,
        org: OrgId,
        id: DeviceGroupId,
        device: &str,
    ) -> Result<DeviceGroup, ServiceError> {
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let before = admin_device_group(&mut tx, principal, org, id, true).await?;
        let added = devices_of_org(&mut tx, org, &[device.to_owned()]).await?;
        let mut after = before.clone();
        for a in added {
            if after.members.contains(&a) {
                return Err(conflict("this device is already in the group"));
            }
            after.members.push(a);
        }
        after.members.sort();
        save_device_group(
            tx,
            actor,
            org,
            now_ms,
            "device_group_member_added",
            before,
            after,
        )
        .await
    }

    /// Takes a device out of a device group (org admins); 404 if not in it. Audited as
    /// `group_member_removed`.
    pub async fn remove_device_group_member(
        &self,
        principal: &Principal,
        actor: &Actor,
        org: OrgId,
        id: DeviceGroupId,
        device: DeviceId,
    ) -> Result<DeviceGroup, ServiceError> {
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let before = admin_device_group(&mut tx, principal, org, id, true).await?;
        if !before.members.contains(&device) {
            return Err(DomainError::not_found("device in this group").into());
        }
        let mut after = before.clone();
        after.members.retain(|m| *m != device);
        save_device_group(
            tx,
            actor,
            org,
            now_ms,
            "device_group_member_removed",
            before,
            after,
        )
        .await
    }

    /// Deletes a group (org admins). Audited as `group_deleted`.
    pub async fn delete_device_group(
        &self,
        principal: &Principal,
        actor: &Actor,
        org: OrgId,
        id: DeviceGroupId,
        if_match: Option<i64>,
    ) -> Result<(), ServiceError> {
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let before = admin_device_group(&mut tx, principal, org, id, true).await?;
        check_version(&[if_match], before.version)?;
        require_active_org(&mut tx, org).await?;
        tx.delete_device_group(org, id).await?;
        audit_change(
            &mut tx,
            actor,
            org,
            now_ms,
            Change {
                change: "device_group_deleted",
                target: format!("device_group:{id}"),
                before: snapshot(&before),
                after: serde_json::Value::Null,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
