//! No data lost (issue #10, items 1-3 and 5): every command that writes an output refuses
//! to replace a file that is not a hollow file (unless --force), an input of its own, a
//! link or a device; an unwritable output fails before any simulation; a second writer of
//! the same output is refused while the first holds its lock.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn hollow() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hollow"))
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const SMALL: &str = "steps = 4\ncreators = 50\nbuyers = 100\n[technology]\nshock_step = 2\n";

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Exit 4 (output refused) naming the path, and the file byte for byte as it was.
fn assert_refused(o: &Output, path: &Path, before: &[u8], why: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(err.contains(&path.display().to_string()) && err.contains(why), "{err}");
    assert_eq!(std::fs::read(path).unwrap(), before, "{} was changed", path.display());
}

fn run_args(cfg: &Path, out: &Path) -> Vec<String> {
    vec!["run".into(), cfg.display().to_string(), "-q".into(), "-o".into(), out.display().to_string()]
}

#[test]
fn every_writer_refuses_its_input_and_foreign_files_unless_forced() {
    let d = tempfile::tempdir().unwrap();
    let cfg = write(d.path(), "self.toml", SMALL);
    let cfg_text = std::fs::read(&cfg).unwrap();
    let notes = write(d.path(), "notes.txt", "my notes\n");
    let notes_text = std::fs::read(&notes).unwrap();

    let o = hollow().args(run_args(&cfg, &cfg)).output().unwrap();
    assert_refused(&o, &cfg, &cfg_text, "input");
    let o = hollow().args(run_args(&cfg, &cfg)).arg("--force").output().unwrap();
    assert_refused(&o, &cfg, &cfg_text, "input");
    let o = hollow().args(run_args(&cfg, &notes)).output().unwrap();
    assert_refused(&o, &notes, &notes_text, "--force");
    for cmd in ["equilibrium", "meanfield"] {
        let o = hollow().args([cmd, cfg.to_str().unwrap(), "-o", notes.to_str().unwrap()]).output().unwrap();
        assert_refused(&o, &notes, &notes_text, "not an HDF5 file written by hollow");
        let o = hollow().args([cmd, cfg.to_str().unwrap(), "-o", cfg.to_str().unwrap()]).output().unwrap();
        assert_refused(&o, &cfg, &cfg_text, "input");
    }

    // A sweep: its spec (with --fresh) and its base config are inputs.
    let spec = write(
        d.path(),
        "spec.toml",
        "base = \"self.toml\"\n[[axis]]\nkey = \"market.pollution\"\nvalues = [0.0, 1.0]\n",
    );
    let spec_text = std::fs::read(&spec).unwrap();
    let o = hollow().args(["sweep", spec.to_str().unwrap(), "-q", "--fresh", "-o"]).arg(&spec).output().unwrap();
    assert_refused(&o, &spec, &spec_text, "input");
    let o = hollow().args(["sweep", spec.to_str().unwrap(), "-q", "--fresh", "-o"]).arg(&cfg).output().unwrap();
    assert_refused(&o, &cfg, &cfg_text, "input");
    let o = hollow().args(["sweep", spec.to_str().unwrap(), "-q", "--fresh", "-o"]).arg(&notes).output().unwrap();
    assert_refused(&o, &notes, &notes_text, "--force");

    // Merge: OUT may be neither a shard nor a foreign file.
    let shard = d.path().join("s.h5");
    let o = hollow().args(["sweep", spec.to_str().unwrap(), "-q", "-o"]).arg(&shard).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let shard_bytes = std::fs::read(&shard).unwrap();
    let o = hollow().arg("merge").arg(&notes).arg(&shard).output().unwrap();
    assert_refused(&o, &notes, &notes_text, "--force");
    let o = hollow().arg("merge").arg(&shard).arg(&shard).arg("--force").output().unwrap();
    assert_refused(&o, &shard, &shard_bytes, "input");

    // A hollow file is replaced without --force; a foreign one with it.
    let run = d.path().join("run.h5");
    for _ in 0..2 {
        let o = hollow().args(run_args(&cfg, &run)).output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let o = hollow().args(run_args(&cfg, &notes)).arg("--force").output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(hollow::io::hdf5::read_run(&notes).is_ok());
    let leftovers: Vec<String> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp") || n.ends_with(".lock"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn devices_and_symbolic_links_are_refused_and_left_as_they_are() {
    let d = tempfile::tempdir().unwrap();
    let cfg = write(d.path(), "c.toml", SMALL);
    let o = hollow().args(run_args(&cfg, Path::new("/dev/null"))).arg("--force").output().unwrap();
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(stderr(&o).contains("not a regular file"), "{}", stderr(&o));
    assert!(!std::fs::symlink_metadata("/dev/null").unwrap().is_file(), "/dev/null is still a device");

    let target = d.path().join("target.h5");
    let o = hollow().args(run_args(&cfg, &target)).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let link = d.path().join("link.h5");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let o = hollow().args(run_args(&cfg, &link)).arg("--force").output().unwrap();
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(stderr(&o).contains("symbolic link"), "{}", stderr(&o));
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link is still a link");
}

#[test]
fn an_unwritable_output_fails_before_the_simulation_starts() {
    let d = tempfile::tempdir().unwrap();
    // Not quiet: the run's header line ("... steps, seed ...") comes just before the simulation.
    let cfg = write(d.path(), "c.toml", SMALL);
    for out in ["/proc/hollow_test.h5", "/nonexistent/dir/o.h5"] {
        let o = hollow().args(["run", cfg.to_str().unwrap(), "-o", out]).output().unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(4), "{err}");
        assert!(err.contains(out), "{err}");
        assert!(!err.contains("steps, seed"), "simulated before failing: {err}");
        assert!(o.stdout.is_empty(), "{}", String::from_utf8_lossy(&o.stdout));
    }
}

#[test]
fn a_second_writer_of_a_live_output_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let long = write(d.path(), "long.toml", "steps = 1000000\ncreators = 200\nbuyers = 400\n");
    let small = write(d.path(), "c.toml", SMALL);
    let out = d.path().join("shard.h5");
    let mut first = hollow()
        .args(["run", long.to_str().unwrap(), "--quiet", "--trace", "1", "-o"])
        .arg(&out)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(first.stderr.take().unwrap()).lines();
    for _ in 0..3 {
        lines.next().unwrap().unwrap();
    }
    let second = hollow().args(run_args(&small, &out)).output().unwrap();
    let err = stderr(&second);
    assert_eq!(second.status.code(), Some(4), "{err}");
    assert!(err.contains("another process") && err.contains("shard.h5"), "{err}");
    let spec =
        write(d.path(), "spec.toml", "base = \"c.toml\"\n[[axis]]\nkey = \"market.pollution\"\nvalues = [0.0]\n");
    let o = hollow().args(["sweep", spec.to_str().unwrap(), "-q", "--fresh", "-o"]).arg(&out).output().unwrap();
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));

    assert!(Command::new("kill").args(["-INT", &first.id().to_string()]).status().unwrap().success());
    let _: Vec<String> = lines.map_while(Result::ok).collect();
    assert_eq!(first.wait().unwrap().code(), Some(130));
    let f = hollow::io::hdf5::read_run(&out).expect("the first writer's file");
    assert!(!f.meta.complete);
}
