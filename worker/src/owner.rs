//! The owner API router (docs/API.md, "Owner API"): auth, projects, rules,
//! analytics.
//! Every `/api/projects/:id/*` route loads the project through
//! [`projects::load_owned`], which filters by the authenticated owner.

use crate::auth::{self, require_owner};
use crate::config::Config;
use crate::http::percent_decode;
use crate::http::ApiResult;
use crate::{analytics_api, projects, rules_api};
use shared::ApiError;
use worker::{Env, Method, Request, Response};

pub async fn route(
    req: Request,
    env: &Env,
    cfg: &Config,
    path: &str,
    method: Method,
) -> ApiResult<Response> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method.clone(), segments.as_slice()) {
        (Method::Post, ["api", "auth", "magic-link"]) => {
            return auth::magic_link(req, env, cfg).await
        }
        (Method::Post, ["api", "auth", "verify"]) => return auth::verify(req, env, cfg).await,
        (Method::Get, ["api", "auth", "me"]) => return auth::me(req, env, cfg).await,
        _ => {}
    }
    let known = matches!(
        segments.as_slice(),
        ["api", "projects", ..] | ["api", "rule-templates"]
    );
    if !known {
        return Err(ApiError::not_found("Route"));
    }
    let (owner, client) = require_owner(&req, env, cfg).await?;
    match (method, segments.as_slice()) {
        (Method::Get, ["api", "projects"]) => projects::list(&client, &owner).await,
        (Method::Post, ["api", "projects"]) => projects::create(req, &client, &owner, cfg).await,
        (Method::Get, ["api", "projects", id]) => projects::get(&client, &owner, id).await,
        (Method::Patch, ["api", "projects", id]) => {
            projects::patch(req, &client, &owner, id, cfg).await
        }
        (Method::Delete, ["api", "projects", id]) => projects::delete(&client, &owner, id).await,
        (Method::Post, ["api", "projects", id, "keys", "rotate"]) => {
            projects::rotate_key(&client, &owner, id).await
        }
        (Method::Post, ["api", "projects", id, "secret", "rotate"]) => {
            projects::rotate_secret(&client, &owner, id, cfg).await
        }
        (Method::Get, ["api", "rule-templates"]) => rules_api::templates(),
        (Method::Get, ["api", "projects", id, "rules"]) => {
            rules_api::list(&client, &owner, id).await
        }
        (Method::Post, ["api", "projects", id, "rules"]) => {
            rules_api::create(req, &client, &owner, id).await
        }
        (Method::Post, ["api", "projects", id, "rules", "simulate"]) => {
            rules_api::simulate(req, &client, &owner, id).await
        }
        (Method::Patch, ["api", "projects", id, "rules", rule]) => {
            rules_api::patch(req, &client, &owner, id, rule).await
        }
        (Method::Delete, ["api", "projects", id, "rules", rule]) => {
            rules_api::delete(&client, &owner, id, rule).await
        }
        (Method::Get, ["api", "projects", id, "usage", "summary"]) => {
            analytics_api::summary(&req, &client, &owner, id).await
        }
        (Method::Get, ["api", "projects", id, "usage", "by-identity"]) => {
            analytics_api::by_identity(&req, &client, &owner, id).await
        }
        (Method::Get, ["api", "projects", id, "usage", "timeseries"]) => {
            analytics_api::timeseries(&req, &client, &owner, id).await
        }
        (Method::Get, ["api", "projects", id, "analytics", "rule-triggers"]) => {
            analytics_api::rule_triggers(&req, &client, &owner, id).await
        }
        (Method::Get, ["api", "projects", id, "analytics", "recent-triggers"]) => {
            analytics_api::recent_triggers(&req, &client, &owner, id).await
        }
        (Method::Get, ["api", "projects", id, "identities", identity]) => {
            let identity = percent_decode(identity)?;
            analytics_api::identity(&req, env, &client, &owner, id, &identity).await
        }
        (Method::Post, ["api", "projects", id, "identities", identity, "reset"]) => {
            let identity = percent_decode(identity)?;
            analytics_api::reset_identity(&req, env, &client, &owner, id, &identity).await
        }
        _ => Err(ApiError::not_found("Route")),
    }
}
