//! Secrets at rest and random identifiers.
//!
//! Provider keys and `sk_` secrets are sealed with AES-256-GCM: a fresh
//! 96-bit nonce per seal, and as associated data the secret's purpose and
//! its project id (`provider-key:<project id>`, `secret-key:<project id>`),
//! so a ciphertext moved to another project, or to the other column of the
//! same project, fails to open. Stored as
//! `v2:<key id>:<nonce b64url>:<ciphertext b64url>`; the key id (8 hex
//! digits of a SHA-256 of the key) names which `ENCRYPTION_KEY` sealed it,
//! so the key can be rotated: seal with the new key, keep the old one in
//! `ENCRYPTION_KEYS_OLD` until everything was re-sealed. Ciphertexts of the
//! first format, `v1:<nonce>:<ciphertext>` with the project id alone as
//! associated data, still open (with any configured key) and are re-sealed
//! as `v2` whenever the project's secret or provider key is written.
//! Magic-link tokens are stored as SHA-256 hex only.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

const LEGACY: &str = "v1";
const VERSION: &str = "v2";

/// What a sealed secret is for; part of its associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    ProviderKey,
    SecretKey,
    WebhookSecret,
}

impl Purpose {
    fn label(self) -> &'static str {
        match self {
            Purpose::ProviderKey => "provider-key",
            Purpose::SecretKey => "secret-key",
            Purpose::WebhookSecret => "webhook-secret",
        }
    }
}

/// The key id: 8 hex digits of SHA-256("ai-ratelimit key id:" ‖ key).
pub fn key_id(key: &[u8; 32]) -> String {
    let mut h = Sha256::new();
    h.update(b"ai-ratelimit key id:");
    h.update(key);
    hex(&h.finalize()[..4])
}

#[derive(Debug)]
pub struct CryptoError(pub &'static str);

impl std::fmt::Display for CryptoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

pub fn random_bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut buf = [0u8; N];
    getrandom02::getrandom(&mut buf).map_err(|_| CryptoError("no randomness available"))?;
    Ok(buf)
}

/// A random token: `prefix` + 32 random bytes in base64url (256 bits).
pub fn random_token(prefix: &str) -> Result<String, CryptoError> {
    Ok(format!(
        "{prefix}{}",
        URL_SAFE_NO_PAD.encode(random_bytes::<32>()?)
    ))
}

/// A random id: `prefix` + 12 random bytes in hex.
pub fn random_id(prefix: &str) -> Result<String, CryptoError> {
    Ok(format!("{prefix}{}", hex(&random_bytes::<12>()?)))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// Seals `plaintext` with `key` for `purpose` in `project_id`.
pub fn seal(
    key: &[u8; 32],
    purpose: Purpose,
    project_id: &str,
    plaintext: &str,
) -> Result<String, CryptoError> {
    let cipher = Aes256Gcm::new_from_slice(key).map_err(|_| CryptoError("bad key"))?;
    let nonce_bytes = random_bytes::<12>()?;
    let aad = format!("{}:{project_id}", purpose.label());
    let ciphertext = cipher
        .encrypt(
            &Nonce::from(nonce_bytes),
            Payload {
                msg: plaintext.as_bytes(),
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| CryptoError("encryption failed"))?;
    Ok(format!(
        "{VERSION}:{}:{}:{}",
        key_id(key),
        URL_SAFE_NO_PAD.encode(nonce_bytes),
        URL_SAFE_NO_PAD.encode(ciphertext)
    ))
}

fn decrypt(key: &[u8; 32], aad: &str, nonce: &str, ct: &str) -> Result<String, CryptoError> {
    let nonce = URL_SAFE_NO_PAD
        .decode(nonce)
        .map_err(|_| CryptoError("bad nonce"))?;
    let nonce: [u8; 12] = nonce
        .try_into()
        .map_err(|_| CryptoError("bad nonce length"))?;
    let ct = URL_SAFE_NO_PAD
        .decode(ct)
        .map_err(|_| CryptoError("bad ciphertext"))?;
    let cipher = Aes256Gcm::new_from_slice(key).map_err(|_| CryptoError("bad key"))?;
    let plain = cipher
        .decrypt(
            &Nonce::from(nonce),
            Payload {
                msg: &ct,
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| CryptoError("decryption failed"))?;
    String::from_utf8(plain).map_err(|_| CryptoError("not utf-8"))
}

/// Opens a sealed secret of `purpose` in `project_id` with whichever of
/// `keys` (the current key first, then the old ones) its key id names.
pub fn open(
    keys: &[[u8; 32]],
    purpose: Purpose,
    project_id: &str,
    sealed: &str,
) -> Result<String, CryptoError> {
    let parts: Vec<&str> = sealed.split(':').collect();
    match parts.as_slice() {
        [VERSION, kid, nonce, ct] => {
            let key = keys
                .iter()
                .find(|k| key_id(k) == *kid)
                .ok_or(CryptoError("no configured key has this key id"))?;
            decrypt(key, &format!("{}:{project_id}", purpose.label()), nonce, ct)
        }
        [LEGACY, nonce, ct] => keys
            .iter()
            .find_map(|k| decrypt(k, project_id, nonce, ct).ok())
            .ok_or(CryptoError("decryption failed")),
        _ => Err(CryptoError("unknown sealed format")),
    }
}

/// `sk-…abcd`: the first 3 and last 4 characters, for display only.
pub fn key_hint(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() < 12 {
        return "…".to_string();
    }
    let head: String = chars.iter().take(3).collect();
    let tail: String = chars.iter().skip(chars.len() - 4).collect();
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const K1: [u8; 32] = [7; 32];
    const K2: [u8; 32] = [9; 32];

    /// A `v1` ciphertext as the first format sealed it (AAD = project id).
    fn seal_v1(key: &[u8; 32], project_id: &str, plaintext: &str) -> String {
        let cipher = Aes256Gcm::new_from_slice(key).unwrap();
        let nonce = [1u8; 12];
        let ct = cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: project_id.as_bytes(),
                },
            )
            .unwrap();
        format!(
            "v1:{}:{}",
            URL_SAFE_NO_PAD.encode(nonce),
            URL_SAFE_NO_PAD.encode(ct)
        )
    }

    #[test]
    fn a_sealed_secret_opens_only_for_its_purpose_and_project() {
        let sealed = seal(&K1, Purpose::ProviderKey, "proj_a", "sk-provider").unwrap();
        assert!(sealed.starts_with(&format!("v2:{}:", key_id(&K1))));
        assert_eq!(
            open(&[K1], Purpose::ProviderKey, "proj_a", &sealed).unwrap(),
            "sk-provider"
        );
        assert!(open(&[K1], Purpose::SecretKey, "proj_a", &sealed).is_err());
        assert!(open(&[K1], Purpose::ProviderKey, "proj_b", &sealed).is_err());
    }

    #[test]
    fn the_key_id_picks_the_key_so_encryption_key_can_be_rotated() {
        let old = seal(&K1, Purpose::SecretKey, "p", "sk_old").unwrap();
        let new = seal(&K2, Purpose::SecretKey, "p", "sk_new").unwrap();
        // Current key K2 first, the old K1 kept for what it sealed.
        assert_eq!(
            open(&[K2, K1], Purpose::SecretKey, "p", &old).unwrap(),
            "sk_old"
        );
        assert_eq!(
            open(&[K2, K1], Purpose::SecretKey, "p", &new).unwrap(),
            "sk_new"
        );
        assert!(open(&[K2], Purpose::SecretKey, "p", &old).is_err());
        assert_ne!(key_id(&K1), key_id(&K2));
    }

    #[test]
    fn first_format_ciphertexts_still_open() {
        let v1 = seal_v1(&K1, "p", "sk-legacy");
        assert_eq!(
            open(&[K2, K1], Purpose::ProviderKey, "p", &v1).unwrap(),
            "sk-legacy"
        );
        assert!(open(&[K1], Purpose::ProviderKey, "q", &v1).is_err());
        assert!(open(&[K1], Purpose::ProviderKey, "p", "v3:x:y").is_err());
    }
}
