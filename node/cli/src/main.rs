//! The `purse` binary; everything is in the purse-node library (`purse --help`).

/// mimalloc rather than the system allocator (ADR 0017): a block commit builds and frees tens of thousands of
/// tree nodes, and glibc's malloc spent about a fifth of the commit's CPU time on them.
#[global_allocator]
static ALLOCATOR: purse_alloc::Allocator = purse_alloc::Allocator;

fn main() -> std::process::ExitCode {
    // Freed memory is kept for reuse, not returned to the system (ADR 0017).
    purse_alloc::configure();
    purse_node::cli::main()
}
