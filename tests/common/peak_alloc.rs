//! A counting global allocator for tests that bound a loader's memory: each thread keeps its own
//! live-byte count and peak, so tests running in parallel do not see each other's allocations.
//! Include it with `#[path = "common/peak_alloc.rs"] mod peak_alloc;` and install it with
//! `#[global_allocator] static A: peak_alloc::PeakAlloc = peak_alloc::PeakAlloc;`.
#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

pub struct PeakAlloc;

thread_local! {
    // const-initialised Cells: no lazy registration, so using them inside the allocator is safe.
    static LIVE: Cell<i64> = const { Cell::new(0) };
    static PEAK: Cell<i64> = const { Cell::new(0) };
}

fn add(bytes: i64) {
    // `try_with`: during thread teardown the slots may be gone; those bytes are not counted.
    let _ = LIVE.try_with(|live| {
        let now = live.get() + bytes;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

unsafe impl GlobalAlloc for PeakAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            add(layout.size() as i64);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            add(layout.size() as i64);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        add(-(layout.size() as i64));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // Old and new blocks may both be live during the copy: count the peak that way.
            add(new_size as i64);
            add(-(layout.size() as i64));
        }
        p
    }
}

/// Runs `f` and returns its result with the most bytes this thread had allocated on top of
/// what was live when `f` started.
pub fn peak_during<R>(f: impl FnOnce() -> R) -> (R, u64) {
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let r = f();
    let peak = PEAK.with(Cell::get) - base;
    (r, peak.max(0) as u64)
}
