//! The `purse` binary; everything is in the purse-node library (`purse --help`).

fn main() -> std::process::ExitCode {
    purse_node::cli::main()
}
