//! Grants (tenant rows), and the snapshot of one organisation that the access decision core
//! loads: people, groups, sites, spaces, locks, device groups and grants, read in one
//! transaction so the snapshot is consistent, with the organisation's access version (bumped by
//! triggers on every table the snapshot reads, see migration 0008).

use std::collections::BTreeMap;
use std::future::Future;

use latchkey_domain::access::{
    Delegation, GrantSpec, LockSpec, PersonSpec, Rights, ScheduleSpec, SiteSpec, SpaceSpec,
    Subject, Target,
};
use latchkey_domain::{AccountId, DeviceGroupId, DeviceId, GrantId, GroupId, TenantId};

use crate::db::Tx;
use crate::error::{Result, StoreError};
use crate::sql::{Row, args};

/// A grant as stored: the decision core's spec plus who made it, when, and its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRecord {
    /// What the decision core evaluates (its `revoked` mirrors `revoked_at_ms`).
    pub spec: GrantSpec,
    /// The schedule as the caller wrote it (the spec holds the validated form of the same).
    pub schedule: ScheduleSpec,
    /// A free note ("contractor for the lobby works").
    pub note: Option<String>,
    /// Who made it (an account, or `api_token:<id>`-style actor text is not used: always a person).
    pub created_by: AccountId,
    /// When, epoch ms UTC.
    pub created_at_ms: i64,
    /// When it was revoked, if it was.
    pub revoked_at_ms: Option<i64>,
    /// Who revoked it (for a cascade: the person who revoked the ancestor).
    pub revoked_by: Option<AccountId>,
    /// Optimistic-concurrency version.
    pub version: i64,
}

/// Filters for listing grants (the access review). Empty filters match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantFilter {
    /// Only grants for this subject (a person's own grants; not those through their groups).
    pub subject: Option<Subject>,
    /// Only grants on this target.
    pub target: Option<Target>,
    /// `Some(true)`: only derived grants; `Some(false)`: only grants made by admins.
    pub delegated: Option<bool>,
    /// Include revoked grants.
    pub include_revoked: bool,
    /// Only grants whose validity ends before this instant (expiring soon), and not yet ended at
    /// `now_ms`.
    pub ending_before_ms: Option<i64>,
    /// The instant "not yet ended" is measured at, with `ending_before_ms`.
    pub now_ms: i64,
    /// Page: grants with an id after this one (ids are time-ordered).
    pub after: Option<GrantId>,
    /// Page size.
    pub limit: i64,
}

/// Everything the decision core needs about one organisation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessSnapshot {
    /// The organisation's access version when the snapshot was read.
    pub version: i64,
    /// Every member (invited and disabled ones are not enabled).
    pub people: Vec<PersonSpec>,
    /// Every group with its members.
    pub groups: Vec<(GroupId, Vec<AccountId>)>,
    /// Every site with its time zone and holidays.
    pub sites: Vec<SiteSpec>,
    /// Every space.
    pub spaces: Vec<SpaceSpec>,
    /// Every lock placed in a space (unplaced locks and hubs open nothing, so they are left out).
    pub locks: Vec<LockSpec>,
    /// Every device group.
    pub device_groups: Vec<DeviceGroupId>,
    /// Every grant, revoked ones included (derived grants may name them as parents).
    pub grants: Vec<GrantSpec>,
}

/// Grant storage; every call is scoped to one tenant.
pub trait GrantRepo {
    /// Adds a grant.
    fn insert_grant(
        &mut self,
        tenant: TenantId,
        grant: &GrantRecord,
    ) -> impl Future<Output = Result<()>> + Send;
    /// One grant of the tenant, or `None` (also when it belongs to another tenant).
    fn grant(
        &mut self,
        tenant: TenantId,
        id: GrantId,
    ) -> impl Future<Output = Result<Option<GrantRecord>>> + Send;
    /// Grants matching the filter, oldest first, at most `filter.limit` (1–1 000).
    fn grants(
        &mut self,
        tenant: TenantId,
        filter: &GrantFilter,
    ) -> impl Future<Output = Result<Vec<GrantRecord>>> + Send;
    /// How many grants match the filter, ignoring its page (`after`, `limit`).
    fn count_grants(
        &mut self,
        tenant: TenantId,
        filter: &GrantFilter,
    ) -> impl Future<Output = Result<i64>> + Send;
    /// Marks the given grants revoked (those not revoked yet); returns how many changed.
    fn revoke_grants(
        &mut self,
        tenant: TenantId,
        ids: &[GrantId],
        by: AccountId,
        now_ms: i64,
    ) -> impl Future<Output = Result<u64>> + Send;
    /// The tenant's access version (0 before its first change).
    fn access_version(&mut self, tenant: TenantId) -> impl Future<Output = Result<i64>> + Send;
    /// Reads the whole snapshot the decision core loads.
    fn access_snapshot(
        &mut self,
        tenant: TenantId,
    ) -> impl Future<Output = Result<AccessSnapshot>> + Send;
}

const COLUMNS: &str = "id, subject_kind, subject_id, target_kind, target_id, rights, schedule, \
                       uses, parent_id, shared_by, reshare_depth, max_share_duration_ms, note, \
                       created_by, created_at_ms, revoked_at_ms, revoked_by, version";

fn corrupt(what: &str, value: impl std::fmt::Debug) -> StoreError {
    StoreError::Corrupt(format!("grant {what} {value:?}"))
}

/// The stored names of a subject: kind and id.
pub fn subject_columns(subject: Subject) -> (&'static str, String) {
    match subject {
        Subject::Person(id) => ("person", id.to_string()),
        Subject::Group(id) => ("group", id.to_string()),
    }
}

/// The stored names of a target: kind and id.
pub fn target_columns(target: Target) -> (&'static str, String) {
    match target {
        Target::Lock(id) => ("lock", id.to_string()),
        Target::Space(id) => ("space", id.to_string()),
        Target::DeviceGroup(id) => ("device_group", id.to_string()),
    }
}

fn decode(row: &Row) -> Result<GrantRecord> {
    let subject_id = row.text("subject_id")?;
    let subject = match row.text("subject_kind")?.as_str() {
        "person" => subject_id.parse().map(Subject::Person),
        "group" => subject_id.parse().map(Subject::Group),
        other => return Err(corrupt("subject kind", other)),
    }
    .map_err(|_| corrupt("subject", &subject_id))?;
    let target_id = row.text("target_id")?;
    let target = match row.text("target_kind")?.as_str() {
        "lock" => target_id.parse().map(Target::Lock),
        "space" => target_id.parse().map(Target::Space),
        "device_group" => target_id.parse().map(Target::DeviceGroup),
        other => return Err(corrupt("target kind", other)),
    }
    .map_err(|_| corrupt("target", &target_id))?;
    let rights_text = row.text("rights")?;
    let rights = rights_text
        .split(',')
        .filter(|name| !name.is_empty())
        .try_fold(Rights::NONE, |all, name| {
            Rights::parse_one(name).map(|one| all | one)
        })
        .ok_or_else(|| corrupt("rights", &rights_text))?;
    let schedule_text = row.text("schedule")?;
    let schedule_spec: ScheduleSpec =
        serde_json::from_str(&schedule_text).map_err(|e| corrupt("schedule", e.to_string()))?;
    let schedule = latchkey_domain::access::Schedule::new(schedule_spec.clone())
        .map_err(|e| corrupt("schedule", e.to_string()))?;
    let delegation = match (row.opt_id("parent_id")?, row.opt_id("shared_by")?) {
        (Some(parent), Some(shared_by)) => Some(Delegation { parent, shared_by }),
        (None, None) => None,
        _ => return Err(corrupt("delegation", row.opt_text("parent_id")?)),
    };
    let revoked_at_ms = row.opt_int("revoked_at_ms")?;
    let spec = GrantSpec {
        id: row.id("id")?,
        subject,
        target,
        rights,
        schedule,
        uses: u32::try_from(row.int("uses")?).map_err(|_| corrupt("uses", "out of range"))?,
        delegation,
        reshare_depth: u8::try_from(row.int("reshare_depth")?)
            .map_err(|_| corrupt("reshare_depth", "out of range"))?,
        max_share_duration_ms: row.opt_int("max_share_duration_ms")?,
        revoked: revoked_at_ms.is_some(),
    };
    Ok(GrantRecord {
        spec,
        schedule: schedule_spec,
        note: row.opt_text("note")?,
        created_by: row.id("created_by")?,
        created_at_ms: row.int("created_at_ms")?,
        revoked_at_ms,
        revoked_by: row.opt_id("revoked_by")?,
        version: row.int("version")?,
    })
}

/// `select` with the filter's WHERE clause and its parameters.
fn filtered(select: &str, tenant: TenantId, f: &GrantFilter) -> (String, Vec<crate::sql::Value>) {
    let mut sql = format!("{select} WHERE tenant_id = $1");
    let mut values = args![tenant.to_string()];
    let mut bind = |sql: &mut String, clause: &str, value: crate::sql::Value| {
        values.push(value);
        sql.push_str(&clause.replace('?', &format!("${}", values.len())));
    };
    if let Some(subject) = f.subject {
        let (kind, id) = subject_columns(subject);
        bind(&mut sql, " AND subject_kind = ?", kind.into());
        bind(&mut sql, " AND subject_id = ?", id.into());
    }
    if let Some(target) = f.target {
        let (kind, id) = target_columns(target);
        bind(&mut sql, " AND target_kind = ?", kind.into());
        bind(&mut sql, " AND target_id = ?", id.into());
    }
    match f.delegated {
        Some(true) => sql.push_str(" AND parent_id IS NOT NULL"),
        Some(false) => sql.push_str(" AND parent_id IS NULL"),
        None => {}
    }
    if !f.include_revoked {
        sql.push_str(" AND revoked_at_ms IS NULL");
    }
    if let Some(before) = f.ending_before_ms {
        bind(&mut sql, " AND valid_until_ms > ?", f.now_ms.into());
        bind(&mut sql, " AND valid_until_ms <= ?", before.into());
    }
    if let Some(after) = f.after {
        bind(&mut sql, " AND id > ?", after.to_string().into());
    }
    (sql, values)
}

fn rights_text(rights: Rights) -> String {
    rights.names().join(",")
}

impl GrantRepo for Tx {
    async fn insert_grant(&mut self, tenant: TenantId, g: &GrantRecord) -> Result<()> {
        self.enter(&tenant.to_string()).await?;
        let (subject_kind, subject_id) = subject_columns(g.spec.subject);
        let (target_kind, target_id) = target_columns(g.spec.target);
        let schedule = serde_json::to_string(&g.schedule)
            .map_err(|e| StoreError::Corrupt(format!("schedule does not serialise: {e}")))?;
        self.inner
            .execute(
                "INSERT INTO grants (tenant_id, id, subject_kind, subject_id, target_kind, \
                 target_id, rights, schedule, uses, parent_id, shared_by, reshare_depth, \
                 max_share_duration_ms, note, created_by, created_at_ms, revoked_at_ms, \
                 revoked_by, version, valid_until_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
                 $17, $18, $19, $20)",
                args![
                    tenant.to_string(),
                    g.spec.id.to_string(),
                    subject_kind,
                    subject_id,
                    target_kind,
                    target_id,
                    rights_text(g.spec.rights),
                    schedule,
                    i64::from(g.spec.uses),
                    g.spec.delegation.map(|d| d.parent.to_string()),
                    g.spec.delegation.map(|d| d.shared_by.to_string()),
                    i64::from(g.spec.reshare_depth),
                    g.spec.max_share_duration_ms,
                    g.note.clone(),
                    g.created_by.to_string(),
                    g.created_at_ms,
                    g.revoked_at_ms,
                    g.revoked_by.map(|a| a.to_string()),
                    g.version,
                    g.schedule.valid_until_ms
                ],
            )
            .await?;
        Ok(())
    }

    async fn grant(&mut self, tenant: TenantId, id: GrantId) -> Result<Option<GrantRecord>> {
        self.enter(&tenant.to_string()).await?;
        let sql = format!("SELECT {COLUMNS} FROM grants WHERE tenant_id = $1 AND id = $2");
        let row = self
            .inner
            .fetch_optional(&sql, args![tenant.to_string(), id.to_string()])
            .await?;
        row.map(|r| decode(&r)).transpose()
    }

    async fn grants(&mut self, tenant: TenantId, f: &GrantFilter) -> Result<Vec<GrantRecord>> {
        self.enter(&tenant.to_string()).await?;
        let (mut sql, mut values) = filtered(&format!("SELECT {COLUMNS} FROM grants"), tenant, f);
        values.push(f.limit.clamp(1, 1_000).into());
        sql.push_str(&format!(" ORDER BY id LIMIT ${}", values.len()));
        self.inner
            .fetch_all(&sql, values)
            .await?
            .iter()
            .map(decode)
            .collect()
    }

    async fn count_grants(&mut self, tenant: TenantId, f: &GrantFilter) -> Result<i64> {
        self.enter(&tenant.to_string()).await?;
        let unpaged = GrantFilter {
            after: None,
            ..f.clone()
        };
        let (sql, values) = filtered("SELECT COUNT(*) AS n FROM grants", tenant, &unpaged);
        let row = self.inner.fetch_optional(&sql, values).await?;
        row.map_or(Ok(0), |r| r.int("n"))
    }

    async fn revoke_grants(
        &mut self,
        tenant: TenantId,
        ids: &[GrantId],
        by: AccountId,
        now_ms: i64,
    ) -> Result<u64> {
        self.enter(&tenant.to_string()).await?;
        let mut changed = 0;
        for id in ids {
            changed += self
                .inner
                .execute(
                    "UPDATE grants SET revoked_at_ms = $1, revoked_by = $2, version = version + 1 \
                     WHERE tenant_id = $3 AND id = $4 AND revoked_at_ms IS NULL",
                    args![now_ms, by.to_string(), tenant.to_string(), id.to_string()],
                )
                .await?;
        }
        Ok(changed)
    }

    async fn access_version(&mut self, tenant: TenantId) -> Result<i64> {
        self.enter(&tenant.to_string()).await?;
        let row = self
            .inner
            .fetch_optional(
                "SELECT version FROM access_versions WHERE tenant_id = $1",
                args![tenant.to_string()],
            )
            .await?;
        row.map_or(Ok(0), |r| r.int("version"))
    }

    async fn access_snapshot(&mut self, tenant: TenantId) -> Result<AccessSnapshot> {
        let t = tenant.to_string();
        let version = self.access_version(tenant).await?;
        let people = self
            .inner
            .fetch_all(
                "SELECT account_id, status, expires_at_ms FROM memberships WHERE tenant_id = $1",
                args![t.as_str()],
            )
            .await?
            .iter()
            .map(|r| {
                Ok(PersonSpec {
                    id: r.id("account_id")?,
                    enabled: r.text("status")? == "active",
                    expires_at_ms: r.opt_int("expires_at_ms")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let mut groups: BTreeMap<GroupId, Vec<AccountId>> = BTreeMap::new();
        for r in self
            .inner
            .fetch_all(
                "SELECT id FROM people_groups WHERE tenant_id = $1",
                args![t.as_str()],
            )
            .await?
        {
            groups.insert(r.id("id")?, Vec::new());
        }
        for r in self
            .inner
            .fetch_all(
                "SELECT group_id, account_id FROM group_members WHERE tenant_id = $1",
                args![t.as_str()],
            )
            .await?
        {
            if let Some(members) = groups.get_mut(&r.id("group_id")?) {
                members.push(r.id("account_id")?);
            }
        }
        let mut sites: BTreeMap<latchkey_domain::SiteId, SiteSpec> = BTreeMap::new();
        for r in self
            .inner
            .fetch_all(
                "SELECT id, time_zone FROM sites WHERE tenant_id = $1",
                args![t.as_str()],
            )
            .await?
        {
            let id = r.id("id")?;
            sites.insert(
                id,
                SiteSpec {
                    id,
                    time_zone: r.text("time_zone")?,
                    holidays: Vec::new(),
                },
            );
        }
        for r in self
            .inner
            .fetch_all(
                "SELECT site_id, day FROM site_holidays WHERE tenant_id = $1",
                args![t.as_str()],
            )
            .await?
        {
            let day = r.text("day")?;
            let date = day.parse().map_err(|_| corrupt("holiday", &day))?;
            if let Some(site) = sites.get_mut(&r.id("site_id")?) {
                site.holidays.push(date);
            }
        }
        let spaces = self
            .inner
            .fetch_all(
                "SELECT id, site_id, parent_id FROM spaces WHERE tenant_id = $1",
                args![t.as_str()],
            )
            .await?
            .iter()
            .map(|r| {
                Ok(SpaceSpec {
                    id: r.id("id")?,
                    site: r.id("site_id")?,
                    parent: r.opt_id("parent_id")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let mut device_groups_of: BTreeMap<DeviceId, Vec<DeviceGroupId>> = BTreeMap::new();
        for r in self
            .inner
            .fetch_all(
                "SELECT device_group_id, device_id FROM device_group_members WHERE tenant_id = $1",
                args![t.as_str()],
            )
            .await?
        {
            device_groups_of
                .entry(r.id("device_id")?)
                .or_default()
                .push(r.id("device_group_id")?);
        }
        let locks = self
            .inner
            .fetch_all(
                "SELECT id, space_id, status FROM devices \
                 WHERE tenant_id = $1 AND kind = 'lock' AND space_id IS NOT NULL",
                args![t.as_str()],
            )
            .await?
            .iter()
            .map(|r| {
                let id: DeviceId = r.id("id")?;
                Ok(LockSpec {
                    id,
                    space: r.id("space_id")?,
                    enabled: r.text("status")? == "enabled",
                    device_groups: device_groups_of.remove(&id).unwrap_or_default(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let device_groups = self
            .inner
            .fetch_all(
                "SELECT id FROM device_groups WHERE tenant_id = $1",
                args![t.as_str()],
            )
            .await?
            .iter()
            .map(|r| r.id("id"))
            .collect::<Result<Vec<_>>>()?;
        let sql = format!("SELECT {COLUMNS} FROM grants WHERE tenant_id = $1 ORDER BY id");
        let grants = self
            .inner
            .fetch_all(&sql, args![t.as_str()])
            .await?
            .iter()
            .map(|r| decode(r).map(|g| g.spec))
            .collect::<Result<Vec<_>>>()?;
        Ok(AccessSnapshot {
            version,
            people,
            groups: groups.into_iter().collect(),
            sites: sites.into_values().collect(),
            spaces,
            locks,
            device_groups,
            grants,
        })
    }
}
