//! The answer's output budget: what the provider is asked for and what the
//! token reservation is sized from — one value, computed once.
//!
//! Algorithm: the app may send `max_tokens` and/or `max_completion_tokens`
//! (positive integers) and `n` (how many choices, 1–128). When both token
//! fields are sent they must agree (else `400 invalid_request` naming
//! `max_completion_tokens`), so there is one requested figure. The provider
//! then fixes the real ceiling: Anthropic needs one and gets the requested
//! figure or its default [`ANTHROPIC_DEFAULT_MAX_TOKENS`]; the others get the
//! requested figure or none. Providers that return one choice (Anthropic,
//! Gemini: `n` is not forwarded) count 1 choice, OpenAI-compatible ones `n`.
//!
//! Invariant: the figure written into the provider request is
//! [`OutputBudget::max_output`], and the reservation is
//! `prompt estimate + (max_output or the tier's default) × choices`, so no
//! request can ask the provider for more than it reserved.

use crate::error::ApiError;
use crate::providers::ProviderKind;
use crate::values::MAX_SAFE_INTEGER;
use serde_json::{Map, Value};

/// Anthropic's `max_tokens` when the app sets none (Anthropic requires one).
pub const ANTHROPIC_DEFAULT_MAX_TOKENS: u64 = 4096;
/// The most choices a request may ask for (OpenAI's own bound).
pub const MAX_CHOICES: u64 = 128;

/// What the app asked for, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestedOutput {
    /// `max_tokens` / `max_completion_tokens` (equal when both are sent).
    pub max_tokens: Option<u64>,
    /// `n`, 1 when absent.
    pub choices: u64,
}

impl Default for RequestedOutput {
    fn default() -> Self {
        Self {
            max_tokens: None,
            choices: 1,
        }
    }
}

fn positive_int(obj: &Map<String, Value>, field: &str, max: u64) -> Result<Option<u64>, ApiError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_u64() {
            Some(n) if n > 0 && n <= max => Ok(Some(n)),
            _ => Err(ApiError::invalid_field(
                field,
                format!("{field} must be a positive integer up to {max}"),
            )),
        },
    }
}

impl RequestedOutput {
    /// Reads and validates the output fields of an OpenAI-format body.
    pub fn from_body(obj: &Map<String, Value>) -> Result<Self, ApiError> {
        let max_tokens = positive_int(obj, "max_tokens", MAX_SAFE_INTEGER)?;
        let max_completion = positive_int(obj, "max_completion_tokens", MAX_SAFE_INTEGER)?;
        let max_tokens = match (max_tokens, max_completion) {
            (Some(a), Some(b)) if a != b => {
                return Err(ApiError::invalid_field(
                    "max_completion_tokens",
                    "max_tokens and max_completion_tokens disagree; send one of them",
                ))
            }
            (a, b) => a.or(b),
        };
        let choices = positive_int(obj, "n", MAX_CHOICES)?.unwrap_or(1);
        Ok(Self {
            max_tokens,
            choices,
        })
    }
}

/// The budget one provider request carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputBudget {
    /// The output ceiling sent to the provider (`None`: the provider's own).
    pub max_output: Option<u64>,
    /// Choices the provider will generate.
    pub choices: u64,
}

impl OutputBudget {
    /// The provider's budget for what the app asked (each provider's rule is
    /// its `Provider::output_budget`).
    pub fn for_provider(kind: ProviderKind, requested: RequestedOutput) -> Self {
        crate::providers::provider(kind).output_budget(requested)
    }

    /// Output tokens to reserve: the ceiling (or `default_output` when the
    /// provider picks its own) for every choice.
    pub fn reserved_output(&self, default_output: u64) -> u64 {
        self.max_output
            .unwrap_or(default_output)
            .saturating_mul(self.choices)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn requested(v: Value) -> Result<RequestedOutput, ApiError> {
        match v {
            Value::Object(o) => RequestedOutput::from_body(&o),
            _ => Err(ApiError::invalid_body("not an object")),
        }
    }

    fn field(r: Result<RequestedOutput, ApiError>) -> String {
        r.err()
            .and_then(|e| e.field().map(String::from))
            .unwrap_or_default()
    }

    #[test]
    fn conflicting_token_fields_are_a_400_naming_max_completion_tokens() {
        let r = requested(json!({"max_tokens": 1, "max_completion_tokens": 5000}));
        assert_eq!(field(r), "max_completion_tokens");
        let same = requested(json!({"max_tokens": 7, "max_completion_tokens": 7}));
        assert_eq!(same.ok().and_then(|r| r.max_tokens), Some(7));
    }

    #[test]
    fn either_token_field_sizes_the_budget() {
        for body in [
            json!({"max_tokens": 300}),
            json!({"max_completion_tokens": 300}),
        ] {
            let r = requested(body).unwrap_or_default();
            assert_eq!(r.max_tokens, Some(300));
        }
    }

    #[test]
    fn n_multiplies_the_reservation_where_the_provider_generates_n_choices() {
        let r = requested(json!({"max_completion_tokens": 5000, "n": 3})).unwrap_or_default();
        let openai = OutputBudget::for_provider(ProviderKind::Openai, r);
        assert_eq!(openai.reserved_output(1024), 15_000);
        // Anthropic and Gemini are not sent `n`: one choice.
        let anthropic = OutputBudget::for_provider(ProviderKind::Anthropic, r);
        assert_eq!(anthropic.reserved_output(1024), 5_000);
        assert_eq!(field(requested(json!({"n": 0}))), "n");
        assert_eq!(field(requested(json!({"n": 129}))), "n");
        assert_eq!(field(requested(json!({"n": 1.5}))), "n");
    }

    #[test]
    fn anthropic_default_is_both_sent_and_reserved() {
        let b = OutputBudget::for_provider(ProviderKind::Anthropic, RequestedOutput::default());
        assert_eq!(b.max_output, Some(ANTHROPIC_DEFAULT_MAX_TOKENS));
        assert_eq!(b.reserved_output(1024), ANTHROPIC_DEFAULT_MAX_TOKENS);
        // Where the provider picks its own ceiling, the tier's default is reserved.
        let o = OutputBudget::for_provider(ProviderKind::Openai, RequestedOutput::default());
        assert_eq!(o.max_output, None);
        assert_eq!(o.reserved_output(1024), 1024);
    }
}
