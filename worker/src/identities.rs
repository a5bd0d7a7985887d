//! Identity records (docs/API.md, "Identity records"): set, read, list and
//! delete what the owner decides about one identity — from the owner's
//! backend with the project's secret key (`Authorization: Bearer sk_…`),
//! and from the dashboard with the owner's session.
//!
//! The record lives in the identity's `IdentityLimiter`, where admission
//! reads it in the same synchronous step as the counters, so a change
//! applies to the very next request. The Worker validates a change
//! (`shared::identity::parse_patch`) before sending it, and after the object
//! accepted it writes a copy to `identity_records` (Postgres), the index the
//! list reads: listed credits are as of the last change, a single record
//! read is live. If that copy fails, the change still holds (the object is
//! the truth) and the answer is a 500, so the caller retries; the retry is
//! idempotent for everything but a gift.
//!
//! The secret-key API accepts only an `sk_` secret: a publishable key
//! (`pk_…`, public by design) or a session JWT is a 401, whatever it holds.

use crate::auth::Owner;
use crate::config::Config;
use crate::crypto::sha256_hex;
use crate::http::{
    empty_response, json_response, percent_decode, read_json_body, ApiResult, OrInternal,
};
use crate::limiter::Counter;
use crate::projects;
use crate::store::{self, OrStore};
use serde_json::json;
use shared::identity::{parse_gift, parse_patch, IdentityRecord};
use shared::limiter_api::RecordOp;
use shared::routes::{Params, RouteId};
use shared::tier::Tier;
use shared::values::Identity;
use shared::{ApiError, ErrorCode};
use std::collections::BTreeMap;
use worker::{Env, Request, Response};

const BODY_CAP: usize = 64 * 1024;
const LIST_MAX: i64 = 200;

/// The project a request acts on.
struct Target {
    project_id: String,
    tiers: BTreeMap<String, Tier>,
}

fn secret_key_refused(message: &str) -> ApiError {
    ApiError::new(ErrorCode::Unauthorized, message.to_string())
}

/// The project whose `sk_` secret the request carries.
async fn project_by_secret(req: &Request, client: &store::Client) -> ApiResult<Target> {
    let header = req
        .headers()
        .get("authorization")
        .ok()
        .flatten()
        .ok_or_else(|| {
            secret_key_refused("Send the project's secret key: Authorization: Bearer sk_…")
        })?;
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
        .unwrap_or_default();
    if !token.starts_with("sk_") || token.len() > 128 {
        return Err(secret_key_refused(
            "This API takes the project's secret key (sk_…); a project key or a session is not accepted",
        ));
    }
    let project = store::projects::by_secret_hash(client, &sha256_hex(token.as_bytes()))
        .await
        .or_store("project by secret")?
        .ok_or_else(|| secret_key_refused("The secret key is invalid or was rotated"))?;
    Ok(Target {
        project_id: project.id,
        tiers: project.settings.tiers,
    })
}

fn identity_param(raw: &str) -> ApiResult<String> {
    Ok(Identity::parse("identity", &percent_decode(raw)?)?.into_string())
}

fn not_found() -> ApiError {
    ApiError::not_found("Identity record")
}

/// Writes (or removes) the index row after the object accepted a change.
async fn index(
    client: &store::Client,
    project_id: &str,
    identity: &str,
    record: Option<&IdentityRecord>,
) -> ApiResult<()> {
    match record {
        Some(r) => {
            let data = serde_json::to_string(r).or_internal("record json")?;
            store::identities::upsert(client, project_id, identity, &data)
                .await
                .or_store("index identity record")?;
        }
        None => {
            store::identities::remove(client, project_id, identity)
                .await
                .or_store("unindex identity record")?;
        }
    }
    Ok(())
}

async fn list(req: &Request, client: &store::Client, t: &Target) -> ApiResult<Response> {
    let search = crate::http::query_param(req, "search").unwrap_or_default();
    if search.chars().count() > 256 {
        return Err(ApiError::invalid_field(
            "search",
            "search must be at most 256 characters",
        ));
    }
    let rows = store::identities::list(client, &t.project_id, &search, LIST_MAX)
        .await
        .or_store("list identity records")?;
    let mut items = Vec::with_capacity(rows.len());
    for (identity, data) in &rows {
        let record: IdentityRecord = serde_json::from_str(data).or_internal("stored record")?;
        items.push(record.to_wire(identity));
    }
    json_response(200, &json!({ "identities": items }))
}

async fn one(
    route: RouteId,
    mut req: Request,
    env: &Env,
    client: &store::Client,
    t: &Target,
    identity: &str,
) -> ApiResult<Response> {
    let counter = Counter::open(env, &t.project_id, identity)?;
    let record_answer = |answer: shared::limiter_api::RecordAnswer| -> ApiResult<IdentityRecord> {
        answer.record.ok_or_else(not_found)
    };
    match route {
        RouteId::ServerGetIdentity | RouteId::GetIdentityRecord => {
            let r = record_answer(counter.record(RecordOp::Get, BTreeMap::new()).await?)?;
            json_response(200, &r.to_wire(identity))
        }
        RouteId::ServerPatchIdentity | RouteId::PatchIdentityRecord => {
            let (_, body) = read_json_body(&mut req, BODY_CAP).await?;
            parse_patch(&body, &t.tiers)?;
            let r = record_answer(
                counter
                    .record(RecordOp::Patch { body }, t.tiers.clone())
                    .await?,
            )?;
            index(client, &t.project_id, identity, Some(&r)).await?;
            json_response(200, &r.to_wire(identity))
        }
        RouteId::ServerGiftIdentity | RouteId::GiftIdentityRecord => {
            let (_, body) = read_json_body(&mut req, BODY_CAP).await?;
            let c = parse_gift(&body)?;
            let op = RecordOp::Gift {
                requests: c.requests,
                tokens: c.tokens,
                cost: c.cost,
            };
            let r = record_answer(counter.record(op, BTreeMap::new()).await?)?;
            index(client, &t.project_id, identity, Some(&r)).await?;
            json_response(200, &r.to_wire(identity))
        }
        RouteId::ServerDeleteIdentity | RouteId::DeleteIdentityRecord => {
            let existed = counter
                .record(RecordOp::Get, BTreeMap::new())
                .await?
                .record
                .is_some();
            counter.record(RecordOp::Delete, BTreeMap::new()).await?;
            index(client, &t.project_id, identity, None).await?;
            if !existed {
                return Err(not_found());
            }
            empty_response(204)
        }
        _ => Err(ApiError::not_found("Route")),
    }
}

/// `/api/v1/identities…`: the owner's backend, with the secret key.
pub async fn server(
    req: Request,
    env: &Env,
    _cfg: &Config,
    route: RouteId,
    params: Params<'_>,
) -> ApiResult<Response> {
    let client = store::connect(env).await.or_store("connect")?;
    let target = project_by_secret(&req, &client).await?;
    if route == RouteId::ServerListIdentities {
        return list(&req, &client, &target).await;
    }
    let identity = identity_param(params.first())?;
    one(route, req, env, &client, &target, &identity).await
}

/// `/api/projects/{id}/identity-records…`: the dashboard, with the session.
pub async fn dashboard(
    req: Request,
    env: &Env,
    client: &store::Client,
    owner: &Owner,
    route: RouteId,
    params: Params<'_>,
) -> ApiResult<Response> {
    let project = projects::load_owned(client, owner, params.first()).await?;
    let target = Target {
        project_id: project.id,
        tiers: project.settings.tiers,
    };
    if route == RouteId::ListIdentityRecords {
        return list(&req, client, &target).await;
    }
    let identity = identity_param(params.second())?;
    one(route, req, env, client, &target, &identity).await
}
