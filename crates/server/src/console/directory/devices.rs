//! The device registry: the list with filters (space, kind, status) and a create form; a
//! device's page with its edit form (name, model, place, enabled or disabled) and, for locks,
//! the way to "who can open".

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Form, Router};
use latchkey_domain::directory::{Device, DeviceKind, DeviceStatus};
use latchkey_domain::{DeviceId, OrgId};
use serde::Deserialize;

use super::{
    Catalog, Refusal, Shown, Want, check_form, explainable, failure, not_found, notice_key,
    parse_id, see_other, status_of,
};
use crate::console::shell::{Chrome, ConsoleCaller, render};
use crate::directory::devices::{DevicePatch, NewDevice};
use crate::web::WebState;

pub(super) fn routes() -> Router<WebState> {
    Router::new()
        .route("/orgs/{org}/devices", get(devices_page).post(create_device))
        .route(
            "/orgs/{org}/devices/{device}",
            get(device_page).post(change_device),
        )
}

/// The catalog key of a device kind.
pub(crate) fn kind_key(kind: DeviceKind) -> &'static str {
    match kind {
        DeviceKind::Lock => "devices.kind.lock",
        DeviceKind::Hub => "devices.kind.hub",
    }
}

fn status_key(status: DeviceStatus) -> &'static str {
    match status {
        DeviceStatus::Enabled => "devices.status.enabled",
        DeviceStatus::Disabled => "devices.status.disabled",
    }
}

/// A space to place a device in, with its site and path.
struct Place {
    id: String,
    label: String,
}

fn places(catalog: &Catalog) -> Vec<Place> {
    let mut sites: Vec<_> = catalog.sites.iter().collect();
    sites.sort_by(|a, b| a.name.cmp(&b.name));
    sites
        .into_iter()
        .flat_map(|site| {
            catalog
                .tree_of_site(site.id)
                .into_iter()
                .map(move |(s, _)| (site, s))
        })
        .map(|(site, s)| Place {
            id: s.id.to_string(),
            label: format!("{} › {}", site.name, catalog.space_path(s.id)),
        })
        .collect()
}

struct DeviceRow {
    id: String,
    name: String,
    kind_key: &'static str,
    lock: bool,
    model: String,
    place: String,
    status_key: &'static str,
}

fn row(catalog: &Catalog, d: &Device) -> DeviceRow {
    DeviceRow {
        id: d.id.to_string(),
        name: d.name.clone(),
        kind_key: kind_key(d.kind),
        lock: d.kind == DeviceKind::Lock,
        model: d.model.clone().unwrap_or_default(),
        place: d
            .space_id
            .map(|s| {
                let site = catalog
                    .site_of_space(s)
                    .map(|site| site.name.as_str())
                    .unwrap_or_default();
                format!("{site} › {}", catalog.space_path(s))
            })
            .unwrap_or_default(),
        status_key: status_key(d.status),
    }
}

#[derive(Debug, Default, Deserialize)]
struct DevicesQuery {
    notice: Option<String>,
    space_id: Option<String>,
    kind: Option<String>,
    status: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct DeviceForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    model: String,
    #[serde(default)]
    space_id: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    version: String,
}

#[derive(Template)]
#[template(path = "directory/devices.html")]
struct DevicesPage<'a> {
    c: &'a Chrome,
    org_id: String,
    devices: Vec<DeviceRow>,
    places: Vec<Place>,
    filter_space: String,
    filter_kind: String,
    filter_status: String,
    form: &'a DeviceForm,
    refusal: Refusal,
    notice: Option<&'static str>,
    /// The create form chooses the kind; an existing device keeps its kind.
    editing: bool,
}

const DEVICE_FIELDS: &[&str] = &["kind", "name", "model", "space_id", "status"];

async fn render_devices(
    state: &WebState,
    caller: &ConsoleCaller,
    org: OrgId,
    query: &DevicesQuery,
    form: &DeviceForm,
    refusal: Refusal,
    status: StatusCode,
) -> Response {
    let c = &caller.chrome;
    let want = Want {
        devices: true,
        ..Want::default()
    };
    let catalog = match Catalog::load(state, caller, org, want).await {
        Ok(catalog) => catalog,
        Err(e) => return failure(c, &e),
    };
    let filter_space = query.space_id.clone().unwrap_or_default();
    let filter_kind = query.kind.clone().unwrap_or_default();
    let filter_status = query.status.clone().unwrap_or_default();
    let mut devices: Vec<DeviceRow> = catalog
        .devices
        .iter()
        .filter(|d| {
            filter_space.is_empty()
                || d.space_id.map(|s| s.to_string()) == Some(filter_space.clone())
        })
        .filter(|d| filter_kind.is_empty() || d.kind.as_str() == filter_kind)
        .filter(|d| filter_status.is_empty() || d.status.as_str() == filter_status)
        .map(|d| row(&catalog, d))
        .collect();
    devices.sort_by(|a, b| a.name.cmp(&b.name));
    render(
        &DevicesPage {
            c,
            org_id: org.to_string(),
            devices,
            places: places(&catalog),
            filter_space,
            filter_kind,
            filter_status,
            form,
            refusal,
            notice: notice_key(query.notice.as_deref()),
            editing: false,
        },
        status,
        c.lang,
    )
}

async fn devices_page(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path(org): Path<String>,
    Query(query): Query<DevicesQuery>,
) -> Response {
    let Some(org) = parse_id(&org) else {
        return not_found(&caller.chrome);
    };
    // Coming from a space ("add a device here"): the form starts placed there.
    let form = DeviceForm {
        space_id: query.space_id.clone().unwrap_or_default(),
        ..DeviceForm::default()
    };
    render_devices(
        &state,
        &caller,
        org,
        &query,
        &form,
        Refusal::none(),
        StatusCode::OK,
    )
    .await
}

fn optional(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

async fn create_device(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path(org): Path<String>,
    Form(form): Form<DeviceForm>,
) -> Response {
    if let Err(refused) = check_form(&state, &caller, &form._csrf) {
        return refused;
    }
    let Some(org): Option<OrgId> = parse_id(&org) else {
        return not_found(&caller.chrome);
    };
    let input = NewDevice {
        kind: form.kind.clone(),
        name: form.name.clone(),
        model: optional(&form.model),
        space_id: optional(&form.space_id),
        status: optional(&form.status),
        labels: Vec::new(),
    };
    match state
        .app
        .add_device(&caller.principal, &caller.actor(), org, input)
        .await
    {
        Ok(device) => see_other(&format!(
            "/orgs/{org}/devices/{}?notice=device_created",
            device.id
        )),
        Err(e) if explainable(&e) => {
            let refusal = Refusal::of(&e, DEVICE_FIELDS);
            render_devices(
                &state,
                &caller,
                org,
                &DevicesQuery::default(),
                &form,
                refusal,
                status_of(&e),
            )
            .await
        }
        Err(e) => failure(&caller.chrome, &e),
    }
}

#[derive(Template)]
#[template(path = "directory/device.html")]
struct DevicePage<'a> {
    c: &'a Chrome,
    org_id: String,
    device: DeviceRow,
    version: i64,
    places: Vec<Place>,
    form: &'a DeviceForm,
    refusal: Refusal,
    notice: Option<&'static str>,
    editing: bool,
}

async fn render_device(
    state: &WebState,
    caller: &ConsoleCaller,
    org: OrgId,
    id: DeviceId,
    form: Option<&DeviceForm>,
    shown: Shown,
) -> Response {
    let Shown {
        refusal,
        notice,
        status,
    } = shown;
    let c = &caller.chrome;
    let device = match state.app.device_of(&caller.principal, org, id).await {
        Ok(device) => device,
        Err(e) => return failure(c, &e),
    };
    let catalog = match Catalog::load(state, caller, org, Want::default()).await {
        Ok(catalog) => catalog,
        Err(e) => return failure(c, &e),
    };
    let fresh = DeviceForm {
        kind: device.kind.as_str().to_owned(),
        name: device.name.clone(),
        model: device.model.clone().unwrap_or_default(),
        space_id: device.space_id.map(|s| s.to_string()).unwrap_or_default(),
        status: device.status.as_str().to_owned(),
        ..DeviceForm::default()
    };
    render(
        &DevicePage {
            c,
            org_id: org.to_string(),
            device: row(&catalog, &device),
            version: device.version,
            places: places(&catalog),
            form: form.unwrap_or(&fresh),
            refusal,
            notice,
            editing: true,
        },
        status,
        c.lang,
    )
}

#[derive(Debug, Default, Deserialize)]
struct NoticeQuery {
    notice: Option<String>,
}

async fn device_page(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path((org, device)): Path<(String, String)>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let (Some(org), Some(device)) = (parse_id(&org), parse_id(&device)) else {
        return not_found(&caller.chrome);
    };
    let notice = notice_key(q.notice.as_deref());
    render_device(
        &state,
        &caller,
        org,
        device,
        None,
        Shown {
            refusal: Refusal::none(),
            notice,
            status: StatusCode::OK,
        },
    )
    .await
}

async fn change_device(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path((org, device)): Path<(String, String)>,
    Form(form): Form<DeviceForm>,
) -> Response {
    if let Err(refused) = check_form(&state, &caller, &form._csrf) {
        return refused;
    }
    let (Some(org), Some(device)): (Option<OrgId>, Option<DeviceId>) =
        (parse_id(&org), parse_id(&device))
    else {
        return not_found(&caller.chrome);
    };
    let patch = DevicePatch {
        version: form.version.trim().parse().ok(),
        name: Some(form.name.clone()),
        model: Some(optional(&form.model)),
        space_id: Some(optional(&form.space_id)),
        status: Some(form.status.clone()),
        labels: None,
    };
    match state
        .app
        .change_device(&caller.principal, &caller.actor(), org, device, None, patch)
        .await
    {
        Ok(_) => see_other(&format!(
            "/orgs/{org}/devices/{device}?notice=device_changed"
        )),
        Err(e) if explainable(&e) => {
            render_device(
                &state,
                &caller,
                org,
                device,
                Some(&form),
                Shown::refused(&e, DEVICE_FIELDS),
            )
            .await
        }
        Err(e) => failure(&caller.chrome, &e),
    }
}
