//! Trusted devices — the device lane of research §2.2 L2 (OWASP device cookies). A browser that
//! signed in successfully holds a 256-bit device token; only its HMAC digest is stored, with the
//! device's own password lockout state, so an attacker's failures elsewhere do not lock it out.

use std::future::Future;

use latchkey_domain::AccountId;
use latchkey_domain::identity::lockout::LockoutState;

use crate::db::Tx;
use crate::error::{Result, StoreError};
use crate::sql::args;

/// A trusted device as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedDevice {
    /// HMAC digest of the device token.
    pub digest: Vec<u8>,
    /// The account it signed in to.
    pub account_id: AccountId,
    /// The device lane's lockout state.
    pub password_lockout: LockoutState,
    /// First sign-in, epoch ms UTC.
    pub created_at_ms: i64,
    /// Last sign-in, epoch ms UTC.
    pub last_used_at_ms: i64,
}

/// Trusted-device storage.
pub trait DeviceRepo {
    /// Stores a new trusted device.
    fn insert_device(&mut self, device: &TrustedDevice) -> impl Future<Output = Result<()>> + Send;
    /// The device with this digest if it belongs to `account` (a device token of another
    /// account is worth nothing here).
    fn device_of(
        &mut self,
        account: AccountId,
        digest: &[u8],
    ) -> impl Future<Output = Result<Option<TrustedDevice>>> + Send;
    /// Writes the device's lockout state and last-use time back.
    fn update_device(&mut self, device: &TrustedDevice) -> impl Future<Output = Result<()>> + Send;
    /// Clears the lockout of every device of the account (unlock link, reset, admin unlock).
    fn unlock_devices_of(&mut self, account: AccountId)
    -> impl Future<Output = Result<u64>> + Send;
    /// Keeps only the `keep` most recently used devices of the account, so scripts that never
    /// return the cookie cannot grow the table without bound.
    fn prune_devices_of(
        &mut self,
        account: AccountId,
        keep: i64,
    ) -> impl Future<Output = Result<u64>> + Send;
}

fn lockout_json(state: &LockoutState) -> Result<String> {
    serde_json::to_string(state).map_err(|e| StoreError::Corrupt(format!("device lockout: {e}")))
}

impl DeviceRepo for Tx {
    async fn insert_device(&mut self, device: &TrustedDevice) -> Result<()> {
        self.inner
            .execute(
                "INSERT INTO trusted_devices (digest, account_id, password_lockout, created_at_ms, \
                 last_used_at_ms) VALUES ($1, $2, $3, $4, $5)",
                args![
                    device.digest.clone(),
                    device.account_id.to_string(),
                    lockout_json(&device.password_lockout)?,
                    device.created_at_ms,
                    device.last_used_at_ms
                ],
            )
            .await?;
        Ok(())
    }

    async fn device_of(
        &mut self,
        account: AccountId,
        digest: &[u8],
    ) -> Result<Option<TrustedDevice>> {
        let row = self
            .inner
            .fetch_optional(
                "SELECT password_lockout, created_at_ms, last_used_at_ms FROM trusted_devices \
                 WHERE digest = $1 AND account_id = $2",
                args![digest, account.to_string()],
            )
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let lockout = serde_json::from_str(&row.text("password_lockout")?)
            .map_err(|e| StoreError::Corrupt(format!("device lockout: {e}")))?;
        Ok(Some(TrustedDevice {
            digest: digest.to_vec(),
            account_id: account,
            password_lockout: lockout,
            created_at_ms: row.int("created_at_ms")?,
            last_used_at_ms: row.int("last_used_at_ms")?,
        }))
    }

    async fn update_device(&mut self, device: &TrustedDevice) -> Result<()> {
        self.inner
            .execute(
                "UPDATE trusted_devices SET password_lockout = $1, last_used_at_ms = $2 \
                 WHERE digest = $3 AND account_id = $4",
                args![
                    lockout_json(&device.password_lockout)?,
                    device.last_used_at_ms,
                    device.digest.clone(),
                    device.account_id.to_string()
                ],
            )
            .await?;
        Ok(())
    }

    async fn unlock_devices_of(&mut self, account: AccountId) -> Result<u64> {
        self.inner
            .execute(
                "UPDATE trusted_devices SET password_lockout = $1 WHERE account_id = $2",
                args![lockout_json(&LockoutState::default())?, account.to_string()],
            )
            .await
    }

    async fn prune_devices_of(&mut self, account: AccountId, keep: i64) -> Result<u64> {
        self.inner
            .execute(
                "DELETE FROM trusted_devices WHERE account_id = $1 AND digest NOT IN \
                 (SELECT digest FROM trusted_devices WHERE account_id = $1 \
                  ORDER BY last_used_at_ms DESC, created_at_ms DESC LIMIT $2)",
                args![account.to_string(), keep],
            )
            .await
    }
}
