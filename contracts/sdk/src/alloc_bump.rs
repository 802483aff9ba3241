//! A bump allocator for contracts: each call runs in a fresh instance, so memory only ever needs to last one
//! call. Allocation bumps a pointer (growing linear memory by whole pages when needed); freeing or growing
//! the most recent allocation is done in place, everything else is reclaimed when the call ends.
//! Installed as the global allocator on wasm32 by the default `bump-alloc` feature.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::Cell;

const PAGE: usize = 65536;

/// The allocator. `next == 0` means "not started" (the heap starts at the end of the initial memory).
pub struct BumpAlloc {
    next: Cell<usize>,
    end: Cell<usize>,
}

// SAFETY: wasm32 contracts are single-threaded; the cells are never accessed concurrently.
unsafe impl Sync for BumpAlloc {}

impl BumpAlloc {
    /// A fresh allocator.
    pub const fn new() -> BumpAlloc {
        BumpAlloc { next: Cell::new(0), end: Cell::new(0) }
    }

    /// Bytes handed out so far (for tests and diagnostics).
    pub fn used(&self) -> usize {
        self.next.get()
    }
}

impl Default for BumpAlloc {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(target_arch = "wasm32")]
fn memory_pages() -> usize {
    core::arch::wasm32::memory_size(0)
}

#[cfg(target_arch = "wasm32")]
fn grow(pages: usize) -> bool {
    core::arch::wasm32::memory_grow(0, pages) != usize::MAX
}

#[cfg(not(target_arch = "wasm32"))]
fn memory_pages() -> usize {
    0
}

#[cfg(not(target_arch = "wasm32"))]
fn grow(_pages: usize) -> bool {
    false
}

unsafe impl GlobalAlloc for BumpAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if self.next.get() == 0 {
            let top = memory_pages() * PAGE;
            self.next.set(top);
            self.end.set(top);
        }
        let align = layout.align();
        let start = match self.next.get().checked_add(align - 1) {
            Some(v) => v & !(align - 1),
            None => return core::ptr::null_mut(),
        };
        let new_next = match start.checked_add(layout.size()) {
            Some(v) => v,
            None => return core::ptr::null_mut(),
        };
        if new_next > self.end.get() {
            let need = new_next - self.end.get();
            let pages = (need + PAGE - 1) / PAGE;
            if !grow(pages) {
                return core::ptr::null_mut();
            }
            self.end.set(self.end.get() + pages * PAGE);
        }
        self.next.set(new_next);
        start as *mut u8
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // Only the most recent allocation can be given back.
        if ptr as usize + layout.size() == self.next.get() {
            self.next.set(ptr as usize);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old_end = ptr as usize + layout.size();
        if old_end == self.next.get() {
            // Last allocation: grow or shrink in place.
            let new_end = match (ptr as usize).checked_add(new_size) {
                Some(v) => v,
                None => return core::ptr::null_mut(),
            };
            if new_end <= self.end.get() {
                self.next.set(new_end);
                return ptr;
            }
            let need = new_end - self.end.get();
            let pages = (need + PAGE - 1) / PAGE;
            if grow(pages) {
                self.end.set(self.end.get() + pages * PAGE);
                self.next.set(new_end);
                return ptr;
            }
            return core::ptr::null_mut();
        }
        let new_layout = match Layout::from_size_align(new_size, layout.align()) {
            Ok(l) => l,
            Err(_) => return core::ptr::null_mut(),
        };
        let new = self.alloc(new_layout);
        if !new.is_null() {
            core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
        }
        new
    }
}

#[cfg(all(target_arch = "wasm32", feature = "bump-alloc"))]
#[global_allocator]
static ALLOCATOR: BumpAlloc = BumpAlloc::new();
