//! The access review, the grant editor, a grant's page (in words, with its delegation tree)
//! and revocation (one grant, or several from the review), each confirmed on a page that says
//! how many grants go.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use latchkey_domain::access::schedule::{DayWindow, OpenDate, WallTime, WeeklyWindow};
use latchkey_domain::access::{Rights, ScheduleSpec, Subject, Target, Weekdays};
use latchkey_domain::tenancy::Site;
use latchkey_domain::{DomainError, GrantId, OrgId};
use latchkey_store::repo::{GrantFilter, GrantRecord};
use serde::Deserialize;

use super::time::{local_text, parse_date, parse_local};
use super::words;
use crate::access::grants::{DelegationNode, NewGrant};
use crate::app::ServiceError;
use crate::console::directory::{
    Catalog, Refusal, TreeLine, Want, check_form, explainable, failure, nest, not_found,
    notice_key, parse_id, see_other, status_of,
};
use crate::console::shell::{Chrome, ConsoleCaller, render};
use crate::web::WebState;

pub(super) fn routes() -> Router<WebState> {
    Router::new()
        .route("/orgs/{org}/grants", get(review_page))
        .route("/orgs/{org}/grants/revoke", post(bulk_revoke))
        .route(
            "/orgs/{org}/grants/new",
            get(editor_page).post(create_grant),
        )
        .route("/orgs/{org}/grants/{grant}", get(grant_page))
        .route(
            "/orgs/{org}/grants/{grant}/revoke",
            get(confirm_revoke).post(revoke),
        )
}

const ALL: Want = Want {
    devices: true,
    groups: true,
    people: true,
};

/// A choice in a select: value and label.
pub(super) struct Choice {
    pub(super) value: String,
    pub(super) label: String,
}

fn parse_subject(raw: &str) -> Option<Subject> {
    match raw.split_once(':')? {
        ("person", id) => Some(Subject::Person(id.parse().ok()?)),
        ("group", id) => Some(Subject::Group(id.parse().ok()?)),
        _ => None,
    }
}

fn parse_target(raw: &str) -> Option<Target> {
    match raw.split_once(':')? {
        ("lock", id) => Some(Target::Lock(id.parse().ok()?)),
        ("space", id) => Some(Target::Space(id.parse().ok()?)),
        ("device_group", id) => Some(Target::DeviceGroup(id.parse().ok()?)),
        _ => None,
    }
}

fn subject_choices(c: &Chrome, catalog: &Catalog) -> Vec<Choice> {
    let mut groups: Vec<Choice> = catalog
        .groups
        .iter()
        .map(|g| Choice {
            value: format!("group:{}", g.id),
            label: format!("{} {}", c.t("access.kind.group"), g.name),
        })
        .collect();
    groups.sort_by(|a, b| a.label.cmp(&b.label));
    let mut people: Vec<Choice> = catalog
        .people
        .iter()
        .map(|p| Choice {
            value: format!("person:{}", p.id),
            label: format!("{} {} ({})", c.t("access.kind.person"), p.name, p.email),
        })
        .collect();
    people.sort_by(|a, b| a.label.cmp(&b.label));
    groups.extend(people);
    groups
}

/// Spaces of the site (tree order), its locks, and device groups.
fn target_choices(c: &Chrome, catalog: &Catalog, site: Option<&Site>) -> Vec<Choice> {
    let mut out = Vec::new();
    let sites: Vec<&Site> = match site {
        Some(s) => vec![s],
        None => catalog.sites.iter().collect(),
    };
    for site in &sites {
        for (space, _) in catalog.tree_of_site(site.id) {
            out.push(Choice {
                value: format!("space:{}", space.id),
                label: format!(
                    "{} {} {}",
                    c.t("access.kind.space"),
                    catalog.space_path(space.id),
                    c.t("access.subtree")
                ),
            });
        }
    }
    let mut locks: Vec<Choice> = catalog
        .devices
        .iter()
        .filter(|d| d.kind == latchkey_domain::directory::DeviceKind::Lock)
        .filter(|d| {
            d.space_id
                .and_then(|s| catalog.site_of_space(s))
                .is_some_and(|s| sites.iter().any(|x| x.id == s.id))
        })
        .map(|d| Choice {
            value: format!("lock:{}", d.id),
            label: format!(
                "{} {} ({})",
                c.t("access.kind.lock"),
                d.name,
                d.space_id
                    .map(|s| catalog.space_path(s))
                    .unwrap_or_default()
            ),
        })
        .collect();
    locks.sort_by(|a, b| a.label.cmp(&b.label));
    out.extend(locks);
    out.extend(catalog.device_groups.iter().map(|g| Choice {
        value: format!("device_group:{}", g.id),
        label: format!("{} {}", c.t("access.kind.device_group"), g.name),
    }));
    out
}

// ---------------------------------------------------------------------------------------------
// The access review

#[derive(Debug, Default, Deserialize)]
struct ReviewQuery {
    notice: Option<String>,
    person: Option<String>,
    group: Option<String>,
    target: Option<String>,
    expiring_days: Option<String>,
    delegated: Option<String>,
    revoked: Option<String>,
    after: Option<String>,
}

struct GrantRow {
    id: String,
    summary: String,
    validity: String,
    delegated: bool,
    revoked: bool,
}

fn grant_row(c: &Chrome, catalog: &Catalog, g: &GrantRecord) -> GrantRow {
    let zone = words::zone_of(catalog, g.spec.target);
    GrantRow {
        id: g.spec.id.to_string(),
        summary: words::summary(c, catalog, g),
        validity: words::validity(c, g, &zone),
        delegated: g.spec.delegation.is_some(),
        revoked: g.revoked_at_ms.is_some(),
    }
}

#[derive(Template)]
#[template(path = "access/review.html")]
struct ReviewPage<'a> {
    c: &'a Chrome,
    org_id: String,
    rows: Vec<GrantRow>,
    people: Vec<Choice>,
    groups: Vec<Choice>,
    targets: Vec<Choice>,
    q: &'a ReviewQuery,
    /// How many grants the filters match in all pages.
    total: i64,
    next: Option<String>,
    refusal: Refusal,
    notice: Option<&'static str>,
    may_create: bool,
}

impl ReviewQuery {
    fn text(v: &Option<String>) -> &str {
        v.as_deref().unwrap_or("")
    }
    fn person(&self) -> &str {
        Self::text(&self.person)
    }
    fn group(&self) -> &str {
        Self::text(&self.group)
    }
    fn target(&self) -> &str {
        Self::text(&self.target)
    }
    fn expiring_days(&self) -> &str {
        Self::text(&self.expiring_days)
    }
    fn delegated(&self) -> &str {
        Self::text(&self.delegated)
    }
    fn revoked(&self) -> bool {
        self.revoked.as_deref().is_some_and(|v| !v.is_empty())
    }
    /// The query string of the filters (for the next-page link).
    fn filters(&self) -> String {
        let pairs = [
            ("person", self.person()),
            ("group", self.group()),
            ("target", self.target()),
            ("expiring_days", self.expiring_days()),
            ("delegated", self.delegated()),
            ("revoked", if self.revoked() { "on" } else { "" }),
        ];
        pairs
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", crate::console::shell::url_encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

fn review_filter(q: &ReviewQuery, now_ms: i64) -> Result<GrantFilter, DomainError> {
    let subject = match (q.person(), q.group()) {
        ("", "") => None,
        (p, "") => Some(Subject::Person(p.parse().map_err(|_| {
            DomainError::invalid("person", "choose a person from the list")
        })?)),
        ("", g) => Some(Subject::Group(g.parse().map_err(|_| {
            DomainError::invalid("group", "choose a group from the list")
        })?)),
        _ => {
            return Err(DomainError::invalid(
                "group",
                "filter by a person or by a group, not both",
            ));
        }
    };
    let target = match q.target() {
        "" => None,
        t => Some(
            parse_target(t)
                .ok_or_else(|| DomainError::invalid("target", "choose a target from the list"))?,
        ),
    };
    let ending_before_ms = match q.expiring_days().trim() {
        "" => None,
        d => {
            let days: i64 = d
                .parse()
                .ok()
                .filter(|d| (1..=3650).contains(d))
                .ok_or_else(|| {
                    DomainError::invalid("expiring_days", "give a number of days from 1 to 3650")
                })?;
            Some(now_ms + days * 86_400_000)
        }
    };
    let delegated = match q.delegated() {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    };
    let after = match q.after.as_deref().unwrap_or("") {
        "" => None,
        a => Some(
            a.parse()
                .map_err(|_| DomainError::invalid("after", "bad page link"))?,
        ),
    };
    Ok(GrantFilter {
        subject,
        target,
        delegated,
        include_revoked: q.revoked(),
        ending_before_ms,
        now_ms,
        after,
        limit: 100,
    })
}

async fn review_page(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path(org): Path<String>,
    Query(q): Query<ReviewQuery>,
) -> Response {
    let Some(org) = parse_id(&org) else {
        return not_found(&caller.chrome);
    };
    render_review(&state, &caller, org, &q, Refusal::none(), StatusCode::OK).await
}

async fn render_review(
    state: &WebState,
    caller: &ConsoleCaller,
    org: OrgId,
    q: &ReviewQuery,
    refusal: Refusal,
    status: StatusCode,
) -> Response {
    let c = &caller.chrome;
    let now_ms = state.app.clock.now_ms();
    let (grants, total, next, refusal, status) = match review_filter(q, now_ms) {
        Ok(filter) => match state.app.grants(&caller.principal, org, filter).await {
            Ok(page) => (
                page.grants,
                page.total,
                page.next_cursor.map(|n| n.to_string()),
                refusal,
                status,
            ),
            Err(e) => return failure(c, &e),
        },
        Err(e) => (
            Vec::new(),
            0,
            None,
            Refusal::of(
                &e.into(),
                &["person", "group", "target", "expiring_days", "after"],
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    };
    // Members and guests see their own grants here; the directory's names are for roles that
    // reach the directory.
    let directory = state
        .app
        .my_directory_scope(&caller.principal, org)
        .await
        .is_ok();
    let catalog = if directory {
        match Catalog::load(state, caller, org, ALL).await {
            Ok(catalog) => catalog,
            Err(e) => return failure(c, &e),
        }
    } else {
        Catalog::default()
    };
    let rows = grants.iter().map(|g| grant_row(c, &catalog, g)).collect();
    let subjects = subject_choices(c, &catalog);
    let (groups, people): (Vec<Choice>, Vec<Choice>) = subjects
        .into_iter()
        .partition(|s| s.value.starts_with("group:"));
    let strip = |list: Vec<Choice>, prefix: &str| -> Vec<Choice> {
        list.into_iter()
            .map(|ch| Choice {
                value: ch.value.trim_start_matches(prefix).to_owned(),
                label: ch.label,
            })
            .collect()
    };
    render(
        &ReviewPage {
            c,
            org_id: org.to_string(),
            rows,
            people: strip(people, "person:"),
            groups: strip(groups, "group:"),
            targets: target_choices(c, &catalog, None),
            q,
            total,
            next,
            refusal,
            notice: notice_key(q.notice.as_deref()),
            may_create: directory,
        },
        status,
        c.lang,
    )
}

// Bulk revocation: the review's checkboxes post here; without `confirm` the page says how many
// grants will go (with everything shared from them), with it they are revoked.

#[derive(Template)]
#[template(path = "access/bulk_revoke.html")]
struct BulkRevokePage<'a> {
    c: &'a Chrome,
    org_id: String,
    ids: Vec<String>,
    rows: Vec<GrantRow>,
    total: usize,
    refusal: Refusal,
}

async fn bulk_revoke(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path(org): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let c = &caller.chrome;
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    if let Err(refused) = check_form(&state, &caller, field("_csrf")) {
        return refused;
    }
    let Some(org): Option<OrgId> = parse_id(&org) else {
        return not_found(c);
    };
    let mut ids: Vec<GrantId> = Vec::new();
    for (k, v) in &pairs {
        if k == "grant" {
            match v.parse() {
                Ok(id) if !ids.contains(&id) => ids.push(id),
                Ok(_) => {}
                Err(_) => return not_found(c),
            }
        }
    }
    if ids.is_empty() {
        let q = ReviewQuery::default();
        let refusal = Refusal::of(
            &ServiceError::from(DomainError::invalid(
                "grant",
                "select at least one grant to revoke",
            )),
            &[],
        );
        return render_review(
            &state,
            &caller,
            org,
            &q,
            refusal,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    if field("confirm") == "yes" {
        return match state
            .app
            .bulk_revoke_grants(&caller.principal, &caller.actor(), org, &ids)
            .await
        {
            Ok(_) => see_other(&format!("/orgs/{org}/grants?notice=grants_revoked")),
            Err(e) if explainable(&e) => {
                bulk_confirm(
                    &state,
                    &caller,
                    org,
                    &ids,
                    Refusal::of(&e, &[]),
                    status_of(&e),
                )
                .await
            }
            Err(e) => failure(c, &e),
        };
    }
    bulk_confirm(&state, &caller, org, &ids, Refusal::none(), StatusCode::OK).await
}

/// Counts the live grants of a delegation tree.
fn live_in(node: &DelegationNode) -> Vec<GrantId> {
    let mut out = Vec::new();
    if node.grant.revoked_at_ms.is_none() {
        out.push(node.grant.spec.id);
    }
    for child in &node.children {
        out.extend(live_in(child));
    }
    out
}

async fn bulk_confirm(
    state: &WebState,
    caller: &ConsoleCaller,
    org: OrgId,
    ids: &[GrantId],
    refusal: Refusal,
    status: StatusCode,
) -> Response {
    let c = &caller.chrome;
    let catalog = match Catalog::load(state, caller, org, ALL).await {
        Ok(catalog) => catalog,
        Err(e) => return failure(c, &e),
    };
    let mut rows = Vec::new();
    let mut going: Vec<GrantId> = Vec::new();
    for id in ids {
        match state.app.delegation_tree(&caller.principal, org, *id).await {
            Ok(tree) => {
                rows.push(grant_row(c, &catalog, &tree.grant));
                for g in live_in(&tree) {
                    if !going.contains(&g) {
                        going.push(g);
                    }
                }
            }
            Err(e) => return failure(c, &e),
        }
    }
    render(
        &BulkRevokePage {
            c,
            org_id: org.to_string(),
            ids: ids.iter().map(ToString::to_string).collect(),
            rows,
            total: going.len(),
            refusal,
        },
        status,
        c.lang,
    )
}

// ---------------------------------------------------------------------------------------------
// The grant editor

const DAY_CODES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const DAY_KEYS: [&str; 7] = [
    "day.mon", "day.tue", "day.wed", "day.thu", "day.fri", "day.sat", "day.sun",
];
/// Rows the editor shows at most: one more than the service allows, so its cap is explained by
/// the service rather than silently cut here.
const MAX_ROWS: usize = latchkey_domain::access::schedule::MAX_WEEKLY_WINDOWS + 1;

/// One weekly window row as typed.
#[derive(Debug, Clone, Default)]
struct WindowRow {
    days: Vec<String>,
    start: String,
    end: String,
}

impl WindowRow {
    fn has(&self, day: &str) -> bool {
        self.days.iter().any(|d| d == day)
    }
    fn is_blank(&self) -> bool {
        self.days.is_empty() && self.start.trim().is_empty() && self.end.trim().is_empty()
    }
}

/// The editor's fields as typed (kept on a refused submit).
#[derive(Debug, Clone, Default)]
struct GrantForm {
    site: String,
    subject: String,
    target: String,
    rights: Vec<String>,
    from_date: String,
    from_time: String,
    until_date: String,
    until_time: String,
    windows: Vec<WindowRow>,
    closed_dates: String,
    closed_on_holidays: bool,
    open_dates: String,
    max_uses: String,
    reshare_depth: String,
    note: String,
}

impl GrantForm {
    fn has_right(&self, right: &str) -> bool {
        self.rights.iter().any(|r| r == right)
    }

    fn fresh(site: String) -> Self {
        Self {
            site,
            rights: vec!["unlock".to_owned()],
            windows: vec![WindowRow::default()],
            reshare_depth: "0".to_owned(),
            ..Self::default()
        }
    }

    /// Reads the posted pairs (repeated keys for checkboxes; `w<i>_…` for window rows).
    fn from_pairs(pairs: &[(String, String)]) -> Self {
        let one = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let rows = one("windows")
            .trim()
            .parse::<usize>()
            .unwrap_or(1)
            .clamp(1, MAX_ROWS);
        let windows = (0..rows)
            .map(|i| WindowRow {
                days: pairs
                    .iter()
                    .filter(|(k, _)| *k == format!("w{i}_day"))
                    .map(|(_, v)| v.clone())
                    .collect(),
                start: one(&format!("w{i}_start")),
                end: one(&format!("w{i}_end")),
            })
            .collect();
        Self {
            site: one("site"),
            subject: one("subject"),
            target: one("target"),
            rights: pairs
                .iter()
                .filter(|(k, _)| k == "rights")
                .map(|(_, v)| v.clone())
                .collect(),
            from_date: one("from_date"),
            from_time: one("from_time"),
            until_date: one("until_date"),
            until_time: one("until_time"),
            windows,
            closed_dates: one("closed_dates"),
            closed_on_holidays: !one("closed_on_holidays").is_empty(),
            open_dates: one("open_dates"),
            max_uses: one("max_uses"),
            reshare_depth: one("reshare_depth"),
            note: one("note"),
        }
    }

    /// The grant to ask the service for; times read in `zone`.
    fn to_new_grant(&self, zone: &str, now_ms: i64) -> Result<NewGrant, DomainError> {
        let subject = parse_subject(&self.subject)
            .ok_or_else(|| DomainError::invalid("subject", "choose who the grant is for"))?;
        let target = parse_target(&self.target)
            .ok_or_else(|| DomainError::invalid("target", "choose what the grant opens"))?;
        let mut rights = Rights::NONE;
        for r in &self.rights {
            rights = rights.union(Rights::parse_one(r).ok_or_else(|| {
                DomainError::invalid("rights", "rights are unlock, share or manage")
            })?);
        }
        let valid_from_ms = if self.from_date.trim().is_empty() {
            if self.from_time.trim().is_empty() {
                now_ms
            } else {
                return Err(DomainError::invalid(
                    "valid_from_ms",
                    "give the date the grant starts, or leave both empty to start now",
                ));
            }
        } else {
            parse_local("valid_from_ms", &self.from_date, &self.from_time, zone)?
        };
        let mut spec = ScheduleSpec::starting(valid_from_ms);
        if !self.until_date.trim().is_empty() {
            spec.valid_until_ms = Some(parse_local(
                "valid_until_ms",
                &self.until_date,
                &self.until_time,
                zone,
            )?);
        } else if !self.until_time.trim().is_empty() {
            return Err(DomainError::invalid(
                "valid_until_ms",
                "give the date the grant ends, or leave both empty for no end",
            ));
        }
        for (i, row) in self.windows.iter().enumerate() {
            if row.is_blank() {
                continue;
            }
            let n = i + 1;
            let mut days = Weekdays::NONE;
            for d in &row.days {
                let index = DAY_CODES
                    .iter()
                    .position(|c| c == d)
                    .and_then(|i| u8::try_from(i).ok())
                    .ok_or_else(|| DomainError::invalid("weekly", "unknown weekday"))?;
                days = days.with(Weekdays::day(index));
            }
            if days.is_empty() {
                return Err(DomainError::invalid(
                    "weekly",
                    format!("window {n}: tick at least one weekday"),
                ));
            }
            spec.weekly.push(WeeklyWindow {
                days,
                start: wall(&row.start, n, "start")?,
                end: wall(&row.end, n, "end")?,
            });
        }
        for word in self.closed_dates.split([',', '\n', ' ']) {
            if !word.trim().is_empty() {
                spec.closed_dates.push(parse_date("closed_dates", word)?);
            }
        }
        spec.closed_on_holidays = self.closed_on_holidays;
        for line in self.open_dates.lines() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let bad = || {
                DomainError::invalid(
                    "open_dates",
                    format!("write each open date as YYYY-MM-DD HH:MM-HH:MM (got {line:?})"),
                )
            };
            let (date, span) = line.split_once(' ').ok_or_else(bad)?;
            let (start, end) = span.trim().split_once('-').ok_or_else(bad)?;
            spec.open_dates.push(OpenDate {
                date: parse_date("open_dates", date)?,
                windows: vec![DayWindow {
                    start: start.trim().parse::<WallTime>().map_err(|_| bad())?,
                    end: end.trim().parse::<WallTime>().map_err(|_| bad())?,
                }],
            });
        }
        spec.max_uses = match self.max_uses.trim() {
            "" => None,
            m => Some(m.parse().map_err(|_| {
                DomainError::invalid(
                    "max_uses",
                    "max uses is a whole number, or empty for no limit",
                )
            })?),
        };
        let reshare_depth = match self.reshare_depth.trim() {
            "" => 0,
            d => d.parse().map_err(|_| {
                DomainError::invalid("reshare_depth", "re-share depth is a number from 0 to 255")
            })?,
        };
        Ok(NewGrant {
            subject,
            target,
            rights,
            schedule: spec,
            reshare_depth,
            max_share_duration_ms: None,
            note: Some(self.note.clone()),
        })
    }
}

fn wall(raw: &str, n: usize, which: &str) -> Result<WallTime, DomainError> {
    let text = raw.trim();
    // "9:00" reads as "09:00".
    let padded = match text.split_once(':') {
        Some((h, m)) if h.len() == 1 => format!("0{h}:{m}"),
        _ => text.to_owned(),
    };
    padded.parse::<WallTime>().map_err(|_| {
        DomainError::invalid(
            "weekly",
            format!("window {n}: write the {which} as HH:MM, e.g. 09:00 (24:00 ends at midnight)"),
        )
    })
}

/// The fields the editor shows refusals next to (the services' names).
const GRANT_FIELDS: &[&str] = &[
    "subject",
    "target",
    "rights",
    "valid_from_ms",
    "valid_until_ms",
    "weekly",
    "closed_dates",
    "open_dates",
    "max_uses",
    "reshare_depth",
    "note",
];

#[derive(Template)]
#[template(path = "access/editor.html")]
struct EditorPage<'a> {
    c: &'a Chrome,
    org_id: String,
    sites: Vec<Choice>,
    site_zone: String,
    subjects: Vec<Choice>,
    targets: Vec<Choice>,
    form: &'a GrantForm,
    days: Vec<DayChoice>,
    refusal: Refusal,
}

/// A weekday checkbox: its value and its label's catalog key.
struct DayChoice {
    code: &'static str,
    key: &'static str,
}

#[derive(Debug, Default, Deserialize)]
struct EditorQuery {
    site: Option<String>,
    subject: Option<String>,
    target: Option<String>,
}

async fn render_editor(
    state: &WebState,
    caller: &ConsoleCaller,
    org: OrgId,
    form: &GrantForm,
    refusal: Refusal,
    status: StatusCode,
) -> Response {
    let c = &caller.chrome;
    if let Err(e) = state.app.my_directory_scope(&caller.principal, org).await {
        return failure(c, &e);
    }
    let catalog = match Catalog::load(state, caller, org, ALL).await {
        Ok(catalog) => catalog,
        Err(e) => return failure(c, &e),
    };
    let site = catalog.sites.iter().find(|s| s.id.to_string() == form.site);
    let mut sites: Vec<Choice> = catalog
        .sites
        .iter()
        .map(|s| Choice {
            value: s.id.to_string(),
            label: format!("{} ({})", s.name, s.time_zone),
        })
        .collect();
    sites.sort_by(|a, b| a.label.cmp(&b.label));
    render(
        &EditorPage {
            c,
            org_id: org.to_string(),
            sites,
            site_zone: site.map_or_else(|| "UTC".to_owned(), |s| s.time_zone.clone()),
            subjects: subject_choices(c, &catalog),
            targets: target_choices(c, &catalog, site),
            form,
            days: DAY_CODES
                .iter()
                .zip(DAY_KEYS)
                .map(|(code, key)| DayChoice { code, key })
                .collect(),
            refusal,
        },
        status,
        c.lang,
    )
}

/// The site the editor works in: the one asked for, else the first by name.
async fn pick_site(
    state: &WebState,
    caller: &ConsoleCaller,
    org: OrgId,
    asked: Option<&str>,
) -> Result<Option<Site>, ServiceError> {
    let catalog = Catalog::load(state, caller, org, Want::default()).await?;
    let mut sites = catalog.sites;
    sites.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(match asked {
        Some(id) => sites.iter().find(|s| s.id.to_string() == id).cloned(),
        None => None,
    }
    .or_else(|| sites.first().cloned()))
}

async fn editor_page(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path(org): Path<String>,
    Query(q): Query<EditorQuery>,
) -> Response {
    let Some(org) = parse_id(&org) else {
        return not_found(&caller.chrome);
    };
    let site = match pick_site(&state, &caller, org, q.site.as_deref()).await {
        Ok(site) => site,
        Err(e) => return failure(&caller.chrome, &e),
    };
    let mut form = GrantForm::fresh(site.map(|s| s.id.to_string()).unwrap_or_default());
    // Links from a lock, a space or a group start the form with them chosen.
    form.subject = q.subject.unwrap_or_default();
    form.target = q.target.unwrap_or_default();
    render_editor(&state, &caller, org, &form, Refusal::none(), StatusCode::OK).await
}

async fn create_grant(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path(org): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let csrf = pairs
        .iter()
        .find(|(k, _)| k == "_csrf")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    if let Err(refused) = check_form(&state, &caller, csrf) {
        return refused;
    }
    let Some(org): Option<OrgId> = parse_id(&org) else {
        return not_found(&caller.chrome);
    };
    let mut form = GrantForm::from_pairs(&pairs);
    let site = match pick_site(&state, &caller, org, Some(&form.site)).await {
        Ok(site) => site,
        Err(e) => return failure(&caller.chrome, &e),
    };
    form.site = site.as_ref().map(|s| s.id.to_string()).unwrap_or_default();
    // "Add a window" re-shows the form as typed with one more row; nothing is created.
    let action = pairs
        .iter()
        .find(|(k, _)| k == "action")
        .map(|(_, v)| v.as_str())
        .unwrap_or("create");
    if action == "more" {
        if form.windows.len() < MAX_ROWS {
            form.windows.push(WindowRow::default());
        }
        return render_editor(&state, &caller, org, &form, Refusal::none(), StatusCode::OK).await;
    }
    let zone = site.map_or_else(|| "UTC".to_owned(), |s| s.time_zone);
    let outcome = match form.to_new_grant(&zone, state.app.clock.now_ms()) {
        Ok(new) => {
            state
                .app
                .create_grant(&caller.principal, &caller.actor(), org, new)
                .await
        }
        Err(e) => Err(e.into()),
    };
    match outcome {
        Ok(grant) => see_other(&format!(
            "/orgs/{org}/grants/{}?notice=grant_created",
            grant.spec.id
        )),
        Err(e) if explainable(&e) || e.code() == latchkey_domain::ErrorCode::NotFound => {
            // A subject or target that vanished (or is out of scope) is the form's problem too.
            let refusal = match e.code() {
                latchkey_domain::ErrorCode::NotFound => Refusal::at_field("target", e.to_string()),
                _ => Refusal::of(&e, GRANT_FIELDS),
            };
            render_editor(&state, &caller, org, &form, refusal, status_of(&e)).await
        }
        Err(e) => failure(&caller.chrome, &e),
    }
}

// ---------------------------------------------------------------------------------------------
// A grant

struct TreeItem {
    id: String,
    summary: String,
    revoked: bool,
}

#[derive(Template)]
#[template(path = "access/grant.html")]
struct GrantPage<'a> {
    c: &'a Chrome,
    org_id: String,
    id: String,
    summary: String,
    subject: String,
    target: String,
    rights: String,
    weekly: String,
    zone: String,
    validity: String,
    closed_dates: String,
    closed_on_holidays: bool,
    open_dates: String,
    max_uses: String,
    note: String,
    reshare_depth: u8,
    revoked: Option<String>,
    delegated_from: Option<String>,
    lines: Vec<TreeLine<TreeItem>>,
    open_at_end: usize,
    shared: usize,
    notice: Option<&'static str>,
}

fn flatten<'a>(node: &'a DelegationNode, depth: usize, out: &mut Vec<(&'a GrantRecord, usize)>) {
    out.push((&node.grant, depth));
    for child in &node.children {
        flatten(child, depth + 1, out);
    }
}

#[derive(Debug, Default, Deserialize)]
struct NoticeQuery {
    notice: Option<String>,
}

async fn grant_page(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path((org, grant)): Path<(String, String)>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let c = &caller.chrome;
    let (Some(org), Some(grant)): (Option<OrgId>, Option<GrantId>) =
        (parse_id(&org), parse_id(&grant))
    else {
        return not_found(c);
    };
    let tree = match state
        .app
        .delegation_tree(&caller.principal, org, grant)
        .await
    {
        Ok(tree) => tree,
        Err(e) => return failure(c, &e),
    };
    let catalog = if state
        .app
        .my_directory_scope(&caller.principal, org)
        .await
        .is_ok()
    {
        match Catalog::load(&state, &caller, org, ALL).await {
            Ok(catalog) => catalog,
            Err(e) => return failure(c, &e),
        }
    } else {
        Catalog::default()
    };
    let g = &tree.grant;
    let zone = words::zone_of(&catalog, g.spec.target);
    let mut flat = Vec::new();
    flatten(&tree, 0, &mut flat);
    let shared = flat
        .iter()
        .skip(1)
        .filter(|(r, _)| r.revoked_at_ms.is_none())
        .count();
    let (lines, open_at_end) = nest(
        flat.iter()
            .map(|(r, d)| {
                (
                    TreeItem {
                        id: r.spec.id.to_string(),
                        summary: words::summary(c, &catalog, r),
                        revoked: r.revoked_at_ms.is_some(),
                    },
                    *d,
                )
            })
            .collect(),
    );
    let schedule = &g.schedule;
    render(
        &GrantPage {
            c,
            org_id: org.to_string(),
            id: g.spec.id.to_string(),
            summary: words::summary(c, &catalog, g),
            subject: words::subject(c, &catalog, g.spec.subject),
            target: words::target(c, &catalog, g.spec.target),
            rights: words::rights(c, g),
            weekly: words::weekly(c, g, &zone),
            validity: words::validity(c, g, &zone),
            closed_dates: schedule
                .closed_dates
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            closed_on_holidays: schedule.closed_on_holidays,
            open_dates: schedule
                .open_dates
                .iter()
                .map(|o| {
                    let windows: Vec<String> = o
                        .windows
                        .iter()
                        .map(|w| format!("{}–{}", w.start, w.end))
                        .collect();
                    format!("{} {}", o.date, windows.join(", "))
                })
                .collect::<Vec<_>>()
                .join("; "),
            max_uses: schedule.max_uses.map(|m| m.to_string()).unwrap_or_default(),
            note: g.note.clone().unwrap_or_default(),
            reshare_depth: g.spec.reshare_depth,
            revoked: g.revoked_at_ms.map(|ms| local_text(ms, &zone)),
            delegated_from: g.spec.delegation.map(|d| d.parent.to_string()),
            zone,
            lines,
            open_at_end,
            shared,
            notice: notice_key(q.notice.as_deref()),
        },
        StatusCode::OK,
        c.lang,
    )
}

#[derive(Template)]
#[template(path = "access/revoke.html")]
struct RevokePage<'a> {
    c: &'a Chrome,
    org_id: String,
    id: String,
    summary: String,
    shared: usize,
    impact: Option<super::ImpactView>,
    refusal: Refusal,
}

async fn render_revoke(
    state: &WebState,
    caller: &ConsoleCaller,
    org: OrgId,
    grant: GrantId,
    refusal: Refusal,
    status: StatusCode,
) -> Response {
    let c = &caller.chrome;
    let tree = match state
        .app
        .delegation_tree(&caller.principal, org, grant)
        .await
    {
        Ok(tree) => tree,
        Err(e) => return failure(c, &e),
    };
    // Holders (members who shared it) revoke from here too; they have no directory names.
    let catalog = if state
        .app
        .my_directory_scope(&caller.principal, org)
        .await
        .is_ok()
    {
        match Catalog::load(state, caller, org, ALL).await {
            Ok(catalog) => catalog,
            Err(e) => return failure(c, &e),
        }
    } else {
        Catalog::default()
    };
    let shared = live_in(&tree).into_iter().filter(|id| *id != grant).count();
    let impact = super::preview(
        state,
        caller,
        org,
        &catalog,
        latchkey_domain::access::Removal::Grant { grant },
    )
    .await;
    render(
        &RevokePage {
            c,
            org_id: org.to_string(),
            id: grant.to_string(),
            summary: words::summary(c, &catalog, &tree.grant),
            shared,
            impact,
            refusal,
        },
        status,
        c.lang,
    )
}

async fn confirm_revoke(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path((org, grant)): Path<(String, String)>,
) -> Response {
    let (Some(org), Some(grant)) = (parse_id(&org), parse_id(&grant)) else {
        return not_found(&caller.chrome);
    };
    render_revoke(&state, &caller, org, grant, Refusal::none(), StatusCode::OK).await
}

#[derive(Debug, Default, Deserialize)]
struct CsrfOnly {
    #[serde(default)]
    _csrf: String,
}

async fn revoke(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path((org, grant)): Path<(String, String)>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Err(refused) = check_form(&state, &caller, &form._csrf) {
        return refused;
    }
    let (Some(org), Some(grant)): (Option<OrgId>, Option<GrantId>) =
        (parse_id(&org), parse_id(&grant))
    else {
        return not_found(&caller.chrome);
    };
    match state
        .app
        .revoke_grant(&caller.principal, &caller.actor(), org, grant)
        .await
    {
        Ok(_) => see_other(&format!("/orgs/{org}/grants/{grant}?notice=grant_revoked")),
        Err(e) if explainable(&e) => {
            render_revoke(
                &state,
                &caller,
                org,
                grant,
                Refusal::of(&e, &[]),
                status_of(&e),
            )
            .await
        }
        Err(e) => failure(&caller.chrome, &e),
    }
}
