//! An organisation's security settings (`organisations.security_settings`, JSON). The column is on
//! the platform-level organisations row; only the organisation's own admins change it.

use std::future::Future;

use latchkey_domain::OrgId;
use latchkey_domain::identity::SecuritySettings;

use crate::db::Tx;
use crate::error::{Result, StoreError};
use crate::sql::args;

/// Security settings storage.
pub trait OrgSettingsRepo {
    /// The organisation's settings (defaults for `{}`), or `None` if it does not exist.
    fn security_settings(
        &mut self,
        org: OrgId,
    ) -> impl Future<Output = Result<Option<SecuritySettings>>> + Send;
    /// Replaces the organisation's settings.
    fn set_security_settings(
        &mut self,
        org: OrgId,
        settings: &SecuritySettings,
    ) -> impl Future<Output = Result<()>> + Send;
}

impl OrgSettingsRepo for Tx {
    async fn security_settings(&mut self, org: OrgId) -> Result<Option<SecuritySettings>> {
        let row = self
            .inner
            .fetch_optional(
                "SELECT security_settings FROM organisations WHERE id = $1",
                args![org.to_string()],
            )
            .await?;
        row.map(|r| {
            let json = r.text("security_settings")?;
            serde_json::from_str(&json).map_err(|e| {
                StoreError::Corrupt(format!("security settings of organisation {org}: {e}"))
            })
        })
        .transpose()
    }

    async fn set_security_settings(
        &mut self,
        org: OrgId,
        settings: &SecuritySettings,
    ) -> Result<()> {
        let json = serde_json::to_string(settings)
            .map_err(|e| StoreError::Corrupt(format!("security settings: {e}")))?;
        self.inner
            .execute(
                "UPDATE organisations SET security_settings = $1, version = version + 1 WHERE id = $2",
                args![json, org.to_string()],
            )
            .await?;
        Ok(())
    }
}
