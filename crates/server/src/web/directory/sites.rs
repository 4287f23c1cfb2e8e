//! `/api/v1/orgs/{org}/sites` and each site's holidays.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use latchkey_domain::SiteId;
use latchkey_domain::directory::Holiday;
use latchkey_domain::tenancy::Site;
use latchkey_domain::time::rfc3339_utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    FORBIDDEN, NOT_FOUND, PageParams, Tagged, UNAUTHENTICATED, double_option, if_match, org_id,
    path_id, tagged,
};
use crate::directory::Page;
use crate::directory::sites::{NewSite, SitePatch};
use crate::web::WebState;
use crate::web::problem::{ApiError, Problem};
use crate::web::session::ApiCaller;

pub(super) fn routes() -> Router<WebState> {
    Router::new()
        .route(
            "/api/v1/orgs/{org}/sites",
            get(list_sites).post(create_site),
        )
        .route(
            "/api/v1/orgs/{org}/sites/{site}",
            get(show_site).patch(change_site).delete(delete_site),
        )
        .route(
            "/api/v1/orgs/{org}/sites/{site}/holidays",
            get(show_holidays).put(replace_holidays),
        )
}

fn site_id(raw: &str) -> Result<SiteId, latchkey_domain::DomainError> {
    path_id(raw, "site")
}

/// A site.
#[derive(Debug, Serialize, ToSchema)]
pub struct SiteBody {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// IANA time zone.
    #[schema(example = "Europe/Berlin")]
    pub time_zone: String,
    /// Postal address.
    pub address: Option<String>,
    /// Labels.
    pub labels: Vec<String>,
    /// Creation time, RFC 3339 UTC.
    pub created_at: String,
    /// Version (send it back in `version` or `If-Match`).
    pub version: i64,
}

impl From<Site> for SiteBody {
    fn from(s: Site) -> Self {
        Self {
            id: s.id.to_string(),
            name: s.name,
            time_zone: s.time_zone,
            address: s.address,
            labels: s.labels,
            created_at: rfc3339_utc(s.created_at_ms),
            version: s.version,
        }
    }
}

/// A page of sites.
#[derive(Debug, Serialize, ToSchema)]
pub struct SitesBody {
    /// This page, by id.
    pub items: Vec<SiteBody>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

impl From<Page<Site>> for SitesBody {
    fn from(p: Page<Site>) -> Self {
        Self {
            items: p.items.into_iter().map(SiteBody::from).collect(),
            next_cursor: p.next_cursor,
        }
    }
}

/// A new site.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSiteBody {
    /// Name (1–200 characters).
    pub name: String,
    /// IANA time zone, e.g. `Europe/Berlin`.
    pub time_zone: String,
    /// Postal address (up to 500 characters).
    #[serde(default)]
    pub address: Option<String>,
    /// Labels (up to 32, each 1–64 characters).
    #[serde(default)]
    pub labels: Vec<String>,
}

/// A change (JSON merge patch).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeSiteBody {
    /// The version you read (412 if it changed since).
    #[serde(default)]
    pub version: Option<i64>,
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New IANA time zone.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// New address; `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub address: Option<Option<String>>,
    /// New labels (replace the set).
    #[serde(default)]
    pub labels: Option<Vec<String>>,
}

/// One holiday.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HolidayBody {
    /// Date in the site's calendar, `YYYY-MM-DD`.
    #[schema(example = "2026-12-25")]
    pub date: String,
    /// Name (1–200 characters).
    pub name: String,
}

impl From<Holiday> for HolidayBody {
    fn from(h: Holiday) -> Self {
        Self {
            date: h.date,
            name: h.name,
        }
    }
}

/// A site's holiday calendar.
#[derive(Debug, Serialize, ToSchema)]
pub struct HolidaysBody {
    /// The site.
    pub site_id: String,
    /// The site's version.
    pub version: i64,
    /// Holidays by date.
    pub holidays: Vec<HolidayBody>,
}

/// The whole new calendar.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplaceHolidaysBody {
    /// The site version you read (412 if it changed since).
    #[serde(default)]
    pub version: Option<i64>,
    /// Every holiday (up to 500, each date once).
    pub holidays: Vec<HolidayBody>,
}

/// The sites you may see (org admins: all; space managers: those their spaces are in).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/sites", tag = "directory",
    params(("org" = String, Path, description = "Organisation id"), PageParams),
    responses(
        (status = 200, description = "A page of sites", body = SitesBody),
        (status = 400, description = "Malformed query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHENTICATED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = FORBIDDEN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "limit, cursor or label out of range", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list_sites(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path(org): Path<String>,
    Query(params): Query<PageParams>,
) -> Result<Json<SitesBody>, ApiError> {
    let org = org_id(&org)?;
    let page = state
        .app
        .sites_page(&caller.principal, org, &params.query())
        .await?;
    Ok(Json(page.into()))
}

/// Adds a site (org admins).
#[utoipa::path(post, path = "/api/v1/orgs/{org}/sites", tag = "directory",
    params(("org" = String, Path, description = "Organisation id")),
    request_body = CreateSiteBody,
    responses(
        (status = 201, description = "Created", body = SiteBody),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHENTICATED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = FORBIDDEN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The organisation is suspended", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule (e.g. unknown time zone; the field is named)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn create_site(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path(org): Path<String>,
    Json(body): Json<CreateSiteBody>,
) -> Result<(StatusCode, Json<SiteBody>), ApiError> {
    let org = org_id(&org)?;
    let site = state
        .app
        .add_site(
            &caller.principal,
            &caller.actor(),
            org,
            NewSite {
                name: body.name,
                time_zone: body.time_zone,
                address: body.address,
                labels: body.labels,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(site.into())))
}

/// One site.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/sites/{site}", tag = "directory",
    params(("org" = String, Path, description = "Organisation id"), ("site" = String, Path, description = "Site id")),
    responses(
        (status = 200, description = "The site", body = SiteBody),
        (status = 401, description = UNAUTHENTICATED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = FORBIDDEN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn show_site(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path((org, site)): Path<(String, String)>,
) -> Result<Tagged<SiteBody>, ApiError> {
    let (org, site) = (org_id(&org)?, site_id(&site)?);
    let object = state.app.site_of(&caller.principal, org, site).await?;
    Ok(tagged(object.version, object.into()))
}

/// Changes a site (org admins; JSON merge patch).
#[utoipa::path(patch, path = "/api/v1/orgs/{org}/sites/{site}", tag = "directory",
    params(("org" = String, Path, description = "Organisation id"), ("site" = String, Path, description = "Site id"),
        ("If-Match" = Option<String>, Header, description = "The version you read")),
    request_body = ChangeSiteBody,
    responses(
        (status = 200, description = "Changed", body = SiteBody),
        (status = 400, description = "Malformed JSON or If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHENTICATED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = FORBIDDEN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since you read it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule (the field is named)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn change_site(
    State(state): State<WebState>,
    caller: ApiCaller,
    headers: HeaderMap,
    Path((org, site)): Path<(String, String)>,
    Json(body): Json<ChangeSiteBody>,
) -> Result<Tagged<SiteBody>, ApiError> {
    let (org, site) = (org_id(&org)?, site_id(&site)?);
    let expected = if_match(&headers)?;
    let changed = state
        .app
        .change_site(
            &caller.principal,
            &caller.actor(),
            org,
            site,
            expected,
            SitePatch {
                version: body.version,
                name: body.name,
                time_zone: body.time_zone,
                address: body.address,
                labels: body.labels,
            },
        )
        .await?;
    Ok(tagged(changed.version, changed.into()))
}

/// Deletes a site that holds no spaces (org admins).
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/sites/{site}", tag = "directory",
    params(("org" = String, Path, description = "Organisation id"), ("site" = String, Path, description = "Site id"),
        ("If-Match" = Option<String>, Header, description = "The version you read")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = UNAUTHENTICATED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = FORBIDDEN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The site still holds spaces (the detail says how many)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since you read it", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn delete_site(
    State(state): State<WebState>,
    caller: ApiCaller,
    headers: HeaderMap,
    Path((org, site)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (org, site) = (org_id(&org)?, site_id(&site)?);
    let expected = if_match(&headers)?;
    state
        .app
        .delete_site(&caller.principal, &caller.actor(), org, site, expected)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn holidays_body(site: &Site, holidays: Vec<Holiday>) -> HolidaysBody {
    HolidaysBody {
        site_id: site.id.to_string(),
        version: site.version,
        holidays: holidays.into_iter().map(HolidayBody::from).collect(),
    }
}

/// A site's holiday calendar.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/sites/{site}/holidays", tag = "directory",
    params(("org" = String, Path, description = "Organisation id"), ("site" = String, Path, description = "Site id")),
    responses(
        (status = 200, description = "The calendar", body = HolidaysBody),
        (status = 401, description = UNAUTHENTICATED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = FORBIDDEN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn show_holidays(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path((org, site)): Path<(String, String)>,
) -> Result<Json<HolidaysBody>, ApiError> {
    let (org, site) = (org_id(&org)?, site_id(&site)?);
    let (site, holidays) = state
        .app
        .site_holidays(&caller.principal, org, site)
        .await?;
    Ok(Json(holidays_body(&site, holidays)))
}

/// Replaces a site's holiday calendar (org admins).
#[utoipa::path(put, path = "/api/v1/orgs/{org}/sites/{site}/holidays", tag = "directory",
    params(("org" = String, Path, description = "Organisation id"), ("site" = String, Path, description = "Site id"),
        ("If-Match" = Option<String>, Header, description = "The site version you read")),
    request_body = ReplaceHolidaysBody,
    responses(
        (status = 200, description = "Replaced", body = HolidaysBody),
        (status = 400, description = "Malformed JSON or If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHENTICATED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = FORBIDDEN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since you read it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A date that is not YYYY-MM-DD, a date twice, a bad name, or too many", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn replace_holidays(
    State(state): State<WebState>,
    caller: ApiCaller,
    headers: HeaderMap,
    Path((org, site)): Path<(String, String)>,
    Json(body): Json<ReplaceHolidaysBody>,
) -> Result<Json<HolidaysBody>, ApiError> {
    let (org, site) = (org_id(&org)?, site_id(&site)?);
    let expected = if_match(&headers)?;
    let raw: Vec<(String, String)> = body
        .holidays
        .into_iter()
        .map(|h| (h.date, h.name))
        .collect();
    let (site, holidays) = state
        .app
        .set_site_holidays(
            &caller.principal,
            &caller.actor(),
            org,
            site,
            [expected, body.version],
            &raw,
        )
        .await?;
    Ok(Json(holidays_body(&site, holidays)))
}
