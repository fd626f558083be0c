//! Plain statistics for the benchmarks (docs/benchmarks.md), kept here rather than in
//! `tests/benches` so that `cargo test -p dcr-tests --lib` runs their unit tests: the bench
//! targets are `harness = false`, so a `#[test]` inside one is never run.

/// An ordinary least-squares line `y = intercept + slope · x` through a set of points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    /// Change of `y` per unit of `x` (for a soak: bytes per lifecycle).
    pub slope: f64,
    pub intercept: f64,
    /// Standard error of the slope, from the residuals (`n - 2` degrees of freedom); 0 when the
    /// points lie exactly on the line, `None` with two points (no degree of freedom left).
    pub slope_error: Option<f64>,
    /// Number of points fitted.
    pub n: usize,
}

/// Least-squares fit of `y` over `x`. `None` with fewer than two points, or when every `x` is
/// the same (the slope is undefined), or when a value is not finite.
///
/// The sums are taken around the means (x − x̄, y − ȳ), not as Σx² − n·x̄²: memory samples are
/// large numbers (hundreds of MiB in bytes) that change by a few KiB, and the textbook one-pass
/// form would lose those few KiB to cancellation.
pub fn least_squares(points: &[(f64, f64)]) -> Option<Fit> {
    let n = points.len();
    if n < 2 || points.iter().any(|(x, y)| !x.is_finite() || !y.is_finite()) {
        return None;
    }
    let count = n as f64;
    let mean_x = points.iter().map(|(x, _)| x).sum::<f64>() / count;
    let mean_y = points.iter().map(|(_, y)| y).sum::<f64>() / count;
    let sxx: f64 = points.iter().map(|(x, _)| (x - mean_x).powi(2)).sum();
    if sxx == 0.0 {
        return None;
    }
    let sxy: f64 = points
        .iter()
        .map(|(x, y)| (x - mean_x) * (y - mean_y))
        .sum();
    let slope = sxy / sxx;
    let intercept = mean_y - slope * mean_x;
    let slope_error = (n > 2).then(|| {
        let residuals: f64 = points
            .iter()
            .map(|(x, y)| (y - (intercept + slope * x)).powi(2))
            .sum();
        (residuals / (count - 2.0) / sxx).sqrt()
    });
    Some(Fit {
        slope,
        intercept,
        slope_error,
        n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
    }

    #[test]
    fn a_straight_line_is_recovered_exactly() {
        let points: Vec<(f64, f64)> = (0..10)
            .map(|i| (i as f64 * 50.0, 1000.0 + 3.5 * i as f64 * 50.0))
            .collect();
        let fit = least_squares(&points).unwrap();
        assert!(close(fit.slope, 3.5), "{fit:?}");
        assert!(close(fit.intercept, 1000.0), "{fit:?}");
        assert_eq!(fit.slope_error, Some(0.0));
        assert_eq!(fit.n, 10);
    }

    #[test]
    fn flat_samples_have_zero_slope() {
        let points: Vec<(f64, f64)> = (1..=20).map(|i| (i as f64, 7.0)).collect();
        let fit = least_squares(&points).unwrap();
        assert_eq!(fit.slope, 0.0);
        assert!(close(fit.intercept, 7.0));
    }

    #[test]
    fn a_falling_series_has_a_negative_slope() {
        let fit = least_squares(&[(0.0, 10.0), (1.0, 8.0), (2.0, 6.0)]).unwrap();
        assert!(close(fit.slope, -2.0), "{fit:?}");
    }

    #[test]
    fn symmetric_noise_around_a_line_leaves_its_slope() {
        // +e, -e, +e, -e … around y = 2x, paired so the noise has no trend of its own.
        let points: Vec<(f64, f64)> = (0..8)
            .map(|i| {
                let x = i as f64;
                let noise = if i % 4 == 0 || i % 4 == 3 { 5.0 } else { -5.0 };
                (x, 2.0 * x + noise)
            })
            .collect();
        let fit = least_squares(&points).unwrap();
        assert!(close(fit.slope, 2.0), "{fit:?}");
        assert!(fit.slope_error.unwrap() > 0.0, "{fit:?}");
    }

    #[test]
    fn matches_a_hand_computed_fit_with_its_standard_error() {
        // x = 1..5, y = 2, 4, 5, 4, 5: x̄ = 3, ȳ = 4, Sxx = 10, Sxy = 6, slope 0.6,
        // intercept 2.2; residuals -0.8, 0.6, 1.0, -0.6, -0.2: SSE = 2.4,
        // standard error √(2.4 / 3 / 10) = √0.08.
        let points = [(1.0, 2.0), (2.0, 4.0), (3.0, 5.0), (4.0, 4.0), (5.0, 5.0)];
        let fit = least_squares(&points).unwrap();
        assert!(close(fit.slope, 0.6), "{fit:?}");
        assert!(close(fit.intercept, 2.2), "{fit:?}");
        assert!(close(fit.slope_error.unwrap(), 0.08_f64.sqrt()), "{fit:?}");
    }

    #[test]
    fn a_small_slope_on_a_large_base_is_not_lost_to_rounding() {
        // 300 MiB in bytes, growing by 200 bytes per lifecycle over 1,000 lifecycles.
        let base = 300.0 * 1024.0 * 1024.0;
        let points: Vec<(f64, f64)> = (0..=20)
            .map(|i| {
                let x = i as f64 * 50.0;
                (x, base + 200.0 * x)
            })
            .collect();
        let fit = least_squares(&points).unwrap();
        assert!((fit.slope - 200.0).abs() < 1e-6, "{fit:?}");
    }

    #[test]
    fn two_points_give_a_slope_without_an_error() {
        let fit = least_squares(&[(0.0, 1.0), (4.0, 9.0)]).unwrap();
        assert!(close(fit.slope, 2.0));
        assert_eq!(fit.slope_error, None);
    }

    #[test]
    fn too_few_or_degenerate_points_give_no_fit() {
        assert_eq!(least_squares(&[]), None);
        assert_eq!(least_squares(&[(1.0, 2.0)]), None);
        assert_eq!(least_squares(&[(3.0, 1.0), (3.0, 5.0), (3.0, 9.0)]), None);
        assert_eq!(least_squares(&[(0.0, 1.0), (1.0, f64::NAN)]), None);
    }
}
