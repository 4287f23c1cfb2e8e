//! The directory's REST API under `/api/v1/orgs/{org}/…`: sites (and their holidays), spaces,
//! groups (and members), devices, device groups (and members), people's profiles and role
//! scopes, and search. Authorization and scope live in the services (`crate::directory`);
//! handlers only translate. Ids in paths that do not parse answer 404 like unknown ones.
//!
//! Changes follow api.md: `PATCH` is a JSON merge patch (absent: unchanged, `null`: cleared),
//! `version` in the body and/or `If-Match` answer 412 when stale; lists page by cursor.

pub mod device_groups;
pub mod devices;
pub mod groups;
pub mod people;
pub mod search;
pub mod sites;
pub mod spaces;

use axum::Router;
use axum::http::HeaderMap;
use latchkey_domain::ids::Id;
use latchkey_domain::{DomainError, ErrorCode, OrgId};
use serde::{Deserialize, Deserializer};
use utoipa::{IntoParams, OpenApi};

use crate::directory::ListQuery;
use crate::web::WebState;

/// This area's part of the OpenAPI document (merged in `api.rs`).
#[derive(OpenApi)]
#[openapi(
    paths(
        sites::list_sites, sites::create_site, sites::show_site, sites::change_site,
        sites::delete_site, sites::show_holidays, sites::replace_holidays,
        spaces::list_spaces, spaces::create_space, spaces::show_space, spaces::change_space,
        spaces::delete_space,
        groups::list_groups, groups::create_group, groups::show_group, groups::change_group,
        groups::delete_group, groups::list_group_members, groups::add_group_member,
        groups::remove_group_member,
        devices::list_devices, devices::create_device, devices::show_device,
        devices::change_device, devices::delete_device,
        device_groups::list_device_groups, device_groups::create_device_group,
        device_groups::show_device_group, device_groups::change_device_group,
        device_groups::delete_device_group, device_groups::list_device_group_members,
        device_groups::add_device_group_member, device_groups::remove_device_group_member,
        people::show_profile, people::change_profile, people::show_scopes, people::replace_scopes,
        search::search,
    ),
    components(schemas(
        sites::SiteBody, sites::SitesBody, sites::CreateSiteBody, sites::ChangeSiteBody,
        sites::HolidayBody, sites::HolidaysBody, sites::ReplaceHolidaysBody,
        spaces::SpaceBody, spaces::SpacesBody, spaces::CreateSpaceBody, spaces::ChangeSpaceBody,
        groups::GroupBody, groups::GroupsBody, groups::CreateGroupBody, groups::ChangeGroupBody,
        groups::GroupMembersBody, groups::AddGroupMemberBody,
        devices::DeviceBody, devices::DevicesBody, devices::CreateDeviceBody,
        devices::ChangeDeviceBody,
        device_groups::DeviceGroupBody, device_groups::DeviceGroupsBody,
        device_groups::CreateDeviceGroupBody, device_groups::ChangeDeviceGroupBody,
        device_groups::DeviceGroupMembersBody, device_groups::AddDeviceGroupMemberBody,
        people::ProfileBody, people::ChangeProfileBody, people::ScopesBody,
        people::ReplaceScopesBody,
        search::SearchBody, search::SearchHitBody,
    )),
    tags(
        (name = "directory", description = "Sites, spaces, groups, devices, device groups, labels and search (org admins; space managers and device owners within their scope)"),
    )
)]
pub struct Doc;

/// This area's routes.
pub(crate) fn routes() -> Router<WebState> {
    Router::new()
        .merge(sites::routes())
        .merge(spaces::routes())
        .merge(groups::routes())
        .merge(devices::routes())
        .merge(device_groups::routes())
        .merge(people::routes())
        .merge(search::routes())
}

/// Shared response descriptions.
pub(crate) const UNAUTHENTICATED: &str = "Not signed in";
/// 403 on directory endpoints.
pub(crate) const FORBIDDEN: &str = "Your role does not allow this here (members and guests: nothing administrative; MFA not set up; a read-only token)";
/// 404 on directory endpoints.
pub(crate) const NOT_FOUND: &str =
    "No such organisation or object — or outside your scope, or another tenant's";

/// The organisation in a path (404 if it does not parse).
pub(crate) fn org_id(raw: &str) -> Result<OrgId, DomainError> {
    raw.parse()
        .map_err(|_| DomainError::new(ErrorCode::NotFound, "organisation not found"))
}

/// An object id in a path (404 if it does not parse, like an unknown one).
pub(crate) fn path_id<K>(raw: &str, what: &str) -> Result<Id<K>, DomainError> {
    raw.parse().map_err(|_| DomainError::not_found(what))
}

/// The version in `If-Match` (`"3"`, `W/"3"` or `3`; `*` matches any): 400 if it is not one.
pub(crate) fn if_match(headers: &HeaderMap) -> Result<Option<i64>, DomainError> {
    let Some(value) = headers.get(axum::http::header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or("").trim();
    if text == "*" {
        return Ok(None);
    }
    let bare = text.trim_start_matches("W/").trim_matches('"');
    bare.parse::<i64>().map(Some).map_err(|_| {
        DomainError::new(
            ErrorCode::MalformedRequest,
            "If-Match must carry the object's version, e.g. \"3\"",
        )
    })
}

/// A single object's response with its version as a strong `ETag` (`"3"`), which clients send
/// back in `If-Match`.
pub(crate) type Tagged<T> = ([(axum::http::HeaderName, String); 1], axum::Json<T>);

/// Wraps a body with the `ETag` of `version`.
pub(crate) fn tagged<T>(version: i64, body: T) -> Tagged<T> {
    (
        [(axum::http::header::ETAG, format!("\"{version}\""))],
        axum::Json(body),
    )
}

/// For merge-patch fields: absent → `None`, `null` → `Some(None)`, a value → `Some(Some(v))`.
pub(crate) fn double_option<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Paging and the label filter.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    /// Page size, 1–200 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only objects with this label (exact, case-insensitive).
    pub label: Option<String>,
}

impl PageParams {
    fn query(&self) -> ListQuery {
        ListQuery {
            limit: self.limit,
            cursor: self.cursor.clone(),
            label: self.label.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_directory_route_is_in_the_openapi_document() {
        let doc = crate::web::api::openapi();
        let paths = &doc.paths.paths;
        for path in [
            "/api/v1/orgs/{org}/sites",
            "/api/v1/orgs/{org}/sites/{site}",
            "/api/v1/orgs/{org}/sites/{site}/holidays",
            "/api/v1/orgs/{org}/spaces",
            "/api/v1/orgs/{org}/spaces/{space}",
            "/api/v1/orgs/{org}/groups",
            "/api/v1/orgs/{org}/groups/{group}",
            "/api/v1/orgs/{org}/groups/{group}/members",
            "/api/v1/orgs/{org}/groups/{group}/members/{account}",
            "/api/v1/orgs/{org}/devices",
            "/api/v1/orgs/{org}/devices/{device}",
            "/api/v1/orgs/{org}/device-groups",
            "/api/v1/orgs/{org}/device-groups/{group}",
            "/api/v1/orgs/{org}/device-groups/{group}/members",
            "/api/v1/orgs/{org}/device-groups/{group}/members/{device}",
            "/api/v1/orgs/{org}/members/{account}/profile",
            "/api/v1/orgs/{org}/members/{account}/scopes",
            "/api/v1/orgs/{org}/search",
        ] {
            assert!(
                paths.contains_key(path),
                "{path} missing from the OpenAPI document"
            );
        }
        let space = paths
            .get("/api/v1/orgs/{org}/spaces/{space}")
            .map(|p| (p.get.is_some(), p.patch.is_some(), p.delete.is_some()));
        assert_eq!(space, Some((true, true, true)));
    }
}
