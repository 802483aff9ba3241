//! Shared harness of the `purse` binary's process tests: node processes on 127.0.0.1 with free ports, killed
//! when dropped; RPC helpers; fast consensus settings.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs, dead_code)]

use purse_node::config::Config;
use purse_node::http;
use purse_types::{
    encode, Address, Amount, AssetId, ChainId, Coin, Keypair, Payload, SignedTransaction, Transaction,
};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_purse");

/// A port on 127.0.0.1 that is free now and that no other call in this process has returned.
///
/// It is taken from below the kernel's ephemeral range, not by binding port 0: a port from that range is
/// free only until something connects out — another node's libp2p dial or an HTTP client takes its local
/// port from the same range — and the node binds its port only after it has started, so such a port was
/// sometimes taken in between ("Address already in use").
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    /// Lowest port handed out.
    const LOW: u32 = 10_000;
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next().and_then(|p| p.parse::<u32>().ok()))
        .unwrap_or(32_768)
        .max(LOW + 1_000);
    let span = ephemeral_low - LOW;
    // Each test process starts at its own offset, so test binaries running side by side rarely probe the
    // same ports; within a process the counter never repeats a port.
    let _ = NEXT.compare_exchange(0, std::process::id() % span + 1, Ordering::SeqCst, Ordering::SeqCst);
    for _ in 0..span {
        let port = (LOW + NEXT.fetch_add(1, Ordering::SeqCst) % span) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port below the ephemeral range {ephemeral_low}");
}

pub fn purse(args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "purse {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A node process and its home; killed (SIGKILL) when dropped.
pub struct Node {
    pub name: String,
    pub home: PathBuf,
    pub rpc: String,
    pub p2p_port: u16,
    pub args: Vec<String>,
    child: Option<Child>,
}

impl Node {
    pub fn new(name: &str, home: &Path, dev: bool) -> Node {
        let rpc_port = free_port();
        let p2p_port = free_port();
        let mut args = vec![
            "node".to_string(),
            "run".into(),
            "--home".into(),
            home.display().to_string(),
            "--rpc-addr".into(),
            format!("127.0.0.1:{rpc_port}"),
            "--p2p-addr".into(),
            format!("/ip4/127.0.0.1/tcp/{p2p_port}"),
        ];
        if dev {
            args.push("--dev".into());
        }
        Node {
            name: name.into(),
            home: home.to_path_buf(),
            rpc: format!("http://127.0.0.1:{rpc_port}"),
            p2p_port,
            args,
            child: None,
        }
    }

    pub fn start(&mut self) {
        assert!(self.child.is_none());
        std::fs::create_dir_all(&self.home).unwrap();
        let log =
            std::fs::OpenOptions::new().create(true).append(true).open(self.home.join("node.log")).unwrap();
        let child = Command::new(BIN)
            .args(&self.args)
            .env("PURSE_LOG", "info,libp2p_gossipsub=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
    }

    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill(); // SIGKILL
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait for a clean exit.
    pub fn terminate(&mut self, within: Duration) {
        let mut c = self.child.take().expect("running");
        let st = Command::new("kill").args(["-TERM", &c.id().to_string()]).status().unwrap();
        assert!(st.success());
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = c.try_wait().unwrap() {
                assert!(
                    status.success(),
                    "{} exited with {status} after SIGTERM\n{}",
                    self.name,
                    self.log_tail()
                );
                return;
            }
            if Instant::now() > deadline {
                let _ = c.kill();
                let _ = c.wait();
                panic!("{} did not stop within {within:?} of SIGTERM\n{}", self.name, self.log_tail());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.home.join("node.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    pub fn get(&self, path: &str) -> Option<http::Response> {
        http::request(&self.rpc, "GET", path, None, Duration::from_secs(3)).ok()
    }

    pub fn status(&self) -> Option<Value> {
        let r = self.get("/status")?;
        (r.status == 200).then(|| r.json().ok()).flatten()
    }

    pub fn height(&self) -> u64 {
        self.status().and_then(|s| s["height"].as_u64()).unwrap_or(0)
    }

    pub fn block_hash(&self, height: u64) -> Option<String> {
        let r = self.get(&format!("/block/{height}"))?;
        if r.status != 200 {
            return None;
        }
        r.json().ok()?["block_hash"].as_str().map(str::to_string)
    }

    pub fn wait_ready(&self, within: Duration) {
        let deadline = Instant::now() + within;
        while self.status().is_none() {
            if let Some(c) = &self.child {
                let _ = c; // still owned; liveness checked via the log on timeout
            }
            assert!(
                Instant::now() < deadline,
                "{} did not serve /status in time\n{}",
                self.name,
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn submit(&self, tx: &SignedTransaction) -> Value {
        let r = http::post_json(&self.rpc, "/tx", &json!({ "tx": hex::encode(encode(tx)) })).unwrap();
        assert_eq!(r.status, 200, "{} POST /tx: {}", self.name, r.text());
        r.json().unwrap()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn wait_until(what: &str, within: Duration, mut f: impl FnMut() -> bool, nodes: &[&Node]) {
    let deadline = Instant::now() + within;
    while !f() {
        if Instant::now() > deadline {
            let logs: Vec<String> =
                nodes.iter().map(|n| format!("--- {} ---\n{}", n.name, n.log_tail())).collect();
            panic!("timed out waiting for {what}\n{}", logs.join("\n"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub fn committed(node: &Node, id: &str) -> bool {
    node.get(&format!("/tx/{id}"))
        .map(|r| r.status == 200 && r.text().contains("\"committed\""))
        .unwrap_or(false)
}

pub fn transfer(chain: &ChainId, from: &Keypair, nonce: u64, to: Address, amount: u128) -> SignedTransaction {
    Transaction {
        chain_id: chain.clone(),
        sender: from.public().address(),
        nonce,
        expiry_height: u64::MAX,
        max_fee: Amount(1_000_000),
        payload: Payload::Transfer { to, coin: Coin { asset: AssetId::native(), amount: Amount(amount) } },
    }
    .sign(from)
}

/// Fast consensus for tests on one machine.
pub fn tune(config: &mut Config) {
    config.consensus.timeout_propose_ms = 800;
    config.consensus.timeout_propose_delta_ms = 200;
    config.consensus.timeout_prevote_ms = 300;
    config.consensus.timeout_prevote_delta_ms = 100;
    config.consensus.timeout_precommit_ms = 300;
    config.consensus.timeout_precommit_delta_ms = 100;
    config.consensus.commit_delay_ms = 100;
    config.sync.interval_ms = 300;
    config.p2p.gossip_heartbeat_ms = 200;
    // Every process compiles its own modules; no shared disk cache needed.
    config.vm.module_cache_dir = PathBuf::new();
}

pub fn same_blocks(nodes: &[&Node], upto: u64) -> Result<(), String> {
    for h in 1..=upto {
        let hashes: Vec<Option<String>> = nodes.iter().map(|n| n.block_hash(h)).collect();
        if hashes.iter().any(Option::is_none) || hashes.windows(2).any(|w| w[0] != w[1]) {
            return Err(format!("block {h}: {hashes:?}"));
        }
    }
    Ok(())
}
