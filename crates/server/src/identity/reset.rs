//! Forgotten password, password reset and password change (security.md "Reset"; research §1
//! row 7). The forgot-password request answers the same whether or not the address has an
//! account (ASVS 5.0 6.3.8); the e-mailed link is 256 bits, HMAC-stored, single use, 30 min; a
//! reset needs the TOTP code when MFA is enrolled, clears the lock, ends every session and sends a
//! "your password was changed" e-mail. A change needs the current password, checked through the
//! one login code path (shared throttle and counters).

use latchkey_domain::identity::lockout::{HOUR_MS, LockoutState, MINUTE_MS};
use latchkey_domain::identity::password::{
    PasswordContext, PasswordPolicy, PasswordRefusal, normalise_password,
};
use latchkey_domain::tenancy::parse_email;
use latchkey_domain::{AccountId, DomainError, ErrorCode, Scope};
use latchkey_store::Tx;
use latchkey_store::repo::{
    AccountNoticeRepo, AccountRecord, AccountRepo, AccountStatus, AuditRepo, DeviceRepo, MailRepo,
    NewMail, SessionRepo,
};
use serde_json::json;

use crate::app::{Actor, App, ServiceError};
use crate::identity::lock_mail::invalid_link;
use crate::identity::login::{
    Authenticated, FactorCheck, LoginError, LoginRequest, SecondFactor, admin_anywhere, throttled,
};
use crate::identity::principal::{Credential, Principal};
use crate::identity::tokens::{looks_like_token, new_token};
use crate::tenancy::organisations::audit_event;
use crate::tenancy::security_settings::effective_settings;

/// The purpose under which reset links are digested and stored.
pub const RESET_PURPOSE: &str = "reset";
/// How long a reset link stays valid (security.md: 30 min).
pub const RESET_TTL_MS: i64 = 30 * MINUTE_MS;
/// Reset e-mails per account per rolling hour.
pub const MAX_RESET_MAILS_PER_HOUR: i64 = 3;
/// The notice kind under which reset e-mails are counted.
const RESET_NOTICE: &str = "reset";
/// The outbox kind of a stored forgotten-password request: resolved by the mail worker, never
/// sent as mail.
pub const RESET_REQUEST_KIND: &str = "password_reset_request";
/// Requests resolved per pass.
const RESOLVE_BATCH: i64 = 50;
/// How long a request being resolved is reserved for the node resolving it.
const RESOLVE_LEASE_MS: i64 = 5 * MINUTE_MS;

/// Who asked for a stored request (for its audit event); an unreadable record (never written
/// by this code) is attributed to an anonymous forgot-password caller.
fn requester_of(stored: &str) -> Actor {
    let stored: serde_json::Value = serde_json::from_str(stored).unwrap_or_default();
    let text = |key: &str| stored.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    Actor {
        id: text("actor").unwrap_or_else(|| "anonymous:forgot_password".into()),
        source_ip: text("source_ip"),
        request_id: text("request_id"),
    }
}

/// A password reset with the e-mailed token. (No `Debug`: it carries a password.)
pub struct PasswordReset<'a> {
    /// The token from the link.
    pub token: &'a str,
    /// The new password.
    pub password: &'a str,
    /// The TOTP code (or a recovery code), when MFA is enrolled.
    pub totp: Option<&'a str>,
}

/// The policy for an account's new password: the strictest minimum of its organisations, and
/// org-admin strength (never below 12) for operators and admins.
pub(crate) async fn policy_for(
    tx: &mut Tx,
    account: &AccountRecord,
) -> Result<PasswordPolicy, ServiceError> {
    let policy = effective_settings(tx, account.id).await?.password_policy();
    Ok(
        if account.is_operator || admin_anywhere(tx, account.id).await? {
            policy.for_org_admin()
        } else {
            policy
        },
    )
}

/// Checks a new password against the account's policy; the refusal names `field`.
fn check_new_password(
    policy: PasswordPolicy,
    account: &AccountRecord,
    password: &str,
    field: &'static str,
) -> Result<String, ServiceError> {
    let context = PasswordContext {
        email: Some(&account.email),
        person_name: Some(&account.name),
        organisation_name: None,
    };
    policy.check(password, &context).map_err(|refusal| {
        let error = DomainError::from(refusal);
        match error.code {
            ErrorCode::InvalidField => DomainError::invalid(field, error.message).into(),
            _ => error.into(),
        }
    })
}

/// Refuses over-long passwords before anything else happens (no hashing of 4 KiB inputs).
fn refuse_over_long(password: &str, field: &'static str) -> Result<(), ServiceError> {
    match normalise_password(password) {
        Ok(_) => Ok(()),
        Err(refusal @ PasswordRefusal::TooLong { .. }) => {
            Err(DomainError::invalid(field, refusal.to_string()).into())
        }
        Err(other) => Err(DomainError::from(other).into()),
    }
}

impl App {
    async fn hash_password(&self, normalised: &str) -> Result<String, ServiceError> {
        self.hasher.hash(normalised).await.map_err(|e| {
            DomainError::new(
                ErrorCode::Internal,
                format!("could not hash the password: {e}"),
            )
            .into()
        })
    }

    /// Queues the "your password was changed" e-mail in `tx`.
    async fn queue_password_changed_mail(
        &self,
        tx: &mut Tx,
        account: &AccountRecord,
        now_ms: i64,
    ) -> Result<(), ServiceError> {
        let body = format!(
            "{name} 様 / Hello {name},\n\n{when} に Latchkey アカウントのパスワードが変更され、他のサインイン中のセッションはすべて終了しました。\nThe password of your Latchkey account was changed at {when} and every other signed-in session was ended.\n\n心当たりがない場合は、すぐにパスワードを再設定し、組織の管理者に連絡してください / If this was not you, reset your password now and tell your organisation's administrator:\n{reset}\n",
            name = account.name,
            when = latchkey_domain::time::rfc3339_utc(now_ms),
            reset = self.link("/forgot-password"),
        );
        tx.enqueue_mail(
            Scope::Platform,
            &NewMail {
                kind: "password_changed".into(),
                to: account.email.clone(),
                subject:
                    "Latchkey のパスワードが変更されました / Your Latchkey password was changed"
                        .into(),
                body,
            },
            now_ms,
        )
        .await?;
        Ok(())
    }

    /// Takes a forgotten-password request; answers the same whether or not the address has an
    /// account (security.md "Anti-enumeration", ASVS 5.0 6.3.8, which includes response times).
    /// So the request itself does the same work for every address: it stores the request (the
    /// address sealed, with who asked) in the outbox and commits. Looking the address up and
    /// mailing a link happens later, in the mail worker ([`App::resolve_reset_requests`]), where
    /// its cost cannot be timed by the caller; the stored request is durable, so nothing
    /// acknowledged is lost if the server stops in between.
    pub async fn request_password_reset(
        &self,
        actor: &Actor,
        email: &str,
    ) -> Result<(), ServiceError> {
        let email = parse_email("email", email)?;
        // Every request counts against the caller's address in the sign-in throttle (one budget
        // for every entry point): the answer stays the same for every address, 429 included,
        // and nobody can fill the outbox with requests.
        let source_ip = actor.source_ip.as_deref();
        let now_ms = self.clock.now_ms();
        if let Err(retry_after_secs) = self.throttle.check(source_ip, now_ms) {
            return Err(throttled(retry_after_secs));
        }
        self.throttle.record_failure(source_ip, now_ms);
        let requester = json!({
            "actor": actor.id,
            "source_ip": actor.source_ip,
            "request_id": actor.request_id,
        });
        let mut tx = self.store.write().await?;
        tx.enqueue_mail(
            Scope::Platform,
            &NewMail {
                kind: RESET_REQUEST_KIND.into(),
                to: email,
                subject: String::new(),
                body: requester.to_string(),
            },
            now_ms,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Resolves the stored forgotten-password requests (the mail worker runs this before each
    /// delivery pass): for an address with an active account, under the hourly cap, a reset link
    /// is made and mailed and the request audited; for any other address nothing happens. Each
    /// request is claimed, resolved and deleted in one transaction, so a failure leaves it
    /// for the next pass (and is logged) and two nodes never resolve the same one. Returns how
    /// many were resolved.
    pub async fn resolve_reset_requests(&self) -> Result<usize, ServiceError> {
        let pending = self
            .store
            .read()
            .await?
            .due_mail(Scope::Platform, self.clock.now_ms(), RESOLVE_BATCH)
            .await?;
        let mut resolved = 0;
        for request in pending
            .into_iter()
            .filter(|queued| queued.mail.kind == RESET_REQUEST_KIND)
        {
            let now_ms = self.clock.now_ms();
            let mut tx = self.store.write().await?;
            if !tx
                .claim_mail(
                    Scope::Platform,
                    &request.id,
                    now_ms,
                    now_ms + RESOLVE_LEASE_MS,
                )
                .await?
            {
                continue;
            }
            let outcome = async {
                self.mail_reset_link(&mut tx, &request.mail, now_ms).await?;
                // Done with: the address typed (perhaps a stranger's) is not kept.
                tx.delete_mail(Scope::Platform, &request.id).await?;
                tx.commit().await?;
                Ok::<(), ServiceError>(())
            }
            .await;
            // One request failing (its transaction rolled back, so it stays stored and is tried
            // again on the next pass) must not hold up the others.
            match outcome {
                Ok(()) => resolved += 1,
                Err(e) => {
                    tracing::error!(id = %request.id, error = %e, "resolving a forgotten-password request failed; will retry");
                }
            }
        }
        Ok(resolved)
    }

    /// One stored request: mails a link if the address has an active account under the cap.
    async fn mail_reset_link(
        &self,
        tx: &mut Tx,
        request: &NewMail,
        now_ms: i64,
    ) -> Result<(), ServiceError> {
        let Ok(email) = parse_email("email", &request.to) else {
            return Ok(());
        };
        let account = tx
            .account_by_email_for_update(&email)
            .await?
            .filter(|a| a.status == AccountStatus::Active);
        // At most a few reset mails an hour per account: nobody can flood someone's mailbox
        // through this form.
        let since = now_ms.saturating_sub(HOUR_MS);
        let account = match account {
            Some(a)
                if tx.notices_since(a.id, RESET_NOTICE, since).await?
                    < MAX_RESET_MAILS_PER_HOUR =>
            {
                tx.record_notice(a.id, RESET_NOTICE, now_ms, since).await?;
                a
            }
            _ => return Ok(()),
        };
        let token = new_token();
        let digest = self
            .store
            .keyring()
            .token_digest(RESET_PURPOSE, token.as_bytes());
        // Re-sending voids older links: only the newest mail works.
        tx.revoke_tokens(RESET_PURPOSE, Some(account.id), now_ms)
            .await?;
        tx.insert_token(
            &digest,
            RESET_PURPOSE,
            Some(account.id),
            None,
            now_ms,
            now_ms.saturating_add(RESET_TTL_MS),
        )
        .await?;
        let body = format!(
            "{name} 様 / Hello {name},\n\nLatchkey アカウントのパスワード再設定が依頼されました。こちらで新しいパスワードを設定してください（リンクは 30 分間、1 回だけ使えます） / Someone (hopefully you) asked to reset the password of your Latchkey account. Choose a new password here (the link works once, for 30 minutes):\n{link}\n\n心当たりがない場合は、このメールを無視してください。パスワードは変わりません。 / If you did not ask for this, ignore this e-mail: your password stays as it is.\n",
            name = account.name,
            link = self.link(&format!("/reset-password/{token}")),
        );
        tx.enqueue_mail(
            Scope::Platform,
            &NewMail {
                kind: "password_reset".into(),
                to: account.email.clone(),
                subject: "Latchkey パスワードの再設定 / Reset your Latchkey password".into(),
                body,
            },
            now_ms,
        )
        .await?;
        tx.append_audit(
            Scope::Platform,
            audit_event(
                &requester_of(&request.body),
                now_ms,
                "authn_password_reset_requested",
                format!("user:{}", account.id),
                json!({}),
            ),
        )
        .await?;
        Ok(())
    }

    /// The account a live reset link belongs to, without spending it (the console's GET page).
    pub async fn reset_link_account(
        &self,
        token: &str,
    ) -> Result<Option<(AccountId, bool)>, ServiceError> {
        if !looks_like_token(token) {
            return Ok(None);
        }
        let digest = self
            .store
            .keyring()
            .token_digest(RESET_PURPOSE, token.as_bytes());
        let mut tx = self.store.read().await?;
        let Some(account) = tx
            .live_token(&digest, RESET_PURPOSE, self.clock.now_ms())
            .await?
            .and_then(|t| t.account)
        else {
            return Ok(None);
        };
        let mfa = tx
            .account(account)
            .await?
            .is_some_and(|a| a.totp_secret.is_some());
        Ok(Some((account, mfa)))
    }

    /// Sets a new password with an e-mailed reset link: checks the policy (org-admin strength
    /// for admins and operators) and the TOTP code when enrolled, then clears the lock, ends
    /// every session, mails "your password was changed", audits `authn_password_change`.
    pub async fn reset_password(
        &self,
        actor: &Actor,
        reset: PasswordReset<'_>,
    ) -> Result<(), ServiceError> {
        let source_ip = actor.source_ip.as_deref();
        if let Err(retry_after_secs) = self.throttle.check(source_ip, self.clock.now_ms()) {
            return Err(throttled(retry_after_secs));
        }
        refuse_over_long(reset.password, "password")?;
        let now_ms = self.clock.now_ms();
        let digest = looks_like_token(reset.token).then(|| {
            self.store
                .keyring()
                .token_digest(RESET_PURPOSE, reset.token.as_bytes())
        });
        // Peek first (cheap), so a guessed link costs no Argon2 time.
        let account = match &digest {
            Some(digest) => {
                let mut tx = self.store.read().await?;
                match tx
                    .live_token(digest, RESET_PURPOSE, now_ms)
                    .await?
                    .and_then(|t| t.account)
                {
                    Some(id) => tx.account(id).await?,
                    None => None,
                }
            }
            None => None,
        };
        let (Some(digest), Some(account)) = (digest, account) else {
            self.throttle.record_failure(source_ip, now_ms);
            return Err(invalid_link());
        };
        let policy = {
            let mut tx = self.store.read().await?;
            policy_for(&mut tx, &account).await?
        };
        let normalised = check_new_password(policy, &account, reset.password, "password")?;
        let hash = self.hash_password(&normalised).await?;

        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let Some(mut account) = tx.account_by_email_for_update(&account.email).await? else {
            return Err(invalid_link());
        };
        if account.totp_secret.is_some() {
            let request = LoginRequest {
                email: &account.email.clone(),
                totp: reset.totp,
                source_ip: actor.source_ip.clone(),
                request_id: actor.request_id.clone(),
                ..LoginRequest::default()
            };
            let check = self
                .check_second_factor(&mut tx, &mut account, &request, now_ms)
                .await
                .map_err(login_service_error)?;
            if matches!(check, FactorCheck::Failed) {
                tx.update_account(&account).await?;
                tx.commit().await?;
                self.throttle.record_failure(source_ip, now_ms);
                return Err(DomainError::invalid(
                    "totp",
                    "the code is not correct: enter the code your authenticator app shows now, or one of your recovery codes",
                )
                .into());
            }
        }
        if tx
            .spend_token(&digest, RESET_PURPOSE, now_ms)
            .await?
            .is_none()
        {
            return Err(invalid_link());
        }
        let was_locked = account.password_lockout != LockoutState::default();
        account.password_hash = Some(hash);
        account.password_lockout.unlock();
        account.version = tx.update_account(&account).await?;
        tx.unlock_devices_of(account.id).await?;
        let ended = tx.delete_sessions_of(account.id).await?;
        tx.revoke_tokens(RESET_PURPOSE, Some(account.id), now_ms)
            .await?;
        self.queue_password_changed_mail(&mut tx, &account, now_ms)
            .await?;
        let target = format!("user:{}", account.id);
        if was_locked {
            tx.append_audit(
                Scope::Platform,
                audit_event(
                    actor,
                    now_ms,
                    "authn_login_unlock",
                    target.clone(),
                    json!({ "via": "reset" }),
                ),
            )
            .await?;
        }
        tx.append_audit(
            Scope::Platform,
            audit_event(
                actor,
                now_ms,
                "authn_password_change",
                target,
                json!({ "via": "reset", "sessions_ended": ended }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Changes the caller's password: the current one is checked through the login code path
    /// (throttle and lockout counting shared); every other session ends and this one gets a new
    /// id, returned for the cookie. Audited `authn_password_change`; the owner is mailed.
    pub async fn change_password(
        &self,
        principal: &Principal,
        change: PasswordChange<'_>,
    ) -> Result<String, ServiceError> {
        let Credential::Session { record, .. } = &principal.credential else {
            return Err(DomainError::new(
                ErrorCode::Forbidden,
                "sign in with your password to change it; API tokens cannot",
            )
            .into());
        };
        refuse_over_long(change.current_password, "current_password")?;
        refuse_over_long(change.new_password, "new_password")?;
        let (account, policy) = {
            let mut tx = self.store.read().await?;
            let account = tx
                .account(principal.account_id)
                .await?
                .ok_or_else(|| DomainError::new(ErrorCode::Unauthenticated, "sign in again"))?;
            let policy = policy_for(&mut tx, &account).await?;
            (account, policy)
        };
        let normalised = check_new_password(policy, &account, change.new_password, "new_password")?;
        let hash = self.hash_password(&normalised).await?;
        let request = LoginRequest {
            email: &principal.email,
            password: change.current_password,
            source_ip: change.source_ip.clone(),
            request_id: change.request_id.clone(),
            device_token: change.device_token,
            ..LoginRequest::default()
        };
        let Authenticated {
            mut tx,
            mut account,
            ..
        } = self
            .authenticate(&request, SecondFactor::AlreadyProven)
            .await
            .map_err(|e| match e {
                LoginError::InvalidCredentials => ServiceError::from(DomainError::invalid(
                    "current_password",
                    "the current password is not correct",
                )),
                other => login_service_error(other),
            })?;
        let now_ms = self.clock.now_ms();
        account.password_hash = Some(hash);
        account.version = tx.update_account(&account).await?;
        let ended = tx.delete_sessions_of(account.id).await?;
        tx.revoke_tokens(RESET_PURPOSE, Some(account.id), now_ms)
            .await?;
        let (token, _) = self
            .open_session(
                &mut tx,
                &account,
                record.created_at_ms,
                now_ms,
                record.absolute_expiry_ms,
            )
            .await?;
        self.queue_password_changed_mail(&mut tx, &account, now_ms)
            .await?;
        let actor = principal.actor(change.source_ip.clone(), change.request_id.clone());
        tx.append_audit(
            Scope::Platform,
            audit_event(
                &actor,
                now_ms,
                "authn_password_change",
                format!("user:{}", account.id),
                json!({ "via": "change", "other_sessions_ended": ended.saturating_sub(1) }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(token)
    }
}

/// A password change. (No `Debug`: it carries passwords.)
pub struct PasswordChange<'a> {
    /// The current password.
    pub current_password: &'a str,
    /// The new password.
    pub new_password: &'a str,
    /// Client IP.
    pub source_ip: Option<String>,
    /// Request id.
    pub request_id: Option<String>,
    /// The device cookie, so the check uses the device's counter.
    pub device_token: Option<&'a str>,
}

/// A login failure as a service error, for entry points that are not the sign-in form.
pub(crate) fn login_service_error(error: LoginError) -> ServiceError {
    match error {
        LoginError::InvalidCredentials => DomainError::new(
            ErrorCode::Unauthenticated,
            "the password or code is not correct",
        )
        .into(),
        LoginError::Throttled { retry_after_secs } => throttled(retry_after_secs),
        LoginError::Service(e) => e,
    }
}
