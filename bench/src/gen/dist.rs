//! The distributions behind skewed data: a bounded power law over ranks, and a bijection
//! that scatters ranks over ids.
//!
//! A [`PowerLaw`] draws *ranks*: rank 0 is the most frequent, rank 1 the next, and so on.
//! An [`AffinePerm`] then maps each rank to an *id*, so the heavy hitters are spread over
//! the id range instead of all sitting at 0, 1, 2, ... (which would flatter any code that
//! partitions by id range).

use super::rng::{mix64, Xoshiro256};

/// `1 / (2k + 1)` for k in 0..8: the atanh series' coefficients. Computed by the
/// compiler, whose float arithmetic is correctly rounded, so the same on every machine;
/// multiplying by them avoids a division per term.
const INV_ODD: [f64; 8] = {
    let mut c = [0.0; 8];
    let mut k = 0;
    while k < 8 {
        c[k] = 1.0 / (2 * k + 1) as f64;
        k += 1;
    }
    c
};

/// `1 / i!` for i in 0..=10: the exponential series' coefficients.
const INV_FACT: [f64; 11] = {
    let mut c = [1.0; 11];
    let mut i = 1;
    while i < 11 {
        c[i] = c[i - 1] / i as f64;
        i += 1;
    }
    c
};

/// `ln(x)` for finite `x > 0`, from IEEE basic operations only.
///
/// `f64::ln` and `f64::exp` call the platform's math library, whose last bit may differ
/// between systems and versions; a draw near a rank boundary could then land on another
/// rank, and the "same seed, same bytes" promise would hold only per machine. Addition,
/// multiplication and division are correctly rounded everywhere (and Rust never fuses
/// them), so these versions give the same bits on every machine. Their relative error,
/// about 1e-12, only moves the rare draw that falls that close to a rank boundary: the
/// distribution is unchanged for any practical purpose.
fn ln(x: f64) -> f64 {
    debug_assert!(x > 0.0 && x.is_finite());
    // x = m * 2^e with m in [1, 2) (subnormals are not needed: inputs are >= 2^-53).
    let bits = x.to_bits();
    let mut e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & ((1u64 << 52) - 1)) | (1023u64 << 52));
    // Centre m on 1 so the series below converges fast: m in [sqrt(1/2), sqrt(2)).
    if m > std::f64::consts::SQRT_2 {
        m *= 0.5;
        e += 1;
    }
    // ln(m) = 2 atanh(s) = 2 (s + s^3/3 + s^5/5 + ...), with |s| <= 0.172, to s^15/15:
    // the next term is below 1e-13 of the sum.
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    // Horner's rule over the coefficients 1/1, 1/3, 1/5, ...
    let mut sum = 0.0;
    for c in INV_ODD.iter().rev() {
        sum = sum * s2 + c;
    }
    e as f64 * std::f64::consts::LN_2 + 2.0 * s * sum
}

/// `e^x` from IEEE basic operations only (see [`ln`]); 0 below -700 and infinite above
/// 700, where the scaling by `2^k` would leave the normal range.
fn exp(x: f64) -> f64 {
    if x < -700.0 {
        return 0.0;
    }
    if x > 700.0 {
        return f64::INFINITY;
    }
    // e^x = 2^k e^r with r = x - k ln 2 in [-0.35, 0.35].
    // Round to nearest with a truncating cast: `f64::round` may be a library call.
    let q = x / std::f64::consts::LN_2;
    let k = (q + if q < 0.0 { -0.5 } else { 0.5 }) as i64 as f64;
    let r = x - k * std::f64::consts::LN_2;
    // Taylor series to r^10/10! by Horner's rule: the next term is below 1e-12.
    let mut sum = 0.0;
    for c in INV_FACT.iter().rev() {
        sum = sum * r + c;
    }
    sum * f64::from_bits(((k as i64 + 1023) as u64) << 52)
}

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
            ln(top)
        } else {
            exp(ln(top) * (1.0 - exponent)) - 1.0
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
            exp(u * self.span)
        } else {
            exp(ln(1.0 + u * self.span) / (1.0 - self.exponent))
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
    fn portable_ln_and_exp_agree_with_std() {
        let mut x = 1e-15;
        while x < 1e12 {
            let rel = (ln(x) - x.ln()).abs() / x.ln().abs().max(1.0);
            assert!(rel < 1e-12, "ln({x}) = {} vs {}", ln(x), x.ln());
            x *= 1.37;
        }
        let mut x = -600.0;
        while x < 600.0 {
            let rel = (exp(x) - x.exp()).abs() / x.exp();
            assert!(rel < 1e-11, "exp({x}) = {} vs {}", exp(x), x.exp());
            x += 0.731;
        }
        assert_eq!(ln(1.0), 0.0);
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-1e6), 0.0);
        // A very steep law still samples in range.
        let steep = PowerLaw::new(1000, 60.0);
        let mut rng = Xoshiro256::from_seed(3);
        assert!((0..1000).all(|_| steep.sample(&mut rng) < 1000));
    }

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
