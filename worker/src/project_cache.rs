//! Resolves a publishable key to its project, through an in-isolate cache.
//!
//! A hit costs no I/O. Entries live at most [`TTL_MS`] (30 s), so a key
//! rotation, a limit change or a rule edit made in another isolate applies
//! everywhere within 30 s; the isolate that made the change drops its entry
//! at once. The entry holds the project's decrypted provider key and `sk_`
//! secret (memory only, never logged) and its enabled rules in evaluation
//! order. Unknown keys are cached briefly too, so a flood of bad keys does
//! not become a flood of queries. When the refresh of an expired entry
//! fails (Postgres unreachable or out of connections), the entry is served
//! for up to [`STALE_IF_ERROR_MS`] more rather than failing the request: a
//! database hiccup does not become a proxy outage (a change made in
//! another isolate then takes effect once Postgres answers again).

use crate::config::Config;
use crate::crypto::{open, Purpose};
use crate::db;
use crate::http::{ApiResult, OrInternal};
use crate::projects::settings_from_columns;
use shared::project::ProjectSettings;
use shared::rules::{Action, Condition, Rule};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use worker::{Date, Env};

pub const TTL_MS: u64 = 30_000;
/// How long an expired project may be served while its refresh fails.
pub const STALE_IF_ERROR_MS: u64 = 5 * 60_000;
const NEGATIVE_TTL_MS: u64 = 5_000;
const MAX_ENTRIES: usize = 10_000;

pub struct ResolvedProject {
    pub id: String,
    pub settings: ProjectSettings,
    pub provider_key: Option<String>,
    pub secret_key: String,
    pub rules: Vec<Rule>,
}

struct Entry {
    project: Option<Rc<ResolvedProject>>,
    fetched_at: u64,
}

thread_local! {
    static CACHE: RefCell<HashMap<String, Entry>> = RefCell::new(HashMap::new());
}

/// Drops a key's entry (after a change made by this isolate).
pub fn invalidate_key(project_key: &str) {
    CACHE.with(|c| c.borrow_mut().remove(project_key));
}

/// Drops every entry of a project (rules changed; the key is not at hand).
pub fn invalidate_project(project_id: &str) {
    CACHE.with(|c| {
        c.borrow_mut()
            .retain(|_, e| e.project.as_ref().is_none_or(|p| p.id != project_id))
    });
}

fn cached(key: &str, now: u64) -> Option<Option<Rc<ResolvedProject>>> {
    CACHE.with(|c| {
        let cache = c.borrow();
        let entry = cache.get(key)?;
        let ttl = if entry.project.is_some() {
            TTL_MS
        } else {
            NEGATIVE_TTL_MS
        };
        (now.saturating_sub(entry.fetched_at) < ttl).then(|| entry.project.clone())
    })
}

/// An expired project entry still within [`STALE_IF_ERROR_MS`].
fn stale(key: &str, now: u64) -> Option<Rc<ResolvedProject>> {
    CACHE.with(|c| {
        let cache = c.borrow();
        let entry = cache.get(key)?;
        let project = entry.project.clone()?;
        (now.saturating_sub(entry.fetched_at) < TTL_MS + STALE_IF_ERROR_MS).then_some(project)
    })
}

fn store(key: &str, project: Option<Rc<ResolvedProject>>, now: u64) {
    CACHE.with(|c| {
        let mut cache = c.borrow_mut();
        if cache.len() >= MAX_ENTRIES {
            cache.retain(|_, e| now.saturating_sub(e.fetched_at) < TTL_MS);
            if cache.len() >= MAX_ENTRIES {
                cache.clear();
            }
        }
        cache.insert(
            key.to_string(),
            Entry {
                project,
                fetched_at: now,
            },
        );
    })
}

/// The project of a publishable key, or `None` for an unknown or revoked key.
pub async fn resolve(
    env: &Env,
    cfg: &Config,
    project_key: &str,
) -> ApiResult<Option<Rc<ResolvedProject>>> {
    let now = Date::now().as_millis();
    if let Some(hit) = cached(project_key, now) {
        return Ok(hit);
    }
    match load(env, cfg, project_key, now).await {
        Ok(found) => Ok(found),
        Err(e) => match stale(project_key, now) {
            Some(project) => {
                worker::console_error!("project refresh failed, serving the cached entry: {e}");
                Ok(Some(project))
            }
            None => Err(e),
        },
    }
}

/// Loads a key's project from Postgres and caches the answer.
async fn load(
    env: &Env,
    cfg: &Config,
    project_key: &str,
    now: u64,
) -> ApiResult<Option<Rc<ResolvedProject>>> {
    let client = db::connect(env).await?;
    let row = client
        .query_opt(
            "SELECT id, name, provider, base_url, default_tier, tiers::text, require_signed_identity, \
               allowed_origins::text, provider_key_enc, secret_key_enc, identity_policy::text, \
               secret_key_hash IS NULL \
             FROM projects WHERE project_key = $1",
            &[&project_key],
        )
        .await
        .or_internal("resolve project")?;
    let Some(row) = row else {
        store(project_key, None, now);
        return Ok(None);
    };
    let id: String = row.get(0);
    let provider: String = row.get(2);
    let tiers: String = row.get(5);
    let origins: String = row.get(7);
    let settings = settings_from_columns(
        row.get(1),
        &provider,
        row.get(3),
        row.get(4),
        &tiers,
        row.get(6),
        &origins,
        row.get(10),
    )?;
    if cfg.encryption_key.is_none() {
        return Err(crate::http::internal("config", "ENCRYPTION_KEY is not set"));
    }
    let keys = cfg.opening_keys();
    let provider_enc: Option<String> = row.get(8);
    let provider_key = match provider_enc {
        Some(sealed) => {
            Some(open(&keys, Purpose::ProviderKey, &id, &sealed).or_internal("open provider key")?)
        }
        None => None,
    };
    let secret_enc: String = row.get(9);
    let secret_key =
        open(&keys, Purpose::SecretKey, &id, &secret_enc).or_internal("open secret")?;
    // Projects created before the secret-key API learn their secret's hash
    // on first use (the secret-key API finds projects by it).
    let hash_missing: bool = row.get(11);
    if hash_missing {
        client
            .execute(
                "UPDATE projects SET secret_key_hash = $2 WHERE id = $1 AND secret_key_hash IS NULL",
                &[&id, &crate::crypto::sha256_hex(secret_key.as_bytes())],
            )
            .await
            .or_internal("backfill secret hash")?;
    }
    let rules = load_rules(&client, &id, true).await?;
    let project = Rc::new(ResolvedProject {
        id,
        settings,
        provider_key,
        secret_key,
        rules,
    });
    store(project_key, Some(project.clone()), now);
    Ok(Some(project))
}

/// A project's rules in evaluation order (priority, then creation).
pub async fn load_rules(
    client: &db::Client,
    project_id: &str,
    enabled_only: bool,
) -> ApiResult<Vec<Rule>> {
    let rows = client
        .query(
            "SELECT id, name, enabled, priority, condition::text, action::text FROM rules \
             WHERE project_id = $1 AND (enabled OR NOT $2) ORDER BY priority, seq",
            &[&project_id, &enabled_only],
        )
        .await
        .or_internal("load rules")?;
    rows.iter()
        .map(|r| {
            let condition: String = r.get(4);
            let action: String = r.get(5);
            Ok(Rule {
                id: r.get(0),
                name: r.get(1),
                enabled: r.get(2),
                priority: r.get(3),
                condition: serde_json::from_str::<Condition>(&condition)
                    .or_internal("stored condition")?,
                action: serde_json::from_str::<Action>(&action).or_internal("stored action")?,
            })
        })
        .collect()
}
