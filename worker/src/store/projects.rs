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
/// `identity_policy` (as text), `pricing` (as text), `allowed_origins`
/// (as text), `upgrade_funnel` (as text).
pub fn settings_from_row(row: &Row) -> Result<ProjectSettings, StoreError> {
    let provider: String = col(row, "provider")?;
    let tiers: String = col(row, "tiers")?;
    let origins: String = col(row, "allowed_origins")?;
    let policy: String = col(row, "identity_policy")?;
    let pricing: String = col(row, "pricing")?;
    let pricing = serde_json::from_str(&pricing)
        .map_err(|e| StoreError::Failed(format!("stored pricing: {e}")))?;
    let identity_policy = serde_json::from_str(&policy)
        .map_err(|e| StoreError::Failed(format!("stored identity policy: {e}")))?;
    let funnel: String = col(row, "upgrade_funnel")?;
    let upgrade_funnel = serde_json::from_str(&funnel)
        .map_err(|e| StoreError::Failed(format!("stored upgrade funnel: {e}")))?;
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
        pricing,
        upgrade_funnel,
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
               identity_policy::text AS identity_policy, pricing::text AS pricing, \
               upgrade_funnel::text AS upgrade_funnel, \
               provider_key_enc, secret_key_enc, \
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

/// The columns of a project as the dashboard sees it (no secrets), mapped
/// by [`owned_from_row`].
const PROJECT_COLUMNS: &str = "id, name, provider, base_url, provider_key_hint, project_key, \
     default_tier, tiers::text AS tiers, require_signed_identity, allowed_origins::text AS allowed_origins, \
     to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS created_at_utc, \
     to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS updated_at_utc, \
     identity_policy::text AS identity_policy, pricing::text AS pricing, upgrade_funnel::text AS upgrade_funnel";

/// A project row as the dashboard sees it (no secrets).
pub struct ProjectRow {
    pub id: String,
    pub settings: ProjectSettings,
    pub provider_key_hint: Option<String>,
    pub project_key: String,
    pub created_at: String,
    pub updated_at: String,
}

/// Maps a row of [`PROJECT_COLUMNS`] by column name.
fn owned_from_row(row: &Row) -> Result<ProjectRow, StoreError> {
    Ok(ProjectRow {
        id: col(row, "id")?,
        settings: settings_from_row(row)?,
        provider_key_hint: col(row, "provider_key_hint")?,
        project_key: col(row, "project_key")?,
        created_at: col(row, "created_at_utc")?,
        updated_at: col(row, "updated_at_utc")?,
    })
}

fn owned_opt(row: Option<Row>) -> Result<Option<ProjectRow>, StoreError> {
    row.as_ref().map(owned_from_row).transpose()
}

/// The settings of a project as written: JSON columns travel as text.
pub struct ProjectWrite<'a> {
    pub settings: &'a ProjectSettings,
    pub tiers: &'a str,
    pub origins: &'a str,
    pub policy: &'a str,
    pub pricing: &'a str,
    /// `upgradeFunnel` as JSON.
    pub funnel: &'a str,
    /// A new sealed provider key and its hint (`None`: keep the stored one).
    pub provider_key_enc: Option<&'a str>,
    pub provider_key_hint: Option<&'a str>,
}

/// One of the owner's projects, or `None` (missing or someone else's).
pub async fn owned(
    client: &Client,
    owner_id: &str,
    id: &str,
) -> Result<Option<ProjectRow>, StoreError> {
    let sql = format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE id = $1 AND owner_id = $2");
    owned_opt(client.query_opt(&sql, &[&id, &owner_id]).await?)
}

/// The owner's projects, oldest first.
pub async fn list_owned(client: &Client, owner_id: &str) -> Result<Vec<ProjectRow>, StoreError> {
    let sql = format!(
        "SELECT {PROJECT_COLUMNS} FROM projects WHERE owner_id = $1 ORDER BY created_at, id"
    );
    client
        .query(&sql, &[&owner_id])
        .await?
        .iter()
        .map(owned_from_row)
        .collect()
}

/// The project whose secret key hashes to `hash`.
pub async fn by_secret_hash(client: &Client, hash: &str) -> Result<Option<ProjectRow>, StoreError> {
    let sql = format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE secret_key_hash = $1");
    owned_opt(client.query_opt(&sql, &[&hash]).await?)
}

/// Inserts a new project.
pub async fn insert(
    client: &Client,
    id: &str,
    owner_id: &str,
    project_key: &str,
    secret_key_enc: &str,
    secret_key_hash: &str,
    w: &ProjectWrite<'_>,
) -> Result<ProjectRow, StoreError> {
    let s = w.settings;
    let sql = format!(
        "INSERT INTO projects (id, owner_id, name, provider, base_url, provider_key_enc, provider_key_hint, \
           project_key, secret_key_enc, default_tier, tiers, require_signed_identity, allowed_origins, \
           identity_policy, secret_key_hash, pricing, upgrade_funnel) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::text::jsonb, $12, $13::text::jsonb, \
           $14::text::jsonb, $15, $16::text::jsonb, $17::text::jsonb) \
         RETURNING {PROJECT_COLUMNS}"
    );
    let row = client
        .query_one(
            &sql,
            &[
                &id,
                &owner_id,
                &s.name,
                &s.provider.as_str(),
                &s.base_url,
                &w.provider_key_enc,
                &w.provider_key_hint,
                &project_key,
                &secret_key_enc,
                &s.default_tier,
                &w.tiers,
                &s.require_signed_identity,
                &w.origins,
                &w.policy,
                &secret_key_hash,
                &w.pricing,
                &w.funnel,
            ],
        )
        .await?;
    owned_from_row(&row)
}

/// Updates one of the owner's projects; `None` when it is not theirs.
pub async fn update(
    client: &Client,
    owner_id: &str,
    id: &str,
    w: &ProjectWrite<'_>,
) -> Result<Option<ProjectRow>, StoreError> {
    let s = w.settings;
    let sql = format!(
        "UPDATE projects SET name = $3, provider = $4, base_url = $5, \
           provider_key_enc = COALESCE($6, provider_key_enc), provider_key_hint = COALESCE($7, provider_key_hint), \
           default_tier = $8, tiers = $9::text::jsonb, require_signed_identity = $10, \
           allowed_origins = $11::text::jsonb, identity_policy = $12::text::jsonb, \
           pricing = $13::text::jsonb, upgrade_funnel = $14::text::jsonb, updated_at = now() \
         WHERE id = $1 AND owner_id = $2 RETURNING {PROJECT_COLUMNS}"
    );
    let row = client
        .query_opt(
            &sql,
            &[
                &id,
                &owner_id,
                &s.name,
                &s.provider.as_str(),
                &s.base_url,
                &w.provider_key_enc,
                &w.provider_key_hint,
                &s.default_tier,
                &w.tiers,
                &s.require_signed_identity,
                &w.origins,
                &w.policy,
                &w.pricing,
                &w.funnel,
            ],
        )
        .await?;
    owned_opt(row)
}

/// Deletes one of the owner's projects; its publishable key, or `None`
/// when it is not theirs.
pub async fn delete(
    client: &Client,
    owner_id: &str,
    id: &str,
) -> Result<Option<String>, StoreError> {
    let row = client
        .query_opt(
            "DELETE FROM projects WHERE id = $1 AND owner_id = $2 RETURNING project_key",
            &[&id, &owner_id],
        )
        .await?;
    row.as_ref().map(|r| col(r, "project_key")).transpose()
}

/// Gives one of the owner's projects a new publishable key.
pub async fn set_project_key(
    client: &Client,
    owner_id: &str,
    id: &str,
    new_key: &str,
) -> Result<Option<ProjectRow>, StoreError> {
    let sql = format!(
        "UPDATE projects SET project_key = $3, updated_at = now() WHERE id = $1 AND owner_id = $2 RETURNING {PROJECT_COLUMNS}"
    );
    owned_opt(client.query_opt(&sql, &[&id, &owner_id, &new_key]).await?)
}

/// Replaces one of the owner's project's sealed secret key and its hash.
pub async fn set_secret(
    client: &Client,
    owner_id: &str,
    id: &str,
    sealed: &str,
    hash: &str,
) -> Result<(), StoreError> {
    client
        .execute(
            "UPDATE projects SET secret_key_enc = $3, secret_key_hash = $4, updated_at = now() \
             WHERE id = $1 AND owner_id = $2",
            &[&id, &owner_id, &sealed, &hash],
        )
        .await?;
    Ok(())
}
