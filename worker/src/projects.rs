//! Owner API for projects (docs/API.md, "Projects"): CRUD, key rotation,
//! secrets sealed.
//!
//! Every query filters by the authenticated owner: another owner's project
//! is indistinguishable from a missing one (404). The provider key and the
//! `sk_` secret are sealed with AES-256-GCM (AAD = purpose and project id, with a key id) before they
//! reach Postgres; answers carry only the provider key's hint, and the
//! `sk_` secret only once (create and rotate).

use crate::auth::Owner;
use crate::config::Config;
use crate::crypto::{key_hint, random_id, random_token, seal, sha256_hex, Purpose};
use crate::http::{empty_response, json_response, read_json_body, ApiResult, OrInternal};
use crate::project_cache;
use crate::store::projects::settings_from_row;
use crate::store::OrStore;
use crate::store::{col, Client, Row, StoreError};
use serde_json::{json, Value};
use shared::project::{parse_changes, ProjectSettings};
use shared::ApiError;
use worker::{Request, Response};

pub const PROJECT_COLUMNS: &str = "id, name, provider, base_url, provider_key_hint, project_key, \
     default_tier, tiers::text AS tiers, require_signed_identity, allowed_origins::text AS allowed_origins, \
     to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS created_at_utc, \
     to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS updated_at_utc, \
     identity_policy::text AS identity_policy";

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
pub fn row_to_project(row: &Row) -> ApiResult<ProjectRow> {
    let map = || -> Result<ProjectRow, StoreError> {
        Ok(ProjectRow {
            id: col(row, "id")?,
            settings: settings_from_row(row)?,
            provider_key_hint: col(row, "provider_key_hint")?,
            project_key: col(row, "project_key")?,
            created_at: col(row, "created_at_utc")?,
            updated_at: col(row, "updated_at_utc")?,
        })
    };
    map().or_store("project row")
}

fn project_json(p: &ProjectRow) -> Value {
    let s = &p.settings;
    json!({
        "id": p.id,
        "name": s.name,
        "provider": s.provider.as_str(),
        "baseUrl": s.effective_base_url(),
        "baseUrlOverride": s.base_url,
        "providerApiKeyHint": p.provider_key_hint,
        "projectKey": p.project_key,
        "defaultTier": s.default_tier,
        "tiers": s.tiers,
        "requireSignedIdentity": s.require_signed_identity,
        "allowedOrigins": s.allowed_origins,
        "tierSource": s.identity_policy.tier_source.as_str(),
        "anonymousLimits": s.identity_policy.anonymous_limits,
        "createdAt": p.created_at,
        "updatedAt": p.updated_at,
    })
}

fn encryption_key(cfg: &Config) -> ApiResult<&[u8; 32]> {
    cfg.encryption_key
        .as_ref()
        .ok_or_else(|| crate::http::internal("config", "ENCRYPTION_KEY is not set or not 32 bytes"))
}

/// Loads one of the owner's projects; anyone else's is a 404.
pub async fn load_owned(client: &Client, owner: &Owner, id: &str) -> ApiResult<ProjectRow> {
    let sql = format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE id = $1 AND owner_id = $2");
    let row = client
        .query_opt(&sql, &[&id, &owner.id])
        .await
        .or_store("load project")?
        .ok_or_else(|| ApiError::not_found("Project"))?;
    row_to_project(&row)
}

pub async fn list(client: &Client, owner: &Owner) -> ApiResult<Response> {
    let sql = format!(
        "SELECT {PROJECT_COLUMNS} FROM projects WHERE owner_id = $1 ORDER BY created_at, id"
    );
    let rows = client
        .query(&sql, &[&owner.id])
        .await
        .or_store("list projects")?;
    let items: Vec<Value> = rows
        .iter()
        .map(|r| row_to_project(r).map(|p| project_json(&p)))
        .collect::<ApiResult<_>>()?;
    json_response(200, &Value::Array(items))
}

pub async fn create(
    mut req: Request,
    client: &Client,
    owner: &Owner,
    cfg: &Config,
) -> ApiResult<Response> {
    let (_, body) = read_json_body(&mut req, 256 * 1024).await?;
    let changes = parse_changes(&body, cfg.production)?;
    let settings = ProjectSettings::create(&changes)?;
    let key = encryption_key(cfg)?;
    let id = random_id("prj_").or_internal("id")?;
    let project_key = random_token("pk_").or_internal("pk")?;
    let secret_key = random_token("sk_").or_internal("sk")?;
    let secret_enc = seal(key, Purpose::SecretKey, &id, &secret_key).or_internal("seal secret")?;
    let (provider_enc, hint) = match &changes.provider_api_key {
        Some(k) => (
            Some(seal(key, Purpose::ProviderKey, &id, k).or_internal("seal provider key")?),
            Some(key_hint(k)),
        ),
        None => (None, None),
    };
    let tiers = serde_json::to_string(&settings.tiers).or_internal("tiers")?;
    let origins = serde_json::to_string(&settings.allowed_origins).or_internal("origins")?;
    let policy = serde_json::to_string(&settings.identity_policy).or_internal("policy")?;
    let sql = format!(
        "INSERT INTO projects (id, owner_id, name, provider, base_url, provider_key_enc, provider_key_hint, \
           project_key, secret_key_enc, default_tier, tiers, require_signed_identity, allowed_origins, \
           identity_policy, secret_key_hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::text::jsonb, $12, $13::text::jsonb, \
           $14::text::jsonb, $15) \
         RETURNING {PROJECT_COLUMNS}"
    );
    let row = client
        .query_one(
            &sql,
            &[
                &id,
                &owner.id,
                &settings.name,
                &settings.provider.as_str(),
                &settings.base_url,
                &provider_enc,
                &hint,
                &project_key,
                &secret_enc,
                &settings.default_tier,
                &tiers,
                &settings.require_signed_identity,
                &origins,
                &policy,
                &sha256_hex(secret_key.as_bytes()),
            ],
        )
        .await
        .or_store("insert project")?;
    let mut answer = project_json(&row_to_project(&row)?);
    answer["secretKey"] = json!(secret_key);
    json_response(201, &answer)
}

pub async fn get(client: &Client, owner: &Owner, id: &str) -> ApiResult<Response> {
    json_response(200, &project_json(&load_owned(client, owner, id).await?))
}

pub async fn patch(
    mut req: Request,
    client: &Client,
    owner: &Owner,
    id: &str,
    cfg: &Config,
) -> ApiResult<Response> {
    let (_, body) = read_json_body(&mut req, 256 * 1024).await?;
    let changes = parse_changes(&body, cfg.production)?;
    let current = load_owned(client, owner, id).await?;
    let settings = current.settings.patched(&changes)?;
    let (provider_enc, hint) = match &changes.provider_api_key {
        Some(k) => {
            let key = encryption_key(cfg)?;
            (
                Some(seal(key, Purpose::ProviderKey, id, k).or_internal("seal provider key")?),
                Some(key_hint(k)),
            )
        }
        None => (None, None),
    };
    let tiers = serde_json::to_string(&settings.tiers).or_internal("tiers")?;
    let origins = serde_json::to_string(&settings.allowed_origins).or_internal("origins")?;
    let policy = serde_json::to_string(&settings.identity_policy).or_internal("policy")?;
    let sql = format!(
        "UPDATE projects SET name = $3, provider = $4, base_url = $5, \
           provider_key_enc = COALESCE($6, provider_key_enc), provider_key_hint = COALESCE($7, provider_key_hint), \
           default_tier = $8, tiers = $9::text::jsonb, require_signed_identity = $10, \
           allowed_origins = $11::text::jsonb, identity_policy = $12::text::jsonb, updated_at = now() \
         WHERE id = $1 AND owner_id = $2 RETURNING {PROJECT_COLUMNS}"
    );
    let row = client
        .query_opt(
            &sql,
            &[
                &id,
                &owner.id,
                &settings.name,
                &settings.provider.as_str(),
                &settings.base_url,
                &provider_enc,
                &hint,
                &settings.default_tier,
                &tiers,
                &settings.require_signed_identity,
                &origins,
                &policy,
            ],
        )
        .await
        .or_store("update project")?
        .ok_or_else(|| ApiError::not_found("Project"))?;
    let project = row_to_project(&row)?;
    project_cache::expire_key(&project.project_key);
    json_response(200, &project_json(&project))
}

pub async fn delete(client: &Client, owner: &Owner, id: &str) -> ApiResult<Response> {
    let row = client
        .query_opt(
            "DELETE FROM projects WHERE id = $1 AND owner_id = $2 RETURNING project_key",
            &[&id, &owner.id],
        )
        .await
        .or_store("delete project")?
        .ok_or_else(|| ApiError::not_found("Project"))?;
    let key: String = row.get(0);
    project_cache::invalidate_key(&key);
    empty_response(204)
}

pub async fn rotate_key(client: &Client, owner: &Owner, id: &str) -> ApiResult<Response> {
    let old = load_owned(client, owner, id).await?;
    let new_key = random_token("pk_").or_internal("pk")?;
    let sql = format!(
        "UPDATE projects SET project_key = $3, updated_at = now() WHERE id = $1 AND owner_id = $2 RETURNING {PROJECT_COLUMNS}"
    );
    let row = client
        .query_opt(&sql, &[&id, &owner.id, &new_key])
        .await
        .or_store("rotate key")?
        .ok_or_else(|| ApiError::not_found("Project"))?;
    project_cache::invalidate_key(&old.project_key);
    json_response(200, &project_json(&row_to_project(&row)?))
}

pub async fn rotate_secret(
    client: &Client,
    owner: &Owner,
    id: &str,
    cfg: &Config,
) -> ApiResult<Response> {
    let project = load_owned(client, owner, id).await?;
    let key = encryption_key(cfg)?;
    let secret_key = random_token("sk_").or_internal("sk")?;
    let sealed = seal(key, Purpose::SecretKey, id, &secret_key).or_internal("seal secret")?;
    client
        .execute(
            "UPDATE projects SET secret_key_enc = $3, secret_key_hash = $4, updated_at = now() \
             WHERE id = $1 AND owner_id = $2",
            &[&id, &owner.id, &sealed, &sha256_hex(secret_key.as_bytes())],
        )
        .await
        .or_store("rotate secret")?;
    project_cache::invalidate_key(&project.project_key);
    json_response(200, &json!({"secretKey": secret_key}))
}
