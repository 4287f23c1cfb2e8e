//! Console pages of the directory: sites and their space trees, groups of people, the device
//! registry. Every page calls the same services as the REST API, so authorization is theirs:
//! another tenant's or an out-of-scope id is the 404 page, too low a role the 403 page.
//! State-changing forms carry the session's CSRF token; success redirects (303) with a notice;
//! a refusal re-renders the form with the service's message next to the field, keeping what was
//! typed.
//!
//! The helpers here (refusals, failure pages, the organisation's catalog of names) are shared
//! with the access pages.

mod devices;
mod groups;
mod people;
mod sites;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use latchkey_domain::directory::{Device, Group, Space};
use latchkey_domain::tenancy::Site;
use latchkey_domain::{AccountId, DeviceId, ErrorCode, GroupId, OrgId, SiteId, SpaceId};

use crate::app::ServiceError;
use crate::console::shell::{Chrome, ConsoleCaller, csrf_refused, message, unavailable};
use crate::directory::{ListQuery, MAX_LIMIT};
use crate::identity::people::PeopleQuery;
use crate::web::WebState;

/// This area's console routes.
pub(crate) fn routes() -> Router<WebState> {
    Router::new()
        .merge(sites::routes())
        .merge(groups::routes())
        .merge(devices::routes())
        .merge(people::routes())
}

pub(crate) use crate::console::shell::status_of;

/// A refusal the page can explain next to the form (everything else gets its own page).
pub(crate) fn explainable(e: &ServiceError) -> bool {
    matches!(
        e.code(),
        ErrorCode::InvalidField
            | ErrorCode::RuleViolation
            | ErrorCode::Conflict
            | ErrorCode::StaleVersion
            | ErrorCode::TenantInactive
    )
}

/// The page for a refusal that is not about the form: not found, not allowed, unavailable.
pub(crate) fn failure(c: &Chrome, e: &ServiceError) -> Response {
    match e.code() {
        ErrorCode::NotFound => not_found(c),
        ErrorCode::MfaEnrolmentRequired => message(
            c,
            StatusCode::FORBIDDEN,
            "orgs.forbidden.title",
            "orgs.mfa_required.body",
        ),
        ErrorCode::Forbidden | ErrorCode::StepUpRequired => message(
            c,
            StatusCode::FORBIDDEN,
            "orgs.forbidden.title",
            "orgs.forbidden.body",
        ),
        _ => unavailable(c, e),
    }
}

/// The 404 page (unknown, malformed, cross-tenant and out-of-scope ids alike).
pub(crate) fn not_found(c: &Chrome) -> Response {
    message(
        c,
        StatusCode::NOT_FOUND,
        "error.not_found.title",
        "error.not_found.body",
    )
}

/// Parses an id from the path or a form; `None` is answered with the 404 page.
pub(crate) fn parse_id<K>(raw: &str) -> Option<latchkey_domain::ids::Id<K>> {
    raw.trim().parse().ok()
}

/// A 303 to `to`.
pub(crate) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// Refuses a form without this session's token (403 page).
#[allow(clippy::result_large_err)]
pub(crate) fn check_form(
    state: &WebState,
    caller: &ConsoleCaller,
    csrf: &str,
) -> Result<(), Response> {
    caller
        .check_csrf(state, csrf)
        .map_err(|_| csrf_refused(&caller.chrome))
}

/// A service's refusal, placed next to the field it names when the form has that field, else
/// above the form.
#[derive(Debug, Clone, Default)]
pub(crate) struct Refusal {
    field: Option<&'static str>,
    message: String,
    general: bool,
}

impl Refusal {
    /// No refusal.
    pub(crate) fn none() -> Self {
        Self::default()
    }

    /// The refusal of `e` on a form with `fields` (the service's field names).
    pub(crate) fn of(e: &ServiceError, fields: &[&'static str]) -> Self {
        let field = match e {
            ServiceError::Domain(d) => d.field,
            ServiceError::Store(_) => None,
        };
        let on_form = field.and_then(|f| fields.iter().copied().find(|known| *known == f));
        Self {
            field: on_form,
            message: e.to_string(),
            general: on_form.is_none(),
        }
    }

    /// A refusal of the console's own (a form value it could not read).
    pub(crate) fn at_field(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field: Some(field),
            message: message.into(),
            general: false,
        }
    }

    /// The message when it is about `field`.
    pub(crate) fn at(&self, field: &str) -> Option<&str> {
        (self.field == Some(field)).then_some(self.message.as_str())
    }

    /// The message when it is about no field of the form.
    pub(crate) fn general(&self) -> Option<&str> {
        (self.general && !self.message.is_empty()).then_some(self.message.as_str())
    }

    /// True when there is something to show.
    pub(crate) fn any(&self) -> bool {
        !self.message.is_empty()
    }
}

/// What a re-rendered page says besides its data: a refusal (with the form as typed), or the
/// notice after a redirect, and the status to answer with.
pub(crate) struct Shown {
    pub(crate) refusal: Refusal,
    pub(crate) notice: Option<&'static str>,
    pub(crate) status: StatusCode,
}

impl Shown {
    /// The page again after `e` refused the form: its message (placed at one of `fields` when it
    /// names one) and its status.
    pub(crate) fn refused(e: &ServiceError, fields: &[&'static str]) -> Self {
        Self {
            refusal: Refusal::of(e, fields),
            notice: None,
            status: status_of(e),
        }
    }
}

/// A notice shown after a redirect; only known keys (the query is attacker-controlled).
pub(crate) fn notice_key(raw: Option<&str>) -> Option<&'static str> {
    Some(match raw? {
        "site_created" => "directory.notice.site_created",
        "space_created" => "directory.notice.space_created",
        "space_changed" => "directory.notice.space_changed",
        "space_deleted" => "directory.notice.space_deleted",
        "group_created" => "directory.notice.group_created",
        "member_added" => "directory.notice.member_added",
        "member_removed" => "directory.notice.member_removed",
        "device_created" => "directory.notice.device_created",
        "device_changed" => "directory.notice.device_changed",
        "profile_changed" => "directory.notice.profile_changed",
        "scopes_changed" => "directory.notice.scopes_changed",
        "grant_created" => "access.notice.grant_created",
        "grant_revoked" => "access.notice.grant_revoked",
        "grants_revoked" => "access.notice.grants_revoked",
        _ => return None,
    })
}

/// Everything of one kind, following the cursor (directory lists are bounded per tenant).
async fn all_pages<T, F, Fut>(mut fetch: F) -> Result<Vec<T>, ServiceError>
where
    F: FnMut(ListQuery) -> Fut,
    Fut: std::future::Future<Output = Result<crate::directory::Page<T>, ServiceError>>,
{
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = fetch(ListQuery {
            limit: Some(MAX_LIMIT),
            cursor: cursor.take(),
            label: None,
        })
        .await?;
        out.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(out),
        }
    }
}

/// A person as pickers and explanations name them.
#[derive(Debug, Clone)]
pub(crate) struct PersonName {
    pub(crate) id: AccountId,
    pub(crate) name: String,
    pub(crate) email: String,
}

/// The names of what the caller may see in the organisation: for pickers (subjects, targets,
/// parents) and to say grants and explanations in words. Kinds the caller's role does not
/// reach are left empty rather than refused: the page itself was authorized by its own call.
#[derive(Debug, Clone, Default)]
pub(crate) struct Catalog {
    pub(crate) sites: Vec<Site>,
    pub(crate) spaces: Vec<Space>,
    pub(crate) devices: Vec<Device>,
    pub(crate) groups: Vec<Group>,
    pub(crate) device_groups: Vec<latchkey_domain::directory::DeviceGroup>,
    pub(crate) people: Vec<PersonName>,
}

/// What the catalog should load.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Want {
    pub(crate) devices: bool,
    pub(crate) groups: bool,
    pub(crate) people: bool,
}

impl Catalog {
    /// Loads the sites and spaces (always) and the kinds asked for.
    pub(crate) async fn load(
        state: &WebState,
        caller: &ConsoleCaller,
        org: OrgId,
        want: Want,
    ) -> Result<Self, ServiceError> {
        let (app, p) = (&state.app, &caller.principal);
        let sites = all_pages(|q| async move { app.sites_page(p, org, &q).await }).await?;
        let spaces = all_pages(|q| async move {
            app.spaces_page(
                p,
                org,
                &crate::directory::spaces::SpaceFilter::default(),
                &q,
            )
            .await
        })
        .await?;
        let mut catalog = Self {
            sites,
            spaces,
            ..Self::default()
        };
        if want.devices {
            catalog.devices = all_pages(|q| async move {
                app.devices_page(
                    p,
                    org,
                    &crate::directory::devices::DeviceFilter::default(),
                    &q,
                )
                .await
            })
            .await?;
        }
        // Managers and owners may not read the group and people pages, but they make grants
        // and need to name a subject: they get names only, from the grant service.
        let mut choices = None;
        if want.groups {
            catalog.groups =
                match all_pages(|q| async move { app.groups_page(p, org, &q).await }).await {
                    Err(e) if e.code() == ErrorCode::Forbidden => {
                        let subjects = tolerate_role(app.grant_subject_choices(p, org).await)?;
                        let groups = subjects
                            .groups
                            .iter()
                            .map(|(id, name)| named_group(*id, name))
                            .collect();
                        choices = Some(subjects);
                        groups
                    }
                    other => other?,
                };
            catalog.device_groups = tolerate_role(
                all_pages(|q| async move { app.device_groups_page(p, org, &q).await }).await,
            )?;
        }
        if want.people {
            catalog.people = match people(state, caller, org).await {
                Err(e) if e.code() == ErrorCode::Forbidden => {
                    let subjects = match choices {
                        Some(subjects) => subjects,
                        None => tolerate_role(app.grant_subject_choices(p, org).await)?,
                    };
                    subjects
                        .people
                        .into_iter()
                        .map(|s| PersonName {
                            id: s.id,
                            name: s.name,
                            email: s.email,
                        })
                        .collect()
                }
                other => other?,
            };
        }
        Ok(catalog)
    }

    pub(crate) fn site(&self, id: SiteId) -> Option<&Site> {
        self.sites.iter().find(|s| s.id == id)
    }

    pub(crate) fn space(&self, id: SpaceId) -> Option<&Space> {
        self.spaces.iter().find(|s| s.id == id)
    }

    pub(crate) fn device(&self, id: DeviceId) -> Option<&Device> {
        self.devices.iter().find(|d| d.id == id)
    }

    pub(crate) fn group(&self, id: GroupId) -> Option<&Group> {
        self.groups.iter().find(|g| g.id == id)
    }

    pub(crate) fn person(&self, id: AccountId) -> Option<&PersonName> {
        self.people.iter().find(|p| p.id == id)
    }

    /// A space's name with its ancestors ("Tower › 3F › Room 301").
    pub(crate) fn space_path(&self, id: SpaceId) -> String {
        let mut names = Vec::new();
        let mut at = Some(id);
        while let Some(current) = at {
            let Some(space) = self.space(current) else {
                break;
            };
            if names.len() > self.spaces.len() {
                break;
            }
            names.push(space.name.as_str());
            at = space.parent_id;
        }
        names.reverse();
        names.join(" › ")
    }

    /// The site a space lies in.
    pub(crate) fn site_of_space(&self, id: SpaceId) -> Option<&Site> {
        self.space(id).and_then(|s| self.site(s.site_id))
    }

    /// The site a device is placed in.
    pub(crate) fn site_of_device(&self, id: DeviceId) -> Option<&Site> {
        self.device(id)
            .and_then(|d| d.space_id)
            .and_then(|s| self.site_of_space(s))
    }

    /// The spaces of a site in tree order (pre-order, siblings by name), with their depth.
    pub(crate) fn tree_of_site(&self, site: SiteId) -> Vec<(&Space, usize)> {
        let mut out = Vec::new();
        let mut roots: Vec<&Space> = self
            .spaces
            .iter()
            // A space whose parent the caller cannot see (a manager's subtree) is a root too.
            .filter(|s| s.site_id == site && s.parent_id.is_none_or(|p| self.space(p).is_none()))
            .collect();
        roots.sort_by(|a, b| a.name.cmp(&b.name));
        for root in roots {
            self.walk(root, 0, &mut out);
        }
        out
    }

    fn walk<'a>(&'a self, space: &'a Space, depth: usize, out: &mut Vec<(&'a Space, usize)>) {
        if out.len() > self.spaces.len() || out.iter().any(|(s, _)| s.id == space.id) {
            return;
        }
        out.push((space, depth));
        let mut children: Vec<&Space> = self
            .spaces
            .iter()
            .filter(|s| s.parent_id == Some(space.id))
            .collect();
        children.sort_by(|a, b| a.name.cmp(&b.name));
        for child in children {
            self.walk(child, depth + 1, out);
        }
    }
}

/// A list the caller's role does not reach is empty for the catalog's purposes.
fn tolerate_role<T: Default>(result: Result<T, ServiceError>) -> Result<T, ServiceError> {
    match result {
        Err(e) if e.code() == ErrorCode::Forbidden => Ok(T::default()),
        other => other,
    }
}

/// A group known by its name only (for pickers of callers who may not read groups).
fn named_group(id: GroupId, name: &str) -> Group {
    Group {
        id,
        name: name.to_owned(),
        description: None,
        labels: Vec::new(),
        members: Vec::new(),
        created_at_ms: 0,
        version: 0,
    }
}

/// Every person of the organisation (for pickers and names).
async fn people(
    state: &WebState,
    caller: &ConsoleCaller,
    org: OrgId,
) -> Result<Vec<PersonName>, ServiceError> {
    let mut out = Vec::new();
    let mut page = 1;
    loop {
        let found = state
            .app
            .people(
                &caller.principal,
                org,
                PeopleQuery {
                    q: None,
                    page: Some(page),
                    per_page: Some(crate::identity::people::MAX_PER_PAGE),
                },
            )
            .await?;
        let got = found.items.len();
        out.extend(found.items.into_iter().map(|p| PersonName {
            id: p.account_id,
            name: p.name,
            email: p.email,
        }));
        if got == 0 || out.len() >= found.total {
            return Ok(out);
        }
        page += 1;
    }
}

/// One line of a nested list rendered from a pre-order walk: what closes and opens before it.
#[derive(Debug, Clone)]
pub(crate) struct TreeLine<T> {
    /// Open a nested `<ul>` inside the previous item.
    pub(crate) open: bool,
    /// Close the previous item (`</li>`).
    pub(crate) close_item: bool,
    /// Then close this many nested lists with their items (`</ul></li>`).
    pub(crate) close_lists: usize,
    /// The item.
    pub(crate) item: T,
}

/// Turns (item, depth) in pre-order into lines of a nested list; returns the lines and how many
/// nested lists remain open at the end.
pub(crate) fn nest<T>(items: Vec<(T, usize)>) -> (Vec<TreeLine<T>>, usize) {
    let mut lines = Vec::with_capacity(items.len());
    let mut previous: Option<usize> = None;
    for (item, depth) in items {
        let line = match previous {
            None => TreeLine {
                open: false,
                close_item: false,
                close_lists: 0,
                item,
            },
            Some(p) if depth > p => TreeLine {
                open: true,
                close_item: false,
                close_lists: 0,
                item,
            },
            Some(p) => TreeLine {
                open: false,
                close_item: true,
                close_lists: p - depth,
                item,
            },
        };
        previous = Some(depth);
        lines.push(line);
    }
    (lines, previous.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preorder_walk_becomes_a_balanced_nested_list() {
        let (lines, open_at_end) = nest(vec![("a", 0), ("b", 1), ("c", 2), ("d", 0), ("e", 1)]);
        let mut html = String::from("<ul>");
        for l in &lines {
            if l.open {
                html.push_str("<ul>");
            }
            if l.close_item {
                html.push_str("</li>");
            }
            for _ in 0..l.close_lists {
                html.push_str("</ul></li>");
            }
            html.push_str("<li>");
            html.push_str(l.item);
        }
        html.push_str("</li>");
        for _ in 0..open_at_end {
            html.push_str("</ul></li>");
        }
        html.push_str("</ul>");
        assert_eq!(
            html,
            "<ul><li>a<ul><li>b<ul><li>c</li></ul></li></ul></li><li>d<ul><li>e</li></ul></li></ul>"
        );
    }
}
