//! The two kinds of JWT the Worker verifies, both HS256 with the algorithm
//! pinned (a token claiming `none` or any other algorithm is rejected):
//! owner sessions (signed with `JWT_SECRET`, 7 days, issuer and audience
//! checked) and signed identities (signed with the project's `sk_` secret by
//! the app's backend; `exp` required and at most 24 h ahead; 60 s leeway).
//!
//! Only HS256 is ever needed, so it is implemented here on HMAC-SHA-256
//! (compact form `base64url(header).base64url(claims).base64url(mac)`, no
//! padding) rather than with a general JWT library and the asymmetric
//! algorithms it links in. Verification order: three segments → header
//! names `HS256` → the MAC, compared in constant time → the claims decoded
//! into their type (a missing or mistyped required claim fails) → `exp`
//! (and `nbf` when present) against the clock with the leeway. Any failure
//! is `None`; nothing here panics.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

pub const SESSION_ISSUER: &str = "ai-ratelimit";
pub const SESSION_AUDIENCE: &str = "ai-ratelimit-dashboard";
pub const SESSION_TTL_SECS: u64 = 7 * 24 * 3600;
pub const IDENTITY_MAX_TTL_SECS: u64 = 24 * 3600;
pub const LEEWAY_SECS: u64 = 60;
/// The shortest `JWT_SECRET` accepted (an HS256 key of fewer bytes can be
/// brute-forced from one issued session).
pub const MIN_SECRET_BYTES: usize = 32;

/// Whether `secret` is long enough to sign owner sessions.
pub fn session_secret_ok(secret: &str) -> bool {
    secret.len() >= MIN_SECRET_BYTES
}

/// `{"alg":"HS256","typ":"JWT"}`, base64url.
const HS256_HEADER: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

#[derive(Debug, Serialize, Deserialize)]
pub struct SessionClaims {
    pub sub: String,
    pub email: String,
    pub iss: String,
    pub aud: String,
    pub iat: u64,
    pub exp: u64,
    /// The account's session epoch when the session was issued; a session
    /// whose epoch is not the account's current one was signed out.
    /// Sessions issued before epochs existed read as 0.
    #[serde(default)]
    pub epoch: i64,
}

pub fn now_secs() -> u64 {
    worker::Date::now().as_millis() / 1000
}

fn mac(secret: &str, signing_input: &str) -> Option<Hmac<Sha256>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(signing_input.as_bytes());
    Some(mac)
}

fn sign<T: Serialize>(secret: &str, claims: &T) -> Option<String> {
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).ok()?);
    let input = format!("{HS256_HEADER}.{payload}");
    let tag = mac(secret, &input)?.finalize().into_bytes();
    Some(format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag)))
}

#[derive(Deserialize)]
struct Header {
    alg: String,
}

/// The time claims every token is checked on.
#[derive(Deserialize)]
struct Times {
    exp: u64,
    #[serde(default)]
    nbf: Option<u64>,
}

/// Verifies an HS256 token and decodes its claims; `None` on any failure.
fn verify<T: DeserializeOwned>(secret: &str, token: &str, now: u64, leeway: u64) -> Option<T> {
    let (signing_input, signature) = token.rsplit_once('.')?;
    let (header, payload) = signing_input.split_once('.')?;
    if payload.contains('.') {
        return None;
    }
    let header: Header = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
    if header.alg != "HS256" {
        return None;
    }
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    mac(secret, signing_input)?.verify_slice(&signature).ok()?;
    let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let times: Times = serde_json::from_slice(&payload).ok()?;
    if times.exp.saturating_add(leeway) < now {
        return None;
    }
    if times
        .nbf
        .is_some_and(|nbf| nbf > now.saturating_add(leeway))
    {
        return None;
    }
    serde_json::from_slice(&payload).ok()
}

pub fn issue_session(secret: &str, account_id: &str, email: &str, epoch: i64) -> Option<String> {
    if !session_secret_ok(secret) {
        return None;
    }
    let now = now_secs();
    sign(
        secret,
        &SessionClaims {
            sub: account_id.to_string(),
            email: email.to_string(),
            iss: SESSION_ISSUER.into(),
            aud: SESSION_AUDIENCE.into(),
            iat: now,
            exp: now + SESSION_TTL_SECS,
            epoch,
        },
    )
}

pub fn verify_session(secret: &str, token: &str) -> Option<SessionClaims> {
    session_at(secret, token, now_secs())
}

fn session_at(secret: &str, token: &str, now: u64) -> Option<SessionClaims> {
    if !session_secret_ok(secret) {
        return None;
    }
    let claims: SessionClaims = verify(secret, token, now, 0)?;
    (claims.iss == SESSION_ISSUER && claims.aud == SESSION_AUDIENCE).then_some(claims)
}

#[derive(Debug, Deserialize)]
pub struct IdentityClaims {
    pub sub: String,
    #[serde(default)]
    pub tier: Option<String>,
    pub exp: u64,
}

/// Verifies a signed identity against the project's `sk_` secret.
pub fn verify_identity(secret: &str, token: &str) -> Option<IdentityClaims> {
    identity_at(secret, token, now_secs())
}

fn identity_at(secret: &str, token: &str, now: u64) -> Option<IdentityClaims> {
    let claims: IdentityClaims = verify(secret, token, now, LEEWAY_SECS)?;
    if claims.exp > now + IDENTITY_MAX_TTL_SECS + LEEWAY_SECS {
        return None;
    }
    Some(claims)
}

/// The key that signs tracked links, derived from `JWT_SECRET` so that a
/// link can never pass for a session (nor a session for a link).
fn link_key(secret: &str) -> Option<String> {
    let mut m = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).ok()?;
    m.update(b"ai-ratelimit:tracked-link:v1");
    Some(crate::crypto::hex(&m.finalize().into_bytes()))
}

/// A keyed hash of an identity within a project (32 hex characters): the
/// identity reference a tracked link carries. It cannot be reversed, nor
/// computed for a guessed identity, without `JWT_SECRET`.
pub fn identity_ref(secret: &str, project_id: &str, identity: &str) -> Option<String> {
    let mut m = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).ok()?;
    m.update(b"ai-ratelimit:identity-ref:v1\0");
    m.update(project_id.as_bytes());
    m.update(b"\0");
    m.update(identity.as_bytes());
    let tag = m.finalize().into_bytes();
    Some(crate::crypto::hex(tag.get(..16)?))
}

/// Signs a tracked link's claims.
pub fn issue_link(secret: &str, claims: &shared::funnel::LinkClaims) -> Option<String> {
    if !session_secret_ok(secret) {
        return None;
    }
    sign(&link_key(secret)?, claims)
}

/// Why a tracked link was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum LinkRefused {
    /// Not one of ours: bad format, wrong signature or claims.
    Invalid,
    /// Ours, but past its expiry.
    Expired,
}

/// Verifies a tracked link at `now` (Unix seconds).
pub fn verify_link(
    secret: &str,
    token: &str,
    now: u64,
) -> Result<shared::funnel::LinkClaims, LinkRefused> {
    if !session_secret_ok(secret) {
        return Err(LinkRefused::Invalid);
    }
    let key = link_key(secret).ok_or(LinkRefused::Invalid)?;
    // Signature and claims first (no expiry check), then the expiry.
    let claims: shared::funnel::LinkClaims =
        verify(&key, token, now, u64::MAX).ok_or(LinkRefused::Invalid)?;
    if claims.exp < now {
        return Err(LinkRefused::Expired);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    const NOW: u64 = 1_795_000_000;

    fn token(header: serde_json::Value, claims: serde_json::Value, secret: &str) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let tag = mac(secret, &input).unwrap().finalize().into_bytes();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    fn hs256() -> serde_json::Value {
        json!({"alg": "HS256", "typ": "JWT"})
    }

    #[test]
    fn the_fixed_header_is_hs256() {
        let h = URL_SAFE_NO_PAD.decode(HS256_HEADER).unwrap();
        let h: serde_json::Value = serde_json::from_slice(&h).unwrap();
        assert_eq!(h, hs256());
    }

    const S: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn a_session_round_trips_and_checks_issuer_and_audience() {
        let t = sign(
            S,
            &SessionClaims {
                sub: "a".into(),
                email: "e@x".into(),
                iss: SESSION_ISSUER.into(),
                aud: SESSION_AUDIENCE.into(),
                iat: NOW,
                exp: NOW + 10,
                epoch: 3,
            },
        )
        .unwrap();
        let claims = session_at(S, &t, NOW).unwrap();
        assert_eq!((claims.sub.as_str(), claims.epoch), ("a", 3));
        assert!(session_at("other-0123456789abcdef0123456789", &t, NOW).is_none());
        assert!(session_at(S, &t, NOW + 11).is_none());
        let wrong_aud = token(
            hs256(),
            json!({"sub": "a", "email": "e", "iss": SESSION_ISSUER, "aud": "x", "iat": NOW, "exp": NOW + 10}),
            S,
        );
        assert!(session_at(S, &wrong_aud, NOW).is_none());
        // A session from before epochs existed reads as epoch 0.
        let old = token(
            hs256(),
            json!({"sub": "a", "email": "e", "iss": SESSION_ISSUER, "aud": SESSION_AUDIENCE, "iat": NOW, "exp": NOW + 10}),
            S,
        );
        assert_eq!(session_at(S, &old, NOW).unwrap().epoch, 0);
    }

    #[test]
    fn a_jwt_secret_shorter_than_32_bytes_neither_signs_nor_verifies() {
        let short = "0123456789abcdef0123456789abcde"; // 31 bytes
        assert!(issue_session(short, "a", "e@x", 0).is_none());
        let t = token(
            hs256(),
            json!({"sub": "a", "email": "e", "iss": SESSION_ISSUER, "aud": SESSION_AUDIENCE, "iat": NOW, "exp": NOW + 10}),
            short,
        );
        assert!(session_at(short, &t, NOW).is_none());
        assert!(session_secret_ok(S));
        assert!(!session_secret_ok(short));
    }

    #[test]
    fn only_hs256_with_the_right_key_and_an_intact_token_verifies() {
        let claims = json!({"sub": "u", "exp": NOW + 60});
        assert!(identity_at("k", &token(hs256(), claims.clone(), "k"), NOW).is_some());
        for alg in ["none", "HS512", "hs256", "RS256"] {
            let t = token(json!({"alg": alg}), claims.clone(), "k");
            assert!(identity_at("k", &t, NOW).is_none(), "{alg}");
        }
        let good = token(hs256(), claims.clone(), "k");
        let unsigned = format!("{}.", &good[..good.rfind('.').unwrap()]);
        assert!(identity_at("k", &unsigned, NOW).is_none());
        assert!(identity_at("k", &format!("{good}.x"), NOW).is_none());
        // Another payload under this token's signature.
        let other = token(hs256(), json!({"sub": "admin", "exp": NOW + 60}), "k");
        let (other_input, _) = other.rsplit_once('.').unwrap();
        let (_, good_sig) = good.rsplit_once('.').unwrap();
        let forged = format!("{other_input}.{good_sig}");
        assert!(identity_at("k", &forged, NOW).is_none());
        assert!(identity_at("k", "", NOW).is_none());
    }

    #[test]
    fn identity_times_are_checked_with_the_leeway() {
        let at = |claims: serde_json::Value| identity_at("k", &token(hs256(), claims, "k"), NOW);
        assert!(at(json!({"sub": "u", "exp": NOW - LEEWAY_SECS})).is_some());
        assert!(at(json!({"sub": "u", "exp": NOW - LEEWAY_SECS - 1})).is_none());
        assert!(at(json!({"sub": "u"})).is_none());
        assert!(at(json!({"sub": "u", "exp": -1})).is_none());
        assert!(at(json!({"sub": 5, "exp": NOW + 60})).is_none());
        assert!(at(json!({"sub": "u", "exp": NOW + 2 * IDENTITY_MAX_TTL_SECS})).is_none());
        assert!(at(json!({"sub": "u", "exp": NOW + 3600, "nbf": NOW + 1800})).is_none());
        assert!(at(json!({"sub": "u", "exp": NOW + 3600, "nbf": NOW + 30})).is_some());
        let c = at(json!({"sub": "u", "tier": "pro", "exp": NOW + 60})).unwrap();
        assert_eq!(c.tier.as_deref(), Some("pro"));
    }

    fn link(exp: u64) -> shared::funnel::LinkClaims {
        serde_json::from_value(json!({
            "p": "prj_1", "tier": "free", "kind": "block", "origin": "tier", "ruleId": "",
            "messageHash": "00", "q": "req_1", "i": "ref", "u": "myapp://up", "exp": exp
        }))
        .unwrap()
    }

    #[test]
    fn links_verify_until_expiry_and_never_as_sessions() {
        let secret = "s".repeat(32);
        let t = issue_link(&secret, &link(NOW + 60)).unwrap();
        assert_eq!(verify_link(&secret, &t, NOW), Ok(link(NOW + 60)));
        assert_eq!(
            verify_link(&secret, &t, NOW + 61),
            Err(LinkRefused::Expired)
        );
        assert_eq!(
            verify_link(&"x".repeat(32), &t, NOW),
            Err(LinkRefused::Invalid)
        );
        assert_eq!(
            verify_link(&secret, &t[..t.len() - 2], NOW),
            Err(LinkRefused::Invalid)
        );
        assert!(session_at(&secret, &t, NOW).is_none());
        // A session is not a link either.
        let session = sign(
            &secret,
            &SessionClaims {
                sub: "acc".into(),
                email: "a@b.c".into(),
                iss: SESSION_ISSUER.into(),
                aud: SESSION_AUDIENCE.into(),
                iat: NOW,
                exp: NOW + 60,
                epoch: 0,
            },
        )
        .unwrap();
        assert!(session_at(&secret, &session, NOW).is_some());
        assert_eq!(
            verify_link(&secret, &session, NOW),
            Err(LinkRefused::Invalid)
        );
    }

    #[test]
    fn identity_refs_are_keyed_and_per_project() {
        let a = identity_ref("k1", "p", "u").unwrap();
        assert_eq!(a.len(), 32);
        assert_eq!(a, identity_ref("k1", "p", "u").unwrap());
        assert_ne!(a, identity_ref("k2", "p", "u").unwrap());
        assert_ne!(a, identity_ref("k1", "q", "u").unwrap());
        assert_ne!(a, identity_ref("k1", "p", "v").unwrap());
    }
}
