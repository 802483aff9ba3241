//! Helpers for the VM tests: WAT contracts with every host import declared, and a fixture with a known-good
//! contract to prove "the next call works" after each hostile case.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use purse_contract_test::TestEnv;
use purse_types::{Address, Hash};
use purse_vm::abi::HOST_FUNCTIONS;
use purse_vm::{Action, ExecError, Outcome};

/// `(import "purse" ...)` for every host function, named `$<name>`.
pub fn imports() -> String {
    let mut s = String::new();
    for h in HOST_FUNCTIONS {
        let p: Vec<&str> = h.params.iter().map(|t| t.name()).collect();
        let r: Vec<&str> = h.results.iter().map(|t| t.name()).collect();
        s.push_str(&format!("(import \"purse\" \"{0}\" (func ${0}", h.name));
        if !p.is_empty() {
            s.push_str(&format!(" (param {})", p.join(" ")));
        }
        if !r.is_empty() {
            s.push_str(&format!(" (result {})", r.join(" ")));
        }
        s.push_str("))\n");
    }
    s
}

/// A module with all host imports, one exported memory (1 page initial, 16 max) and `body`.
pub fn contract(body: &str) -> Vec<u8> {
    raw(&format!("(module {} (memory (export \"memory\") 1 16) {})", imports(), body))
}

/// Any WAT.
pub fn raw(wat: &str) -> Vec<u8> {
    wat::parse_str(wat).unwrap_or_else(|e| panic!("bad test WAT: {e}\n{wat}"))
}

/// A well-behaved contract: `ok` writes key "k" = "v", `get` returns it, `noop` does nothing.
pub fn good_contract() -> Vec<u8> {
    contract(
        r#"
        (data (i32.const 0) "kv")
        (func (export "ok") (call $storage_set (i32.const 0) (i32.const 1) (i32.const 1) (i32.const 1)))
        (func (export "noop"))
        (func (export "get")
          (if (i64.ge_s (call $storage_get (i32.const 0) (i32.const 1)) (i64.const 0))
            (then (call $result_read (i32.const 100)) (call $set_return (i32.const 100) (i32.const 1)))))
        "#,
    )
}

pub struct Fixture {
    pub env: TestEnv,
    pub alice: Address,
    pub good: Address,
    pub good_code: Hash,
}

impl Fixture {
    pub fn new() -> Fixture {
        let mut env = TestEnv::new();
        env.set_fuel_limit(40_000_000);
        let alice = TestEnv::account("alice");
        let good_code = env.deploy(alice, &good_contract()).expect("good contract deploys");
        let good = env.instantiate(alice, good_code, &()).expect("good contract instantiates");
        Fixture { env, alice, good, good_code }
    }

    /// Deploys and instantiates `code` (which must pass the deploy checks).
    pub fn install(&mut self, code: &[u8]) -> Address {
        let hash = self.env.deploy(self.alice, code).unwrap_or_else(|e| panic!("deploy failed: {e}"));
        self.env.instantiate(self.alice, hash, &()).unwrap_or_else(|e| panic!("instantiate failed: {e}"))
    }

    pub fn install_reentrant(&mut self, code: &[u8]) -> Address {
        let hash = self.env.deploy(self.alice, code).unwrap();
        self.env.instantiate_with(self.alice, hash, Vec::new(), Some(self.alice), true, Vec::new()).unwrap()
    }

    /// Calls `method` on `contract`; expects a failure; checks nothing was written and the next call works.
    pub fn expect_failure(&mut self, contract: Address, method: &str) -> ExecError {
        let root = self.env.state_root();
        let out = self.env.execute(
            self.alice,
            Action::Call { contract, method: method.to_string(), args: Vec::new(), funds: Vec::new() },
        );
        let err = check_failed(&out);
        assert_eq!(self.env.state_root(), root, "a failed call must not change the state");
        self.next_call_works();
        err
    }

    /// Deploys `code`; expects a rejection; checks the state is unchanged and the next call works.
    pub fn expect_deploy_rejected(&mut self, code: &[u8]) -> ExecError {
        let root = self.env.state_root();
        let out = self.env.execute(self.alice, Action::Deploy { code: code.to_vec() });
        let err = check_failed(&out);
        assert_eq!(self.env.state_root(), root, "a rejected deploy must not change the state");
        self.next_call_works();
        err
    }

    pub fn next_call_works(&mut self) {
        let out = self.env.execute(
            self.alice,
            Action::Call { contract: self.good, method: "ok".into(), args: Vec::new(), funds: Vec::new() },
        );
        assert!(out.result.is_ok(), "the next call must work, got {:?}", out.result);
    }
}

fn check_failed(out: &Outcome) -> ExecError {
    let err = out.result.clone().expect_err("expected a failure");
    assert!(out.diff.is_empty(), "failed execution returned writes: {:?}", out.diff);
    assert!(out.events.is_empty(), "failed execution returned events");
    assert!(!err.is_fatal(), "contract failure reported as fatal: {err}");
    assert!(!err.to_string().is_empty());
    err
}
