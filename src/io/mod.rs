//! Run output: the HDF5 file a run leaves behind ([`hdf5`]: writer and reader, layout in
//! `docs/output.md`). What is recorded is declared in [`crate::observe`]; this module only
//! stores and loads it. Figures (`plot.rs`) live here too but are not part of this file.

pub mod dimscale;
pub mod export;
pub mod hdf5;
pub mod heatmap;
pub mod layers;
pub mod output;
pub mod phase;
pub mod plot;
pub mod runplot;
pub mod tables;

pub use self::hdf5::{OutputError, RunFile, RunMeta, now_rfc3339, read_run, write_run};
