//! Redis' partial quicksort (`pqsort.c`), shared by SORT ... LIMIT and the geo
//! searches with COUNT: both must leave equal elements in Redis' order.
//!
//! Redis 7.0's copy has no "no swap seen: finish with an insertion sort" shortcut
//! (later NetBSD versions have it); with the shortcut, equal elements come out in
//! another order than redis-server 7.0.15's, as a differential geo test showed.

use std::cmp::Ordering;

/// Redis' `pqsort` (NetBSD's Bentley-McIlroy quicksort that skips partitions outside
/// `lrange..=rrange`), ported so that elements with equal weights come out in the same
/// order as Redis puts them.
pub fn pqsort<T>(v: &mut [T], lrange: i64, rrange: i64, cmp: &impl Fn(&T, &T) -> Ordering) {
    pqsort_part(v, 0, lrange, rrange, cmp);
}

/// Whether the partition `base..base+len` lies entirely outside the wanted range.
fn outside(base: i64, len: usize, lrange: i64, rrange: i64) -> bool {
    let last = base + len as i64;
    (lrange < base && rrange < base) || (lrange >= last && rrange >= last)
}

fn insertion_sort<T>(v: &mut [T], cmp: &impl Fn(&T, &T) -> Ordering) {
    for m in 1..v.len() {
        let mut l = m;
        while l > 0 && cmp(&v[l - 1], &v[l]) == Ordering::Greater {
            v.swap(l, l - 1);
            l -= 1;
        }
    }
}

fn med3<T>(v: &[T], a: usize, b: usize, c: usize, cmp: &impl Fn(&T, &T) -> Ordering) -> usize {
    if cmp(&v[a], &v[b]) == Ordering::Less {
        if cmp(&v[b], &v[c]) == Ordering::Less {
            b
        } else if cmp(&v[a], &v[c]) == Ordering::Less {
            c
        } else {
            a
        }
    } else if cmp(&v[b], &v[c]) == Ordering::Greater {
        b
    } else if cmp(&v[a], &v[c]) == Ordering::Less {
        a
    } else {
        c
    }
}

fn vecswap<T>(v: &mut [T], a: usize, b: usize, n: usize) {
    for i in 0..n {
        v.swap(a + i, b + i);
    }
}

/// One partition of [`pqsort`]; `base` is its offset in the whole vector.
fn pqsort_part<T>(
    mut v: &mut [T],
    mut base: i64,
    lrange: i64,
    rrange: i64,
    cmp: &impl Fn(&T, &T) -> Ordering,
) {
    loop {
        let n = v.len();
        if n < 7 {
            insertion_sort(v, cmp);
            return;
        }
        let mut pm = n / 2;
        if n > 7 {
            let mut pl = 0;
            let mut pn = n - 1;
            if n > 40 {
                let d = n / 8;
                pl = med3(v, pl, pl + d, pl + 2 * d, cmp);
                pm = med3(v, pm - d, pm, pm + d, cmp);
                pn = med3(v, pn - 2 * d, pn - d, pn, cmp);
            }
            pm = med3(v, pl, pm, pn, cmp);
        }
        v.swap(0, pm);
        let (mut pa, mut pb) = (1, 1);
        let (mut pc, mut pd) = (n - 1, n - 1);
        loop {
            while pb <= pc {
                let r = cmp(&v[pb], &v[0]);
                if r == Ordering::Greater {
                    break;
                }
                if r == Ordering::Equal {
                    v.swap(pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb <= pc {
                let r = cmp(&v[pc], &v[0]);
                if r == Ordering::Less {
                    break;
                }
                if r == Ordering::Equal {
                    v.swap(pc, pd);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb > pc {
                break;
            }
            v.swap(pb, pc);
            pb += 1;
            pc -= 1;
        }
        let r = pa.min(pb - pa);
        vecswap(v, 0, pb - r, r);
        let r = (pd - pc).min(n - pd - 1);
        vecswap(v, pb, n - r, r);
        let left = pb - pa;
        if left > 1 && !outside(base, left, lrange, rrange) {
            pqsort_part(&mut v[..left], base, lrange, rrange, cmp);
        }
        let right = pd - pc;
        if right <= 1 {
            return;
        }
        let from = n - right;
        v = &mut v[from..];
        base += from as i64;
        if outside(base, right, lrange, rrange) {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::pqsort;

    #[test]
    fn pqsort_sorts_the_requested_range() {
        // With a strict total order the range must hold exactly the fully sorted
        // elements, whatever the partition path.
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..300 {
            let n = (next() % 200) as usize;
            let v: Vec<u64> = (0..n).map(|_| next() % 1000).collect();
            let mut sorted = v.clone();
            sorted.sort();
            let (lo, hi) = if n == 0 {
                (0, -1)
            } else {
                let a = (next() % n as u64) as i64;
                let b = (next() % n as u64) as i64;
                (a.min(b), a.max(b))
            };
            let mut part = v.clone();
            pqsort(&mut part, lo, hi, &|a: &u64, b: &u64| a.cmp(b));
            if n > 0 {
                assert_eq!(
                    &part[lo as usize..=hi as usize],
                    &sorted[lo as usize..=hi as usize],
                    "round {round}"
                );
            }
            let mut whole = v.clone();
            pqsort(&mut whole, 0, n as i64 - 1, &|a: &u64, b: &u64| a.cmp(b));
            assert_eq!(whole, sorted);
            // Empty and inverted ranges must not panic.
            pqsort(
                &mut v.clone(),
                n as i64 - 1,
                n as i64 - 2,
                &|a: &u64, b: &u64| a.cmp(b),
            );
        }
    }
}
