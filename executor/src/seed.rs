//! The seeded scheduler's random choices: a small deterministic generator
//! (SplitMix64), so the same seed gives the same poll order every run
//! (docs/architecture.md, "A seeded run").
//!
//! Not here: what is chosen (the seeded loop in `scheduler.rs`).

use std::cell::Cell;

/// A SplitMix64 generator: good enough mixing for picking a ready task, and
/// a seed of `1` or `2` already gives unrelated streams.
pub(crate) struct SeedRng {
    state: Cell<u64>,
}

impl SeedRng {
    pub(crate) fn new(seed: u64) -> SeedRng {
        SeedRng {
            state: Cell::new(seed),
        }
    }

    fn next(&self) -> u64 {
        let s = self.state.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        self.state.set(s);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`), by multiply-and-shift.
    pub(crate) fn below(&self, n: usize) -> usize {
        debug_assert!(n > 0);
        ((u128::from(self.next()) * n as u128) >> 64) as usize
    }

    /// Puts `items` in an order drawn from the generator (Fisher–Yates).
    pub(crate) fn shuffle<T>(&self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SeedRng;

    #[test]
    fn the_same_seed_gives_the_same_stream_and_another_seed_another() {
        let draw = |seed| {
            let rng = SeedRng::new(seed);
            (0..32).map(|_| rng.below(10)).collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(1), draw(2));
        assert!(draw(3).iter().all(|&n| n < 10));
    }

    #[test]
    fn a_shuffle_is_a_permutation_and_replays() {
        let order = |seed| {
            let mut items: Vec<u32> = (0..12).collect();
            SeedRng::new(seed).shuffle(&mut items);
            items
        };
        assert_eq!(order(4), order(4));
        assert_ne!(order(4), order(5));
        let mut sorted = order(4);
        sorted.sort_unstable();
        assert_eq!(sorted, (0..12).collect::<Vec<_>>());
    }

    #[test]
    fn every_value_below_n_comes_up() {
        let rng = SeedRng::new(0);
        let mut seen = [false; 5];
        for _ in 0..200 {
            seen[rng.below(5)] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }
}
