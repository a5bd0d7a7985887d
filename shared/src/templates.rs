//! Rule templates (`GET /api/rule-templates`) and the message variables that
//! rule and tier messages may use.
//!
//! Each template is `{id, name, description, rule}` where `rule` is a valid
//! create body for `POST …/rules` (it parses with
//! [`crate::rule_input::parse_rule_create`]). Messages may use
//! `{{tier}} {{limit}} {{usage}} {{limitType}} {{period}} {{identity}}
//! {{resetAt}}`; [`render_message`] substitutes them in one left-to-right
//! pass, so a substituted value (an identity chosen by an end user) is never
//! itself expanded, and unknown `{{x}}` are left as written.

use crate::values::percent_encode_component;
use serde_json::{json, Value};

/// The values a message may refer to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageVars {
    pub tier: String,
    /// `None` renders as `unlimited`.
    pub limit: Option<u64>,
    pub usage: u64,
    /// `requests` or `tokens`.
    pub limit_type: String,
    /// `minute`, `hour`, `day`, `week` or `month`.
    pub period: String,
    pub identity: String,
    /// ISO-8601 UTC.
    pub reset_at: String,
}

impl MessageVars {
    fn get(&self, name: &str) -> Option<String> {
        Some(match name {
            "tier" => self.tier.clone(),
            "limit" => self
                .limit
                .map_or_else(|| "unlimited".to_string(), |l| l.to_string()),
            "usage" => self.usage.to_string(),
            "limitType" => self.limit_type.clone(),
            "period" => self.period.clone(),
            "identity" => self.identity.clone(),
            "resetAt" => self.reset_at.clone(),
            _ => return None,
        })
    }
}

/// Substitutes `{{name}}` (spaces inside the braces allowed) with the
/// variables; unknown names and unterminated braces are kept verbatim.
pub fn render_message(template: &str, vars: &MessageVars) -> String {
    render(template, vars, |v| v)
}

/// [`render_message`] for a deep link: each substituted value is
/// percent-encoded, so a value (an identity chosen by an end user) cannot
/// change the link's scheme, path or query parameters.
pub fn render_deep_link(template: &str, vars: &MessageVars) -> String {
    render(template, vars, |v| percent_encode_component(&v))
}

fn render(template: &str, vars: &MessageVars, encode: impl Fn(String) -> String) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            out.push_str(&rest[open..]);
            return out;
        };
        let name = after[..close].trim();
        match vars.get(name) {
            Some(value) => out.push_str(&encode(value)),
            None => out.push_str(&rest[open..open + 2 + close + 2]),
        }
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    out
}

/// The built-in rule templates, in the order the dashboard lists them.
pub fn templates() -> Vec<Value> {
    vec![
        json!({
            "id": "free-tier-80-warning",
            "name": "Free tier 80% warning",
            "description": "Warn free-tier users once they have used 80% of their request limit.",
            "rule": {
                "name": "Free tier 80% warning",
                "enabled": true,
                "priority": 100,
                "condition": {"type": "all", "conditions": [
                    {"type": "tier", "tiers": ["free"]},
                    {"type": "usage_percent", "metric": "requests", "operator": "gte", "threshold": 80}
                ]},
                "action": {
                    "type": "warn",
                    "message": "You've used {{usage}} of your {{limit}} {{limitType}} this {{period}}. Upgrade to keep going."
                }
            }
        }),
        json!({
            "id": "free-tier-100-block",
            "name": "Free tier 100% block",
            "description": "Block free-tier users past their request limit with an upgrade message and a deep link into your app.",
            "rule": {
                "name": "Free tier 100% block",
                "enabled": true,
                "priority": 0,
                "condition": {"type": "all", "conditions": [
                    {"type": "tier", "tiers": ["free"]},
                    {"type": "usage_percent", "metric": "requests", "operator": "gt", "threshold": 100}
                ]},
                "action": {
                    "type": "block",
                    "message": "Free tier limit reached: {{usage}}/{{limit}} {{limitType}} per {{period}}. Upgrade to Pro for more.",
                    "deepLink": "myapp://upgrade?plan=pro"
                }
            }
        }),
        json!({
            "id": "pro-tier-95-warning",
            "name": "Pro tier 95% warning",
            "description": "Warn pro-tier users when they are about to reach their request limit.",
            "rule": {
                "name": "Pro tier 95% warning",
                "enabled": true,
                "priority": 100,
                "condition": {"type": "all", "conditions": [
                    {"type": "tier", "tiers": ["pro"]},
                    {"type": "usage_percent", "metric": "requests", "operator": "gte", "threshold": 95}
                ]},
                "action": {
                    "type": "warn",
                    "message": "You've used {{usage}} of your {{limit}} {{limitType}} this {{period}}. The limit resets at {{resetAt}}."
                }
            }
        }),
        json!({
            "id": "token-90-warning",
            "name": "Token 90% warning",
            "description": "Warn any user who has used 90% of their tier's token budget.",
            "rule": {
                "name": "Token 90% warning",
                "enabled": true,
                "priority": 100,
                "condition": {"type": "usage_percent", "metric": "tokens", "operator": "gte", "threshold": 90},
                "action": {
                    "type": "warn",
                    "message": "You've used 90% of the token budget of the {{tier}} plan."
                }
            }
        }),
        json!({
            "id": "image-generation-daily-limit",
            "name": "Image generation daily limit",
            "description": "Block after 5 requests in the tier's window (per day when the tier has no request limit). Add a model condition to apply it to your image models only.",
            "rule": {
                "name": "Image generation daily limit",
                "enabled": true,
                "priority": 0,
                "condition": {"type": "usage_absolute", "metric": "requests", "operator": "gt", "threshold": 5},
                "action": {
                    "type": "block",
                    "message": "You've reached today's limit of 5 image generations. Try again after {{resetAt}}."
                }
            }
        }),
        json!({
            "id": "enterprise-unlimited",
            "name": "Enterprise unlimited",
            "description": "Lift every limit for the enterprise tier.",
            "rule": {
                "name": "Enterprise unlimited",
                "enabled": true,
                "priority": -100,
                "condition": {"type": "tier", "tiers": ["enterprise"]},
                "action": {"type": "allow"}
            }
        }),
    ]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::decision::{decide, Policy, Verdict};
    use crate::rule_input::parse_rule_create;
    use crate::rules::Rule;
    use crate::tier::{Metric, Tier};

    const NOW: i64 = 1_795_000_000_000;

    fn vars() -> MessageVars {
        MessageVars {
            tier: "free".into(),
            limit: Some(5),
            usage: 4,
            limit_type: "requests".into(),
            period: "day".into(),
            identity: "user-1".into(),
            reset_at: "2026-11-28T00:00:00Z".into(),
        }
    }

    fn template_rule(id: &str) -> Rule {
        let t = templates()
            .into_iter()
            .find(|t| t["id"] == id)
            .expect("template exists");
        parse_rule_create(&t["rule"])
            .expect("template parses")
            .into_rule(id.to_string())
    }

    fn tier(v: Value) -> Tier {
        serde_json::from_value(v).unwrap()
    }

    fn run(rule_id: &str, tier_name: &str, t: Tier, requests: u64, tokens: u64) -> Verdict {
        let policy = Policy {
            tier_name: tier_name.into(),
            tier: t,
            rules: vec![template_rule(rule_id)],
        };
        decide(
            &policy,
            Some("gpt-4o"),
            0,
            |_, m, _| match m {
                Metric::Requests => requests,
                Metric::Tokens => tokens,
                Metric::Cost => 0,
            },
            NOW,
        )
        .verdict
    }

    #[test]
    fn render_substitutes_every_variable() {
        let s = render_message(
            "{{tier}}|{{limit}}|{{usage}}|{{limitType}}|{{period}}|{{identity}}|{{resetAt}}",
            &vars(),
        );
        assert_eq!(s, "free|5|4|requests|day|user-1|2026-11-28T00:00:00Z");
    }

    #[test]
    fn render_keeps_unknown_and_unterminated_placeholders() {
        assert_eq!(
            render_message("{{plan}} {{ tier }} {{usage", &vars()),
            "{{plan}} free {{usage"
        );
        assert_eq!(render_message("", &vars()), "");
        assert_eq!(render_message("{{}}{{{{tier}}", &vars()), "{{}}{{{{tier}}");
        assert_eq!(render_message("é{{tier}}ü}}", &vars()), "éfreeü}}");
    }

    #[test]
    fn deep_links_get_substituted_values_percent_encoded() {
        let v = MessageVars {
            identity: "a&plan=free/../x y".into(),
            tier: "free".into(),
            ..MessageVars::default()
        };
        assert_eq!(
            render_deep_link("myapp://up?u={{identity}}&t={{tier}}", &v),
            "myapp://up?u=a%26plan%3Dfree%2F..%2Fx%20y&t=free"
        );
        assert_eq!(render_message("{{identity}}", &v), "a&plan=free/../x y");
    }

    #[test]
    fn render_does_not_expand_substituted_values() {
        let mut v = vars();
        v.identity = "{{tier}}".into();
        v.limit = None;
        assert_eq!(
            render_message("{{identity}} of {{limit}}", &v),
            "{{tier}} of unlimited"
        );
    }

    #[test]
    fn six_templates_with_unique_ids_all_parse() {
        let all = templates();
        assert_eq!(all.len(), 6);
        let ids: Vec<&str> = all.iter().filter_map(|t| t["id"].as_str()).collect();
        assert_eq!(
            ids,
            [
                "free-tier-80-warning",
                "free-tier-100-block",
                "pro-tier-95-warning",
                "token-90-warning",
                "image-generation-daily-limit",
                "enterprise-unlimited"
            ]
        );
        for t in &all {
            assert!(t["name"].is_string() && t["description"].is_string());
            let d = parse_rule_create(&t["rule"]).expect("template parses");
            assert_eq!(t["rule"]["name"], d.name.as_str());
            assert!(d.enabled);
        }
    }

    #[test]
    fn free_tier_warning_fires_from_the_fourth_of_five_requests() {
        let free = || tier(json!({"requests": {"limit": 5, "period": "day"}}));
        assert_eq!(
            run("free-tier-80-warning", "free", free(), 2, 0),
            Verdict::Allow
        );
        assert_eq!(
            run("free-tier-80-warning", "free", free(), 3, 0),
            Verdict::Warn
        );
        assert_eq!(
            run("free-tier-80-warning", "free", free(), 4, 0),
            Verdict::Warn
        );
        assert_eq!(
            run("free-tier-80-warning", "pro", free(), 4, 0),
            Verdict::Allow
        );
    }

    #[test]
    fn free_tier_block_stops_the_request_past_the_limit_with_its_message() {
        let free = tier(json!({"requests": {"limit": 5, "period": "day"}}));
        let policy = Policy {
            tier_name: "free".into(),
            tier: free,
            rules: vec![template_rule("free-tier-100-block")],
        };
        let at = |used: u64| decide(&policy, None, 0, |_, _, _| used, NOW);
        assert_eq!(at(4).verdict, Verdict::Allow);
        let blocked = at(5);
        assert_eq!(blocked.verdict, Verdict::Block);
        let rule = blocked.rule.expect("blocked by the rule");
        assert_eq!(rule.id, "free-tier-100-block");
        assert_eq!(rule.deep_link.as_deref(), Some("myapp://upgrade?plan=pro"));
        let w = blocked.blocking.expect("blocking window");
        assert_eq!((w.limit, w.used), (Some(5), 5));
    }

    #[test]
    fn pro_tier_warning_fires_at_95_percent() {
        let pro = || tier(json!({"requests": {"limit": 100, "period": "month"}}));
        assert_eq!(
            run("pro-tier-95-warning", "pro", pro(), 93, 0),
            Verdict::Allow
        );
        assert_eq!(
            run("pro-tier-95-warning", "pro", pro(), 94, 0),
            Verdict::Warn
        );
        assert_eq!(
            run("pro-tier-95-warning", "free", pro(), 94, 0),
            Verdict::Allow
        );
    }

    #[test]
    fn token_warning_fires_at_90_percent_of_the_token_budget() {
        let t = || tier(json!({"tokens": {"limit": 1000, "period": "day"}}));
        assert_eq!(run("token-90-warning", "free", t(), 0, 899), Verdict::Allow);
        assert_eq!(run("token-90-warning", "free", t(), 0, 900), Verdict::Warn);
        // Never without a finite token limit.
        let unlimited = tier(json!({"tokens": {"limit": null, "period": "day"}}));
        assert_eq!(
            run("token-90-warning", "free", unlimited, 0, 1_000_000),
            Verdict::Allow
        );
    }

    #[test]
    fn image_limit_blocks_the_sixth_request_of_the_day() {
        let unlimited = || Tier::default();
        assert_eq!(
            run("image-generation-daily-limit", "free", unlimited(), 4, 0),
            Verdict::Allow
        );
        assert_eq!(
            run("image-generation-daily-limit", "free", unlimited(), 5, 0),
            Verdict::Block
        );
    }

    #[test]
    fn enterprise_unlimited_admits_past_an_exhausted_limit() {
        let t = || tier(json!({"requests": {"limit": 5, "period": "day"}}));
        assert_eq!(
            run("enterprise-unlimited", "enterprise", t(), 500, 0),
            Verdict::Allow
        );
        assert_eq!(
            run("enterprise-unlimited", "free", t(), 500, 0),
            Verdict::Block
        );
    }
}
