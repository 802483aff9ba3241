//! `purse tx …`, the network side: fills in chain id, nonce and expiry from the node, signs, submits and
//! (with `--wait`) follows the transaction to its receipt. The arguments side is [`crate::tx_cmd`].

use crate::http;
use crate::keys;
use crate::tx_cmd::TxOpts;
use anyhow::{anyhow, bail, Context, Result};
use purse_types::{
    encode, proposal_id, Amount, ChainId, GovernanceOp, Hash, Keypair, Payload, SignedTransaction,
    Transaction,
};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Pause between two `GET /tx/{id}` polls of `--wait`.
const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// The `code: message` of an RPC error response (`{"error":{"code","message"}}`), or its raw text.
pub fn rpc_error(resp: &http::Response) -> String {
    match resp.json() {
        Ok(v) if v["error"].is_object() => format!(
            "{}: {}",
            v["error"]["code"].as_str().unwrap_or("unknown"),
            v["error"]["message"].as_str().unwrap_or("")
        ),
        _ => resp.text(),
    }
}

fn get_json(rpc: &str, path: &str) -> Result<Value> {
    let resp = http::get(rpc, path).with_context(|| format!("GET {rpc}{path}"))?;
    if resp.status != 200 {
        bail!("GET {rpc}{path}: HTTP {}: {}", resp.status, rpc_error(&resp));
    }
    resp.json()
}

/// Signs and submits `payload` as `opts` say; prints the result JSON.
pub(crate) fn submit(opts: &TxOpts, payload: Payload) -> Result<()> {
    let key = keys::read_key_file(&opts.key)?;
    let stx = sign(opts, &key, payload)?;
    let id = stx.id();
    let resp = http::post_json(&opts.rpc, "/tx", &json!({ "tx": hex::encode(encode(&stx)) }))
        .with_context(|| format!("POST {}/tx", opts.rpc))?;
    if resp.status != 200 {
        bail!("the node refused transaction {id} (HTTP {}): {}", resp.status, rpc_error(&resp));
    }
    let admitted = resp.json()?;
    let mut out = json!({
        "tx_id": id.to_hex(),
        "sender": stx.tx.sender.to_string(),
        "nonce": stx.tx.nonce,
        "status": admitted["status"].clone(),
    });
    if matches!(stx.tx.payload, Payload::Governance(GovernanceOp::Propose { .. })) {
        out["proposal_id"] = json!(proposal_id(&id).to_hex());
    }
    if !opts.wait {
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    let info = wait_committed(&opts.rpc, &id, Duration::from_secs(opts.wait_timeout))?;
    let receipt = &info["receipt"];
    out["status"] = info["status"].clone();
    out["height"] = info["height"].clone();
    out["success"] = receipt["success"].clone();
    if let Some(code) = receipt.get("code") {
        out["code"] = code.clone();
    }
    if let Some(message) = receipt.get("message") {
        out["message"] = message.clone();
    }
    println!("{}", serde_json::to_string_pretty(&out)?);
    if receipt["success"].as_bool() != Some(true) {
        bail!(
            "transaction {id} failed: {}: {}",
            receipt["code"].as_str().unwrap_or("unknown"),
            receipt["message"].as_str().unwrap_or("")
        );
    }
    Ok(())
}

/// Builds and signs the transaction, asking the node for what `opts` leave open.
fn sign(opts: &TxOpts, key: &Keypair, payload: Payload) -> Result<SignedTransaction> {
    let sender = key.public().address();
    let status = get_json(&opts.rpc, "/status")?;
    let chain_id = match &opts.chain_id {
        Some(c) => c.clone(),
        None => status["chain_id"]
            .as_str()
            .ok_or_else(|| anyhow!("GET {}/status: no chain_id in {status}", opts.rpc))?
            .to_string(),
    };
    let chain_id = ChainId::new(chain_id.as_str()).with_context(|| format!("chain id {chain_id:?}"))?;
    let height =
        status["height"].as_u64().ok_or_else(|| anyhow!("GET {}/status: no height in {status}", opts.rpc))?;
    let nonce = match opts.nonce {
        Some(n) => n,
        None => {
            let account = get_json(&opts.rpc, &format!("/account/{sender}"))
                .with_context(|| format!("reading the sender {sender} (is it registered?)"))?;
            account["pending_nonce"]
                .as_u64()
                .or_else(|| account["nonce"].as_u64())
                .ok_or_else(|| anyhow!("GET /account/{sender}: no nonce in {account}"))?
        }
    };
    let tx = Transaction {
        chain_id,
        sender,
        nonce,
        expiry_height: height.saturating_add(opts.expiry_blocks),
        max_fee: Amount(opts.max_fee),
        payload,
    };
    Ok(tx.sign(key))
}

/// Polls `GET /tx/{id}` until it is committed; returns its JSON. Fails on timeout or when the node no longer
/// knows the transaction (dropped from the mempool).
fn wait_committed(rpc: &str, id: &Hash, within: Duration) -> Result<Value> {
    let deadline = Instant::now() + within;
    let path = format!("/tx/{id}");
    let mut not_found = 0u32;
    loop {
        match http::get(rpc, &path) {
            Ok(r) if r.status == 200 => {
                let v = r.json()?;
                if v["status"] == "committed" {
                    return Ok(v);
                }
                not_found = 0;
            }
            Ok(r) if r.status == 404 => {
                not_found += 1;
                if not_found >= 3 {
                    bail!("transaction {id} was dropped: {}", rpc_error(&r));
                }
            }
            // Not ready, or a transient error: try again until the deadline.
            _ => {}
        }
        if Instant::now() >= deadline {
            bail!("transaction {id} not committed within {}s (see GET {rpc}{path})", within.as_secs());
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}
