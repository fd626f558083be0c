//! Live heap bytes, counted exactly: a global allocator that forwards to the system one and
//! keeps a running total of the bytes handed out and not yet returned.
//!
//! RSS is what a user's task manager shows, but as a leak detector it is coarse: it moves in
//! 4 KiB pages, and glibc's allocator keeps freed memory in its arenas (fragmentation), so RSS can
//! creep while nothing is held. The live-heap figure has neither effect: if it is flat over the
//! lifecycles, nothing the program allocates is kept.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Counting {
    live: AtomicUsize,
}

impl Counting {
    pub const fn new() -> Self {
        Counting {
            live: AtomicUsize::new(0),
        }
    }

    /// Bytes allocated and not yet freed, in KiB (the soak's unit).
    pub fn live_kib(&self) -> u64 {
        (self.live.load(Ordering::Relaxed) / 1024) as u64
    }
}

// SAFETY: every call is forwarded unchanged to `System`; only a counter is kept beside it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            self.live.fetch_add(layout.size(), Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            self.live.fetch_add(layout.size(), Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        self.live.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            self.live.fetch_sub(layout.size(), Ordering::Relaxed);
            self.live.fetch_add(new_size, Ordering::Relaxed);
        }
        new
    }
}
