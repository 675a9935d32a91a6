//! The binary as a user meets it: exit codes and messages on bad input, stop signals
//! (SIGINT, SIGTERM, SIGHUP) keeping what was simulated, `--backend auto`, and the
//! defaults printout.

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
    assert_eq!(code.code(), Some(130), "an interrupted run exits 128 + SIGINT");
    assert!(rest.iter().any(|l| l.contains("interrupted")), "{rest:?}");
    let f = hollow::io::hdf5::read_run(&out).unwrap();
    assert!(!f.meta.complete);
    let n = f.series("welfare").unwrap().len();
    assert!((2..1_000_000).contains(&n), "{n} steps stored");
}

#[test]
fn defaults_printout_is_a_valid_config() {
    let out = hollow().args(["config", "--defaults"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let cfg = hollow::config::Config::from_str_named(&text, "defaults", &[]).unwrap();
    assert_eq!(cfg, hollow::config::Config::default());
}

/// Starts `hollow args...` with stderr piped, waits for `ready` lines of stderr for which
/// `is_ready` holds, sends `signal`, and returns (exit code, stdout, rest of stderr).
fn interrupt(
    args: &[&str],
    signal: &str,
    ready: usize,
    is_ready: impl Fn(&str) -> bool,
) -> (Option<i32>, String, String) {
    let mut child = hollow().args(args).stderr(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("hollow starts");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = 0;
    while seen < ready {
        let l = lines.next().expect("stderr ends before the ready line").unwrap();
        seen += usize::from(is_ready(&l));
    }
    assert!(Command::new("kill").args([signal, &child.id().to_string()]).status().unwrap().success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let out = child.wait_with_output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned(), rest.join("\n"))
}

#[test]
fn sigterm_saves_the_run_marks_it_incomplete_and_exits_143() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "c.toml", "steps = 1000000\ncreators = 2000\nbuyers = 4000\n");
    let out = dir.path().join("o.h5");
    let o = out.to_str().unwrap();
    let (code, stdout, err) =
        interrupt(&["run", cfg.to_str().unwrap(), "-q", "--trace", "1", "-o", o], "-TERM", 4, |_| true);
    assert_eq!(code, Some(143), "{err}");
    assert!(err.contains("SIGTERM") && err.contains("incomplete"), "{err}");
    assert!(stdout.contains("mean-field check: skipped"), "{stdout}");
    let f = hollow::io::hdf5::read_run(&out).unwrap();
    assert!(!f.meta.complete);
    assert_eq!(hollow::io::tables::read_attr(&out, "/", "meanfield_skipped").unwrap(), 1.0);
}

#[test]
fn a_signal_during_the_mean_field_check_skips_it_and_keeps_the_run() {
    let dir = tempfile::tempdir().unwrap();
    // A tiny population and many steps: the simulation takes a fraction of the mean field's
    // time (about 3 ms a step), so the signal arrives during the check.
    let cfg = write(dir.path(), "c.toml", "steps = 3000\ncreators = 20\nbuyers = 40\n");
    let out = dir.path().join("o.h5");
    let (code, stdout, err) = interrupt(&["run", cfg.to_str().unwrap(), "-o", out.to_str().unwrap()], "-INT", 1, |l| {
        l.starts_with("mean-field check: running")
    });
    assert_eq!(code, Some(130), "{err}");
    assert!(stdout.contains("mean-field check: skipped"), "{stdout}");
    let f = hollow::io::hdf5::read_run(&out).unwrap();
    assert!(f.meta.complete, "every step was simulated");
    assert_eq!(f.steps_done, 3000);
    assert_eq!(hollow::io::tables::read_attr(&out, "/", "meanfield_skipped").unwrap(), 1.0);
    assert!(hollow::io::tables::read_attr(&out, "/", "meanfield_gap_shares").is_err());
}

#[test]
fn sighup_stops_the_mean_field_command_with_what_it_computed() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "c.toml", "steps = 1000000\ncreators = 20\nbuyers = 40\n");
    let out = dir.path().join("m.h5");
    let (code, _, err) = interrupt(
        &["meanfield", cfg.to_str().unwrap(), "--trace", "1", "-o", out.to_str().unwrap()],
        "-HUP",
        3,
        |_| true,
    );
    assert_eq!(code, Some(129), "{err}");
    let f = hollow::io::hdf5::read_run(&out).unwrap();
    assert!(!f.meta.complete);
    assert!((2..1_000_000).contains(&f.steps_done), "{}", f.steps_done);
}

#[test]
fn sigterm_stops_a_sweep_with_its_checkpoint_written() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "base.toml", "steps = 200\ncreators = 300\nbuyers = 600\n");
    let spec = write(
        dir.path(),
        "spec.toml",
        "base = \"base.toml\"\nblock = 1\n[[axis]]\nkey = \"market.pollution\"\nfrom = 0.0\nto = 2.0\nn = 4000\n",
    );
    let out = dir.path().join("s.h5");
    // The sweep's header line comes when the executor is ready; the first block's
    // checkpoint is written before any cell is computed.
    let (code, _, err) =
        interrupt(&["sweep", spec.to_str().unwrap(), "--threads", "1", "-o", out.to_str().unwrap()], "-TERM", 1, |l| {
            l.starts_with("sweep ")
        });
    assert_eq!(code, Some(143), "{err}");
    assert!(err.contains("resume"), "{err}");
    let f = hollow::sweep::store::read(&out).expect("checkpoint readable");
    assert!(!f.complete);
    assert!(f.cells_done() < 4000, "{}", f.cells_done());
}

#[test]
fn exit_codes_say_what_kind_of_failure() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.toml", "steps = 3\ncreators = 20\nbuyers = 40\n");
    let bad = write(dir.path(), "bad.toml", "steps = 0\n");
    let g = good.to_str().unwrap();
    let code = |args: &[&str]| hollow().args(args).output().unwrap().status.code();
    assert_eq!(code(&["run", "--no-such-flag"]), Some(2), "clap usage");
    assert_eq!(code(&["bench", g, "--measure", "0"]), Some(2));
    assert_eq!(code(&["reproduce", "--replicas", "0"]), Some(2));
    assert_eq!(code(&["equilibrium", g, "--sell-through", "2"]), Some(2));
    let spec = write(dir.path(), "s.toml", "base = \"good.toml\"\n[[axis]]\nkey = \"market.k\"\nvalues = [2]\n");
    let o = hollow().args(["sweep", spec.to_str().unwrap(), "--checkpoint-secs", "1e300"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--checkpoint-secs"));
    assert_eq!(code(&["run", bad.to_str().unwrap()]), Some(3), "bad config");
    assert_eq!(code(&["config", "/dev/zero"]), Some(3), "not a config");
    assert_eq!(code(&["sweep", "/nonexistent/spec.toml"]), Some(3), "missing spec");
    assert_eq!(code(&["plot", "phase", g, "share_ai"]), Some(3), "not a sweep file");
    let shard = dir.path().join("missing.h5");
    assert_eq!(code(&["merge", dir.path().join("m.h5").to_str().unwrap(), shard.to_str().unwrap()]), Some(3));
    assert_eq!(code(&["run", g, "-o", "/nonexistent/o.h5"]), Some(4), "unwritable output");
    assert_eq!(code(&["run", g, "-q", "-o", dir.path().join("o.h5").to_str().unwrap()]), Some(0));
}

#[test]
fn a_missing_file_is_reported_once_with_its_reason() {
    let o = hollow().args(["run", "/nonexistent/c.toml"]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert_eq!(err.matches("No such file").count(), 1, "{err}");
}

#[test]
fn an_oversized_config_is_refused_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.toml");
    let f = std::fs::File::create(&big).unwrap();
    // Sparse: the size is what is refused, not the content.
    f.set_len(17 << 20).unwrap();
    for p in [big.to_str().unwrap(), "/dev/zero"] {
        let o = hollow().args(["config", p]).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(3), "{err}");
        assert!(err.contains(p) && err.contains("larger than 16 MiB"), "{err}");
    }
}

#[test]
fn the_largest_seed_runs_and_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "c.toml", "steps = 3\ncreators = 20\nbuyers = 40\n");
    let out = dir.path().join("o.h5");
    let o = hollow()
        .args(["run", cfg.to_str().unwrap(), "-q", "--seed", &u64::MAX.to_string(), "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let f = hollow::io::hdf5::read_run(&out).unwrap();
    assert_eq!(f.meta.seed, u64::MAX);
    let cfg = hollow::config::Config::from_str_named(&f.meta.config_toml, "stored", &[]).unwrap();
    assert_eq!(cfg.top.seed, u64::MAX);
}

#[test]
fn backend_auto_follows_one_rule_and_says_which_it_took() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "c.toml", "steps = 2\ncreators = 20\nbuyers = 40\n");
    // The rule: a hardware adapter if there is one, else the CPU; a software adapter
    // (lavapipe) only when HOLLOW_ADAPTER names it.
    let gpu = hollow::backend::gpu::has_hardware_adapter();
    let o = hollow()
        .env_remove("HOLLOW_ADAPTER")
        .args(["run", cfg.to_str().unwrap(), "--backend", "auto", "-o"])
        .arg(dir.path().join("o.h5"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("backend auto:"), "{err}");
    assert_eq!(err.contains("backend cpu"), !gpu, "{err}");
    let spec = write(dir.path(), "s.toml", "base = \"c.toml\"\n[[axis]]\nkey = \"market.k\"\nvalues = [2]\n");
    let o = hollow()
        .env_remove("HOLLOW_ADAPTER")
        .args(["sweep", spec.to_str().unwrap(), "--backend", "auto", "-o"])
        .arg(dir.path().join("s.h5"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("backend auto:") && err.contains(if gpu { "GPU" } else { "CPU" }), "{err}");
}

#[test]
fn sigterm_stops_reproduce_before_its_next_simulation() {
    let dir = tempfile::tempdir().unwrap();
    let configs = concat!(env!("CARGO_MANIFEST_DIR"), "/configs");
    let out = dir.path().join("facts");
    let (code, _, err) = interrupt(
        &["reproduce", "--replicas", "1", "--configs", configs, "--out", out.to_str().unwrap()],
        "-TERM",
        1,
        |l| l.starts_with("reproduce:"),
    );
    assert_eq!(code, Some(143), "{err}");
    assert!(err.contains("SIGTERM"), "{err}");
    // Nothing half-written: no temporary file is left behind.
    let names: Vec<String> = std::fs::read_dir(&out)
        .map(|d| d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    assert!(names.iter().all(|n| !n.contains("tmp") && !n.ends_with(".lock")), "{names:?}");
}

#[test]
fn the_rate_line_counts_the_simulation_only() {
    let dir = tempfile::tempdir().unwrap();
    // The mean-field check after the simulation takes many times the simulation's time.
    let cfg = write(dir.path(), "c.toml", "steps = 1000\ncreators = 20\nbuyers = 40\n");
    let spawned = std::time::Instant::now();
    let mut child = hollow()
        .args(["run", cfg.to_str().unwrap(), "--trace", "999", "-o"])
        .arg(dir.path().join("o.h5"))
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    // The trace line of the last step (999) is printed when the simulation is over.
    while !lines.next().unwrap().unwrap().trim_start().starts_with("999 ") {}
    // Not a threshold: the simulation ended before that line was printed, so the time the
    // rate is taken over lies inside the time we have waited so far.
    let until_check = spawned.elapsed().as_secs_f64();
    let _: Vec<String> = lines.map_while(Result::ok).collect();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().find(|l| l.starts_with("1000 steps in ")).expect("rate line");
    let secs: f64 = line["1000 steps in ".len()..].split(' ').next().unwrap().parse().unwrap();
    // The line prints one decimal: allow its rounding.
    assert!(secs - 0.05 <= until_check, "{line} but the simulation was over after {until_check:.2} s");
}

#[test]
fn run_json_prints_one_object_with_the_file_s_outcomes() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "c.toml",
        "seed = 3\nsteps = 30\ncreators = 300\nbuyers = 600\n[technology]\nshock_step = 10\n",
    );
    let o = dir.path().join("o.h5");
    let out = hollow().args(["run", cfg.to_str().unwrap(), "--json", "-q", "-o"]).arg(&o).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.trim().lines().count(), 1, "one line: {stdout}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["steps"], 30);
    assert_eq!(v["complete"], true);
    assert_eq!(v["seed"], "3");
    let file = hollow::io::read_run(&o).unwrap();
    let welfare = v["outcomes"]["welfare_final"].as_f64().unwrap();
    assert_eq!(welfare, file.meta.outcomes.welfare_final, "the same number as the run file");
    assert!(v["outcomes"]["settle_step"].is_null() || v["outcomes"]["settle_step"].is_number());
    assert!(v["meanfield"]["meanfield_share_ai"].is_number());
}

#[test]
fn long_commands_log_plain_progress_lines_when_stderr_is_not_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "c.toml", "steps = 40\ncreators = 200\nbuyers = 400\n");
    let out = hollow()
        .args(["run", cfg.to_str().unwrap(), "-o"])
        .arg(dir.path().join("o.h5"))
        .env("HOLLOW_PROGRESS_SECS", "0")
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("progress: ")).collect();
    assert!(lines.len() >= 2, "{err}");
    let last = lines[lines.len() - 1];
    assert!(last.contains("40/40 steps (100.0%)") && last.contains("steps/s") && last.contains("ETA"), "{last}");
    // --quiet logs nothing.
    let out = hollow()
        .args(["run", cfg.to_str().unwrap(), "-q", "-o"])
        .arg(dir.path().join("o2.h5"))
        .env("HOLLOW_PROGRESS_SECS", "0")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("progress: "));
}

#[test]
fn a_sweep_dry_run_counts_the_runs_estimates_the_time_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "base.toml", "steps = 20\ncreators = 100\nbuyers = 200\n");
    let spec = write(
        dir.path(),
        "s.toml",
        "base = \"base.toml\"\nreplicas = 3\n[[axis]]\nkey = \"market.pollution\"\nvalues = [0.0, 1.0]\n\
         [[axis]]\nkey = \"technology.ai_cost_scale\"\nvalues = [0.5, 1.0, 2.0]\n",
    );
    let out = hollow().args(["sweep", spec.to_str().unwrap(), "--dry-run"]).current_dir(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("6 cells × 3 replicas = 18 runs of 20 steps on 300-agent markets"), "{text}");
    assert!(
        text.contains("estimate for the CPU executor") && text.contains("an estimate, not a measurement"),
        "{text}"
    );
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(files.len(), 2, "nothing written: {files:?}");
}

#[test]
fn plot_run_draws_runs_and_names_a_missing_series() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "c.toml", "steps = 30\ncreators = 100\nbuyers = 200\n[technology]\nshock_step = 10\n");
    let mut files = Vec::new();
    for seed in ["1", "2"] {
        let f = dir.path().join(format!("r{seed}.h5"));
        let st = hollow().args(["run", cfg.to_str().unwrap(), "-q", "--seed", seed, "-o"]).arg(&f).output().unwrap();
        assert!(st.status.success());
        files.push(f);
    }
    let png = dir.path().join("runs.png");
    let out = hollow().args(["plot", "run", "--band", "-o"]).arg(&png).args(&files).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.len() > 1000 && bytes[..8] == *b"\x89PNG\r\n\x1a\n", "a PNG");
    let out = hollow().args(["plot", "run", "--metric", "welfair"]).args(&files).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("welfair"));
}

#[test]
fn bench_prints_the_cpu_limits_and_every_stage_against_its_bound() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "c.toml", "steps = 10\ncreators = 500\nbuyers = 1000\n[technology]\nshock_step = 2\n");
    let out = hollow().args(["bench", cfg.to_str().unwrap(), "--warmup", "3", "--measure", "2"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("CPU limits") && text.contains("loads") && text.contains("GB/s"), "{text}");
    for stage in hollow::sim::STAGES {
        let row = text.lines().find(|l| l.starts_with(&format!("| {stage} |"))).unwrap_or_else(|| panic!("{text}"));
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let (ms, bound) = (cells[2].parse::<f64>().unwrap(), cells[3].parse::<f64>().unwrap());
        assert!(ms >= 0.0 && bound >= 0.0, "{row}");
        assert!(["gather", "stream", "philox"].contains(&cells[4]), "{row}");
    }
    // decide priced in profit evaluations: a positive multiple of a positive time.
    let line = text.lines().find(|l| l.starts_with("decide: ")).unwrap_or_else(|| panic!("{text}"));
    let numbers: Vec<f64> = line
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter_map(|w| w.trim_matches('.').parse().ok())
        .collect();
    assert!(numbers.len() >= 3 && numbers[..3].iter().all(|&v| v > 0.0 && v.is_finite()), "{line}");
    assert!((numbers[0] / numbers[2] - numbers[1]).abs() <= 0.06 * numbers[1] + 0.05, "{line}");
}
