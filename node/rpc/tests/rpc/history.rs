//! An account's history (`GET /account/{address}/txs`): signed requests only, for the account itself or an
//! auditor (issue 7, "Audit"); pages follow `next`.

use crate::common::*;
use purse_rpc::auth::{sign_request, AUTH_HEADER};
use purse_types::Keypair;
use serde_json::Value;
use std::time::{SystemTime, UNIX_EPOCH};

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

async fn get_signed(s: &TestServer, path: &str, signer: Option<&Keypair>, at_ms: u64) -> reqwest::Response {
    let mut req = reqwest::Client::new().get(s.url(path));
    if let Some(k) = signer {
        req = req.header(AUTH_HEADER, sign_request(k, CHAIN, path, at_ms));
    }
    req.send().await.unwrap()
}

fn history_path(k: &Keypair, query: &str) -> String {
    format!("/account/{}/txs{query}", k.public().address())
}

#[tokio::test]
async fn the_account_and_an_auditor_read_the_history_in_pages() {
    let s = start_default().await;
    for reader in [alice(), auditor()] {
        let path = history_path(&alice(), "?limit=2");
        let r = get_signed(&s, &path, Some(&reader), now_ms()).await;
        assert_eq!(r.status(), 200);
        let page: Value = r.json().await.unwrap();
        assert_eq!(page["txs"].as_array().unwrap().len(), 2);
        assert_eq!(page["txs"][0]["height"], 1);
        assert_eq!(page["txs"][0]["tx_id"], history_tx(1).to_hex());
        assert_eq!(page["next"], "2.0");
        let path = history_path(&alice(), "?after=2.0&limit=2");
        let page: Value = get_signed(&s, &path, Some(&reader), now_ms()).await.json().await.unwrap();
        assert_eq!(page["txs"].as_array().unwrap().len(), 1);
        assert_eq!(page["txs"][0]["height"], 3);
        assert!(page.get("next").is_none(), "{page}");
    }
}

#[tokio::test]
async fn others_unsigned_forged_and_stale_requests_are_refused() {
    let s = start_default().await;
    let path = history_path(&alice(), "");
    // Bob is neither alice nor an auditor.
    assert_eq!(error_code(get_signed(&s, &path, Some(&bob()), now_ms()).await, 403).await, "forbidden");
    assert_eq!(error_code(get_signed(&s, &path, None, now_ms()).await, 401).await, "auth_required");
    let stale = now_ms() - 10 * 60 * 1000;
    assert_eq!(error_code(get_signed(&s, &path, Some(&alice()), stale).await, 401).await, "bad_auth");
    // A signature for another path does not carry over.
    let other = history_path(&alice(), "?limit=1");
    let header = sign_request(&alice(), CHAIN, &other, now_ms());
    let r = reqwest::Client::new().get(s.url(&path)).header(AUTH_HEADER, header).send().await.unwrap();
    assert_eq!(error_code(r, 401).await, "bad_auth");
    // Malformed input.
    let r = get_signed(&s, "/account/nope/txs", Some(&alice()), now_ms()).await;
    assert_eq!(error_code(r, 400).await, "bad_address");
    let bad_limit = history_path(&alice(), "?limit=0");
    assert_eq!(
        error_code(get_signed(&s, &bad_limit, Some(&alice()), now_ms()).await, 400).await,
        "bad_request"
    );
}
