//! A seeded run's shuffle of the wakes of one turn: which of several events
//! or timers that arrived together is delivered first is chosen by a small
//! deterministic generator (SplitMix64) instead of the poller's and the timer
//! map's order (docs/architecture.md, "A seeded run").
//!
//! Not here: the seeded choice of which ready task runs first (the executor's).

/// SplitMix64, seeded once per reactor.
pub(crate) struct Shuffle {
    state: u64,
}

impl Shuffle {
    pub(crate) fn new(seed: u64) -> Shuffle {
        Shuffle { state: seed }
    }

    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Puts `items` in an order drawn from the generator (Fisher–Yates).
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = ((u128::from(self.next()) * (i as u128 + 1)) >> 64) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Shuffle;

    #[test]
    fn a_seed_gives_one_permutation_every_time_and_another_seed_another() {
        let order = |seed| {
            let mut items: Vec<u32> = (0..16).collect();
            Shuffle::new(seed).shuffle(&mut items);
            items
        };
        assert_eq!(order(5), order(5));
        assert_ne!(order(5), order(6));
        let mut sorted = order(9);
        sorted.sort_unstable();
        assert_eq!(sorted, (0..16).collect::<Vec<_>>());
    }
}
