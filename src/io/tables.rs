//! A small HDF5 writer for outputs that are not run files (`hollow equilibrium`,
//! `hollow reproduce`): groups of f64 datasets with units and descriptions, and scalar or
//! text attributes. Written to `<path>.tmp` and renamed when complete, so a file is
//! either whole or absent; the path is checked and locked by [`Output`] first. Every error names the file and what was being written.
//! Also reads single root attributes back (tests, `reproduce`).

use crate::io::output::Output;
use ::hdf5::types::VarLenUnicode;
use ::hdf5::{File, Group};
use std::path::{Path, PathBuf};

/// What went wrong writing or reading a table file.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {doing}: {reason}")]
pub struct TableError {
    pub file: String,
    pub doing: String,
    pub reason: String,
}

/// An HDF5 file being written; `finish` makes it visible at its path.
pub struct TableFile {
    file: Option<File>,
    out: Output,
    path: PathBuf,
}

impl TableFile {
    /// Starts `<path>.tmp`; the directory must exist (see [`Output::create`] for the
    /// paths it refuses).
    pub fn create(path: &Path, format: &str) -> Result<TableFile, TableError> {
        let out = Output::create(path, &[], false).map_err(|e| output_err(path, e))?;
        Self::create_in(out, format)
    }

    /// Starts the file in an [`Output`] taken earlier (with the command's inputs and `--force`).
    pub fn create_in(out: Output, format: &str) -> Result<TableFile, TableError> {
        let path = out.path().to_path_buf();
        let file = File::create(out.tmp()).map_err(|e| terr(&path, "creating the temporary file", e))?;
        let t = TableFile { file: Some(file), out, path };
        t.attr_str("/", "format", format)?;
        t.attr_str("/", "hollow_version", env!("CARGO_PKG_VERSION"))?;
        t.attr_str("/", "created", &crate::io::hdf5::now_rfc3339())?;
        Ok(t)
    }

    fn f(&self) -> &File {
        self.file.as_ref().expect("open until finish")
    }

    /// The group at `path` ("/" for the root), created with its parents if needed.
    fn group(&self, path: &str) -> Result<Group, TableError> {
        let mut g = self.f().group("/").map_err(|e| terr(&self.path, "opening /", e))?;
        for part in path.split('/').filter(|p| !p.is_empty()) {
            g = if g.link_exists(part) { g.group(part) } else { g.create_group(part) }
                .map_err(|e| terr(&self.path, &format!("creating group {path}"), e))?;
        }
        Ok(g)
    }

    /// A scalar f64 attribute on a group.
    pub fn attr(&self, group: &str, name: &str, v: f64) -> Result<(), TableError> {
        let g = self.group(group)?;
        g.new_attr::<f64>()
            .create(name)
            .and_then(|a| a.write_scalar(&v))
            .map_err(|e| terr(&self.path, &format!("writing attribute {name} of {group}"), e))
    }

    /// A text attribute on a group.
    pub fn attr_str(&self, group: &str, name: &str, v: &str) -> Result<(), TableError> {
        let g = self.group(group)?;
        let s: VarLenUnicode = v
            .parse()
            .map_err(|e| terr(&self.path, &format!("attribute {name}"), format!("{e}; remove NUL characters")))?;
        g.new_attr::<VarLenUnicode>()
            .create(name)
            .and_then(|a| a.write_scalar(&s))
            .map_err(|e| terr(&self.path, &format!("writing attribute {name} of {group}"), e))
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
    ) -> Result<(), TableError> {
        if shape.iter().product::<usize>() != data.len() {
            return Err(terr(
                &self.path,
                &format!("dataset {group}/{name}"),
                format!("{} values do not fill shape {shape:?}", data.len()),
            ));
        }
        let g = self.group(group)?;
        let doing = format!("writing dataset {group}/{name}");
        let ds = g.new_dataset::<f64>().shape(shape).create(name).map_err(|e| terr(&self.path, &doing, e))?;
        if !data.is_empty() {
            ds.write_raw(data).map_err(|e| terr(&self.path, &doing, e))?;
        }
        for (k, v) in [("units", units), ("description", description)] {
            let s: VarLenUnicode = v.parse().map_err(|e| terr(&self.path, &doing, format!("{e}")))?;
            ds.new_attr::<VarLenUnicode>()
                .create(k)
                .and_then(|a| a.write_scalar(&s))
                .map_err(|e| terr(&self.path, &doing, e))?;
        }
        Ok(())
    }

    /// Closes the file and renames it over its path.
    pub fn finish(mut self) -> Result<(), TableError> {
        if let Some(f) = self.file.take() {
            f.close().map_err(|e| terr(&self.path, "closing the temporary file", e))?;
        }
        self.out.commit().map_err(|e| output_err(&self.path, e))
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

/// An [`Output`] error without its leading file name (the `TableError` names it).
fn output_err(path: &Path, e: crate::io::hdf5::OutputError) -> TableError {
    let msg = e.to_string();
    let prefix = format!("{}: ", path.display());
    terr(path, "writing the output", msg.strip_prefix(&prefix).unwrap_or(&msg))
}

fn terr(path: &Path, doing: &str, reason: impl ToString) -> TableError {
    TableError { file: path.display().to_string(), doing: doing.to_string(), reason: reason.to_string() }
}

/// A scalar f64 attribute of the group at `group` in an HDF5 file.
pub fn read_attr(path: &Path, group: &str, name: &str) -> Result<f64, TableError> {
    let f = File::open(path).map_err(|e| terr(path, "opening", e))?;
    let g = f.group(group).map_err(|e| terr(path, &format!("opening group {group}"), e))?;
    g.attr(name)
        .and_then(|a| a.read_scalar::<f64>())
        .map_err(|e| terr(path, &format!("reading attribute {name} of {group}"), e))
}

/// An f64 dataset (flattened) of an HDF5 file.
pub fn read_dataset(path: &Path, name: &str) -> Result<Vec<f64>, TableError> {
    let f = File::open(path).map_err(|e| terr(path, "opening", e))?;
    f.dataset(name).and_then(|d| d.read_raw::<f64>()).map_err(|e| terr(path, &format!("reading dataset {name}"), e))
}
