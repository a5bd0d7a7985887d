//! What an admitted request finally counts.
//!
//! A request that completed counts exactly the provider's usage. One that
//! did not — the provider cut the stream or sent an error or a malformed
//! event mid-answer, the client left and the provider's stream did not end
//! within the time the Worker keeps reading it, the usage never arrived — counts at
//! least its reservation: the largest of the provider's partial usage, what
//! was observed (prompt estimate + ⌈answer characters / 4⌉) and the estimate
//! reserved at admission. Usage is never lost by failing (guarantee G3).

use crate::providers::Usage;

/// What the Worker saw of an answer by the time it settles.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AnswerOutcome {
    /// The provider's usage, complete or partial.
    pub usage: Option<Usage>,
    /// Characters of answer text and tool arguments seen.
    pub output_chars: u64,
    /// The provider finished the answer normally.
    pub completed: bool,
}

pub fn counted_usage(outcome: &AnswerOutcome, prompt_tokens: u64, estimate: u64) -> Usage {
    // A flagged usage (a count out of range) is not trusted as exact.
    if let (Some(usage), true) = (outcome.usage, outcome.completed) {
        if !usage.flagged {
            return usage;
        }
    }
    let flagged = outcome.usage.is_some_and(|u| u.flagged);
    let observed = prompt_tokens.saturating_add(outcome.output_chars.div_ceil(4));
    let floor = observed.max(estimate);
    match outcome.usage {
        Some(partial) if partial.total() >= floor => partial,
        _ => Usage::new(prompt_tokens, floor.saturating_sub(prompt_tokens)).flag_if(flagged),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(i: u64, o: u64) -> Option<Usage> {
        Some(Usage::new(i, o))
    }

    #[test]
    fn a_completed_answer_counts_exactly_the_provider_usage() {
        let o = AnswerOutcome {
            usage: usage(10, 5),
            output_chars: 400,
            completed: true,
        };
        assert_eq!(counted_usage(&o, 3, 1000).total(), 15);
    }

    #[test]
    fn a_broken_stream_counts_at_least_the_reservation_even_with_partial_usage() {
        let o = AnswerOutcome {
            usage: usage(11, 1),
            output_chars: 10,
            completed: false,
        };
        let u = counted_usage(&o, 3, 503);
        assert_eq!(u.total(), 503);
        assert_eq!(u.input_tokens, 3);
    }

    #[test]
    fn observed_output_beyond_the_reservation_is_counted() {
        let o = AnswerOutcome {
            usage: None,
            output_chars: 4_000,
            completed: false,
        };
        assert_eq!(counted_usage(&o, 10, 100).total(), 1_010);
    }

    #[test]
    fn partial_usage_above_the_floor_is_kept() {
        let o = AnswerOutcome {
            usage: usage(900, 300),
            output_chars: 0,
            completed: false,
        };
        assert_eq!(counted_usage(&o, 5, 100).total(), 1_200);
    }

    #[test]
    fn a_flagged_usage_counts_at_least_the_reservation_and_stays_flagged() {
        let o = AnswerOutcome {
            usage: Some(Usage::new(0, 7).flag_if(true)),
            output_chars: 8,
            completed: true,
        };
        let u = counted_usage(&o, 2, 50);
        assert_eq!(u.total(), 50);
        assert!(u.flagged);
    }

    #[test]
    fn a_clamped_usage_above_the_reservation_is_kept_and_flagged() {
        let big = crate::providers::MAX_REPORTED_TOKENS;
        let o = AnswerOutcome {
            usage: Some(Usage::new(big, 5).flag_if(true)),
            output_chars: 8,
            completed: true,
        };
        let u = counted_usage(&o, 2, 50);
        assert_eq!(u.total(), big + 5);
        assert!(u.flagged);
    }

    #[test]
    fn an_exact_usage_is_not_flagged() {
        let o = AnswerOutcome {
            usage: Some(Usage::new(3, 4)),
            output_chars: 8,
            completed: true,
        };
        assert!(!counted_usage(&o, 2, 50).flagged);
    }

    #[test]
    fn a_completed_answer_without_usage_counts_the_reservation() {
        let o = AnswerOutcome {
            usage: None,
            output_chars: 8,
            completed: true,
        };
        assert_eq!(counted_usage(&o, 2, 50).total(), 50);
    }
}
