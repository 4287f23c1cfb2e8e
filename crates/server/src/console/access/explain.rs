//! "Who can open this lock at T, and why" with "why not" for one person, and "what can this
//! person open at T" (for admins from the people and group pages, and for anyone about
//! themselves: "my access"). The instant is typed on the site's wall clock, zone named.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use latchkey_domain::access::{Decision, Reason};
use latchkey_domain::{AccountId, DeviceId, DomainError, OrgId};
use serde::Deserialize;

use super::time::{local_parts, local_text, parse_local};
use super::words;
use crate::console::directory::{Catalog, Refusal, Want, failure, not_found, parse_id};
use crate::console::shell::{Chrome, ConsoleCaller, render};
use crate::web::WebState;

pub(super) fn routes() -> Router<WebState> {
    Router::new()
        .route("/orgs/{org}/locks/{lock}/access", get(lock_page))
        .route("/orgs/{org}/people/{account}/access", get(person_page))
        .route("/orgs/{org}/my-access", get(my_access))
}

const ALL: Want = Want {
    devices: true,
    groups: true,
    people: true,
};

#[derive(Debug, Default, Deserialize)]
struct AtQuery {
    date: Option<String>,
    time: Option<String>,
    person: Option<String>,
    site: Option<String>,
}

/// One grant that lets someone in, in words.
struct Why {
    grant_id: String,
    grant: String,
    via: Vec<String>,
}

fn why(
    c: &Chrome,
    catalog: &Catalog,
    grants: &[latchkey_store::repo::GrantRecord],
    r: &Reason,
) -> Why {
    let grant = grants
        .iter()
        .find(|g| g.spec.id == r.grant)
        .map_or_else(String::new, |g| words::summary(c, catalog, g));
    Why {
        grant_id: r.grant.to_string(),
        grant,
        via: words::reason(c, catalog, r),
    }
}

/// The organisation's grants the caller may see (to name the grants behind a reason).
async fn visible_grants(
    state: &WebState,
    caller: &ConsoleCaller,
    org: OrgId,
) -> Vec<latchkey_store::repo::GrantRecord> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let filter = latchkey_store::repo::GrantFilter {
            include_revoked: true,
            now_ms: state.app.clock.now_ms(),
            after,
            limit: 200,
            ..Default::default()
        };
        match state.app.grants(&caller.principal, org, filter).await {
            Ok(page) => {
                out.extend(page.grants);
                match page.next_cursor {
                    Some(next) => after = Some(next),
                    None => return out,
                }
            }
            Err(_) => return out,
        }
    }
}

/// The instant asked for (site wall clock), or now.
fn instant(state: &WebState, q: &AtQuery, zone: &str) -> Result<i64, DomainError> {
    let date = q.date.as_deref().unwrap_or("").trim();
    let time = q.time.as_deref().unwrap_or("").trim();
    if date.is_empty() && time.is_empty() {
        return Ok(state.app.clock.now_ms());
    }
    if date.is_empty() {
        return Err(DomainError::invalid(
            "at",
            "give the date as well as the time",
        ));
    }
    parse_local("at", date, time, zone)
}

struct PersonWhy {
    id: String,
    name: String,
    reasons: Vec<Why>,
}

struct Miss {
    refusal_key: &'static str,
    why: Why,
}

struct Verdict {
    person: String,
    allowed: bool,
    denial_key: &'static str,
    because: Vec<Why>,
    misses: Vec<Miss>,
}

#[derive(Template)]
#[template(path = "access/lock.html")]
struct LockPage<'a> {
    c: &'a Chrome,
    org_id: String,
    lock_id: String,
    lock_name: String,
    place: String,
    zone: String,
    date: String,
    time: String,
    at_text: String,
    people: Vec<PersonWhy>,
    choices: Vec<(String, String)>,
    person: String,
    verdict: Option<Verdict>,
    refusal: Refusal,
}

async fn lock_page(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path((org, lock)): Path<(String, String)>,
    Query(q): Query<AtQuery>,
) -> Response {
    let c = &caller.chrome;
    let (Some(org), Some(lock)): (Option<OrgId>, Option<DeviceId>) =
        (parse_id(&org), parse_id(&lock))
    else {
        return not_found(c);
    };
    let device = match state.app.device_of(&caller.principal, org, lock).await {
        Ok(d) => d,
        Err(e) => return failure(c, &e),
    };
    let catalog = match Catalog::load(&state, &caller, org, ALL).await {
        Ok(catalog) => catalog,
        Err(e) => return failure(c, &e),
    };
    let zone = catalog
        .site_of_device(lock)
        .map_or_else(|| "UTC".to_owned(), |s| s.time_zone.clone());
    let (at, refusal, status) = match instant(&state, &q, &zone) {
        Ok(at) => (at, Refusal::none(), StatusCode::OK),
        Err(e) => (
            state.app.clock.now_ms(),
            Refusal::of(&e.into(), &["at"]),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    };
    let (date, time) = if refusal.any() {
        (
            q.date.clone().unwrap_or_default(),
            q.time.clone().unwrap_or_default(),
        )
    } else {
        local_parts(at, &zone)
    };
    let who = match state
        .app
        .who_can_open(&caller.principal, org, lock, at)
        .await
    {
        Ok(who) => who,
        Err(e) => return failure(c, &e),
    };
    let grants = visible_grants(&state, &caller, org).await;
    let mut people: Vec<PersonWhy> = who
        .iter()
        .map(|p| PersonWhy {
            id: p.person.to_string(),
            name: catalog.person(p.person).map_or_else(
                || p.person.to_string(),
                |x| format!("{} ({})", x.name, x.email),
            ),
            reasons: p
                .because
                .iter()
                .map(|r| why(c, &catalog, &grants, r))
                .collect(),
        })
        .collect();
    people.sort_by(|a, b| a.name.cmp(&b.name));
    let person: Option<AccountId> = q.person.as_deref().and_then(parse_id);
    let verdict = match person {
        Some(p) if !refusal.any() => {
            match state.app.decide(&caller.principal, org, p, lock, at).await {
                Ok(decision) => Some(verdict(c, &catalog, &grants, p, &decision)),
                Err(e) => return failure(c, &e),
            }
        }
        _ => None,
    };
    let mut choices: Vec<(String, String)> = catalog
        .people
        .iter()
        .map(|p| (p.id.to_string(), format!("{} ({})", p.name, p.email)))
        .collect();
    choices.sort_by(|a, b| a.1.cmp(&b.1));
    let place = device
        .space_id
        .map(|s| catalog.space_path(s))
        .unwrap_or_default();
    render(
        &LockPage {
            c,
            org_id: org.to_string(),
            lock_id: lock.to_string(),
            lock_name: device.name,
            place,
            at_text: local_text(at, &zone),
            zone,
            date,
            time,
            people,
            choices,
            person: q.person.clone().unwrap_or_default(),
            verdict,
            refusal,
        },
        status,
        c.lang,
    )
}

fn verdict(
    c: &Chrome,
    catalog: &Catalog,
    grants: &[latchkey_store::repo::GrantRecord],
    person: AccountId,
    decision: &Decision,
) -> Verdict {
    let name = catalog
        .person(person)
        .map_or_else(|| person.to_string(), |p| p.name.clone());
    match decision {
        Decision::Allowed { because } => Verdict {
            person: name,
            allowed: true,
            denial_key: "",
            because: because.iter().map(|r| why(c, catalog, grants, r)).collect(),
            misses: Vec::new(),
        },
        Decision::Denied {
            reason,
            near_misses,
        } => Verdict {
            person: name,
            allowed: false,
            denial_key: words::denial_key(*reason),
            because: Vec::new(),
            misses: near_misses
                .iter()
                .map(|m| Miss {
                    refusal_key: words::refusal_key(m.refusal),
                    why: why(c, catalog, grants, &m.path),
                })
                .collect(),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// What a person can open

struct LockWhy {
    id: String,
    name: String,
    place: String,
    reasons: Vec<Why>,
}

#[derive(Template)]
#[template(path = "access/person.html")]
struct PersonPage<'a> {
    c: &'a Chrome,
    org_id: String,
    action: String,
    name: String,
    zone: String,
    sites: Vec<(String, String)>,
    site: String,
    date: String,
    time: String,
    at_text: String,
    locks: Vec<LockWhy>,
    refusal: Refusal,
}

async fn person_page(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path((org, account)): Path<(String, String)>,
    Query(q): Query<AtQuery>,
) -> Response {
    let (Some(org), Some(account)) = (parse_id(&org), parse_id(&account)) else {
        return not_found(&caller.chrome);
    };
    person_access(&state, &caller, org, account, q, false).await
}

async fn my_access(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path(org): Path<String>,
    Query(q): Query<AtQuery>,
) -> Response {
    let Some(org) = parse_id(&org) else {
        return not_found(&caller.chrome);
    };
    let me = caller.principal.account_id;
    person_access(&state, &caller, org, me, q, true).await
}

async fn person_access(
    state: &WebState,
    caller: &ConsoleCaller,
    org: OrgId,
    person: AccountId,
    q: AtQuery,
    mine: bool,
) -> Response {
    let c = &caller.chrome;
    // Asked first: it says 404 or 403 for people the caller may not ask about.
    let now = state.app.clock.now_ms();
    if let Err(e) = state
        .app
        .what_can_open(&caller.principal, org, person, now)
        .await
    {
        return failure(c, &e);
    }
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
    let mut sites: Vec<(String, String)> = catalog
        .sites
        .iter()
        .map(|s| (s.id.to_string(), format!("{} ({})", s.name, s.time_zone)))
        .collect();
    sites.sort_by(|a, b| a.1.cmp(&b.1));
    let site = catalog
        .sites
        .iter()
        .find(|s| Some(s.id.to_string()) == q.site)
        .or_else(|| catalog.sites.first());
    let zone = site.map_or_else(|| "UTC".to_owned(), |s| s.time_zone.clone());
    let (at, refusal, status) = match instant(state, &q, &zone) {
        Ok(at) => (at, Refusal::none(), StatusCode::OK),
        Err(e) => (
            now,
            Refusal::of(&e.into(), &["at"]),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    };
    let (date, time) = if refusal.any() {
        (
            q.date.clone().unwrap_or_default(),
            q.time.clone().unwrap_or_default(),
        )
    } else {
        local_parts(at, &zone)
    };
    let found = match state
        .app
        .what_can_open(&caller.principal, org, person, at)
        .await
    {
        Ok(found) => found,
        Err(e) => return failure(c, &e),
    };
    let grants = visible_grants(state, caller, org).await;
    let mut locks: Vec<LockWhy> = found
        .iter()
        .map(|l| LockWhy {
            id: l.lock.to_string(),
            name: catalog
                .device(l.lock)
                .map_or_else(|| c.t("access.a_lock").to_owned(), |d| d.name.clone()),
            place: catalog
                .device(l.lock)
                .and_then(|d| d.space_id)
                .map(|s| catalog.space_path(s))
                .unwrap_or_default(),
            reasons: l
                .because
                .iter()
                .map(|r| why(c, &catalog, &grants, r))
                .collect(),
        })
        .collect();
    locks.sort_by(|a, b| a.name.cmp(&b.name));
    let name = if mine {
        caller.principal.name.clone()
    } else {
        catalog
            .person(person)
            .map_or_else(|| person.to_string(), |p| p.name.clone())
    };
    let action = if mine {
        format!("/orgs/{org}/my-access")
    } else {
        format!("/orgs/{org}/people/{person}/access")
    };
    render(
        &PersonPage {
            c,
            org_id: org.to_string(),
            action,
            name,
            at_text: local_text(at, &zone),
            zone,
            sites,
            site: site.map(|s| s.id.to_string()).unwrap_or_default(),
            date,
            time,
            locks,
            refusal,
        },
        status,
        c.lang,
    )
}
