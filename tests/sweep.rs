//! Sweeps: spec parsing and its errors, results independent of the thread count, resume
//! after an interruption (only missing cells recomputed, same data as an uninterrupted
//! run), shards merged equal the unsharded sweep, merge refusing foreign or incomplete
//! shards, and the phase plot written at the requested size. Markets are tiny so the
//! whole file runs in seconds.

use hollow::observe::{self, Outcomes};
use hollow::sweep::{
    self, CpuExecutor, Executor, Finished, Job, Options, Shard, Spec, SweepError, SweepFile, exec::Done,
};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

const BASE: &str = "seed = 3\nsteps = 30\ncreators = 150\nbuyers = 300\n[technology]\nshock_step = 8\n";

/// A 3 × 4 grid, 2 replicas, blocks of 3 cells (4 blocks).
const SPEC: &str = r#"
base = "base.toml"
replicas = 2
block = 3
metrics = ["welfare_change", "share_ai", "dominant_segment", "settle_step"]

[[axis]]
key = "technology.ai_cost_scale"
scale = "log"
from = 0.1
to = 10.0
n = 3

[[axis]]
key = "market.pollution"
values = [0.0, 0.5, 1.0, 2.0]

[set]
market.k = 3
"#;

/// Child processes inherit the HDF5 file descriptors other test threads have open at the
/// moment of the fork (HDF5 opens files without close-on-exec), and with them the files'
/// locks: a file written meanwhile by another test then cannot be opened ("unable to lock
/// file") until the child exits. Tests that spawn `hollow` take this lock exclusively,
/// the others shared.
static SPAWN: std::sync::RwLock<()> = std::sync::RwLock::new(());

fn shared() -> std::sync::RwLockReadGuard<'static, ()> {
    SPAWN.read().unwrap_or_else(|p| p.into_inner())
}

struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Dir {
        let d = Dir(tempfile::tempdir().expect("temp dir"));
        std::fs::write(d.path("base.toml"), BASE).expect("write base");
        d
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }
    fn spec(&self, name: &str, text: &str) -> Result<Spec, SweepError> {
        let p = self.path(name);
        std::fs::write(&p, text).expect("write spec");
        Spec::load(&p)
    }
}

fn no_progress(_: sweep::Progress) {}

fn every_block() -> Options {
    Options { checkpoint_interval: Duration::ZERO, ..Options::default() }
}

fn run(spec: &Spec, out: &Path, opts: &Options, exec: &dyn Executor) -> sweep::Report {
    sweep::run(spec, out, opts, exec, &AtomicBool::new(false), &no_progress).expect("sweep runs")
}

/// The numbers of a sweep file (not when or by what it was written).
fn assert_same_data(a: &SweepFile, b: &SweepFile) {
    assert_eq!(a.spec_hash, b.spec_hash);
    assert_eq!(a.done, b.done, "done masks differ");
    assert_eq!(a.run_seeds, b.run_seeds, "seeds differ");
    assert_eq!(a.metrics, b.metrics);
    let bits = |v: &[f64]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
    for (m, (x, y)) in a.metrics.iter().zip(a.values.iter().zip(&b.values)) {
        assert_eq!(bits(x), bits(y), "metric {m} differs");
    }
    assert_eq!(a.series, b.series);
    for (m, (x, y)) in a.series.iter().zip(a.series_values.iter().zip(&b.series_values)) {
        assert_eq!(bits(x), bits(y), "series {m} differs");
    }
}

/// Counts the jobs it is given and the runs it reports, then delegates to the CPU.
struct Counting {
    inner: CpuExecutor,
    runs: AtomicUsize,
    cells: Mutex<Vec<usize>>,
}

impl Executor for Counting {
    fn describe(&self) -> String {
        self.inner.describe()
    }
    fn run(&self, spec: &Spec, jobs: &[Job], stop: &AtomicBool, done: &Done<'_>) -> Result<(), SweepError> {
        self.cells.lock().unwrap().extend(jobs.iter().map(|j| j.cell));
        let counted = |i: usize, r: Result<Finished, SweepError>| {
            self.runs.fetch_add(1, Ordering::SeqCst);
            done(i, r)
        };
        self.inner.run(spec, jobs, stop, &counted)
    }
}

#[test]
fn spec_parses_axes_blocks_and_seeds() {
    let _hdf5 = shared();
    let d = Dir::new();
    let s = d.spec("s.toml", SPEC).unwrap();
    assert_eq!(s.axes.len(), 2);
    assert_eq!((s.axes[0].values.len(), s.axes[0].values[0], s.axes[0].values[2]), (3, 0.1, 10.0));
    assert!((s.axes[0].values[1] - 1.0).abs() < 1e-12, "log midpoint {:?}", s.axes[0].values);
    assert_eq!(s.axes[1].values, vec![0.0, 0.5, 1.0, 2.0]);
    assert_eq!(s.shape(), (3, 4));
    assert_eq!((s.n_cells(), s.n_blocks(), s.block_cells(3)), (12, 4, 9..12));
    assert_eq!(s.steps, 30, "steps come from the base config when the spec has none");
    assert_eq!(s.base.market.k, 3, "[set] overrides are applied");
    let cfg = s.cell_config(5, 1).unwrap();
    assert_eq!(s.cell_index(5), (1, 1));
    assert_eq!((cfg.technology.ai_cost_scale, cfg.market.pollution), (1.0, 0.5));
    assert_eq!(cfg.top.seed, s.seed_of(5, 1));
    // Seeds differ across cells and replicas; with common seeds only across replicas.
    let mut seeds: Vec<u64> = (0..12).flat_map(|c| (0..2).map(move |r| (c, r))).map(|(c, r)| s.seed_of(c, r)).collect();
    seeds.sort_unstable();
    seeds.dedup();
    assert_eq!(seeds.len(), 24);
    let common = d.spec("c.toml", &format!("seeds = \"common\"\n{SPEC}")).unwrap();
    assert_eq!(common.seed_of(0, 1), common.seed_of(7, 1));
    assert_ne!(common.seed_of(0, 0), common.seed_of(0, 1));
    assert_ne!(common.hash, s.hash, "the seed mode is part of the spec hash");
    // Comments and key order do not change the hash; the base config's content does.
    let reordered = d
        .spec(
            "r.toml",
            &format!("# a comment\n{}", SPEC.replacen("replicas = 2\nblock = 3", "block = 3\nreplicas = 2", 1)),
        )
        .unwrap();
    assert_eq!(reordered.hash, s.hash);
    std::fs::write(d.path("base.toml"), BASE.replace("seed = 3", "seed = 4")).unwrap();
    assert_ne!(d.spec("s.toml", SPEC).unwrap().hash, s.hash);
}

#[test]
fn spec_errors_name_the_file_and_the_key() {
    let _hdf5 = shared();
    let d = Dir::new();
    let top_cases: &[(&str, &str, &str, &str)] = &[
        ("replicas = 2", "replicas = 2\ncolour = 1", "`colour`", "unknown key"),
        ("base = \"base.toml\"", "base = \"nope.toml\"", "`base`", "nope.toml"),
        ("replicas = 2", "replicas = 0", "`replicas`", "[1, 1000000]"),
        ("\"share_ai\"", "\"welfare\"", "`metrics`", "unknown outcome \"welfare\""),
        ("block = 3", "block = -1", "`block`", "non-negative integer"),
    ];
    let axis_cases: &[(&str, &str, &str, &str)] = &[
        ("key = \"technology.ai_cost_scale\"", "key = \"market.colour\"", "axis[0].key", "not a numeric config key"),
        (
            "key = \"technology.ai_cost_scale\"",
            "key = \"technology.shock_ramp\"",
            "axis[0].key",
            "not a numeric config key",
        ),
        ("from = 0.1", "from = 0.0", "axis[0].from", "positive"),
        ("values = [0.0, 0.5, 1.0, 2.0]", "values = [0.0, 1.0, 0.5]", "axis[1].values", "strictly increasing"),
        ("values = [0.0, 0.5, 1.0, 2.0]", "values = [0.0]\nfrom = 1", "axis[1].values", "not both"),
        ("key = \"market.pollution\"", "key = \"technology.ai_cost_scale\"", "axis[1].key", "already the first axis"),
        ("key = \"market.pollution\"", "key = \"market.k\"", "axis[1]", "market.k"),
    ];
    for (from, to, key, why) in top_cases.iter().chain(axis_cases) {
        let text = SPEC.replacen(from, to, 1);
        assert_ne!(text, SPEC, "case {to} did not apply");
        let e = d.spec("bad.toml", &text).expect_err(to).to_string();
        assert!(e.contains("bad.toml") && e.contains(key) && e.contains(why), "{to}: {e}");
    }
    // An axis value outside the key's valid range names the axis, the key and the value.
    let e = d
        .spec(
            "bad.toml",
            &SPEC.replacen(
                "key = \"market.pollution\"\nvalues = [0.0, 0.5, 1.0, 2.0]",
                "key = \"market.k\"\nvalues = [1, 100]",
                1,
            ),
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("bad.toml") && e.contains("axis[1]") && e.contains("market.k") && e.contains("100"), "{e}");
    // A bad [set] key is reported with the spec file.
    let e = d.spec("bad.toml", &SPEC.replace("market.k = 3", "market.kk = 3")).unwrap_err().to_string();
    assert!(e.contains("bad.toml") && e.contains("set") && e.contains("kk"), "{e}");
    // A grid or a run list, not both (a third axis is fine: see the N-axis tests).
    let e = d.spec("bad.toml", &format!("{SPEC}\n[[run]]\nmarket.k = 2\n")).unwrap_err().to_string();
    assert!(e.contains("bad.toml") && e.contains("`run`") && e.contains("not both"), "{e}");
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let _hdf5 = shared();
    let d = Dir::new();
    let spec = d.spec("s.toml", SPEC).unwrap();
    let (a, b) = (d.path("t1.h5"), d.path("t2.h5"));
    let r1 = run(&spec, &a, &Options::default(), &CpuExecutor::new(1).unwrap());
    let r2 = run(&spec, &b, &Options::default(), &CpuExecutor::new(2).unwrap());
    assert!(r1.complete && r2.complete);
    assert_eq!((r1.cells_computed, r1.runs_computed), (12, 24));
    let (fa, fb) = (sweep::store::read(&a).unwrap(), sweep::store::read(&b).unwrap());
    assert_same_data(&fa, &fb);
    // The grid holds real, varied numbers: AI enters at low cost and not at high cost.
    let ai = fa.metric("share_ai").unwrap();
    assert!(ai.iter().all(|v| v.is_finite()));
    assert!(ai[0] > ai[ai.len() - 1], "share_ai at s = 0.1 ({}) should exceed s = 10 ({})", ai[0], ai[ai.len() - 1]);
    assert!(fa.complete && fa.cells_done() == 12);
    // A cell is an ordinary run: its config and seed reproduce the stored outcome.
    let o = sweep::exec::run_job(&spec, Job { cell: 5, replica: 1 }, &AtomicBool::new(false)).unwrap().unwrap();
    assert_eq!(o.value("share_ai").unwrap().to_bits(), ai[5 * 2 + 1].to_bits());
    assert_eq!(fa.run_seeds[5 * 2 + 1], spec.seed_of(5, 1));
    assert!(fa.run_seeds.iter().all(|&s| s <= i64::MAX as u64), "seeds must pass through TOML");
}

#[test]
fn shipped_phase_specs_are_valid() {
    let _hdf5 = shared();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        if path.extension().is_some_and(|e| e == "toml") && text.contains("[[axis]]") {
            let s = Spec::load(&path).unwrap_or_else(|e| panic!("{e}"));
            // The benchmark sweeps use 10^4-agent markets; the F5/F6 maps use the markets of
            // `hollow reproduce`'s scans (5,000 creators, 10,000 buyers), so they match it.
            let agents = s.base.top.creators + s.base.top.buyers;
            assert!(matches!(agents, 10_000 | 15_000), "{}: {agents}-agent markets", path.display());
            n += 1;
        }
    }
    assert!(n >= 2, "expected the phase specs in configs/");
}

#[test]
fn interrupted_sweep_resumes_only_the_missing_cells() {
    let _hdf5 = shared();
    let d = Dir::new();
    let spec = d.spec("s.toml", SPEC).unwrap();
    let whole = d.path("whole.h5");
    run(&spec, &whole, &Options::default(), &CpuExecutor::new(2).unwrap());

    // Interrupt after one block (the test hook stands in for Ctrl-C / kill at a block end).
    let out = d.path("resumed.h5");
    let first = run(&spec, &out, &Options { max_blocks: Some(1), ..every_block() }, &CpuExecutor::new(2).unwrap());
    assert!(!first.complete);
    let partial = sweep::store::read(&out).unwrap();
    assert!(!partial.complete);
    let done_before = partial.cells_done();
    assert!((3..12).contains(&done_before), "{done_before} cells done after one block");
    // Some block is whole (which one finishes first depends on the run times of its cells).
    assert!(
        (0..spec.n_blocks()).any(|b| spec.block_cells(b).all(|c| partial.done[c])),
        "no whole block in {:?}",
        partial.done
    );

    // Resume: only the missing cells are handed out and run.
    let counting =
        Counting { inner: CpuExecutor::new(2).unwrap(), runs: AtomicUsize::new(0), cells: Mutex::new(Vec::new()) };
    let second = run(&spec, &out, &every_block(), &counting);
    assert!(second.complete);
    assert_eq!(second.cells_before, done_before);
    assert_eq!(counting.runs.load(Ordering::SeqCst), (12 - done_before) * 2);
    let handed = counting.cells.lock().unwrap().clone();
    assert!(handed.iter().all(|&c| !partial.done[c]), "a finished cell was recomputed: {handed:?}");
    assert_same_data(&sweep::store::read(&out).unwrap(), &sweep::store::read(&whole).unwrap());

    // A complete file is left alone: nothing to run.
    let third =
        Counting { inner: CpuExecutor::new(1).unwrap(), runs: AtomicUsize::new(0), cells: Mutex::new(Vec::new()) };
    let r = run(&spec, &out, &every_block(), &third);
    assert!(r.complete && r.cells_computed == 0 && third.runs.load(Ordering::SeqCst) == 0);

    // Another spec does not resume this file, unless --fresh.
    let other = d.spec("o.toml", &SPEC.replace("replicas = 2", "replicas = 1")).unwrap();
    let e =
        sweep::run(&other, &out, &every_block(), &CpuExecutor::new(1).unwrap(), &AtomicBool::new(false), &no_progress)
            .unwrap_err()
            .to_string();
    assert!(e.contains("resumed.h5") && e.contains("another spec") && e.contains("--fresh"), "{e}");
    let fresh = run(&other, &out, &Options { fresh: true, ..every_block() }, &CpuExecutor::new(1).unwrap());
    assert!(fresh.complete && fresh.cells_computed == 12);
}

#[test]
fn a_checkpoint_of_the_previous_format_version_still_resumes() {
    let _hdf5 = shared();
    let d = Dir::new();
    let spec = d.spec("s.toml", SPEC).unwrap();
    let out = d.path("old.h5");
    run(&spec, &out, &Options { max_blocks: Some(1), ..every_block() }, &CpuExecutor::new(2).unwrap());
    // As version 1 wrote it: the version attribute (hollow reads nothing else that changed).
    {
        let f = hdf5::File::open_rw(&out).unwrap();
        f.delete_attr("format_version").unwrap();
        f.new_attr::<u32>().create("format_version").unwrap().write_scalar(&1_u32).unwrap();
    }
    assert_eq!(sweep::store::read(&out).unwrap().format_version, 1);
    let r = run(&spec, &out, &every_block(), &CpuExecutor::new(2).unwrap());
    assert!(r.complete);
    assert_eq!(sweep::store::read(&out).unwrap().format_version, sweep::store::FORMAT_VERSION);
    // A newer version than this build knows is refused, naming the file.
    {
        let f = hdf5::File::open_rw(&out).unwrap();
        f.delete_attr("format_version").unwrap();
        f.new_attr::<u32>().create("format_version").unwrap().write_scalar(&99_u32).unwrap();
    }
    let e = sweep::store::read(&out).unwrap_err().to_string();
    assert!(e.contains("old.h5") && e.contains("99") && e.contains("upgrade"), "{e}");
}

#[test]
fn shards_merged_equal_the_unsharded_sweep() {
    let _hdf5 = shared();
    let d = Dir::new();
    let spec = d.spec("s.toml", SPEC).unwrap();
    let exec = CpuExecutor::new(2).unwrap();
    run(&spec, &d.path("whole.h5"), &Options::default(), &exec);
    let shard = |i: u32| Options { shard: Shard { index: i, count: 2 }, ..Options::default() };
    let r0 = run(&spec, &d.path("s0.h5"), &shard(0), &exec);
    let r1 = run(&spec, &d.path("s1.h5"), &shard(1), &exec);
    // Blocks 0 and 2 (cells 0-2, 6-8) and blocks 1 and 3 (cells 3-5, 9-11).
    assert_eq!((r0.cells_total, r1.cells_total), (6, 6));
    let s0 = sweep::store::read(&d.path("s0.h5")).unwrap();
    assert_eq!(s0.done, [true, true, true, false, false, false, true, true, true, false, false, false]);
    assert!(s0.complete, "a shard with all its blocks done is complete");
    let merged = d.path("merged.h5");
    let m = sweep::merge(&merged, &[d.path("s1.h5"), d.path("s0.h5")]).unwrap();
    assert_eq!((m.files, m.cells), (2, 12));
    let (fm, fw) = (sweep::store::read(&merged).unwrap(), sweep::store::read(&d.path("whole.h5")).unwrap());
    assert_same_data(&fm, &fw);
    assert!(fm.complete && fm.shard == Shard::ALL);

    // Missing and overlapping cells are refused, naming the files.
    let e = sweep::merge(&d.path("m2.h5"), &[d.path("s0.h5")]).unwrap_err().to_string();
    assert!(e.contains("6 of 12 cells") && e.contains("shard 1/2"), "{e}");
    let e = sweep::merge(&d.path("m3.h5"), &[d.path("s0.h5"), d.path("whole.h5")]).unwrap_err().to_string();
    assert!(e.contains("s0.h5") && e.contains("whole.h5") && e.contains("both hold cell 0"), "{e}");
    assert!(!d.path("m2.h5").exists() && !d.path("m3.h5").exists(), "a refused merge writes nothing");
}

#[test]
fn a_merge_of_missing_or_incomplete_shards_writes_what_is_done_and_names_them() {
    let _hdf5 = shared();
    let d = Dir::new();
    let spec = d.spec("s.toml", SPEC).unwrap();
    let exec = CpuExecutor::new(2).unwrap();
    run(&spec, &d.path("whole.h5"), &Options::default(), &exec);
    let shard = |i: u32| Options { shard: Shard { index: i, count: 2 }, ..every_block() };
    run(&spec, &d.path("s0.h5"), &shard(0), &exec);
    let out = d.path("merged.h5");
    // Shard 1 missing: the cells of shard 0 are written, marked incomplete.
    let m = sweep::merge_partial(&out, &[d.path("s0.h5")], false).unwrap();
    assert!(!m.complete && (m.cells, m.cells_done) == (12, 6), "{m:?}");
    let one = Shard { index: 1, count: 2 };
    assert_eq!(m.gaps, [sweep::ShardGap { shard: one, files: vec![], cells_done: 0, cells: 6 }]);
    let e = m.incomplete_error(&out).to_string();
    assert!(e.contains("6 of 12 cells") && e.contains("shard 1/2: missing"), "{e}");
    let f = sweep::store::read(&out).unwrap();
    assert!(!f.complete && f.cells_done() == 6);
    // Shard 1 interrupted after one block: incomplete, with its file named.
    let part = Options { max_blocks: Some(1), ..shard(1) };
    sweep::run(&spec, &d.path("s1.h5"), &part, &exec, &AtomicBool::new(false), &no_progress).unwrap();
    let m = sweep::merge_partial(&out, &[d.path("s0.h5"), d.path("s1.h5")], false).unwrap();
    let s1 = d.path("s1.h5").display().to_string();
    // One block (3 cells) at least; a run of the next block in flight may finish too.
    let k = m.gaps.first().map_or(0, |g| g.cells_done);
    assert!((3..6).contains(&k), "{m:?}");
    assert_eq!(m.gaps, [sweep::ShardGap { shard: one, files: vec![s1.clone()], cells_done: k, cells: 6 }]);
    let line = m.gaps[0].to_string();
    assert!(line.contains(&format!("incomplete ({k} of 6 cells done in")) && line.contains(&s1), "{line}");
    // Once shard 1 is done, merging again completes the file.
    run(&spec, &d.path("s1.h5"), &shard(1), &exec);
    let m = sweep::merge_partial(&out, &[d.path("s0.h5"), d.path("s1.h5")], false).unwrap();
    assert!(m.complete && m.gaps.is_empty() && m.cells_done == 12, "{m:?}");
    let (fm, fw) = (sweep::store::read(&out).unwrap(), sweep::store::read(&d.path("whole.h5")).unwrap());
    assert_same_data(&fm, &fw);
    assert!(fm.complete);
}

#[test]
fn a_spec_with_shards_names_a_shard_by_its_index_alone() {
    let _hdf5 = shared();
    let d = Dir::new();
    let spec = d.spec("s.toml", &SPEC.replace("block = 3", "block = 3\nshards = 2")).unwrap();
    assert_eq!(spec.shards, Some(2));
    assert_eq!(spec.hash, d.spec("p.toml", SPEC).unwrap().hash, "shards does not change the numbers");
    assert_eq!(Shard::resolve("1", &spec).unwrap(), Shard { index: 1, count: 2 });
    assert_eq!(Shard::resolve("1/2", &spec).unwrap(), Shard { index: 1, count: 2 });
    let e = Shard::resolve("2", &spec).unwrap_err().to_string();
    assert!(e.contains("shards = 2") && e.contains("0..1"), "{e}");
    let e = Shard::resolve("1/1", &spec).unwrap_err().to_string();
    assert!(e.contains("shards = 2"), "{e}");
    let plain = d.spec("p.toml", SPEC).unwrap();
    let e = Shard::resolve("1", &plain).unwrap_err().to_string();
    assert!(e.contains("shards = N") && e.contains("I/N"), "{e}");
    assert_eq!(Shard::resolve("1/4", &plain).unwrap(), Shard { index: 1, count: 4 });
    // A shard runs whole blocks: no more shards than blocks (4 here).
    let e = d.spec("x.toml", &SPEC.replace("block = 3", "block = 3\nshards = 5")).unwrap_err().to_string();
    assert!(e.contains("shards") && e.contains("[1, 4]"), "{e}");
}

#[test]
fn merge_refuses_shards_of_another_spec() {
    let _hdf5 = shared();
    let d = Dir::new();
    let exec = CpuExecutor::new(2).unwrap();
    let a = d.spec("a.toml", SPEC).unwrap();
    let b = d.spec("b.toml", &SPEC.replace("values = [0.0, 0.5, 1.0, 2.0]", "values = [0.0, 0.5, 1.0, 3.0]")).unwrap();
    assert_ne!(a.hash, b.hash);
    run(&a, &d.path("a0.h5"), &Options { shard: Shard { index: 0, count: 2 }, ..Options::default() }, &exec);
    run(&b, &d.path("b1.h5"), &Options { shard: Shard { index: 1, count: 2 }, ..Options::default() }, &exec);
    let e = sweep::merge(&d.path("m.h5"), &[d.path("a0.h5"), d.path("b1.h5")]).unwrap_err().to_string();
    assert!(e.contains("b1.h5") && e.contains("another sweep") && e.contains(&a.hash) && e.contains(&b.hash), "{e}");
    assert!(!d.path("m.h5").exists());
}

#[test]
fn shard_argument_is_checked() {
    let _hdf5 = shared();
    assert_eq!("3/8".parse::<Shard>().unwrap(), Shard { index: 3, count: 8 });
    for bad in ["8/8", "1/0", "x/2", "3"] {
        let e = bad.parse::<Shard>().unwrap_err().to_string();
        assert!(e.contains(bad), "{e}");
    }
}

#[test]
fn every_outcome_has_a_unit_a_description_and_a_value() {
    let _hdf5 = shared();
    let o = Outcomes {
        share_exit: 0.2,
        share_ai: 0.5,
        share_human: 0.3,
        welfare_pre: 1.0,
        welfare_final: 0.8,
        ..Outcomes::default()
    };
    for name in observe::outcome_names() {
        assert!(observe::outcome_unit(name).is_some(), "{name} has no unit");
        assert!(observe::outcome_description(name).is_some_and(|d| !d.is_empty()), "{name} has no description");
        assert!(o.value(name).is_some(), "{name} has no value");
    }
    assert_eq!(o.value("dominant_segment"), Some(1.0));
    assert_eq!(o.value("welfare_regime"), Some(0.0));
    assert!((o.value("welfare_change").unwrap() + 0.2).abs() < 1e-12);
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(p: &Path) -> (u32, u32) {
    let b = std::fs::read(p).expect("png written");
    assert_eq!(&b[..8], b"\x89PNG\r\n\x1a\n", "{} is not a PNG", p.display());
    let be = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    (be(16), be(20))
}

#[test]
fn cli_sweep_and_phase_plot_write_files_of_the_requested_size() {
    let _spawning = SPAWN.write().unwrap_or_else(|p| p.into_inner());
    let d = Dir::new();
    std::fs::write(d.path("s.toml"), SPEC).unwrap();
    let hollow = env!("CARGO_BIN_EXE_hollow");
    let out = d.path("cli.h5");
    let st = std::process::Command::new(hollow)
        .args(["sweep", "-q", "--threads", "2", "-o"])
        .arg(&out)
        .arg(d.path("s.toml"))
        .status()
        .unwrap();
    assert!(st.success());
    for (metric, png, extra) in
        [("welfare_change", "w.png", None), ("dominant_segment", "d.png", None), ("share_ai", "sd.png", Some("std"))]
    {
        let mut cmd = std::process::Command::new(hollow);
        cmd.args(["plot", "phase"]).arg(&out).arg(metric).arg("-o").arg(d.path(png)).args(["--size", "640x480"]);
        if let Some(s) = extra {
            cmd.args(["--stat", s]);
        }
        let o = cmd.output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(png_size(&d.path(png)), (640, 480));
    }
    // An unknown metric is refused with the ones the file has.
    let o = std::process::Command::new(hollow).args(["plot", "phase"]).arg(&out).arg("welfare").output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("welfare_change"), "{err}");

    // A one-axis sweep gives a line plot.
    let one =
        SPEC.split("[[axis]]\nkey = \"market.pollution\"").next().unwrap().to_string() + "\n[set]\nmarket.k = 3\n";
    std::fs::write(d.path("one.toml"), one).unwrap();
    let out1 = d.path("one.h5");
    let st = std::process::Command::new(hollow)
        .args(["sweep", "-q", "-o"])
        .arg(&out1)
        .arg(d.path("one.toml"))
        .status()
        .unwrap();
    assert!(st.success());
    let st = std::process::Command::new(hollow)
        .args(["plot", "phase"])
        .arg(&out1)
        .args(["share_ai", "--size", "500x300", "-o"])
        .arg(d.path("l.png"))
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(png_size(&d.path("l.png")), (500, 300));
}

#[test]
fn axes_that_would_give_wrong_or_duplicate_runs_are_refused() {
    let _hdf5 = shared();
    let d = Dir::new();
    // `steps` is one attribute of the whole sweep file.
    let e = d.spec("bad.toml", &SPEC.replacen("key = \"market.pollution\"", "key = \"steps\"", 1)).unwrap_err();
    let e = e.to_string();
    assert!(e.contains("bad.toml") && e.contains("axis[1].key") && e.contains("`steps` cannot be an axis"), "{e}");
    // Distinct in f64, one value as the f32 the config stores.
    let text = SPEC.replacen("values = [0.0, 0.5, 1.0, 2.0]", "values = [0.0, 0.1, 0.10000000001]", 1);
    let e = d.spec("bad.toml", &text).unwrap_err().to_string();
    assert!(e.contains("axis[1].values") && e.contains("0.1") && e.contains("32-bit float"), "{e}");
    // Values that are distinct as f32 pass.
    let ok = SPEC.replacen("values = [0.0, 0.5, 1.0, 2.0]", "values = [0.0, 0.1, 0.1000001]", 1);
    assert!(d.spec("ok.toml", &ok).is_ok());
}

/// An executor whose runs of one cell fail silently (NaN outcomes), like a diverged market.
struct NanCell {
    inner: CpuExecutor,
    bad_cell: usize,
}

impl Executor for NanCell {
    fn describe(&self) -> String {
        self.inner.describe()
    }
    fn run(&self, spec: &Spec, jobs: &[Job], stop: &AtomicBool, done: &Done<'_>) -> Result<(), SweepError> {
        let poisoned = |i: usize, r: Result<Finished, SweepError>| {
            if jobs[i].cell == self.bad_cell {
                let nan = Outcomes {
                    share_ai: f64::NAN,
                    welfare_final: f64::NAN,
                    ..r.as_ref().ok().map(|f| f.outcomes).unwrap_or_default()
                };
                done(i, Ok(nan.into()))
            } else {
                done(i, r)
            }
        };
        self.inner.run(spec, jobs, stop, &poisoned)
    }
}

#[test]
fn a_cell_with_nan_results_is_never_marked_done() {
    let _hdf5 = shared();
    let d = Dir::new();
    let spec = d.spec("s.toml", SPEC).unwrap();
    let out = d.path("nan.h5");
    let exec = NanCell { inner: CpuExecutor::new(1).unwrap(), bad_cell: 4 };
    let e = sweep::run(&spec, &out, &every_block(), &exec, &AtomicBool::new(false), &no_progress).unwrap_err();
    let e = e.to_string();
    assert!(e.contains("cell 4") && e.contains("NaN"), "{e}");
    let f = sweep::store::read(&out).expect("the finished cells are saved");
    assert!(!f.done[4] && !f.complete);
}

#[test]
fn welfare_min_is_nan_without_a_post_shock_step() {
    use hollow::backend::cpu::CpuBackend;
    use hollow::config::Config;
    use hollow::observe::Recorder;
    use hollow::sim::Simulation;
    let _hdf5 = shared();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/configs/no_shock.toml");
    let sets = ["creators=200".to_string(), "buyers=400".to_string(), "steps=12".to_string()];
    let cfg = Config::load(Path::new(path), &sets).unwrap();
    let mut sim = Simulation::new(cfg.clone(), |s| Box::new(CpuBackend::new(s, 1)));
    let mut rec = Recorder::new();
    sim.run(cfg.top.steps, &mut rec, &AtomicBool::new(false), |_| {});
    let o = sim.outcomes(&rec);
    assert!(o.welfare_min.is_nan(), "welfare_min = {}", o.welfare_min);
    assert!(o.welfare_final.is_finite());
}

// ---------------------------------------------------------------------------------------
// Grids of more than two axes, run lists and per-step series

/// A 3 × 2 × 2 grid (cost scale, pollution, k), 2 replicas, blocks of 4 cells, two
/// per-step series.
const SPEC3: &str = r#"
base = "base.toml"
replicas = 2
block = 4
metrics = ["welfare_final", "share_ai", "dominant_segment"]
series = ["welfare", "share_ai"]

[[axis]]
key = "technology.ai_cost_scale"
scale = "log"
values = [0.1, 1.0, 10.0]

[[axis]]
key = "market.pollution"
values = [0.0, 1.0]

[[axis]]
key = "market.k"
values = [2, 3]
"#;

/// Three runs: two overrides, one override (quoted key), none (the base config).
const RUNS: &str = r#"
base = "base.toml"
replicas = 2
metrics = ["welfare_final", "share_ai"]
series = ["welfare"]

[set]
market.k = 3

[[run]]
technology.ai_cost_scale = 0.2
market.pollution = 1.5

[[run]]
"market.k" = 5

[[run]]
"#;

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|f| f.to_bits()).collect()
}

#[test]
fn a_three_axis_grid_numbers_cells_row_major_and_stores_one_dimension_per_axis() {
    let _hdf5 = shared();
    let d = Dir::new();
    let spec = d.spec("s3.toml", SPEC3).unwrap();
    assert_eq!((spec.dims(), spec.n_cells(), spec.n_blocks()), (vec![3, 2, 2], 12, 3));
    // Row-major, the last axis fastest: cell 7 is (1, 1, 1), cell 9 is (2, 0, 1).
    assert_eq!(spec.cell_indices(7), [1, 1, 1]);
    assert_eq!(spec.cell_indices(9), [2, 0, 1]);
    assert_eq!(spec.cell_at(&[2, 0, 1]), 9);
    let cfg = spec.cell_config(9, 1).unwrap();
    assert_eq!((cfg.technology.ai_cost_scale, cfg.market.pollution, cfg.market.k), (10.0, 0.0, 3));
    assert_eq!(cfg.top.seed, spec.seed_of(9, 1));
    assert_eq!(spec.describe_cell(9), "technology.ai_cost_scale=10, market.pollution=0, market.k=3");

    let out = d.path("s3.h5");
    let r = run(&spec, &out, &Options::default(), &CpuExecutor::new(2).unwrap());
    assert!(r.complete && (r.cells_computed, r.runs_computed) == (12, 24));
    let f = sweep::store::read(&out).unwrap();
    assert_eq!((f.dims(), f.axes.len(), f.cells_done()), (vec![3, 2, 2], 3, 12));
    // Every stored run is the cell's ordinary run, bit for bit.
    for (cell, replica) in [(0, 0), (7, 1), (9, 1), (11, 0)] {
        let o = sweep::exec::run_job(&spec, Job { cell, replica }, &AtomicBool::new(false)).unwrap().unwrap();
        let at = cell * 2 + replica as usize;
        for m in ["welfare_final", "share_ai"] {
            assert_eq!(o.value(m).unwrap().to_bits(), f.metric(m).unwrap()[at].to_bits(), "{m} of cell {cell}");
        }
        assert_eq!(f.run_seeds[at], spec.seed_of(cell, replica));
    }
    // AI enters at the lowest cost scale and not at the highest, on every (pollution, k).
    let ai = f.metric("share_ai").unwrap();
    for rest in 0..4 {
        assert!(ai[rest * 2] > ai[(8 + rest) * 2], "share_ai {ai:?}");
    }

    // The stored arrays have one dimension per axis (and replica); /grid names them.
    let h = hdf5::File::open(&out).unwrap();
    assert_eq!(h.dataset("done").unwrap().shape(), [3, 2, 2]);
    assert_eq!(h.dataset("metrics/share_ai/values").unwrap().shape(), [3, 2, 2, 2]);
    assert_eq!(h.dataset("metrics/share_ai/mean").unwrap().shape(), [3, 2, 2]);
    let g = h.dataset("grid/welfare_final").unwrap();
    let grid = |p: &str, n: usize| (format!("/grid/{p}"), n);
    assert_eq!(
        hollow::io::dimscale::scales_of(&h, &g).unwrap(),
        [grid("technology.ai_cost_scale", 3), grid("market.pollution", 2), grid("market.k", 2), grid("replica", 2)]
    );
    assert_eq!(bits(&g.read_raw::<f64>().unwrap()), bits(f.metric("welfare_final").unwrap()));
    // The per-step series along the same dimensions and `step`.
    let s = h.dataset("grid/welfare_by_step").unwrap();
    assert_eq!(s.shape(), [3, 2, 2, 2, 30]);
    let dims = hollow::io::dimscale::scales_of(&h, &s).unwrap();
    assert_eq!(dims.last(), Some(&grid("step", 30)));
    assert_eq!(h.dataset("grid/step").unwrap().read_raw::<u32>().unwrap(), (0..30).collect::<Vec<u32>>());

    // The CSV table: one row per cell and replica, one column per axis key.
    let csv = hollow::io::export::sweep_csv(&f);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "cell,replica,seed,technology.ai_cost_scale,market.pollution,market.k,welfare_final,share_ai,dominant_segment"
    );
    assert_eq!(lines.len(), 1 + 24);
    let row: Vec<&str> = lines[1 + 9 * 2 + 1].split(',').collect();
    assert_eq!(&row[..6], ["9", "1", &spec.seed_of(9, 1).to_string(), "10", "0", "3"]);
    assert_eq!(row[6].parse::<f64>().unwrap().to_bits(), f.metric("welfare_final").unwrap()[19].to_bits());
}

#[test]
fn existing_one_and_two_axis_layouts_are_unchanged() {
    let _hdf5 = shared();
    let d = Dir::new();
    let spec = d.spec("s.toml", SPEC).unwrap();
    // The canonical text of a two-axis spec without series has no line the new features add.
    let canon = spec.canonical();
    assert!(!canon.contains("\nrun ") && !canon.contains("\nseries"), "{canon}");
    assert_eq!((spec.shape(), spec.cell_index(5)), ((3, 4), (1, 1)));
    let one = SPEC.split("[[axis]]\nkey = \"market.pollution\"").next().unwrap().to_string();
    let one = d.spec("one.toml", &one).unwrap();
    let out = d.path("one.h5");
    run(&one, &out, &Options::default(), &CpuExecutor::new(2).unwrap());
    // A one-axis grid keeps its second dimension of length 1 under /metrics (as before).
    let h = hdf5::File::open(&out).unwrap();
    assert_eq!(h.dataset("done").unwrap().shape(), [3, 1]);
    assert_eq!(h.dataset("metrics/share_ai/values").unwrap().shape(), [3, 1, 2]);
    assert_eq!(h.dataset("grid/share_ai").unwrap().shape(), [3, 2]);
}

#[test]
fn a_three_axis_sweep_resumed_after_an_interruption_equals_a_fresh_run() {
    let _hdf5 = shared();
    let d = Dir::new();
    let spec = d.spec("s3.toml", SPEC3).unwrap();
    let whole = d.path("whole.h5");
    run(&spec, &whole, &Options::default(), &CpuExecutor::new(2).unwrap());
    let out = d.path("resumed.h5");
    let first = run(&spec, &out, &Options { max_blocks: Some(1), ..every_block() }, &CpuExecutor::new(2).unwrap());
    assert!(!first.complete);
    let partial = sweep::store::read(&out).unwrap();
    let before = partial.cells_done();
    assert!((4..12).contains(&before), "{before} cells done after one block");
    // The checkpoint holds the series of its finished cells and NaN elsewhere.
    let w = partial.series("welfare").unwrap();
    for cell in 0..12 {
        let span = &w[cell * 2 * 30..(cell + 1) * 2 * 30];
        assert_eq!(span.iter().all(|v| v.is_finite()), partial.done[cell], "cell {cell}");
    }
    let counting =
        Counting { inner: CpuExecutor::new(2).unwrap(), runs: AtomicUsize::new(0), cells: Mutex::new(Vec::new()) };
    let second = run(&spec, &out, &every_block(), &counting);
    assert!(second.complete && second.cells_before == before);
    assert_eq!(counting.runs.load(Ordering::SeqCst), (12 - before) * 2);
    let (a, b) = (sweep::store::read(&out).unwrap(), sweep::store::read(&whole).unwrap());
    assert_same_data(&a, &b);
    // Shards of the 3-axis grid merge into the same file too.
    let exec = CpuExecutor::new(2).unwrap();
    for i in 0..2 {
        run(
            &spec,
            &d.path(&format!("p{i}.h5")),
            &Options { shard: Shard { index: i, count: 2 }, ..Options::default() },
            &exec,
        );
    }
    sweep::merge(&d.path("merged.h5"), &[d.path("p0.h5"), d.path("p1.h5")]).unwrap();
    assert_same_data(&sweep::store::read(&d.path("merged.h5")).unwrap(), &b);
}

#[test]
fn a_slice_fixes_each_other_axis_at_its_nearest_grid_value() {
    let _hdf5 = shared();
    let d = Dir::new();
    let spec = d.spec("s3.toml", SPEC3).unwrap();
    let out = d.path("s3.h5");
    run(&spec, &out, &Options::default(), &CpuExecutor::new(2).unwrap());
    let f = sweep::store::read(&out).unwrap();
    use hollow::sweep::analysis::slice_at;
    // k = 2.6 is nearest to 3; pollution 0.4 to 0 (on a log axis, nearest in log: 3 -> 1).
    let (s, fixed) = slice_at(&f, &[("market.k".into(), 2.6)], 2).unwrap();
    assert_eq!((fixed[0].index, fixed[0].value), (1, 3.0));
    assert_eq!(fixed[0].describe(), "market.k = 3 (nearest to 2.6)");
    assert_eq!(
        s.axes.iter().map(|a| a.key.as_str()).collect::<Vec<_>>(),
        ["technology.ai_cost_scale", "market.pollution"]
    );
    assert_eq!(s.dims(), [3, 2]);
    // Slice cell (i, j) is cell (i, j, 1) of the file, all replicas.
    let (full, part) = (f.metric("welfare_final").unwrap(), s.metric("welfare_final").unwrap());
    for (i, j) in [(0, 0), (1, 1), (2, 0)] {
        let c = spec.cell_at(&[i, j, 1]);
        assert_eq!(bits(&part[(i * 2 + j) * 2..][..2]), bits(&full[c * 2..][..2]));
        assert_eq!(s.run_seeds[(i * 2 + j) * 2], f.run_seeds[c * 2]);
    }
    assert_eq!(s.series("share_ai").unwrap().len(), 6 * 2 * 30);
    let (_, fixed) = slice_at(&f, &[("technology.ai_cost_scale".into(), 3.0), ("market.k".into(), 2.0)], 1).unwrap();
    assert_eq!((fixed[0].value, fixed[1].value), (1.0, 2.0), "nearest in log on a log axis");
    // Under- and over-specified slices and unknown keys name the axes.
    let keys = "technology.ai_cost_scale, market.pollution, market.k";
    let e = slice_at(&f, &[], 2).unwrap_err();
    assert!(e.contains("3 axes") && e.contains(keys) && e.contains("fix 1 more with --at"), "{e}");
    let two = [("market.k".to_string(), 2.0), ("market.pollution".to_string(), 0.0)];
    let e = slice_at(&f, &two, 2).unwrap_err();
    assert!(e.contains(keys) && e.contains("fix 1 of them with --at, not 2"), "{e}");
    let e = slice_at(&f, &[("market.kk".into(), 2.0)], 2).unwrap_err();
    assert!(e.contains("`market.kk` is not an axis") && e.contains(keys), "{e}");
    let e = slice_at(&f, &[("market.k".into(), 2.0), ("market.k".into(), 3.0)], 1).unwrap_err();
    assert!(e.contains("fixed twice"), "{e}");
}

#[test]
fn a_run_list_runs_each_runs_overrides_like_a_single_run() {
    use hollow::backend::cpu::CpuBackend;
    use hollow::config::Config;
    use hollow::observe::Recorder;
    use hollow::sim::Simulation;
    let _hdf5 = shared();
    let d = Dir::new();
    let spec = d.spec("runs.toml", RUNS).unwrap();
    assert!(spec.is_run_list() && spec.axes.is_empty());
    assert_eq!((spec.dims(), spec.n_cells()), (vec![3], 3));
    assert_eq!(spec.runs[1].overrides, [("market.k".to_string(), 5.0)]);
    assert!(spec.runs[2].overrides.is_empty());
    assert_eq!(spec.describe_cell(2), "run 2: the base config");
    // The order a run lists its overrides in does not change the spec.
    let swapped = RUNS.replace(
        "technology.ai_cost_scale = 0.2\nmarket.pollution = 1.5",
        "market.pollution = 1.5\ntechnology.ai_cost_scale = 0.2",
    );
    assert_ne!(swapped, RUNS);
    assert_eq!(d.spec("swapped.toml", &swapped).unwrap().hash, spec.hash);

    let out = d.path("runs.h5");
    let r = run(&spec, &out, &Options::default(), &CpuExecutor::new(2).unwrap());
    assert!(r.complete && (r.cells_computed, r.runs_computed) == (3, 6));
    let f = sweep::store::read(&out).unwrap();
    let t = f.runs.as_ref().expect("a run list");
    assert_eq!(t.keys, ["market.k", "market.pollution", "technology.ai_cost_scale"]);
    // Each key's value in each run: the override, else the base config (with [set]).
    assert_eq!(t.values, [vec![3.0, 5.0, 3.0], vec![1.5, 0.5, 0.5], vec![0.2, 1.0, 1.0]]);
    // A run is `hollow run` of the base config with [set], steps, its overrides and its
    // stored seed: the same outcomes and series, bit for bit.
    for (run_i, sets) in
        [(0, vec!["technology.ai_cost_scale=0.2", "market.pollution=1.5"]), (1, vec!["market.k=5"]), (2, vec![])]
    {
        for replica in 0..2 {
            let at = run_i * 2 + replica;
            let mut all = vec!["market.k=3".to_string(), "steps=30".to_string()];
            all.extend(sets.iter().map(|s| s.to_string()));
            all.push(format!("seed={}", f.run_seeds[at]));
            let cfg = Config::from_str_named(BASE, "base.toml", &all).unwrap();
            let mut sim = Simulation::new(cfg.clone(), |s| Box::new(CpuBackend::new(s, 1)));
            let mut rec = Recorder::new();
            sim.run(cfg.top.steps, &mut rec, &AtomicBool::new(false), |_| {});
            let o = sim.outcomes(&rec);
            for m in ["welfare_final", "share_ai"] {
                assert_eq!(o.value(m).unwrap().to_bits(), f.metric(m).unwrap()[at].to_bits(), "{m} of run {run_i}");
            }
            assert_eq!(bits(rec.get("welfare").unwrap()), bits(&f.series("welfare").unwrap()[at * 30..][..30]));
        }
    }
    assert_ne!(f.metric("welfare_final").unwrap()[0], f.metric("welfare_final").unwrap()[4], "runs differ");

    // Stored along `run`, with the overridden keys as variables along it (xarray coordinates).
    let h = hdf5::File::open(&out).unwrap();
    let g = h.dataset("grid/welfare_final").unwrap();
    let scales = hollow::io::dimscale::scales_of(&h, &g).unwrap();
    assert_eq!(scales, [("/grid/run".to_string(), 3), ("/grid/replica".to_string(), 2)]);
    let k = h.dataset("grid/market.k").unwrap();
    assert_eq!(hollow::io::dimscale::scales_of(&h, &k).unwrap(), [("/grid/run".to_string(), 3)]);
    assert_eq!(k.read_raw::<f64>().unwrap(), [3.0, 5.0, 3.0]);
    let coords = g.attr("coordinates").unwrap().read_scalar::<hdf5::types::VarLenUnicode>().unwrap();
    assert_eq!(coords.as_str(), "market.k market.pollution technology.ai_cost_scale");
    assert_eq!(h.dataset("grid/welfare_by_step").unwrap().shape(), [3, 2, 30]);

    // The CSV table: one row per run and replica, a column per overridden key.
    let csv = hollow::io::export::sweep_csv(&f);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "run,replica,seed,market.k,market.pollution,technology.ai_cost_scale,welfare_final,share_ai");
    assert_eq!(lines.len(), 1 + 6);
    assert!(lines[3].starts_with(&format!("1,0,{},5,0.5,1,", f.run_seeds[2])), "{}", lines[3]);
}

#[test]
fn a_run_list_is_validated_before_anything_runs() {
    let _hdf5 = shared();
    let d = Dir::new();
    let cases: &[(&str, &str, &[&str])] = &[
        ("\"market.k\" = 5", "\"market.k\" = 100", &["run[1]", "market.k", "100"]),
        ("\"market.k\" = 5", "market.kk = 5", &["run[1].market.kk", "not a numeric config key"]),
        ("\"market.k\" = 5", "\"market.k\" = 4.5", &["run[1].market.k", "integer"]),
        ("\"market.k\" = 5", "seed = 4", &["run[1].seed", "top-level"]),
        ("\"market.k\" = 5", "technology.shock_ramp = \"linear\"", &["run[1].technology.shock_ramp", "numeric"]),
        // Cross-key rules are checked per run too: x_lo must stay below x_hi.
        ("market.pollution = 1.5", "market.pollution = 1.5\ntechnology.x_lo = 0.99", &["run[0]", "x_lo"]),
    ];
    for (from, to, want) in cases {
        let text = RUNS.replacen(from, to, 1);
        assert_ne!(text, RUNS, "case {to} did not apply");
        let e = d.spec("bad.toml", &text).expect_err(to).to_string();
        assert!(e.contains("bad.toml") && want.iter().all(|w| e.contains(w)), "{to}: {e}");
    }
    let e = d.spec("bad.toml", "base = \"base.toml\"\nrun = []\n").unwrap_err().to_string();
    assert!(e.contains("`run`") && e.contains("at least one"), "{e}");
    let e = d.spec("bad.toml", &RUNS.replace("series = [\"welfare\"]", "series = [\"welfare_final\"]")).unwrap_err();
    assert!(e.to_string().contains("`series`") && e.to_string().contains("unknown per-step metric"), "{e}");
}

#[test]
fn cli_dry_run_counts_and_plot_phase_at_on_a_three_axis_sweep() {
    let _spawning = SPAWN.write().unwrap_or_else(|p| p.into_inner());
    let d = Dir::new();
    std::fs::write(d.path("s3.toml"), SPEC3).unwrap();
    std::fs::write(d.path("runs.toml"), RUNS).unwrap();
    let hollow = |args: &[&str]| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_hollow"))
            .args(args)
            .current_dir(d.0.path())
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (code, out, err) = hollow(&["sweep", "s3.toml", "--dry-run"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("3 axes, 3 × 2 × 2 cells; 12 cells × 2 replicas = 24 runs of 30 steps"), "{out}");
    assert!(out.contains("per-step series (welfare, share_ai): 1440 values, 11.5 kB"), "{out}");
    let (code, out, _) = hollow(&["sweep", "runs.toml", "--dry-run", "--shard", "0/1"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("a run list; 3 runs × 2 replicas = 6 runs of 30 steps"), "{out}");
    assert_eq!(std::fs::read_dir(d.0.path()).unwrap().count(), 3, "a dry run writes nothing");

    assert_eq!(hollow(&["sweep", "-q", "s3.toml", "-o", "s3.h5"]).0, Some(0));
    assert_eq!(hollow(&["sweep", "-q", "runs.toml", "-o", "runs.h5"]).0, Some(0));
    let (code, _, err) =
        hollow(&["plot", "phase", "s3.h5", "share_ai", "--at", "market.k=2.6", "--size", "640x480", "-o", "k3.png"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(png_size(&d.path("k3.png")), (640, 480));
    // The default name says which slice it is.
    let (code, out, err) = hollow(&["plot", "phase", "s3.h5", "welfare_final", "--at", "market.pollution=1"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("s3_welfare_final_market.pollution=1.png")
            && d.path("s3_welfare_final_market.pollution=1.png").exists(),
        "{out}"
    );
    let keys = "technology.ai_cost_scale, market.pollution, market.k";
    for (args, want) in [
        (vec!["plot", "phase", "s3.h5", "share_ai"], vec![keys, "fix 1 more with --at"]),
        (
            vec!["plot", "phase", "s3.h5", "share_ai", "--at", "market.k=2", "--at", "market.pollution=0"],
            vec![keys, "not 2"],
        ),
        (vec!["plot", "phase", "s3.h5", "share_ai", "--at", "creators=2"], vec![keys, "`creators` is not an axis"]),
        (vec!["plot", "phase", "s3.h5", "share_ai", "--at", "market.k"], vec!["KEY=VALUE"]),
        (vec!["plot", "regimes", "s3.h5"], vec![keys, "fix 1 more with --at"]),
    ] {
        let (code, _, err) = hollow(&args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(want.iter().all(|w| err.contains(w)), "{args:?}: {err}");
    }
    // A run list has no axes to draw.
    let (code, _, err) = hollow(&["plot", "phase", "runs.h5", "share_ai"]);
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("runs.h5") && err.contains("run list") && err.contains("hollow export"), "{err}");
    // Its export: one row per run and replica.
    let (code, out, _) = hollow(&["export", "runs.h5", "-o", "-"]);
    assert_eq!(code, Some(0));
    assert_eq!(out.lines().count(), 1 + 6);
}

/// An executor that reports outcomes without the per-step series the spec asks for.
struct NoSeries(CpuExecutor);

impl Executor for NoSeries {
    fn describe(&self) -> String {
        self.0.describe()
    }
    fn run(&self, spec: &Spec, jobs: &[Job], stop: &AtomicBool, done: &Done<'_>) -> Result<(), SweepError> {
        let stripped = |i: usize, r: Result<Finished, SweepError>| done(i, r.map(|f| f.outcomes.into()));
        self.0.run(spec, jobs, stop, &stripped)
    }
}

#[test]
fn a_run_without_its_series_is_never_marked_done() {
    let _hdf5 = shared();
    let d = Dir::new();
    let spec = d.spec("runs.toml", RUNS).unwrap();
    let out = d.path("no_series.h5");
    let e = sweep::run(
        &spec,
        &out,
        &every_block(),
        &NoSeries(CpuExecutor::new(1).unwrap()),
        &AtomicBool::new(false),
        &no_progress,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("0 of the 1 per-step series") && e.contains("not marked done"), "{e}");
    let f = sweep::store::read(&out).expect("the file is saved");
    assert_eq!(f.cells_done(), 0);
    assert!(f.series("welfare").unwrap().iter().all(|v| v.is_nan()));
}
