//! The upgrade funnel: which message a limited request was shown, how
//! tiers rank, and what a tracked-redirect link names.
//!
//! Stages, counted per tier and per message (a rule's or a tier's copy):
//! - **warned** / **blocked**: times a warning or a 429 message was shown
//!   (one per request; a request shows at most one message);
//! - **clicked**: shown messages whose tracked link was followed (a link is
//!   counted once however often it is opened);
//! - **upgraded**: identities seen, after a message, on a *higher* tier —
//!   attributed to the last message the identity was shown (last touch),
//!   once per message (the exposure is then forgotten).
//!
//! "Higher" is a rank: with `upgradeFunnel.tierOrder` set, a tier's rank is
//! its position in that list (first = lowest) and tiers not listed have no
//! rank; without it, the default tier ranks 0 and every other tier 1, so a
//! move off the default tier counts. A move counts when both tiers have a
//! rank and the new one's is greater.
//!
//! CTR = clicks / linked, where *linked* counts the times a message was
//! shown with a tracked link (tracking on and a deep link configured).
//! Everything here is counts and the owner's own copy: never an identity
//! in clear (the link names a keyed hash of it), never a prompt.

use crate::decision::{tightest, Decision, Verdict, WindowReport};
use crate::error::ApiError;
use crate::tier::Tier;
use crate::values::TierName;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The project setting `upgradeFunnel`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunnelSettings {
    /// Deep links in 429s and warnings become links to `GET /r/{token}`.
    #[serde(default)]
    pub tracked_redirect: bool,
    /// Tiers from lowest to highest; empty: the default rank (module doc).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tier_order: Vec<String>,
}

impl FunnelSettings {
    /// Parses the `upgradeFunnel` object of a project create or patch.
    pub fn parse(v: &Value) -> Result<FunnelSettings, ApiError> {
        let bad = |field: &str, msg: &str| ApiError::invalid_field(field, msg);
        let obj = v
            .as_object()
            .ok_or_else(|| bad("upgradeFunnel", "upgradeFunnel must be an object"))?;
        if let Some(k) = obj
            .keys()
            .find(|k| *k != "trackedRedirect" && *k != "tierOrder")
        {
            return Err(bad(
                &format!("upgradeFunnel.{k}"),
                "upgradeFunnel takes trackedRedirect and tierOrder only",
            ));
        }
        let tracked_redirect = match obj.get("trackedRedirect") {
            None => false,
            Some(b) => b.as_bool().ok_or_else(|| {
                bad(
                    "upgradeFunnel.trackedRedirect",
                    "trackedRedirect must be true or false",
                )
            })?,
        };
        let mut tier_order = Vec::new();
        if let Some(list) = obj.get("tierOrder") {
            let field = "upgradeFunnel.tierOrder";
            let arr = list
                .as_array()
                .ok_or_else(|| bad(field, "tierOrder must be an array of tier names"))?;
            for t in arr {
                let name = t
                    .as_str()
                    .ok_or_else(|| bad(field, "tierOrder must be an array of tier names"))?;
                let name = TierName::parse(field, name)?.into_string();
                if tier_order.contains(&name) {
                    return Err(bad(field, "tierOrder names a tier twice"));
                }
                tier_order.push(name);
            }
        }
        Ok(FunnelSettings {
            tracked_redirect,
            tier_order,
        })
    }

    /// Every tier of `tier_order` must be one of the project's tiers.
    pub fn check(&self, tiers: &BTreeMap<String, Tier>) -> Result<(), ApiError> {
        match self.tier_order.iter().find(|t| !tiers.contains_key(*t)) {
            Some(t) => Err(ApiError::invalid_field(
                "upgradeFunnel.tierOrder",
                format!("'{t}' is not one of the tiers"),
            )),
            None => Ok(()),
        }
    }

    /// The rank of each tier that has one (module doc).
    pub fn ranks(
        &self,
        default_tier: &str,
        tiers: &BTreeMap<String, Tier>,
    ) -> BTreeMap<String, u32> {
        if self.tier_order.is_empty() {
            return tiers
                .keys()
                .map(|t| (t.clone(), u32::from(t != default_tier)))
                .collect();
        }
        self.tier_order
            .iter()
            .zip(0u32..)
            .map(|(t, i)| (t.clone(), i))
            .collect()
    }
}

/// Whether `to` ranks above `from` (both must have a rank).
pub fn is_higher(ranks: &BTreeMap<String, u32>, from: &str, to: &str) -> bool {
    matches!((ranks.get(from), ranks.get(to)), (Some(a), Some(b)) if b > a)
}

/// Whose copy a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// A rule's message (`ruleId` names it).
    Rule,
    /// The tier's `limitMessage`.
    Tier,
    /// The built-in message (no copy of the owner's).
    Default,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Rule => "rule",
            Origin::Tier => "tier",
            Origin::Default => "default",
        }
    }
}

/// Warn or block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Warn,
    Block,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Warn => "warn",
            Kind::Block => "block",
        }
    }
}

/// The message a decision shows, before its variables are rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageSource<'a> {
    pub kind: Kind,
    pub origin: Origin,
    /// The rule whose copy (or whose block) it is; `None` for the tier's limit.
    pub rule_id: Option<String>,
    pub template: String,
    pub deep_link: Option<String>,
    /// The window its variables describe.
    pub window: Option<&'a WindowReport>,
}

/// Which message a decision shows (`None` for a plain allow): a block by a
/// rule uses the rule's message (or the tier's `limitMessage`, or the
/// default), a block by the tier's limit the tier's `limitMessage` or the
/// default, a warning the warn rule's message or the default.
pub fn message_source<'a>(
    decision: &'a Decision,
    tier: &Tier,
    default_limit: &str,
    default_warning: &str,
) -> Option<MessageSource<'a>> {
    let tier_message = tier.limit_message.as_ref();
    match decision.verdict {
        Verdict::Allow => None,
        Verdict::Block => {
            let window = decision
                .blocking
                .as_ref()
                .or_else(|| tightest(&decision.limits));
            let rule = decision.rule.as_ref();
            let (origin, template) = match (rule.and_then(|r| r.message.clone()), tier_message) {
                (Some(m), _) => (Origin::Rule, m),
                (None, Some(t)) => (Origin::Tier, t.message.clone()),
                (None, None) => (Origin::Default, default_limit.to_string()),
            };
            let deep_link = match rule {
                Some(r) if r.message.is_some() => r.deep_link.clone(),
                Some(r) => r
                    .deep_link
                    .clone()
                    .or_else(|| tier_message.and_then(|m| m.deep_link.clone())),
                None => tier_message.and_then(|m| m.deep_link.clone()),
            };
            Some(MessageSource {
                kind: Kind::Block,
                origin,
                rule_id: rule.map(|r| r.id.clone()),
                template,
                deep_link,
                window,
            })
        }
        Verdict::Warn => {
            let warning = decision.warning.as_ref();
            let template = warning.and_then(|w| w.message.clone());
            Some(MessageSource {
                kind: Kind::Warn,
                origin: if template.is_some() {
                    Origin::Rule
                } else {
                    Origin::Default
                },
                rule_id: warning.map(|w| w.id.clone()),
                template: template.unwrap_or_else(|| default_warning.to_string()),
                deep_link: warning.and_then(|w| w.deep_link.clone()),
                window: decision
                    .header_window()
                    .or_else(|| tightest(&decision.limits)),
            })
        }
    }
}

/// A short, stable fingerprint of a message's copy (FNV-1a 64, hex): the
/// same words are the same message, an edit is a new one.
pub fn message_hash(template: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in template.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// What a funnel count is about: a tier, a message and how it was shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunnelKey {
    pub tier: String,
    pub kind: Kind,
    pub origin: Origin,
    /// Empty when no rule is involved.
    #[serde(default)]
    pub rule_id: String,
    pub message_hash: String,
}

impl FunnelKey {
    /// The key of a shown message on `tier`.
    pub fn of(tier: &str, source: &MessageSource<'_>) -> FunnelKey {
        FunnelKey {
            tier: tier.to_string(),
            kind: source.kind,
            origin: source.origin,
            rule_id: source.rule_id.clone().unwrap_or_default(),
            message_hash: message_hash(&source.template),
        }
    }
}

/// What the funnel passes to the identity's counter with a reservation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunnelPolicy {
    /// Shown deep links become tracked links.
    #[serde(default)]
    pub tracked: bool,
    /// Each ranked tier's rank.
    #[serde(default)]
    pub ranks: BTreeMap<String, u32>,
}

/// The last message an identity was shown, kept by its counter until the
/// identity is seen on a higher tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Exposure {
    #[serde(flatten)]
    pub key: FunnelKey,
    pub message: String,
}

/// What one reservation does to an identity's funnel state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The exposure this request converts: the identity is now on a higher
    /// tier than the one its last message was shown on.
    pub upgrade: Option<Exposure>,
    /// The new state, when it changes (`Some(None)`: forgotten).
    pub next: Option<Option<Exposure>>,
}

/// Moves an identity's funnel state over one request on `tier` that
/// showed `shown` (if any). A conversion is counted once: the exposure is
/// forgotten (or replaced by the message this request shows).
pub fn step(
    current: Option<&Exposure>,
    tier: &str,
    shown: Option<Exposure>,
    ranks: &BTreeMap<String, u32>,
) -> Step {
    let upgrade = current
        .filter(|e| is_higher(ranks, &e.key.tier, tier))
        .cloned();
    let next = match shown {
        Some(s) => Some(Some(s)),
        None if upgrade.is_some() => Some(None),
        None => None,
    };
    Step { upgrade, next }
}

/// What a tracked link names (signed by the Worker): the project, the
/// message shown (tier, kind, origin, rule, copy), the request that showed
/// it, a keyed hash of the identity, the target and the expiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkClaims {
    /// Project id.
    pub p: String,
    #[serde(flatten)]
    pub key: FunnelKey,
    /// The request that showed the message (the click's idempotency key).
    pub q: String,
    /// Keyed hash of the identity (never the identity itself).
    pub i: String,
    /// The deep link as rendered for this message.
    pub u: String,
    /// Expiry, Unix seconds.
    pub exp: u64,
}

/// How long a tracked link works.
pub const LINK_TTL_SECS: u64 = 7 * 24 * 3600;

/// One message's counts over a range of days (as stored, summed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageCounts {
    #[serde(flatten)]
    pub key: FunnelKey,
    pub message: String,
    pub shown: i64,
    pub linked: i64,
    pub clicks: i64,
    pub upgrades: i64,
}

/// A funnel: warned → blocked → clicked → upgraded, with the CTR.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stages {
    pub warned: i64,
    pub blocked: i64,
    /// Shown with a tracked link (the CTR's denominator).
    pub linked: i64,
    pub clicked: i64,
    pub upgraded: i64,
}

impl Stages {
    fn add(&mut self, m: &MessageCounts) {
        match m.key.kind {
            Kind::Warn => self.warned += m.shown,
            Kind::Block => self.blocked += m.shown,
        }
        self.linked += m.linked;
        self.clicked += m.clicks;
        self.upgraded += m.upgrades;
    }
}

/// Clicks per tracked showing (`None` when no tracked link was shown).
pub fn click_through_rate(clicks: i64, linked: i64) -> Option<f64> {
    (linked > 0).then(|| clicks as f64 / linked as f64)
}

/// The funnel per tier and per rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub tiers: Vec<(String, Stages)>,
    pub rules: Vec<(String, Stages)>,
}

/// The funnel per tier (every tier of `tiers`, ranked ones in rank order,
/// then the rest by name) and per rule (rules that showed a message or
/// blocked), from the per-message counts.
pub fn summarize(
    messages: &[MessageCounts],
    tiers: &[String],
    ranks: &BTreeMap<String, u32>,
) -> Summary {
    let mut by_tier: BTreeMap<String, Stages> = tiers
        .iter()
        .map(|t| (t.clone(), Stages::default()))
        .collect();
    let mut by_rule: BTreeMap<String, Stages> = BTreeMap::new();
    for m in messages {
        by_tier.entry(m.key.tier.clone()).or_default().add(m);
        if !m.key.rule_id.is_empty() {
            by_rule.entry(m.key.rule_id.clone()).or_default().add(m);
        }
    }
    let mut tiers: Vec<(String, Stages)> = by_tier.into_iter().collect();
    tiers.sort_by_key(|(t, _)| (ranks.get(t).copied().unwrap_or(u32::MAX), t.clone()));
    Summary {
        tiers,
        rules: by_rule.into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    fn tiers(names: &[&str]) -> BTreeMap<String, Tier> {
        names
            .iter()
            .map(|n| (n.to_string(), Tier::default()))
            .collect()
    }

    #[test]
    fn without_an_order_only_leaving_the_default_tier_is_higher() {
        let s = FunnelSettings::default();
        let r = s.ranks("free", &tiers(&["free", "pro", "team"]));
        assert!(is_higher(&r, "free", "pro"));
        assert!(is_higher(&r, "free", "team"));
        assert!(!is_higher(&r, "pro", "team"));
        assert!(!is_higher(&r, "pro", "free"));
        assert!(!is_higher(&r, "free", "free"));
    }

    #[test]
    fn an_order_ranks_by_position_and_unlisted_tiers_never_count() {
        let s = FunnelSettings::parse(&json!({"tierOrder": ["free", "pro", "team"]})).unwrap();
        let r = s.ranks("free", &tiers(&["free", "pro", "team", "staff"]));
        assert!(is_higher(&r, "pro", "team"));
        assert!(!is_higher(&r, "team", "pro"));
        assert!(!is_higher(&r, "free", "staff"));
        assert!(!is_higher(&r, "staff", "team"));
    }

    #[test]
    fn settings_are_validated_with_their_field() {
        for (v, field) in [
            (json!(true), "upgradeFunnel"),
            (
                json!({"trackedRedirect": "yes"}),
                "upgradeFunnel.trackedRedirect",
            ),
            (json!({"tierOrder": "free"}), "upgradeFunnel.tierOrder"),
            (
                json!({"tierOrder": ["free", "free"]}),
                "upgradeFunnel.tierOrder",
            ),
            (json!({"other": 1}), "upgradeFunnel.other"),
        ] {
            let e = FunnelSettings::parse(&v).unwrap_err();
            assert_eq!(e.to_json()["field"], field, "{v}");
        }
        let s = FunnelSettings::parse(&json!({"tierOrder": ["free", "gold"]})).unwrap();
        assert!(s.check(&tiers(&["free", "pro"])).is_err());
        assert!(s.check(&tiers(&["free", "gold"])).is_ok());
    }

    fn exposure(tier: &str, rule: &str) -> Exposure {
        Exposure {
            key: FunnelKey {
                tier: tier.into(),
                kind: Kind::Warn,
                origin: Origin::Rule,
                rule_id: rule.into(),
                message_hash: message_hash(rule),
            },
            message: rule.into(),
        }
    }

    #[test]
    fn an_identity_converts_once_to_its_last_message() {
        let r = FunnelSettings::default().ranks("free", &tiers(&["free", "pro"]));
        // Nothing shown yet: nothing to convert.
        let s = step(None, "pro", None, &r);
        assert_eq!((s.upgrade, s.next), (None, None));
        // Shown twice on free: the last one is remembered.
        let s = step(
            Some(&exposure("free", "a")),
            "free",
            Some(exposure("free", "b")),
            &r,
        );
        assert_eq!(s.upgrade, None);
        assert_eq!(s.next, Some(Some(exposure("free", "b"))));
        // Seen on pro: converts b, and forgets it.
        let s = step(Some(&exposure("free", "b")), "pro", None, &r);
        assert_eq!(s.upgrade, Some(exposure("free", "b")));
        assert_eq!(s.next, Some(None));
        // Same tier again: no conversion, state unchanged.
        let s = step(Some(&exposure("free", "b")), "free", None, &r);
        assert_eq!((s.upgrade, s.next), (None, None));
        // Converting while shown a message on the higher tier keeps the new one.
        let s = step(
            Some(&exposure("free", "b")),
            "pro",
            Some(exposure("pro", "c")),
            &r,
        );
        assert_eq!(s.upgrade, Some(exposure("free", "b")));
        assert_eq!(s.next, Some(Some(exposure("pro", "c"))));
    }

    #[test]
    fn summaries_add_up_per_tier_and_per_rule() {
        let m = |tier: &str, kind: Kind, rule: &str, counts: [i64; 4]| MessageCounts {
            key: FunnelKey {
                tier: tier.into(),
                kind,
                origin: if rule.is_empty() {
                    Origin::Tier
                } else {
                    Origin::Rule
                },
                rule_id: rule.into(),
                message_hash: message_hash(rule),
            },
            message: rule.into(),
            shown: counts[0],
            linked: counts[1],
            clicks: counts[2],
            upgrades: counts[3],
        };
        let rows = vec![
            m("free", Kind::Warn, "r1", [5, 5, 2, 1]),
            m("free", Kind::Block, "", [3, 3, 1, 1]),
            m("pro", Kind::Block, "r2", [2, 0, 0, 0]),
        ];
        let all = ["free".to_string(), "pro".to_string(), "team".to_string()];
        let ranks =
            FunnelSettings::parse(&serde_json::json!({"tierOrder": ["team", "pro", "free"]}))
                .unwrap()
                .ranks("free", &tiers(&["free", "pro", "team"]));
        let Summary { tiers: t, rules: r } = summarize(&rows, &all, &ranks);
        assert_eq!(
            t.iter().map(|x| x.0.as_str()).collect::<Vec<_>>(),
            ["team", "pro", "free"]
        );
        let free = &t[2].1;
        assert_eq!(
            (
                free.warned,
                free.blocked,
                free.linked,
                free.clicked,
                free.upgraded
            ),
            (5, 3, 8, 3, 2)
        );
        assert_eq!(t[0].1, Stages::default());
        assert_eq!(r.len(), 2);
        assert_eq!((r[0].1.warned, r[0].1.clicked), (5, 2));
        assert_eq!((r[1].1.blocked, r[1].1.linked), (2, 0));
        assert_eq!(click_through_rate(2, 5), Some(0.4));
        assert_eq!(click_through_rate(0, 0), None);
    }

    #[test]
    fn message_hash_is_stable_and_tells_copies_apart() {
        assert_eq!(message_hash("Upgrade now"), message_hash("Upgrade now"));
        assert_ne!(message_hash("Upgrade now"), message_hash("Upgrade now!"));
        assert_eq!(message_hash("").len(), 16);
    }

    #[test]
    fn link_claims_round_trip_with_the_key_flattened() {
        let c = LinkClaims {
            p: "prj_1".into(),
            key: FunnelKey {
                tier: "free".into(),
                kind: Kind::Block,
                origin: Origin::Tier,
                rule_id: String::new(),
                message_hash: message_hash("x"),
            },
            q: "req_1".into(),
            i: "abc".into(),
            u: "myapp://upgrade".into(),
            exp: 1,
        };
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["kind"], "block");
        assert_eq!(v["origin"], "tier");
        assert_eq!(serde_json::from_value::<LinkClaims>(v).unwrap(), c);
    }
}
