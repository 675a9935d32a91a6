//! Arrays read at random (the unit records that `search` and `resolve` sample, and the
//! array that measures their bound), allocated so that Linux backs them with 2 MiB pages.
//!
//! A sample lands on a random unit among millions, 52 MB of records at 10^6 creators: with
//! 4 KiB pages nearly every sample also misses the TLB, and the page walk holds up its
//! prefetch. Linux gives transparent huge pages to memory advised with `MADV_HUGEPAGE` before
//! it is first touched, where the system allows it (`/sys/kernel/mm/transparent_hugepage/
//! enabled` is `always` or `madvise`); elsewhere the advice is a no-op and the pages are
//! ordinary ones. Nothing depends on it but speed.

/// A vector of `len` copies of `fill`, with room for `capacity` (at least `len`) elements,
/// its memory advised for 2 MiB pages before it is written. The whole capacity is written
/// once here: a vector that later grows into its room then takes no page faults, which with
/// huge pages cost a 2 MiB clear each (and made `scan` slower when it grew the records).
pub fn huge_vec<T: Clone>(len: usize, capacity: usize, fill: T) -> Vec<T> {
    let mut v = Vec::with_capacity(capacity.max(len));
    advise_huge(v.as_mut_ptr() as usize, v.capacity() * size_of::<T>());
    v.resize(v.capacity(), fill);
    v.truncate(len);
    v
}

/// Advises the whole 2 MiB pages inside `[addr, addr + bytes)` for huge pages.
fn advise_huge(addr: usize, bytes: usize) {
    const HUGE: usize = 1 << 21;
    let start = addr.next_multiple_of(HUGE);
    let end = (addr + bytes) & !(HUGE - 1);
    if end <= start {
        return;
    }
    #[cfg(target_os = "linux")]
    // SAFETY: the range lies inside one live allocation of this process; MADV_HUGEPAGE
    // changes how it is backed, not its contents or its validity.
    unsafe {
        libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_what_it_was_asked_for() {
        let v = huge_vec(3 << 20, 4 << 20, [7u32, 8, 9, 10]);
        assert_eq!(v.len(), 3 << 20);
        assert!(v.capacity() >= 4 << 20);
        assert!(v.iter().all(|r| *r == [7, 8, 9, 10]));
        assert_eq!(huge_vec(5, 0, 1u8), vec![1u8; 5]);
    }
}
