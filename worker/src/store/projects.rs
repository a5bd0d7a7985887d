//! Projects as stored: the SQL that reads one by its publishable key, and
//! the mapping of a project row (by column name) into [`ProjectSettings`].
//!
//! Sealed columns (provider key, `sk_` secret) leave here still sealed; the
//! caller opens them. A stored value that does not parse is
//! [`StoreError::Failed`] (a bug: 500), never a panic.

use super::{col, Client, Row, StoreError};
use shared::project::ProjectSettings;
use shared::providers::ProviderKind;
use shared::tier::Tier;
use std::collections::BTreeMap;

/// A project as the proxy needs it, secrets still sealed.
pub struct StoredProject {
    pub id: String,
    pub settings: ProjectSettings,
    pub provider_key_enc: Option<String>,
    pub secret_key_enc: String,
}

/// The settings columns of a `projects` row: `name`, `provider`,
/// `base_url`, `default_tier`, `tiers` (as text), `require_signed_identity`,
/// `allowed_origins` (as text).
pub fn settings_from_row(row: &Row) -> Result<ProjectSettings, StoreError> {
    let provider: String = col(row, "provider")?;
    let tiers: String = col(row, "tiers")?;
    let origins: String = col(row, "allowed_origins")?;
    let tiers: BTreeMap<String, Tier> = serde_json::from_str(&tiers)
        .map_err(|e| StoreError::Failed(format!("stored tiers: {e}")))?;
    let allowed_origins: Vec<String> = serde_json::from_str(&origins)
        .map_err(|e| StoreError::Failed(format!("stored origins: {e}")))?;
    Ok(ProjectSettings {
        name: col(row, "name")?,
        provider: ProviderKind::parse(&provider).unwrap_or(ProviderKind::Other),
        base_url: col(row, "base_url")?,
        default_tier: col(row, "default_tier")?,
        tiers,
        require_signed_identity: col(row, "require_signed_identity")?,
        allowed_origins,
    })
}

/// The project of a publishable key, or `None` for an unknown or revoked key.
pub async fn by_key(
    client: &Client,
    project_key: &str,
) -> Result<Option<StoredProject>, StoreError> {
    let row = client
        .query_opt(
            "SELECT id, name, provider, base_url, default_tier, tiers::text AS tiers, \
               require_signed_identity, allowed_origins::text AS allowed_origins, \
               provider_key_enc, secret_key_enc \
             FROM projects WHERE project_key = $1",
            &[&project_key],
        )
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(Some(StoredProject {
        id: col(&row, "id")?,
        settings: settings_from_row(&row)?,
        provider_key_enc: col(&row, "provider_key_enc")?,
        secret_key_enc: col(&row, "secret_key_enc")?,
    }))
}
