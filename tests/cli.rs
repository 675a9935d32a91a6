//! The binary as a user meets it: exit codes and messages on bad input, Ctrl-C keeping what
//! was simulated, and the defaults printout.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn hollow() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hollow"))
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn bad_config_exits_nonzero_naming_file_key_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "bad.toml", "steps = 10\n[market]\nk = 0\n");
    let out = hollow().args(["run", cfg.to_str().unwrap(), "-o"]).arg(dir.path().join("o.h5")).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml:3") && err.contains("market.k"), "{err}");
    assert!(!dir.path().join("o.h5").exists(), "nothing written on bad input");
}

#[test]
fn missing_output_directory_is_reported_before_running() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "c.toml", "steps = 2\ncreators = 10\nbuyers = 20\n");
    let out = hollow().args(["run", cfg.to_str().unwrap(), "-o", "/nonexistent/dir/o.h5", "--quiet"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/dir") && err.contains("does not exist"), "{err}");
}

#[test]
fn ctrl_c_writes_the_steps_done_and_marks_the_file_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "c.toml", "steps = 1000000\ncreators = 2000\nbuyers = 4000\n");
    let out = dir.path().join("o.h5");
    let mut child = hollow()
        .args(["run", cfg.to_str().unwrap(), "--quiet", "--trace", "1", "-o"])
        .arg(&out)
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the header and a few steps to be traced, then interrupt.
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    for _ in 0..4 {
        lines.next().unwrap().unwrap();
    }
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let code = child.wait().unwrap();
    assert!(!code.success(), "an interrupted run exits non-zero");
    assert!(rest.iter().any(|l| l.contains("interrupted")), "{rest:?}");
    let f = hollow::io::hdf5::read_run(&out).unwrap();
    assert!(!f.meta.complete);
    let n = f.series("welfare").unwrap().len();
    assert!(n >= 2 && n < 1_000_000, "{n} steps stored");
}

#[test]
fn defaults_printout_is_a_valid_config() {
    let out = hollow().args(["config", "--defaults"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let cfg = hollow::config::Config::from_str_named(&text, "defaults", &[]).unwrap();
    assert_eq!(cfg, hollow::config::Config::default());
}
