//! Welfare accounting per step: consumer surplus (search costs and congestion included),
//! producer surplus (creators and providers), pollution loss, taxes and subsidies, the
//! total, and revenue concentration (HHI over creators and providers).

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

#[cfg(test)]
mod tests {
    use super::*;

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
