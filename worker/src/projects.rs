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
use crate::store::projects::{self as stored, ProjectWrite};
use crate::store::Client;
use crate::store::OrStore;
use serde_json::{json, Value};
use shared::project::{parse_changes, ProjectSettings};
use shared::ApiError;
use worker::{Request, Response};

pub use crate::store::projects::ProjectRow;

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
        "modelPrices": s.pricing.model_prices,
        "tierPrices": s.pricing.tier_prices,
        "upgradeFunnel": {
            "trackedRedirect": s.upgrade_funnel.tracked_redirect,
            "tierOrder": s.upgrade_funnel.tier_order,
        },
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
    stored::owned(client, &owner.id, id)
        .await
        .or_store("load project")?
        .ok_or_else(|| ApiError::not_found("Project"))
}

pub async fn list(client: &Client, owner: &Owner) -> ApiResult<Response> {
    let items: Vec<Value> = stored::list_owned(client, &owner.id)
        .await
        .or_store("list projects")?
        .iter()
        .map(project_json)
        .collect();
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
    let pricing = serde_json::to_string(&settings.pricing).or_internal("pricing")?;
    let funnel = serde_json::to_string(&settings.upgrade_funnel).or_internal("funnel")?;
    let write = ProjectWrite {
        settings: &settings,
        tiers: &tiers,
        origins: &origins,
        policy: &policy,
        pricing: &pricing,
        funnel: &funnel,
        provider_key_enc: provider_enc.as_deref(),
        provider_key_hint: hint.as_deref(),
    };
    let project = stored::insert(
        client,
        &id,
        &owner.id,
        &project_key,
        &secret_enc,
        &sha256_hex(secret_key.as_bytes()),
        &write,
    )
    .await
    .or_store("insert project")?;
    let mut answer = project_json(&project);
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
    let pricing = serde_json::to_string(&settings.pricing).or_internal("pricing")?;
    let funnel = serde_json::to_string(&settings.upgrade_funnel).or_internal("funnel")?;
    let write = ProjectWrite {
        settings: &settings,
        tiers: &tiers,
        origins: &origins,
        policy: &policy,
        pricing: &pricing,
        funnel: &funnel,
        provider_key_enc: provider_enc.as_deref(),
        provider_key_hint: hint.as_deref(),
    };
    let project = stored::update(client, &owner.id, id, &write)
        .await
        .or_store("update project")?
        .ok_or_else(|| ApiError::not_found("Project"))?;
    project_cache::expire_key(&project.project_key);
    json_response(200, &project_json(&project))
}

pub async fn delete(client: &Client, owner: &Owner, id: &str) -> ApiResult<Response> {
    let key = stored::delete(client, &owner.id, id)
        .await
        .or_store("delete project")?
        .ok_or_else(|| ApiError::not_found("Project"))?;
    project_cache::invalidate_key(&key);
    empty_response(204)
}

pub async fn rotate_key(client: &Client, owner: &Owner, id: &str) -> ApiResult<Response> {
    let old = load_owned(client, owner, id).await?;
    let new_key = random_token("pk_").or_internal("pk")?;
    let project = stored::set_project_key(client, &owner.id, id, &new_key)
        .await
        .or_store("rotate key")?
        .ok_or_else(|| ApiError::not_found("Project"))?;
    project_cache::invalidate_key(&old.project_key);
    json_response(200, &project_json(&project))
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
    stored::set_secret(
        client,
        &owner.id,
        id,
        &sealed,
        &sha256_hex(secret_key.as_bytes()),
    )
    .await
    .or_store("rotate secret")?;
    project_cache::invalidate_key(&project.project_key);
    json_response(200, &json!({"secretKey": secret_key}))
}
