//! The lock e-mail (research §2.2 L4, tests T5 and T13): when a lock episode starts the owner is
//! told — the sign-in page never says "locked" (§2.5, no enumeration oracle) — and gets a
//! single-use unlock link plus a "wasn't me" pointer to the password reset. At most
//! [`MAX_LOCK_MAILS_PER_DAY`] a day per account, so an attacker cannot mail-bomb through locks
//! (the last one of the day is kept for a hard lock).
//! The mail carries no secret except the one unlock link (the reset pointer holds no token).

use latchkey_domain::identity::lockout::{DAY_MS, HOUR_MS};
use latchkey_domain::{AccountId, DomainError, ErrorCode, Scope};
use latchkey_store::repo::{
    AccountNoticeRepo, AccountRecord, AccountRepo, AuditRepo, DeviceRepo, MailRepo, NewMail,
    SessionRepo,
};
use latchkey_store::{StoreError, Tx};
use serde_json::json;

use crate::app::{Actor, App, ServiceError};
use crate::identity::tokens::{looks_like_token, new_token};
use crate::tenancy::organisations::audit_event;

/// The purpose under which unlock links are digested and stored.
pub const UNLOCK_PURPOSE: &str = "unlock";
/// How long an unlock link stays valid.
pub const UNLOCK_TTL_MS: i64 = 24 * HOUR_MS;
/// The notice kind under which lock e-mails are counted.
const LOCK_NOTICE: &str = "lock";
/// Lock e-mails per account per rolling day.
pub const MAX_LOCK_MAILS_PER_DAY: i64 = 5;

/// One answer for unknown, used, expired and tampered links.
pub(crate) fn invalid_link() -> ServiceError {
    DomainError::new(ErrorCode::NotFound, "invalid or expired link").into()
}

impl App {
    /// Queues the lock e-mail in the caller's transaction (the one that recorded the lock), unless
    /// the day's cap is reached; returns whether a mail was queued.
    pub(crate) async fn queue_lock_mail(
        &self,
        tx: &mut Tx,
        account: &AccountRecord,
        hard: bool,
        now_ms: i64,
        source_ip: Option<&str>,
    ) -> Result<bool, StoreError> {
        let since = now_ms.saturating_sub(DAY_MS);
        // The last slot of the day is kept for the hard lock: its mail is the self-service way
        // out, so a run of temporary locks must not use it up.
        let cap = if hard {
            MAX_LOCK_MAILS_PER_DAY
        } else {
            MAX_LOCK_MAILS_PER_DAY - 1
        };
        if tx.notices_since(account.id, LOCK_NOTICE, since).await? >= cap {
            return Ok(false);
        }
        tx.record_notice(account.id, LOCK_NOTICE, now_ms, since)
            .await?;
        // Only the newest link works: fewer live secrets in old mail.
        tx.revoke_tokens(UNLOCK_PURPOSE, Some(account.id), now_ms)
            .await?;
        let token = new_token();
        let digest = self
            .store
            .keyring()
            .token_digest(UNLOCK_PURPOSE, token.as_bytes());
        tx.insert_token(
            &digest,
            UNLOCK_PURPOSE,
            Some(account.id),
            None,
            now_ms,
            now_ms.saturating_add(UNLOCK_TTL_MS),
        )
        .await?;
        let when = latchkey_domain::time::rfc3339_utc(now_ms);
        // The address of the attempt that caused the lock helps the owner judge "was this me?".
        let from = source_ip.map_or_else(String::new, |ip| format!("\nFrom address: {ip}"));
        // Accounts carry no language yet, so security mails are bilingual (console.md: English
        // and Japanese from the start); the one link appears once, in the shared part.
        let (what, what_ja) = if hard {
            (
                "Your Latchkey account was locked after repeated failed sign-in attempts. It stays locked until you unlock it with the link below or reset your password.",
                "サインインの失敗が繰り返されたため、Latchkey アカウントがロックされました。下のリンクでロックを解除するか、パスワードを再設定するまでロックされたままです。",
            )
        } else {
            (
                "Your Latchkey account was temporarily locked after 3 failed sign-in attempts. It unlocks by itself after a few minutes, or at once with the link below.",
                "サインインに 3 回失敗したため、Latchkey アカウントが一時的にロックされました。数分後に自動で解除されます。下のリンクですぐに解除することもできます。",
            )
        };
        let body = format!(
            "{name} 様 / Hello {name},\n\n{what_ja}\n{what}\n\nTime: {when}{from}\n\nロックを解除する（サインインには引き続きパスワードが必要です。リンクは 24 時間、1 回だけ使えます） / Unlock your account (you will still need your password; the link works once, for 24 hours):\n{unlock}\n\n心当たりがない場合は、パスワードが推測されている可能性があります。新しいパスワードを設定してください / This wasn't you? Someone may be guessing your password. Choose a new one here:\n{reset}\n\nドアの鍵とサインイン中の端末には影響ありません。 / Your door keys and signed-in devices are not affected by this lock.\n",
            name = account.name,
            unlock = self.link(&format!("/unlock/{token}")),
            reset = self.link("/forgot-password"),
        );
        tx.enqueue_mail(
            Scope::Platform,
            &NewMail {
                kind: "account_locked".into(),
                to: account.email.clone(),
                subject: "Latchkey アカウントがロックされました / Your Latchkey account was locked"
                    .into(),
                body,
            },
            now_ms,
        )
        .await?;
        Ok(true)
    }

    /// Spends an e-mailed unlock link: clears the password lockout of the account and of its
    /// trusted devices (including a hard lock), audited as `authn_login_unlock`. The password is
    /// still needed to sign in afterwards (T5).
    pub async fn unlock_with_link(&self, actor: &Actor, token: &str) -> Result<(), ServiceError> {
        let now_ms = self.clock.now_ms();
        if let Err(retry_after_secs) = self.throttle.check(actor.source_ip.as_deref(), now_ms) {
            return Err(crate::identity::login::throttled(retry_after_secs));
        }
        let spent = if looks_like_token(token) {
            let digest = self
                .store
                .keyring()
                .token_digest(UNLOCK_PURPOSE, token.as_bytes());
            let mut tx = self.store.write().await?;
            let spent = tx.spend_token(&digest, UNLOCK_PURPOSE, now_ms).await?;
            spent.and_then(|s| s.account).map(|account| (tx, account))
        } else {
            None
        };
        let Some((mut tx, account_id)) = spent else {
            // A guessed link is a failed attempt like a wrong password (L0).
            self.throttle
                .record_failure(actor.source_ip.as_deref(), now_ms);
            return Err(invalid_link());
        };
        self.unlock_account_in(&mut tx, account_id).await?;
        tx.append_audit(
            Scope::Platform,
            audit_event(
                actor,
                now_ms,
                "authn_login_unlock",
                format!("user:{account_id}"),
                json!({ "via": "email" }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether an unlock link is live, without spending it (the console's GET page).
    pub async fn unlock_link_is_live(&self, token: &str) -> Result<bool, ServiceError> {
        if !looks_like_token(token) {
            return Ok(false);
        }
        let digest = self
            .store
            .keyring()
            .token_digest(UNLOCK_PURPOSE, token.as_bytes());
        let mut tx = self.store.read().await?;
        Ok(tx
            .live_token(&digest, UNLOCK_PURPOSE, self.clock.now_ms())
            .await?
            .is_some())
    }

    /// Clears every password lockout of the account (its untrusted lane and all its devices).
    pub(crate) async fn unlock_account_in(
        &self,
        tx: &mut Tx,
        account_id: AccountId,
    ) -> Result<(), ServiceError> {
        let Some(found) = tx.account(account_id).await? else {
            return Err(invalid_link());
        };
        // Take the row lock a concurrent sign-in would take, so neither overwrites the other.
        let Some(mut account) = tx.account_by_email_for_update(&found.email).await? else {
            return Err(invalid_link());
        };
        account.password_lockout.unlock();
        tx.update_account(&account).await?;
        tx.unlock_devices_of(account_id).await?;
        Ok(())
    }
}
