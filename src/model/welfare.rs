//! Welfare accounting per step: consumer surplus (search costs and congestion included),
//! producer surplus (creators and providers), pollution loss, taxes and subsidies, the
//! total, and revenue concentration (HHI over creators and providers); and the shape of
//! welfare along the AI-expansion axis (F5's regimes), shared by `reproduce` and the
//! phase-diagram figures.

/// Welfare components per buyer.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Welfare {
    pub cs: f64,
    pub ps: f64,
    pub tax: f64,
    pub subsidy: f64,
    pub total: f64,
    pub pollution_loss: f64,
    pub congestion: f64,
}

/// Inputs: sums over buyers of realized utility (search costs included), congestion per
/// bearer and number of bearers, creators' profit (net of taxes, with subsidies),
/// providers' revenue, tax revenue, subsidies paid, junk payments, search costs.
#[allow(clippy::too_many_arguments)]
pub fn welfare(
    n_buyers: f64,
    utility_sum: f64,
    congestion: f64,
    bearers: f64,
    creator_profit: f64,
    provider_revenue: f64,
    tax: f64,
    subsidy: f64,
    junk_paid: f64,
    search_costs: f64,
) -> Welfare {
    let cong_total = congestion * bearers;
    let cs = utility_sum - cong_total;
    let ps = creator_profit + provider_revenue;
    // Taxes are a transfer from creators to the public purse and subsidies the reverse:
    // adding tax and subtracting subsidy nets them out of the total.
    let total = cs + ps + tax - subsidy;
    let n = n_buyers.max(1.0);
    Welfare {
        cs: cs / n,
        ps: ps / n,
        tax: tax / n,
        subsidy: subsidy / n,
        total: total / n,
        pollution_loss: (cong_total + junk_paid + search_costs) / n,
        congestion: cong_total / n,
    }
}

/// Herfindahl–Hirschman index from the sum and the sum of squares of revenues.
pub fn hhi(sum: f64, sum_sq: f64) -> f64 {
    if sum > 0.0 { sum_sq / (sum * sum) } else { 0.0 }
}

/// Differences of mean final welfare below this count as ties when judging the regime
/// (money per buyer): a few times the replica spread of final welfare at 5 x 10^3
/// creators (sd about 0.002), shared by `reproduce`'s F5 and the phase-diagram regimes.
pub const EXPANSION_TOL: f64 = 0.005;

/// How welfare responds to AI expansion at one pollution level (MODEL.md F5), judged
/// against the no-AI run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpansionRegime {
    /// Welfare never falls (by more than the tolerance) as AI expands, and ends above the
    /// no-AI level: "welfare rises monotonically with AI expansion".
    MonotoneGains,
    /// AI raises welfare above the no-AI level, but not monotonically: it dips along the
    /// way and the most expansion is (within the tolerance) the best.
    GainsWithDip,
    /// An interior peak above both the no-AI level and the most-expansion end.
    InvertedU,
    /// No amount of AI raises welfare above the no-AI level: AI lowers welfare from its
    /// first entry.
    HarmfulFromEntry,
}

impl ExpansionRegime {
    /// Labels, by `index`.
    pub const LABELS: [&'static str; 4] = ["monotone gains", "gains with a dip", "inverted U", "harmful from entry"];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn label(self) -> &'static str {
        Self::LABELS[self.index()]
    }
}

/// The regime of a welfare curve `w` ordered by rising AI expansion (`w[0]` the least
/// expansion with AI present, the last the most) against the no-AI welfare `no_ai`, with
/// differences below `tol` counted as ties (sampling noise). Also returns the index of
/// the peak (the first of the highest values). `None` for an empty curve.
pub fn expansion_regime(w: &[f64], no_ai: f64, tol: f64) -> Option<(ExpansionRegime, usize)> {
    let (&last, _) = w.split_last()?;
    let peak = (0..w.len()).fold(0, |b, i| if w[i] > w[b] { i } else { b });
    let top = w[peak];
    let regime = if top <= no_ai + tol {
        ExpansionRegime::HarmfulFromEntry
    } else if top > last + tol && peak + 1 < w.len() {
        ExpansionRegime::InvertedU
    } else {
        // The best is (within tol) the most expansion: monotone unless it dips on the way.
        let mut run_max = no_ai;
        let dips = w.iter().any(|&v| {
            let d = v < run_max - tol;
            run_max = run_max.max(v);
            d
        });
        if dips { ExpansionRegime::GainsWithDip } else { ExpansionRegime::MonotoneGains }
    };
    Some((regime, peak))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expansion_regimes_by_hand() {
        use ExpansionRegime::*;
        let r = |w: &[f64], no_ai| expansion_regime(w, no_ai, 0.01).map(|x| x.0);
        assert_eq!(r(&[0.4, 0.5, 0.6, 0.7], 0.3), Some(MonotoneGains));
        // A drop within the tolerance is a tie, not a dip.
        assert_eq!(r(&[0.4, 0.5, 0.495, 0.7], 0.3), Some(MonotoneGains));
        assert_eq!(r(&[0.4, 0.6, 0.5, 0.7], 0.3), Some(GainsWithDip));
        // First entry below the no-AI level, then above it: a dip, not harm.
        assert_eq!(r(&[0.2, 0.5, 0.7], 0.3), Some(GainsWithDip));
        assert_eq!(expansion_regime(&[0.4, 0.6, 0.5, 0.2], 0.3, 0.01), Some((InvertedU, 1)));
        assert_eq!(r(&[0.25, 0.305, 0.1], 0.3), Some(HarmfulFromEntry));
        assert_eq!(r(&[], 0.3), None);
    }

    #[test]
    fn transfers_cancel_in_total_welfare() {
        let a = welfare(10.0, 5.0, 0.1, 10.0, 3.0, 1.0, 0.0, 0.0, 0.0, 0.0);
        // A tax of 2 lowers creators' profit by 2 and raises revenue by 2.
        let b = welfare(10.0, 5.0, 0.1, 10.0, 1.0, 1.0, 2.0, 0.0, 0.0, 0.0);
        assert!((a.total - b.total).abs() < 1e-12);
        assert!((a.total - (5.0 - 1.0 + 4.0) / 10.0).abs() < 1e-12);
    }

    #[test]
    fn hhi_of_equal_shares_is_one_over_n() {
        assert!((hhi(4.0, 4.0) - 0.25).abs() < 1e-12);
        assert_eq!(hhi(0.0, 0.0), 0.0);
    }
}
