//! Parsing and validation of owner-supplied rules (dashboard API, rules and
//! the simulator's draft `rules`).
//!
//! The input is a `serde_json::Value` so that every error names the exact
//! field (`condition.conditions[1].threshold`) with
//! [`ApiError::invalid_field`]. Only the documented fields are accepted (no
//! mass assignment: `id`, timestamps or project ids in a body are errors).
//! Everything a rule holds is bounded here — lengths, list sizes, nesting
//! depth (≤ [`MAX_CONDITION_DEPTH`] levels of `all`/`any`, exactly what
//! [`crate::rules::evaluate`] evaluates) and finite thresholds — so that
//! evaluation stays cheap and total. Parsing is recursive but bounded by the
//! depth check, so hostile input cannot exhaust the stack.

use crate::error::ApiError;
use crate::rules::{Action, ActionType, Condition, Operator, Rule, MAX_CONDITION_DEPTH};
use crate::tier::Metric;
use crate::values::{DeepLink, DisplayName, Message, ModelId, TierName};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The most rules a project (or a simulator draft) may hold.
pub const MAX_RULES_PER_PROJECT: usize = 50;
pub const MAX_PRIORITY: i64 = 1_000_000_000;
pub const MAX_LIST_ENTRIES: usize = 50;
pub const MAX_PERCENT_THRESHOLD: f64 = 1000.0;
/// 2^53: the largest integer a JSON number carries exactly.
pub const MAX_ABSOLUTE_THRESHOLD: f64 = 9_007_199_254_740_992.0;
const MAX_ID_CHARS: usize = 128;

/// A rule as the owner wrote it, before the database assigns its id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleDraft {
    pub name: String,
    pub enabled: bool,
    pub priority: i64,
    pub condition: Condition,
    pub action: Action,
}

impl RuleDraft {
    pub fn into_rule(self, id: String) -> Rule {
        Rule {
            id,
            name: self.name,
            enabled: self.enabled,
            priority: self.priority,
            condition: self.condition,
            action: self.action,
        }
    }

    pub fn from_rule(rule: &Rule) -> RuleDraft {
        RuleDraft {
            name: rule.name.clone(),
            enabled: rule.enabled,
            priority: rule.priority,
            condition: rule.condition.clone(),
            action: rule.action.clone(),
        }
    }
}

const RULE_FIELDS: [&str; 5] = ["name", "enabled", "priority", "condition", "action"];

/// Parses the body of `POST …/rules`: `name`, `condition` and `action` are
/// required, `enabled` defaults to `true`, `priority` to `0`.
pub fn parse_rule_create(v: &Value) -> Result<RuleDraft, ApiError> {
    parse_rule_at(v, "")
}

/// Applies the body of `PATCH …/rules/:ruleId` to `existing`: every field
/// given replaces the stored one (`condition` and `action` as a whole).
pub fn parse_rule_patch(existing: &RuleDraft, v: &Value) -> Result<RuleDraft, ApiError> {
    let obj = object(v, "", "Body must be a JSON object")?;
    reject_unknown(obj, &RULE_FIELDS, "")?;
    let mut out = existing.clone();
    if let Some(x) = obj.get("name") {
        out.name = parse_name(x, "name")?;
    }
    if let Some(x) = obj.get("enabled") {
        out.enabled = parse_bool(x, "enabled")?;
    }
    if let Some(x) = obj.get("priority") {
        out.priority = parse_priority(x, "priority")?;
    }
    if let Some(x) = obj.get("condition") {
        out.condition = parse_condition(x, "condition", 0)?;
    }
    if let Some(x) = obj.get("action") {
        out.action = parse_action(x, "action")?;
    }
    Ok(out)
}

/// Parses the simulator's draft `rules`: an array of rules whose `id` is
/// optional (a missing one becomes `draft-<index>`, the index in the array).
pub fn parse_rules_array(v: &Value) -> Result<Vec<Rule>, ApiError> {
    let items = v
        .as_array()
        .ok_or_else(|| ApiError::invalid_field("rules", "rules must be an array"))?;
    if items.len() > MAX_RULES_PER_PROJECT {
        return Err(ApiError::invalid_field(
            "rules",
            format!("At most {MAX_RULES_PER_PROJECT} rules are allowed"),
        ));
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let path = format!("rules[{i}]");
        let mut obj = object(item, &path, "Each rule must be a JSON object")?.clone();
        let id = match obj.remove("id") {
            None | Some(Value::Null) => format!("draft-{i}"),
            Some(Value::String(s)) => {
                let len = s.chars().count();
                if len == 0 || len > MAX_ID_CHARS || s.chars().any(char::is_control) {
                    return Err(ApiError::invalid_field(
                        &join(&path, "id"),
                        format!("id must be 1–{MAX_ID_CHARS} characters"),
                    ));
                }
                s
            }
            Some(_) => {
                return Err(ApiError::invalid_field(
                    &join(&path, "id"),
                    "id must be a string",
                ))
            }
        };
        let draft = parse_rule_at(&Value::Object(obj), &path)?;
        out.push(draft.into_rule(id));
    }
    Ok(out)
}

fn parse_rule_at(v: &Value, base: &str) -> Result<RuleDraft, ApiError> {
    let what = if base.is_empty() {
        "Body must be a JSON object"
    } else {
        "Each rule must be a JSON object"
    };
    let obj = object(v, base, what)?;
    reject_unknown(obj, &RULE_FIELDS, base)?;
    let name = parse_name(required(obj, "name", base)?, &join(base, "name"))?;
    let enabled = match obj.get("enabled") {
        Some(x) => parse_bool(x, &join(base, "enabled"))?,
        None => true,
    };
    let priority = match obj.get("priority") {
        Some(x) => parse_priority(x, &join(base, "priority"))?,
        None => 0,
    };
    let condition = parse_condition(
        required(obj, "condition", base)?,
        &join(base, "condition"),
        0,
    )?;
    let action = parse_action(required(obj, "action", base)?, &join(base, "action"))?;
    Ok(RuleDraft {
        name,
        enabled,
        priority,
        condition,
        action,
    })
}

fn join(base: &str, field: &str) -> String {
    if base.is_empty() {
        field.to_string()
    } else {
        format!("{base}.{field}")
    }
}

fn field_or_body(path: &str) -> &str {
    if path.is_empty() {
        "body"
    } else {
        path
    }
}

fn object<'a>(v: &'a Value, path: &str, message: &str) -> Result<&'a Map<String, Value>, ApiError> {
    v.as_object()
        .ok_or_else(|| ApiError::invalid_field(field_or_body(path), message))
}

fn required<'a>(obj: &'a Map<String, Value>, key: &str, base: &str) -> Result<&'a Value, ApiError> {
    match obj.get(key) {
        Some(v) if !v.is_null() => Ok(v),
        _ => Err(ApiError::invalid_field(
            &join(base, key),
            format!("{key} is required"),
        )),
    }
}

fn reject_unknown(obj: &Map<String, Value>, allowed: &[&str], base: &str) -> Result<(), ApiError> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(ApiError::invalid_field(
            &join(base, k),
            format!("Unknown field '{k}' (allowed: {})", allowed.join(", ")),
        )),
        None => Ok(()),
    }
}

fn parse_name(v: &Value, path: &str) -> Result<String, ApiError> {
    let s = v
        .as_str()
        .ok_or_else(|| ApiError::invalid_field(path, "name must be a string"))?;
    Ok(DisplayName::parse(path, s)?.into())
}

fn parse_bool(v: &Value, path: &str) -> Result<bool, ApiError> {
    v.as_bool()
        .ok_or_else(|| ApiError::invalid_field(path, format!("{} must be a boolean", last(path))))
}

fn last(path: &str) -> &str {
    path.rsplit('.').next().unwrap_or(path)
}

fn parse_priority(v: &Value, path: &str) -> Result<i64, ApiError> {
    let err = || {
        ApiError::invalid_field(
            path,
            format!("priority must be an integer between -{MAX_PRIORITY} and {MAX_PRIORITY}"),
        )
    };
    let n = if let Some(i) = v.as_i64() {
        i
    } else {
        let f = v.as_f64().ok_or_else(err)?;
        if !f.is_finite() || f.fract() != 0.0 || f.abs() > MAX_PRIORITY as f64 {
            return Err(err());
        }
        f as i64
    };
    if n.abs() > MAX_PRIORITY {
        return Err(err());
    }
    Ok(n)
}

fn parse_condition(v: &Value, path: &str, depth: usize) -> Result<Condition, ApiError> {
    let obj = object(v, path, "condition must be a JSON object")?;
    let kind = match obj.get("type") {
        Some(Value::String(s)) => s.as_str(),
        Some(_) => {
            return Err(ApiError::invalid_field(
                &join(path, "type"),
                "type must be a string",
            ))
        }
        None => {
            return Err(ApiError::invalid_field(
                &join(path, "type"),
                "type is required",
            ))
        }
    };
    match kind {
        "usage_percent" | "usage_absolute" => {
            reject_unknown(obj, &["type", "metric", "operator", "threshold"], path)?;
            let metric = match required(obj, "metric", path)?.as_str() {
                Some("requests") => Metric::Requests,
                Some("tokens") => Metric::Tokens,
                Some("cost") => Metric::Cost,
                _ => {
                    return Err(ApiError::invalid_field(
                        &join(path, "metric"),
                        "metric must be 'requests', 'tokens' or 'cost' (micro-dollars)",
                    ))
                }
            };
            let operator = match required(obj, "operator", path)?.as_str() {
                Some("gte") => Operator::Gte,
                Some("gt") => Operator::Gt,
                Some("lte") => Operator::Lte,
                Some("lt") => Operator::Lt,
                Some("eq") => Operator::Eq,
                _ => {
                    return Err(ApiError::invalid_field(
                        &join(path, "operator"),
                        "operator must be one of gte, gt, lte, lt, eq",
                    ))
                }
            };
            let percent = kind == "usage_percent";
            let max = if percent {
                MAX_PERCENT_THRESHOLD
            } else {
                MAX_ABSOLUTE_THRESHOLD
            };
            let tpath = join(path, "threshold");
            let threshold = required(obj, "threshold", path)?
                .as_f64()
                .filter(|t| t.is_finite() && (0.0..=max).contains(t))
                .ok_or_else(|| {
                    let range = if percent { "0 and 1000" } else { "0 and 2^53" };
                    ApiError::invalid_field(
                        &tpath,
                        format!("threshold must be a number between {range}"),
                    )
                })?;
            Ok(if percent {
                Condition::UsagePercent {
                    metric,
                    operator,
                    threshold,
                }
            } else {
                Condition::UsageAbsolute {
                    metric,
                    operator,
                    threshold,
                }
            })
        }
        "tier" => {
            reject_unknown(obj, &["type", "tiers"], path)?;
            let tiers = parse_list(
                required(obj, "tiers", path)?,
                &join(path, "tiers"),
                TierName::parse,
            )?;
            Ok(Condition::Tier { tiers })
        }
        "model" => {
            reject_unknown(obj, &["type", "models"], path)?;
            let models = parse_list(
                required(obj, "models", path)?,
                &join(path, "models"),
                ModelId::parse,
            )?;
            Ok(Condition::Model { models })
        }
        "all" | "any" => {
            reject_unknown(obj, &["type", "conditions"], path)?;
            if depth >= MAX_CONDITION_DEPTH {
                return Err(ApiError::invalid_field(
                    path,
                    format!(
                        "all/any conditions may nest at most {MAX_CONDITION_DEPTH} levels deep"
                    ),
                ));
            }
            let cpath = join(path, "conditions");
            let items = required(obj, "conditions", path)?
                .as_array()
                .ok_or_else(|| ApiError::invalid_field(&cpath, "conditions must be an array"))?;
            if items.is_empty() || items.len() > MAX_LIST_ENTRIES {
                return Err(ApiError::invalid_field(
                    &cpath,
                    format!("conditions must hold 1–{MAX_LIST_ENTRIES} conditions"),
                ));
            }
            let mut conditions = Vec::with_capacity(items.len());
            for (i, c) in items.iter().enumerate() {
                conditions.push(parse_condition(c, &format!("{cpath}[{i}]"), depth + 1)?);
            }
            Ok(if kind == "all" {
                Condition::All { conditions }
            } else {
                Condition::Any { conditions }
            })
        }
        _ => Err(ApiError::invalid_field(
            &join(path, "type"),
            "type must be one of usage_percent, usage_absolute, tier, model, all, any",
        )),
    }
}

/// A list of 1–[`MAX_LIST_ENTRIES`] values, each checked by `parse`
/// (tier names, model ids) with its index in the field path.
fn parse_list<T: Into<String>>(
    v: &Value,
    path: &str,
    parse: fn(&str, &str) -> Result<T, ApiError>,
) -> Result<Vec<String>, ApiError> {
    let name = last(path);
    let items = v
        .as_array()
        .ok_or_else(|| ApiError::invalid_field(path, format!("{name} must be an array")))?;
    if items.is_empty() || items.len() > MAX_LIST_ENTRIES {
        return Err(ApiError::invalid_field(
            path,
            format!("{name} must hold 1–{MAX_LIST_ENTRIES} entries"),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let entry = format!("{path}[{i}]");
            let s = item.as_str().ok_or_else(|| {
                ApiError::invalid_field(&entry, format!("each entry of {name} must be a string"))
            })?;
            Ok(parse(&entry, s)?.into())
        })
        .collect()
}

fn parse_action(v: &Value, path: &str) -> Result<Action, ApiError> {
    let obj = object(v, path, "action must be a JSON object")?;
    reject_unknown(obj, &["type", "message", "deepLink"], path)?;
    let kind = match required(obj, "type", path)?.as_str() {
        Some("warn") => ActionType::Warn,
        Some("block") => ActionType::Block,
        Some("allow") => ActionType::Allow,
        _ => {
            return Err(ApiError::invalid_field(
                &join(path, "type"),
                "type must be one of warn, block, allow",
            ))
        }
    };
    let message = optional_string(obj, "message", path)?
        .map(|m| Message::parse(&join(path, "message"), &m).map(String::from))
        .transpose()?;
    let deep_link = optional_string(obj, "deepLink", path)?
        .map(|d| DeepLink::parse(&join(path, "deepLink"), &d).map(String::from))
        .transpose()?;
    Ok(Action {
        kind,
        message,
        deep_link,
    })
}

/// A string field that may be absent or `null`; blank means absent.
fn optional_string(
    obj: &Map<String, Value>,
    key: &str,
    base: &str,
) -> Result<Option<String>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(_) => Err(ApiError::invalid_field(
            &join(base, key),
            format!("{key} must be a string"),
        )),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use serde_json::json;

    fn valid() -> Value {
        json!({
            "name": "Free tier 80% warning",
            "condition": {"type": "all", "conditions": [
                {"type": "tier", "tiers": ["free"]},
                {"type": "usage_percent", "metric": "requests", "operator": "gte", "threshold": 80}
            ]},
            "action": {"type": "warn", "message": "{{usage}}/{{limit}}", "deepLink": "myapp://upgrade"}
        })
    }

    fn field_of(r: Result<RuleDraft, ApiError>) -> String {
        let e = r.expect_err("should be rejected");
        assert_eq!(e.code(), "invalid_request");
        assert_eq!(e.status(), 400);
        e.field().unwrap_or("").to_string()
    }

    /// Sets (or inserts) the value at a JSON pointer.
    fn with(mut v: Value, pointer: &str, value: Value) -> Value {
        let (parent, key) = pointer.rsplit_once('/').expect("pointer");
        let target = v.pointer_mut(parent).expect("parent exists");
        match target {
            Value::Object(m) => {
                m.insert(key.to_string(), value);
            }
            other => {
                *other
                    .get_mut(key.parse::<usize>().expect("index"))
                    .expect("in range") = value
            }
        }
        v
    }

    fn nested(levels: usize) -> Value {
        let mut c = json!({"type": "tier", "tiers": ["free"]});
        for _ in 0..levels {
            c = json!({"type": "all", "conditions": [c]});
        }
        c
    }

    #[test]
    fn valid_rule_parses_with_defaults() {
        let d = parse_rule_create(&valid()).unwrap();
        assert_eq!(d.name, "Free tier 80% warning");
        assert!(d.enabled);
        assert_eq!(d.priority, 0);
        assert_eq!(d.action.kind, ActionType::Warn);
        assert_eq!(d.action.deep_link.as_deref(), Some("myapp://upgrade"));
        match d.condition {
            Condition::All { conditions } => assert_eq!(conditions.len(), 2),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn explicit_enabled_and_priority_are_kept() {
        let mut v = valid();
        v["enabled"] = json!(false);
        v["priority"] = json!(-1_000_000_000);
        let d = parse_rule_create(&v).unwrap();
        assert!(!d.enabled);
        assert_eq!(d.priority, -1_000_000_000);
        v["priority"] = json!(7.0);
        assert_eq!(parse_rule_create(&v).unwrap().priority, 7);
    }

    #[test]
    fn every_condition_type_parses() {
        for (c, expect) in [
            (
                json!({"type": "usage_absolute", "metric": "tokens", "operator": "lt", "threshold": 9007199254740992u64}),
                Condition::UsageAbsolute {
                    metric: Metric::Tokens,
                    operator: Operator::Lt,
                    threshold: 9_007_199_254_740_992.0,
                },
            ),
            (
                json!({"type": "usage_percent", "metric": "requests", "operator": "eq", "threshold": 0}),
                Condition::UsagePercent {
                    metric: Metric::Requests,
                    operator: Operator::Eq,
                    threshold: 0.0,
                },
            ),
            (
                json!({"type": "model", "models": ["gpt-4o", "dall-e-3"]}),
                Condition::Model {
                    models: vec!["gpt-4o".into(), "dall-e-3".into()],
                },
            ),
            (
                json!({"type": "any", "conditions": [{"type": "tier", "tiers": ["pro"]}]}),
                Condition::Any {
                    conditions: vec![Condition::Tier {
                        tiers: vec!["pro".into()],
                    }],
                },
            ),
        ] {
            let v = with(valid(), "/condition", c);
            assert_eq!(parse_rule_create(&v).unwrap().condition, expect);
        }
    }

    #[test]
    fn invalid_rules_are_rejected_naming_the_field() {
        let cases: Vec<(Value, &str)> = vec![
            (json!([]), "body"),
            (json!("rule"), "body"),
            (with(valid(), "/name", json!("")), "name"),
            (with(valid(), "/name", json!("   ")), "name"),
            (with(valid(), "/name", json!("x".repeat(101))), "name"),
            (with(valid(), "/name", json!("a\u{7}b")), "name"),
            (with(valid(), "/name", json!(5)), "name"),
            (with(valid(), "/name", Value::Null), "name"),
            (with(valid(), "/condition", Value::Null), "condition"),
            (with(valid(), "/action", json!("warn")), "action"),
            (
                with(valid(), "/condition/conditions/1/threshold", json!(1000.5)),
                "condition.conditions[1].threshold",
            ),
            (
                with(valid(), "/condition/conditions/1/threshold", json!(-1)),
                "condition.conditions[1].threshold",
            ),
            (
                with(valid(), "/condition/conditions/1/threshold", json!("80")),
                "condition.conditions[1].threshold",
            ),
            (
                with(valid(), "/condition/conditions/1/metric", json!("images")),
                "condition.conditions[1].metric",
            ),
            (
                with(valid(), "/condition/conditions/1/operator", json!(">=")),
                "condition.conditions[1].operator",
            ),
            (
                with(valid(), "/condition/conditions/0/tiers", json!([])),
                "condition.conditions[0].tiers",
            ),
            (
                with(valid(), "/condition/conditions/0/tiers", json!("free")),
                "condition.conditions[0].tiers",
            ),
            (
                with(
                    valid(),
                    "/condition/conditions/0/tiers",
                    json!(["free", ""]),
                ),
                "condition.conditions[0].tiers[1]",
            ),
            (
                with(
                    valid(),
                    "/condition/conditions/0/tiers",
                    json!(["t".repeat(65)]),
                ),
                "condition.conditions[0].tiers[0]",
            ),
            (
                with(
                    valid(),
                    "/condition/conditions/0/tiers",
                    json!(vec!["free"; 51]),
                ),
                "condition.conditions[0].tiers",
            ),
            (
                with(valid(), "/condition/conditions/0/tiers", json!([1])),
                "condition.conditions[0].tiers[0]",
            ),
            (
                with(valid(), "/condition/conditions", json!([])),
                "condition.conditions",
            ),
            (
                with(valid(), "/condition/type", json!("none")),
                "condition.type",
            ),
            (
                with(valid(), "/condition", json!({"metric": "requests"})),
                "condition.type",
            ),
            (
                with(
                    valid(),
                    "/condition",
                    json!({"type": "model", "models": ["m".repeat(257)]}),
                ),
                "condition.models[0]",
            ),
            (
                with(
                    valid(),
                    "/condition",
                    json!({"type": "usage_absolute", "metric": "requests", "operator": "gt", "threshold": 1e16}),
                ),
                "condition.threshold",
            ),
            (
                with(
                    valid(),
                    "/condition",
                    json!({"type": "usage_absolute", "metric": "requests", "operator": "gt"}),
                ),
                "condition.threshold",
            ),
            (with(valid(), "/action/type", json!("deny")), "action.type"),
            (
                with(valid(), "/action/message", json!("m".repeat(501))),
                "action.message",
            ),
            (
                with(valid(), "/action/message", json!("a\u{0}b")),
                "action.message",
            ),
            (with(valid(), "/action/message", json!(3)), "action.message"),
            (
                with(valid(), "/action/deepLink", json!("a".repeat(2001))),
                "action.deepLink",
            ),
            (
                with(valid(), "/action/deepLink", json!("myapp://up\ngrade")),
                "action.deepLink",
            ),
            (
                with(valid(), "/action/deepLink", json!("JavaScript:alert(1)")),
                "action.deepLink",
            ),
            (with(valid(), "/priority", json!(1.5)), "priority"),
            (with(valid(), "/priority", json!(1_000_000_001)), "priority"),
            (with(valid(), "/priority", json!(-1e12)), "priority"),
            (with(valid(), "/priority", json!("1")), "priority"),
            (with(valid(), "/enabled", json!("true")), "enabled"),
            (with(valid(), "/enabled", Value::Null), "enabled"),
        ];
        for (body, field) in cases {
            assert_eq!(field_of(parse_rule_create(&body)), field, "{body}");
        }
        let mut missing = valid();
        missing.as_object_mut().unwrap().remove("action");
        assert_eq!(field_of(parse_rule_create(&missing)), "action");
    }

    #[test]
    fn unknown_fields_are_rejected_at_every_level() {
        let mut v = valid();
        v["id"] = json!("r1");
        assert_eq!(field_of(parse_rule_create(&v)), "id");
        let mut v = valid();
        v["projectId"] = json!("p2");
        assert_eq!(field_of(parse_rule_create(&v)), "projectId");
        let v = with(valid(), "/condition/conditions/0/extra", json!(1));
        assert_eq!(
            field_of(parse_rule_create(&v)),
            "condition.conditions[0].extra"
        );
        let v = with(valid(), "/action/url", json!("x"));
        assert_eq!(field_of(parse_rule_create(&v)), "action.url");
        let v = with(valid(), "/condition/conditions/1/tiers", json!(["free"]));
        assert_eq!(
            field_of(parse_rule_create(&v)),
            "condition.conditions[1].tiers"
        );
    }

    #[test]
    fn nesting_is_accepted_up_to_the_depth_the_engine_evaluates() {
        let ok = with(valid(), "/condition", nested(MAX_CONDITION_DEPTH));
        assert!(parse_rule_create(&ok).is_ok());
        let deep = with(valid(), "/condition", nested(MAX_CONDITION_DEPTH + 1));
        let field = field_of(parse_rule_create(&deep));
        assert!(field.starts_with("condition.conditions[0]"), "{field}");
        // Absurd nesting is refused without recursing through all of it.
        let absurd = with(valid(), "/condition", nested(100));
        assert!(parse_rule_create(&absurd).is_err());
    }

    #[test]
    fn blank_message_and_deep_link_become_absent() {
        let v = with(
            valid(),
            "/action",
            json!({"type": "block", "message": "  ", "deepLink": null}),
        );
        let d = parse_rule_create(&v).unwrap();
        assert_eq!(d.action.message, None);
        assert_eq!(d.action.deep_link, None);
        let v = with(valid(), "/action", json!({"type": "allow"}));
        assert_eq!(
            parse_rule_create(&v).unwrap().action.kind,
            ActionType::Allow
        );
    }

    #[test]
    fn patch_replaces_only_the_given_fields() {
        let existing = parse_rule_create(&valid()).unwrap();
        let p = parse_rule_patch(&existing, &json!({"enabled": false, "priority": 3})).unwrap();
        assert!(!p.enabled);
        assert_eq!(p.priority, 3);
        assert_eq!(p.name, existing.name);
        assert_eq!(p.condition, existing.condition);
        let p = parse_rule_patch(
            &existing,
            &json!({"action": {"type": "block"}, "name": "Renamed"}),
        )
        .unwrap();
        assert_eq!(p.action.kind, ActionType::Block);
        assert_eq!(p.action.message, None);
        assert_eq!(p.name, "Renamed");
        assert_eq!(parse_rule_patch(&existing, &json!({})).unwrap(), existing);
    }

    #[test]
    fn patch_rejects_unknown_and_invalid_fields() {
        let existing = parse_rule_create(&valid()).unwrap();
        let e = parse_rule_patch(&existing, &json!({"id": "other"})).unwrap_err();
        assert_eq!(e.field().unwrap_or_default(), "id");
        let e = parse_rule_patch(&existing, &json!({"name": null})).unwrap_err();
        assert_eq!(e.field().unwrap_or_default(), "name");
        let e = parse_rule_patch(
            &existing,
            &json!({"condition": {"type": "tier", "tiers": []}}),
        )
        .unwrap_err();
        assert_eq!(e.field().unwrap_or_default(), "condition.tiers");
        let e = parse_rule_patch(&existing, &json!([1])).unwrap_err();
        assert_eq!(e.field().unwrap_or_default(), "body");
    }

    #[test]
    fn draft_rules_get_generated_ids_and_keep_given_ones() {
        let mut with_id = valid();
        with_id["id"] = json!("rule-123");
        let rules = parse_rules_array(&json!([valid(), with_id])).unwrap();
        assert_eq!(rules[0].id, "draft-0");
        assert_eq!(rules[1].id, "rule-123");
        assert_eq!(rules[1].name, "Free tier 80% warning");
        assert!(parse_rules_array(&json!([])).unwrap().is_empty());
    }

    #[test]
    fn draft_rules_are_bounded_and_validated() {
        let e = parse_rules_array(&json!({})).unwrap_err();
        assert_eq!(e.field().unwrap_or_default(), "rules");
        let many = Value::Array(vec![valid(); MAX_RULES_PER_PROJECT + 1]);
        assert_eq!(
            parse_rules_array(&many)
                .unwrap_err()
                .field()
                .unwrap_or_default(),
            "rules"
        );
        let bad = with(valid(), "/condition/conditions/1/threshold", json!(-5));
        let e = parse_rules_array(&json!([valid(), bad])).unwrap_err();
        assert_eq!(
            e.field().unwrap_or_default(),
            "rules[1].condition.conditions[1].threshold"
        );
        let mut bad_id = valid();
        bad_id["id"] = json!(7);
        let e = parse_rules_array(&json!([bad_id])).unwrap_err();
        assert_eq!(e.field().unwrap_or_default(), "rules[0].id");
        let e = parse_rules_array(&json!([1])).unwrap_err();
        assert_eq!(e.field().unwrap_or_default(), "rules[0]");
    }

    #[test]
    fn draft_round_trips_through_a_rule() {
        let d = parse_rule_create(&valid()).unwrap();
        let r = d.clone().into_rule("id-1".into());
        assert_eq!(r.id, "id-1");
        assert_eq!(RuleDraft::from_rule(&r), d);
        // The stored JSON form parses back as a create body.
        let mut stored = serde_json::to_value(&d).unwrap();
        assert_eq!(parse_rule_create(&stored).unwrap(), d);
        stored["priority"] = json!(2);
        assert_eq!(parse_rule_create(&stored).unwrap().priority, 2);
    }
}
