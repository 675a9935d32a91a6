//! What figures call things: one table from config keys (`market.pollution`) and metric or
//! outcome names (`welfare_final`) to the words and symbols of the model ("pollution β",
//! "final welfare"), used for every figure's axis labels, titles, colour-bar labels and
//! region labels. A name the table does not know is its own label, so a new metric or key
//! still draws, under its bare name. Units come from `observe`'s declarations.

use crate::observe::{METRICS, outcome_unit};

/// (config key or metric name, label). Symbols are MODEL.md's; a metric recorded both per
/// step and as a run outcome (`share_ai`) has one entry.
const LABELS: &[(&str, &str)] = &[
    // Config keys, as `--set` and sweep axes spell them.
    ("creators", "creators N_c"),
    ("buyers", "buyers N_b"),
    ("technology.talent_sigma", "talent dispersion σ_S"),
    ("technology.omega0", "execution weight ω₀"),
    ("technology.novelty", "novelty premium"),
    ("technology.alpha_a", "AI quality per creative skill α_A"),
    ("technology.qbar_a", "AI quality ceiling qbar_A"),
    ("technology.ai_volume_max", "largest AI volume v_max"),
    ("technology.ai_fixed", "AI fixed cost F_A"),
    ("technology.ai_cost_pre", "AI marginal cost before the shock"),
    ("technology.ai_cost_post", "AI marginal cost c_A"),
    ("technology.ai_cost_scale", "AI cost scale s"),
    ("technology.shock_step", "shock step"),
    ("technology.api_fee", "API fee"),
    ("technology.ai_price_floor", "AI price floor"),
    ("technology.cost_human", "human unit cost c_H"),
    ("technology.n_providers", "AI providers"),
    ("technology.junk_share", "junk share of AI units"),
    ("collapse.collapse_rate", "collapse rate b"),
    ("collapse.recovery", "ceiling recovery speed"),
    ("market.theta_lo", "lowest taste θ_lo"),
    ("market.theta_hi", "highest taste θ_hi"),
    ("market.k", "offers sampled per round k"),
    ("market.rounds", "search rounds per step"),
    ("market.search_cost", "search cost per offer"),
    ("market.sigma0", "base signal noise σ₀"),
    ("market.sigma1", "signal noise per AI share σ₁"),
    ("market.pollution", "pollution β"),
    ("market.cong_eta", "congestion curvature η"),
    ("market.congestion_decay", "congestion carry-over"),
    ("market.lam_c", "participation weight λ_c"),
    ("market.eps_c", "return probability ε_c"),
    ("market.lam_d", "directedness step λ_d"),
    ("market.lam_u", "experience weight λ_u"),
    ("market.price_speed", "price speed"),
    ("market.mu", "curve EMA weight μ"),
    ("market.bins", "quality bins of the curves"),
    ("decisions.revise", "revision probability"),
    ("decisions.logit", "logit precision"),
    ("decisions.eta", "creative-share speed η_x"),
    ("decisions.q_alpha", "Q-learning rate α"),
    ("decisions.q_gamma", "Q-learning discount γ"),
    ("decisions.q_epsilon", "exploration ε"),
    ("policy.unit_tax", "AI unit tax"),
    ("policy.adoption_tax", "AI adoption tax"),
    ("policy.provenance_subsidy", "provenance subsidy"),
    ("policy.label_accuracy", "label accuracy"),
    ("policy.curation", "platform curation"),
    // Per-step metrics (`observe::METRICS`).
    ("step", "step"),
    ("ai_cost", "AI marginal cost c_A"),
    ("ai_fixed_cost", "AI fixed cost F_A"),
    ("share_exit", "exit share of creators"),
    ("share_ai", "AI share of creators"),
    ("share_human", "human share of creators"),
    ("active_buyers", "active buyers"),
    ("matches", "units bought"),
    ("units_ai", "AI units offered"),
    ("units_human", "human units offered"),
    ("ai_unit_share", "AI share of units offered"),
    ("ai_sold_share", "synthetic share ρ"),
    ("sell_through_ai", "AI sell-through"),
    ("sell_through_human", "human sell-through"),
    ("junk_share_sold", "junk share of units bought"),
    ("mean_price_paid", "mean price paid"),
    ("signal_noise", "signal noise σ_t"),
    ("execution_weight", "execution weight w_t"),
    ("qbar_a", "AI quality ceiling qbar_A"),
    ("congestion_stock", "AI volume D_A"),
    ("consumer_surplus", "consumer surplus"),
    ("producer_surplus", "producer surplus"),
    ("tax_revenue", "tax revenue"),
    ("subsidies", "subsidies"),
    ("welfare", "welfare"),
    ("pollution_loss", "pollution loss"),
    ("congestion", "congestion cost"),
    ("hhi", "revenue HHI"),
    ("mean_x_ai", "creative share x of AI creators"),
    ("mean_x_human", "creative share x of human creators"),
    ("mean_x_exit", "creative share x of exited creators"),
    ("mean_talent_ai", "talent S of AI creators"),
    ("mean_talent_human", "talent S of human creators"),
    ("revenue_human_mean", "revenue per human creator"),
    ("revenue_ai_mean", "revenue per AI creator"),
    ("ai_volume_mean", "AI volume v"),
    ("directedness", "directedness d"),
    // Run outcomes that are not per-step metrics (`observe::outcome_names`).
    ("welfare_final", "final welfare"),
    ("welfare_pre", "pre-shock welfare"),
    ("welfare_min", "lowest welfare after the shock"),
    ("welfare_change", "welfare change, final − pre-shock"),
    ("collapse_depth", "collapse depth"),
    ("collapse_duration", "collapse duration"),
    ("active_dip", "dip of active buyers"),
    ("hhi_pre", "pre-shock revenue HHI"),
    ("hhi_final", "final revenue HHI"),
    ("settle_step", "settling step"),
    ("units_ai_final", "final AI units offered"),
    ("congestion_final", "final congestion cost"),
    ("dominant_segment", "dominant segment"),
    ("welfare_regime", "welfare regime"),
    // The static layer's taste grid.
    ("theta", "taste θ"),
];

/// The label of a config key or metric name; the name itself when the table has none.
pub fn label(name: &str) -> &str {
    LABELS.iter().find(|(n, _)| *n == name).map_or(name, |(_, l)| l)
}

/// The unit of a metric or outcome as `observe` declares it ("" when it has none).
pub fn unit(name: &str) -> &'static str {
    outcome_unit(name).or_else(|| METRICS.iter().find(|m| m.name == name).map(|m| m.unit)).unwrap_or("")
}

/// An axis or colour-bar label: the name's label and, where it says something, its unit
/// ("final welfare (money/buyer)"); dimensionless ("1") and category units are left out.
pub fn with_unit(name: &str) -> String {
    match unit(name) {
        "" | "1" | "category" => label(name).to_string(),
        u => format!("{} ({u})", label(name)),
    }
}

/// The label of a sweep axis: the one its spec gives, or (when the spec left it at the key)
/// the key's label.
pub fn axis_label(key: &str, spec_label: &str) -> String {
    if spec_label.is_empty() || spec_label == key { label(key).to_string() } else { spec_label.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_symbols_label_their_keys_and_unknown_names_keep_theirs() {
        assert_eq!(label("market.pollution"), "pollution β");
        assert_eq!(label("technology.ai_cost_scale"), "AI cost scale s");
        assert_eq!(label("ai_sold_share"), "synthetic share ρ");
        assert_eq!(label("no.such_key"), "no.such_key");
        assert_eq!(with_unit("welfare_final"), "final welfare (money/buyer)");
        assert_eq!(with_unit("share_ai"), "AI share of creators");
        assert_eq!(with_unit("signal_noise"), "signal noise σ_t (quality)");
        assert_eq!(axis_label("market.pollution", "market.pollution"), "pollution β");
        assert_eq!(axis_label("market.pollution", "β, as I call it"), "β, as I call it");
    }

    #[test]
    fn every_labelled_name_is_a_config_key_a_metric_or_an_outcome() {
        // A renamed key or metric would otherwise silently lose its label.
        let reference = crate::config::reference_markdown();
        let outcomes: Vec<&str> = crate::observe::outcome_names().collect();
        for (name, _) in LABELS {
            let known = reference.contains(&format!("| `{name}` |"))
                || METRICS.iter().any(|m| m.name == *name)
                || outcomes.contains(name)
                || *name == "theta";
            assert!(known, "{name} is neither a config key, a metric nor an outcome");
        }
        let mut names: Vec<&str> = LABELS.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), LABELS.len(), "a name is listed twice");
    }

    #[test]
    fn every_metric_and_outcome_has_a_label() {
        let listed = |n: &str| LABELS.iter().any(|(k, _)| *k == n);
        for m in METRICS {
            assert!(listed(m.name), "metric {} has no label", m.name);
        }
        for o in crate::observe::outcome_names() {
            assert!(listed(o), "outcome {o} has no label");
        }
    }
}
