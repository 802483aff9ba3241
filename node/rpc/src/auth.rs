//! Signed requests: reads that are not public (an account's history) carry an `x-purse-auth` header,
//! `<public key hex>.<timestamp ms>.<signature hex>`, where the signature is the key's ed25519 signature of
//! [`auth_message`] — domain-separated, bound to the chain, the exact path and query, and the time. The node
//! accepts it within [`AUTH_MAX_SKEW_MS`] of its clock; who may read what is the node's decision
//! (`NodeApi::account_txs`: the account itself, or an auditor).

use crate::errors::{codes, ApiError};
use purse_types::{verify, Keypair, PublicKey, Signature};

/// The request header carrying the signature.
pub const AUTH_HEADER: &str = "x-purse-auth";
/// How far a signed request's timestamp may be from the node's clock, ms.
pub const AUTH_MAX_SKEW_MS: u64 = 300_000;
/// Domain separation of the signed message (nothing else Purse signs starts with these bytes).
const AUTH_DOMAIN: &[u8] = b"purse/rpc-auth/v1\0";

/// The bytes a client signs for a request to `path_and_query` (e.g. `/account/purse1…/txs?limit=10`) of
/// chain `chain_id` at `timestamp_ms`.
pub fn auth_message(chain_id: &str, path_and_query: &str, timestamp_ms: u64) -> Vec<u8> {
    let mut m = Vec::with_capacity(AUTH_DOMAIN.len() + chain_id.len() + path_and_query.len() + 10);
    m.extend_from_slice(AUTH_DOMAIN);
    m.extend_from_slice(chain_id.as_bytes());
    m.push(0);
    m.extend_from_slice(path_and_query.as_bytes());
    m.push(0);
    m.extend_from_slice(&timestamp_ms.to_le_bytes());
    m
}

/// The `x-purse-auth` header value for a request signed by `key`.
pub fn sign_request(key: &Keypair, chain_id: &str, path_and_query: &str, timestamp_ms: u64) -> String {
    let sig = key.sign(&auth_message(chain_id, path_and_query, timestamp_ms));
    format!("{}.{timestamp_ms}.{}", key.public().to_hex(), hex::encode(sig.0))
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::unauthorized(codes::BAD_AUTH, message)
}

/// The signer of a request, if `header` verifies for it at `now_ms`.
pub(crate) fn verify_request(
    header: Option<&str>,
    chain_id: &str,
    path_and_query: &str,
    now_ms: u64,
) -> Result<PublicKey, ApiError> {
    let Some(header) = header else {
        return Err(ApiError::unauthorized(
            codes::AUTH_REQUIRED,
            format!("this read needs a signed `{AUTH_HEADER}` header (docs/rpc.md, \"Signed requests\")"),
        ));
    };
    let mut parts = header.trim().split('.');
    let (Some(key), Some(ts), Some(sig), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad(format!("`{AUTH_HEADER}` must be <public key hex>.<timestamp ms>.<signature hex>")));
    };
    let key = PublicKey::from_hex(key).map_err(|e| bad(format!("public key: {e}")))?;
    let ts: u64 = ts.parse().map_err(|_| bad(format!("timestamp {ts:?} is not a number of ms")))?;
    if ts.abs_diff(now_ms) > AUTH_MAX_SKEW_MS {
        return Err(bad(format!(
            "timestamp {ts} is more than {AUTH_MAX_SKEW_MS} ms from the node's clock {now_ms}"
        )));
    }
    let sig: [u8; 64] = hex::decode(sig)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| bad("signature is not 64 bytes of hex"))?;
    verify(&key, &auth_message(chain_id, path_and_query, ts), &Signature(sig))
        .map_err(|_| bad("the signature does not verify for this chain, path and time"))?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_request_verifies_only_for_its_chain_path_and_time() {
        let key = Keypair::from_seed(&[3; 32]);
        let h = sign_request(&key, "purse-test", "/account/x/txs?limit=5", 1_000_000);
        assert_eq!(
            verify_request(Some(&h), "purse-test", "/account/x/txs?limit=5", 1_000_500).unwrap(),
            key.public()
        );
        for (chain, path, now) in [
            ("other", "/account/x/txs?limit=5", 1_000_000),
            ("purse-test", "/account/y/txs?limit=5", 1_000_000),
            ("purse-test", "/account/x/txs?limit=6", 1_000_000),
            ("purse-test", "/account/x/txs?limit=5", 1_000_000 + AUTH_MAX_SKEW_MS + 1),
        ] {
            assert_eq!(verify_request(Some(&h), chain, path, now).unwrap_err().code, codes::BAD_AUTH);
        }
        assert_eq!(verify_request(None, "purse-test", "/", 0).unwrap_err().code, codes::AUTH_REQUIRED);
        for junk in ["", "a.b", "a.b.c.d", "zz.1.00"] {
            assert_eq!(verify_request(Some(junk), "purse-test", "/", 1).unwrap_err().code, codes::BAD_AUTH);
        }
    }
}
