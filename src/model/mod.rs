//! The economics as pure functions of plain data, with no backend code: technology
//! (quality, costs, the shock), market curves and expected profits, per-agent rules
//! (pricing, volume, buyers' learning, decisions), welfare, and the step's parameters.
//! WGSL shaders mirror these functions by name. `model` imports only `config` and `rng`;
//! the analytic layers built on it live in `crate::layers`.

pub mod dynamics;
pub mod market;
pub mod params;
pub mod rules;
pub mod technology;
pub mod welfare;
