//! Secrets at rest and random identifiers.
//!
//! Provider keys and `sk_` secrets are sealed with AES-256-GCM: a fresh
//! 96-bit nonce per seal, the project id as associated data (a ciphertext
//! moved to another project fails to open), stored as
//! `v1:<nonce b64url>:<ciphertext b64url>` so the key can be rotated by
//! version. Magic-link tokens are stored as SHA-256 hex only.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

const VERSION: &str = "v1";

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

pub fn seal(key: &[u8; 32], aad: &str, plaintext: &str) -> Result<String, CryptoError> {
    let cipher = Aes256Gcm::new_from_slice(key).map_err(|_| CryptoError("bad key"))?;
    let nonce_bytes = random_bytes::<12>()?;
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
        "{VERSION}:{}:{}",
        URL_SAFE_NO_PAD.encode(nonce_bytes),
        URL_SAFE_NO_PAD.encode(ciphertext)
    ))
}

pub fn open(key: &[u8; 32], aad: &str, sealed: &str) -> Result<String, CryptoError> {
    let mut parts = sealed.splitn(3, ':');
    let (Some(VERSION), Some(nonce), Some(ct)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(CryptoError("unknown sealed format"));
    };
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
