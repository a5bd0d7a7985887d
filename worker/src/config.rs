//! Configuration read from the Worker's `Env` once per isolate.
//!
//! Vars and secrets do not change during an isolate's life, so the parsed
//! [`Config`] is cached in a thread-local (WASM isolates are single
//! threaded). Missing secrets do not fail the whole Worker: routes that need
//! them answer a 500 whose log line names the missing secret.

use base64::Engine;
use std::cell::RefCell;
use std::rc::Rc;
use worker::Env;

#[derive(Debug, Clone)]
pub struct Config {
    pub environment: String,
    pub production: bool,
    pub cors_origin: String,
    pub app_url: String,
    pub email_from: String,
    pub resend_api_key: Option<String>,
    pub jwt_secret: Option<String>,
    /// The 32-byte AES-256-GCM key from `ENCRYPTION_KEY` (base64 or hex).
    pub encryption_key: Option<[u8; 32]>,
    /// Keys that sealed secrets before a rotation (`ENCRYPTION_KEYS_OLD`,
    /// comma-separated): they only open, never seal.
    pub old_encryption_keys: Vec<[u8; 32]>,
    pub provider_timeout_ms: u64,
    /// How long past the provider deadline a reservation's lease lasts
    /// before the identity's object settles it at the reserved amount.
    pub lease_grace_ms: u64,
    pub max_body_bytes: usize,
    pub auth_rate_limit_per_ip: i64,
    /// Test stacks only: `FAULT_INJECTION=1` outside production lets a
    /// request ask for an injected fault (`x-fault-inject: limiter`), to
    /// prove the failure policy end to end. Always off in production.
    pub fault_injection: bool,
    /// Webhook retry back-off: the wait after the first failed attempt and
    /// its cap (`shared::webhooks::retry_delay_ms`). Test stacks only:
    /// `WEBHOOK_RETRY_BASE_MS` outside production shortens both (cap = 4 ×
    /// base) so retries and the dead letter are seen in seconds; production
    /// always uses 30 s doubling up to 2 h.
    pub webhook_retry_base_ms: i64,
    pub webhook_retry_max_ms: i64,
}

thread_local! {
    static CONFIG: RefCell<Option<Rc<Config>>> = const { RefCell::new(None) };
}

fn text(env: &Env, name: &str) -> Option<String> {
    env.secret(name)
        .map(|s| s.to_string())
        .or_else(|_| env.var(name).map(|v| v.to_string()))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn number<T: std::str::FromStr>(env: &Env, name: &str, default: T) -> T {
    text(env, name)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Decodes `ENCRYPTION_KEY`: 32 bytes as base64 (standard or URL-safe) or hex.
pub fn decode_key(raw: &str) -> Option<[u8; 32]> {
    let engines = [
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::URL_SAFE,
    ];
    let bytes = engines
        .iter()
        .find_map(|e| e.decode(raw).ok().filter(|b| b.len() == 32))
        .or_else(|| hex_decode(raw).filter(|b| b.len() == 32))?;
    bytes.try_into().ok()
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|p| u8::from_str_radix(p, 16).ok()))
        .collect()
}

impl Config {
    fn from_env(env: &Env) -> Config {
        let environment = text(env, "ENVIRONMENT").unwrap_or_else(|| "production".into());
        let production = shared::url_guard::is_production(&environment);
        let test_retry_base = (!production)
            .then(|| number::<i64>(env, "WEBHOOK_RETRY_BASE_MS", 0))
            .filter(|ms| *ms > 0);
        Config {
            production,
            environment,
            cors_origin: text(env, "CORS_ORIGIN").unwrap_or_default(),
            app_url: text(env, "APP_URL").unwrap_or_else(|| "http://localhost:3001".into()),
            email_from: text(env, "EMAIL_FROM")
                .unwrap_or_else(|| "AI Ratelimit <login@localhost>".into()),
            resend_api_key: text(env, "RESEND_API_KEY"),
            jwt_secret: text(env, "JWT_SECRET"),
            encryption_key: text(env, "ENCRYPTION_KEY").and_then(|k| decode_key(&k)),
            old_encryption_keys: text(env, "ENCRYPTION_KEYS_OLD")
                .map(|v| v.split(',').filter_map(|k| decode_key(k.trim())).collect())
                .unwrap_or_default(),
            provider_timeout_ms: number(env, "PROVIDER_TIMEOUT_MS", 60_000),
            lease_grace_ms: number(env, "LEASE_GRACE_MS", 15 * 60_000),
            max_body_bytes: number(env, "MAX_BODY_BYTES", 1_048_576),
            auth_rate_limit_per_ip: number(env, "AUTH_RATE_LIMIT_PER_IP", 30),
            fault_injection: !production && text(env, "FAULT_INJECTION").as_deref() == Some("1"),
            webhook_retry_base_ms: test_retry_base.unwrap_or(shared::webhooks::RETRY_BASE_MS),
            webhook_retry_max_ms: test_retry_base
                .map(|b| b.saturating_mul(4))
                .unwrap_or(shared::webhooks::RETRY_MAX_MS),
        }
    }

    /// The keys that may open a sealed secret: the current one first.
    pub fn opening_keys(&self) -> Vec<[u8; 32]> {
        self.encryption_key
            .iter()
            .chain(self.old_encryption_keys.iter())
            .copied()
            .collect()
    }

    /// The isolate's configuration, parsed on first use.
    pub fn get(env: &Env) -> Rc<Config> {
        CONFIG.with(|cell| {
            let mut slot = cell.borrow_mut();
            match slot.as_ref() {
                Some(c) => c.clone(),
                None => {
                    let c = Rc::new(Config::from_env(env));
                    *slot = Some(c.clone());
                    c
                }
            }
        })
    }
}
