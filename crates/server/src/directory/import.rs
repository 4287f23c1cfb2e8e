//! Bulk import of people and spaces from CSV files (org admins), all or nothing.
//!
//! The file is parsed and every row checked by `latchkey_domain::import`; then, in ONE write
//! transaction, every row is checked against the organisation (seats for the whole file, people
//! already present, employee numbers in use, unknown groups or sites, spaces that exist) and only
//! if no row failed is anything written — invitations with their e-mails, profiles, group
//! memberships, spaces, and their audit events — and committed. A rejected file comes back with
//! every bad line; nothing was written.

use std::collections::{HashMap, HashSet};

use latchkey_domain::directory::{Space, parse_kind, parse_labels};
use latchkey_domain::identity::Role;
use latchkey_domain::import::{ImportRejected, RowErrors, parse_people_csv, parse_spaces_csv};
use latchkey_domain::{AccountId, DomainError, GroupId, OrgId, SiteId, SpaceId};
use latchkey_store::repo::{
    AccountRepo, GroupRepo, MemberProfile, MemberProfileRepo, MembershipRepo, OrganisationRepo,
    SiteRepo, SpaceRepo,
};
use serde_json::json;

use super::{Change, audit_change, require_active_org, snapshot};
use crate::app::{Actor, App, ServiceError};
use crate::identity::invitations::Invitee;
use crate::identity::principal::{Need, Principal};

/// The kind given to spaces created only because a row's path passes through them.
pub const INTERMEDIATE_KIND: &str = "area";

/// What an accepted import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Rows imported.
    pub rows: usize,
    /// People invited (account ids, in file order).
    pub invited: Vec<AccountId>,
    /// Spaces created (including intermediate levels), in creation order.
    pub spaces_created: Vec<SpaceId>,
}

/// An import's outcome: done, or refused with its row errors (nothing written).
pub type ImportOutcome = Result<ImportReport, ImportRejected>;

impl App {
    /// Imports people from a CSV file: each row is invited (an e-mail with a one-time link),
    /// with their employee number, labels and groups. Seats are enforced for the whole file.
    pub async fn import_people(
        &self,
        principal: &Principal,
        actor: &Actor,
        org_id: OrgId,
        file: &[u8],
    ) -> Result<ImportOutcome, ServiceError> {
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        principal
            .require_member(&mut tx, org_id, Need::ADMIN_WRITE)
            .await?;
        let rows = match parse_people_csv(file) {
            Ok(rows) => rows,
            Err(rejected) => return Ok(Err(rejected)),
        };
        // The seat lock first: the count and every insert below happen under it.
        tx.lock_seats(org_id).await?;
        require_active_org(&mut tx, org_id).await?;
        let org = tx
            .organisation(org_id)
            .await?
            .ok_or_else(|| DomainError::not_found("organisation"))?;
        let free = org
            .contract
            .seat_limit
            .saturating_sub(tx.seats_in_use(org_id, self.clock.now_ms()).await?);
        if i64::try_from(rows.len()).unwrap_or(i64::MAX) > free {
            let mut errors = RowErrors::default();
            errors.push(
                1,
                None,
                format!(
                    "the file invites {} people but only {} of the contract's {} seats are free; \
                     remove rows, free seats, or ask the operator to raise the limit",
                    rows.len(),
                    free.max(0),
                    org.contract.seat_limit,
                ),
            );
            return Ok(errors.into_result(ImportReport::default()));
        }
        let groups_by_name: HashMap<String, GroupId> = tx
            .groups(org_id)
            .await?
            .into_iter()
            .map(|g| (g.name.to_lowercase(), g.id))
            .collect();
        let numbers_in_use: HashSet<String> = tx
            .member_profiles(org_id)
            .await?
            .into_values()
            .filter_map(|p| p.employee_number)
            .collect();

        // Check every row before writing anything.
        let mut errors = RowErrors::default();
        let mut checked = Vec::with_capacity(rows.len());
        for row in rows {
            let existing = tx.account_by_email_for_update(&row.email).await?;
            if let Some(account) = &existing
                && tx.membership(org_id, account.id).await?.is_some()
            {
                errors.push(
                    row.line,
                    Some("email"),
                    format!(
                        "{} is already invited to or a member of the organisation",
                        row.email
                    ),
                );
            }
            if let Some(number) = &row.employee_number
                && numbers_in_use.contains(number)
            {
                errors.push(
                    row.line,
                    Some("employee_number"),
                    format!("employee number {number} is already used by a member"),
                );
            }
            let labels = match parse_labels(&row.labels) {
                Ok(labels) => labels,
                Err(e) => {
                    errors.push_domain(row.line, "labels", &e);
                    Vec::new()
                }
            };
            let mut groups = Vec::new();
            for name in &row.groups {
                match groups_by_name.get(&name.to_lowercase()) {
                    Some(id) => groups.push(*id),
                    None => errors.push(
                        row.line,
                        Some("groups"),
                        format!("no group is named {name:?}; create it first"),
                    ),
                }
            }
            checked.push((row, existing, labels, groups));
        }
        if !errors.is_empty() {
            return Ok(errors.into_result(ImportReport::default()));
        }

        // Write.
        let mut invited = Vec::with_capacity(checked.len());
        let mut joins: HashMap<GroupId, Vec<AccountId>> = HashMap::new();
        for (row, existing, labels, groups) in checked {
            let role = if row.role == Role::OrgAdmin {
                Role::OrgAdmin
            } else {
                Role::Member
            };
            let sent = self
                .invite_in_tx(
                    &mut tx,
                    actor,
                    &org,
                    existing,
                    Invitee {
                        email: row.email,
                        name: row.display_name,
                        role,
                    },
                    now_ms,
                )
                .await?;
            if row.employee_number.is_some() || !labels.is_empty() {
                let profile = MemberProfile {
                    display_name: None,
                    employee_number: row.employee_number,
                    labels,
                };
                tx.set_member_profile(org_id, sent.account_id, &profile)
                    .await?;
            }
            for group in groups {
                joins.entry(group).or_default().push(sent.account_id);
            }
            invited.push(sent.account_id);
        }
        for (group_id, accounts) in joins {
            let Some(before) = tx.group(org_id, group_id).await? else {
                continue;
            };
            let mut after = before.clone();
            for account in accounts {
                if !after.members.contains(&account) {
                    after.members.push(account);
                }
            }
            after.members.sort();
            after.version = tx.update_group(org_id, &after).await?;
            audit_change(
                &mut tx,
                actor,
                org_id,
                now_ms,
                Change {
                    change: "group_members_imported",
                    target: format!("group:{group_id}"),
                    before: snapshot(&before),
                    after: snapshot(&after),
                },
            )
            .await?;
        }
        audit_change(
            &mut tx,
            actor,
            org_id,
            now_ms,
            Change {
                change: "people_imported",
                target: format!("org:{org_id}"),
                before: serde_json::Value::Null,
                after: json!({ "rows": invited.len(), "accounts": invited }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(ImportReport {
            rows: invited.len(),
            invited,
            spaces_created: Vec::new(),
        }))
    }

    /// Imports spaces from a CSV file: each row's path is created under its site, with the
    /// levels it passes through (kind `area`) where they do not exist yet. A row naming a space
    /// that already exists is refused (nothing is changed silently).
    pub async fn import_spaces(
        &self,
        principal: &Principal,
        actor: &Actor,
        org_id: OrgId,
        file: &[u8],
    ) -> Result<ImportOutcome, ServiceError> {
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        principal
            .require_member(&mut tx, org_id, Need::ADMIN_WRITE)
            .await?;
        let rows = match parse_spaces_csv(file) {
            Ok(rows) => rows,
            Err(rejected) => return Ok(Err(rejected)),
        };
        require_active_org(&mut tx, org_id).await?;
        let mut sites_by_name: HashMap<String, Vec<SiteId>> = HashMap::new();
        for site in tx.sites(org_id).await? {
            sites_by_name
                .entry(site.name.to_lowercase())
                .or_default()
                .push(site.id);
        }
        // (site, parent, lower-cased name) → spaces with that name under that parent.
        let mut children: HashMap<(SiteId, Option<SpaceId>, String), Vec<SpaceId>> = HashMap::new();
        for space in tx.spaces(org_id).await? {
            children
                .entry((space.site_id, space.parent_id, space.name.to_lowercase()))
                .or_default()
                .push(space.id);
        }

        // Check every row and plan the spaces to create, before writing anything.
        let mut errors = RowErrors::default();
        let mut planned: Vec<Space> = Vec::new();
        // Planned spaces by key, to give an intermediate level its own row's kind and labels
        // when that row comes later in the file.
        let mut planned_at: HashMap<(SiteId, Option<SpaceId>, String), usize> = HashMap::new();
        for row in &rows {
            let site = match sites_by_name
                .get(&row.site.to_lowercase())
                .map(Vec::as_slice)
            {
                Some([site]) => *site,
                Some(_) => {
                    errors.push(
                        row.line,
                        Some("site"),
                        format!("several sites are named {:?}; rename one first", row.site),
                    );
                    continue;
                }
                None => {
                    errors.push(
                        row.line,
                        Some("site"),
                        format!("no site is named {:?}; create it first", row.site),
                    );
                    continue;
                }
            };
            let kind = if row.kind.is_empty() {
                INTERMEDIATE_KIND.to_owned()
            } else {
                match parse_kind(&row.kind) {
                    Ok(kind) => kind,
                    Err(e) => {
                        errors.push_domain(row.line, "kind", &e);
                        continue;
                    }
                }
            };
            let labels = match parse_labels(&row.labels) {
                Ok(labels) => labels,
                Err(e) => {
                    errors.push_domain(row.line, "labels", &e);
                    continue;
                }
            };
            let mut parent: Option<SpaceId> = None;
            let last = row.path.len().saturating_sub(1);
            for (depth, name) in row.path.iter().enumerate() {
                let key = (site, parent, name.to_lowercase());
                let found = children.get(&key).map(Vec::as_slice);
                let leaf = depth == last;
                match found {
                    Some([_]) if leaf => {
                        match planned_at.get(&key).and_then(|i| planned.get_mut(*i)) {
                            Some(space) => {
                                space.kind = kind.clone();
                                space.labels = labels.clone();
                            }
                            None => errors.push(
                                row.line,
                                Some("path"),
                                "this space already exists; the import only creates new spaces",
                            ),
                        }
                        break;
                    }
                    Some([one]) => parent = Some(*one),
                    Some(_) => {
                        errors.push(
                            row.line,
                            Some("path"),
                            format!(
                                "several spaces are named {name:?} at this level; rename one first"
                            ),
                        );
                        break;
                    }
                    None => {
                        let space = Space {
                            id: SpaceId::generate(),
                            site_id: site,
                            parent_id: parent,
                            name: name.clone(),
                            kind: if leaf {
                                kind.clone()
                            } else {
                                INTERMEDIATE_KIND.to_owned()
                            },
                            labels: if leaf { labels.clone() } else { Vec::new() },
                            created_at_ms: now_ms,
                            version: 1,
                        };
                        parent = Some(space.id);
                        children.insert(key.clone(), vec![space.id]);
                        planned_at.insert(key, planned.len());
                        planned.push(space);
                    }
                }
            }
        }
        if !errors.is_empty() {
            return Ok(errors.into_result(ImportReport::default()));
        }

        // Write, parents first (the plan is in creation order).
        let mut created = Vec::with_capacity(planned.len());
        for space in &planned {
            tx.insert_space(org_id, space).await?;
            audit_change(
                &mut tx,
                actor,
                org_id,
                now_ms,
                Change {
                    change: "space_imported",
                    target: format!("space:{}", space.id),
                    before: serde_json::Value::Null,
                    after: snapshot(space),
                },
            )
            .await?;
            created.push(space.id);
        }
        tx.commit().await?;
        Ok(Ok(ImportReport {
            rows: rows.len(),
            invited: Vec::new(),
            spaces_created: created,
        }))
    }
}
