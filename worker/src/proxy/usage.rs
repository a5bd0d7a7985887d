//! `GET /api/v1/usage` (docs/API.md, "GET /api/v1/usage") and the live usage read the owner API shares:
//! one read call to the identity's object, carrying the identity's queued
//! settlements so the answer counts every request that ended.

use super::admit::{check_origin, header, identity_and_tier, project_key, resolve_project};
use super::answer::limit_entry;
use crate::config::Config;
use crate::http::{error_response, set_header, ApiResult};
use crate::limiter::Counter;
use serde_json::{json, Value};
use worker::{Env, Request, Response};

pub async fn usage(req: Request, env: &Env, cfg: &Config) -> worker::Result<Response> {
    // An allowed origin gets CORS on errors too (a browser app must be able
    // to read a 401 for its token), as on the chat routes.
    let mut cors = None;
    match serve_usage(req, env, cfg, &mut cors).await {
        Ok(r) => Ok(r),
        Err(e) => {
            let mut resp = error_response(&e, false)?;
            if let Some(origin) = cors {
                set_header(&mut resp, "access-control-allow-origin", &origin);
                set_header(&mut resp, "vary", "Origin");
            }
            Ok(resp)
        }
    }
}

async fn serve_usage(
    req: Request,
    env: &Env,
    cfg: &Config,
    cors_out: &mut Option<String>,
) -> ApiResult<Response> {
    project_key(&req)?;
    let project = resolve_project(&req, env, cfg).await?;
    let cors = check_origin(&req, &project)?;
    cors_out.clone_from(&cors);
    let token = header(&req, "x-identity-token");
    let subject = identity_and_tier(
        &project,
        token.as_deref(),
        crate::http::query_param(&req, "identity"),
        crate::http::query_param(&req, "tier"),
    )?;
    let mut resp = crate::http::json_response(
        200,
        &read_usage(
            env,
            &project.id,
            &project.settings,
            &subject.identity,
            &subject.tier,
            subject.tier_pinned,
        )
        .await?,
    )?;
    if let Some(origin) = cors {
        set_header(&mut resp, "access-control-allow-origin", &origin);
        set_header(&mut resp, "vary", "Origin");
    }
    Ok(resp)
}

/// Live usage of an identity under a tier: `{identity, tier, limits}`. The
/// identity's record may put its own tier (unless `tier_pinned`) or its own
/// limits in force; `tier` is then the tier in force.
pub async fn read_usage(
    env: &Env,
    project_id: &str,
    settings: &shared::project::ProjectSettings,
    identity: &str,
    tier_name: &str,
    tier_pinned: bool,
) -> ApiResult<Value> {
    let tier = settings.tiers.get(tier_name).cloned().unwrap_or_default();
    let answer = Counter::open(env, project_id, identity)?
        .read(tier_name, tier, settings.tiers.clone(), tier_pinned)
        .await?;
    Ok(json!({
        "identity": identity,
        "tier": answer.tier_name.as_deref().unwrap_or(tier_name),
        "limits": answer.windows.iter().map(limit_entry).collect::<Vec<_>>(),
    }))
}
