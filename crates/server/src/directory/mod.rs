//! The directory an organisation manages: sites, space trees, groups of people, the device
//! registry, device groups, labels and search, and the scope of roles with scope. Every call
//! takes the caller's [`Principal`](crate::identity::principal::Principal) and checks it through
//! [`scope`]: org admins reach everything, space managers their subtrees (and the devices in
//! them), device owners their devices, members and guests nothing (403). Objects outside the
//! caller's scope answer 404, exactly like another tenant's.
//!
//! Each change is one transaction with an `authz_admin` audit event in it, whose details carry
//! `change`, `target`, `before` and `after`. Nothing is cached: a change (a scope, a move) takes
//! effect on the next request.
//!
//! Lists load the tenant's rows of one kind and filter, scope and page in memory: directory
//! sizes (thousands of spaces and devices) make that cheaper than a query per scope shape, and
//! it keeps one code path for both backends. Revisit with keyset queries if a tenant grows past
//! ~100 000 rows of one kind.

pub mod device_groups;
pub mod devices;
pub mod groups;
pub mod import;
pub mod people;
pub mod scope;
pub mod search;
pub mod sites;
pub mod spaces;

use latchkey_domain::tenancy::OrgStatus;
use latchkey_domain::{DomainError, ErrorCode, OrgId, Scope};
use latchkey_store::Tx;
use latchkey_store::repo::{AuditRepo, OrganisationRepo};
use serde_json::{Value, json};

use crate::app::{Actor, ServiceError};
use crate::tenancy::organisations::audit_event;

/// Largest page of a directory list.
pub const MAX_LIMIT: u32 = 200;
/// Page size when none is asked for.
pub const DEFAULT_LIMIT: u32 = 50;

/// Paging and the label filter every directory list accepts.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// Page size, 1–200 (default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only objects carrying this label (exact match after normalising).
    pub label: Option<String>,
}

/// One page of a list, in id order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// This page.
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

impl ListQuery {
    /// The normalised label filter, if any.
    pub(crate) fn label(&self) -> Result<Option<String>, DomainError> {
        self.label
            .as_deref()
            .map(|l| latchkey_domain::directory::parse_label("label", l))
            .transpose()
    }

    /// Pages `items` (already filtered) in id order after the cursor. Sorted here, by the ids'
    /// text, so the order never depends on a database collation.
    pub(crate) fn page<T>(
        &self,
        mut items: Vec<T>,
        id_of: impl Fn(&T) -> String,
    ) -> Result<Page<T>, DomainError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(DomainError::invalid(
                "limit",
                format!("limit must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let after = match self.cursor.as_deref() {
            None | Some("") => None,
            Some(c) => Some(
                c.parse::<uuid::Uuid>()
                    .map_err(|_| {
                        DomainError::invalid(
                            "cursor",
                            "cursor must be the next_cursor of a previous page",
                        )
                    })?
                    .hyphenated()
                    .to_string(),
            ),
        };
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        items.sort_by_cached_key(&id_of);
        let mut rest = items
            .into_iter()
            .filter(|item| after.as_deref().is_none_or(|a| id_of(item).as_str() > a));
        let page: Vec<T> = rest.by_ref().take(limit).collect();
        let next_cursor = match (rest.next(), page.last()) {
            (Some(_), Some(last)) => Some(id_of(last)),
            _ => None,
        };
        Ok(Page {
            items: page,
            next_cursor,
        })
    }
}

/// Refuses changes while the organisation is suspended or terminated.
pub(crate) async fn require_active_org(tx: &mut Tx, org: OrgId) -> Result<(), ServiceError> {
    let organisation = tx
        .organisation(org)
        .await?
        .ok_or_else(|| DomainError::not_found("organisation"))?;
    if organisation.status != OrgStatus::Active {
        return Err(DomainError::new(
            ErrorCode::TenantInactive,
            format!(
                "the organisation is {}; the operator must resume it before the directory can change",
                organisation.status.as_str()
            ),
        )
        .into());
    }
    Ok(())
}

/// Checks the version a client last saw (`If-Match` or the body's `version`) against the
/// stored one: 412 when they differ.
pub fn check_version(expected: &[Option<i64>], current: i64) -> Result<(), DomainError> {
    if expected.iter().flatten().any(|v| *v != current) {
        return Err(DomainError::new(
            ErrorCode::StaleVersion,
            format!(
                "the object changed since you read it (it is at version {current}); reload it and try again"
            ),
        ));
    }
    Ok(())
}

/// One directory change to audit.
pub(crate) struct Change<'a> {
    /// What happened, e.g. `space_moved`.
    pub change: &'a str,
    /// `space:<id>` and the like.
    pub target: String,
    /// The object before (`null` when created).
    pub before: Value,
    /// The object after (`null` when deleted).
    pub after: Value,
}

/// Appends the `authz_admin` event of a directory change in the command's transaction.
pub(crate) async fn audit_change(
    tx: &mut Tx,
    actor: &Actor,
    org: OrgId,
    now_ms: i64,
    change: Change<'_>,
) -> Result<(), ServiceError> {
    tx.append_audit(
        Scope::Tenant(org),
        audit_event(
            actor,
            now_ms,
            "authz_admin",
            change.target.clone(),
            json!({
                "change": change.change,
                "target": change.target,
                "before": change.before,
                "after": change.after,
            }),
        ),
    )
    .await?;
    Ok(())
}

/// Serialises a directory object for an audit event.
pub(crate) fn snapshot<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// A name that must be unique is not; or similar conflicts.
pub(crate) fn conflict(message: impl Into<String>) -> ServiceError {
    DomainError::new(ErrorCode::Conflict, message).into()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_the_cursor_and_end_without_one() {
        let ids: Vec<String> = (0..5).map(|_| uuid::Uuid::now_v7().to_string()).collect();
        let q = ListQuery {
            limit: Some(2),
            ..ListQuery::default()
        };
        let reversed: Vec<String> = ids.iter().rev().cloned().collect();
        let first = q.page(reversed, Clone::clone).unwrap();
        assert_eq!(first.items, ids[..2].to_vec());
        let q2 = ListQuery {
            limit: Some(2),
            cursor: first.next_cursor.clone(),
            ..ListQuery::default()
        };
        let second = q2.page(ids.clone(), Clone::clone).unwrap();
        assert_eq!(second.items, ids[2..4].to_vec());
        let q3 = ListQuery {
            limit: Some(2),
            cursor: second.next_cursor,
            ..ListQuery::default()
        };
        let last = q3.page(ids.clone(), Clone::clone).unwrap();
        assert_eq!((last.items, last.next_cursor), (ids[4..].to_vec(), None));
        assert!(
            ListQuery {
                limit: Some(0),
                ..ListQuery::default()
            }
            .page(ids.clone(), Clone::clone)
            .is_err()
        );
        assert!(
            ListQuery {
                cursor: Some("nope".into()),
                ..ListQuery::default()
            }
            .page(ids, Clone::clone)
            .is_err()
        );
    }

    #[test]
    fn stale_versions_are_refused() {
        assert!(check_version(&[None, Some(3)], 3).is_ok());
        assert_eq!(
            check_version(&[Some(2), None], 3).unwrap_err().code,
            ErrorCode::StaleVersion
        );
    }
}
