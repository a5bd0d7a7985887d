//! Owner sign-in by magic link, and the session check of every dashboard
//! route.
//!
//! A link's token is 32 random bytes; only its SHA-256 is stored. Redeeming
//! is one `UPDATE … WHERE used_at IS NULL AND expires_at > now() RETURNING`,
//! so two simultaneous clicks yield one session. Known and unknown emails get
//! the same answer; the first verification creates the account. Rate limits:
//! 5 links per email per 15 minutes, and `AUTH_RATE_LIMIT_PER_IP` per minute
//! per IP outside development.

use crate::config::Config;
use crate::crypto::{random_token, sha256_hex};
use crate::http::{json_response, read_json_body, ApiResult, OrInternal};
use crate::store;
use crate::store::OrStore;
use crate::tokens;
use serde_json::json;
use shared::{ApiError, ErrorCode};
use worker::{console_log, Env, Fetch, Headers, Method, Request, RequestInit, Response};

const LINK_TTL_MINUTES: i64 = 15;
const LINKS_PER_EMAIL: i64 = 5;

/// The authenticated owner of a dashboard request.
#[derive(Debug, Clone)]
pub struct Owner {
    pub id: String,
    pub email: String,
}

fn normalise_email(v: &serde_json::Value) -> ApiResult<String> {
    let email = v
        .get("email")
        .and_then(|e| e.as_str())
        .ok_or_else(|| ApiError::invalid_field("email", "email is required"))?
        .trim()
        .to_lowercase();
    let valid = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(email.split_once('@'), Some((local, domain)) if !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.') && !domain.contains('@'));
    if !valid {
        return Err(ApiError::invalid_field(
            "email",
            "email is not a valid address",
        ));
    }
    Ok(email)
}

fn rate_limited() -> ApiError {
    ApiError::new(
        ErrorCode::RateLimited,
        "Too many sign-in requests; try again in a few minutes",
    )
}

/// How a sign-in link reaches its owner.
#[derive(Debug, PartialEq, Eq)]
enum Delivery<'a> {
    /// By email through Resend, with this API key.
    Email(&'a str),
    /// Development without an email provider: in the answer as `devLink`.
    DevLink,
    /// Outside development without an email provider: refused, never sent
    /// anywhere (neither in the answer nor in the log).
    Refuse,
}

fn delivery<'a>(environment: &str, resend_api_key: Option<&'a str>) -> Delivery<'a> {
    match resend_api_key {
        Some(key) => Delivery::Email(key),
        None if environment.trim() == "development" => Delivery::DevLink,
        None => Delivery::Refuse,
    }
}

pub async fn magic_link(mut req: Request, env: &Env, cfg: &Config) -> ApiResult<Response> {
    let (_, body) = read_json_body(&mut req, 16 * 1024).await?;
    let email = normalise_email(&body)?;
    let delivery = delivery(&cfg.environment, cfg.resend_api_key.as_deref());
    if delivery == Delivery::Refuse {
        return Err(crate::http::internal(
            "config",
            "RESEND_API_KEY is not set outside development: refusing to create sign-in links",
        ));
    }
    let mut client = store::connect(env).await.or_store("connect")?;

    if cfg.production {
        let ip = req
            .headers()
            .get("cf-connecting-ip")
            .ok()
            .flatten()
            .unwrap_or_else(|| "unknown".into());
        // Count and insert under the address's lock, one request after the other.
        let counted =
            store::accounts::count_ip_attempt(&mut client, &ip, cfg.auth_rate_limit_per_ip)
                .await
                .or_store("auth attempts")?;
        if !counted {
            return Err(rate_limited());
        }
    }

    let token = random_token("").or_internal("token")?;
    let hash = sha256_hex(token.as_bytes());
    // Count and insert under the address's lock: concurrent requests for one
    // address are counted one after the other, so at most LINKS_PER_EMAIL pass.
    let inserted = store::accounts::insert_magic_link(
        &mut client,
        &hash,
        &email,
        LINK_TTL_MINUTES as i32,
        LINKS_PER_EMAIL,
    )
    .await
    .or_store("insert magic link")?;
    if !inserted {
        return Err(rate_limited());
    }
    let link = format!(
        "{}/auth/verify?token={token}",
        cfg.app_url.trim_end_matches('/')
    );
    let mut answer = json!({"message": "If that address can sign in, a link is on its way."});
    match delivery {
        Delivery::Email(key) => send_email(key, cfg, &email, &link).await?,
        Delivery::DevLink => {
            console_log!("magic link for {email}: {link}");
            answer["devLink"] = json!(link);
        }
        Delivery::Refuse => {}
    }
    json_response(202, &answer)
}

async fn send_email(api_key: &str, cfg: &Config, to: &str, link: &str) -> ApiResult<()> {
    let html = format!(
        "<!doctype html><html><body style=\"font-family:system-ui,sans-serif;line-height:1.5\">\
         <h2>Sign in to AI Ratelimit</h2>\
         <p>Click the button below to sign in. The link works once and expires in {LINK_TTL_MINUTES} minutes.</p>\
         <p><a href=\"{link}\" style=\"display:inline-block;padding:10px 18px;background:#111;color:#fff;border-radius:6px;text-decoration:none\">Sign in</a></p>\
         <p style=\"color:#666;font-size:13px\">If you did not ask for this email, you can ignore it.</p>\
         </body></html>"
    );
    let text = format!(
        "Sign in to AI Ratelimit\n\nOpen this link to sign in (it works once and expires in {LINK_TTL_MINUTES} minutes):\n{link}\n\nIf you did not ask for this email, you can ignore it.\n"
    );
    let body = json!({
        "from": cfg.email_from,
        "to": [to],
        "subject": "Your AI Ratelimit sign-in link",
        "html": html,
        "text": text,
    });
    let headers = Headers::new();
    headers
        .set("authorization", &format!("Bearer {api_key}"))
        .or_internal("header")?;
    headers
        .set("content-type", "application/json")
        .or_internal("header")?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(body.to_string().into()));
    let request = Request::new_with_init("https://api.resend.com/emails", &init)
        .or_internal("email request")?;
    let resp = Fetch::Request(request)
        .send()
        .await
        .or_internal("send email")?;
    if !(200..300).contains(&resp.status_code()) {
        return Err(crate::http::internal(
            "send email",
            format!("Resend answered {}", resp.status_code()),
        ));
    }
    Ok(())
}

/// The session signing key: refused when shorter than
/// [`tokens::MIN_SECRET_BYTES`] (a short HMAC key can be brute-forced).
fn jwt_secret(cfg: &Config) -> ApiResult<&str> {
    let secret = cfg
        .jwt_secret
        .as_deref()
        .ok_or_else(|| crate::http::internal("config", "JWT_SECRET is not set"))?;
    if !tokens::session_secret_ok(secret) {
        return Err(crate::http::internal(
            "config",
            "JWT_SECRET is shorter than 32 bytes: refusing to sign or verify sessions",
        ));
    }
    Ok(secret)
}

pub async fn verify(mut req: Request, env: &Env, cfg: &Config) -> ApiResult<Response> {
    let (_, body) = read_json_body(&mut req, 16 * 1024).await?;
    let invalid = || {
        ApiError::new(
            ErrorCode::InvalidToken,
            "This sign-in link is invalid, used or expired",
        )
    };
    // A body without a token is a bad request; a token that is not one we
    // issued (unknown, used, expired, or longer than ours) is an invalid link.
    let token = body
        .get("token")
        .and_then(|t| t.as_str())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::invalid_field("token", "token must be the link's token string"))?;
    if token.len() > 256 {
        return Err(invalid());
    }
    let secret = jwt_secret(cfg)?;
    let client = store::connect(env).await.or_store("connect")?;
    let email = store::accounts::redeem_magic_link(&client, &sha256_hex(token.as_bytes()))
        .await
        .or_store("redeem magic link")?
        .ok_or_else(invalid)?;
    let new_id = crate::crypto::random_id("acct_").or_internal("id")?;
    let account = store::accounts::upsert(&client, &new_id, &email)
        .await
        .or_store("upsert account")?;
    let (id, epoch) = (account.id, account.session_epoch);
    let access_token = tokens::issue_session(secret, &id, &email, epoch)
        .ok_or_else(|| crate::http::internal("jwt", "could not sign session"))?;
    json_response(
        200,
        &json!({"accessToken": access_token, "user": {"id": id, "email": email}}),
    )
}

/// Authenticates a dashboard request; the account must still exist and the
/// session must carry the account's current session epoch (sign-out-all
/// raises it, which ends every session issued before).
pub async fn require_owner(
    req: &Request,
    env: &Env,
    cfg: &Config,
) -> ApiResult<(Owner, store::Client)> {
    let unauthorized =
        || ApiError::new(ErrorCode::Unauthorized, "Sign in to use the dashboard API");
    let header = req
        .headers()
        .get("authorization")
        .ok()
        .flatten()
        .ok_or_else(unauthorized)?;
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .ok_or_else(unauthorized)?
        .trim();
    let claims = tokens::verify_session(jwt_secret(cfg)?, token).ok_or_else(unauthorized)?;
    let client = store::connect(env).await.or_store("connect")?;
    let (id, email) = store::accounts::by_session(&client, &claims.sub, claims.epoch)
        .await
        .or_store("load account")?
        .ok_or_else(unauthorized)?;
    Ok((Owner { id, email }, client))
}

pub async fn me(req: Request, env: &Env, cfg: &Config) -> ApiResult<Response> {
    let (owner, _) = require_owner(&req, env, cfg).await?;
    json_response(200, &json!({"id": owner.id, "email": owner.email}))
}

/// `POST /api/auth/sign-out-all`: ends every session of the account,
/// this one included (the account's session epoch moves on).
pub async fn sign_out_all(req: Request, env: &Env, cfg: &Config) -> ApiResult<Response> {
    let (owner, client) = require_owner(&req, env, cfg).await?;
    store::accounts::end_all_sessions(&client, &owner.id)
        .await
        .or_store("sign out everywhere")?;
    Ok(Response::empty().or_internal("response")?.with_status(204))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_development_without_an_email_provider_links_are_refused() {
        assert_eq!(delivery("production", None), Delivery::Refuse);
        assert_eq!(delivery("staging", None), Delivery::Refuse);
        assert_eq!(delivery("", None), Delivery::Refuse);
        assert_eq!(delivery("Development", None), Delivery::Refuse);
    }

    #[test]
    fn development_without_a_provider_answers_the_link_and_a_provider_always_emails() {
        assert_eq!(delivery("development", None), Delivery::DevLink);
        assert_eq!(
            delivery("development", Some("re_x")),
            Delivery::Email("re_x")
        );
        assert_eq!(
            delivery("production", Some("re_x")),
            Delivery::Email("re_x")
        );
    }
}
