//! Accounts (platform level). E-mail and name are sealed with the platform keys; lookups by e-mail
//! go through the platform blind index of the normalised address.

use std::future::Future;

use latchkey_domain::identity::lockout::LockoutState;
use latchkey_domain::{AccountId, DomainError, ErrorCode, Scope};

use crate::db::Tx;
use crate::error::{Result, StoreError};
use crate::keyring::{Cell, TenantKeys};
use crate::sql::{Row, args};

const TABLE: &str = "accounts";

/// Where an account is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountStatus {
    /// Created, waiting for its owner to set a password (invitation, operator setup).
    Pending,
    /// In use.
    Active,
    /// Switched off by an admin.
    Disabled,
}

impl AccountStatus {
    /// Stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Pending => "pending",
            AccountStatus::Active => "active",
            AccountStatus::Disabled => "disabled",
        }
    }

    fn from_stored(name: &str) -> Option<Self> {
        match name {
            "pending" => Some(AccountStatus::Pending),
            "active" => Some(AccountStatus::Active),
            "disabled" => Some(AccountStatus::Disabled),
            _ => None,
        }
    }
}

/// An account as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRecord {
    /// Id.
    pub id: AccountId,
    /// E-mail address (normalised: trimmed, domain lower-cased).
    pub email: String,
    /// Display name.
    pub name: String,
    /// Argon2id PHC string, once a password is set.
    pub password_hash: Option<String>,
    /// Platform operator.
    pub is_operator: bool,
    /// Life-cycle status.
    pub status: AccountStatus,
    /// Password lockout state of the untrusted lane (research §2.2 L1).
    pub password_lockout: LockoutState,
    /// TOTP secret, once enrolled.
    pub totp_secret: Option<Vec<u8>>,
    /// The last TOTP step accepted (each code is accepted once).
    pub totp_last_step: Option<i64>,
    /// MFA lockout state (its own counter, §2.2 L5).
    pub mfa_lockout: LockoutState,
    /// Creation time, epoch ms UTC.
    pub created_at_ms: i64,
    /// Optimistic-concurrency version.
    pub version: i64,
}

/// The key under which an e-mail address is looked up: case-folded and trimmed, so
/// `Alice@Example.com` and ` alice@example.com` are one account (research §2.2 I3).
pub fn email_lookup_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Account storage.
pub trait AccountRepo {
    /// Creates an account; a second account with the same e-mail is a conflict.
    fn insert_account(
        &mut self,
        account: &AccountRecord,
    ) -> impl Future<Output = Result<()>> + Send;
    /// One account by id.
    fn account(
        &mut self,
        id: AccountId,
    ) -> impl Future<Output = Result<Option<AccountRecord>>> + Send;
    /// One account by e-mail, with its row locked until the transaction ends, so that a login's
    /// check-verify-record sequence is atomic (research §2.2 I1).
    fn account_by_email_for_update(
        &mut self,
        email: &str,
    ) -> impl Future<Output = Result<Option<AccountRecord>>> + Send;
    /// Writes every mutable field back; fails with a stale version if it changed meanwhile.
    fn update_account(
        &mut self,
        account: &AccountRecord,
    ) -> impl Future<Output = Result<i64>> + Send;
    /// True if an active platform operator exists.
    fn operator_exists(&mut self) -> impl Future<Output = Result<bool>> + Send;
}

const COLUMNS: &str = "id, email_sealed, name_sealed, password_hash, is_operator, status, password_lockout, \
                       totp_secret_sealed, totp_last_step, mfa_lockout, created_at_ms, version";

fn cell<'a>(column: &'a str, id: &'a str) -> Cell<'a> {
    Cell {
        table: TABLE,
        column,
        row_id: id,
    }
}

fn open(keys: &TenantKeys, column: &str, id: &str, sealed: &[u8]) -> Result<Vec<u8>> {
    keys.open(cell(column, id), sealed)
        .ok_or_else(|| StoreError::Unseal {
            what: format!("{TABLE}.{column} of {id}"),
        })
}

fn text(bytes: Vec<u8>, what: &str) -> Result<String> {
    String::from_utf8(bytes).map_err(|_| StoreError::Corrupt(format!("{what}: not UTF-8")))
}

fn lockout(json: &str, what: &str) -> Result<LockoutState> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

fn lockout_json(state: &LockoutState) -> Result<String> {
    serde_json::to_string(state).map_err(|e| StoreError::Corrupt(format!("lockout state: {e}")))
}

/// The sealed and indexed forms of an account's protected fields:
/// (email_sealed, email_bidx, name_sealed, totp_secret_sealed).
type SealedFields = (Vec<u8>, Vec<u8>, Vec<u8>, Option<Vec<u8>>);

fn seal_fields(keys: &TenantKeys, account: &AccountRecord) -> SealedFields {
    let id = account.id.to_string();
    (
        keys.seal(cell("email_sealed", &id), account.email.as_bytes()),
        keys.blind_index("email", &email_lookup_key(&account.email)),
        keys.seal(cell("name_sealed", &id), account.name.as_bytes()),
        account
            .totp_secret
            .as_ref()
            .map(|s| keys.seal(cell("totp_secret_sealed", &id), s)),
    )
}

fn decode(keys: &TenantKeys, row: &Row) -> Result<AccountRecord> {
    let id_text = row.text("id")?;
    let id = id_text
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("account id {id_text:?}")))?;
    let status = row.text("status")?;
    let totp_secret = match row.opt_bytes("totp_secret_sealed")? {
        Some(sealed) => Some(open(keys, "totp_secret_sealed", &id_text, &sealed)?),
        None => None,
    };
    Ok(AccountRecord {
        id,
        email: text(
            open(keys, "email_sealed", &id_text, &row.bytes("email_sealed")?)?,
            "email",
        )?,
        name: text(
            open(keys, "name_sealed", &id_text, &row.bytes("name_sealed")?)?,
            "name",
        )?,
        password_hash: row.opt_text("password_hash")?,
        is_operator: row.int("is_operator")? == 1,
        status: AccountStatus::from_stored(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("account status {status:?}")))?,
        password_lockout: lockout(&row.text("password_lockout")?, "password_lockout")?,
        totp_secret,
        totp_last_step: row.opt_int("totp_last_step")?,
        mfa_lockout: lockout(&row.text("mfa_lockout")?, "mfa_lockout")?,
        created_at_ms: row.int("created_at_ms")?,
        version: row.int("version")?,
    })
}

impl AccountRepo for Tx {
    async fn insert_account(&mut self, account: &AccountRecord) -> Result<()> {
        let keys = self.scope_keys(Scope::Platform).await?;
        let (email, bidx, name, totp) = seal_fields(&keys, account);
        let result = self
            .inner
            .execute(
                "INSERT INTO accounts (id, email_sealed, email_bidx, name_sealed, password_hash, is_operator, \
                 status, password_lockout, totp_secret_sealed, totp_last_step, mfa_lockout, created_at_ms, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                args![
                    account.id.to_string(),
                    email,
                    bidx,
                    name,
                    account.password_hash.clone(),
                    i64::from(account.is_operator),
                    account.status.as_str(),
                    lockout_json(&account.password_lockout)?,
                    totp,
                    account.totp_last_step,
                    lockout_json(&account.mfa_lockout)?,
                    account.created_at_ms,
                    account.version
                ],
            )
            .await;
        match result {
            Err(e) if e.is_unique_violation() => Err(StoreError::Domain(DomainError::new(
                ErrorCode::Conflict,
                "an account with this e-mail address already exists",
            ))),
            other => other.map(drop),
        }
    }

    async fn account(&mut self, id: AccountId) -> Result<Option<AccountRecord>> {
        let keys = self.scope_keys(Scope::Platform).await?;
        let sql = format!("SELECT {COLUMNS} FROM accounts WHERE id = $1");
        let row = self
            .inner
            .fetch_optional(&sql, args![id.to_string()])
            .await?;
        row.map(|r| decode(&keys, &r)).transpose()
    }

    async fn account_by_email_for_update(&mut self, email: &str) -> Result<Option<AccountRecord>> {
        let keys = self.scope_keys(Scope::Platform).await?;
        let bidx = keys.blind_index("email", &email_lookup_key(email));
        // A no-op UPDATE takes the row lock on PostgreSQL (SQLite's writer already holds the
        // database lock); portable, unlike SELECT … FOR UPDATE.
        self.inner
            .execute(
                "UPDATE accounts SET version = version WHERE email_bidx = $1",
                args![bidx.clone()],
            )
            .await?;
        let sql = format!("SELECT {COLUMNS} FROM accounts WHERE email_bidx = $1");
        let row = self.inner.fetch_optional(&sql, args![bidx]).await?;
        row.map(|r| decode(&keys, &r)).transpose()
    }

    async fn update_account(&mut self, account: &AccountRecord) -> Result<i64> {
        let keys = self.scope_keys(Scope::Platform).await?;
        let (email, bidx, name, totp) = seal_fields(&keys, account);
        let changed = self
            .inner
            .execute(
                "UPDATE accounts SET email_sealed = $1, email_bidx = $2, name_sealed = $3, password_hash = $4, \
                 is_operator = $5, status = $6, password_lockout = $7, totp_secret_sealed = $8, \
                 totp_last_step = $9, mfa_lockout = $10, version = version + 1 \
                 WHERE id = $11 AND version = $12",
                args![
                    email,
                    bidx,
                    name,
                    account.password_hash.clone(),
                    i64::from(account.is_operator),
                    account.status.as_str(),
                    lockout_json(&account.password_lockout)?,
                    totp,
                    account.totp_last_step,
                    lockout_json(&account.mfa_lockout)?,
                    account.id.to_string(),
                    account.version
                ],
            )
            .await?;
        if changed == 0 {
            return Err(StoreError::Domain(DomainError::new(
                ErrorCode::StaleVersion,
                "the account changed since it was read; reload and try again",
            )));
        }
        Ok(account.version + 1)
    }

    async fn operator_exists(&mut self) -> Result<bool> {
        let row = self
            .inner
            .fetch_optional(
                "SELECT COUNT(*) AS n FROM accounts WHERE is_operator = 1 AND status = 'active'",
                args![],
            )
            .await?;
        Ok(row.map(|r| r.int("n")).transpose()?.unwrap_or(0) > 0)
    }
}
