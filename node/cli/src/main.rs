//! The `purse` binary; everything is in the purse-node library (`purse --help`).

/// mimalloc rather than the system allocator (ADR 0017): a block commit builds and frees tens of thousands of
/// tree nodes, and glibc's malloc spent about a fifth of the commit's CPU time on them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    purse_node::cli::main()
}
