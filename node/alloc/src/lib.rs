//! The process allocator of Purse's binaries: mimalloc, set up to keep the memory a block commit frees for the next one.
//!
//! Libraries do not choose an allocator (ADR 0017); a binary does, with this crate:
//!
//! ```no_run
//! #[global_allocator]
//! static ALLOCATOR: purse_alloc::Allocator = purse_alloc::Allocator;
//!
//! fn main() {
//!     purse_alloc::configure();
//!     // ...
//! }
//! ```

use std::os::raw::c_long;

/// The allocator: mimalloc (ADR 0017).
pub use mimalloc::MiMalloc as Allocator;

/// The environment variable through which an operator sets mimalloc's purge delay (in milliseconds; 0 purges
/// at once, -1 never), overriding [`PURGE_DELAY_MS`]. mimalloc reads it when the process starts.
pub const PURGE_DELAY_ENV: &str = "MIMALLOC_PURGE_DELAY";

/// The purge delay [`configure`] sets: never return freed memory to the system (ADR 0017). A block commit
/// frees megabytes of tree nodes and buffers that the next commit allocates again; returned to the system,
/// every page of them is faulted in and zeroed again by the kernel (about 4 µs per 4 KiB page on the CI
/// machine). The process's resident memory stays at its peak instead, which the node bounds (its caches and
/// queues are bounded).
pub const PURGE_DELAY_MS: c_long = -1;

/// `mi_option_purge_delay`: its index in mimalloc's `mi_option_e` (`mimalloc.h`), stable across mimalloc
/// versions (retired options keep their slot). The `libmimalloc-sys` bindings do not name it; a test checks
/// that the index reads mimalloc's default purge delay.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Sets the allocator up for a node: mimalloc's purge delay becomes [`PURGE_DELAY_MS`], unless the operator
/// set [`PURGE_DELAY_ENV`]. Call it first thing in `main`, before the process allocates much.
pub fn configure() {
    if std::env::var_os(PURGE_DELAY_ENV).is_none() {
        set_purge_delay(PURGE_DELAY_MS);
    }
}

/// mimalloc's purge delay now (milliseconds; -1 = never).
pub fn purge_delay() -> c_long {
    read_option(MI_OPTION_PURGE_DELAY)
}

#[allow(unsafe_code)] // the only way to set a mimalloc option; see the SAFETY note
fn set_purge_delay(ms: c_long) {
    // SAFETY: `mi_option_set` stores a value in mimalloc's option table (an index checked against the table's
    // bounds); it is safe to call at any time, from any thread.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, ms) }
}

#[allow(unsafe_code)] // the only way to read a mimalloc option; see the SAFETY note
fn read_option(option: libmimalloc_sys::mi_option_t) -> c_long {
    // SAFETY: `mi_option_get` reads mimalloc's option table (an index checked against the table's bounds);
    // it is safe to call at any time, from any thread.
    unsafe { libmimalloc_sys::mi_option_get(option) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configure_stops_purging_unless_the_operator_chose_a_delay() {
        if std::env::var_os(PURGE_DELAY_ENV).is_some() {
            // The operator's value, read by mimalloc at start-up, wins.
            let chosen = purge_delay();
            configure();
            assert_eq!(purge_delay(), chosen);
            return;
        }
        // The index is mimalloc's purge delay: it reads mimalloc 3's default (1,000 ms) until set.
        assert_eq!(purge_delay(), 1_000, "MI_OPTION_PURGE_DELAY does not name mimalloc's purge delay");
        configure();
        assert_eq!(purge_delay(), PURGE_DELAY_MS);
    }
}
