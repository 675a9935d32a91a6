//! The stages of the step, declared once. Their order here is MODEL.md's order; the step
//! driver (`sim::step_markets`) runs them in it (a unit test there checks the calls), the
//! GPU builds one pipeline per stage from this list, the traffic model and `hollow bench`
//! report per stage in it, and the backends' methods carry the same names as the WGSL
//! files (`shaders/<name>.wgsl`).

/// One stage of the step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Creators post offers: quality, price and units for the step.
    Offers,
    /// Units are laid out per channel (prefix sums of the caps).
    Scan,
    /// Buyers sample offers and propose to the best (per search round).
    Search,
    /// Each unit goes to its best proposer (per search round).
    Resolve,
    /// Buyers learn from what they bought (participation, directedness).
    Buyers,
    /// Creators' sales become revenue and profit; prices move.
    Accounts,
    /// The step's aggregates (totals, histograms).
    Reduce,
    /// Creators revise mode, creative share and volume.
    Decide,
}

impl Stage {
    /// Every stage, in the order the step runs them (search and resolve once per round).
    pub const ALL: [Stage; 8] = [
        Stage::Offers,
        Stage::Scan,
        Stage::Search,
        Stage::Resolve,
        Stage::Buyers,
        Stage::Accounts,
        Stage::Reduce,
        Stage::Decide,
    ];
    pub const COUNT: usize = Self::ALL.len();
    /// Their names, as in the backend trait, the shaders and `hollow bench`.
    pub const NAMES: [&'static str; Self::COUNT] =
        ["offers", "scan", "search", "resolve", "buyers", "accounts", "reduce", "decide"];

    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// The stage's position in [`Stage::ALL`] (for per-stage arrays).
    pub fn index(self) -> usize {
        self as usize
    }

    /// Whether the stage runs once per search round rather than once per step.
    pub fn per_round(self) -> bool {
        matches!(self, Stage::Search | Stage::Resolve)
    }

    /// The stage named `name`.
    pub fn of_name(name: &str) -> Option<Stage> {
        Self::NAMES.iter().position(|&n| n == name).map(|i| Self::ALL[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_indices_follow_the_declaration() {
        for (i, s) in Stage::ALL.into_iter().enumerate() {
            assert_eq!(s.index(), i);
            assert_eq!(Stage::of_name(s.name()), Some(s));
        }
        assert_eq!(Stage::of_name("nope"), None);
    }
}
