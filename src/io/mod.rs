//! Output: the files hollow writes and reads, and its figures. `h5` is the HDF5 vocabulary
//! every file is written with (attributes, described datasets, reading back), `error` the
//! one error of files, `output` the one guarded, atomic writer (checks, lock, temporary
//! file, rename) of files and figures; `hdf5` and `snapshots` are the run file (layout in
//! `docs/output.md`), `dimscale` its netCDF dimension scales, `tables` the small files of
//! `equilibrium` and `reproduce`, `layers` the analytic layers' outputs, `export` the CSV
//! tables. What is recorded is declared in [`crate::observe`]; this module only stores and
//! loads it. Figures: `plot` (panels of lines and histograms; the PNG writer and its error),
//! `heatmap` and `scale` (phase diagrams), `phase`, `runplot`; `labels` (what every figure
//! calls a config key or metric: "pollution β") and `place` (where legends and labels go).

pub mod dimscale;
pub mod error;
pub mod export;
pub mod h5;
pub mod hdf5;
pub mod heatmap;
pub mod labels;
pub mod layers;
pub mod output;
pub mod phase;
pub mod place;
pub mod plot;
mod regions;
pub mod runplot;
pub mod scale;
pub mod snapshots;
pub mod tables;

pub use self::error::OutputError;
pub use self::h5::now_rfc3339;
pub use self::hdf5::{RunFile, RunMeta, read_run, write_run};
