//! The economics as pure functions of plain data, with no backend code: technology
//! (quality, costs, the shock), market curves and expected profits, per-agent rules
//! (pricing, volume, buyers' learning, decisions), welfare, and the two analytic layers
//! (static equilibrium, mean field). WGSL shaders mirror these functions by name.

pub mod equilibrium;
pub mod market;
pub mod meanfield;
pub mod rules;
pub mod technology;
pub mod welfare;
