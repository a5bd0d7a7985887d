//! Owner API for webhooks (docs/API.md, "Webhooks"): endpoints (create,
//! list, update, delete, rotate the signing secret, test-send) and the
//! delivery log (list, redeliver).
//!
//! Every handler loads the project through `load_owned` first, and every
//! query filters by that project: another owner's endpoint or delivery is a
//! 404. The `whsec_` secret is sealed before it reaches Postgres and is
//! answered only by create and rotate. URLs pass the provider URL guard.

use super::{enqueue, outbox};
use crate::auth::Owner;
use crate::config::Config;
use crate::crypto::{random_bytes, random_id, seal, Purpose};
use crate::http::{
    empty_response, json_response, query_param, read_json_body, ApiResult, OrInternal,
};
use crate::projects::load_owned;
use crate::store::webhooks::{self as stored, DeliveryRow, EndpointRow, EndpointWrite};
use crate::store::{Client, OrStore};
use serde_json::{json, Map, Value};
use shared::webhooks::{
    check_endpoint_url, new_secret, parse_event_types, sample_event, DeliveryStatus, EventType,
    MAX_ATTEMPTS, MAX_DESCRIPTION,
};
use shared::ApiError;
use worker::{Date, Env, Request, Response};

/// Endpoints per project.
pub const MAX_ENDPOINTS: usize = 10;
const BODY_MAX: usize = 16 * 1024;

fn endpoint_json(e: &EndpointRow) -> Value {
    json!({
        "id": e.id,
        "url": e.url,
        "description": e.description,
        "events": e.events,
        "enabled": e.enabled,
        "createdAt": e.created_at,
        "updatedAt": e.updated_at,
    })
}

fn delivery_json(d: &DeliveryRow) -> Value {
    json!({
        "id": d.id,
        "endpointId": d.endpoint_id,
        "url": d.url,
        "eventId": d.event_id,
        "type": d.event_type,
        "status": d.status,
        "attempts": d.attempts,
        "maxAttempts": MAX_ATTEMPTS,
        "nextAttemptAt": d.next_attempt_at,
        "lastAttemptAt": d.last_attempt_at,
        "lastStatusCode": d.last_status_code,
        "lastError": d.last_error,
        "createdAt": d.created_at,
        "deliveredAt": d.delivered_at,
        "payload": serde_json::from_str::<Value>(&d.payload).unwrap_or(Value::Null),
    })
}

fn unknown_fields(obj: &Map<String, Value>, known: &[&str]) -> ApiResult<()> {
    match obj.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(ApiError::invalid_field(k, format!("Unknown field '{k}'"))),
        None => Ok(()),
    }
}

/// The fields of a create or update body, over `current` (update).
fn endpoint_fields(
    body: &Value,
    current: Option<&EndpointRow>,
    cfg: &Config,
) -> ApiResult<(String, String, Vec<String>, bool)> {
    let obj = body
        .as_object()
        .ok_or_else(|| ApiError::invalid_body("The body must be a JSON object"))?;
    unknown_fields(obj, &["url", "events", "description", "enabled"])?;
    let url = match (obj.get("url"), current) {
        (Some(v), _) => {
            let url = v
                .as_str()
                .ok_or_else(|| ApiError::invalid_field("url", "url must be a string"))?
                .trim()
                .to_string();
            check_endpoint_url(&url, cfg.production)?;
            url
        }
        (None, Some(c)) => c.url.clone(),
        (None, None) => return Err(ApiError::invalid_field("url", "url is required")),
    };
    let events = match (obj.get("events"), current) {
        (Some(v), _) => parse_event_types(v)?
            .into_iter()
            .map(|t| t.as_str().to_string())
            .collect(),
        (None, Some(c)) => c.events.clone(),
        (None, None) => parse_event_types(&Value::Null)?
            .into_iter()
            .map(|t| t.as_str().to_string())
            .collect(),
    };
    let description = match obj.get("description") {
        Some(Value::String(s))
            if s.chars().count() <= MAX_DESCRIPTION && !s.chars().any(char::is_control) =>
        {
            s.trim().to_string()
        }
        Some(Value::Null) => String::new(),
        Some(_) => {
            return Err(ApiError::invalid_field(
                "description",
                format!(
                    "description must be a string of at most {MAX_DESCRIPTION} characters, without control characters"
                ),
            ))
        }
        None => current.map(|c| c.description.clone()).unwrap_or_default(),
    };
    let enabled = match obj.get("enabled") {
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(ApiError::invalid_field(
                "enabled",
                "enabled must be true or false",
            ))
        }
        None => current.is_none_or(|c| c.enabled),
    };
    Ok((url, description, events, enabled))
}

fn sealed_secret(cfg: &Config, project_id: &str) -> ApiResult<(String, String)> {
    let key = cfg
        .encryption_key
        .as_ref()
        .ok_or_else(|| crate::http::internal("config", "ENCRYPTION_KEY is not set"))?;
    let secret = new_secret(&random_bytes::<24>().or_internal("secret")?);
    let sealed = seal(key, Purpose::WebhookSecret, project_id, &secret).or_internal("seal")?;
    Ok((secret, sealed))
}

/// `Ok` when a statement found the project's row, else a 404 naming `what`.
fn found(hit: bool, what: &str) -> ApiResult<()> {
    if hit {
        Ok(())
    } else {
        Err(ApiError::not_found(what))
    }
}

async fn endpoint_of(client: &Client, project_id: &str, id: &str) -> ApiResult<EndpointRow> {
    stored::get_endpoint(client, project_id, id)
        .await
        .or_store("load webhook endpoint")?
        .ok_or_else(|| ApiError::not_found("Webhook endpoint"))
}

pub async fn list(client: &Client, owner: &Owner, project_id: &str) -> ApiResult<Response> {
    load_owned(client, owner, project_id).await?;
    let rows = stored::list_endpoints(client, project_id)
        .await
        .or_store("list webhook endpoints")?;
    json_response(200, &Value::Array(rows.iter().map(endpoint_json).collect()))
}

pub async fn create(
    mut req: Request,
    client: &Client,
    owner: &Owner,
    project_id: &str,
    cfg: &Config,
) -> ApiResult<Response> {
    let (_, body) = read_json_body(&mut req, BODY_MAX).await?;
    load_owned(client, owner, project_id).await?;
    let (url, description, events, enabled) = endpoint_fields(&body, None, cfg)?;
    let existing = stored::list_endpoints(client, project_id)
        .await
        .or_store("count webhook endpoints")?;
    if existing.len() >= MAX_ENDPOINTS {
        return Err(ApiError::invalid_body(format!(
            "A project has at most {MAX_ENDPOINTS} webhook endpoints"
        )));
    }
    let id = random_id("whk_").or_internal("id")?;
    let (secret, sealed) = sealed_secret(cfg, project_id)?;
    let row = stored::insert_endpoint(
        client,
        project_id,
        &id,
        &EndpointWrite {
            url: &url,
            description: &description,
            events: &events,
            enabled,
        },
        &sealed,
    )
    .await
    .or_store("insert webhook endpoint")?;
    let mut answer = endpoint_json(&row);
    answer["secret"] = json!(secret);
    json_response(201, &answer)
}

pub async fn patch(
    mut req: Request,
    client: &Client,
    owner: &Owner,
    project_id: &str,
    id: &str,
    cfg: &Config,
) -> ApiResult<Response> {
    let (_, body) = read_json_body(&mut req, BODY_MAX).await?;
    load_owned(client, owner, project_id).await?;
    let current = endpoint_of(client, project_id, id).await?;
    let (url, description, events, enabled) = endpoint_fields(&body, Some(&current), cfg)?;
    let row = stored::update_endpoint(
        client,
        project_id,
        id,
        &EndpointWrite {
            url: &url,
            description: &description,
            events: &events,
            enabled,
        },
    )
    .await
    .or_store("update webhook endpoint")?
    .ok_or_else(|| ApiError::not_found("Webhook endpoint"))?;
    json_response(200, &endpoint_json(&row))
}

pub async fn delete(
    client: &Client,
    owner: &Owner,
    project_id: &str,
    id: &str,
) -> ApiResult<Response> {
    load_owned(client, owner, project_id).await?;
    let hit = stored::delete_endpoint(client, project_id, id)
        .await
        .or_store("delete webhook endpoint")?;
    found(hit, "Webhook endpoint")?;
    empty_response(204)
}

pub async fn rotate_secret(
    client: &Client,
    owner: &Owner,
    project_id: &str,
    id: &str,
    cfg: &Config,
) -> ApiResult<Response> {
    load_owned(client, owner, project_id).await?;
    let (secret, sealed) = sealed_secret(cfg, project_id)?;
    let hit = stored::set_secret(client, project_id, id, &sealed)
        .await
        .or_store("rotate webhook secret")?;
    found(hit, "Webhook endpoint")?;
    json_response(200, &json!({"secret": secret}))
}

/// Sends a sample event (`webhook.test` unless the body names another
/// type) to one endpoint, through the same outbox as real events.
pub async fn test_send(
    mut req: Request,
    env: &Env,
    client: &Client,
    owner: &Owner,
    project_id: &str,
    id: &str,
) -> ApiResult<Response> {
    let text = req
        .text()
        .await
        .map_err(|_| ApiError::invalid_body("Could not read the request body"))?;
    let kind = if text.trim().is_empty() {
        EventType::WebhookTest
    } else {
        let body: Value = serde_json::from_str(&text).map_err(ApiError::invalid_json)?;
        let obj = body
            .as_object()
            .ok_or_else(|| ApiError::invalid_body("The body must be a JSON object"))?;
        unknown_fields(obj, &["type"])?;
        match obj.get("type") {
            None => EventType::WebhookTest,
            Some(v) => v.as_str().and_then(EventType::parse).ok_or_else(|| {
                ApiError::invalid_field("type", "type must be webhook.test or an event type")
            })?,
        }
    };
    load_owned(client, owner, project_id).await?;
    let endpoint = endpoint_of(client, project_id, id).await?;
    if !endpoint.enabled {
        return Err(ApiError::invalid_body(
            "The endpoint is disabled; enable it to send to it",
        ));
    }
    let event_id = random_id("evt_").or_internal("event id")?;
    let event = sample_event(project_id, kind, event_id, Date::now().as_millis() as i64);
    enqueue(env, project_id, Some(id), std::slice::from_ref(&event))
        .await
        .map_err(|e| crate::http::internal("test-send", e))?;
    json_response(
        202,
        &json!({"eventId": event.id, "type": kind.as_str(), "endpointId": id}),
    )
}

pub async fn deliveries(
    req: &Request,
    client: &Client,
    owner: &Owner,
    project_id: &str,
) -> ApiResult<Response> {
    let status = match query_param(req, "status") {
        Some(s) => Some(
            DeliveryStatus::parse(&s)
                .ok_or_else(|| {
                    ApiError::invalid_field("status", "status must be pending, delivered or dead")
                })?
                .as_str(),
        ),
        None => None,
    };
    let endpoint = query_param(req, "endpoint").filter(|e| !e.is_empty());
    if endpoint
        .as_deref()
        .is_some_and(|e| e.len() > 64 || !e.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
    {
        return Err(ApiError::invalid_field(
            "endpoint",
            "endpoint must be an endpoint id (whk_…)",
        ));
    }
    let limit = match query_param(req, "limit") {
        Some(l) => l
            .parse::<i64>()
            .ok()
            .filter(|l| (1..=200).contains(l))
            .ok_or_else(|| ApiError::invalid_field("limit", "limit must be 1 to 200"))?,
        None => 50,
    };
    load_owned(client, owner, project_id).await?;
    let rows = stored::list_deliveries(client, project_id, status, endpoint.as_deref(), limit)
        .await
        .or_store("list webhook deliveries")?;
    json_response(200, &Value::Array(rows.iter().map(delivery_json).collect()))
}

pub async fn redeliver(
    env: &Env,
    client: &Client,
    owner: &Owner,
    project_id: &str,
    id: &str,
) -> ApiResult<Response> {
    load_owned(client, owner, project_id).await?;
    let hit = stored::redeliver(client, project_id, id)
        .await
        .or_store("redeliver")?;
    found(hit, "Webhook delivery")?;
    outbox::wake(env, project_id)
        .await
        .map_err(|e| crate::http::internal("wake outbox", e))?;
    json_response(202, &json!({"id": id, "status": "pending"}))
}
