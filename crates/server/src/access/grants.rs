//! Grants: made by admins and managers within their scope, shared by holders (delegation),
//! revoked with everything derived from them, listed for the access review.
//!
//! Who may do what (security.md "authorization"):
//! - org admins: any grant in the organisation, any rights, bulk revocation;
//! - space managers: grants whose target lies in their subtrees (a lock placed there, or a space
//!   there), without `manage`; device groups may span spaces, so they are for org admins;
//! - device owners: grants on the locks they own, without `manage`;
//! - holders (anyone, guests included, with a grant carrying `share`): derived grants for other
//!   members, never wider than their own (checked by the decision core), and revoking what they
//!   shared;
//! - everyone else: 404 for grants they cannot see, 403 for administration of their own
//!   organisation.
//!
//! Every change is audited as `authz_change` with the grant before and after, in the same
//! transaction; triggers bump the organisation's access version, so decisions use the change on
//! the next request.

use latchkey_domain::access::{
    AccessModel, Delegation, GrantSpec, Rights, Schedule, ScheduleSpec, Subject, Target,
};
use latchkey_domain::directory::{DeviceKind, DirectoryScope, SpaceTree};
use latchkey_domain::identity::Role;
use latchkey_domain::tenancy::OrgStatus;
use latchkey_domain::{AccountId, DomainError, ErrorCode, GrantId, OrgId, Scope};
use latchkey_store::Tx;
use latchkey_store::repo::{
    AuditRepo, DeviceGroupRepo, DeviceRegistryRepo, GrantFilter, GrantRecord, GrantRepo, GroupRepo,
    MembershipRepo, OrganisationRepo, SpaceRepo,
};
use serde_json::{Value, json};

use crate::app::{Actor, App, ServiceError};
use crate::directory::scope::{directory_scope, role_refused, space_tree};
use crate::identity::principal::{Need, Principal};
use crate::tenancy::organisations::audit_event;

/// Longest note on a grant, in characters.
pub const MAX_NOTE_CHARS: usize = 500;
/// Most grants one bulk revocation may name.
pub const MAX_BULK_REVOCATION: usize = 1_000;

/// A grant to make (admins and managers).
#[derive(Debug, Clone)]
pub struct NewGrant {
    /// Who.
    pub subject: Subject,
    /// Which locks.
    pub target: Target,
    /// What.
    pub rights: Rights,
    /// When.
    pub schedule: ScheduleSpec,
    /// How many further levels of sharing holders may create (0: shares cannot be re-shared).
    pub reshare_depth: u8,
    /// Longest validity of a grant shared from this one, ms.
    pub max_share_duration_ms: Option<i64>,
    /// A free note.
    pub note: Option<String>,
}

/// A grant a holder shares from one of theirs.
#[derive(Debug, Clone)]
pub struct NewShare {
    /// The member it is for.
    pub person: AccountId,
    /// Which locks (within the parent's).
    pub target: Target,
    /// What (within the parent's).
    pub rights: Rights,
    /// When (within the parent's).
    pub schedule: ScheduleSpec,
    /// Re-share depth (below the parent's).
    pub reshare_depth: u8,
    /// A free note.
    pub note: Option<String>,
}

/// A page of the access review.
#[derive(Debug, Clone)]
pub struct GrantPage {
    /// The grants on this page.
    pub grants: Vec<GrantRecord>,
    /// Where the next page starts, if there is one.
    pub next_cursor: Option<GrantId>,
    /// How many grants the filter matches in all (every page).
    pub total: i64,
}

/// One node of a delegation tree.
#[derive(Debug, Clone)]
pub struct DelegationNode {
    /// The grant.
    pub grant: GrantRecord,
    /// Grants shared from it, oldest first.
    pub children: Vec<DelegationNode>,
}

/// How the caller relates to the organisation's grants.
enum Reach {
    /// Admin, manager or owner: grants whose target their scope covers.
    Directory(DirectoryScope, SpaceTree),
    /// Member or guest: only their own grants and the ones they shared.
    Holder,
}

fn note(raw: Option<String>) -> Result<Option<String>, ServiceError> {
    let Some(raw) = raw else { return Ok(None) };
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    if trimmed.chars().count() > MAX_NOTE_CHARS || trimmed.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            "note",
            format!("note must be at most {MAX_NOTE_CHARS} characters without control characters"),
        )
        .into());
    }
    Ok(Some(trimmed.to_owned()))
}

fn schedule(spec: ScheduleSpec) -> Result<(Schedule, ScheduleSpec), ServiceError> {
    let validated = Schedule::new(spec.clone()).map_err(DomainError::from)?;
    Ok((validated, spec))
}

fn not_found() -> ServiceError {
    DomainError::not_found("grant").into()
}

/// The grant as the audit trail and the API show it.
pub fn grant_json(grant: &GrantRecord) -> Value {
    json!({
        "id": grant.spec.id,
        "subject": grant.spec.subject,
        "target": grant.spec.target,
        "rights": grant.spec.rights.names(),
        "schedule": grant.schedule,
        "reshare_depth": grant.spec.reshare_depth,
        "max_share_duration_ms": grant.spec.max_share_duration_ms,
        "parent_id": grant.spec.delegation.map(|d| d.parent),
        "shared_by": grant.spec.delegation.map(|d| d.shared_by),
        "revoked_at_ms": grant.revoked_at_ms,
    })
}

async fn require_active_org(tx: &mut Tx, org: OrgId) -> Result<(), ServiceError> {
    let organisation = tx
        .organisation(org)
        .await?
        .ok_or_else(|| DomainError::not_found("organisation"))?;
    if organisation.status != OrgStatus::Active {
        return Err(DomainError::new(
            ErrorCode::TenantInactive,
            format!(
                "the organisation is {}; resume it before making changes",
                organisation.status.as_str()
            ),
        )
        .into());
    }
    Ok(())
}

impl App {
    /// The caller's reach over grants: a directory scope for admins, managers and owners; the
    /// holder's view for members and guests.
    async fn grant_reach(
        &self,
        principal: &Principal,
        tx: &mut Tx,
        org: OrgId,
        write: bool,
    ) -> Result<Reach, ServiceError> {
        let membership = principal
            .require_member(
                tx,
                org,
                Need {
                    role: Role::Guest,
                    write,
                },
            )
            .await?;
        if matches!(membership.role, Role::Member | Role::Guest) {
            return Ok(Reach::Holder);
        }
        let scope = directory_scope(principal, tx, org, write).await?;
        let tree = space_tree(tx, org).await?;
        Ok(Reach::Directory(scope, tree))
    }

    /// True if the reach covers the grant's target (directory roles), or the caller holds it
    /// (its subject, directly or through a group) or shared it.
    fn reach_covers(
        reach: &Reach,
        model: &AccessModel,
        caller: AccountId,
        grant: &GrantSpec,
    ) -> bool {
        let own = model_holds(model, caller, grant)
            || grant.delegation.is_some_and(|d| d.shared_by == caller);
        match reach {
            Reach::Holder => own,
            Reach::Directory(scope, tree) => {
                own || target_in_scope(scope, tree, model, grant.target)
            }
        }
    }

    /// Checks that the subject exists in the organisation (404 otherwise).
    async fn check_subject(tx: &mut Tx, org: OrgId, subject: Subject) -> Result<(), ServiceError> {
        let exists = match subject {
            Subject::Person(person) => tx.membership(org, person).await?.is_some(),
            Subject::Group(group) => tx.group(org, group).await?.is_some(),
        };
        if exists {
            Ok(())
        } else {
            Err(DomainError::not_found(match subject {
                Subject::Person(_) => "person",
                Subject::Group(_) => "group",
            })
            .into())
        }
    }

    /// Checks that the target exists and lies in the caller's scope (404 otherwise; 403 for a
    /// device group asked by a manager or owner).
    async fn check_target(
        tx: &mut Tx,
        org: OrgId,
        scope: &DirectoryScope,
        tree: &SpaceTree,
        target: Target,
    ) -> Result<(), ServiceError> {
        match target {
            Target::Lock(lock) => {
                let device = tx
                    .device(org, lock)
                    .await?
                    .filter(|d| d.kind == DeviceKind::Lock)
                    .ok_or_else(|| DomainError::not_found("lock"))?;
                if !scope.covers_device(tree, device.id, device.space_id) {
                    return Err(DomainError::not_found("lock").into());
                }
                if device.space_id.is_none() {
                    return Err(DomainError::invalid(
                        "target",
                        "the lock is not placed in a space yet; place it first (its site's time \
                         zone reads the schedule)",
                    )
                    .into());
                }
            }
            Target::Space(space) => {
                if tx.space(org, space).await?.is_none() || !scope.covers_space(tree, space) {
                    return Err(DomainError::not_found("space").into());
                }
            }
            Target::DeviceGroup(group) => {
                if tx.device_group(org, group).await?.is_none() {
                    return Err(DomainError::not_found("device group").into());
                }
                if !scope.is_everything() {
                    return Err(role_refused(
                        "grants on device groups (they may span spaces outside your scope)",
                    ));
                }
            }
        }
        Ok(())
    }

    /// Makes a grant (org admins; managers and owners within their scope). Audited as
    /// `authz_change`.
    pub async fn create_grant(
        &self,
        principal: &Principal,
        actor: &Actor,
        org: OrgId,
        new: NewGrant,
    ) -> Result<GrantRecord, ServiceError> {
        let (validated, schedule_spec) = schedule(new.schedule)?;
        let note = note(new.note)?;
        if new.rights.is_empty() {
            return Err(DomainError::invalid(
                "rights",
                "name at least one right: unlock, share or manage",
            )
            .into());
        }
        if new.max_share_duration_ms.is_some_and(|ms| ms <= 0) {
            return Err(DomainError::invalid(
                "max_share_duration_secs",
                "max_share_duration_secs must be positive",
            )
            .into());
        }
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let scope = directory_scope(principal, &mut tx, org, true).await?;
        require_active_org(&mut tx, org).await?;
        let tree = space_tree(&mut tx, org).await?;
        Self::check_subject(&mut tx, org, new.subject).await?;
        Self::check_target(&mut tx, org, &scope, &tree, new.target).await?;
        if new.rights.contains(Rights::MANAGE) && !scope.is_everything() {
            return Err(role_refused("granting the manage right"));
        }
        let mut spec = GrantSpec::new(
            GrantId::generate(),
            new.subject,
            new.target,
            new.rights,
            validated,
        );
        spec.reshare_depth = new.reshare_depth;
        spec.max_share_duration_ms = new.max_share_duration_ms;
        let record = GrantRecord {
            spec,
            schedule: schedule_spec,
            note,
            created_by: principal.account_id,
            created_at_ms: now_ms,
            revoked_at_ms: None,
            revoked_by: None,
            version: 1,
        };
        insert_audited(&mut tx, actor, org, &record, "grant_created").await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Shares a grant the caller holds: a derived grant for another member, never wider than
    /// the parent (checked by the decision core against the current model). Guests cannot share.
    pub async fn share_grant(
        &self,
        principal: &Principal,
        actor: &Actor,
        org: OrgId,
        parent: GrantId,
        share: NewShare,
    ) -> Result<GrantRecord, ServiceError> {
        let (validated, schedule_spec) = schedule(share.schedule)?;
        let note = note(share.note)?;
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let membership = principal
            .require_member(&mut tx, org, Need::MEMBER_WRITE)
            .await?;
        require_active_org(&mut tx, org).await?;
        let model = self.access_model(&mut tx, org).await?;
        let Some(parent_record) = tx.grant(org, parent).await? else {
            return Err(not_found());
        };
        let reach = self.grant_reach(principal, &mut tx, org, true).await?;
        if !Self::reach_covers(&reach, &model, principal.account_id, &parent_record.spec) {
            return Err(not_found());
        }
        if membership.role == Role::Guest {
            return Err(role_refused("sharing (guests cannot share their access)"));
        }
        if share.person == principal.account_id {
            return Err(
                DomainError::invalid("person", "share with someone else, not yourself").into(),
            );
        }
        Self::check_subject(&mut tx, org, Subject::Person(share.person)).await?;
        let mut spec = GrantSpec::new(
            GrantId::generate(),
            Subject::Person(share.person),
            share.target,
            share.rights,
            validated,
        );
        spec.reshare_depth = share.reshare_depth;
        spec.delegation = Some(Delegation {
            parent,
            shared_by: principal.account_id,
        });
        model.check_derived(&spec).map_err(DomainError::from)?;
        let record = GrantRecord {
            spec,
            schedule: schedule_spec,
            note,
            created_by: principal.account_id,
            created_at_ms: now_ms,
            revoked_at_ms: None,
            revoked_by: None,
            version: 1,
        };
        insert_audited(&mut tx, actor, org, &record, "grant_shared").await?;
        tx.commit().await?;
        Ok(record)
    }

    /// One grant the caller may see (404 otherwise).
    pub async fn grant(
        &self,
        principal: &Principal,
        org: OrgId,
        id: GrantId,
    ) -> Result<GrantRecord, ServiceError> {
        let mut tx = self.store.read().await?;
        let reach = self.grant_reach(principal, &mut tx, org, false).await?;
        let model = self.access_model(&mut tx, org).await?;
        let record = tx.grant(org, id).await?.ok_or_else(not_found)?;
        if !Self::reach_covers(&reach, &model, principal.account_id, &record.spec) {
            return Err(not_found());
        }
        Ok(record)
    }

    /// The access review: grants the caller may see, filtered, a page at a time, with the
    /// number of all grants the filter matches (for org admins a count in the database; for
    /// scoped callers the grants in their reach, counted while reading).
    pub async fn grants(
        &self,
        principal: &Principal,
        org: OrgId,
        query: GrantFilter,
    ) -> Result<GrantPage, ServiceError> {
        let mut tx = self.store.read().await?;
        let reach = self.grant_reach(principal, &mut tx, org, false).await?;
        let limit = usize::try_from(query.limit.clamp(1, 200)).unwrap_or(200);
        if matches!(&reach, Reach::Directory(scope, _) if scope.is_everything()) {
            let total = tx.count_grants(org, &query).await?;
            let mut grants = tx
                .grants(
                    org,
                    &GrantFilter {
                        limit: i64::try_from(limit + 1).unwrap_or(201),
                        ..query
                    },
                )
                .await?;
            let next_cursor = page_end(&mut grants, limit);
            return Ok(GrantPage {
                grants,
                next_cursor,
                total,
            });
        }
        // Scoped callers: read every matching grant once, keep the page, count the rest.
        let model = self.access_model(&mut tx, org).await?;
        let start_after = query.after;
        let mut filter = GrantFilter {
            limit: READ_BATCH,
            after: None,
            ..query
        };
        let mut grants = Vec::new();
        let mut total = 0i64;
        loop {
            let batch = tx.grants(org, &filter).await?;
            let exhausted = i64::try_from(batch.len()).unwrap_or(i64::MAX) < READ_BATCH;
            filter.after = batch.last().map(|g| g.spec.id).or(filter.after);
            for grant in batch {
                if !Self::reach_covers(&reach, &model, principal.account_id, &grant.spec) {
                    continue;
                }
                total += 1;
                if start_after.is_none_or(|a| grant.spec.id > a) && grants.len() <= limit {
                    grants.push(grant);
                }
            }
            if exhausted {
                break;
            }
        }
        let next_cursor = page_end(&mut grants, limit);
        Ok(GrantPage {
            grants,
            next_cursor,
            total,
        })
    }

    /// Revokes a grant and everything derived from it (admins, managers and owners in scope,
    /// and the person who shared it). Audited as `authz_change`, one event per grant.
    pub async fn revoke_grant(
        &self,
        principal: &Principal,
        actor: &Actor,
        org: OrgId,
        id: GrantId,
    ) -> Result<Vec<GrantId>, ServiceError> {
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let reach = self.grant_reach(principal, &mut tx, org, true).await?;
        require_active_org(&mut tx, org).await?;
        let model = self.access_model(&mut tx, org).await?;
        let record = tx.grant(org, id).await?.ok_or_else(not_found)?;
        let may_revoke = match &reach {
            // A holder may revoke what they shared, not what they were given.
            Reach::Holder => record
                .spec
                .delegation
                .is_some_and(|d| d.shared_by == principal.account_id),
            Reach::Directory(..) => {
                Self::reach_covers(&reach, &model, principal.account_id, &record.spec)
            }
        };
        if !may_revoke {
            return Err(
                if Self::reach_covers(&reach, &model, principal.account_id, &record.spec) {
                    role_refused("revoking a grant you were given (ask whoever gave it)")
                } else {
                    not_found()
                },
            );
        }
        if record.revoked_at_ms.is_some() {
            return Err(
                DomainError::new(ErrorCode::Conflict, "the grant is already revoked").into(),
            );
        }
        let revoked =
            revoke_with_descendants(&mut tx, &model, org, &[id], principal, actor, now_ms).await?;
        tx.commit().await?;
        Ok(revoked)
    }

    /// Revokes many grants at once, each with its descendants (org admins only).
    pub async fn bulk_revoke_grants(
        &self,
        principal: &Principal,
        actor: &Actor,
        org: OrgId,
        ids: &[GrantId],
    ) -> Result<Vec<GrantId>, ServiceError> {
        if ids.is_empty() || ids.len() > MAX_BULK_REVOCATION {
            return Err(DomainError::invalid(
                "grant_ids",
                format!("name between 1 and {MAX_BULK_REVOCATION} grants"),
            )
            .into());
        }
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        principal
            .require_member(&mut tx, org, Need::ADMIN_WRITE)
            .await?;
        require_active_org(&mut tx, org).await?;
        let model = self.access_model(&mut tx, org).await?;
        for id in ids {
            if tx.grant(org, *id).await?.is_none() {
                return Err(DomainError::new(
                    ErrorCode::NotFound,
                    format!("grant {id} not found; nothing was revoked"),
                )
                .into());
            }
        }
        let revoked =
            revoke_with_descendants(&mut tx, &model, org, ids, principal, actor, now_ms).await?;
        tx.commit().await?;
        Ok(revoked)
    }

    /// A grant with everything shared from it, as a tree.
    pub async fn delegation_tree(
        &self,
        principal: &Principal,
        org: OrgId,
        id: GrantId,
    ) -> Result<DelegationNode, ServiceError> {
        let mut tx = self.store.read().await?;
        let reach = self.grant_reach(principal, &mut tx, org, false).await?;
        let model = self.access_model(&mut tx, org).await?;
        let root = tx.grant(org, id).await?.ok_or_else(not_found)?;
        if !Self::reach_covers(&reach, &model, principal.account_id, &root.spec) {
            return Err(not_found());
        }
        let descendants = model.descendants(id).unwrap_or_default();
        let mut records = Vec::with_capacity(descendants.len());
        for d in descendants {
            if let Some(record) = tx.grant(org, d).await? {
                records.push(record);
            }
        }
        Ok(tree_of(root, &mut records))
    }
}

/// Rows read per query when a scoped caller's review is filtered in memory.
const READ_BATCH: i64 = 1_000;

/// Cuts a page read with one extra row to `limit`; the cursor of the next page if there is one.
fn page_end(grants: &mut Vec<GrantRecord>, limit: usize) -> Option<GrantId> {
    if grants.len() > limit {
        grants.truncate(limit);
        grants.last().map(|g| g.spec.id)
    } else {
        None
    }
}

/// Builds the tree under `root` from its descendants (any order).
fn tree_of(root: GrantRecord, rest: &mut Vec<GrantRecord>) -> DelegationNode {
    let id = root.spec.id;
    let (mine, others): (Vec<_>, Vec<_>) = std::mem::take(rest)
        .into_iter()
        .partition(|g| g.spec.delegation.is_some_and(|d| d.parent == id));
    *rest = others;
    let mut children: Vec<DelegationNode> = mine.into_iter().map(|c| tree_of(c, rest)).collect();
    children.sort_by_key(|c| c.grant.spec.id);
    DelegationNode {
        grant: root,
        children,
    }
}

/// True if the person is currently a subject of the grant (directly or through a group): the
/// holder check for sharing, before the decision core's own.
fn model_holds(model: &AccessModel, person: AccountId, grant: &GrantSpec) -> bool {
    match grant.subject {
        Subject::Person(p) => p == person,
        Subject::Group(g) => model.is_member(g, person),
    }
}

/// True if the scope covers every lock the target can reach.
fn target_in_scope(
    scope: &DirectoryScope,
    tree: &SpaceTree,
    model: &AccessModel,
    target: Target,
) -> bool {
    match target {
        Target::Lock(lock) => scope.covers_device(tree, lock, model.space_of_lock(lock)),
        Target::Space(space) => scope.covers_space(tree, space),
        Target::DeviceGroup(_) => scope.is_everything(),
    }
}

/// Stores a new grant with its `authz_change` event (`grant_created` or `grant_shared`).
async fn insert_audited(
    tx: &mut Tx,
    actor: &Actor,
    org: OrgId,
    record: &GrantRecord,
    change: &str,
) -> Result<(), ServiceError> {
    tx.insert_grant(org, record).await?;
    tx.append_audit(
        Scope::Tenant(org),
        audit_event(
            actor,
            record.created_at_ms,
            "authz_change",
            format!("grant:{}", record.spec.id),
            json!({ "change": change, "before": null, "after": grant_json(record) }),
        ),
    )
    .await?;
    Ok(())
}

/// Revokes the grants and all their descendants in `tx`, one audit event per grant revoked.
async fn revoke_with_descendants(
    tx: &mut Tx,
    model: &AccessModel,
    org: OrgId,
    ids: &[GrantId],
    principal: &Principal,
    actor: &Actor,
    now_ms: i64,
) -> Result<Vec<GrantId>, ServiceError> {
    let mut all = Vec::new();
    for id in ids {
        if !all.contains(id) {
            all.push(*id);
        }
        for d in model.descendants(*id).unwrap_or_default() {
            if !all.contains(&d) {
                all.push(d);
            }
        }
    }
    let mut revoked = Vec::new();
    for id in &all {
        let Some(before) = tx.grant(org, *id).await? else {
            continue;
        };
        if before.revoked_at_ms.is_some() {
            continue;
        }
        tx.revoke_grants(org, &[*id], principal.account_id, now_ms)
            .await?;
        let mut after = before.clone();
        after.revoked_at_ms = Some(now_ms);
        after.revoked_by = Some(principal.account_id);
        let cascade = !ids.contains(id);
        tx.append_audit(
            Scope::Tenant(org),
            audit_event(
                actor,
                now_ms,
                "authz_change",
                format!("grant:{id}"),
                json!({
                    "change": if cascade { "grant_revoked_with_parent" } else { "grant_revoked" },
                    "before": grant_json(&before),
                    "after": grant_json(&after),
                }),
            ),
        )
        .await?;
        revoked.push(*id);
    }
    Ok(revoked)
}
