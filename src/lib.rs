//! hollow: a population-scale agent-based model of a content market absorbing the
//! generative-AI supply shock (MODEL.md), with a CPU (rayon) and a GPU (WGSL) backend.
//!
//! Vocabulary: a [`config::Config`] describes a run; [`sim::Simulation`] runs it on a
//! [`backend::Backend`]; [`observe`] declares what is recorded; [`io`] writes it.

pub mod backend;
pub mod cli;
pub mod config;
pub mod io;
pub mod layers;
pub(crate) mod mask;
pub mod model;
pub mod observe;
pub mod reproduce;
pub mod rng;
pub mod sim;
pub mod state;
pub mod sweep;
