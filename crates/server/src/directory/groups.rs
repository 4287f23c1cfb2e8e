//! Groups of people (org admins): name, description, labels and members, who must be members of
//! the organisation. A person leaving the organisation leaves its groups in the same
//! transaction (see `identity::people`).

use latchkey_domain::directory::group::MAX_DESCRIPTION_CHARS;
use latchkey_domain::directory::{Group, optional_text, parse_labels};
use latchkey_domain::tenancy::parse_name;
use latchkey_domain::{AccountId, DomainError, GroupId, OrgId};
use latchkey_store::Tx;
use latchkey_store::repo::{GroupRepo, MembershipRepo};

use super::scope::{directory_scope, require_everything};
use super::spaces::body_id;
use super::{
    Change, ListQuery, Page, audit_change, check_version, conflict, require_active_org, snapshot,
};
use crate::app::{Actor, App, ServiceError};
use crate::identity::principal::Principal;

/// A new group, or a group's fields.
#[derive(Debug, Clone, Default)]
pub struct NewGroup {
    /// Display name.
    pub name: String,
    /// What it is for.
    pub description: Option<String>,
    /// Labels.
    pub labels: Vec<String>,
    /// Initial members (account ids).
    pub members: Vec<String>,
}

/// A change to a group's fields (JSON merge patch); members change through their sub-resource.
#[derive(Debug, Clone, Default)]
pub struct GroupPatch {
    /// The version the client last saw.
    pub version: Option<i64>,
    /// New name.
    pub name: Option<String>,
    /// New description (`Some(None)` clears it).
    pub description: Option<Option<String>>,
    /// New labels.
    pub labels: Option<Vec<String>>,
}

fn group_not_found() -> ServiceError {
    DomainError::not_found("group").into()
}

/// Checks that every account is a member of the organisation (422 naming the first that is not).
async fn members_of_org(
    tx: &mut Tx,
    org: OrgId,
    raw: &[String],
) -> Result<Vec<AccountId>, ServiceError> {
    let mut out = Vec::with_capacity(raw.len());
    for text in raw {
        let id: AccountId = body_id("account_id", text)?;
        if tx.membership(org, id).await?.is_none() {
            return Err(DomainError::invalid(
                "account_id",
                format!("{id} is not a member of this organisation"),
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
async fn save_group(
    mut tx: Tx,
    actor: &Actor,
    org: OrgId,
    now_ms: i64,
    change: &str,
    before: Group,
    mut after: Group,
) -> Result<Group, ServiceError> {
    require_active_org(&mut tx, org).await?;
    after.version = tx.update_group(org, &after).await?;
    audit_change(
        &mut tx,
        actor,
        org,
        now_ms,
        Change {
            change,
            target: format!("group:{}", after.id),
            before: snapshot(&before),
            after: snapshot(&after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

async fn admin_group(
    tx: &mut Tx,
    principal: &Principal,
    org: OrgId,
    id: GroupId,
    write: bool,
) -> Result<Group, ServiceError> {
    let scope = directory_scope(principal, tx, org, write).await?;
    require_everything(&scope, "managing groups")?;
    tx.group(org, id).await?.ok_or_else(group_not_found)
}

impl App {
    /// The organisation's groups, a page at a time (org admins).
    pub async fn groups_page(
        &self,
        principal: &Principal,
        org: OrgId,
        query: &ListQuery,
    ) -> Result<Page<Group>, ServiceError> {
        let label = query.label()?;
        let mut tx = self.store.read().await?;
        let scope = directory_scope(principal, &mut tx, org, false).await?;
        require_everything(&scope, "managing groups")?;
        let items = tx
            .groups(org)
            .await?
            .into_iter()
            .filter(|g| label.as_ref().is_none_or(|l| g.labels.contains(l)))
            .collect();
        Ok(query.page(items, |g| g.id.to_string())?)
    }

    /// One group (org admins).
    pub async fn group_of(
        &self,
        principal: &Principal,
        org: OrgId,
        id: GroupId,
    ) -> Result<Group, ServiceError> {
        let mut tx = self.store.read().await?;
        admin_group(&mut tx, principal, org, id, false).await
    }

    /// Adds a group (org admins). Audited as `group_created`.
    pub async fn add_group(
        &self,
        principal: &Principal,
        actor: &Actor,
        org: OrgId,
        input: NewGroup,
    ) -> Result<Group, ServiceError> {
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let scope = directory_scope(principal, &mut tx, org, true).await?;
        require_everything(&scope, "managing groups")?;
        let group = Group {
            id: GroupId::generate(),
            name: parse_name("name", &input.name)?,
            description: optional_text(
                "description",
                input.description.as_deref(),
                MAX_DESCRIPTION_CHARS,
            )?,
            labels: parse_labels(&input.labels)?,
            members: members_of_org(&mut tx, org, &input.members).await?,
            created_at_ms: now_ms,
            version: 1,
        };
        require_active_org(&mut tx, org).await?;
        tx.insert_group(org, &group).await?;
        audit_change(
            &mut tx,
            actor,
            org,
            now_ms,
            Change {
                change: "group_created",
                target: format!("group:{}", group.id),
                before: serde_json::Value::Null,
                after: snapshot(&group),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(group)
    }

    /// Changes a group's fields (org admins). Audited as `group_changed`.
    pub async fn change_group(
        &self,
        principal: &Principal,
        actor: &Actor,
        org: OrgId,
        id: GroupId,
        if_match: Option<i64>,
        patch: GroupPatch,
    ) -> Result<Group, ServiceError> {
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let before = admin_group(&mut tx, principal, org, id, true).await?;
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
        save_group(tx, actor, org, now_ms, "group_changed", before, after).await
    }

    /// Adds a member of the organisation to a group (org admins); 409 if already in it.
    /// Audited as `group_member_added`.
    pub async fn add_group_member(
        &self,
        principal: &Principal,
        actor: &Actor,
        org: OrgId,
        id: GroupId,
        account: &str,
    ) -> Result<Group, ServiceError> {
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let before = admin_group(&mut tx, principal, org, id, true).await?;
        let added = members_of_org(&mut tx, org, &[account.to_owned()]).await?;
        let mut after = before.clone();
        for a in added {
            if after.members.contains(&a) {
                return Err(conflict("this person is already in the group"));
            }
            after.members.push(a);
        }
        after.members.sort();
        save_group(tx, actor, org, now_ms, "group_member_added", before, after).await
    }

    /// Takes a person out of a group (org admins); 404 if not in it. Audited as
    /// `group_member_removed`.
    pub async fn remove_group_member(
        &self,
        principal: &Principal,
        actor: &Actor,
        org: OrgId,
        id: GroupId,
        account: AccountId,
    ) -> Result<Group, ServiceError> {
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let before = admin_group(&mut tx, principal, org, id, true).await?;
        if !before.members.contains(&account) {
            return Err(DomainError::not_found("member of this group").into());
        }
        let mut after = before.clone();
        after.members.retain(|m| *m != account);
        save_group(
            tx,
            actor,
            org,
            now_ms,
            "group_member_removed",
            before,
            after,
        )
        .await
    }

    /// Deletes a group (org admins). Audited as `group_deleted`.
    pub async fn delete_group(
        &self,
        principal: &Principal,
        actor: &Actor,
        org: OrgId,
        id: GroupId,
        if_match: Option<i64>,
    ) -> Result<(), ServiceError> {
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let before = admin_group(&mut tx, principal, org, id, true).await?;
        check_version(&[if_match], before.version)?;
        require_active_org(&mut tx, org).await?;
        tx.delete_group(org, id).await?;
        audit_change(
            &mut tx,
            actor,
            org,
            now_ms,
            Change {
                change: "group_deleted",
                target: format!("group:{id}"),
                before: snapshot(&before),
                after: serde_json::Value::Null,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
