//! Admission: everything before the provider is called, and the one
//! limiter call.
//!
//! Order: key present → body parsed and validated (no I/O) → project from
//! the isolate cache (no I/O on a hit) → origin → identity and tier → the
//! provider request built, which canonicalises the model and computes the
//! output budget once (a translation error is a 400 before anything is
//! reserved) → one reserve call carrying the identity's queued settlements.
//! The reservation is sized from that same budget, and the same model is
//! counted, matched by caps and rules, reported to analytics and put in
//! the URL. A block answers 429 and holds no reservation.

use super::answer::{limit_exceeded, AnswerMeta};
use super::Route;
use crate::config::Config;
use crate::http::{read_json_body, ApiResult};
use crate::limiter::{Counter, Reservation};
use crate::project_cache::{self, ResolvedProject};
use crate::tokens;
use serde_json::{Map, Value};
use shared::chat::ChatRequest;
use shared::decision::{limit_headers, Decision, Policy, Verdict};
use shared::funnel::{message_source, FunnelKey, FunnelPolicy, LinkClaims, LINK_TTL_SECS};
use shared::ledger::ReserveRequest;
use shared::limiter_api::ANONYMOUS_IP_SCOPE;
use shared::pricing;
use shared::project::TierSource;
use shared::providers::dialect::{build_native_request, Dialect};
use shared::providers::{
    build_request, embeddings, messages, responses, ProviderKind, UpstreamRequest,
};
use shared::proxy_request::{parse, prompt_estimate, ProxyRequest, PROXY_ONLY_FIELDS};
use shared::simulate::{decision_message, DEFAULT_LIMIT_MESSAGE, DEFAULT_WARNING_MESSAGE};
use shared::tier::Tier;
use shared::values::{Identity, TierName};
use shared::{ApiError, ErrorCode};
use std::collections::BTreeMap;
use std::rc::Rc;
use worker::{console_error, Context, Env, Request};

/// The tier name the per-IP caps of unsigned traffic report.
pub const ANONYMOUS_TIER: &str = "anonymous";

/// An admitted request, ready to forward.
pub struct Admitted {
    pub upstream: UpstreamRequest,
    pub provider: ProviderKind,
    pub stream: bool,
    pub dialect: Dialect,
    /// Embeddings asked as base64 (`encoding_format`), for a translated answer.
    pub base64_embeddings: bool,
    pub tier_name: String,
    pub decision: Decision,
    pub reservation: Reservation,
    /// Prompt estimate and whole reservation (the usage chunk of a stream
    /// whose provider reported none).
    pub prompt_tokens: u64,
    pub estimate: u64,
}

pub(super) fn header(req: &Request, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .ok()
        .flatten()
        .filter(|v| !v.is_empty())
}

/// The publishable key from `x-project-key` (or `Authorization: Bearer pk_…`,
/// or Anthropic's `x-api-key: pk_…`).
pub(super) fn project_key(req: &Request) -> ApiResult<String> {
    if let Some(k) = header(req, "x-project-key") {
        return Ok(k);
    }
    if let Some(k) = header(req, "x-api-key").filter(|k| k.starts_with("pk_")) {
        return Ok(k);
    }
    if let Some(auth) = header(req, "authorization") {
        if let Some(k) = auth
            .strip_prefix("Bearer ")
            .or_else(|| auth.strip_prefix("bearer "))
        {
            return Ok(k.trim().to_string());
        }
    }
    Err(ApiError::new(
        ErrorCode::MissingProjectKey,
        "Send your project key in the x-project-key header",
    ))
}

fn invalid_key() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidProjectKey,
        "The project key is invalid or revoked",
    )
}

pub(super) async fn resolve_project(
    req: &Request,
    env: &Env,
    cfg: &Config,
) -> ApiResult<Rc<ResolvedProject>> {
    let key = project_key(req)?;
    if !key.starts_with("pk_") || key.len() > 128 {
        return Err(invalid_key());
    }
    let project = project_cache::resolve(env, cfg, &key)
        .await?
        .ok_or_else(invalid_key)?;
    if let Some(why) = &project.base_url_refused {
        console_error!(
            "project {}: provider URL refused at load: {why}",
            project.id
        );
        return Err(ApiError::provider_error(
            project.settings.provider.as_str(),
            502,
            "The project's provider URL is not allowed; its owner must change it",
        ));
    }
    Ok(project)
}

/// CORS for browser apps: with `allowedOrigins`, other origins get 403.
pub(super) fn check_origin(req: &Request, project: &ResolvedProject) -> ApiResult<Option<String>> {
    let Some(origin) = header(req, "origin") else {
        return Ok(None);
    };
    let allowed = &project.settings.allowed_origins;
    if allowed.is_empty() || allowed.iter().any(|o| o == origin.trim_end_matches('/')) {
        return Ok(Some(origin));
    }
    Err(ApiError::new(
        ErrorCode::OriginNotAllowed,
        "This origin is not allowed to use the project",
    ))
}

/// Who a request is for and the tier it asks for.
pub(super) struct Subject {
    pub identity: String,
    pub tier: String,
    /// The tier is authoritative (a signed claim, or the request's own tier
    /// when the project trusts requests): an identity record's tier does not
    /// replace it.
    pub tier_pinned: bool,
    /// The identity came from a signed token.
    pub signed: bool,
}

/// The identity and tier in force: from a signed token when one is sent,
/// else from the request (only where signing is not required). With
/// `tierSource: "server"`, a plain request's tier is ignored.
pub(super) fn identity_and_tier(
    project: &ResolvedProject,
    token: Option<&str>,
    identity: Option<String>,
    tier: Option<String>,
) -> ApiResult<Subject> {
    let settings = &project.settings;
    let signed = token.is_some();
    let (identity, tier) = match token {
        Some(token) => {
            let claims = tokens::verify_identity(&project.secret_key, token).ok_or_else(|| {
                ApiError::new(
                    ErrorCode::InvalidIdentityToken,
                    "The identity token is missing, expired or forged",
                )
            })?;
            (claims.sub, claims.tier)
        }
        None if settings.require_signed_identity => {
            return Err(ApiError::new(
                ErrorCode::InvalidIdentityToken,
                "This project requires a signed identity token",
            ))
        }
        None => (
            identity.ok_or_else(|| ApiError::invalid_field("identity", "identity is required"))?,
            match settings.identity_policy.tier_source {
                TierSource::Request => tier,
                TierSource::Server => None,
            },
        ),
    };
    let identity = Identity::parse("identity", &identity)?.into_string();
    let tier_pinned = tier.is_some();
    let tier = match tier {
        Some(t) => TierName::parse("tier", &t)?.into_string(),
        None => settings.default_tier.clone(),
    };
    if !settings.tiers.contains_key(&tier) {
        return Err(ApiError::invalid_field(
            "tier",
            format!("Unknown tier '{tier}'"),
        ));
    }
    Ok(Subject {
        identity,
        tier,
        tier_pinned,
        signed,
    })
}

/// A Responses or Messages body as the app sent it, kept for native
/// forwarding, with what its chat form could not carry.
struct Inbound {
    body: Map<String, Value>,
    unsupported: Option<String>,
    stateful: bool,
}

/// The body in chat form (Responses and Messages bodies mapped), and the
/// original body of those two.
fn chat_form(body: Value, dialect: Dialect) -> ApiResult<(Value, Option<Inbound>)> {
    if dialect == Dialect::Chat {
        return Ok((body, None));
    }
    let Value::Object(mut obj) = body else {
        return Err(ApiError::invalid_body("The body must be a JSON object"));
    };
    let (chat, unsupported, stateful) = if dialect == Dialect::Messages {
        messages::validate(&obj)?;
        let f = messages::to_chat(&obj);
        (f.body, f.unsupported, false)
    } else {
        match obj.get("input") {
            Some(Value::String(_)) | Some(Value::Array(_)) => {}
            _ => {
                return Err(ApiError::invalid_field(
                    "input",
                    "input must be a string or an array of input items",
                ))
            }
        }
        let f = responses::to_chat(&obj);
        (f.body, f.unsupported, f.stateful)
    };
    for f in PROXY_ONLY_FIELDS {
        obj.remove(f);
    }
    Ok((
        Value::Object(chat),
        Some(Inbound {
            body: obj,
            unsupported,
            stateful,
        }),
    ))
}

/// The body to forward, parsed once: a typed chat request, or an
/// embeddings body.
enum Forward {
    Chat(ChatRequest),
    Embeddings(Map<String, Value>),
}

/// Parses the body (the drop-in routes take identity and tier from headers).
async fn read_request(
    mut req: Request,
    cfg: &Config,
    route: Route,
) -> ApiResult<(Request, ProxyRequest<Forward>, Option<Inbound>)> {
    project_key(&req)?;
    let (_, body) = read_json_body(&mut req, cfg.max_body_bytes).await?;
    let (mut parsed, inbound) = if route.dialect() == Dialect::Embeddings {
        (
            embeddings::parse(body)?.map_forward(Forward::Embeddings),
            None,
        )
    } else {
        let (body, inbound) = chat_form(body, route.dialect())?;
        let parsed = parse(body, route == Route::ChatStream)?;
        (parsed.map_forward(Forward::Chat), inbound)
    };
    if route.drop_in() {
        if let Some(i) = header(&req, "x-identity") {
            parsed.identity = Some(Identity::parse("identity", &i)?);
        }
        if let Some(t) = header(&req, "x-tier") {
            parsed.tier = Some(TierName::parse("tier", &t)?);
        }
        parsed.identity_token = header(&req, "x-identity-token").or(parsed.identity_token);
    }
    Ok((req, parsed, inbound))
}

/// A message shown to an identity, for its tracked link.
struct Shown<'a> {
    project: &'a ResolvedProject,
    decision: &'a Decision,
    tier_name: &'a str,
    tier: &'a Tier,
    identity: &'a str,
    request_id: &'a str,
}

/// The deep link as the client sees it: with tracked redirects on, a link
/// to `GET /r/{token}` on this Worker whose signed token names the message
/// and the rendered target; else (or when no link can be signed) the
/// owner's link itself.
fn tracked_link(req: &Request, cfg: &Config, shown: &Shown<'_>, link: String) -> String {
    if !shown.project.settings.upgrade_funnel.tracked_redirect {
        return link;
    }
    let signed = (|| {
        let secret = cfg.jwt_secret.as_deref()?;
        let source = message_source(
            shown.decision,
            shown.tier,
            DEFAULT_LIMIT_MESSAGE,
            DEFAULT_WARNING_MESSAGE,
        )?;
        let claims = LinkClaims {
            p: shown.project.id.clone(),
            key: FunnelKey::of(shown.tier_name, &source),
            q: shown.request_id.to_string(),
            i: tokens::identity_ref(secret, &shown.project.id, shown.identity)?,
            u: link.clone(),
            exp: tokens::now_secs().saturating_add(LINK_TTL_SECS),
        };
        let token = tokens::issue_link(secret, &claims)?;
        let origin = req.url().ok()?.origin().ascii_serialization();
        Some(format!("{origin}/r/{token}"))
    })();
    signed.unwrap_or_else(|| {
        console_error!("tracked link not signed (JWT_SECRET missing?): the raw deep link is sent");
        link
    })
}

pub async fn admit(
    req: Request,
    env: &Env,
    ctx: &Context,
    cfg: &Config,
    route: Route,
    meta: &mut AnswerMeta,
) -> ApiResult<Admitted> {
    let (req, mut parsed, inbound) = read_request(req, cfg, route).await?;
    let project = resolve_project(&req, env, cfg).await?;
    meta.cors_origin = check_origin(&req, &project)?;
    let Subject {
        identity,
        tier: tier_name,
        tier_pinned,
        signed,
    } = identity_and_tier(
        &project,
        parsed.identity_token.as_deref(),
        parsed.identity.take().map(String::from),
        parsed.tier.take().map(String::from),
    )?;
    let tier = project
        .settings
        .tiers
        .get(&tier_name)
        .cloned()
        .unwrap_or_default();
    let provider = project.settings.provider;
    let base_url = project
        .settings
        .effective_base_url()
        .ok_or_else(|| ApiError::invalid_body("The project has no provider URL"))?;
    let dialect = route.dialect();
    let ProxyRequest {
        stream,
        prompt_chars,
        forward,
        ..
    } = parsed;
    let base64_embeddings = matches!(&forward, Forward::Embeddings(body)
        if body.get("encoding_format") == Some(&Value::from("base64")));
    let api_key = project.provider_key.as_deref().unwrap_or_default();
    let upstream = match (inbound, forward) {
        (Some(inbound), Forward::Chat(chat)) if dialect.native_for(provider) => {
            build_native_request(provider, dialect, base_url, api_key, inbound.body, &chat)?
        }
        (Some(Inbound { stateful: true, .. }), _) => {
            return Err(ApiError::invalid_field(
                "previous_response_id",
                "Conversation state (previous_response_id, store: true) needs content kept on a server; this proxy never keeps prompts or answers, and only OpenAI projects have a provider that stores them. Send the whole conversation in input, with store false or absent.",
            ))
        }
        (
            Some(Inbound {
                unsupported: Some(what),
                ..
            }),
            _,
        ) => {
            return Err(ApiError::invalid_body(format!(
                "{what} cannot be translated for this project's provider ({})",
                provider.as_str()
            )))
        }
        (_, Forward::Embeddings(body)) => {
            embeddings::build_request(provider, base_url, api_key, body)?
        }
        (_, Forward::Chat(chat)) => build_request(provider, base_url, api_key, chat, stream)?,
    };
    // The project's budgets (all identities together), from this isolate's
    // cache of their state: a closed budget refuses before anything is
    // reserved or forwarded.
    if let Err(e) =
        crate::budget_gate::check(env, ctx, &project.id, &project.budgets, super::now_ms()).await
    {
        if let shared::error::ErrorDetail::ProjectBudgetExceeded(b) = e.detail() {
            meta.limit_headers
                .push(("retry-after", b.retry_after.to_string()));
        }
        return Err(e);
    }
    let prompt_tokens = prompt_estimate(prompt_chars);
    let estimate = prompt_tokens.saturating_add(
        upstream
            .budget
            .reserved_output(tier.max_tokens_or_default(None)),
    );
    let count_model = project
        .settings
        .tiers
        .values()
        .any(|t| t.models.contains_key(&upstream.model));
    // The cost reservation: the token reservation at the model's dearest
    // token price (0 for a model with no price).
    let price =
        pricing::resolve(&upstream.model, &project.settings.pricing.model_prices).map(|r| r.price);
    let request = ReserveRequest {
        request_id: meta.request_id.clone(),
        model: upstream.model.clone(),
        estimate_tokens: estimate,
        estimate_cost: price.map_or(0, |p| p.reservation(estimate)),
        lease_ms: i64::try_from(cfg.provider_timeout_ms.saturating_add(cfg.lease_grace_ms)).ok(),
        policy: Policy {
            tier_name: tier_name.clone(),
            tier: tier.clone(),
            rules: project.rules.clone(),
        },
        count_model,
    };
    // Per-IP caps for unsigned traffic, across every identity the address
    // names: checked first, so rotating `identity` from one address stops
    // paying off; released again when the identity's own caps refuse.
    let ip_reservation = match (&project.settings.identity_policy.anonymous_limits, signed) {
        (Some(caps), false) => {
            let ip = header(&req, "cf-connecting-ip").unwrap_or_else(|| "unknown".into());
            let ip_key = crate::crypto::sha256_hex(ip.as_bytes());
            let ip_counter = Counter::open(
                env,
                &format!("{}{ANONYMOUS_IP_SCOPE}", project.id),
                ip_key.get(..32).unwrap_or(&ip_key),
            )?;
            let ip_request = ReserveRequest {
                request_id: format!("{}:ip", meta.request_id),
                model: upstream.model.clone(),
                estimate_tokens: estimate,
                estimate_cost: 0,
                lease_ms: i64::try_from(cfg.provider_timeout_ms.saturating_add(cfg.lease_grace_ms))
                    .ok(),
                policy: Policy {
                    tier_name: ANONYMOUS_TIER.into(),
                    tier: caps.clone(),
                    rules: Vec::new(),
                },
                count_model: false,
            };
            let (ip_answer, held) = ip_counter
                .reserve(ip_request, prompt_tokens, None, BTreeMap::new(), true, None)
                .await?;
            let Some(held) = held else {
                let d = &ip_answer.decision;
                let (message, deep_link) =
                    decision_message(d, ANONYMOUS_TIER, caps, &identity, ip_answer.now_ms);
                if let Some(w) = d.header_window() {
                    meta.limit_headers = limit_headers(w, ip_answer.now_ms);
                }
                return Err(limit_exceeded(
                    d,
                    ANONYMOUS_TIER,
                    message,
                    deep_link,
                    ip_answer.now_ms,
                    meta,
                ));
            };
            Some(held)
        }
        _ => None,
    };
    let mut counter =
        Counter::open(env, &project.id, &identity)?.budgeted(!project.budgets.is_empty());
    if cfg.fault_injection && header(&req, "x-fault-inject").as_deref() == Some("limiter") {
        counter = counter.broken();
    }
    let (answer, reservation) = counter
        .reserve(
            request,
            prompt_tokens,
            price,
            project.settings.tiers.clone(),
            tier_pinned,
            Some(FunnelPolicy {
                tracked: project.settings.upgrade_funnel.tracked_redirect,
                ranks: project
                    .settings
                    .upgrade_funnel
                    .ranks(&project.settings.default_tier, &project.settings.tiers),
            }),
        )
        .await?;
    if !answer.alerts.is_empty() {
        meta.alerts = Some((project.id.clone(), identity.clone(), answer.alerts));
    }
    let decision = answer.decision;
    // The identity's record may have put another tier in force.
    let (tier_name, tier) = match answer.tier_name {
        Some(name) => {
            let tier = project
                .settings
                .tiers
                .get(&name)
                .cloned()
                .unwrap_or_default();
            (name, tier)
        }
        None => (tier_name, tier),
    };
    let (message, deep_link) =
        decision_message(&decision, &tier_name, &tier, &identity, answer.now_ms);
    let deep_link = deep_link.map(|link| {
        let shown = Shown {
            project: &project,
            decision: &decision,
            tier_name: &tier_name,
            tier: &tier,
            identity: &identity,
            request_id: &meta.request_id,
        };
        tracked_link(&req, cfg, &shown, link)
    });
    if let Some(w) = decision.header_window() {
        meta.limit_headers = limit_headers(w, answer.now_ms);
    }
    let Some(reservation) = reservation else {
        if let Some(held) = ip_reservation {
            held.release().await;
        }
        return Err(limit_exceeded(
            &decision,
            &tier_name,
            message,
            deep_link,
            answer.now_ms,
            meta,
        ));
    };
    if let Some(held) = ip_reservation {
        held.settle_at_estimate();
    }
    if decision.verdict == Verdict::Warn {
        if let Some(m) = message {
            meta.warning = Some((m, deep_link));
        }
    }
    Ok(Admitted {
        upstream,
        provider,
        stream,
        dialect,
        base64_embeddings,
        tier_name,
        decision,
        reservation,
        prompt_tokens,
        estimate,
    })
}
