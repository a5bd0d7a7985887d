//! Resolves a publishable key to its project, through an in-isolate cache.
//! Caching only: the store (`store::projects`, `store::rules`) loads.
//!
//! A hit costs no I/O. Entries are fresh for [`TTL_MS`] (30 s), so a key
//! rotation, a limit change or a rule edit made in another isolate applies
//! everywhere within 30 s; the isolate that made the change expires its
//! entry at once. The entry holds the project's decrypted provider key and
//! `sk_` secret (memory only, never logged) and its enabled rules in
//! evaluation order. Unknown keys are cached briefly too, so a flood of bad
//! keys does not become a flood of queries.
//!
//! Stale-if-error (docs/guarantees.md, "Failure policy"): when an entry is
//! no longer fresh and the database is slow or down (the store's deadline
//! passed, or it refused the connection), the entry keeps answering for up
//! to [`STALE_IF_ERROR_MS`] (15 min) past its load, and the database is
//! retried at most every [`RETRY_AFTER_FAILURE_MS`], so a down database
//! costs one request a deadline every 5 s, not every request. A key this
//! isolate revoked (rotated, deleted, secret rotated) is removed, never
//! served stale. A key never seen, or seen too long ago, answers
//! `503 service_unavailable`. Limits are never relaxed by this: the
//! counters live in the identity's object, not here.

use crate::config::Config;
use crate::crypto::{open, Purpose};
use crate::http::{ApiResult, OrInternal};
use crate::store::{self, StoreError};
use shared::project::ProjectSettings;
use shared::project_budget::BudgetSpec;
use shared::rules::Rule;
use shared::ApiError;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use worker::{console_warn, Date, Env};

pub const TTL_MS: u64 = 30_000;
const NEGATIVE_TTL_MS: u64 = 5_000;
/// How long past its TTL an entry may answer while the database fails.
pub const STALE_IF_ERROR_MS: u64 = 15 * 60_000;
/// After a failed refresh, the stale entry answers this long without a retry.
pub const RETRY_AFTER_FAILURE_MS: u64 = 5_000;
const MAX_ENTRIES: usize = 10_000;

pub struct ResolvedProject {
    pub id: String,
    pub settings: ProjectSettings,
    pub provider_key: Option<String>,
    pub secret_key: String,
    pub rules: Vec<Rule>,
    /// The project's budgets (the copy in Postgres of its `ProjectBudget`'s).
    pub budgets: Vec<BudgetSpec>,
    /// Why the provider base URL is refused, if it is: the URL is checked
    /// again at every load (`shared::url_guard`), not only when it was
    /// written, so a row written before a rule tightened, or by hand, is
    /// never fetched.
    pub base_url_refused: Option<String>,
}

#[derive(Clone)]
struct Entry {
    project: Option<Rc<ResolvedProject>>,
    fetched_at: u64,
    /// Expired by a change made in this isolate: not fresh, but still a
    /// stale-if-error answer.
    expired: bool,
    /// No database retry before this time (after a failed refresh).
    retry_at: u64,
}

impl Entry {
    fn ttl(&self) -> u64 {
        if self.project.is_some() {
            TTL_MS
        } else {
            NEGATIVE_TTL_MS
        }
    }

    fn fresh(&self, now: u64) -> bool {
        !self.expired && now.saturating_sub(self.fetched_at) < self.ttl()
    }

    fn usable_if_error(&self, now: u64) -> bool {
        now.saturating_sub(self.fetched_at) < self.ttl() + STALE_IF_ERROR_MS
    }
}

thread_local! {
    static CACHE: RefCell<HashMap<String, Entry>> = RefCell::new(HashMap::new());
}

/// Drops a key's entry: the key was revoked (rotated, deleted, its secret
/// rotated), so it must never be served again, not even stale.
pub fn invalidate_key(project_key: &str) {
    CACHE.with(|c| c.borrow_mut().remove(project_key));
}

/// Expires a key's entry (its settings changed in this isolate): the next
/// request reloads it, and serves it stale only if the database fails.
pub fn expire_key(project_key: &str) {
    CACHE.with(|c| {
        if let Some(e) = c.borrow_mut().get_mut(project_key) {
            e.expired = true;
        }
    });
}

/// Expires every entry of a project (rules changed; the key is not at hand).
pub fn expire_project(project_id: &str) {
    CACHE.with(|c| {
        for e in c.borrow_mut().values_mut() {
            if e.project.as_ref().is_some_and(|p| p.id == project_id) {
                e.expired = true;
            }
        }
    });
}

fn lookup(key: &str) -> Option<Entry> {
    CACHE.with(|c| c.borrow().get(key).cloned())
}

fn put(key: &str, project: Option<Rc<ResolvedProject>>, now: u64) {
    CACHE.with(|c| {
        let mut cache = c.borrow_mut();
        if cache.len() >= MAX_ENTRIES {
            cache.retain(|_, e| e.fresh(now));
            if cache.len() >= MAX_ENTRIES {
                cache.clear();
            }
        }
        cache.insert(
            key.to_string(),
            Entry {
                project,
                fetched_at: now,
                expired: false,
                retry_at: 0,
            },
        );
    })
}

fn defer_retry(key: &str, until: u64) {
    CACHE.with(|c| {
        if let Some(e) = c.borrow_mut().get_mut(key) {
            e.retry_at = until;
        }
    });
}

/// The project of a publishable key, or `None` for an unknown or revoked key.
pub async fn resolve(
    env: &Env,
    cfg: &Config,
    project_key: &str,
) -> ApiResult<Option<Rc<ResolvedProject>>> {
    let now = Date::now().as_millis();
    let entry = lookup(project_key);
    if let Some(e) = &entry {
        if e.fresh(now) || (now < e.retry_at && e.usable_if_error(now)) {
            return Ok(e.project.clone());
        }
    }
    match load(env, cfg, project_key).await {
        Ok(project) => {
            put(project_key, project.clone(), now);
            Ok(project)
        }
        Err(Load::Store(e)) if e.is_unavailable() => match entry {
            Some(stale) if stale.usable_if_error(now) => {
                console_warn!(
                    "database unavailable, serving the project from memory ({} s old): {e:?}",
                    now.saturating_sub(stale.fetched_at) / 1000
                );
                defer_retry(project_key, now + RETRY_AFTER_FAILURE_MS);
                Ok(stale.project)
            }
            _ => Err(e.into_api("resolve project")),
        },
        Err(Load::Store(e)) => Err(e.into_api("resolve project")),
        Err(Load::Api(e)) => Err(e),
    }
}

enum Load {
    Store(StoreError),
    Api(ApiError),
}

impl From<StoreError> for Load {
    fn from(e: StoreError) -> Self {
        Load::Store(e)
    }
}

async fn load(
    env: &Env,
    cfg: &Config,
    project_key: &str,
) -> Result<Option<Rc<ResolvedProject>>, Load> {
    let client = store::connect(env).await?;
    let Some(stored) = store::projects::by_key(&client, project_key).await? else {
        return Ok(None);
    };
    let rules = store::rules::load(&client, &stored.id, true).await?;
    let budgets = store::budgets::load(&client, &stored.id).await?;
    if cfg.encryption_key.is_none() {
        return Err(Load::Api(crate::http::internal(
            "config",
            "ENCRYPTION_KEY is not set",
        )));
    }
    let keys = cfg.opening_keys();
    let provider_key = match &stored.provider_key_enc {
        Some(sealed) => Some(
            open(&keys, Purpose::ProviderKey, &stored.id, sealed)
                .or_internal("open provider key")
                .map_err(Load::Api)?,
        ),
        None => None,
    };
    let secret_key = open(
        &keys,
        Purpose::SecretKey,
        &stored.id,
        &stored.secret_key_enc,
    )
    .or_internal("open secret")
    .map_err(Load::Api)?;
    // Projects created before the secret-key API learn their secret's hash
    // on first use (the secret-key API finds projects by it).
    if stored.secret_key_hash_missing {
        store::projects::set_secret_hash(
            &client,
            &stored.id,
            &crate::crypto::sha256_hex(secret_key.as_bytes()),
        )
        .await?;
    }
    let base_url_refused = stored
        .settings
        .effective_base_url()
        .and_then(|url| shared::url_guard::check_base_url(url, cfg.production).err());
    Ok(Some(Rc::new(ResolvedProject {
        base_url_refused,
        id: stored.id,
        settings: stored.settings,
        provider_key,
        secret_key,
        rules,
        budgets,
    })))
}
