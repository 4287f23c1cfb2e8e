//! Sites and their space trees: the site list (create with name and IANA time zone), a site's
//! tree as a nested list of links (keyboard-usable, no script) with a form to add a space under
//! any node, and a space's page to rename, move (to any other node of the site; the service
//! refuses cycles) and delete it (refused with the reason while it holds spaces or devices).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Form, Router};
use latchkey_domain::directory::Device;
use latchkey_domain::tenancy::Site;
use latchkey_domain::{OrgId, SiteId, SpaceId};
use serde::Deserialize;

use super::devices::kind_key;
use super::{
    Catalog, Refusal, Shown, TreeLine, Want, check_form, explainable, failure, nest, not_found,
    notice_key, parse_id, see_other, status_of,
};
use crate::console::shell::{Chrome, ConsoleCaller, render};
use crate::directory::sites::NewSite;
use crate::directory::spaces::{NewSpace, SpacePatch};
use crate::web::WebState;

pub(super) fn routes() -> Router<WebState> {
    Router::new()
        .route("/orgs/{org}/sites", get(sites_page).post(create_site))
        .route(
            "/orgs/{org}/sites/{site}",
            get(site_page).post(create_space),
        )
        .route(
            "/orgs/{org}/spaces/{space}",
            get(space_page).post(change_space),
        )
        .route(
            "/orgs/{org}/spaces/{space}/delete",
            get(confirm_delete).post(delete_space),
        )
}

#[derive(Debug, Default, Deserialize)]
struct NoticeQuery {
    notice: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// The site list

#[derive(Debug, Default, Deserialize)]
struct SiteForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    time_zone: String,
}

#[derive(Template)]
#[template(path = "directory/sites.html")]
struct SitesPage<'a> {
    c: &'a Chrome,
    org_id: String,
    sites: Vec<Site>,
    admin: bool,
    form: &'a SiteForm,
    refusal: Refusal,
    notice: Option<&'static str>,
}

async fn render_sites(
    state: &WebState,
    caller: &ConsoleCaller,
    org: OrgId,
    form: &SiteForm,
    shown: Shown,
) -> Response {
    let Shown {
        refusal,
        notice,
        status,
    } = shown;
    let c = &caller.chrome;
    let scope = match state.app.my_directory_scope(&caller.principal, org).await {
        Ok(scope) => scope,
        Err(e) => return failure(c, &e),
    };
    match Catalog::load(state, caller, org, Want::default()).await {
        Ok(catalog) => render(
            &SitesPage {
                c,
                org_id: org.to_string(),
                sites: catalog.sites,
                admin: scope.is_everything(),
                form,
                refusal,
                notice,
            },
            status,
            c.lang,
        ),
        Err(e) => failure(c, &e),
    }
}

async fn sites_page(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path(org): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let Some(org) = parse_id(&org) else {
        return not_found(&caller.chrome);
    };
    let notice = notice_key(q.notice.as_deref());
    render_sites(
        &state,
        &caller,
        org,
        &SiteForm::default(),
        Shown {
            refusal: Refusal::none(),
            notice,
            status: StatusCode::OK,
        },
    )
    .await
}

async fn create_site(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path(org): Path<String>,
    Form(form): Form<SiteForm>,
) -> Response {
    if let Err(refused) = check_form(&state, &caller, &form._csrf) {
        return refused;
    }
    let Some(org) = parse_id::<latchkey_domain::ids::Organisation>(&org) else {
        return not_found(&caller.chrome);
    };
    let input = NewSite {
        name: form.name.clone(),
        time_zone: form.time_zone.trim().to_owned(),
        ..NewSite::default()
    };
    match state
        .app
        .add_site(&caller.principal, &caller.actor(), org, input)
        .await
    {
        Ok(site) => see_other(&format!(
            "/orgs/{org}/sites/{}?notice=site_created",
            site.id
        )),
        Err(e) if explainable(&e) => {
            render_sites(
                &state,
                &caller,
                org,
                &form,
                Shown::refused(&e, &["name", "time_zone"]),
            )
            .await
        }
        Err(e) => failure(&caller.chrome, &e),
    }
}

// ---------------------------------------------------------------------------------------------
// A site's space tree

/// A space in a tree, as the page shows it.
struct SpaceItem {
    id: String,
    name: String,
    kind: String,
}

/// A choice of parent: a space with its path, or the top of the site (empty id).
struct ParentChoice {
    id: String,
    label: String,
}

#[derive(Debug, Default, Deserialize)]
struct SpaceForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    parent_id: String,
}

#[derive(Template)]
#[template(path = "directory/site.html")]
struct SitePage<'a> {
    c: &'a Chrome,
    org_id: String,
    site: Site,
    lines: Vec<TreeLine<SpaceItem>>,
    open_at_end: usize,
    parents: Vec<ParentChoice>,
    admin: bool,
    form: &'a SpaceForm,
    refusal: Refusal,
    notice: Option<&'static str>,
}

fn parent_choices(catalog: &Catalog, site: SiteId, except: Option<SpaceId>) -> Vec<ParentChoice> {
    catalog
        .tree_of_site(site)
        .into_iter()
        .filter(|(s, _)| Some(s.id) != except)
        .map(|(s, _)| ParentChoice {
            id: s.id.to_string(),
            label: catalog.space_path(s.id),
        })
        .collect()
}

async fn render_site(
    state: &WebState,
    caller: &ConsoleCaller,
    org: OrgId,
    site: SiteId,
    form: &SpaceForm,
    shown: Shown,
) -> Response {
    let Shown {
        refusal,
        notice,
        status,
    } = shown;
    let c = &caller.chrome;
    let site = match state.app.site_of(&caller.principal, org, site).await {
        Ok(site) => site,
        Err(e) => return failure(c, &e),
    };
    let admin = match state.app.my_directory_scope(&caller.principal, org).await {
        Ok(scope) => scope.is_everything(),
        Err(e) => return failure(c, &e),
    };
    let catalog = match Catalog::load(state, caller, org, Want::default()).await {
        Ok(catalog) => catalog,
        Err(e) => return failure(c, &e),
    };
    let (lines, open_at_end) = nest(
        catalog
            .tree_of_site(site.id)
            .into_iter()
            .map(|(s, depth)| {
                (
                    SpaceItem {
                        id: s.id.to_string(),
                        name: s.name.clone(),
                        kind: s.kind.clone(),
                    },
                    depth,
                )
            })
            .collect(),
    );
    let parents = parent_choices(&catalog, site.id, None);
    render(
        &SitePage {
            c,
            org_id: org.to_string(),
            site,
            lines,
            open_at_end,
            parents,
            admin,
            form,
            refusal,
            notice,
        },
        status,
        c.lang,
    )
}

async fn site_page(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path((org, site)): Path<(String, String)>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let (Some(org), Some(site)) = (parse_id(&org), parse_id(&site)) else {
        return not_found(&caller.chrome);
    };
    let notice = notice_key(q.notice.as_deref());
    render_site(
        &state,
        &caller,
        org,
        site,
        &SpaceForm::default(),
        Shown {
            refusal: Refusal::none(),
            notice,
            status: StatusCode::OK,
        },
    )
    .await
}

async fn create_space(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path((org, site)): Path<(String, String)>,
    Form(form): Form<SpaceForm>,
) -> Response {
    if let Err(refused) = check_form(&state, &caller, &form._csrf) {
        return refused;
    }
    let (Some(org), Some(site)) = (
        parse_id(&org),
        parse_id::<latchkey_domain::ids::Site>(&site),
    ) else {
        return not_found(&caller.chrome);
    };
    let parent = form.parent_id.trim();
    let input = NewSpace {
        site_id: site.to_string(),
        parent_id: (!parent.is_empty()).then(|| parent.to_owned()),
        name: form.name.clone(),
        kind: form.kind.clone(),
        labels: Vec::new(),
    };
    match state
        .app
        .add_space(&caller.principal, &caller.actor(), org, input)
        .await
    {
        Ok(_) => see_other(&format!("/orgs/{org}/sites/{site}?notice=space_created")),
        Err(e) if explainable(&e) => {
            render_site(
                &state,
                &caller,
                org,
                site,
                &form,
                Shown::refused(&e, &["name", "kind", "parent_id"]),
            )
            .await
        }
        Err(e) => failure(&caller.chrome, &e),
    }
}

// ---------------------------------------------------------------------------------------------
// A space

struct DeviceItem {
    id: String,
    name: String,
    kind: &'static str,
    lock: bool,
}

impl From<&Device> for DeviceItem {
    fn from(d: &Device) -> Self {
        Self {
            id: d.id.to_string(),
            name: d.name.clone(),
            kind: kind_key(d.kind),
            lock: d.kind == latchkey_domain::directory::DeviceKind::Lock,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct ChangeSpaceForm {
    #[serde(default)]
    _csrf: String,
    /// `rename` or `move`.
    #[serde(default)]
    action: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    parent_id: String,
    #[serde(default)]
    version: String,
}

#[derive(Template)]
#[template(path = "directory/space.html")]
struct SpacePage<'a> {
    c: &'a Chrome,
    org_id: String,
    site: Site,
    space_id: String,
    path: String,
    version: i64,
    parents: Vec<ParentChoice>,
    children: Vec<SpaceItem>,
    devices: Vec<DeviceItem>,
    admin: bool,
    form: &'a ChangeSpaceForm,
    refusal: Refusal,
    notice: Option<&'static str>,
}

async fn render_space(
    state: &WebState,
    caller: &ConsoleCaller,
    org: OrgId,
    id: SpaceId,
    form: Option<&ChangeSpaceForm>,
    shown: Shown,
) -> Response {
    let Shown {
        refusal,
        notice,
        status,
    } = shown;
    let c = &caller.chrome;
    let space = match state.app.space_of(&caller.principal, org, id).await {
        Ok(space) => space,
        Err(e) => return failure(c, &e),
    };
    let admin = match state.app.my_directory_scope(&caller.principal, org).await {
        Ok(scope) => scope.is_everything(),
        Err(e) => return failure(c, &e),
    };
    let want = Want {
        devices: true,
        ..Want::default()
    };
    let catalog = match Catalog::load(state, caller, org, want).await {
        Ok(catalog) => catalog,
        Err(e) => return failure(c, &e),
    };
    let Some(site) = catalog.site(space.site_id).cloned() else {
        return not_found(c);
    };
    let fresh = ChangeSpaceForm {
        name: space.name.clone(),
        kind: space.kind.clone(),
        parent_id: space.parent_id.map(|p| p.to_string()).unwrap_or_default(),
        ..ChangeSpaceForm::default()
    };
    let form = form.unwrap_or(&fresh);
    let mut children: Vec<SpaceItem> = catalog
        .spaces
        .iter()
        .filter(|s| s.parent_id == Some(space.id))
        .map(|s| SpaceItem {
            id: s.id.to_string(),
            name: s.name.clone(),
            kind: s.kind.clone(),
        })
        .collect();
    children.sort_by(|a, b| a.name.cmp(&b.name));
    let devices = catalog
        .devices
        .iter()
        .filter(|d| d.space_id == Some(space.id))
        .map(DeviceItem::from)
        .collect();
    render(
        &SpacePage {
            c,
            org_id: org.to_string(),
            space_id: space.id.to_string(),
            path: catalog.space_path(space.id),
            version: space.version,
            parents: parent_choices(&catalog, site.id, Some(space.id)),
            site,
            children,
            devices,
            admin,
            form,
            refusal,
            notice,
        },
        status,
        c.lang,
    )
}

async fn space_page(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path((org, space)): Path<(String, String)>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let (Some(org), Some(space)) = (parse_id(&org), parse_id(&space)) else {
        return not_found(&caller.chrome);
    };
    let notice = notice_key(q.notice.as_deref());
    render_space(
        &state,
        &caller,
        org,
        space,
        None,
        Shown {
            refusal: Refusal::none(),
            notice,
            status: StatusCode::OK,
        },
    )
    .await
}

async fn change_space(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path((org, space)): Path<(String, String)>,
    Form(form): Form<ChangeSpaceForm>,
) -> Response {
    if let Err(refused) = check_form(&state, &caller, &form._csrf) {
        return refused;
    }
    let (Some(org), Some(space)) = (
        parse_id::<latchkey_domain::ids::Organisation>(&org),
        parse_id::<latchkey_domain::ids::Space>(&space),
    ) else {
        return not_found(&caller.chrome);
    };
    let version = form.version.trim().parse::<i64>().ok();
    let patch = match form.action.as_str() {
        "rename" => SpacePatch {
            version,
            name: Some(form.name.clone()),
            kind: Some(form.kind.clone()),
            ..SpacePatch::default()
        },
        "move" => {
            let parent = form.parent_id.trim();
            SpacePatch {
                version,
                parent_id: Some((!parent.is_empty()).then(|| parent.to_owned())),
                ..SpacePatch::default()
            }
        }
        _ => return not_found(&caller.chrome),
    };
    match state
        .app
        .change_space(&caller.principal, &caller.actor(), org, space, None, patch)
        .await
    {
        Ok(_) => see_other(&format!("/orgs/{org}/spaces/{space}?notice=space_changed")),
        Err(e) if explainable(&e) => {
            render_space(
                &state,
                &caller,
                org,
                space,
                Some(&form),
                Shown::refused(&e, &["name", "kind", "parent_id"]),
            )
            .await
        }
        Err(e) => failure(&caller.chrome, &e),
    }
}

#[derive(Template)]
#[template(path = "directory/space_delete.html")]
struct ConfirmDeletePage<'a> {
    c: &'a Chrome,
    org_id: String,
    space_id: String,
    site_id: String,
    path: String,
    /// What the space still holds, by name (the service refuses while it holds anything).
    inside: Vec<String>,
    refusal: Refusal,
}

async fn render_confirm(
    state: &WebState,
    caller: &ConsoleCaller,
    org: OrgId,
    id: SpaceId,
    refusal: Refusal,
    status: StatusCode,
) -> Response {
    let c = &caller.chrome;
    let space = match state.app.space_of(&caller.principal, org, id).await {
        Ok(space) => space,
        Err(e) => return failure(c, &e),
    };
    let want = Want {
        devices: true,
        ..Want::default()
    };
    let catalog = match Catalog::load(state, caller, org, want).await {
        Ok(catalog) => catalog,
        Err(e) => return failure(c, &e),
    };
    let mut inside: Vec<String> = catalog
        .spaces
        .iter()
        .filter(|s| s.parent_id == Some(space.id))
        .map(|s| s.name.clone())
        .chain(
            catalog
                .devices
                .iter()
                .filter(|d| d.space_id == Some(space.id))
                .map(|d| d.name.clone()),
        )
        .collect();
    inside.sort();
    render(
        &ConfirmDeletePage {
            c,
            org_id: org.to_string(),
            space_id: space.id.to_string(),
            site_id: space.site_id.to_string(),
            path: catalog.space_path(space.id),
            inside,
            refusal,
        },
        status,
        c.lang,
    )
}

async fn confirm_delete(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path((org, space)): Path<(String, String)>,
) -> Response {
    let (Some(org), Some(space)) = (parse_id(&org), parse_id(&space)) else {
        return not_found(&caller.chrome);
    };
    render_confirm(&state, &caller, org, space, Refusal::none(), StatusCode::OK).await
}

#[derive(Debug, Default, Deserialize)]
struct CsrfOnly {
    #[serde(default)]
    _csrf: String,
}

async fn delete_space(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path((org, space)): Path<(String, String)>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Err(refused) = check_form(&state, &caller, &form._csrf) {
        return refused;
    }
    let (Some(org), Some(space)) = (
        parse_id::<latchkey_domain::ids::Organisation>(&org),
        parse_id::<latchkey_domain::ids::Space>(&space),
    ) else {
        return not_found(&caller.chrome);
    };
    let site = match state.app.space_of(&caller.principal, org, space).await {
        Ok(s) => s.site_id,
        Err(e) => return failure(&caller.chrome, &e),
    };
    match state
        .app
        .delete_space(&caller.principal, &caller.actor(), org, space, None)
        .await
    {
        Ok(()) => see_other(&format!("/orgs/{org}/sites/{site}?notice=space_deleted")),
        Err(e) if explainable(&e) => {
            let refusal = Refusal::of(&e, &[]);
            render_confirm(&state, &caller, org, space, refusal, status_of(&e)).await
        }
        Err(e) => failure(&caller.chrome, &e),
    }
}
