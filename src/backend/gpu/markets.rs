//! How the markets of an ensemble lie in one set of buffers: their common shape, and the
//! concatenation of their states into one (units at a fixed stride per market) and back.

use super::GpuError;
use crate::config::Config;
use crate::state::{ID_MASK, NONE, State};

/// What an ensemble's markets must share (and the largest volume cap among them).
pub(super) struct Shape {
    pub(super) nc: u32,
    pub(super) nb: u32,
    pub(super) bins: u32,
    pub(super) vmax: u32,
}

impl Shape {
    pub(super) fn of(states: &[State], cfgs: &[&Config]) -> Result<Shape, GpuError> {
        if states.is_empty() || states.len() != cfgs.len() {
            return Err(GpuError::Input(format!("{} states for {} configs", states.len(), cfgs.len())));
        }
        let nc = check_lengths_creators(&states[0])?;
        let nb = check_lengths_buyers(&states[0])?;
        for (m, st) in states.iter().enumerate() {
            let (c, b) = (check_lengths_creators(st)?, check_lengths_buyers(st)?);
            if (c, b) != (nc, nb) {
                return Err(GpuError::Input(format!(
                    "market {m} has {c} creators and {b} buyers, market 0 {nc} and {nb}: an ensemble's markets \
                     must have the same size"
                )));
            }
        }
        let bins = cfgs[0].market.bins;
        if let Some(m) = cfgs.iter().position(|c| c.market.bins != bins) {
            return Err(GpuError::Input(format!(
                "market {m} has {} quality bins, market 0 {bins}: an ensemble's markets must agree",
                cfgs[m].market.bins
            )));
        }
        if nb >= 1 << crate::rng::PERM_BITS {
            return Err(GpuError::Input(format!("{nb} buyers: buyer ids must be below 2^30 (the claim-key space)")));
        }
        let vmax = cfgs.iter().map(|c| c.technology.ai_volume_max).max().unwrap_or(1);
        Ok(Shape { nc, nb, bins, vmax })
    }
}

/// One ensemble's state from markets' states: fields back to back, with the ids that point
/// into other arrays (a unit proposed to, the creator bought from) moved to the ensemble's.
pub(super) fn concat_states(states: Vec<State>, unit_stride: u32) -> State {
    let mut all = State::default();
    for (m, st) in states.into_iter().enumerate() {
        let nc = st.creators.len() as u32;
        let (c, b) = (st.creators, st.buyers);
        let a = &mut all.creators;
        a.talent.extend(c.talent);
        a.x.extend(c.x);
        a.mode.extend(c.mode);
        a.provider.extend(c.provider);
        a.vol.extend(c.vol);
        a.offer.extend(c.offer);
        a.cap.extend(c.cap);
        a.offset.extend(c.offset);
        a.sold.extend(c.sold);
        a.revenue.extend(c.revenue);
        a.qvals.extend(c.qvals);
        a.reskill.extend(c.reskill);
        let a = &mut all.buyers;
        a.theta.extend(b.theta);
        a.util.extend(b.util);
        a.d.extend(b.d);
        a.exp.extend(b.exp);
        a.active.extend(b.active);
        a.proposal.extend(b.proposal.iter().map(|&u| if u == NONE { u } else { u + m as u32 * unit_stride }));
        a.bought.extend(
            b.bought.iter().map(|&w| if w == NONE { w } else { (w & !ID_MASK) | ((w & ID_MASK) + m as u32 * nc) }),
        );
        a.searches.extend(b.searches);
        a.gain.extend(b.gain);
    }
    all
}

/// The inverse of `concat_states`.
pub(super) fn split_states(all: State, markets: usize, unit_stride: u32) -> Vec<State> {
    let nc = all.creators.len() / markets.max(1);
    let nb = all.buyers.len() / markets.max(1);
    (0..markets)
        .map(|m| {
            let (c0, c1) = (m * nc, (m + 1) * nc);
            let (b0, b1) = (m * nb, (m + 1) * nb);
            let a = &all.creators;
            let creators = crate::state::Creators {
                talent: a.talent[c0..c1].to_vec(),
                x: a.x[c0..c1].to_vec(),
                mode: a.mode[c0..c1].to_vec(),
                provider: a.provider[c0..c1].to_vec(),
                vol: a.vol[c0..c1].to_vec(),
                offer: a.offer[c0..c1].to_vec(),
                cap: a.cap[c0..c1].to_vec(),
                offset: a.offset[c0..c1].to_vec(),
                sold: a.sold[c0..c1].to_vec(),
                revenue: a.revenue[c0..c1].to_vec(),
                qvals: a.qvals[c0..c1].to_vec(),
                reskill: a.reskill[c0..c1].to_vec(),
            };
            let a = &all.buyers;
            let (us, cs) = (m as u32 * unit_stride, (m * nc) as u32);
            let buyers = crate::state::Buyers {
                theta: a.theta[b0..b1].to_vec(),
                util: a.util[b0..b1].to_vec(),
                d: a.d[b0..b1].to_vec(),
                exp: a.exp[b0..b1].to_vec(),
                active: a.active[b0..b1].to_vec(),
                proposal: a.proposal[b0..b1].iter().map(|&u| if u == NONE { u } else { u - us }).collect(),
                bought: a.bought[b0..b1]
                    .iter()
                    .map(|&w| if w == NONE { w } else { (w & !ID_MASK) | ((w & ID_MASK) - cs) })
                    .collect(),
                searches: a.searches[b0..b1].to_vec(),
                gain: a.gain[b0..b1].to_vec(),
            };
            State { creators, buyers }
        })
        .collect()
}

fn same_len(what: &str, lens: &[usize]) -> Result<u32, GpuError> {
    let n = lens[0];
    if lens.iter().any(|&l| l != n) {
        return Err(GpuError::Input(format!("{what} fields have different lengths: {lens:?}")));
    }
    u32::try_from(n).map_err(|_| GpuError::Input(format!("{n} {what} do not fit u32 ids")))
}

fn check_lengths_creators(s: &State) -> Result<u32, GpuError> {
    let c = &s.creators;
    same_len(
        "creators",
        &[
            c.talent.len(),
            c.x.len(),
            c.mode.len(),
            c.provider.len(),
            c.vol.len(),
            c.offer.len(),
            c.cap.len(),
            c.offset.len(),
            c.sold.len(),
            c.revenue.len(),
            c.qvals.len(),
            c.reskill.len(),
        ],
    )
}

fn check_lengths_buyers(s: &State) -> Result<u32, GpuError> {
    let b = &s.buyers;
    same_len(
        "buyers",
        &[
            b.theta.len(),
            b.util.len(),
            b.d.len(),
            b.exp.len(),
            b.active.len(),
            b.proposal.len(),
            b.bought.len(),
            b.searches.len(),
            b.gain.len(),
        ],
    )
}
