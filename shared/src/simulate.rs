//! The rule simulator (`POST …/rules/simulate`) and the one place that turns
//! a [`Decision`] into the message and deep link a client sees.
//!
//! The simulator runs the live path's [`decide`] with a counter view that
//! answers the typed-in usage (what the counter holds *before* the request)
//! for every window and scope; the simulated request adds 1 request and
//! `request_tokens` exactly as a live one does. [`decision_message`] is
//! shared with the proxy (429 bodies, warnings): a block by a rule uses the
//! rule's message, a block by the tier's own limit uses the tier's
//! `limitMessage` or [`DEFAULT_LIMIT_MESSAGE`], a warning uses the warn
//! rule's message or [`DEFAULT_WARNING_MESSAGE`]; all are rendered with
//! [`render_message`] over the window that explains the decision.

use crate::decision::{decide_with, Decision, Policy, Size, Verdict, WindowReport};
use crate::funnel::message_source;
use crate::ledger::Amount;
use crate::period::{iso8601, window_end, Period};
use crate::rules::{Rule, TraceEntry};
use crate::templates::{render_deep_link, render_message, MessageVars};
use crate::tier::{Metric, Tier};
use serde_json::{json, Value};

/// The 429 message when the tier's own limit blocked and the tier sets no
/// `limitMessage` (also used for a blocking rule without a message).
pub const DEFAULT_LIMIT_MESSAGE: &str =
    "{{tier}} tier limit reached: {{usage}}/{{limit}} {{limitType}} per {{period}}";

/// The warning when a warn rule has no message of its own.
pub const DEFAULT_WARNING_MESSAGE: &str =
    "{{tier}} tier usage: {{usage}}/{{limit}} {{limitType}} this {{period}}";

/// The message and deep link for a decision: `(None, None)` for a plain
/// allow. For a block the variables describe the blocking window (usage
/// without the blocked request); for a warning, the tightest window after
/// the request.
pub fn decision_message(
    decision: &Decision,
    tier_name: &str,
    tier: &Tier,
    identity: &str,
    now_ms: i64,
) -> (Option<String>, Option<String>) {
    let Some(source) = message_source(
        decision,
        tier,
        DEFAULT_LIMIT_MESSAGE,
        DEFAULT_WARNING_MESSAGE,
    ) else {
        return (None, None);
    };
    let (template, deep_link, window) = (source.template, source.deep_link, source.window);
    let vars = message_vars(window, tier_name, identity, now_ms);
    (
        Some(render_message(&template, &vars)),
        deep_link.map(|d| render_deep_link(&d, &vars)),
    )
}

fn message_vars(
    window: Option<&WindowReport>,
    tier_name: &str,
    identity: &str,
    now_ms: i64,
) -> MessageVars {
    match window {
        Some(w) => MessageVars {
            tier: tier_name.to_string(),
            limit: w.limit,
            usage: w.used,
            limit_type: w.metric.as_str().to_string(),
            period: w.period.as_str().to_string(),
            identity: identity.to_string(),
            reset_at: iso8601(w.reset_at_ms),
        },
        None => MessageVars {
            tier: tier_name.to_string(),
            limit: None,
            usage: 0,
            limit_type: Metric::Requests.as_str().to_string(),
            period: Period::Day.as_str().to_string(),
            identity: identity.to_string(),
            reset_at: iso8601(window_end(Period::Day, now_ms)),
        },
    }
}

/// The identity `{{identity}}` renders as in simulated messages.
pub const SIMULATED_IDENTITY: &str = "simulated-user";

/// Simulates one request of `policy_tier_name` with the counters holding
/// `used` (requests, tokens, cost in micro-dollars) in every window before
/// it; the request adds 1 request and `size` (tokens, cost reservation). Answers
/// `{decision, matchedRule, message, deepLink, trace}`; `trace` lists every
/// rule in evaluation order, disabled ones with `matched: false`.
pub fn simulate(
    policy_tier_name: &str,
    tier: &Tier,
    rules: &[Rule],
    model: Option<&str>,
    used: Amount,
    size: impl Into<Size>,
    now_ms: i64,
) -> Value {
    let policy = Policy {
        tier_name: policy_tier_name.to_string(),
        tier: tier.clone(),
        rules: rules.to_vec(),
    };
    let decision = decide_with(
        &policy,
        model,
        size,
        |_, metric, _| match metric {
            Metric::Requests => used.requests,
            Metric::Tokens => used.tokens,
            Metric::Cost => used.cost,
        },
        now_ms,
        true,
    );
    let (message, deep_link) = decision_message(
        &decision,
        policy_tier_name,
        tier,
        SIMULATED_IDENTITY,
        now_ms,
    );
    let matched = decision.rule.as_ref().or(decision.warning.as_ref());
    let matched_rule = matched.map_or(Value::Null, |r| json!({"id": r.id, "name": r.name}));
    let verdict = match decision.verdict {
        Verdict::Allow => "allow",
        Verdict::Warn => "warn",
        Verdict::Block => "block",
    };
    json!({
        "decision": verdict,
        "matchedRule": matched_rule,
        "message": message,
        "deepLink": deep_link,
        "trace": full_trace(rules, &decision.trace),
    })
}

/// `evaluate`'s trace (enabled rules in priority order) with the disabled
/// rules put back in their place.
fn full_trace(rules: &[Rule], evaluated: &[TraceEntry]) -> Vec<Value> {
    let mut order: Vec<&Rule> = rules.iter().collect();
    order.sort_by_key(|r| r.priority);
    let mut evaluated = evaluated.iter();
    order
        .into_iter()
        .map(|rule| {
            let entry = if rule.enabled { evaluated.next() } else { None };
            match entry {
                Some(e) => json!({"ruleId": e.rule_id, "matched": e.matched, "reason": e.reason}),
                None => json!({"ruleId": rule.id, "matched": false, "reason": "disabled"}),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::rule_input::parse_rules_array;
    use crate::templates::templates;

    fn used(requests: u64, tokens: u64) -> Amount {
        Amount {
            requests,
            tokens,
            cost: 0,
        }
    }

    // 2026-11-27T12:00:00Z
    const NOW: i64 = 1_795_780_800_000;

    fn free() -> Tier {
        serde_json::from_value(json!({"requests": {"limit": 5, "period": "day"}})).unwrap()
    }

    fn template_rules() -> Vec<Rule> {
        let drafts: Vec<Value> = templates()
            .into_iter()
            .map(|t| {
                let mut r = t["rule"].clone();
                r["id"] = t["id"].clone();
                r
            })
            .collect();
        parse_rules_array(&Value::Array(drafts)).unwrap()
    }

    fn keys(v: &Value) -> Vec<&str> {
        let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        k.sort_unstable();
        k
    }

    #[test]
    fn now_constant_is_the_documented_instant() {
        assert_eq!(iso8601(NOW), "2026-11-27T12:00:00Z");
    }

    #[test]
    fn allowed_request_has_the_contract_shape_with_nulls() {
        let v = simulate("free", &free(), &template_rules(), None, used(0, 0), 0, NOW);
        assert_eq!(
            keys(&v),
            ["decision", "deepLink", "matchedRule", "message", "trace"]
        );
        assert_eq!(v["decision"], "allow");
        assert_eq!(v["matchedRule"], Value::Null);
        assert_eq!(v["message"], Value::Null);
        assert_eq!(v["deepLink"], Value::Null);
        let trace = v["trace"].as_array().unwrap();
        assert_eq!(trace.len(), 6);
        for t in trace {
            assert_eq!(keys(t), ["matched", "reason", "ruleId"]);
        }
        // Priority order: enterprise (-100), blocks (0), warnings (100).
        assert_eq!(trace[0]["ruleId"], "enterprise-unlimited");
    }

    #[test]
    fn fourth_of_five_requests_warns_with_the_rendered_message() {
        let v = simulate("free", &free(), &template_rules(), None, used(3, 0), 0, NOW);
        assert_eq!(v["decision"], "warn");
        assert_eq!(v["matchedRule"]["id"], "free-tier-80-warning");
        assert_eq!(v["matchedRule"]["name"], "Free tier 80% warning");
        assert_eq!(
            v["message"],
            "You've used 4 of your 5 requests this day. Upgrade to keep going."
        );
        assert_eq!(v["deepLink"], Value::Null);
    }

    #[test]
    fn sixth_request_is_blocked_by_the_rule_with_message_and_deep_link() {
        let rules: Vec<Rule> = template_rules()
            .into_iter()
            .filter(|r| r.id != "image-generation-daily-limit")
            .collect();
        let v = simulate("free", &free(), &rules, None, used(5, 0), 0, NOW);
        assert_eq!(v["decision"], "block");
        assert_eq!(v["matchedRule"]["id"], "free-tier-100-block");
        assert_eq!(
            v["message"],
            "Free tier limit reached: 5/5 requests per day. Upgrade to Pro for more."
        );
        assert_eq!(v["deepLink"], "myapp://upgrade?plan=pro");
        let matched: Vec<&Value> = v["trace"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["matched"] == true)
            .collect();
        assert_eq!(matched.len(), 2); // the block and the 80% warning
    }

    #[test]
    fn tier_limit_block_uses_the_default_message_and_no_rule() {
        let v = simulate("free", &free(), &[], None, used(5, 0), 0, NOW);
        assert_eq!(v["decision"], "block");
        assert_eq!(v["matchedRule"], Value::Null);
        assert_eq!(
            v["message"],
            "free tier limit reached: 5/5 requests per day"
        );
        assert_eq!(v["deepLink"], Value::Null);
        assert_eq!(v["trace"], json!([]));
    }

    #[test]
    fn tier_limit_block_renders_the_tiers_limit_message() {
        let tier: Tier = serde_json::from_value(json!({
            "requests": {"limit": 5, "period": "day"},
            "limitMessage": {"message": "{{identity}}: {{usage}}/{{limit}}, back at {{resetAt}}", "deepLink": "app://up?tier={{tier}}"}
        }))
        .unwrap();
        let v = simulate("free", &tier, &[], None, used(7, 0), 0, NOW);
        assert_eq!(
            v["message"],
            "simulated-user: 7/5, back at 2026-11-28T00:00:00Z"
        );
        assert_eq!(v["deepLink"], "app://up?tier=free");
    }

    #[test]
    fn cost_rules_see_the_typed_spend_and_the_request_cost() {
        let rules: Vec<Rule> = vec![serde_json::from_value(json!({
            "id": "c", "name": "Spend guard", "enabled": true, "priority": 0,
            "condition": {"type": "usage_absolute", "metric": "cost", "operator": "gt", "threshold": 2500},
            "action": {"type": "block", "message": "spent"}
        }))
        .unwrap()];
        let spent = |cost| Amount {
            requests: 0,
            tokens: 0,
            cost,
        };
        let size = Size {
            tokens: 100,
            cost: 1000,
        };
        let v = simulate("free", &free(), &rules, None, spent(1500), size, NOW);
        assert_eq!(v["decision"], "allow");
        let v = simulate("free", &free(), &rules, None, spent(1501), size, NOW);
        assert_eq!(v["decision"], "block");
    }

    #[test]
    fn enterprise_allow_rule_admits_past_the_limit() {
        let v = simulate(
            "enterprise",
            &free(),
            &template_rules(),
            None,
            used(99, 0),
            0,
            NOW,
        );
        assert_eq!(v["decision"], "allow");
        assert_eq!(v["matchedRule"]["id"], "enterprise-unlimited");
        assert_eq!(v["message"], Value::Null);
    }

    #[test]
    fn request_tokens_count_toward_token_rules() {
        let tier: Tier =
            serde_json::from_value(json!({"tokens": {"limit": 1000, "period": "month"}})).unwrap();
        let rules = template_rules();
        let below = simulate("free", &tier, &rules, None, used(0, 800), 99, NOW);
        assert_eq!(below["decision"], "allow");
        let at = simulate("free", &tier, &rules, None, used(0, 800), 100, NOW);
        assert_eq!(at["decision"], "warn");
        assert_eq!(at["matchedRule"]["id"], "token-90-warning");
        assert_eq!(
            at["message"],
            "You've used 90% of the token budget of the free plan."
        );
        // Tokens at the cap block with the default message.
        let over = simulate("free", &tier, &[], None, used(0, 1000), 1, NOW);
        assert_eq!(over["decision"], "block");
        assert_eq!(
            over["message"],
            "free tier limit reached: 1000/1000 tokens per month"
        );
    }

    #[test]
    fn disabled_rules_appear_in_the_trace_unmatched() {
        let mut rules = template_rules();
        for r in &mut rules {
            if r.id == "free-tier-80-warning" {
                r.enabled = false;
            }
        }
        let v = simulate("free", &free(), &rules, None, used(3, 0), 0, NOW);
        assert_eq!(v["decision"], "allow");
        let trace = v["trace"].as_array().unwrap();
        assert_eq!(trace.len(), 6);
        let t = trace
            .iter()
            .find(|t| t["ruleId"] == "free-tier-80-warning")
            .unwrap();
        assert_eq!(t["matched"], false);
        assert_eq!(t["reason"], "disabled");
    }

    #[test]
    fn usage_applies_to_model_windows_too() {
        let tier: Tier = serde_json::from_value(json!({
            "models": {"gpt-4o": {"requests": {"limit": 2, "period": "hour"}}}
        }))
        .unwrap();
        let v = simulate("free", &tier, &[], Some("gpt-4o"), used(2, 0), 0, NOW);
        assert_eq!(v["decision"], "block");
        assert_eq!(
            v["message"],
            "free tier limit reached: 2/2 requests per hour"
        );
        let other = simulate("free", &tier, &[], Some("gpt-4o-mini"), used(2, 0), 0, NOW);
        assert_eq!(other["decision"], "allow");
    }

    #[test]
    fn warn_rule_without_message_gets_the_default_warning() {
        let rules = parse_rules_array(&json!([{
            "name": "w", "condition": {"type": "tier", "tiers": ["free"]}, "action": {"type": "warn"}
        }]))
        .unwrap();
        let v = simulate("free", &free(), &rules, None, used(1, 0), 0, NOW);
        assert_eq!(v["decision"], "warn");
        assert_eq!(v["matchedRule"]["id"], "draft-0");
        assert_eq!(v["message"], "free tier usage: 2/5 requests this day");
    }

    #[test]
    fn block_rule_without_message_falls_back_to_the_tier_message() {
        let tier: Tier = serde_json::from_value(json!({
            "requests": {"limit": 5, "period": "day"},
            "limitMessage": {"message": "Upgrade!", "deepLink": "app://up"}
        }))
        .unwrap();
        let rules = parse_rules_array(&json!([{
            "name": "b", "condition": {"type": "model", "models": ["o1"]}, "action": {"type": "block"}
        }]))
        .unwrap();
        let v = simulate("free", &tier, &rules, Some("o1"), used(0, 0), 0, NOW);
        assert_eq!(v["decision"], "block");
        assert_eq!(v["matchedRule"]["name"], "b");
        assert_eq!(v["message"], "Upgrade!");
        assert_eq!(v["deepLink"], "app://up");
    }

    #[test]
    fn block_on_an_unlimited_tier_renders_unlimited() {
        let rules = parse_rules_array(&json!([{
            "name": "b", "condition": {"type": "model", "models": ["o1"]}, "action": {"type": "block"}
        }]))
        .unwrap();
        let v = simulate(
            "free",
            &Tier::default(),
            &rules,
            Some("o1"),
            used(3, 0),
            0,
            NOW,
        );
        assert_eq!(v["decision"], "block");
        assert_eq!(
            v["message"],
            "free tier limit reached: 3/unlimited requests per day"
        );
    }
}
