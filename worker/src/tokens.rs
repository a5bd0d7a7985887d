//! The two kinds of JWT the Worker verifies, both HS256 with the algorithm
//! pinned (a token claiming `none` or any other algorithm is rejected):
//! owner sessions (signed with `JWT_SECRET`, 7 days, issuer and audience
//! checked) and signed identities (signed with the project's `sk_` secret by
//! the app's backend; `exp` required and at most 24 h ahead; 60 s leeway).

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

pub const SESSION_ISSUER: &str = "ai-ratelimit";
pub const SESSION_AUDIENCE: &str = "ai-ratelimit-dashboard";
pub const SESSION_TTL_SECS: u64 = 7 * 24 * 3600;
pub const IDENTITY_MAX_TTL_SECS: u64 = 24 * 3600;
pub const LEEWAY_SECS: u64 = 60;

#[derive(Debug, Serialize, Deserialize)]
pub struct SessionClaims {
    pub sub: String,
    pub email: String,
    pub iss: String,
    pub aud: String,
    pub iat: u64,
    pub exp: u64,
}

pub fn now_secs() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

pub fn issue_session(secret: &str, account_id: &str, email: &str) -> Option<String> {
    let now = now_secs();
    let claims = SessionClaims {
        sub: account_id.to_string(),
        email: email.to_string(),
        iss: SESSION_ISSUER.into(),
        aud: SESSION_AUDIENCE.into(),
        iat: now,
        exp: now + SESSION_TTL_SECS,
    };
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .ok()
}

pub fn verify_session(secret: &str, token: &str) -> Option<SessionClaims> {
    let mut v = Validation::new(Algorithm::HS256);
    v.set_issuer(&[SESSION_ISSUER]);
    v.set_audience(&[SESSION_AUDIENCE]);
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    v.leeway = 0;
    decode::<SessionClaims>(token, &DecodingKey::from_secret(secret.as_bytes()), &v)
        .ok()
        .map(|d| d.claims)
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
    let mut v = Validation::new(Algorithm::HS256);
    v.set_required_spec_claims(&["exp", "sub"]);
    v.validate_nbf = true;
    v.leeway = LEEWAY_SECS;
    v.validate_aud = false;
    let claims = decode::<IdentityClaims>(token, &DecodingKey::from_secret(secret.as_bytes()), &v)
        .ok()?
        .claims;
    if claims.exp > now_secs() + IDENTITY_MAX_TTL_SECS + LEEWAY_SECS {
        return None;
    }
    Some(claims)
}
