//! Owner API for rules (docs/API.md, "Rules" and "Rule simulator"): CRUD,
//! templates and the simulator.
//!
//! Rules are validated by `shared::rule_input` (unknown fields rejected, at
//! most `MAX_RULES_PER_PROJECT`), stored as JSON, and the project's cache
//! entry is dropped on every change so the live path sees them at once here
//! and within 30 s elsewhere. The simulator calls the same `decide` as the
//! identity's Durable Object.

use crate::auth::Owner;
use crate::crypto::random_id;
use crate::http::{empty_response, json_response, read_json_body, ApiResult, OrInternal};
use crate::project_cache::expire_project;
use crate::projects::load_owned;
use crate::store;
use crate::store::Client;
use crate::store::OrStore;
use serde_json::{json, Value};
use shared::decision::Size;
use shared::ledger::Amount;
use shared::rule_input::{
    parse_rule_create, parse_rule_patch, parse_rules_array, RuleDraft, MAX_RULES_PER_PROJECT,
};
use shared::rules::Rule;
use shared::simulate::simulate as run_simulation;
use shared::values::{ModelId, TierName, MAX_SAFE_INTEGER};
use shared::ApiError;
use worker::{Date, Request, Response};

const RULE_BODY_MAX: usize = 64 * 1024;

pub fn templates() -> ApiResult<Response> {
    json_response(200, &Value::Array(shared::templates::templates()))
}

fn rule_json(rule: &Rule) -> Value {
    serde_json::to_value(rule).unwrap_or(Value::Null)
}

pub async fn list(client: &Client, owner: &Owner, project_id: &str) -> ApiResult<Response> {
    load_owned(client, owner, project_id).await?;
    let rules = store::rules::load(client, project_id, false)
        .await
        .or_store("load rules")?;
    json_response(200, &Value::Array(rules.iter().map(rule_json).collect()))
}

async fn store(
    client: &Client,
    project_id: &str,
    id: &str,
    draft: &RuleDraft,
    insert: bool,
) -> ApiResult<()> {
    let condition = serde_json::to_string(&draft.condition).or_internal("encode condition")?;
    let action = serde_json::to_string(&draft.action).or_internal("encode action")?;
    let row = store::rules::RuleWrite {
        id,
        project_id,
        name: &draft.name,
        enabled: draft.enabled,
        priority: draft.priority,
        condition: &condition,
        action: &action,
    };
    let n = if insert {
        store::rules::insert_bounded(client, &row, MAX_RULES_PER_PROJECT as i64).await
    } else {
        store::rules::update(client, &row).await
    }
    .or_store("store rule")?;
    if n == 0 {
        return Err(if insert {
            ApiError::invalid_field(
                "rules",
                format!("A project has at most {MAX_RULES_PER_PROJECT} rules"),
            )
        } else {
            ApiError::not_found("Rule")
        });
    }
    expire_project(project_id);
    Ok(())
}

pub async fn create(
    mut req: Request,
    client: &Client,
    owner: &Owner,
    project_id: &str,
) -> ApiResult<Response> {
    load_owned(client, owner, project_id).await?;
    let (_, body) = read_json_body(&mut req, RULE_BODY_MAX).await?;
    let draft = parse_rule_create(&body)?;
    let id = random_id("rule_").or_internal("rule id")?;
    store(client, project_id, &id, &draft, true).await?;
    json_response(201, &rule_json(&draft.into_rule(id)))
}

async fn load_rule(client: &Client, project_id: &str, rule_id: &str) -> ApiResult<Rule> {
    store::rules::load(client, project_id, false)
        .await
        .or_store("load rules")?
        .into_iter()
        .find(|r| r.id == rule_id)
        .ok_or_else(|| ApiError::not_found("Rule"))
}

pub async fn patch(
    mut req: Request,
    client: &Client,
    owner: &Owner,
    project_id: &str,
    rule_id: &str,
) -> ApiResult<Response> {
    load_owned(client, owner, project_id).await?;
    let (_, body) = read_json_body(&mut req, RULE_BODY_MAX).await?;
    let existing = load_rule(client, project_id, rule_id).await?;
    let draft = parse_rule_patch(&RuleDraft::from_rule(&existing), &body)?;
    store(client, project_id, rule_id, &draft, false).await?;
    json_response(200, &rule_json(&draft.into_rule(rule_id.to_string())))
}

pub async fn delete(
    client: &Client,
    owner: &Owner,
    project_id: &str,
    rule_id: &str,
) -> ApiResult<Response> {
    load_owned(client, owner, project_id).await?;
    let n = store::rules::delete(client, project_id, rule_id)
        .await
        .or_store("delete rule")?;
    if n == 0 {
        return Err(ApiError::not_found("Rule"));
    }
    expire_project(project_id);
    empty_response(204)
}

fn count(v: &Value, field: &str) -> ApiResult<u64> {
    match v.get(field) {
        None | Some(Value::Null) => Ok(0),
        Some(n) => n
            .as_u64()
            .filter(|n| *n <= MAX_SAFE_INTEGER)
            .ok_or_else(|| {
                ApiError::invalid_field(field, format!("{field} must be a non-negative integer"))
            }),
    }
}

/// `POST …/rules/simulate`: the live decision for typed-in usage.
pub async fn simulate(
    mut req: Request,
    client: &Client,
    owner: &Owner,
    project_id: &str,
) -> ApiResult<Response> {
    let project = load_owned(client, owner, project_id).await?;
    let (_, body) = read_json_body(&mut req, RULE_BODY_MAX).await?;
    let obj = body
        .as_object()
        .ok_or_else(|| ApiError::invalid_body("The body must be a JSON object"))?;
    if let Some(k) = obj.keys().find(|k| {
        ![
            "tier",
            "model",
            "usage",
            "requestTokens",
            "requestCost",
            "rules",
        ]
        .contains(&k.as_str())
    }) {
        return Err(ApiError::invalid_field(k, format!("unknown field '{k}'")));
    }
    let tier_name = match obj.get("tier") {
        None | Some(Value::Null) => project.settings.default_tier.clone(),
        Some(Value::String(t)) => TierName::parse("tier", t)?.into_string(),
        Some(_) => return Err(ApiError::invalid_field("tier", "tier must be a string")),
    };
    let tier =
        project.settings.tiers.get(&tier_name).ok_or_else(|| {
            ApiError::invalid_field("tier", format!("Unknown tier '{tier_name}'"))
        })?;
    let model = match obj.get("model") {
        None | Some(Value::Null) => None,
        Some(Value::String(m)) => Some(ModelId::parse("model", m)?),
        Some(_) => return Err(ApiError::invalid_field("model", "model must be a string")),
    };
    let usage = obj.get("usage").cloned().unwrap_or_else(|| json!({}));
    if !usage.is_object() {
        return Err(ApiError::invalid_field(
            "usage",
            "usage must be {requests, tokens, cost}",
        ));
    }
    let requests = count(&usage, "requests").map_err(|e| e.in_field("usage.requests"))?;
    let tokens = count(&usage, "tokens").map_err(|e| e.in_field("usage.tokens"))?;
    let cost = count(&usage, "cost").map_err(|e| e.in_field("usage.cost"))?;
    let size = Size {
        tokens: count(&body, "requestTokens")?,
        cost: count(&body, "requestCost")?,
    };
    let rules = match obj.get("rules") {
        None | Some(Value::Null) => store::rules::load(client, project_id, false)
            .await
            .or_store("load rules")?,
        Some(v) => parse_rules_array(v)?,
    };
    let now = Date::now().as_millis() as i64;
    let answer = run_simulation(
        &tier_name,
        tier,
        &rules,
        model.as_ref().map(ModelId::as_str),
        Amount {
            requests,
            tokens,
            cost,
        },
        size,
        now,
    );
    json_response(200, &answer)
}
