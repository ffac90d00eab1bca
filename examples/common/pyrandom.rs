//! Python's `random` module generator, so that ported seeds that call
//! `random.seed(444)` print the very numbers Python prints.
//!
//! CPython's `random.Random` is a Mersenne Twister (MT19937). `seed(int)`
//! feeds the absolute value of the integer, as little-endian 32-bit words, to
//! MT's `init_by_array`; `getrandbits(k)` takes the top `k` bits of the next
//! output words; `randint(a, b)` draws `a + randbelow(b - a + 1)`, where
//! `randbelow(n)` rejects draws of `n.bit_length()` bits until one is below `n`.
//! Only what the examples use is here; it is not a cryptographic generator.
//!
//! Shared by the examples through `#[path = "common/pyrandom.rs"] mod pyrandom;`.
//! The tests at the bottom compare with values printed by CPython 3.11 and run
//! with `cargo test --test pyrandom`.

/// Words of state.
const N: usize = 624;
/// The middle word of the recurrence.
const M: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER_MASK: u32 = 0x8000_0000;
const LOWER_MASK: u32 = 0x7fff_ffff;

/// A Mersenne Twister that draws like CPython's `random.Random`.
///
/// ```text
/// let mut random = Random::new(444);      // random.seed(444)
/// assert_eq!(random.randint(0, 10), 4);   // random.randint(0, 10)
/// ```
pub(crate) struct Random {
    state: [u32; N],
    /// The next word of `state` to hand out; `N` means "regenerate first".
    index: usize,
}

impl Random {
    /// A generator seeded like `random.seed(seed)` with an `int`. A `const fn`
    /// so that an example can keep one in a `static`, like Python's module-level
    /// generator.
    pub(crate) const fn new(seed: i64) -> Random {
        let n = seed.unsigned_abs();
        let key = [n as u32, (n >> 32) as u32];
        // Python passes only the significant words (at least one).
        let key_len = if n >> 32 == 0 { 1 } else { 2 };
        let state = mix_key(init_genrand(19_650_218), &key, key_len);
        Random { state, index: N }
    }

    /// The next 32-bit output (MT19937's `genrand_uint32`).
    pub(crate) fn next_u32(&mut self) -> u32 {
        if self.index >= N {
            self.regenerate();
        }
        let mut y = self.state[self.index];
        self.index += 1;
        // Tempering.
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// Computes the next `N` words of state at once.
    fn regenerate(&mut self) {
        let mt = &mut self.state;
        for kk in 0..N {
            let y = (mt[kk] & UPPER_MASK) | (mt[(kk + 1) % N] & LOWER_MASK);
            let odd = if y & 1 == 1 { MATRIX_A } else { 0 };
            mt[kk] = mt[(kk + M) % N] ^ (y >> 1) ^ odd;
        }
        self.index = 0;
    }

    /// `random.getrandbits(k)` for `k <= 64`: the top `k` bits of one output
    /// word, or for `k > 32` a full word below the top `k - 32` bits of the next.
    ///
    /// # Panics
    ///
    /// If `k > 64`.
    pub(crate) fn getrandbits(&mut self, k: u32) -> u64 {
        match k {
            0 => 0,
            1..=32 => u64::from(self.next_u32() >> (32 - k)),
            33..=64 => {
                let low = u64::from(self.next_u32());
                let high = u64::from(self.next_u32() >> (64 - k));
                low | high << 32
            }
            _ => panic!("getrandbits supports at most 64 bits here, not {k}"),
        }
    }

    /// `random._randbelow(n)`: uniform in `0..n` (0 when `n` is 0).
    pub(crate) fn randbelow(&mut self, n: u64) -> u64 {
        let bits = u64::BITS - n.leading_zeros();
        loop {
            let r = self.getrandbits(bits);
            if r < n || n == 0 {
                return r;
            }
        }
    }

    /// `random.randint(a, b)`: uniform in `a..=b`.
    ///
    /// # Panics
    ///
    /// If `b < a` (Python raises `ValueError`), or if the range holds all 2^64
    /// values of `i64`.
    pub(crate) fn randint(&mut self, a: i64, b: i64) -> i64 {
        assert!(a <= b, "empty range for randint({a}, {b})");
        let width = b
            .abs_diff(a)
            .checked_add(1)
            .expect("randint range too wide");
        a.wrapping_add_unsigned(self.randbelow(width))
    }
}

/// MT19937's `init_genrand`.
const fn init_genrand(s: u32) -> [u32; N] {
    let mut state = [0u32; N];
    state[0] = s;
    let mut i = 1;
    while i < N {
        let prev = state[i - 1];
        state[i] = 1_812_433_253u32
            .wrapping_mul(prev ^ (prev >> 30))
            .wrapping_add(i as u32);
        i += 1;
    }
    state
}

/// MT19937's `init_by_array`, on a state from `init_genrand(19650218)`.
const fn mix_key(mut mt: [u32; N], key: &[u32], key_len: usize) -> [u32; N] {
    let (mut i, mut j) = (1, 0);
    let mut k = if N > key_len { N } else { key_len };
    while k > 0 {
        let prev = mt[i - 1];
        mt[i] = (mt[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1_664_525))
            .wrapping_add(key[j])
            .wrapping_add(j as u32);
        i += 1;
        j += 1;
        if i >= N {
            mt[0] = mt[N - 1];
            i = 1;
        }
        if j >= key_len {
            j = 0;
        }
        k -= 1;
    }
    k = N - 1;
    while k > 0 {
        let prev = mt[i - 1];
        mt[i] = (mt[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1_566_083_941)).wrapping_sub(i as u32);
        i += 1;
        if i >= N {
            mt[0] = mt[N - 1];
            i = 1;
        }
        k -= 1;
    }
    // The most significant bit is 1: a non-zero initial state is assured.
    mt[0] = 0x8000_0000;
    mt
}

#[cfg(test)]
mod tests {
    use super::Random;

    // Every expected value was printed by CPython 3.11, e.g.
    // python3 -c 'import random; random.seed(444); print([random.randint(0,10) for _ in range(20)])'

    #[test]
    fn randint_matches_python_for_seed_444() {
        let mut random = Random::new(444);
        let drawn: Vec<i64> = (0..20).map(|_| random.randint(0, 10)).collect();
        assert_eq!(
            drawn,
            [4, 4, 0, 4, 7, 4, 4, 8, 10, 7, 8, 4, 7, 1, 6, 9, 3, 9, 7, 10]
        );
    }

    #[test]
    fn raw_words_match_python_getrandbits_32() {
        let mut random = Random::new(444);
        let words: Vec<u64> = (0..5).map(|_| random.getrandbits(32)).collect();
        assert_eq!(
            words,
            [1326692461, 1236154736, 56854717, 1327727452, 2080643381]
        );
    }

    #[test]
    fn words_after_the_state_is_regenerated_match_python() {
        let mut random = Random::new(444);
        let words: Vec<u32> = (0..700).map(|_| random.next_u32()).collect();
        assert_eq!(
            (words[623], words[624], words[699]),
            (3604634309, 1761918868, 1405746827)
        );
    }

    #[test]
    fn seed_zero_matches_python() {
        let mut random = Random::new(0);
        let words: Vec<u32> = (0..3).map(|_| random.next_u32()).collect();
        assert_eq!(words, [3626764237, 1654615998, 3255389356]);
    }

    #[test]
    fn a_seed_wider_than_32_bits_uses_two_key_words_like_python() {
        let mut random = Random::new((1 << 40) + 5);
        let drawn: Vec<i64> = (0..10).map(|_| random.randint(-5, 5)).collect();
        assert_eq!(drawn, [3, 3, -1, 5, -5, 3, -5, -3, -4, -3]);
    }

    #[test]
    fn a_negative_seed_is_its_absolute_value_like_python() {
        let mut random = Random::new(-444);
        let drawn: Vec<i64> = (0..5).map(|_| random.randint(0, 10)).collect();
        assert_eq!(drawn, [4, 4, 0, 4, 7]);
    }

    #[test]
    fn getrandbits_of_any_width_up_to_64_matches_python() {
        let mut random = Random::new(444);
        let drawn: Vec<u64> = [1, 7, 31, 33, 40, 64]
            .iter()
            .map(|&k| random.getrandbits(k))
            .collect();
        assert_eq!(
            drawn,
            [
                0,
                36,
                28427358,
                1327727452,
                946079103584,
                13699284257632214754
            ]
        );
    }

    #[test]
    fn randint_over_a_range_wider_than_32_bits_matches_python() {
        let mut random = Random::new(12345);
        let drawn: Vec<i64> = (0..5)
            .map(|_| random.randint(0, 1_000_000_000_000))
            .collect();
        assert_eq!(
            drawn,
            [
                804948253063,
                897691841093,
                884012530637,
                937585518914,
                297184512596
            ]
        );
    }

    #[test]
    fn randint_with_equal_bounds_returns_the_bound() {
        let mut random = Random::new(444);
        assert!((0..10).all(|_| random.randint(3, 3) == 3));
    }
}
