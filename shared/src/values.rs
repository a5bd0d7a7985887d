//! The values that appear in several places of the API, each with one rule.
//!
//! A tier name is the same thing in a project's `tiers`, its `defaultTier`,
//! a proxy request's `tier`, a signed identity's `tier` claim, a rule's
//! `tier` condition and the simulator; a deep link is the same thing in a
//! tier's `limitMessage` and in a rule's action. Each such value is a small
//! type here whose only constructor is `parse`, so every parser (projects,
//! rules, proxy) applies the same rule and a value of the type is valid by
//! construction. Errors are `400 invalid_request` naming the field given.
//! The rules are listed in docs/API.md ("Values").

use crate::error::ApiError;

/// 2^53 − 1: the largest integer a JSON number carries exactly; every count
/// and limit the API accepts is at most this.
pub const MAX_SAFE_INTEGER: u64 = 9_007_199_254_740_991;

pub const MAX_IDENTITY_CHARS: usize = 256;
pub const MAX_TIER_CHARS: usize = 64;
pub const MAX_MODEL_CHARS: usize = 256;
pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_MESSAGE_CHARS: usize = 500;
pub const MAX_DEEP_LINK_CHARS: usize = 2000;

/// Schemes that run code where a link is opened; refused in deep links.
const UNSAFE_SCHEMES: [&str; 4] = ["javascript", "vbscript", "data", "file"];

fn chars_between(s: &str, min: usize, max: usize) -> bool {
    let n = s.chars().count();
    (min..=max).contains(&n)
}

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

macro_rules! string_value {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_value!(
    /// An end user, session or device: 1–256 characters, no control
    /// characters; opaque otherwise (kept exactly as sent).
    Identity
);

impl Identity {
    pub fn parse(field: &str, s: &str) -> Result<Self, ApiError> {
        if !chars_between(s, 1, MAX_IDENTITY_CHARS) || has_control(s) {
            return Err(ApiError::invalid_field(
                field,
                format!("{field} must be 1 to {MAX_IDENTITY_CHARS} characters without control characters"),
            ));
        }
        Ok(Self(s.to_string()))
    }
}

string_value!(
    /// A tier name: 1–64 ASCII letters, digits, `-`, `_` or `.`.
    TierName
);

impl TierName {
    pub fn parse(field: &str, s: &str) -> Result<Self, ApiError> {
        let ok = chars_between(s, 1, MAX_TIER_CHARS)
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !ok {
            return Err(ApiError::invalid_field(
                field,
                format!("{field} must be 1 to {MAX_TIER_CHARS} letters, digits, '-', '_' or '.'"),
            ));
        }
        Ok(Self(s.to_string()))
    }
}

string_value!(
    /// A model id as the provider names it: 1–256 characters, no control
    /// characters.
    ModelId
);

impl ModelId {
    pub fn parse(field: &str, s: &str) -> Result<Self, ApiError> {
        if !chars_between(s, 1, MAX_MODEL_CHARS) || has_control(s) {
            return Err(ApiError::invalid_field(
                field,
                format!(
                    "{field} must be 1 to {MAX_MODEL_CHARS} characters without control characters"
                ),
            ));
        }
        Ok(Self(s.to_string()))
    }
}

string_value!(
    /// A display name (project, rule): trimmed, 1–100 characters, no
    /// control characters.
    DisplayName
);

impl DisplayName {
    pub fn parse(field: &str, s: &str) -> Result<Self, ApiError> {
        let s = s.trim();
        if !chars_between(s, 1, MAX_NAME_CHARS) || has_control(s) {
            return Err(ApiError::invalid_field(
                field,
                format!(
                    "{field} must be 1 to {MAX_NAME_CHARS} characters without control characters"
                ),
            ));
        }
        Ok(Self(s.to_string()))
    }
}

string_value!(
    /// A message shown to end users (a tier's limit message, a rule's
    /// message): trimmed, 1–500 characters; line feeds and tabs are the
    /// only control characters allowed. May hold message variables.
    Message
);

impl Message {
    pub fn parse(field: &str, s: &str) -> Result<Self, ApiError> {
        let s = s.trim();
        if !chars_between(s, 1, MAX_MESSAGE_CHARS) {
            return Err(ApiError::invalid_field(
                field,
                format!("{field} must be 1 to {MAX_MESSAGE_CHARS} characters"),
            ));
        }
        if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            return Err(ApiError::invalid_field(
                field,
                format!(
                    "{field} must not contain control characters other than line feeds and tabs"
                ),
            ));
        }
        Ok(Self(s.to_string()))
    }
}

string_value!(
    /// A link into the owner's app (`myapp://upgrade`, `https://…`): at most
    /// 2000 characters, no whitespace or control characters, and not a
    /// scheme that runs code where it is opened (`javascript:`, `vbscript:`,
    /// `data:`, `file:`). May hold message variables, which are
    /// percent-encoded when substituted.
    DeepLink
);

impl DeepLink {
    pub fn parse(field: &str, s: &str) -> Result<Self, ApiError> {
        let s = s.trim();
        if !chars_between(s, 1, MAX_DEEP_LINK_CHARS) {
            return Err(ApiError::invalid_field(
                field,
                format!("{field} must be 1 to {MAX_DEEP_LINK_CHARS} characters"),
            ));
        }
        if s.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(ApiError::invalid_field(
                field,
                format!("{field} must not contain whitespace or control characters"),
            ));
        }
        if let Some(scheme) = scheme_of(s) {
            if UNSAFE_SCHEMES.contains(&scheme.as_str()) {
                return Err(ApiError::invalid_field(
                    field,
                    format!("{field} must not use the {scheme}: scheme"),
                ));
            }
        }
        Ok(Self(s.to_string()))
    }
}

/// The URL scheme, lower-cased, when the link starts with one
/// (`ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"`). Browsers ignore
/// ASCII tab and newline inside a scheme, but those are refused above.
fn scheme_of(link: &str) -> Option<String> {
    let (scheme, _) = link.split_once(':')?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    let ok = first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    ok.then(|| scheme.to_ascii_lowercase())
}

/// A non-negative integer that JSON carries exactly (≤ 2^53 − 1).
pub fn safe_integer(field: &str, v: u64) -> Result<u64, ApiError> {
    if v > MAX_SAFE_INTEGER {
        return Err(ApiError::invalid_field(
            field,
            format!("{field} must be at most 2^53 - 1"),
        ));
    }
    Ok(v)
}

/// Percent-encodes a value for a URL component: every byte but
/// `A–Z a–z 0–9 - _ . ~` becomes `%XX` (UTF-8). Used for message
/// variables substituted into deep links, so an identity such as
/// `a&plan=free` cannot add query parameters to the owner's link.
pub fn percent_encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
    out
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn field_of<T: std::fmt::Debug>(r: Result<T, ApiError>) -> String {
        match r {
            Ok(v) => format!("accepted {v:?}"),
            Err(e) => e.field().unwrap_or("<none>").to_string(),
        }
    }

    #[test]
    fn identities_are_opaque_but_bounded() {
        assert_eq!(
            Identity::parse("identity", "user 42 ✓").unwrap().as_str(),
            "user 42 ✓"
        );
        assert_eq!(field_of(Identity::parse("identity", "")), "identity");
        assert_eq!(field_of(Identity::parse("identity", "a\u{0}b")), "identity");
        assert_eq!(field_of(Identity::parse("x", &"é".repeat(257))), "x");
        assert!(Identity::parse("identity", &"é".repeat(256)).is_ok());
    }

    #[test]
    fn tier_names_have_one_alphabet() {
        for ok in ["free", "pro-2", "team_a", "v1.5", &"a".repeat(64)] {
            assert!(TierName::parse("tier", ok).is_ok(), "{ok}");
        }
        for bad in ["", "free tier", "pro\u{0}", "über", &"a".repeat(65), "a/b"] {
            assert_eq!(field_of(TierName::parse("tier", bad)), "tier", "{bad:?}");
        }
    }

    #[test]
    fn model_ids_count_characters_not_bytes() {
        assert!(ModelId::parse("model", &"é".repeat(256)).is_ok());
        assert_eq!(field_of(ModelId::parse("model", &"é".repeat(257))), "model");
        assert_eq!(field_of(ModelId::parse("model", "gpt\n4")), "model");
    }

    #[test]
    fn messages_allow_newlines_and_tabs_only() {
        assert!(Message::parse("m", "line one\nline\ttwo").is_ok());
        assert_eq!(field_of(Message::parse("m", "bell\u{7}")), "m");
        assert_eq!(field_of(Message::parse("m", "nul\u{0}")), "m");
        assert_eq!(field_of(Message::parse("m", "   ")), "m");
        assert_eq!(field_of(Message::parse("m", &"x".repeat(501))), "m");
    }

    #[test]
    fn deep_links_refuse_schemes_that_run_code() {
        for ok in [
            "myapp://upgrade?plan=pro",
            "https://example.com/up?u={{identity}}",
            "/pricing",
        ] {
            assert!(DeepLink::parse("d", ok).is_ok(), "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "vbscript:msgbox",
            "data:text/html,<script>",
            "file:///etc/passwd",
            "myapp://up grade",
            "myapp://up\ngrade",
        ] {
            assert_eq!(field_of(DeepLink::parse("d", bad)), "d", "{bad:?}");
        }
        assert_eq!(field_of(DeepLink::parse("d", &"a".repeat(2001))), "d");
    }

    #[test]
    fn integers_stop_at_two_to_the_fifty_third() {
        assert_eq!(
            safe_integer("n", MAX_SAFE_INTEGER).unwrap(),
            MAX_SAFE_INTEGER
        );
        assert_eq!(field_of(safe_integer("n", MAX_SAFE_INTEGER + 1)), "n");
    }

    #[test]
    fn percent_encoding_leaves_only_unreserved_bytes() {
        assert_eq!(
            percent_encode_component("a&plan=free #ü"),
            "a%26plan%3Dfree%20%23%C3%BC"
        );
        assert_eq!(percent_encode_component("Az09-_.~"), "Az09-_.~");
    }
}
