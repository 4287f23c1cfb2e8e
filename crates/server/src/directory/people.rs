//! People in the directory (org admins): each membership's profile — display name override,
//! employee number (sealed; unique per organisation), labels — and the scope of a role with
//! scope: the space subtrees a space manager manages, the devices a device owner owns.
//!
//! Audit events carry no personal data: a profile change records which fields are set and the
//! labels, never the name or number themselves.

use latchkey_domain::directory::parse_labels;
use latchkey_domain::identity::Role;
use latchkey_domain::tenancy::parse_name;
use latchkey_domain::{AccountId, DeviceId, DomainError, OrgId, SpaceId};
use latchkey_store::Tx;
use latchkey_store::repo::{
    DeviceRegistryRepo, MemberProfile, MemberProfileRepo, Membership, MembershipRepo,
    RoleScopeRepo, SpaceRepo,
};
use serde_json::{Value, json};

use super::scope::{directory_scope, require_everything};
use super::spaces::body_id;
use super::{Change, audit_change, check_version, require_active_org};
use crate::app::{Actor, App, ServiceError};
use crate::identity::principal::Principal;

/// Longest employee number, in characters.
pub const MAX_EMPLOYEE_NUMBER_CHARS: usize = 64;

/// A person's directory entry in one organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonEntry {
    /// The membership (role, status, guest end, version).
    pub membership: Membership,
    /// Profile fields.
    pub profile: MemberProfile,
}

/// A profile change (JSON merge patch).
#[derive(Debug, Clone, Default)]
pub struct ProfilePatch {
    /// The membership version the client last saw.
    pub version: Option<i64>,
    /// New display name override (`Some(None)` clears it).
    pub display_name: Option<Option<String>>,
    /// New employee number (`Some(None)` clears it).
    pub employee_number: Option<Option<String>>,
    /// New labels.
    pub labels: Option<Vec<String>>,
}

/// The scope of a person's role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleScopes {
    /// Their role.
    pub role: Role,
    /// Roots of the subtrees they manage (space managers).
    pub spaces: Vec<SpaceId>,
    /// Devices they own (device owners).
    pub devices: Vec<DeviceId>,
}

fn person_not_found() -> ServiceError {
    DomainError::not_found("person in this organisation").into()
}

fn parse_employee_number(raw: &str) -> Result<Option<String>, DomainError> {
    let number = raw.trim();
    if number.is_empty() {
        return Ok(None);
    }
    if number.chars().count() > MAX_EMPLOYEE_NUMBER_CHARS || number.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            "employee_number",
            format!(
                "employee_number must be at most {MAX_EMPLOYEE_NUMBER_CHARS} characters without control characters"
            ),
        ));
    }
    Ok(Some(number.to_owned()))
}

/// What an audit event may say about a profile: which fields are set, and the labels.
fn profile_shape(p: &MemberProfile) -> Value {
    json!({
        "display_name_set": p.display_name.is_some(),
        "employee_number_set": p.employee_number.is_some(),
        "labels": p.labels,
    })
}

async fn admin_person(
    tx: &mut Tx,
    principal: &Principal,
    org: OrgId,
    account: AccountId,
    write: bool,
) -> Result<PersonEntry, ServiceError> {
    let scope = directory_scope(principal, tx, org, write).await?;
    require_everything(&scope, "managing people")?;
    let membership = tx
        .membership(org, account)
        .await?
        .ok_or_else(person_not_found)?;
    let profile = tx
        .member_profile(org, account)
        .await?
        .ok_or_else(person_not_found)?;
    Ok(PersonEntry {
        membership,
        profile,
    })
}

impl App {
    /// A person's profile (org admins).
    pub async fn person_profile(
        &self,
        principal: &Principal,
        org: OrgId,
        account: AccountId,
    ) -> Result<PersonEntry, ServiceError> {
        let mut tx = self.store.read().await?;
        admin_person(&mut tx, principal, org, account, false).await
    }

    /// Changes a person's profile (org admins). Audited as `person_profile_changed`.
    pub async fn change_person_profile(
        &self,
        principal: &Principal,
        actor: &Actor,
        org: OrgId,
        account: AccountId,
        if_match: Option<i64>,
        patch: ProfilePatch,
    ) -> Result<PersonEntry, ServiceError> {
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let entry = admin_person(&mut tx, principal, org, account, true).await?;
        check_version(&[if_match, patch.version], entry.membership.version)?;
        let mut after = entry.profile.clone();
        if let Some(name) = &patch.display_name {
            after.display_name = name
                .as_deref()
                .map(|n| parse_name("display_name", n))
                .transpose()?;
        }
        if let Some(number) = &patch.employee_number {
            after.employee_number = match number.as_deref() {
                Some(n) => parse_employee_number(n)?,
                None => None,
            };
        }
        if let Some(labels) = &patch.labels {
            after.labels = parse_labels(labels)?;
        }
        require_active_org(&mut tx, org).await?;
        tx.set_member_profile(org, account, &after).await?;
        // The membership's version covers its profile too, so If-Match protects both.
        let mut membership = entry.membership.clone();
        membership.version = tx.update_membership(&membership).await?;
        audit_change(
            &mut tx,
            actor,
            org,
            now_ms,
            Change {
                change: "person_profile_changed",
                target: format!("user:{account}"),
                before: profile_shape(&entry.profile),
                after: profile_shape(&after),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(PersonEntry {
            membership,
            profile: after,
        })
    }

    /// The scope of a person's role (org admins).
    pub async fn person_scopes(
        &self,
        principal: &Principal,
        org: OrgId,
        account: AccountId,
    ) -> Result<RoleScopes, ServiceError> {
        let mut tx = self.store.read().await?;
        let entry = admin_person(&mut tx, principal, org, account, false).await?;
        Ok(RoleScopes {
            role: entry.membership.role,
            spaces: tx.managed_spaces(org, account).await?,
            devices: tx.owned_devices(org, account).await?,
        })
    }

    /// Replaces the scope of a person's role (org admins, step-up): `spaces` only for a space
    /// manager, `devices` only for a device owner (422 otherwise); ids must name spaces or
    /// devices of the organisation. Takes effect on the person's next request. Audited as
    /// `role_scope_changed`.
    pub async fn set_person_scopes(
        &self,
        principal: &Principal,
        actor: &Actor,
        org: OrgId,
        account: AccountId,
        spaces: Option<Vec<String>>,
        devices: Option<Vec<String>>,
    ) -> Result<RoleScopes, ServiceError> {
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let entry = admin_person(&mut tx, principal, org, account, true).await?;
        principal.require_step_up(now_ms)?;
        let role = entry.membership.role;
        let before = RoleScopes {
            role,
            spaces: tx.managed_spaces(org, account).await?,
            devices: tx.owned_devices(org, account).await?,
        };
        let mut after = before.clone();
        if let Some(raw) = spaces {
            if role != Role::SpaceManager && !raw.is_empty() {
                return Err(DomainError::invalid(
                    "spaces",
                    "only a space manager manages spaces: change the person's role to space_manager first",
                )
                .into());
            }
            let known = tx.spaces(org).await?;
            let mut ids = Vec::with_capacity(raw.len());
            for text in &raw {
                let id: SpaceId = body_id("spaces", text)?;
                if !known.iter().any(|s| s.id == id) {
                    return Err(DomainError::invalid(
                        "spaces",
                        format!("{id} is not a space of this organisation"),
                    )
                    .into());
                }
                ids.push(id);
            }
            ids.sort();
            ids.dedup();
            after.spaces = ids;
        }
        if let Some(raw) = devices {
            if role != Role::DeviceOwner && !raw.is_empty() {
                return Err(DomainError::invalid(
                    "devices",
                    "only a device owner owns devices: change the person's role to device_owner first",
                )
                .into());
            }
            let mut ids = Vec::with_capacity(raw.len());
            for text in &raw {
                let id: DeviceId = body_id("devices", text)?;
                if tx.device(org, id).await?.is_none() {
                    return Err(DomainError::invalid(
                        "devices",
                        format!("{id} is not a device of this organisation"),
                    )
                    .into());
                }
                ids.push(id);
            }
            ids.sort();
            ids.dedup();
            after.devices = ids;
        }
        require_active_org(&mut tx, org).await?;
        tx.set_managed_spaces(org, account, &after.spaces).await?;
        tx.set_owned_devices(org, account, &after.devices).await?;
        let shape = |s: &RoleScopes| json!({ "role": s.role.as_str(), "spaces": s.spaces, "devices": s.devices });
        audit_change(
            &mut tx,
            actor,
            org,
            now_ms,
            Change {
                change: "role_scope_changed",
                target: format!("user:{account}"),
                before: shape(&before),
                after: shape(&after),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }
}
