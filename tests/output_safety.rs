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

/// Issue #15, item 3: two writers of one shard started together (a mistaken resubmit of a
/// job array task): the second gets the lock error at once and the first finishes its file;
/// the loser never removes the winner's temporary file or lock.
#[test]
fn two_writers_of_one_shard_started_together_leave_the_winner_s_file_whole() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "c.toml", "steps = 300\ncreators = 600\nbuyers = 1200\n");
    let spec = write(
        d.path(),
        "s.toml",
        "base = \"c.toml\"\nblock = 1\nshards = 2\n[[axis]]\nkey = \"market.pollution\"\nvalues = [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]\n",
    );
    let out = d.path().join("s.1.h5");
    let lock = d.path().join("s.1.h5.lock");
    for trial in 0..3 {
        let _ = std::fs::remove_file(&out);
        let spawn = || {
            hollow()
                .args(["sweep", spec.to_str().unwrap(), "--shard", "1", "--threads", "1", "-q", "-o"])
                .arg(&out)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let mut procs = [spawn(), spawn()];
        // Whichever ends first is the loser; while the winner still runs, its lock is there.
        let loser = loop {
            if let Some(i) = (0..2).find(|&i| procs[i].try_wait().unwrap().is_some()) {
                break i;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        let winner_running = procs[1 - loser].try_wait().unwrap().is_none();
        if winner_running {
            assert!(lock.exists(), "trial {trial}: the loser removed the winner's lock");
        }
        let [a, b] = procs;
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        let (l, w) = if loser == 0 { (a, b) } else { (b, a) };
        assert_eq!(l.status.code(), Some(4), "trial {trial}: {}", stderr(&l));
        assert!(stderr(&l).contains("another process is writing this output"), "{}", stderr(&l));
        assert_eq!(w.status.code(), Some(0), "trial {trial}: {}", stderr(&w));
        let f = hollow::sweep::store::read(&out).expect("the winner's shard file");
        assert!(f.complete && f.cells_done() == 3, "trial {trial}: {} cells", f.cells_done());
        assert!(!lock.exists() && !d.path().join("s.1.h5.tmp").exists(), "trial {trial}: leftovers");
    }
}
