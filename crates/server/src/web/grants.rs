//! Grants, sharing, the access review and the explanation endpoints ("who can open door D at T,
//! and why", "what can P open", one decision, access windows, the removal preview).
//!
//! Authorization lives in the services (`access/`); handlers translate between the API's shapes
//! (RFC 3339 times, `_secs` durations, `{kind, id}` references) and the decision core's.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use latchkey_domain::access::{
    DayWindow, Decision, Denial, GrantRefusal, Interval, NearMiss, OpenDate, Reason, Removal,
    Rights, ScheduleSpec, Subject, SubjectPath, Target, TargetPath, WallTime, Weekdays,
    WeeklyWindow,
};
use latchkey_domain::time::rfc3339_utc;
use latchkey_domain::{AccountId, DeviceId, DomainError, GrantId};
use latchkey_store::repo::{GrantFilter, GrantRecord};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::access::grants::{DelegationNode, NewGrant, NewShare};
use crate::directory::spaces::body_id;
use crate::web::WebState;
use crate::web::directory::{org_id, path_id};
use crate::web::problem::{ApiError, Problem};
use crate::web::session::ApiCaller;

/// This module's part of the OpenAPI document (merged in `api.rs`).
#[derive(OpenApi)]
#[openapi(
    paths(create_grant, list_grants, show_grant, share_grant, revoke_grant, bulk_revoke,
        delegation_tree, who_can_open, what_can_open, decision, access_windows, preview),
    components(schemas(GrantBody, NewGrantBody, NewShareBody, GrantsBody, RefBody, ScheduleBody,
        WeeklyWindowBody, DayWindowBody, OpenDateBody, BookingBody, RevokedBody, BulkRevokeBody,
        DelegationNodeBody, WhoCanOpenBody, PersonAccessBody, WhatCanOpenBody, LockAccessBody,
        ReasonBody, PathBody, DecisionBody, NearMissBody, WindowsBody, IntervalBody, PreviewBody,
        ImpactBody, PairBody)),
    tags((name = "access", description = "Grants, sharing, the access review and explanations"))
)]
pub struct Doc;

/// This module's routes.
pub(crate) fn routes() -> Router<WebState> {
    Router::new()
        .route(
            "/api/v1/orgs/{org}/grants",
            get(list_grants).post(create_grant),
        )
        .route(
            "/api/v1/orgs/{org}/grants/bulk-revocation",
            post(bulk_revoke),
        )
        .route("/api/v1/orgs/{org}/grants/{grant}", get(show_grant))
        .route(
            "/api/v1/orgs/{org}/grants/{grant}/shares",
            post(share_grant),
        )
        .route(
            "/api/v1/orgs/{org}/grants/{grant}/revocation",
            post(revoke_grant),
        )
        .route(
            "/api/v1/orgs/{org}/grants/{grant}/delegations",
            get(delegation_tree),
        )
        .route(
            "/api/v1/orgs/{org}/locks/{lock}/who-can-open",
            get(who_can_open),
        )
        .route(
            "/api/v1/orgs/{org}/members/{account}/what-can-open",
            get(what_can_open),
        )
        .route(
            "/api/v1/orgs/{org}/members/{account}/access-windows",
            get(access_windows),
        )
        .route("/api/v1/orgs/{org}/access/decision", get(decision))
        .route("/api/v1/orgs/{org}/access/preview", post(preview))
}

// ---------------------------------------------------------------------------------------------
// Parsing

fn grant_id(raw: &str) -> Result<GrantId, DomainError> {
    path_id(raw, "grant")
}

fn lock_id(raw: &str) -> Result<DeviceId, DomainError> {
    path_id(raw, "lock")
}

fn account_id(raw: &str) -> Result<AccountId, DomainError> {
    path_id(raw, "person")
}

/// An RFC 3339 instant (`2026-11-29T09:00:00Z`, any offset) as epoch ms.
fn instant(field: &'static str, raw: &str) -> Result<i64, DomainError> {
    raw.trim()
        .parse::<jiff::Timestamp>()
        .map(|t| t.as_millisecond())
        .map_err(|_| {
            DomainError::invalid(
                field,
                format!("{field} must be an RFC 3339 time such as 2026-11-29T09:00:00Z"),
            )
        })
}

fn date(field: &'static str, raw: &str) -> Result<jiff::civil::Date, DomainError> {
    raw.trim().parse().map_err(|_| {
        DomainError::invalid(field, format!("{field} must be a date such as 2026-12-24"))
    })
}

fn wall_time(field: &'static str, raw: &str) -> Result<WallTime, DomainError> {
    raw.trim().parse().map_err(|_| {
        DomainError::invalid(
            field,
            format!("{field} must be a local time such as 09:00 (or 24:00 as an end)"),
        )
    })
}

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn weekdays(names: &[String]) -> Result<Weekdays, DomainError> {
    let mut days = Weekdays::NONE;
    for name in names {
        let lower = name.trim().to_ascii_lowercase();
        let index = DAY_NAMES
            .iter()
            .position(|d| lower.starts_with(d))
            .and_then(|i| u8::try_from(i).ok())
            .ok_or_else(|| {
                DomainError::invalid(
                    "weekly.days",
                    format!("unknown weekday {name:?}: use mon, tue, wed, thu, fri, sat, sun"),
                )
            })?;
        days = days.with(Weekdays::day(index));
    }
    if days.is_empty() {
        return Err(DomainError::invalid(
            "weekly.days",
            "name at least one weekday for each weekly window",
        ));
    }
    Ok(days)
}

fn rights(names: &[String]) -> Result<Rights, DomainError> {
    names.iter().try_fold(Rights::NONE, |all, name| {
        Rights::parse_one(name.trim())
            .map(|one| all | one)
            .ok_or_else(|| {
                DomainError::invalid(
                    "rights",
                    format!("unknown right {name:?}: use unlock, share or manage"),
                )
            })
    })
}

/// Seconds to ms, refusing negatives and overflow.
fn secs_to_ms(field: &'static str, secs: Option<i64>) -> Result<Option<i64>, DomainError> {
    secs.map(|s| {
        s.checked_mul(1000).filter(|ms| *ms > 0).ok_or_else(|| {
            DomainError::invalid(
                field,
                format!("{field} must be a positive number of seconds"),
            )
        })
    })
    .transpose()
}

// ---------------------------------------------------------------------------------------------
// Shapes

/// A reference to a subject (`person`, `group`) or a target (`lock`, `space`, `device_group`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefBody {
    /// `person` or `group` for subjects; `lock`, `space` or `device_group` for targets.
    pub kind: String,
    /// The object's id.
    pub id: String,
}

impl RefBody {
    fn subject(&self) -> Result<Subject, DomainError> {
        match self.kind.as_str() {
            "person" => Ok(Subject::Person(body_id("subject.id", &self.id)?)),
            "group" => Ok(Subject::Group(body_id("subject.id", &self.id)?)),
            _ => Err(DomainError::invalid(
                "subject.kind",
                "subject.kind must be person or group",
            )),
        }
    }

    fn target(&self) -> Result<Target, DomainError> {
        match self.kind.as_str() {
            "lock" => Ok(Target::Lock(body_id("target.id", &self.id)?)),
            "space" => Ok(Target::Space(body_id("target.id", &self.id)?)),
            "device_group" => Ok(Target::DeviceGroup(body_id("target.id", &self.id)?)),
            _ => Err(DomainError::invalid(
                "target.kind",
                "target.kind must be lock, space or device_group",
            )),
        }
    }

    fn of_subject(subject: Subject) -> Self {
        match subject {
            Subject::Person(id) => Self {
                kind: "person".into(),
                id: id.to_string(),
            },
            Subject::Group(id) => Self {
                kind: "group".into(),
                id: id.to_string(),
            },
        }
    }

    fn of_target(target: Target) -> Self {
        match target {
            Target::Lock(id) => Self {
                kind: "lock".into(),
                id: id.to_string(),
            },
            Target::Space(id) => Self {
                kind: "space".into(),
                id: id.to_string(),
            },
            Target::DeviceGroup(id) => Self {
                kind: "device_group".into(),
                id: id.to_string(),
            },
        }
    }
}

/// A recurring weekly window in the site's local time.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WeeklyWindowBody {
    /// Weekdays the window starts on: `mon` … `sun`.
    #[schema(example = json!(["mon", "tue", "wed", "thu", "fri"]))]
    pub days: Vec<String>,
    /// Local start, `HH:MM`.
    #[schema(example = "09:00")]
    pub start: String,
    /// Local end, `HH:MM` (`24:00` allowed); an end at or before the start runs past midnight.
    #[schema(example = "18:00")]
    pub end: String,
}

/// A window on one date.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DayWindowBody {
    /// Local start, `HH:MM`.
    pub start: String,
    /// Local end, `HH:MM`.
    pub end: String,
}

/// An extra open date with its own windows.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenDateBody {
    /// The site-local date, `YYYY-MM-DD`.
    pub date: String,
    /// Its windows.
    pub windows: Vec<DayWindowBody>,
}

/// A one-off booking.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookingBody {
    /// Start, RFC 3339.
    pub start: String,
    /// End, RFC 3339.
    pub end: String,
}

/// When a grant allows: validity, weekly windows in the site's local time, exceptions, bookings
/// and a use limit. See `docs/access-model.md` for the meaning on DST days.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleBody {
    /// First instant of validity, RFC 3339.
    #[schema(example = "2026-12-01T00:00:00Z")]
    pub valid_from: String,
    /// End of validity (exclusive), RFC 3339; absent = open-ended.
    #[serde(default)]
    pub valid_until: Option<String>,
    /// Recurring weekly windows.
    #[serde(default)]
    pub weekly: Vec<WeeklyWindowBody>,
    /// Site-local dates on which no weekly window starts, `YYYY-MM-DD`.
    #[serde(default)]
    pub closed_dates: Vec<String>,
    /// Also closed on the site's holidays.
    #[serde(default)]
    pub closed_on_holidays: bool,
    /// Extra open dates with their own windows.
    #[serde(default)]
    pub open_dates: Vec<OpenDateBody>,
    /// One-off bookings.
    #[serde(default)]
    pub bookings: Vec<BookingBody>,
    /// At most this many unlocks.
    #[serde(default)]
    pub max_uses: Option<u32>,
}

impl ScheduleBody {
    fn to_spec(&self) -> Result<ScheduleSpec, DomainError> {
        let mut spec = ScheduleSpec::starting(instant("schedule.valid_from", &self.valid_from)?);
        if let Some(until) = &self.valid_until {
            spec.valid_until_ms = Some(instant("schedule.valid_until", until)?);
        }
        for window in &self.weekly {
            spec.weekly.push(WeeklyWindow {
                days: weekdays(&window.days)?,
                start: wall_time("weekly.start", &window.start)?,
                end: wall_time("weekly.end", &window.end)?,
            });
        }
        for day in &self.closed_dates {
            spec.closed_dates.push(date("closed_dates", day)?);
        }
        spec.closed_on_holidays = self.closed_on_holidays;
        for open in &self.open_dates {
            let windows = open
                .windows
                .iter()
                .map(|w| {
                    Ok(DayWindow {
                        start: wall_time("open_dates.windows.start", &w.start)?,
                        end: wall_time("open_dates.windows.end", &w.end)?,
                    })
                })
                .collect::<Result<Vec<_>, DomainError>>()?;
            spec.open_dates.push(OpenDate {
                date: date("open_dates.date", &open.date)?,
                windows,
            });
        }
        for booking in &self.bookings {
            spec.bookings.push(Interval::new(
                instant("bookings.start", &booking.start)?,
                instant("bookings.end", &booking.end)?,
            ));
        }
        spec.max_uses = self.max_uses;
        Ok(spec)
    }

    fn of_spec(spec: &ScheduleSpec) -> Self {
        let days = |d: Weekdays| {
            DAY_NAMES
                .iter()
                .enumerate()
                .filter(|(i, _)| d.contains(*i))
                .map(|(_, n)| (*n).to_owned())
                .collect()
        };
        Self {
            valid_from: rfc3339_utc(spec.valid_from_ms),
            valid_until: spec.valid_until_ms.map(rfc3339_utc),
            weekly: spec
                .weekly
                .iter()
                .map(|w| WeeklyWindowBody {
                    days: days(w.days),
                    start: w.start.to_string(),
                    end: w.end.to_string(),
                })
                .collect(),
            closed_dates: spec.closed_dates.iter().map(ToString::to_string).collect(),
            closed_on_holidays: spec.closed_on_holidays,
            open_dates: spec
                .open_dates
                .iter()
                .map(|o| OpenDateBody {
                    date: o.date.to_string(),
                    windows: o
                        .windows
                        .iter()
                        .map(|w| DayWindowBody {
                            start: w.start.to_string(),
                            end: w.end.to_string(),
                        })
                        .collect(),
                })
                .collect(),
            bookings: spec
                .bookings
                .iter()
                .map(|b| BookingBody {
                    start: rfc3339_utc(b.start_ms),
                    end: rfc3339_utc(b.end_ms),
                })
                .collect(),
            max_uses: spec.max_uses,
        }
    }
}

/// A grant.
#[derive(Debug, Serialize, ToSchema)]
pub struct GrantBody {
    /// Grant id.
    pub id: String,
    /// Who.
    pub subject: RefBody,
    /// Which locks.
    pub target: RefBody,
    /// What: `unlock`, `share`, `manage`.
    pub rights: Vec<String>,
    /// When.
    pub schedule: ScheduleBody,
    /// Uses counted so far.
    pub uses: u32,
    /// Further levels of sharing allowed.
    pub reshare_depth: u8,
    /// Longest validity of a grant shared from this one, seconds.
    pub max_share_duration_secs: Option<i64>,
    /// The grant this was shared from.
    pub parent_id: Option<String>,
    /// Who shared it.
    pub shared_by: Option<String>,
    /// A free note.
    pub note: Option<String>,
    /// Who made it.
    pub created_by: String,
    /// When, RFC 3339 UTC.
    pub created_at: String,
    /// When it was revoked.
    pub revoked_at: Option<String>,
    /// Who revoked it.
    pub revoked_by: Option<String>,
    /// Version.
    pub version: i64,
}

impl From<GrantRecord> for GrantBody {
    fn from(g: GrantRecord) -> Self {
        Self {
            id: g.spec.id.to_string(),
            subject: RefBody::of_subject(g.spec.subject),
            target: RefBody::of_target(g.spec.target),
            rights: g
                .spec
                .rights
                .names()
                .into_iter()
                .map(str::to_owned)
                .collect(),
            schedule: ScheduleBody::of_spec(&g.schedule),
            uses: g.spec.uses,
            reshare_depth: g.spec.reshare_depth,
            max_share_duration_secs: g.spec.max_share_duration_ms.map(|ms| ms / 1000),
            parent_id: g.spec.delegation.map(|d| d.parent.to_string()),
            shared_by: g.spec.delegation.map(|d| d.shared_by.to_string()),
            note: g.note,
            created_by: g.created_by.to_string(),
            created_at: rfc3339_utc(g.created_at_ms),
            revoked_at: g.revoked_at_ms.map(rfc3339_utc),
            revoked_by: g.revoked_by.map(|a| a.to_string()),
            version: g.version,
        }
    }
}

/// A grant to make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGrantBody {
    /// Who: `{"kind": "person" | "group", "id": …}`.
    pub subject: RefBody,
    /// Which locks: `{"kind": "lock" | "space" | "device_group", "id": …}`.
    pub target: RefBody,
    /// What: any of `unlock`, `share`, `manage`.
    pub rights: Vec<String>,
    /// When.
    pub schedule: ScheduleBody,
    /// Further levels of sharing holders may create (default 0: shares cannot be re-shared).
    #[serde(default)]
    pub reshare_depth: u8,
    /// Longest validity of a grant shared from this one, seconds.
    #[serde(default)]
    pub max_share_duration_secs: Option<i64>,
    /// A free note.
    #[serde(default)]
    pub note: Option<String>,
}

/// A grant to share from one the caller holds.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewShareBody {
    /// The member it is for.
    pub person_id: String,
    /// Which locks (within the parent's; default: the parent's).
    #[serde(default)]
    pub target: Option<RefBody>,
    /// What (within the parent's; default `unlock`).
    #[serde(default)]
    pub rights: Option<Vec<String>>,
    /// When (within the parent's).
    pub schedule: ScheduleBody,
    /// Further sharing allowed (below the parent's; default 0).
    #[serde(default)]
    pub reshare_depth: u8,
    /// A free note.
    #[serde(default)]
    pub note: Option<String>,
}

/// A page of grants.
#[derive(Debug, Serialize, ToSchema)]
pub struct GrantsBody {
    /// The grants.
    pub grants: Vec<GrantBody>,
    /// How many grants are on this page.
    pub count: usize,
    /// How many grants the filter matches in all pages.
    pub total: i64,
    /// Pass as `cursor` for the next page.
    pub next_cursor: Option<String>,
}

/// Grants revoked by one call (the grant and everything shared from it).
#[derive(Debug, Serialize, ToSchema)]
pub struct RevokedBody {
    /// The ids revoked, the named ones first.
    pub revoked: Vec<String>,
}

/// Grants to revoke at once.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkRevokeBody {
    /// Up to 1 000 grant ids.
    pub grant_ids: Vec<String>,
}

/// A grant and the grants shared from it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DelegationNodeBody {
    /// The grant.
    pub grant: GrantBody,
    /// Grants shared from it.
    #[schema(no_recursion)]
    pub children: Vec<DelegationNodeBody>,
}

impl From<DelegationNode> for DelegationNodeBody {
    fn from(node: DelegationNode) -> Self {
        Self {
            grant: node.grant.into(),
            children: node.children.into_iter().map(Into::into).collect(),
        }
    }
}

/// How a grant reaches a person (`direct`, `group`) or a lock (`lock`, `space`, `device_group`).
#[derive(Debug, Serialize, ToSchema)]
pub struct PathBody {
    /// The kind of path.
    pub kind: &'static str,
    /// The group, space or device group on the path.
    pub id: Option<String>,
}

/// One grant that allows, and how it reaches the pair.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReasonBody {
    /// The grant.
    pub grant_id: String,
    /// How the person is its subject.
    pub subject: PathBody,
    /// How its target reaches the lock.
    pub target: PathBody,
    /// The grant it was shared from, if any.
    pub delegated_from: Option<String>,
}

impl From<Reason> for ReasonBody {
    fn from(r: Reason) -> Self {
        Self {
            grant_id: r.grant.to_string(),
            subject: match r.subject {
                SubjectPath::Direct => PathBody {
                    kind: "direct",
                    id: None,
                },
                SubjectPath::Group(g) => PathBody {
                    kind: "group",
                    id: Some(g.to_string()),
                },
            },
            target: match r.target {
                TargetPath::Lock => PathBody {
                    kind: "lock",
                    id: None,
                },
                TargetPath::Space(s) => PathBody {
                    kind: "space",
                    id: Some(s.to_string()),
                },
                TargetPath::DeviceGroup(d) => PathBody {
                    kind: "device_group",
                    id: Some(d.to_string()),
                },
            },
            delegated_from: r.delegated_from.map(|g| g.to_string()),
        }
    }
}

/// A person who can open, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonAccessBody {
    /// The person.
    pub person_id: String,
    /// Every grant that lets them.
    pub because: Vec<ReasonBody>,
}

/// Who can open a lock at an instant.
#[derive(Debug, Serialize, ToSchema)]
pub struct WhoCanOpenBody {
    /// The lock.
    pub lock_id: String,
    /// The instant, RFC 3339 UTC.
    pub at: String,
    /// The people, with their reasons.
    pub people: Vec<PersonAccessBody>,
}

/// A lock a person can open, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct LockAccessBody {
    /// The lock.
    pub lock_id: String,
    /// Every grant that lets them.
    pub because: Vec<ReasonBody>,
}

/// What a person can open at an instant.
#[derive(Debug, Serialize, ToSchema)]
pub struct WhatCanOpenBody {
    /// The person.
    pub person_id: String,
    /// The instant.
    pub at: String,
    /// The locks, with reasons (cut to the caller's scope).
    pub locks: Vec<LockAccessBody>,
}

/// A grant that reaches the pair but does not allow at the instant.
#[derive(Debug, Serialize, ToSchema)]
pub struct NearMissBody {
    /// The grant and its path.
    pub path: ReasonBody,
    /// Why it does not allow: `outside_window`, `not_yet_valid`, `uses_exhausted`, `expired`,
    /// `revoked`, `scope`, `no_unlock_right`.
    pub refusal: String,
    /// The grant in its delegation chain that refused.
    pub refused_by: String,
}

/// One decision with its explanation.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionBody {
    /// `allowed` or `denied`.
    pub decision: &'static str,
    /// When denied: `unknown_person`, `unknown_lock`, `account_disabled`, `guest_expired`,
    /// `device_disabled`, `no_grant`, or a grant refusal.
    pub reason: Option<String>,
    /// When allowed: every grant that allows.
    pub because: Vec<ReasonBody>,
    /// When denied: grants that reach the pair but refuse, most useful first.
    pub near_misses: Vec<NearMissBody>,
}

fn snake<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

impl From<Decision> for DecisionBody {
    fn from(d: Decision) -> Self {
        match d {
            Decision::Allowed { because } => Self {
                decision: "allowed",
                reason: None,
                because: because.into_iter().map(Into::into).collect(),
                near_misses: Vec::new(),
            },
            Decision::Denied {
                reason,
                near_misses,
            } => Self {
                decision: "denied",
                reason: Some(snake::<Denial>(&reason)),
                because: Vec::new(),
                near_misses: near_misses
                    .into_iter()
                    .map(|n: NearMiss| NearMissBody {
                        path: n.path.into(),
                        refusal: snake::<GrantRefusal>(&n.refusal),
                        refused_by: n.refused_by.to_string(),
                    })
                    .collect(),
            },
        }
    }
}

/// A UTC interval `[start, end)`.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntervalBody {
    /// First instant inside, RFC 3339 UTC.
    pub start: String,
    /// First instant after.
    pub end: String,
}

/// The exact UTC intervals in which a person may open a lock.
#[derive(Debug, Serialize, ToSchema)]
pub struct WindowsBody {
    /// The person.
    pub person_id: String,
    /// The lock.
    pub lock_id: String,
    /// Sorted, disjoint intervals.
    pub windows: Vec<IntervalBody>,
}

/// A change to preview: exactly one of the two.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewBody {
    /// Revoking this grant (and everything shared from it).
    #[serde(default)]
    pub remove_grant: Option<String>,
    /// Taking this person out of this group: `{"group_id": …, "person_id": …}`.
    #[serde(default)]
    pub remove_member: Option<RemoveMemberBody>,
    /// The instant to compare at, RFC 3339 (default: now).
    #[serde(default)]
    pub at: Option<String>,
}

/// A group membership to preview removing.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoveMemberBody {
    /// The group.
    pub group_id: String,
    /// The person.
    pub person_id: String,
}

/// A (person, lock) pair.
#[derive(Debug, Serialize, ToSchema)]
pub struct PairBody {
    /// The person.
    pub person_id: String,
    /// The lock.
    pub lock_id: String,
}

/// What a removal would change.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImpactBody {
    /// The instant compared at.
    pub at: String,
    /// Pairs allowed now that would be denied.
    pub lose: Vec<PairBody>,
    /// Pairs allowed now through the removed thing that another grant keeps open.
    pub keep: Vec<PairBody>,
}

// ---------------------------------------------------------------------------------------------
// Handlers

const P: &str = "application/problem+json";

/// The access review: grants filtered by person, group, target, delegation or expiry.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct GrantsQuery {
    /// Only grants naming this person directly.
    pub person_id: Option<String>,
    /// Only grants naming this group.
    pub group_id: Option<String>,
    /// Only grants on this lock.
    pub lock_id: Option<String>,
    /// Only grants on this space.
    pub space_id: Option<String>,
    /// Only grants on this device group.
    pub device_group_id: Option<String>,
    /// `true`: only shared (derived) grants; `false`: only grants made by admins.
    pub delegated: Option<bool>,
    /// Only grants whose validity ends within this many days.
    pub expiring_within_days: Option<u32>,
    /// Include revoked grants.
    pub include_revoked: Option<bool>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<i64>,
    /// From `next_cursor`.
    pub cursor: Option<String>,
}

/// Lists grants the caller may see (admins all; managers and owners those in scope; members
/// their own and the ones they shared).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/grants", tag = "access",
    params(("org" = String, Path, description = "Organisation id"), GrantsQuery),
    responses(
        (status = 200, description = "A page of grants", body = GrantsBody),
        (status = 401, description = "Not signed in", body = Problem, content_type = P),
        (status = 404, description = "Not a member of this organisation", body = Problem, content_type = P),
        (status = 422, description = "A filter is malformed", body = Problem, content_type = P),
    ))]
pub(crate) async fn list_grants(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path(org): Path<String>,
    Query(q): Query<GrantsQuery>,
) -> Result<Json<GrantsBody>, ApiError> {
    let org = org_id(&org)?;
    let subject = match (&q.person_id, &q.group_id) {
        (Some(_), Some(_)) => {
            return Err(DomainError::invalid(
                "group_id",
                "filter by person_id or group_id, not both",
            )
            .into());
        }
        (Some(p), None) => Some(Subject::Person(body_id("person_id", p)?)),
        (None, Some(g)) => Some(Subject::Group(body_id("group_id", g)?)),
        (None, None) => None,
    };
    let targets = [
        q.lock_id
            .as_deref()
            .map(|l| body_id("lock_id", l).map(Target::Lock)),
        q.space_id
            .as_deref()
            .map(|s| body_id("space_id", s).map(Target::Space)),
        q.device_group_id
            .as_deref()
            .map(|d| body_id("device_group_id", d).map(Target::DeviceGroup)),
    ];
    let mut target = None;
    for t in targets.into_iter().flatten() {
        if target.is_some() {
            return Err(DomainError::invalid("lock_id", "filter by one target at a time").into());
        }
        target = Some(t?);
    }
    let now_ms = state.app.clock.now_ms();
    let page = state
        .app
        .grants(
            &caller.principal,
            org,
            GrantFilter {
                subject,
                target,
                delegated: q.delegated,
                include_revoked: q.include_revoked.unwrap_or(false),
                ending_before_ms: q
                    .expiring_within_days
                    .map(|d| now_ms.saturating_add(i64::from(d) * 86_400_000)),
                now_ms,
                after: q
                    .cursor
                    .as_deref()
                    .map(|c| body_id("cursor", c))
                    .transpose()?,
                limit: q.limit.unwrap_or(50),
            },
        )
        .await?;
    let grants: Vec<GrantBody> = page.grants.into_iter().map(Into::into).collect();
    Ok(Json(GrantsBody {
        count: grants.len(),
        total: page.total,
        grants,
        next_cursor: page.next_cursor.map(|c| c.to_string()),
    }))
}

/// Makes a grant (org admins; space managers and device owners within their scope).
#[utoipa::path(post, path = "/api/v1/orgs/{org}/grants", tag = "access",
    params(("org" = String, Path, description = "Organisation id")),
    request_body = NewGrantBody,
    responses(
        (status = 201, description = "Granted", body = GrantBody),
        (status = 401, description = "Not signed in", body = Problem, content_type = P),
        (status = 403, description = "Your role does not make grants (or not with these rights)", body = Problem, content_type = P),
        (status = 404, description = "Organisation, subject or target not found (or outside your scope)", body = Problem, content_type = P),
        (status = 422, description = "The schedule or a field breaks a rule", body = Problem, content_type = P),
    ))]
pub(crate) async fn create_grant(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path(org): Path<String>,
    Json(body): Json<NewGrantBody>,
) -> Result<(StatusCode, Json<GrantBody>), ApiError> {
    let org = org_id(&org)?;
    let new = NewGrant {
        subject: body.subject.subject()?,
        target: body.target.target()?,
        rights: rights(&body.rights)?,
        schedule: body.schedule.to_spec()?,
        reshare_depth: body.reshare_depth,
        max_share_duration_ms: secs_to_ms("max_share_duration_secs", body.max_share_duration_secs)?,
        note: body.note,
    };
    let grant = state
        .app
        .create_grant(&caller.principal, &caller.actor(), org, new)
        .await?;
    Ok((StatusCode::CREATED, Json(grant.into())))
}

/// One grant.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/grants/{grant}", tag = "access",
    params(("org" = String, Path, description = "Organisation id"), ("grant" = String, Path, description = "Grant id")),
    responses(
        (status = 200, description = "The grant", body = GrantBody),
        (status = 401, description = "Not signed in", body = Problem, content_type = P),
        (status = 404, description = "No such grant (or not one you may see)", body = Problem, content_type = P),
    ))]
pub(crate) async fn show_grant(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path((org, grant)): Path<(String, String)>,
) -> Result<Json<GrantBody>, ApiError> {
    let (org, grant) = (org_id(&org)?, grant_id(&grant)?);
    Ok(Json(
        state.app.grant(&caller.principal, org, grant).await?.into(),
    ))
}

/// Shares a grant the caller holds with another member, never wider than it (holders of a grant
/// with `share`; guests cannot share).
#[utoipa::path(post, path = "/api/v1/orgs/{org}/grants/{grant}/shares", tag = "access",
    params(("org" = String, Path, description = "Organisation id"), ("grant" = String, Path, description = "The grant to share from")),
    request_body = NewShareBody,
    responses(
        (status = 201, description = "Shared", body = GrantBody),
        (status = 401, description = "Not signed in", body = Problem, content_type = P),
        (status = 403, description = "Guests cannot share", body = Problem, content_type = P),
        (status = 404, description = "No such grant you hold, or no such member", body = Problem, content_type = P),
        (status = 422, description = "Wider than the grant shared from (the rule is named)", body = Problem, content_type = P),
    ))]
pub(crate) async fn share_grant(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path((org, grant)): Path<(String, String)>,
    Json(body): Json<NewShareBody>,
) -> Result<(StatusCode, Json<GrantBody>), ApiError> {
    let (org, parent) = (org_id(&org)?, grant_id(&grant)?);
    // The target defaults to the parent's; a parent the caller cannot see is 404 either way.
    let target = match &body.target {
        Some(t) => t.target()?,
        None => {
            state
                .app
                .grant(&caller.principal, org, parent)
                .await?
                .spec
                .target
        }
    };
    let share = NewShare {
        person: body_id("person_id", &body.person_id)?,
        target,
        rights: match &body.rights {
            Some(names) => rights(names)?,
            None => Rights::UNLOCK,
        },
        schedule: body.schedule.to_spec()?,
        reshare_depth: body.reshare_depth,
        note: body.note,
    };
    let grant = state
        .app
        .share_grant(&caller.principal, &caller.actor(), org, parent, share)
        .await?;
    Ok((StatusCode::CREATED, Json(grant.into())))
}

/// Revokes a grant and everything shared from it.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/grants/{grant}/revocation", tag = "access",
    params(("org" = String, Path, description = "Organisation id"), ("grant" = String, Path, description = "Grant id")),
    responses(
        (status = 200, description = "Revoked, with everything shared from it", body = RevokedBody),
        (status = 401, description = "Not signed in", body = Problem, content_type = P),
        (status = 403, description = "A grant you were given (ask whoever gave it)", body = Problem, content_type = P),
        (status = 404, description = "No such grant (or not one you may revoke)", body = Problem, content_type = P),
        (status = 409, description = "Already revoked", body = Problem, content_type = P),
    ))]
pub(crate) async fn revoke_grant(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path((org, grant)): Path<(String, String)>,
) -> Result<Json<RevokedBody>, ApiError> {
    let (org, grant) = (org_id(&org)?, grant_id(&grant)?);
    let revoked = state
        .app
        .revoke_grant(&caller.principal, &caller.actor(), org, grant)
        .await?;
    Ok(Json(RevokedBody {
        revoked: revoked.iter().map(ToString::to_string).collect(),
    }))
}

/// Revokes many grants at once, each with everything shared from it (org admins). All or
/// nothing: an unknown id revokes none.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/grants/bulk-revocation", tag = "access",
    params(("org" = String, Path, description = "Organisation id")),
    request_body = BulkRevokeBody,
    responses(
        (status = 200, description = "Revoked", body = RevokedBody),
        (status = 401, description = "Not signed in", body = Problem, content_type = P),
        (status = 403, description = "Not an org admin", body = Problem, content_type = P),
        (status = 404, description = "An id is unknown; nothing was revoked", body = Problem, content_type = P),
        (status = 422, description = "No ids, or more than 1 000", body = Problem, content_type = P),
    ))]
pub(crate) async fn bulk_revoke(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path(org): Path<String>,
    Json(body): Json<BulkRevokeBody>,
) -> Result<Json<RevokedBody>, ApiError> {
    let org = org_id(&org)?;
    let ids = body
        .grant_ids
        .iter()
        .map(|g| body_id("grant_ids", g))
        .collect::<Result<Vec<GrantId>, _>>()?;
    let revoked = state
        .app
        .bulk_revoke_grants(&caller.principal, &caller.actor(), org, &ids)
        .await?;
    Ok(Json(RevokedBody {
        revoked: revoked.iter().map(ToString::to_string).collect(),
    }))
}

/// A grant and everything shared from it, as a tree.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/grants/{grant}/delegations", tag = "access",
    params(("org" = String, Path, description = "Organisation id"), ("grant" = String, Path, description = "Grant id")),
    responses(
        (status = 200, description = "The delegation tree", body = DelegationNodeBody),
        (status = 401, description = "Not signed in", body = Problem, content_type = P),
        (status = 404, description = "No such grant (or not one you may see)", body = Problem, content_type = P),
    ))]
pub(crate) async fn delegation_tree(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path((org, grant)): Path<(String, String)>,
) -> Result<Json<DelegationNodeBody>, ApiError> {
    let (org, grant) = (org_id(&org)?, grant_id(&grant)?);
    let tree = state
        .app
        .delegation_tree(&caller.principal, org, grant)
        .await?;
    Ok(Json(tree.into()))
}

/// An instant to ask about.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AtQuery {
    /// RFC 3339 (default: now).
    pub at: Option<String>,
}

fn at_or_now(state: &WebState, at: Option<&str>) -> Result<i64, DomainError> {
    at.map_or_else(|| Ok(state.app.clock.now_ms()), |a| instant("at", a))
}

/// Who can open a lock at an instant, and why (admins; managers and owners for locks in scope).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/locks/{lock}/who-can-open", tag = "access",
    params(("org" = String, Path, description = "Organisation id"), ("lock" = String, Path, description = "Lock id"), AtQuery),
    responses(
        (status = 200, description = "The people who can open, with reasons", body = WhoCanOpenBody),
        (status = 401, description = "Not signed in", body = Problem, content_type = P),
        (status = 403, description = "Members cannot see who opens doors", body = Problem, content_type = P),
        (status = 404, description = "No such lock (or outside your scope)", body = Problem, content_type = P),
        (status = 422, description = "at is not an RFC 3339 time", body = Problem, content_type = P),
    ))]
pub(crate) async fn who_can_open(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path((org, lock)): Path<(String, String)>,
    Query(q): Query<AtQuery>,
) -> Result<Json<WhoCanOpenBody>, ApiError> {
    let (org, lock) = (org_id(&org)?, lock_id(&lock)?);
    let at_ms = at_or_now(&state, q.at.as_deref())?;
    let people = state
        .app
        .who_can_open(&caller.principal, org, lock, at_ms)
        .await?;
    Ok(Json(WhoCanOpenBody {
        lock_id: lock.to_string(),
        at: rfc3339_utc(at_ms),
        people: people
            .into_iter()
            .map(|p| PersonAccessBody {
                person_id: p.person.to_string(),
                because: p.because.into_iter().map(Into::into).collect(),
            })
            .collect(),
    }))
}

/// What a person can open at an instant, and why (admins; managers and owners see the locks in
/// their scope; everyone about themselves).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/members/{account}/what-can-open", tag = "access",
    params(("org" = String, Path, description = "Organisation id"), ("account" = String, Path, description = "Person (account) id"), AtQuery),
    responses(
        (status = 200, description = "The locks, with reasons", body = WhatCanOpenBody),
        (status = 401, description = "Not signed in", body = Problem, content_type = P),
        (status = 403, description = "Members may only ask about themselves", body = Problem, content_type = P),
        (status = 404, description = "No such person in this organisation", body = Problem, content_type = P),
    ))]
pub(crate) async fn what_can_open(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path((org, account)): Path<(String, String)>,
    Query(q): Query<AtQuery>,
) -> Result<Json<WhatCanOpenBody>, ApiError> {
    let (org, person) = (org_id(&org)?, account_id(&account)?);
    let at_ms = at_or_now(&state, q.at.as_deref())?;
    let locks = state
        .app
        .what_can_open(&caller.principal, org, person, at_ms)
        .await?;
    Ok(Json(WhatCanOpenBody {
        person_id: person.to_string(),
        at: rfc3339_utc(at_ms),
        locks: locks
            .into_iter()
            .map(|l| LockAccessBody {
                lock_id: l.lock.to_string(),
                because: l.because.into_iter().map(Into::into).collect(),
            })
            .collect(),
    }))
}

/// One decision to explain.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DecisionQuery {
    /// The person.
    pub person_id: String,
    /// The lock.
    pub lock_id: String,
    /// RFC 3339 (default: now).
    pub at: Option<String>,
}

/// May this person open this lock at this instant, and why (not)?
#[utoipa::path(get, path = "/api/v1/orgs/{org}/access/decision", tag = "access",
    params(("org" = String, Path, description = "Organisation id"), DecisionQuery),
    responses(
        (status = 200, description = "The decision with its reasons or near misses", body = DecisionBody),
        (status = 401, description = "Not signed in", body = Problem, content_type = P),
        (status = 403, description = "Members may only ask about themselves", body = Problem, content_type = P),
        (status = 404, description = "No such person or lock (or outside your scope)", body = Problem, content_type = P),
    ))]
pub(crate) async fn decision(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path(org): Path<String>,
    Query(q): Query<DecisionQuery>,
) -> Result<Json<DecisionBody>, ApiError> {
    let org = org_id(&org)?;
    let person = account_id(&q.person_id)?;
    let lock = lock_id(&q.lock_id)?;
    let at_ms = at_or_now(&state, q.at.as_deref())?;
    let decision = state
        .app
        .decide(&caller.principal, org, person, lock, at_ms)
        .await?;
    Ok(Json(decision.into()))
}

/// A range to compute windows over.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct WindowsQuery {
    /// The lock.
    pub lock_id: String,
    /// Start, RFC 3339.
    pub from: String,
    /// End (exclusive), RFC 3339; at most 367 days after `from`.
    pub to: String,
}

/// The exact UTC intervals in which the person may open the lock — what an offline credential
/// for the pair carries.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/members/{account}/access-windows", tag = "access",
    params(("org" = String, Path, description = "Organisation id"), ("account" = String, Path, description = "Person (account) id"), WindowsQuery),
    responses(
        (status = 200, description = "Sorted, disjoint UTC intervals", body = WindowsBody),
        (status = 401, description = "Not signed in", body = Problem, content_type = P),
        (status = 403, description = "Members may only ask about themselves", body = Problem, content_type = P),
        (status = 404, description = "No such person or lock (or outside your scope)", body = Problem, content_type = P),
        (status = 422, description = "from/to malformed, reversed or more than 367 days apart", body = Problem, content_type = P),
    ))]
pub(crate) async fn access_windows(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path((org, account)): Path<(String, String)>,
    Query(q): Query<WindowsQuery>,
) -> Result<Json<WindowsBody>, ApiError> {
    let (org, person) = (org_id(&org)?, account_id(&account)?);
    let lock = lock_id(&q.lock_id)?;
    let (from_ms, to_ms) = (instant("from", &q.from)?, instant("to", &q.to)?);
    let windows = state
        .app
        .access_windows(&caller.principal, org, person, lock, from_ms, to_ms)
        .await?;
    Ok(Json(WindowsBody {
        person_id: person.to_string(),
        lock_id: lock.to_string(),
        windows: windows
            .into_iter()
            .map(|w| IntervalBody {
                start: rfc3339_utc(w.start_ms),
                end: rfc3339_utc(w.end_ms),
            })
            .collect(),
    }))
}

/// Previews revoking a grant or taking a person out of a group: who would lose access, and who
/// keeps it through another grant.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/access/preview", tag = "access",
    params(("org" = String, Path, description = "Organisation id")),
    request_body = PreviewBody,
    responses(
        (status = 200, description = "What would change", body = ImpactBody),
        (status = 401, description = "Not signed in", body = Problem, content_type = P),
        (status = 403, description = "Members cannot preview changes", body = Problem, content_type = P),
        (status = 404, description = "No such grant, group or person", body = Problem, content_type = P),
        (status = 422, description = "Name exactly one change", body = Problem, content_type = P),
    ))]
pub(crate) async fn preview(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path(org): Path<String>,
    Json(body): Json<PreviewBody>,
) -> Result<Json<ImpactBody>, ApiError> {
    let org = org_id(&org)?;
    let removal = match (&body.remove_grant, &body.remove_member) {
        (Some(g), None) => Removal::Grant {
            grant: body_id("remove_grant", g)?,
        },
        (None, Some(m)) => Removal::Membership {
            group: body_id("remove_member.group_id", &m.group_id)?,
            person: body_id("remove_member.person_id", &m.person_id)?,
        },
        _ => {
            return Err(DomainError::invalid(
                "remove_grant",
                "name exactly one change: remove_grant or remove_member",
            )
            .into());
        }
    };
    let at_ms = at_or_now(&state, body.at.as_deref())?;
    let impact = state
        .app
        .preview_removal(&caller.principal, org, removal, at_ms)
        .await?;
    let pairs = |pairs: Vec<latchkey_domain::access::AccessPair>| {
        pairs
            .into_iter()
            .map(|p| PairBody {
                person_id: p.person.to_string(),
                lock_id: p.lock.to_string(),
            })
            .collect()
    };
    Ok(Json(ImpactBody {
        at: rfc3339_utc(at_ms),
        lose: pairs(impact.lose),
        keep: pairs(impact.keep),
    }))
}
