//! Output safety, shared by every file hollow writes (runs, mean-field and equilibrium
//! files, sweeps, checkpoints, merges, `facts.h5`, CSV exports) and every PNG figure: an
//! [`Output`] is taken before any work is done and checks the target, locks it and creates
//! the temporary file next to it, so a command that cannot write its output fails in its
//! first second, not after the simulation; [`Output::commit`] syncs the temporary file and
//! renames it over the path, so a file is either whole or absent. It refuses to replace
//!
//! - a file that is not an HDF5 file written by hollow (root attribute `format` starting
//!   with `hollow-`), unless `force` — a config, a note, someone else's data; a figure
//!   ([`Output::create_png`]) replaces only a PNG image;
//! - an input of the same command (even with `force`: it is read while being replaced);
//! - anything that is not a regular file: a symlink, a device such as `/dev/null`, a
//!   directory, a FIFO (even with `force`: the temp-then-rename would replace the node or
//!   the link itself with a regular file, which is never what was meant).
//!
//! While an `Output` lives it holds an advisory lock (`fs4`, `flock` on Unix) on
//! `<path>.lock`, so a second writer of the same path (a requeued job on a live shard)
//! gets a clear error instead of clobbering it. The lock file is removed when the
//! `Output` is dropped; the lock is per path, not per inode of the data file, because
//! every [`Output::commit`] renames a new inode over the path.

use super::error::OutputError;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

/// Bytes of the HDF5 signature at the start of a file (superblock at offset 0, which is
/// where the library writes it unless a user block is requested; hollow never does).
const HDF5_MAGIC: &[u8; 8] = b"\x89HDF\r\n\x1a\n";
/// Bytes of the PNG signature.
const PNG_MAGIC: &[u8; 8] = b"\x89PNG\r\n\x1a\n";

/// What an output holds: which existing file it may replace, and how its temporary file
/// is named.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// An HDF5 file or a CSV or Parquet table: replaces a hollow file (anything with `force`);
    /// temporary file `<path>.tmp`.
    Data,
    /// A PNG figure: replaces a PNG image; temporary file `<stem>.tmp.png`, because the
    /// image encoder picks the format from the file name's extension.
    Png,
    /// A text file hollow writes with a fixed first line: replaces a file that starts with
    /// that line (an earlier one of its kind; anything with `force`); `<path>.tmp`.
    Text(&'static str),
}

/// A checked, locked output path and its temporary file `<path>.tmp`.
#[derive(Debug)]
pub struct Output {
    path: PathBuf,
    tmp: PathBuf,
    lock_path: PathBuf,
    /// Held (locked) until drop.
    lock: Option<File>,
}

fn refused(path: &Path, reason: impl Into<String>) -> OutputError {
    OutputError::Refused { file: path.display().to_string(), reason: reason.into() }
}

fn io_err(path: &Path, doing: String) -> impl FnOnce(std::io::Error) -> OutputError {
    let file = path.display().to_string();
    move |source| OutputError::Io { file, doing, source }
}

/// `<path><suffix>` in the same directory.
fn sibling(path: &Path, suffix: &str) -> Result<PathBuf, OutputError> {
    let name = path
        .file_name()
        .ok_or_else(|| refused(path, "not a file path (it names no file); give a path such as out/run.h5"))?;
    let mut n = name.to_os_string();
    n.push(suffix);
    Ok(path.with_file_name(n))
}

/// `<stem>.tmp.png` in the same directory: `fig.png` → `fig.tmp.png`, `fig` → `fig.tmp.png`.
fn png_sibling(path: &Path) -> Result<PathBuf, OutputError> {
    let plain = sibling(path, "")?;
    let is_png = path.extension().is_some_and(|e| e == "png");
    let mut n = if is_png { path.file_stem() } else { path.file_name() }.unwrap_or_default().to_os_string();
    n.push(".tmp.png");
    Ok(plain.with_file_name(n))
}

/// The directory `path` is in ("." for a bare name).
fn dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Whether `path` is an HDF5 file whose root attribute `format` says hollow wrote it.
pub fn is_hollow_file(path: &Path) -> bool {
    hollow_format(path).is_some()
}

/// The root attribute `format` of an HDF5 file hollow wrote ("hollow-run", ...); `None` for
/// any other file.
pub fn hollow_format(path: &Path) -> Option<String> {
    // The signature first: opening a text file with the HDF5 library prints its error stack.
    if !starts_with(path, HDF5_MAGIC) {
        return None;
    }
    ::hdf5::File::open(path)
        .and_then(|f| f.attr("format"))
        .and_then(|a| a.read_scalar::<::hdf5::types::VarLenUnicode>())
        .ok()
        .map(|s| s.as_str().to_string())
        .filter(|s| s.starts_with("hollow-"))
}

/// Same file (device and inode) on Unix; equal canonical paths elsewhere.
fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (std::fs::metadata(a), std::fs::metadata(b)) {
            (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
    }
}

/// Checks that `path` may be replaced by a hollow output (see the module docs).
pub fn check_target(path: &Path, inputs: &[&Path], force: bool) -> Result<(), OutputError> {
    check(path, inputs, force, Kind::Data)
}

/// Whether the file at `path` starts with `magic`.
fn starts_with(path: &Path, magic: &[u8; 8]) -> bool {
    let mut head = [0u8; 8];
    File::open(path).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head)).is_ok() && &head == magic
}

fn check(path: &Path, inputs: &[&Path], force: bool, kind: Kind) -> Result<(), OutputError> {
    let dir = dir_of(path);
    if !dir.is_dir() {
        return Err(OutputError::Io {
            file: path.display().to_string(),
            doing: format!("opening output directory {}", dir.display()),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "the directory does not exist (or is not a directory); create it or choose another output path",
            ),
        });
    }
    if let Some(input) = inputs.iter().find(|i| same_file(path, i)) {
        return Err(refused(
            path,
            format!("it is an input of this command ({}); choose another output path", input.display()),
        ));
    }
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err(path, "inspecting the existing output".into())(e)),
    };
    let ft = meta.file_type();
    if ft.is_symlink() {
        return Err(refused(
            path,
            "it is a symbolic link; hollow replaces outputs by renaming a new file over them, which would replace \
             the link itself: give the link's target path, or remove the link",
        ));
    }
    if !ft.is_file() {
        let what = if ft.is_dir() { "a directory" } else { "not a regular file (a device, FIFO or socket)" };
        return Err(refused(path, format!("it exists and is {what}; give the path of a regular file")));
    }
    if kind == Kind::Png {
        if !starts_with(path, PNG_MAGIC) {
            return Err(refused(
                path,
                "it exists and is not a PNG image; give another path for the figure, or remove it",
            ));
        }
        return Ok(());
    }
    if let Kind::Text(head) = kind {
        let first = std::fs::read_to_string(path).ok().and_then(|t| t.lines().next().map(str::to_string));
        if force || first.as_deref() == Some(head) {
            return Ok(());
        }
        return Err(refused(
            path,
            format!(
                "it exists and was not written by hollow (its first line is not {head:?}); choose another output \
                 directory, or give --force to replace it"
            ),
        ));
    }
    if !force && !is_hollow_file(path) {
        return Err(refused(
            path,
            "it exists and is not an HDF5 file written by hollow; choose another output path, or give --force \
             to replace it",
        ));
    }
    Ok(())
}

impl Output {
    /// Checks `path` (see [`check_target`]), takes the lock and creates the empty
    /// temporary file, so that an unwritable output fails here.
    pub fn create(path: &Path, inputs: &[&Path], force: bool) -> Result<Output, OutputError> {
        Self::create_kind(path, inputs, force, Kind::Data)
    }

    /// An output for a PNG figure at `path`: as [`Output::create`], but it replaces only a
    /// PNG image, and its temporary file is `<stem>.tmp.png` (`fig.png` → `fig.tmp.png`),
    /// which the image encoder recognises as PNG.
    pub fn create_png(path: &Path) -> Result<Output, OutputError> {
        Self::create_kind(path, &[], false, Kind::Png)
    }

    /// An output for a text file whose first line is always `head` (a report, a table):
    /// as [`Output::create`], but it replaces only a file that starts with `head`, an
    /// earlier output of the same kind (anything with `force`).
    pub fn create_text(path: &Path, head: &'static str, force: bool) -> Result<Output, OutputError> {
        Self::create_kind(path, &[], force, Kind::Text(head))
    }

    fn create_kind(path: &Path, inputs: &[&Path], force: bool, kind: Kind) -> Result<Output, OutputError> {
        check(path, inputs, force, kind)?;
        let tmp = match kind {
            Kind::Data | Kind::Text(_) => sibling(path, ".tmp")?,
            Kind::Png => png_sibling(path)?,
        };
        let lock_path = sibling(path, ".lock")?;
        let lock = take_lock(path, &lock_path)?;
        let out = Output { path: path.to_path_buf(), tmp, lock_path, lock: Some(lock) };
        // The lock is ours: a temporary file left by a killed writer is stale.
        match std::fs::symlink_metadata(&out.tmp) {
            Ok(m) if !m.is_file() => {
                return Err(refused(
                    path,
                    format!("its temporary path {} exists and is not a regular file; remove it", out.tmp.display()),
                ));
            }
            _ => {}
        }
        File::create(&out.tmp).map_err(io_err(path, format!("creating temporary file {}", out.tmp.display())))?;
        Ok(out)
    }

    /// The final path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The temporary file the writer fills before [`Output::commit`].
    pub fn tmp(&self) -> &Path {
        &self.tmp
    }

    /// Flushes the finished temporary file to disk and renames it over the path. The lock
    /// is kept: a sweep commits a checkpoint many times.
    pub fn commit(&self) -> Result<(), OutputError> {
        let file = &self.path;
        File::open(&self.tmp)
            .and_then(|f| f.sync_all())
            .map_err(io_err(file, format!("syncing temporary file {}", self.tmp.display())))?;
        std::fs::rename(&self.tmp, &self.path).map_err(io_err(file, format!("renaming {} over it", self.tmp.display())))
    }

    /// Removes a (partly written) temporary file; only ever a regular file.
    pub fn discard(&self) {
        if std::fs::symlink_metadata(&self.tmp).is_ok_and(|m| m.is_file()) {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        self.discard();
        if let Some(lock) = self.lock.take() {
            // Unlinked while still locked: a waiter that opened this inode fails its
            // try-lock now and, once we close, finds the path gone or re-created (see
            // `take_lock`'s inode check).
            let _ = std::fs::remove_file(&self.lock_path);
            drop(lock);
        }
    }
}

/// Opens and exclusively locks `lock_path`; fails at once when another process holds it.
fn take_lock(path: &Path, lock_path: &Path) -> Result<File, OutputError> {
    // A holder that finished between our open and our lock unlinked the file: retry on
    // the path's new inode (a few times; a live holder makes the try-lock fail instead).
    for _ in 0..8 {
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(lock_path)
            .map_err(io_err(path, format!("creating lock file {}", lock_path.display())))?;
        match fs4::FileExt::try_lock(&f) {
            Ok(()) => {}
            Err(fs4::TryLockError::WouldBlock) => {
                return Err(OutputError::Locked {
                    file: path.display().to_string(),
                    lock: lock_path.display().to_string(),
                });
            }
            Err(fs4::TryLockError::Error(e)) => {
                return Err(io_err(path, format!("locking {}", lock_path.display()))(e));
            }
        }
        if still_linked(&f, lock_path) {
            return Ok(f);
        }
    }
    Err(OutputError::Locked { file: path.display().to_string(), lock: lock_path.display().to_string() })
}

/// Whether the open file `f` is still the one at `path`.
fn still_linked(f: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (f.metadata(), std::fs::metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = f;
        path.exists()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_output_replaces_only_an_earlier_one_of_its_kind() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("facts.md");
        std::fs::write(&p, "my own notes\n").unwrap();
        let e = Output::create_text(&p, "# Report", false).unwrap_err().to_string();
        assert!(e.contains("facts.md") && e.contains("--force"), "{e}");
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "my own notes\n", "left as it was");
        drop(Output::create_text(&p, "# Report", true).unwrap());
        std::fs::write(&p, "# Report\nold\n").unwrap();
        let out = Output::create_text(&p, "# Report", false).unwrap();
        std::fs::write(out.tmp(), "# Report\nnew\n").unwrap();
        out.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "# Report\nnew\n");
    }

    #[test]
    fn a_second_writer_of_the_same_path_is_refused_until_the_first_is_done() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("o.h5");
        let a = Output::create(&p, &[], false).unwrap();
        let e = Output::create(&p, &[], false).unwrap_err().to_string();
        assert!(e.contains("o.h5") && e.contains("another"), "{e}");
        drop(a);
        assert!(!dir.path().join("o.h5.lock").exists() && !dir.path().join("o.h5.tmp").exists());
        Output::create(&p, &[], false).unwrap();
    }

    #[test]
    fn a_figure_replaces_a_png_but_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let fig = dir.path().join("f.png");
        let out = Output::create_png(&fig).unwrap();
        assert_eq!(out.tmp(), dir.path().join("f.tmp.png"));
        std::fs::write(out.tmp(), b"\x89PNG\r\n\x1a\nrest").unwrap();
        out.commit().unwrap();
        drop(out);
        assert!(Output::create_png(&fig).is_ok(), "an existing PNG is replaced");
        let notes = dir.path().join("notes.png");
        std::fs::write(&notes, "mine").unwrap();
        let e = Output::create_png(&notes).unwrap_err().to_string();
        assert!(e.contains("notes.png") && e.contains("not a PNG"), "{e}");
        assert_eq!(std::fs::read_to_string(&notes).unwrap(), "mine");
        assert_eq!(Output::create_png(&dir.path().join("g")).unwrap().tmp(), dir.path().join("g.tmp.png"));
    }

    #[test]
    fn foreign_files_links_devices_and_inputs_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "mine").unwrap();
        let e = Output::create(&text, &[], false).unwrap_err().to_string();
        assert!(e.contains("notes.txt") && e.contains("--force"), "{e}");
        assert_eq!(std::fs::read_to_string(&text).unwrap(), "mine");
        assert!(Output::create(&text, &[], true).is_ok(), "--force replaces a foreign file");
        let e = Output::create(&text, &[&text], true).unwrap_err().to_string();
        assert!(e.contains("input"), "{e}");
        let e = Output::create(Path::new("/dev/null"), &[], true).unwrap_err().to_string();
        assert!(e.contains("regular file"), "{e}");
        #[cfg(unix)]
        {
            let link = dir.path().join("link.h5");
            std::os::unix::fs::symlink(dir.path().join("target.h5"), &link).unwrap();
            let e = Output::create(&link, &[], true).unwrap_err().to_string();
            assert!(e.contains("symbolic link"), "{e}");
        }
    }
}
