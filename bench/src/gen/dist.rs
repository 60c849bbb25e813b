//! The distributions behind skewed data: a bounded power law over ranks, and a bijection
//! that scatters ranks over ids.
//!
//! A [`PowerLaw`] draws *ranks*: rank 0 is the most frequent, rank 1 the next, and so on.
//! An [`AffinePerm`] then maps each rank to an *id*, so the heavy hitters are spread over
//! the id range instead of all sitting at 0, 1, 2, ... (which would flatter any code that
//! partitions by id range).

use super::rng::{mix64, Xoshiro256};

/// A bounded power law (a continuous Zipf) over the ranks `0..n`: rank `k` is drawn with
/// probability close to `c / (k + 1)^exponent`.
///
/// Sampled by inverting the CDF of the density `x^-exponent` on `[1, n + 1)` and taking
/// `floor(x) - 1`: one `exp`/`ln` per draw, no tables, so it costs the same for 10 ranks
/// or 10 billion. With exponent 1 the share of the top `k` ranks is
/// `ln(k + 1) / ln(n + 1)`: for `n` = 3 million, the top 1% of ranks take about 69% of
/// the draws, and rank 0 alone about 4.6%.
#[derive(Clone, Copy, Debug)]
pub struct PowerLaw {
    n: u64,
    exponent: f64,
    /// `ln(n + 1)` when the exponent is 1, else `(n + 1)^(1 - exponent) - 1`.
    span: f64,
}

impl PowerLaw {
    /// A power law over `0..n` (`n >= 1`) with the given exponent (`>= 0`; 0 is uniform,
    /// 1 is the classic Zipf, larger is more skewed).
    pub fn new(n: u64, exponent: f64) -> PowerLaw {
        assert!(n >= 1, "a power law needs at least one rank");
        assert!(
            exponent >= 0.0 && exponent.is_finite(),
            "bad exponent {exponent}"
        );
        let top = n as f64 + 1.0;
        let span = if Self::is_log(exponent) {
            top.ln()
        } else {
            top.powf(1.0 - exponent) - 1.0
        };
        PowerLaw { n, exponent, span }
    }

    /// Whether the exponent is close enough to 1 that the `1 / (1 - exponent)` form would
    /// lose precision; the logarithmic form is the exact limit there.
    fn is_log(exponent: f64) -> bool {
        (exponent - 1.0).abs() < 1e-9
    }

    /// The number of ranks.
    pub fn len(&self) -> u64 {
        self.n
    }

    /// Always false: a power law has at least one rank.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Draws a rank in `0..n`.
    #[inline]
    pub fn sample(&self, rng: &mut Xoshiro256) -> u64 {
        let u = rng.next_f64();
        let x = if Self::is_log(self.exponent) {
            (u * self.span).exp()
        } else {
            (1.0 + u * self.span).powf(1.0 / (1.0 - self.exponent))
        };
        // Rounding can put x a hair outside [1, n + 1); clamp rather than trust it.
        let rank = (x as u64).saturating_sub(1);
        rank.min(self.n - 1)
    }
}

/// The bijection `rank -> (a * rank + b) mod n` on `0..n`, with `a` coprime to `n`.
///
/// Cheap, exactly invertible in principle, and good enough at scattering: consecutive
/// ranks land `a` apart. [`AffinePerm::apply`]`(0)`, which is `b`, is the id of the
/// heaviest rank.
#[derive(Clone, Copy, Debug)]
pub struct AffinePerm {
    n: u64,
    a: u64,
    b: u64,
}

impl AffinePerm {
    /// A permutation of `0..n` chosen by `key` (different keys, different permutations).
    pub fn new(n: u64, key: u64) -> AffinePerm {
        assert!(n >= 1, "a permutation needs at least one element");
        let mut a = mix64(key ^ 0xA5A5_5A5A_0F0F_F0F0) % n;
        // Every n >= 2 has a unit modulo n (1 is one), so this loop ends; it rarely takes
        // more than a few steps because units are dense.
        while gcd(a, n) != 1 {
            a = (a + 1) % n;
        }
        let b = mix64(key ^ 0x3C3C_C3C3_9696_6969) % n;
        AffinePerm { n, a, b }
    }

    /// The identity on `0..n`, for data sets whose heavy ids should stay at the front.
    pub fn identity(n: u64) -> AffinePerm {
        AffinePerm { n, a: 1, b: 0 }
    }

    /// The id of rank `rank` (`rank < n`).
    #[inline]
    pub fn apply(&self, rank: u64) -> u64 {
        ((self.a as u128 * rank as u128 + self.b as u128) % self.n as u128) as u64
    }
}

/// Greatest common divisor (Euclid); `gcd(0, n) = n`.
fn gcd(mut x: u64, mut y: u64) -> u64 {
    while y != 0 {
        (x, y) = (y, x % y);
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affine_perm_is_a_bijection() {
        for n in [1u64, 2, 3, 10, 97, 1000, 1024] {
            for key in 0..5 {
                let p = AffinePerm::new(n, key);
                let mut seen = vec![false; n as usize];
                for r in 0..n {
                    let id = p.apply(r) as usize;
                    assert!(!seen[id], "n={n} key={key}: id {id} twice");
                    seen[id] = true;
                }
            }
        }
    }

    #[test]
    fn power_law_is_in_range_and_skewed() {
        for exponent in [0.0, 0.5, 1.0, 1.5] {
            let law = PowerLaw::new(1000, exponent);
            let mut rng = Xoshiro256::from_seed(5);
            let mut counts = vec![0u32; 1000];
            for _ in 0..200_000 {
                counts[law.sample(&mut rng) as usize] += 1;
            }
            let top10: u32 = counts[..10].iter().sum();
            let share = top10 as f64 / 200_000.0;
            if exponent == 0.0 {
                assert!((share - 0.01).abs() < 0.005, "uniform share {share}");
            } else {
                assert!(share > 0.05, "exponent {exponent}: top-1% share {share}");
            }
        }
        // A single rank is always rank 0.
        let one = PowerLaw::new(1, 1.0);
        let mut rng = Xoshiro256::from_seed(1);
        assert!((0..100).all(|_| one.sample(&mut rng) == 0));
    }
}
