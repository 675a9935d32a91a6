//! A small HDF5 writer for outputs that are not run files (`hollow equilibrium`,
//! `hollow reproduce`): groups addressed by path, f64 datasets with units and
//! descriptions, and scalar or text attributes, written with `io::h5`. Written to
//! `<path>.tmp` and renamed when complete, so a file is either whole or absent; the path is
//! checked and locked by [`Output`] first. Every error names the file and what was being
//! written. Also reads single attributes and datasets back (tests, `reproduce`).

use crate::io::h5::{self, Ctx};
use crate::io::output::Output;
use ::hdf5::{File, Group};
use std::path::Path;

pub use crate::io::error::OutputError;

/// The error of a table file: the one error of hollow's files, under the name it had
/// when tables had their own (kept for the code that names it).
pub type TableError = OutputError;

/// An HDF5 file being written; `finish` makes it visible at its path.
pub struct TableFile {
    file: Option<File>,
    out: Output,
    /// The final path, as errors name it.
    name: String,
}

impl TableFile {
    /// Starts `<path>.tmp`; the directory must exist (see [`Output::create`] for the
    /// paths it refuses).
    pub fn create(path: &Path, format: &str) -> Result<TableFile, OutputError> {
        Self::create_in(Output::create(path, &[], false)?, format)
    }

    /// Starts the file in an [`Output`] taken earlier (with the command's inputs and `--force`).
    pub fn create_in(out: Output, format: &str) -> Result<TableFile, OutputError> {
        let name = out.path().display().to_string();
        let file =
            File::create(out.tmp()).ctx(&name, || format!("creating the temporary file {}", out.tmp().display()))?;
        let t = TableFile { file: Some(file), out, name };
        t.attr_str("/", "format", format)?;
        t.attr_str("/", "hollow_version", env!("CARGO_PKG_VERSION"))?;
        t.attr_str("/", "created", &h5::now_rfc3339())?;
        Ok(t)
    }

    fn f(&self) -> &File {
        self.file.as_ref().expect("open until finish")
    }

    /// The group at `path` ("/" for the root), created with its parents if needed.
    fn group(&self, path: &str) -> Result<Group, OutputError> {
        let mut g = self.f().group("/").ctx(&self.name, || "opening /".to_string())?;
        for part in path.split('/').filter(|p| !p.is_empty()) {
            g = if g.link_exists(part) { g.group(part) } else { g.create_group(part) }
                .ctx(&self.name, || format!("creating group {path}"))?;
        }
        Ok(g)
    }

    /// A scalar f64 attribute on a group.
    pub fn attr(&self, group: &str, name: &str, v: f64) -> Result<(), OutputError> {
        let g = self.group(group)?;
        h5::put(&g, &self.name, name, v)
    }

    /// A text attribute on a group.
    pub fn attr_str(&self, group: &str, name: &str, v: &str) -> Result<(), OutputError> {
        let g = self.group(group)?;
        h5::put_str(&g, &self.name, name, v)
    }

    /// An f64 dataset of `shape` (C order) with `units` and `description` attributes.
    pub fn dataset(
        &self,
        group: &str,
        name: &str,
        shape: &[usize],
        data: &[f64],
        units: &str,
        description: &str,
    ) -> Result<(), OutputError> {
        h5::put_described(&self.group(group)?, &self.name, name, shape, data, units, description).map(drop)
    }

    /// A categorical coordinate: a dataset of `labels` in `group` that is the dimension
    /// scale `name` (attach it with [`TableFile::dims`]).
    pub fn label_scale(&self, group: &str, name: &str, labels: &[&str], description: &str) -> Result<(), OutputError> {
        let g = self.group(group)?;
        let ds = h5::put_labels(&g, &self.name, name, labels)?;
        h5::put_meta(&ds, &self.name, "1", description)?;
        crate::io::dimscale::set_scale(&ds, name).ctx(&self.name, || format!("making {group}/{name} a dimension scale"))
    }

    /// Makes the existing dataset `group/name` (1-D) the dimension scale `name`: a
    /// coordinate, as xarray calls it.
    pub fn scale(&self, group: &str, name: &str) -> Result<(), OutputError> {
        let ds = self.group(group)?.dataset(name).ctx(&self.name, || format!("opening {group}/{name}"))?;
        crate::io::dimscale::set_scale(&ds, name).ctx(&self.name, || format!("making {group}/{name} a dimension scale"))
    }

    /// Attaches dimension scales of `group` (by name, one per dimension) to datasets of
    /// `group`, all at once (a scale's back-references are written once).
    pub fn dims(&self, group: &str, links: &[(&str, &[&str])]) -> Result<(), OutputError> {
        let g = self.group(group)?;
        let open = |n: &str| g.dataset(n).ctx(&self.name, || format!("opening {group}/{n}"));
        let mut owned: Vec<(::hdf5::Dataset, Vec<::hdf5::Dataset>)> = Vec::new();
        for (d, scales) in links {
            owned.push((open(d)?, scales.iter().map(|s| open(s)).collect::<Result<_, _>>()?));
        }
        let refs: Vec<Vec<&::hdf5::Dataset>> = owned.iter().map(|(_, s)| s.iter().collect()).collect();
        let links: Vec<(&::hdf5::Dataset, &[&::hdf5::Dataset])> =
            owned.iter().zip(&refs).map(|((d, _), s)| (d, s.as_slice())).collect();
        crate::io::dimscale::attach_each(self.f(), &links)
            .ctx(&self.name, || format!("attaching the dimension scales of {group}"))
    }

    /// Closes the file and renames it over its path.
    pub fn finish(mut self) -> Result<(), OutputError> {
        if let Some(f) = self.file.take() {
            f.close().ctx(&self.name, || "closing the temporary file".to_string())?;
        }
        self.out.commit()
    }
}

impl Drop for TableFile {
    /// An unfinished file (an error on the way) leaves no temporary behind.
    fn drop(&mut self) {
        if let Some(f) = self.file.take() {
            let _ = f.close();
            self.out.discard();
        }
    }
}

/// A scalar f64 attribute of the group at `group` in an HDF5 file.
pub fn read_attr(path: &Path, group: &str, name: &str) -> Result<f64, OutputError> {
    let file = path.display().to_string();
    let f = File::open(path).ctx(&file, || "opening the file as HDF5".to_string())?;
    let g = f.group(group).ctx(&file, || format!("opening group {group}"))?;
    h5::get(&g, &file, name)
}

/// An f64 dataset (flattened) of an HDF5 file.
pub fn read_dataset(path: &Path, name: &str) -> Result<Vec<f64>, OutputError> {
    let file = path.display().to_string();
    let f = File::open(path).ctx(&file, || "opening the file as HDF5".to_string())?;
    f.dataset(name).and_then(|d| d.read_raw::<f64>()).ctx(&file, || format!("reading dataset {name}"))
}
