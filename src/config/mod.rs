//! The typed run configuration: every model constant of MODEL.md with its default, unit,
//! documentation and valid range, declared once (the `section!` macro generates the struct,
//! its defaults, the commented `hollow config --defaults` text and the range checks).
//! Owns parsing (TOML, unknown keys rejected), `--set key=value` overrides and validation;
//! every error names the key, the file and, where it can, the line.

use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::Path;

mod text;

pub use text::{MAX_CONFIG_BYTES, find_line, read_text};
use text::{apply_override, full_key, locate_bad_key, override_key, parse_error, tidy};

/// A configuration problem, always naming the key and saying why.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}: cannot read: {source}")]
    Io { file: String, source: std::io::Error },
    #[error("{file}{line}: {msg}")]
    Parse { file: String, line: String, msg: String },
    #[error("{file}{line}: key `{key}`: {reason}")]
    Invalid { file: String, line: String, key: String, reason: String },
    #[error("--set {arg}: {reason}")]
    Override { arg: String, reason: String },
}

/// Documentation of one config key, for `--defaults` and the README reference.
pub struct FieldDoc {
    pub key: &'static str,
    pub doc: &'static str,
    pub default: toml::Value,
}

/// Range checks by type; NaN and infinities are always rejected for floats.
pub trait Check {
    fn check(&self, lo: f64, hi: f64) -> Result<(), String>;
}
impl Check for f32 {
    fn check(&self, lo: f64, hi: f64) -> Result<(), String> {
        if !self.is_finite() {
            return Err(format!("must be a finite number, got {self}"));
        }
        let v = *self as f64;
        if v < lo || v > hi {
            return Err(format!("must be in [{lo}, {hi}], got {self}"));
        }
        Ok(())
    }
}
macro_rules! int_check {
    ($($t:ty),*) => {$(
        impl Check for $t {
            fn check(&self, lo: f64, hi: f64) -> Result<(), String> {
                let v = *self as f64;
                if v < lo || v > hi {
                    return Err(format!("must be in [{lo}, {hi}], got {self}"));
                }
                Ok(())
            }
        }
    )*};
}
int_check!(u32, u64);
impl Check for bool {
    fn check(&self, _: f64, _: f64) -> Result<(), String> {
        Ok(())
    }
}
impl Check for Vec<u32> {
    fn check(&self, lo: f64, hi: f64) -> Result<(), String> {
        for v in self {
            v.check(lo, hi)?;
        }
        Ok(())
    }
}

macro_rules! section {
    (
        $(#[$smeta:meta])*
        $name:ident, $table:expr, {
            $( $(#[doc = $doc:expr])+ $(#[serde($($sattr:tt)*)])? $field:ident : $ty:ty = $default:expr, [$lo:expr, $hi:expr] ; )*
        }
    ) => {
        $(#[$smeta])*
        #[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
        #[serde(deny_unknown_fields, default)]
        pub struct $name {
            $( $(#[doc = $doc])+ $(#[serde($($sattr)*)])? pub $field: $ty, )*
        }
        impl Default for $name {
            fn default() -> Self {
                Self { $( $field: $default, )* }
            }
        }
        impl $name {
            /// The table name in the TOML file ("" for the top level).
            pub const TABLE: &'static str = $table;
            /// Key documentation with default values.
            pub fn docs() -> Vec<FieldDoc> {
                let d = Self::default();
                vec![ $( FieldDoc {
                    key: stringify!($field),
                    doc: concat!($($doc, "\n"),+),
                    default: tidy(toml::Value::try_from(&d.$field).expect("defaults serialise")),
                }, )* ]
            }
            /// Range checks, as (key, reason) on the first failure.
            pub fn check_ranges(&self) -> Result<(), (&'static str, String)> {
                $( Check::check(&self.$field, $lo as f64, $hi as f64).map_err(|e| (stringify!($field), e))?; )*
                Ok(())
            }
        }
    };
}

/// Seeds as TOML integers where they fit in TOML's signed 64 bits, else as a string of
/// digits; either form is read back (so `--seed` takes every u64 and the config stored in
/// an output file always parses).
mod seed_serde {
    use serde::{Deserializer, Serializer, de};

    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        match i64::try_from(*v) {
            Ok(i) => s.serialize_i64(i),
            Err(_) => s.serialize_str(&v.to_string()),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = u64;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a non-negative integer (or a string of digits for seeds of 2^63 and above)")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
                u64::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
                Ok(v)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
                v.trim().parse().map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        d.deserialize_any(V)
    }
}

/// How the AI cost falls at the shock.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Ramp {
    /// `c_A` jumps at `shock_step`.
    Step,
    /// Linear interpolation over `ramp_steps` from `shock_step`.
    Linear,
    /// Logistic in time centred `ramp_steps / 2` after `shock_step`.
    Logistic,
}
impl Check for Ramp {
    fn check(&self, _: f64, _: f64) -> Result<(), String> {
        Ok(())
    }
}

/// What the human variable cost c_H is paid on.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CostBasis {
    /// Per unit sold (MODEL.md's table; the default): an unsold human unit costs nothing.
    Sold,
    /// Per unit produced, sold or not: a human whose unit does not sell loses c_H.
    Produced,
}
impl Check for CostBasis {
    fn check(&self, _: f64, _: f64) -> Result<(), String> {
        Ok(())
    }
}

/// The creators' decision rule.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Logit over expected profits read off the market curves (the default).
    Logit,
    /// The paper's Q-learning over {stay, re-skill, adopt AI, exit}.
    QLearning,
}
impl Check for Decision {
    fn check(&self, _: f64, _: f64) -> Result<(), String> {
        Ok(())
    }
}

section! {
    /// Top-level run keys.
    Top, "", {
        /// Master random seed; same config and seed give the same output on any thread count.
        /// Any u64: seeds of 2^63 and above are written as a string of digits (TOML
        /// integers are signed 64-bit).
        #[serde(with = "seed_serde")]
        seed: u64 = 1, [0, u64::MAX];
        /// Run length in steps.
        steps: u32 = 300, [1, 10_000_000];
        /// Number of creators N_c.
        creators: u32 = 100_000, [1, 1_000_000_000];
        /// Number of buyers N_b (below 2^30: the conflict-resolution key space).
        buyers: u32 = 200_000, [1, 1_073_741_823];
        /// Steps at which per-agent histograms and market curves are stored; empty means
        /// the first step, the step before the shock and the last step.
        snapshot_steps: Vec<u32> = Vec::new(), [0, 10_000_000];
    }
}

section! {
    /// Technology: skills, quality, costs and the AI shock.
    Technology, "technology", {
        /// Dispersion of talent: S = exp(N(0, talent_sigma)).
        talent_sigma: f32 = 0.5, [0.0, 3.0];
        /// Lower bound of the creative share x.
        x_lo: f32 = 0.05, [0.0, 1.0];
        /// Upper bound of the creative share x.
        x_hi: f32 = 0.95, [0.0, 1.0];
        /// Execution weight w in human quality q_H = tau^w s^(1-w) / Z(w) before AI floods
        /// (omega0); the best split is x = 1 - w.
        omega0: f32 = 0.6, [0.01, 0.99];
        /// Novelty premium: w_t = omega0 (1 - novelty A_t), A_t the EMA of the AI share of units.
        novelty: f32 = 0.5, [0.0, 1.0];
        /// EMA weight of A_t, the AI share of units offered that drives w_t (MODEL.md: 0.1).
        share_ema: f32 = 0.1, [0.0, 1.0];
        /// AI quality per unit of creative skill: q_A = min(qbar_A, alpha_a s).
        alpha_a: f32 = 2.0, [0.0, 100.0];
        /// AI quality ceiling qbar_A (quality units).
        qbar_a: f32 = 0.8, [0.0, 100.0];
        /// Largest AI volume v per step (units).
        ai_volume_max: u32 = 64, [1, 4096];
        /// AI volume of a new adopter (units).
        ai_volume_init: f32 = 4.0, [1.0, 4096.0];
        /// Speed of the AI volume rule (per step, on the relative margin).
        vol_speed: f32 = 0.2, [0.0, 10.0];
        /// Fixed cost of AI mode per step, F_A (money).
        ai_fixed: f32 = 0.3, [0.0, 1.0e6];
        /// AI marginal cost per generated unit before the shock (money).
        ai_cost_pre: f32 = 5.0, [0.0, 1.0e6];
        /// AI marginal cost per generated unit after the shock (money).
        ai_cost_post: f32 = 0.02, [0.0, 1.0e6];
        /// Step at which the AI cost starts to fall (beyond `steps` means no shock).
        shock_step: u32 = 50, [0, u32::MAX];
        /// Shape of the fall: "step", "linear" or "logistic".
        shock_ramp: Ramp = Ramp::Step, [0, 0];
        /// Length of a linear or logistic fall (steps).
        ramp_steps: u32 = 20, [1, 1_000_000];
        /// Scale s on both post-shock AI costs (c_A and F_A): the AI-expansion axis of F5.
        ai_cost_scale: f32 = 1.0, [0.0, 1.0e6];
        /// Fee per AI unit sold, paid to the provider (money).
        api_fee: f32 = 0.02, [0.0, 1.0e6];
        /// Platform minimum list price of an AI unit (money; like an app or e-book store's
        /// lowest price point). AI prices never fall below max(api_fee, ai_price_floor): a
        /// floor below the fee simply lets the fee bind. Once AI prices sit on it, cheaper
        /// generation grows the flood instead of lowering prices (MODEL.md step 4).
        ai_price_floor: f32 = 0.15, [0.0, 1.0e6];
        /// Human variable cost per unit sold, c_H (money).
        cost_human: f32 = 0.3, [0.0, 1.0e6];
        /// What c_H is paid on: "sold" (default, MODEL.md) or "produced" (every human unit
        /// offered, sold or not, so a human whose unit does not sell loses money). Only with
        /// decisions.decision = "q_learning" (the logit rule's expected profits and the
        /// mean field assume "sold").
        human_cost_basis: CostBasis = CostBasis::Sold, [0, 0];
        /// Number of AI providers (at most 16).
        n_providers: u32 = 3, [1, 16];
        /// Probability that an AI unit is junk (true quality 0).
        junk_share: f32 = 0.1, [0.0, 1.0];
    }
}

section! {
    /// Optional model collapse of AI quality (off by default).
    Collapse, "collapse", {
        /// Switch the collapse dynamics of qbar_A on.
        enabled: bool = false, [0, 0];
        /// Collapse rate b in log qbar(t+1) = log qbar(t) - b rho^2 + ...
        collapse_rate: f32 = 0.183, [0.0, 10.0];
        /// Recovery speed toward qbar_max when the synthetic share rho is low.
        recovery: f32 = 0.05, [0.0, 1.0];
        /// The ceiling qbar_A recovers toward (quality units).
        qbar_max: f32 = 0.8, [0.0, 100.0];
    }
}

section! {
    /// Buyers, search frictions and congestion.
    Market, "market", {
        /// Lower bound of buyers' taste for quality theta.
        theta_lo: f32 = 0.5, [0.0, 1.0e6];
        /// Upper bound of buyers' taste for quality theta.
        theta_hi: f32 = 1.5, [0.0, 1.0e6];
        /// Offers sampled per buyer and round, k (at most 64).
        k: u32 = 4, [1, 64];
        /// Search-and-match rounds per step.
        rounds: u32 = 2, [1, 16];
        /// Cost per sampled offer (money).
        search_cost: f32 = 0.005, [0.0, 1.0e6];
        /// Base signal noise sigma0 (quality units).
        sigma0: f32 = 0.1, [0.0, 100.0];
        /// Extra noise per unit of AI share of offers, sigma1.
        sigma1: f32 = 0.3, [0.0, 100.0];
        /// Pollution intensity beta: congestion cost pollution ln(1 + cong_eta D_A) per buyer.
        pollution: f32 = 0.5, [0.0, 1.0e3];
        /// Curvature eta of the congestion cost in D_A (AI units per buyer).
        cong_eta: f32 = 0.1, [0.0, 1.0e3];
        /// Share of the congestion stock D_A carried to the next step:
        /// D_A(t) = congestion_decay D_A(t-1) + AI units offered per buyer (MODEL.md: 0.5).
        congestion_decay: f32 = 0.5, [0.0, 0.99];
        /// If true only active buyers bear congestion and it enters U (buyers can escape it).
        congestion_in_participation: bool = false, [0, 0];
        /// Weight of the newest utility in the participation score U.
        lam_c: f32 = 0.2, [0.0, 1.0];
        /// Probability per step that an inactive buyer comes back.
        eps_c: f32 = 0.05, [0.0, 1.0];
        /// Step of directedness d toward human offers on the sign of u_human - u_ai.
        lam_d: f32 = 0.02, [0.0, 1.0];
        /// Weight of the newest purchase in channel experience u_human, u_ai.
        lam_u: f32 = 0.2, [0.0, 1.0];
        /// Initial directedness d.
        d_init: f32 = 0.0, [0.0, 1.0];
        /// Initial participation score U.
        u_init: f32 = 0.1, [-1.0e6, 1.0e6];
        /// Speed of the price rule price *= exp(price_speed (2 r - 1)).
        price_speed: f32 = 0.05, [0.0, 10.0];
        /// Initial human price as a multiple of mean taste times quality.
        price_init: f32 = 0.6, [0.0, 100.0];
        /// Quality bins of the market curves.
        bins: u32 = 32, [2, 1024];
        /// Upper end of the quality axis of the curves (quality units).
        q_max: f32 = 4.0, [0.001, 1.0e6];
        /// EMA weight mu of the market curves.
        mu: f32 = 0.2, [0.0, 1.0];
    }
}

section! {
    /// Creators' decisions: mode revision and skill reallocation.
    Decisions, "decisions", {
        /// Decision rule: "logit" (default) or "q_learning" (the paper's).
        decision: Decision = Decision::Logit, [0, 0];
        /// Probability per step that a creator revises its mode.
        revise: f32 = 0.05, [0.0, 1.0];
        /// Logit precision over expected profits (1 / money).
        logit: f32 = 20.0, [0.0, 1.0e6];
        /// Speed eta of the creative-share drift x += eta (x* - x).
        eta: f32 = 0.05, [0.0, 1.0];
        /// Number of grid points for the best-response creative share.
        x_grid: u32 = 19, [2, 256];
        /// Q-learning rate.
        q_alpha: f32 = 0.1, [0.0, 1.0];
        /// Q-learning discount.
        q_gamma: f32 = 0.9, [0.0, 0.999];
        /// Q-learning exploration probability (0 before the shock).
        q_epsilon: f32 = 0.05, [0.0, 1.0];
        /// Half-life of Q-learning exploration after the shock (steps): epsilon is
        /// q_epsilon * 0.5^((t - shock_step) / q_epsilon_halflife); 0 keeps it constant.
        q_epsilon_halflife: f32 = 0.0, [0.0, 1.0e9];
        /// Initial Q-value of the untried actions re-skill and adopt AI (money; the paper's
        /// rule: 0). Ties among equal Q-values go to the lower index: stay, re-skill, adopt, exit.
        /// It applies from the first step: above a creator's pre-shock Q(stay) the creator
        /// re-skills and adopts AI before the shock.
        q_init: f32 = 0.0, [-1.0e6, 1.0e6];
        /// Outside option of exit under Q-learning (money per step; 0 = none, the paper's
        /// rule): from the shock on, Q(exit) is its known value q_outside / (1 - q_gamma)
        /// rather than learned, so a creator whose Q(stay) falls below it leaves greedily.
        /// A learning device only: it is no income in the market's accounts.
        q_outside: f32 = 0.0, [0.0, 1.0e6];
        /// Q-learning actions name modes: "stay" is human craft from any mode (an AI or
        /// exited creator choosing it returns to human craft at the market price for its
        /// quality), "adopt" is AI, "exit" is exit; so no choice is irreversible and each
        /// Q-value learns one mode's realised profit. false: the paper's rule (stay keeps
        /// the current mode; adopting AI and exit are for good).
        q_reversible: bool = false, [0, 0];
        /// Steps a re-skilling takes (at half output).
        reskill_steps: u32 = 5, [1, 10_000];
        /// Cost per re-skilling step (money).
        reskill_cost: f32 = 0.05, [0.0, 1.0e6];
        /// Creative share moved from technical to creative by one re-skilling.
        reskill_delta: f32 = 0.1, [0.0, 1.0];
    }
}

section! {
    /// Policy instruments (all off by default).
    Policy, "policy", {
        /// Tax per AI unit generated (output-side congestion tax).
        unit_tax: f32 = 0.0, [0.0, 1.0e6];
        /// Tax per step on AI mode, raising F_A (input regulation).
        adoption_tax: f32 = 0.0, [0.0, 1.0e6];
        /// Subsidy per human unit sold (provenance subsidy).
        provenance_subsidy: f32 = 0.0, [0.0, 1.0e6];
        /// Probability that a directed pick is truly human (watermarking).
        label_accuracy: f32 = 1.0, [0.0, 1.0];
        /// Platform curation: raises the human share of samples to h + curation (1 - h).
        curation: f32 = 0.0, [0.0, 1.0];
    }
}

section! {
    /// Equilibrium check run in every simulation.
    Equilibrium, "equilibrium", {
        /// Rolling window (steps) of the settling test.
        window: u32 = 30, [2, 1_000_000];
        /// Tolerance: settled when every watched series moves less than this over the window
        /// (absolute for shares, relative to the mean for welfare).
        tol: f32 = 0.02, [0.0, 1.0];
    }
}

/// A complete run configuration.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(flatten)]
    pub top: Top,
    #[serde(default)]
    pub technology: Technology,
    #[serde(default)]
    pub collapse: Collapse,
    #[serde(default)]
    pub market: Market,
    #[serde(default)]
    pub decisions: Decisions,
    #[serde(default)]
    pub policy: Policy,
    #[serde(default)]
    pub equilibrium: Equilibrium,
}

impl Config {
    /// Reads, parses and validates a config file.
    pub fn load(path: &Path, overrides: &[String]) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let text = read_text(path).map_err(|source| ConfigError::Io { file: file.clone(), source })?;
        Self::from_str_named(&text, &file, overrides)
    }

    /// Parses TOML text (named `file` in errors), applies `key=value` overrides, validates.
    /// Errors name the key and the line of the file, or the `--set` argument that gave
    /// the value.
    pub fn from_str_named(text: &str, file: &str, overrides: &[String]) -> Result<Config, ConfigError> {
        // The file alone first, so that type errors point at the user's own line.
        let from_file: Config = toml::from_str(text).map_err(|e: toml::de::Error| {
            // Serde reports errors of the flattened top level at the whole table, without the
            // key: find the key by deserialising each value on its own.
            match text.parse::<toml::Table>().ok().and_then(|t| locate_bad_key(&t)) {
                Some((table, key, msg)) => ConfigError::Parse {
                    file: file.to_string(),
                    line: find_line(text, &table, &key).map(|l| format!(":{l}")).unwrap_or_default(),
                    msg: format!("key `{}`: {msg}", full_key(&table, &key)),
                },
                None => parse_error(file, text, &e),
            }
        })?;
        if overrides.is_empty() {
            from_file.validate(file, text)?;
            return Ok(from_file);
        }
        let mut table: toml::Table = text.parse().map_err(|e: toml::de::Error| parse_error(file, text, &e))?;
        for arg in overrides {
            // Each override on its own first, so an error blames the argument that caused it.
            let mut alone = toml::Table::new();
            apply_override(&mut alone, arg)?;
            if let Some((t, key, msg)) = locate_bad_key(&alone) {
                return Err(ConfigError::Override {
                    arg: arg.clone(),
                    reason: format!("key `{}`: {msg}", full_key(&t, &key)),
                });
            }
            apply_override(&mut table, arg)?;
        }
        let merged = toml::to_string(&table).map_err(|e| ConfigError::Override {
            arg: overrides.join(" "),
            reason: format!("the overrides do not form a valid config: {e}"),
        })?;
        let cfg: Config =
            toml::from_str(&merged).map_err(|e: toml::de::Error| match parse_error("--set", &merged, &e) {
                ConfigError::Parse { msg, .. } => ConfigError::Override { arg: overrides.join(" "), reason: msg },
                other => other,
            })?;
        cfg.validate(file, text).map_err(|e| match e {
            // A value that came from `--set` is blamed on the argument, not on the file.
            ConfigError::Invalid { key, reason, .. } if overrides.iter().any(|o| override_key(o) == key) => {
                let arg = overrides.iter().rev().find(|o| override_key(o) == key).cloned().unwrap_or_default();
                ConfigError::Override { arg, reason: format!("key `{key}`: {reason}") }
            }
            other => other,
        })?;
        Ok(cfg)
    }

    /// Range and consistency checks; `text` (the file's content) is used to find line numbers.
    pub fn validate(&self, file: &str, text: &str) -> Result<(), ConfigError> {
        let bad = |table: &str, key: &str, reason: String| ConfigError::Invalid {
            file: file.to_string(),
            line: find_line(text, table, key).map(|l| format!(":{l}")).unwrap_or_default(),
            key: if table.is_empty() { key.to_string() } else { format!("{table}.{key}") },
            reason,
        };
        macro_rules! ranges {
            ($($s:expr, $t:ty);*) => {$(
                $s.check_ranges().map_err(|(k, r)| bad(<$t>::TABLE, k, r))?;
            )*};
        }
        ranges!(self.top, Top; self.technology, Technology; self.collapse, Collapse; self.market, Market;
                self.decisions, Decisions; self.policy, Policy; self.equilibrium, Equilibrium);
        let t = &self.technology;
        if t.x_lo >= t.x_hi {
            return Err(bad("technology", "x_hi", format!("must exceed x_lo ({}), got {}", t.x_lo, t.x_hi)));
        }
        if t.human_cost_basis == CostBasis::Produced && self.decisions.decision != Decision::QLearning {
            return Err(bad(
                "technology",
                "human_cost_basis",
                "\"produced\" needs decisions.decision = \"q_learning\" (the logit rule's expected profits and \
                 the mean field assume the cost per unit sold)"
                    .to_string(),
            ));
        }
        if t.ai_volume_init > t.ai_volume_max as f32 {
            return Err(bad(
                "technology",
                "ai_volume_init",
                format!("must not exceed ai_volume_max ({}), got {}", t.ai_volume_max, t.ai_volume_init),
            ));
        }
        let m = &self.market;
        if m.theta_lo > m.theta_hi {
            return Err(bad(
                "market",
                "theta_hi",
                format!("must be at least theta_lo ({}), got {}", m.theta_lo, m.theta_hi),
            ));
        }
        if let Some(&s) = self.top.snapshot_steps.iter().find(|&&s| s >= self.top.steps) {
            return Err(bad("", "snapshot_steps", format!("step {s} is beyond the run (steps = {})", self.top.steps)));
        }
        Ok(())
    }

    /// The config as TOML text (stored in every output file).
    pub fn to_toml(&self) -> String {
        let v = tidy(toml::Value::try_from(self).expect("config serialises"));
        toml::to_string(&v).expect("config serialises")
    }

    /// Steps at which snapshots are taken.
    pub fn snapshot_steps(&self) -> Vec<u32> {
        let mut s = if self.top.snapshot_steps.is_empty() {
            let last = self.top.steps - 1;
            vec![0, self.technology.shock_step.saturating_sub(1).min(last), last]
        } else {
            self.top.snapshot_steps.clone()
        };
        s.sort_unstable();
        s.dedup();
        s
    }
}

/// Every table's key documentation, top level first, in file order.
fn all_docs() -> [(&'static str, Vec<FieldDoc>); 7] {
    [
        (Top::TABLE, Top::docs()),
        (Technology::TABLE, Technology::docs()),
        (Collapse::TABLE, Collapse::docs()),
        (Market::TABLE, Market::docs()),
        (Decisions::TABLE, Decisions::docs()),
        (Policy::TABLE, Policy::docs()),
        (Equilibrium::TABLE, Equilibrium::docs()),
    ]
}

/// The full default configuration as commented TOML (`hollow config --defaults`).
pub fn defaults_toml() -> String {
    let mut out = String::from(
        "# hollow configuration: every key with its default. Any key may be left out.\n\
         # Units: money and quality are in model units; steps are simulation periods.\n\n",
    );
    let mut emit = |table: &str, docs: Vec<FieldDoc>| {
        if !table.is_empty() {
            let _ = writeln!(out, "[{table}]");
        }
        for f in docs {
            for l in f.doc.lines() {
                let _ = writeln!(out, "# {}", l.trim());
            }
            let _ = writeln!(out, "{} = {}", f.key, f.default);
        }
        out.push('\n');
    };
    for (table, docs) in all_docs() {
        emit(table, docs);
    }
    out
}

/// Markdown reference of every key (docs/config.md is generated from this).
pub fn reference_markdown() -> String {
    let mut out = String::from("| key | default | meaning |\n|---|---|---|\n");
    let mut emit = |table: &str, docs: Vec<FieldDoc>| {
        for f in docs {
            let key = if table.is_empty() { f.key.to_string() } else { format!("{table}.{}", f.key) };
            let doc = f.doc.lines().map(str::trim).collect::<Vec<_>>().join(" ");
            let _ = writeln!(out, "| `{key}` | `{}` | {doc} |", f.default);
        }
    };
    for (table, docs) in all_docs() {
        emit(table, docs);
    }
    out
}
