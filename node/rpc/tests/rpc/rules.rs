//! The current-rules endpoints (issue 7): governance, proposals, roles, asset controls, tier limits and the
//! deployment allow-list — their JSON and their errors.

use crate::common::*;
use purse_types::{AssetId, Hash, Keypair};
use serde_json::{json, Value};
use std::sync::atomic::Ordering;

async fn get(s: &TestServer, path: &str) -> reqwest::Response {
    reqwest::get(s.url(path)).await.unwrap()
}

async fn get_json(s: &TestServer, path: &str) -> Value {
    let r = get(s, path).await;
    assert_eq!(r.status(), 200, "{path}");
    r.json().await.unwrap()
}

fn addr(k: &Keypair) -> String {
    k.public().address().to_string()
}

#[tokio::test]
async fn governance_lists_the_rules() {
    let s = start_default().await;
    s.node.commit();
    let g = get_json(&s, "/governance").await;
    assert_eq!(g["height"], 1);
    assert_eq!(
        g["governance"],
        json!({"keys": [alice().public().to_hex(), bob().public().to_hex()], "threshold": 2, "voting_period": 100})
    );
    assert_eq!(g["open_deployment"], false);
    // Parameters: amounts as decimal strings, sizes and fuel as numbers.
    assert_eq!(
        g["params"],
        json!({
            "fee_base": "1000", "fee_per_byte": "1", "max_block_bytes": 4_194_304, "max_block_txs": 20_000,
            "fee_per_kfuel": "1", "max_tx_fuel": 100_000_000u64, "max_block_fuel": 2_000_000_000u64,
        })
    );
    // The schedule: the set in force and a change scheduled at height + 2.
    let sched = g["validator_schedule"].as_array().unwrap();
    assert_eq!(sched.len(), 2);
    assert_eq!(sched[0]["effective_height"], 0);
    assert_eq!(sched[0]["total_power"], 40);
    assert_eq!(sched[0]["validators"].as_array().unwrap().len(), 4);
    assert_eq!(sched[1]["effective_height"], 3);
    assert_eq!(sched[1]["total_power"], 45);
    assert_eq!(sched[1]["validators"].as_array().unwrap().len(), 5);
    assert_eq!(sched[1]["set_hash"].as_str().unwrap().len(), 64);
    assert_ne!(sched[0]["set_hash"], sched[1]["set_hash"]);
    let v = &sched[0]["validators"][0];
    assert!(v["address"].as_str().unwrap().starts_with("purse1"));
    assert_eq!(v["power"], 10);
    // Every role has an entry; only Merchant has an administrator.
    let admins = g["role_admins"].as_object().unwrap();
    assert_eq!(admins.len(), 7);
    assert_eq!(admins["Merchant"], addr(&bob()));
    assert_eq!(admins["OnboardingAuthority"], Value::Null);
    assert_eq!(admins["Auditor"], Value::Null);
    // The open proposal, its action rendered as JSON.
    let p = &g["open_proposals"][0];
    assert_eq!(g["open_proposals"].as_array().unwrap().len(), 1);
    assert_eq!(p["id"], OPEN_PROPOSAL.to_hex());
    assert_eq!(p["proposer"], addr(&alice()));
    assert_eq!(p["action"], json!({"type": "grant_role", "account": addr(&bob()), "role": "Merchant"}));
    assert_eq!(p["status"], "open");
    assert_eq!(p["closed_height"], Value::Null);
    assert_eq!(p["created_height"], 1);
    assert_eq!(p["deadline_height"], 101);
    assert_eq!(p["approvals"], 1);
    assert_eq!(p["rejections"], 0);
    assert_eq!(p["approvers"], json!([alice().public().to_hex()]));
    assert_eq!(p["rejecters"], json!([]));
}

#[tokio::test]
async fn governance_is_null_without_governance() {
    let s = start_default().await;
    s.node.no_governance.store(true, Ordering::SeqCst);
    let g = get_json(&s, "/governance").await;
    assert!(g.get("governance").is_some(), "the field is present");
    assert_eq!(g["governance"], Value::Null);
    assert_eq!(g["height"], 0);
    assert!(g["params"].is_object());
}

#[tokio::test]
async fn proposals_by_id() {
    let s = start_default().await;
    let p = get_json(&s, &format!("/proposal/{OPEN_PROPOSAL}")).await;
    assert_eq!(p["status"], "open");
    assert_eq!(p["action"]["type"], "grant_role");

    // A passed proposal: status, closing height and a tier-limits action with decimal-string amounts.
    let p = get_json(&s, &format!("/proposal/{}", PASSED_PROPOSAL.to_hex().to_uppercase())).await;
    assert_eq!(p["id"], PASSED_PROPOSAL.to_hex());
    assert_eq!(p["status"], "passed");
    assert_eq!(p["closed_height"], 5);
    assert_eq!(p["approvals"], 2);
    assert_eq!(
        p["action"],
        json!({
            "type": "set_tier_limits", "tier": 1, "asset": rules_asset().to_hex(),
            "limits": {"per_tx": "100000", "daily": "500000"},
        })
    );

    // Unknown: 404; malformed: 400.
    let r = get(&s, &format!("/proposal/{}", Hash([0x77; 32]))).await;
    assert_eq!(error_code(r, 404).await, "proposal_not_found");
    assert_eq!(error_code(get(&s, "/proposal/1234").await, 400).await, "bad_hash");
    assert_eq!(error_code(get(&s, &format!("/proposal/{}", "x".repeat(64))).await, 400).await, "bad_hash");
}

#[tokio::test]
async fn roles_of_an_address() {
    let s = start_default().await;
    let a = get_json(&s, &format!("/roles/{}", addr(&alice()))).await;
    assert_eq!(a, json!({"address": addr(&alice()), "height": 0, "roles": ["Merchant"], "administers": []}));
    let b = get_json(&s, &format!("/roles/{}", addr(&bob()))).await;
    assert_eq!(b["roles"], json!([]));
    assert_eq!(b["administers"], json!(["Merchant"]));
    // Any valid address answers, with empty lists.
    let other = get_json(&s, &format!("/roles/{}", contract())).await;
    assert_eq!(other["roles"], json!([]));
    assert_eq!(other["administers"], json!([]));

    assert_eq!(error_code(get(&s, "/roles/purse1nope").await, 400).await, "bad_address");
    assert_eq!(error_code(get(&s, "/roles/cosmos1xyz").await, 400).await, "bad_address");
}

#[tokio::test]
async fn asset_controls_and_holdings() {
    let s = start_default().await;
    let asset = rules_asset().to_hex();
    let c = get_json(&s, &format!("/asset/{asset}/controls")).await;
    assert_eq!(
        c,
        json!({
            "asset": asset, "height": 0, "issuer": addr(&alice()),
            "authorization_required": true, "freezable": true, "clawback_enabled": false, "frozen": false,
        }),
        "no `holding` without ?holder="
    );
    let c = get_json(&s, &format!("/asset/{asset}/controls?holder={}", addr(&bob()))).await;
    assert_eq!(c["holding"], json!({"holder": addr(&bob()), "authorized": true, "frozen": false}));
    let c = get_json(&s, &format!("/asset/{asset}/controls?holder={}", contract())).await;
    assert_eq!(c["holding"], json!({"holder": contract().to_string(), "authorized": false, "frozen": false}));
    let native = get_json(&s, &format!("/asset/{}/controls", AssetId::native().to_hex())).await;
    assert_eq!(native["authorization_required"], false);

    let r = get(&s, &format!("/asset/{}/controls", Hash([0x99; 32]))).await;
    assert_eq!(error_code(r, 404).await, "asset_not_found");
    assert_eq!(error_code(get(&s, "/asset/abcd/controls").await, 400).await, "bad_hash");
    let r = get(&s, &format!("/asset/{asset}/controls?holder=purse1bad")).await;
    assert_eq!(error_code(r, 400).await, "bad_address");
    let r = get(&s, &format!("/asset/{asset}/controls?holder=")).await;
    assert_eq!(error_code(r, 400).await, "bad_address");
    let r = get(&s, &format!("/asset/{asset}/controls?owner={}", addr(&bob()))).await;
    assert_eq!(error_code(r, 400).await, "bad_request");
}

#[tokio::test]
async fn tier_limits_per_tier_and_asset() {
    let s = start_default().await;
    let asset = rules_asset().to_hex();
    let t = get_json(&s, &format!("/tier/1/limits/{asset}")).await;
    assert_eq!(
        t,
        json!({"tier": 1, "asset": asset, "height": 0, "limits": {"per_tx": "100000", "daily": "500000"}})
    );
    // No limits set: null, i.e. unlimited.
    let t = get_json(&s, &format!("/tier/2/limits/{asset}")).await;
    assert!(t.get("limits").is_some());
    assert_eq!(t["limits"], Value::Null);
    let t = get_json(&s, &format!("/tier/255/limits/{}", AssetId::native().to_hex())).await;
    assert_eq!(t["tier"], 255);
    assert_eq!(t["limits"], Value::Null);

    let r = get(&s, &format!("/tier/1/limits/{}", Hash([0x99; 32]))).await;
    assert_eq!(error_code(r, 404).await, "asset_not_found");
    for bad in ["256", "-1", "one", "1.0"] {
        let r = get(&s, &format!("/tier/{bad}/limits/{asset}")).await;
        assert_eq!(error_code(r, 400).await, "bad_tier", "{bad}");
    }
    assert_eq!(error_code(get(&s, "/tier/1/limits/zz").await, 400).await, "bad_hash");
}

#[tokio::test]
async fn code_allow_list() {
    let s = start_default().await;
    let c = get_json(&s, &format!("/code/{ALLOWED_CODE}/allowed")).await;
    assert_eq!(
        c,
        json!({"code_hash": ALLOWED_CODE.to_hex(), "height": 0, "allowed": true, "open_deployment": false})
    );
    let c = get_json(&s, &format!("/code/{}/allowed", Hash([1; 32]))).await;
    assert_eq!(c["allowed"], false);
    assert_eq!(error_code(get(&s, "/code/00/allowed").await, 400).await, "bad_hash");
}

#[tokio::test]
async fn rules_routes_are_get_only() {
    let s = start_default().await;
    let c = reqwest::Client::new();
    for path in [
        "/governance".to_string(),
        format!("/proposal/{OPEN_PROPOSAL}"),
        format!("/roles/{}", addr(&alice())),
        format!("/asset/{}/controls", rules_asset().to_hex()),
        format!("/tier/1/limits/{}", rules_asset().to_hex()),
        format!("/code/{ALLOWED_CODE}/allowed"),
    ] {
        let r = c.post(s.url(&path)).send().await.unwrap();
        assert_eq!(error_code(r, 405).await, "method_not_allowed", "{path}");
    }
}
