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
    /// A project created before the secret-key API has no hash of its `sk_`.
    pub secret_key_hash_missing: bool,
}

/// The settings columns of a `projects` row: `name`, `provider`,
/// `base_url`, `default_tier`, `tiers` (as text), `require_signed_identity`,
/// `identity_policy` (as text),
/// `allowed_origins` (as text).
pub fn settings_from_row(row: &Row) -> Result<ProjectSettings, StoreError> {
    let provider: String = col(row, "provider")?;
    let tiers: String = col(row, "tiers")?;
    let origins: String = col(row, "allowed_origins")?;
    let policy: String = col(row, "identity_policy")?;
    let identity_policy = serde_json::from_str(&policy)
        .map_err(|e| StoreError::Failed(format!("stored identity policy: {e}")))?;
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
        identity_policy,
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
               identity_policy::text AS identity_policy, provider_key_enc, secret_key_enc, \
               secret_key_hash IS NULL AS secret_key_hash_missing \
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
        secret_key_hash_missing: col(&row, "secret_key_hash_missing")?,
    }))
}

/// Records the hash of a project's secret key (for projects created before
/// the secret-key API, which finds projects by it).
pub async fn set_secret_hash(client: &Client, id: &str, hash: &str) -> Result<(), StoreError> {
    client
        .execute(
            "UPDATE projects SET secret_key_hash = $2 WHERE id = $1 AND secret_key_hash IS NULL",
            &[&id, &hash],
        )
        .await?;
    Ok(())
}
