//! Every HTTP route: happy path and its errors.

use crate::common::*;
use purse_rpc::RpcConfig;
use purse_types::state_proof::StateProof;
use purse_types::{encode, Hash};
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::time::Duration;

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

#[tokio::test]
async fn health_ready_status() {
    let s = start_default().await;
    let c = client();
    let h: Value = c.get(s.url("/health")).send().await.unwrap().json().await.unwrap();
    assert_eq!(h, json!({"status": "ok"}));

    let r = c.get(s.url("/ready")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["ready"], true);
    s.node.syncing.store(true, Ordering::SeqCst);
    let r = c.get(s.url("/ready")).send().await.unwrap();
    assert_eq!(error_code(r, 503).await, "not_ready");

    s.node.commit();
    let st: Value = c.get(s.url("/status")).send().await.unwrap().json().await.unwrap();
    assert_eq!(st["chain_id"], CHAIN);
    assert_eq!(st["height"], 1);
    assert_eq!(st["latest_block_hash"], s.node.block(1).id().to_hex());
    assert_eq!(st["peers"], 3);
    assert_eq!(st["syncing"], true);

    s.node.fail_status.store(true, Ordering::SeqCst);
    let r = c.get(s.url("/status")).send().await.unwrap();
    assert_eq!(error_code(r, 500).await, "internal");
}

#[tokio::test]
async fn submit_tx_json_and_raw_then_lookup() {
    let s = start_default().await;
    let c = client();
    let tx = transfer(0);
    let r = c.post(s.url("/tx")).json(&json!({"tx": tx_hex(&tx)})).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body, json!({"tx_id": tx.id().to_hex(), "status": "pending"}));

    // Raw borsh, with a nonce gap: queued.
    let gap = transfer(5);
    let r = c
        .post(s.url("/tx"))
        .header("content-type", "application/octet-stream")
        .body(encode(&gap))
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "queued");
    assert_eq!(body["expected_nonce"], 1);

    // Pending, then committed with a receipt.
    let info: Value = c.get(s.url(&format!("/tx/{}", tx.id()))).send().await.unwrap().json().await.unwrap();
    assert_eq!(info["status"], "pending");
    assert!(info.get("receipt").is_none());
    s.node.commit();
    let info: Value = c.get(s.url(&format!("/tx/{}", tx.id()))).send().await.unwrap().json().await.unwrap();
    assert_eq!(info["status"], "committed");
    assert_eq!(info["height"], 1);
    assert_eq!(info["index"], 0);
    assert_eq!(info["receipt"]["success"], true);
    assert_eq!(info["receipt"]["fee_paid"], "10");
    assert_eq!(info["receipt"]["events"][0]["data"], "010203");
    assert_eq!(info["sender"], alice().public().address().to_string());
}

#[tokio::test]
async fn submit_tx_errors() {
    let s = start_default().await;
    let c = client();
    let post =
        |body: &'static str| c.post(s.url("/tx")).header("content-type", "application/json").body(body);
    assert_eq!(error_code(post("{not json").send().await.unwrap(), 400).await, "bad_json");
    assert_eq!(error_code(post(r#"{"nottx":"00"}"#).send().await.unwrap(), 400).await, "bad_json");
    assert_eq!(error_code(post(r#"{"tx":"zz"}"#).send().await.unwrap(), 400).await, "bad_hex");
    assert_eq!(error_code(post(r#"{"tx":"0102"}"#).send().await.unwrap(), 400).await, "bad_encoding");
    // Trailing bytes after a valid transaction are not canonical.
    let mut bytes = encode(&transfer(0));
    bytes.push(0);
    let r = c.post(s.url("/tx")).json(&json!({"tx": hex::encode(&bytes)})).send().await.unwrap();
    assert_eq!(error_code(r, 400).await, "bad_encoding");
    let r = c.post(s.url("/tx")).header("content-type", "text/plain").body("x").send().await.unwrap();
    assert_eq!(error_code(r, 415).await, "unsupported_media_type");

    // Admission rejection: the mempool's reason code, 422.
    let r = c.post(s.url("/tx")).json(&json!({"tx": tx_hex(&overdraft(0))})).send().await.unwrap();
    assert_eq!(error_code(r, 422).await, "insufficient_available");
    // A tampered signature.
    let mut bad = transfer(0);
    bad.signature.0[0] ^= 1;
    let r = c.post(s.url("/tx")).json(&json!({"tx": tx_hex(&bad)})).send().await.unwrap();
    assert_eq!(error_code(r, 422).await, "bad_signature");

    // Full mempool: 429 with Retry-After.
    s.node.mempool_full.store(true, Ordering::SeqCst);
    let r = c.post(s.url("/tx")).json(&json!({"tx": tx_hex(&transfer(0))})).send().await.unwrap();
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(error_code(r, 429).await, "pool_full");
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let config = RpcConfig { max_body_bytes: 4096, ..RpcConfig::default() };
    let s = start(MockNode::new(), config).await;
    let c = client();
    let big = format!(r#"{{"tx":"{}"}}"#, "00".repeat(4096));
    let r = c.post(s.url("/tx")).header("content-type", "application/json").body(big).send().await.unwrap();
    assert_eq!(error_code(r, 413).await, "body_too_large");
    let r = c
        .post(s.url("/tx/validate"))
        .header("content-type", "application/octet-stream")
        .body(vec![0u8; 5000])
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r, 413).await, "body_too_large");
    let r = c
        .post(s.url("/query"))
        .header("content-type", "application/json")
        .body(vec![b' '; 5000])
        .send()
        .await;
    assert_eq!(error_code(r.unwrap(), 413).await, "body_too_large");
}

#[tokio::test]
async fn default_limit_admits_a_max_size_hex_tx_and_rejects_more() {
    let s = start_default().await;
    let c = client();
    // Just over MAX_TX_BYTES of hex fits the body limit and is refused by the codec's bound.
    let hex_tx = "00".repeat(purse_types::tx::MAX_TX_BYTES + 1);
    let r = c.post(s.url("/tx")).json(&json!({ "tx": hex_tx })).send().await.unwrap();
    assert_eq!(error_code(r, 413).await, "tx_too_large");
    let r = c
        .post(s.url("/tx"))
        .header("content-type", "application/octet-stream")
        .body(vec![0u8; purse_types::tx::MAX_TX_BYTES + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r, 413).await, "tx_too_large");
    let hex_tx = "00".repeat(purse_rpc::limits::MAX_BODY_BYTES);
    let r = c.post(s.url("/tx")).json(&json!({ "tx": hex_tx })).send().await.unwrap();
    assert_eq!(error_code(r, 413).await, "body_too_large");
}

#[tokio::test]
async fn validate_outputs_the_verdict_without_submitting() {
    let s = start_default().await;
    let c = client();
    let tx = transfer(0);
    let v: Value = c
        .post(s.url("/tx/validate"))
        .json(&json!({"tx": tx_hex(&tx)}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["result"], "valid");
    assert_eq!(v["code"], "valid");
    assert_eq!(v["tx_id"], tx.id().to_hex());
    // Not submitted.
    let r = c.get(s.url(&format!("/tx/{}", tx.id()))).send().await.unwrap();
    assert_eq!(error_code(r, 404).await, "tx_not_found");

    let r = c.post(s.url("/tx/validate")).json(&json!({"tx": tx_hex(&overdraft(0))})).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["result"], "invalid");
    assert_eq!(v["code"], "insufficient_available");

    let v: Value = c
        .post(s.url("/tx/validate"))
        .header("content-type", "application/octet-stream")
        .body(encode(&transfer(3)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["result"], "queued");
    assert_eq!(v["expected_nonce"], 0);

    let r = c.post(s.url("/tx/validate")).json(&json!({"tx": "xyz"})).send().await.unwrap();
    assert_eq!(error_code(r, 400).await, "bad_hex");
}

#[tokio::test]
async fn tx_lookup_errors() {
    let s = start_default().await;
    let c = client();
    let r = c.get(s.url("/tx/nothex")).send().await.unwrap();
    assert_eq!(error_code(r, 400).await, "bad_hash");
    let r = c.get(s.url(&format!("/tx/{}", "g".repeat(64)))).send().await.unwrap();
    assert_eq!(error_code(r, 400).await, "bad_hash");
    let r = c.get(s.url(&format!("/tx/{}", Hash([9; 32])))).send().await.unwrap();
    assert_eq!(error_code(r, 404).await, "tx_not_found");
}

#[tokio::test]
async fn blocks_by_height_and_hash() {
    let s = start_default().await;
    let c = client();
    c.post(s.url("/tx")).json(&json!({"tx": tx_hex(&transfer(0))})).send().await.unwrap();
    let block = s.node.commit();
    let b: Value = c.get(s.url("/block/1")).send().await.unwrap().json().await.unwrap();
    assert_eq!(b["block_hash"], block.id().to_hex());
    assert_eq!(b["header"]["height"], 1);
    assert_eq!(b["header"]["chain_id"], CHAIN);
    assert_eq!(b["tx_ids"][0], transfer(0).id().to_hex());
    let by_hash: Value =
        c.get(s.url(&format!("/block/hash/{}", block.id()))).send().await.unwrap().json().await.unwrap();
    assert_eq!(by_hash, b);

    assert_eq!(error_code(c.get(s.url("/block/2")).send().await.unwrap(), 404).await, "block_not_found");
    assert_eq!(error_code(c.get(s.url("/block/0")).send().await.unwrap(), 404).await, "block_not_found");
    assert_eq!(error_code(c.get(s.url("/block/-1")).send().await.unwrap(), 400).await, "bad_height");
    assert_eq!(error_code(c.get(s.url("/block/abc")).send().await.unwrap(), 400).await, "bad_height");
    let r = c.get(s.url(&format!("/block/hash/{}", Hash([3; 32])))).send().await.unwrap();
    assert_eq!(error_code(r, 404).await, "block_not_found");
    assert_eq!(error_code(c.get(s.url("/block/hash/12")).send().await.unwrap(), 400).await, "bad_hash");
}

#[tokio::test]
async fn accounts() {
    let s = start_default().await;
    let c = client();
    let a = alice().public().address();
    let v: Value = c.get(s.url(&format!("/account/{a}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["address"], a.to_string());
    assert_eq!(v["tier"], 2);
    assert_eq!(v["balances"][0]["amount"], u128::MAX.to_string(), "amounts are decimal strings");
    assert_eq!(v["balances"][0]["symbol"], "PRS");
    let b = bob().public().address();
    let r = c.get(s.url(&format!("/account/{b}"))).send().await.unwrap();
    assert_eq!(error_code(r, 404).await, "account_not_found");
    let r = c.get(s.url("/account/cosmos1xyz")).send().await.unwrap();
    assert_eq!(error_code(r, 400).await, "bad_address");
}

#[tokio::test]
async fn contract_queries() {
    let s = start_default().await;
    let c = client();
    let q = |body: Value| c.post(s.url("/query")).json(&body).send();
    let v: Value = q(json!({"contract": contract().to_string(), "method": "get", "args": "010203"}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["data"], "030201");
    assert_eq!(v["fuel_used"], 7);
    // args may be omitted.
    let r = q(json!({"contract": contract().to_string(), "method": "get"})).await.unwrap();
    assert_eq!(r.status(), 200);

    let r = q(json!({"contract": contract().to_string(), "method": "trap"})).await.unwrap();
    assert_eq!(error_code(r, 422).await, "trap");
    let r = q(json!({"contract": bob().public().address().to_string(), "method": "get"})).await.unwrap();
    assert_eq!(error_code(r, 404).await, "contract_not_found");
    let r = q(json!({"contract": "nope", "method": "get"})).await.unwrap();
    assert_eq!(error_code(r, 400).await, "bad_address");
    let r = q(json!({"contract": contract().to_string(), "method": ""})).await.unwrap();
    assert_eq!(error_code(r, 400).await, "bad_method");
    let r = q(json!({"contract": contract().to_string(), "method": "m".repeat(65)})).await.unwrap();
    assert_eq!(error_code(r, 400).await, "bad_method");
    let r = q(json!({"contract": contract().to_string(), "method": "get", "args": "0g"})).await.unwrap();
    assert_eq!(error_code(r, 400).await, "bad_hex");
    let r =
        c.post(s.url("/query")).body("[").header("content-type", "application/json").send().await.unwrap();
    assert_eq!(error_code(r, 400).await, "bad_json");
}

#[tokio::test]
async fn state_proofs_verify() {
    let s = start_default().await;
    let c = client();
    for (key, present) in [(PROOF_KEY, true), (&b"a/absent"[..], false)] {
        let v: Value =
            c.get(s.url(&format!("/proof/{}", hex::encode(key)))).send().await.unwrap().json().await.unwrap();
        let proof_bytes = hex::decode(v["proof"].as_str().unwrap()).unwrap();
        let proof: StateProof = purse_types::decode(&proof_bytes).unwrap();
        let root = Hash::from_hex(v["state_root"].as_str().unwrap()).unwrap();
        let value = v["value"].as_str().map(|h| hex::decode(h).unwrap());
        assert_eq!(value.is_some(), present);
        assert_eq!(proof.verify(&root, key, value.as_deref()), Ok(()));
        assert_eq!(v["proof_view"]["terminal"]["kind"], "leaf");
    }
    assert_eq!(error_code(c.get(s.url("/proof/xyz")).send().await.unwrap(), 400).await, "bad_hex");
    let long = "00".repeat(purse_rpc::limits::MAX_PROOF_KEY_BYTES + 1);
    assert_eq!(
        error_code(c.get(s.url(&format!("/proof/{long}"))).send().await.unwrap(), 400).await,
        "bad_key"
    );
}

#[tokio::test]
async fn validators_and_evidence() {
    let s = start_default().await;
    let c = client();
    let v: Value = c.get(s.url("/validators")).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["validators"].as_array().unwrap().len(), 4);
    assert_eq!(v["total_power"], 40);
    assert_eq!(v["quorum_power"], 27);
    assert_eq!(v["validators"][0]["index"], 0);
    let e: Value = c.get(s.url("/evidence")).send().await.unwrap().json().await.unwrap();
    assert_eq!(e["evidence"][0]["kind"], "duplicate_vote");
    assert_eq!(e["evidence"][0]["height"], 3);
    assert_eq!(e["evidence"][0]["committed_height"], 4);
    assert_eq!(e["evidence"][0]["step"], "prevote");
}

#[tokio::test]
async fn panics_become_500_without_leaking() {
    let s = start_default().await;
    s.node.panic_in_evidence.store(true, Ordering::SeqCst);
    let r = client().get(s.url("/evidence")).send().await.unwrap();
    assert_eq!(r.status(), 500);
    let text = r.text().await.unwrap();
    assert!(!text.contains("secret"), "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["error"]["code"], "internal");
    // The server still serves.
    assert_eq!(client().get(s.url("/health")).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn unknown_paths_and_wrong_methods() {
    let s = start_default().await;
    let c = client();
    assert_eq!(error_code(c.get(s.url("/nope")).send().await.unwrap(), 404).await, "not_found");
    let r = c.get(s.url("/tx")).send().await.unwrap();
    assert!(r.headers().contains_key("allow"));
    assert_eq!(error_code(r, 405).await, "method_not_allowed");
    assert_eq!(error_code(c.post(s.url("/status")).send().await.unwrap(), 405).await, "method_not_allowed");
    assert_eq!(
        error_code(c.get(s.url("/tx/validate")).send().await.unwrap(), 405).await,
        "method_not_allowed"
    );
    assert_eq!(error_code(c.delete(s.url("/health")).send().await.unwrap(), 405).await, "method_not_allowed");
    assert_eq!(error_code(c.put(s.url("/query")).send().await.unwrap(), 405).await, "method_not_allowed");
    // A plain GET on /ws (no upgrade) is a client error with a JSON body.
    let r = c.get(s.url("/ws")).send().await.unwrap();
    assert!(r.status().is_client_error());
    assert_eq!(error_code(r, 400).await, "bad_request");
}

#[tokio::test]
async fn every_route_is_served() {
    let s = start_default().await;
    let c = client();
    for r in purse_rpc::ROUTES {
        let path = r
            .path
            .replace("{id}", &Hash([1; 32]).to_hex())
            .replace("{height}", "1")
            .replace("{hash}", &Hash([1; 32]).to_hex())
            .replace("{address}", &alice().public().address().to_string())
            .replace("{key}", "00")
            .replace("{tier}", "1")
            .replace("{asset}", &rules_asset().to_hex());
        let resp = c.request(r.verb.method(), s.url(&path)).send().await.unwrap();
        let status = resp.status().as_u16();
        let code = if status >= 400 {
            let v: Value = resp.json().await.unwrap();
            v["error"]["code"].as_str().unwrap().to_string()
        } else {
            String::new()
        };
        assert!(
            status != 405 && code != "not_found",
            "{:?} {} is not routed ({status} {code})",
            r.verb,
            r.path
        );
    }
}

#[tokio::test]
async fn slow_requests_time_out() {
    let config = RpcConfig { request_timeout: Duration::from_millis(200), ..RpcConfig::default() };
    let s = start(MockNode::new(), config).await;
    s.node.status_delay_ms.store(2_000, Ordering::SeqCst);
    let r = client().get(s.url("/status")).send().await.unwrap();
    assert_eq!(error_code(r, 408).await, "timeout");
}

#[tokio::test]
async fn connection_limit_pauses_accepting() {
    let config = RpcConfig { max_connections: 1, ..RpcConfig::default() };
    let s = start(MockNode::new(), config).await;
    // One idle connection holds the only slot.
    let hog = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let c = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let blocked = tokio::time::timeout(Duration::from_millis(500), c.get(s.url("/health")).send()).await;
    assert!(blocked.is_err(), "a second connection is not served while at the limit");
    drop(hog);
    let r =
        tokio::time::timeout(Duration::from_secs(10), c.get(s.url("/health")).send()).await.unwrap().unwrap();
    assert_eq!(r.status(), 200);
}

/// A connection that sends nothing is closed after the idle timeout, freeing its slot: silent sockets cannot
/// lock everyone out of the RPC.
#[tokio::test]
async fn a_silent_connection_is_closed_and_frees_its_slot() {
    use tokio::io::AsyncReadExt;
    let config = RpcConfig {
        max_connections: 1,
        connection_idle_timeout: Duration::from_millis(300),
        ..RpcConfig::default()
    };
    let s = start(MockNode::new(), config).await;
    let mut hog = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    // The server closes it: the read ends (EOF or reset) well before the test's own limit.
    let mut buf = [0u8; 16];
    let ended = tokio::time::timeout(Duration::from_secs(10), hog.read(&mut buf)).await;
    assert!(matches!(ended, Ok(Ok(0)) | Ok(Err(_))), "the silent connection was not closed: {ended:?}");
    // Its slot serves the next client.
    let c = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let r =
        tokio::time::timeout(Duration::from_secs(10), c.get(s.url("/health")).send()).await.unwrap().unwrap();
    assert_eq!(r.status(), 200);
}

/// A client that trickles its request's headers a byte at a time — never silent long enough for the idle
/// timeout — is cut off by the header-read timeout, freeing its slot.
#[tokio::test]
async fn a_client_trickling_its_headers_is_cut_off_and_frees_its_slot() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let config = RpcConfig {
        max_connections: 1,
        connection_idle_timeout: Duration::from_secs(60),
        header_read_timeout: Duration::from_millis(500),
        ..RpcConfig::default()
    };
    let s = start(MockNode::new(), config).await;
    let mut hog = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let started = std::time::Instant::now();
    let mut request = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ".to_vec();
    request.extend_from_slice(&[b'a'; 200]);
    let mut cut = false;
    for byte in request.iter().copied() {
        if hog.write_all(&[byte]).await.is_err() {
            cut = true;
            break;
        }
        // The server closed it: the read ends (EOF, a 408, or a reset) instead of timing out.
        let mut buf = [0u8; 64];
        if let Ok(read) = tokio::time::timeout(Duration::from_millis(100), hog.read(&mut buf)).await {
            assert!(!matches!(read, Ok(n) if n > 0 && buf[..n].starts_with(b"HTTP/1.1 200")), "served");
            cut = true;
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "never cut off");
    }
    assert!(cut, "the whole trickled request was read");
    assert!(started.elapsed() < Duration::from_secs(5), "cut off after {:?}", started.elapsed());
    // Its slot serves the next client.
    let c = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let r =
        tokio::time::timeout(Duration::from_secs(10), c.get(s.url("/health")).send()).await.unwrap().unwrap();
    assert_eq!(r.status(), 200);
}

/// A client uploading its body slowly does not hold one of the concurrent-request slots: with a single slot,
/// other requests are served while it uploads.
#[tokio::test]
async fn a_slow_upload_does_not_hold_a_request_slot() {
    use tokio::io::AsyncWriteExt;
    let config = RpcConfig {
        max_concurrent_requests: 1,
        request_timeout: Duration::from_secs(8),
        ..RpcConfig::default()
    };
    let s = start(MockNode::new(), config).await;
    let mut slow = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let head =
        "POST /tx HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n";
    slow.write_all(head.as_bytes()).await.unwrap();
    slow.write_all(b"{\"tx\":\"00").await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let c = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let started = std::time::Instant::now();
    let r = tokio::time::timeout(Duration::from_secs(5), c.get(s.url("/health")).send()).await;
    let r = r.expect("a request waited for the slow upload's slot").unwrap();
    assert_eq!(r.status(), 200);
    assert!(started.elapsed() < Duration::from_secs(2), "served after {:?}", started.elapsed());
    // Bodies in memory stay bounded: another upload waits for the slow one's permit (one per request slot).
    let body = json!({"tx": "00"}).to_string();
    let post = c.post(s.url("/tx")).header("content-type", "application/json").body(body).send();
    let mut post = Box::pin(post);
    assert!(tokio::time::timeout(Duration::from_millis(500), &mut post).await.is_err(), "uploaded beside it");
    drop(slow);
    let r = tokio::time::timeout(Duration::from_secs(5), post).await.expect("the permit came back").unwrap();
    assert_eq!(r.status(), 400, "the second upload is read once the slow one left");
}

/// The server speaks HTTP/1.1 only: an HTTP/2 client (prior knowledge) is not served, so it cannot escape
/// the HTTP/1 header-read timeout by keeping a connection alive with pings.
#[tokio::test]
async fn http2_is_not_served() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = start_default().await;
    let mut h2 = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    h2.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await.unwrap();
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(5), h2.read(&mut buf)).await.expect("no answer");
    if let Ok(n) = read {
        // An HTTP/2 server would answer with its SETTINGS frame (frame type 4 at byte 3).
        assert!(!(n >= 4 && buf[3] == 4), "answered as HTTP/2: {:?}", &buf[..n]);
        assert!(n == 0 || buf[..n].starts_with(b"HTTP/1.1 "), "{:?}", &buf[..n]);
    }
}

#[tokio::test]
async fn graceful_shutdown_ends_the_server() {
    let mut s = start_default().await;
    assert_eq!(client().get(s.url("/health")).send().await.unwrap().status(), 200);
    s.shutdown();
    let result = tokio::time::timeout(Duration::from_secs(10), &mut s.handle).await;
    assert!(matches!(result, Ok(Ok(Ok(())))), "serve returned Ok after the signal");
    assert!(client().get(s.url("/health")).send().await.is_err(), "no longer listening");
}
