//! The analytic layers beside the agent-based model: the static equilibrium
//! ([`equilibrium`], a fixed point of prices and entry) and the mean field
//! ([`meanfield`], the ABM's step on distributions instead of agents). Both are built from
//! `model`'s pure functions and the market dynamics the simulation uses.

pub mod equilibrium;
pub mod meanfield;
