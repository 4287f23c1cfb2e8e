//! A person's own sessions (security.md "Sessions": users list and end their own sessions). A
//! session is named by the hex of its stored digest — never by the cookie value.

use latchkey_domain::{DomainError, ErrorCode, Scope};
use latchkey_store::repo::{AuditRepo, SessionRecord, SessionRepo};
use serde_json::json;

use crate::app::{Actor, App, ServiceError};
use crate::identity::principal::{Credential, Principal};
use crate::tenancy::organisations::audit_event;

/// One of the caller's sessions.
#[derive(Debug, Clone)]
pub struct MySession {
    /// Hex of the session's digest.
    pub id: String,
    /// The session.
    pub record: SessionRecord,
    /// True for the session making the request.
    pub current: bool,
}

fn live(record: &SessionRecord, now_ms: i64) -> bool {
    now_ms < record.absolute_expiry_ms
        && now_ms
            < record
                .last_seen_at_ms
                .saturating_add(record.idle_timeout_ms)
}

impl App {
    /// The caller's live sessions, newest first.
    pub async fn my_sessions(&self, principal: &Principal) -> Result<Vec<MySession>, ServiceError> {
        let now_ms = self.clock.now_ms();
        let current = match &principal.credential {
            Credential::Session { digest, .. } => Some(digest.clone()),
            Credential::ApiToken { .. } => None,
        };
        let mut tx = self.store.read().await?;
        Ok(tx
            .sessions_of(principal.account_id)
            .await?
            .into_iter()
            .filter(|(_, record)| live(record, now_ms))
            .map(|(digest, record)| MySession {
                current: current.as_deref() == Some(digest.as_slice()),
                id: hex::encode(&digest),
                record,
            })
            .collect())
    }

    /// Ends one of the caller's sessions; an id that is not theirs answers 404. Audited
    /// `session_revoked`.
    pub async fn end_my_session(
        &self,
        principal: &Principal,
        actor: &Actor,
        id: &str,
    ) -> Result<(), ServiceError> {
        let not_found = || DomainError::new(ErrorCode::NotFound, "session not found");
        let digest = hex::decode(id).map_err(|_| not_found())?;
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let owned = tx
            .sessions_of(principal.account_id)
            .await?
            .into_iter()
            .any(|(d, record)| d == digest && live(&record, now_ms));
        if !owned {
            return Err(not_found().into());
        }
        tx.delete_session(&digest).await?;
        tx.append_audit(
            Scope::Platform,
            audit_event(
                actor,
                now_ms,
                "session_revoked",
                format!("user:{}", principal.account_id),
                json!({ "by": "owner" }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
