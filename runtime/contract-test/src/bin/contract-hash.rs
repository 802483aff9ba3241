//! Prints, for each `.wasm` given, its plain blake3 hash (as `b3sum` would), its Purse code hash
//! (`Hash::digest(Domain::CodeHash, code)`, what a deploy returns) and its file name. With `--check`, also runs
//! the VM's deploy-time checks and fails if a module would be rejected. Used by `scripts/build-contracts`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut check = false;
    let mut failed = false;
    for arg in std::env::args().skip(1) {
        if arg == "--check" {
            check = true;
            continue;
        }
        let code = match std::fs::read(&arg) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("contract-hash: {arg}: {e}");
                failed = true;
                continue;
            }
        };
        let name = std::path::Path::new(&arg)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or(arg.clone());
        println!("{}  {}  {}", blake3::hash(&code).to_hex(), purse_vm::code_hash(&code).to_hex(), name);
        if check {
            if let Err(e) = purse_vm::check_module(&code, &purse_vm::Limits::default()) {
                eprintln!("contract-hash: {name} would be rejected at deploy: {e}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
