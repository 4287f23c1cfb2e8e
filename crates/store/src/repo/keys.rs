//! Loading and storing tenant keys (wrapped by the master key).

use std::sync::Arc;

use latchkey_domain::{Scope, TenantId};

use crate::db::Tx;
use crate::error::{Result, StoreError};
use crate::keyring::{KeyPurpose, TenantKeys, WrappedKey};
use crate::sql::args;

impl Tx {
    /// The keys that seal data of `scope`.
    pub(crate) async fn scope_keys(&mut self, scope: Scope) -> Result<Arc<TenantKeys>> {
        match scope {
            Scope::Platform => Ok(self.keyring.platform_keys()),
            Scope::Tenant(tenant) => self.tenant_keys(tenant).await,
        }
    }

    /// The tenant's unwrapped keys, from the cache or the database.
    pub(crate) async fn tenant_keys(&mut self, tenant: TenantId) -> Result<Arc<TenantKeys>> {
        if let Some(keys) = self.keyring.cached(tenant) {
            return Ok(keys);
        }
        self.enter(&tenant.to_string()).await?;
        let rows = self
            .inner
            .fetch_all(
                "SELECT purpose, version, wrapped FROM tenant_keys WHERE tenant_id = $1",
                args![tenant.to_string()],
            )
            .await?;
        let mut stored = Vec::with_capacity(rows.len());
        for row in rows {
            let purpose = match row.text("purpose")?.as_str() {
                "data" => KeyPurpose::Data,
                "index" => KeyPurpose::Index,
                other => return Err(StoreError::Corrupt(format!("key purpose {other:?}"))),
            };
            stored.push(WrappedKey {
                tenant,
                purpose,
                version: row.int("version")?,
                wrapped: row.bytes("wrapped")?,
            });
        }
        self.keyring
            .load(tenant, &stored)
            .ok_or(StoreError::Unseal {
                what: format!("tenant_keys of {tenant}"),
            })
    }

    /// Stores a new tenant's wrapped keys.
    pub(crate) async fn insert_tenant_keys(
        &mut self,
        keys: &[WrappedKey],
        now_ms: i64,
    ) -> Result<()> {
        for key in keys {
            self.enter(&key.tenant.to_string()).await?;
            self.inner
                .execute(
                    "INSERT INTO tenant_keys (tenant_id, purpose, version, wrapped, created_at_ms) \
                     VALUES ($1, $2, $3, $4, $5)",
                    args![
                        key.tenant.to_string(),
                        key.purpose.as_str(),
                        key.version,
                        key.wrapped.clone(),
                        now_ms
                    ],
                )
                .await?;
        }
        Ok(())
    }
}
