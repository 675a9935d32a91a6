//! The one error type of hollow's files: reading or writing a run, mean-field,
//! equilibrium, sweep or fact file, taking its output path (`io::output`), and the tables
//! of `io::tables` (whose `TableError` is this type under its old name). Every message
//! names the file; the variant says whose fault it is (a bad input file, or an output
//! that cannot be written), which the CLI turns into an exit code.

/// What went wrong reading or writing one of hollow's files; every message names the file.
#[derive(thiserror::Error, Debug)]
pub enum OutputError {
    #[error("{file}: {doing} failed: {source}")]
    Io {
        file: String,
        doing: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: HDF5 error while {doing}: {source}")]
    Hdf5 {
        file: String,
        doing: String,
        #[source]
        source: ::hdf5::Error,
    },
    /// The file is not what it should be (or the data do not fit its layout).
    #[error("{file}: {reason}")]
    Format { file: String, reason: String },
    /// The output path may not be replaced (see `io::output`).
    #[error("{file}: refusing to write the output there: {reason}")]
    Refused { file: String, reason: String },
    /// Another process holds the output's lock.
    #[error(
        "{file}: another process is writing this output (it holds the lock on {lock}); wait for it to finish, \
         or choose another output path"
    )]
    Locked { file: String, lock: String },
}

impl OutputError {
    /// A [`OutputError::Format`] error of `file`.
    pub fn format(file: &str, reason: impl Into<String>) -> OutputError {
        OutputError::Format { file: file.to_string(), reason: reason.into() }
    }
}
