//! The HDF5 run file (src/io/hdf5.rs and snapshots.rs, layout in docs/output.md): a real
//! run written and read back unchanged, atomic replacement that never damages an existing
//! file, errors that name the path, the dimension scales of the time series and the
//! snapshots (read through `dimscale::scales_of`), and units and a description on every
//! dataset.

use hollow::backend::cpu::CpuBackend;
use hollow::config::Config;
use hollow::io::hdf5::{FORMAT_VERSION, RunMeta, read_run, write_run};
use hollow::observe::{METRICS, OUTCOMES, Recorder, SNAP_BINS, Settled};
use hollow::sim::Simulation;
use std::path::Path;
use std::sync::atomic::AtomicBool;

fn small_config() -> Config {
    let mut cfg = Config::default();
    cfg.top.creators = 500;
    cfg.top.buyers = 1000;
    cfg.top.steps = 20;
    cfg.technology.shock_step = 10;
    cfg
}

/// A small real run: its metadata and recorder.
fn small_run() -> (Config, RunMeta, Recorder) {
    let cfg = small_config();
    let mut sim = Simulation::new(cfg.clone(), |s| Box::new(CpuBackend::new(s, 1)));
    let mut rec = Recorder::new();
    sim.run(cfg.top.steps, &mut rec, &AtomicBool::new(false), |_| {});
    let mut meta = RunMeta::new(&cfg, "cpu", "1 rayon thread");
    meta.outcomes = sim.outcomes(&rec);
    meta.settled = Some(Settled { step: 15, share_ai: 0.25, share_human: 0.5, welfare: 1.25 });
    (cfg, meta, rec)
}

/// NaN-aware equality of outcome values (settle_step is NaN when a run never settles).
fn same_values(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

#[test]
fn a_real_run_reads_back_exactly_as_recorded() {
    let (cfg, meta, rec) = small_run();
    assert_eq!(rec.len(), 20);
    assert!(!rec.snapshots.is_empty(), "default config takes snapshots");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("run.h5");
    write_run(&path, &meta, &rec).expect("write");
    assert!(!dir.path().join("run.h5.tmp").exists(), "temporary file renamed away");

    let back = read_run(&path).expect("read");
    assert_eq!(back.format_version, FORMAT_VERSION);
    assert_eq!(back.steps_done, 20);
    // Attributes.
    assert_eq!(back.meta.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(back.meta.config_toml, meta.config_toml);
    assert_eq!(back.meta.seed, cfg.top.seed);
    assert_eq!(back.meta.backend, "cpu");
    assert_eq!(back.meta.device, "1 rayon thread");
    assert_eq!(back.meta.created, meta.created);
    assert_eq!(back.meta.steps_requested, 20);
    assert!(back.meta.complete);
    assert_eq!(back.meta.settled, meta.settled);
    assert!(same_values(&back.meta.outcomes.values(), &meta.outcomes.values()));
    // The stored config parses back to the same config.
    let cfg_back: Config = toml::from_str(&back.meta.config_toml).expect("config parses");
    assert_eq!(cfg_back, cfg);
    // Every series, by name and in declaration order, with its units.
    assert_eq!(back.series.len(), METRICS.len());
    assert_eq!(back.series_order, METRICS.iter().map(|m| m.name).collect::<Vec<_>>());
    for (i, m) in METRICS.iter().enumerate() {
        let s = back.series(m.name).unwrap_or_else(|| panic!("series {} missing", m.name));
        assert!(same_values(s, rec.series(i)), "series {} differs", m.name);
        assert_eq!(back.series_info[m.name].units, m.unit);
        assert_eq!(back.series_info[m.name].description, m.description);
    }
    // Snapshots: same steps, shapes and values (curves included).
    let steps: Vec<u32> = rec.snapshots.iter().map(|s| s.step).collect();
    assert_eq!(back.snapshot_steps, steps);
    assert_eq!(back.snapshots.len(), rec.snapshots.len());
    for (a, b) in back.snapshots.iter().zip(&rec.snapshots) {
        assert!(a.quality.iter().chain(&a.creative).chain(&a.talent).all(|r| r.len() == SNAP_BINS));
        assert!(a.units_quality.iter().all(|r| r.len() == SNAP_BINS));
        assert_eq!(a.curves.len(), 2 * cfg.market.bins as usize);
        assert_eq!(a, b, "snapshot at step {}", b.step);
    }
    // And it rebuilds the recorder.
    let rec2 = back.to_recorder().expect("all metrics present");
    for i in 0..METRICS.len() {
        assert!(same_values(rec2.series(i), rec.series(i)));
    }
}

#[test]
fn outcome_attributes_are_named_from_outcomes() {
    let (_, meta, rec) = small_run();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("run.h5");
    write_run(&path, &meta, &rec).expect("write");
    let f = hdf5::File::open(&path).expect("open");
    for (name, v) in OUTCOMES.iter().zip(meta.outcomes.values()) {
        let got: f64 = f.attr(&format!("outcome_{name}")).and_then(|a| a.read_scalar()).expect("outcome attribute");
        assert_eq!(got.to_bits(), v.to_bits(), "{name}");
    }
    // Datasets are chunked and compressed.
    let ds = f.dataset("timeseries/welfare").expect("welfare");
    assert!(ds.is_chunked());
    assert_eq!(ds.shape(), vec![20]);
    let q = f.dataset("snapshots/step_00000/quality").expect("quality");
    assert_eq!(q.shape(), vec![3, SNAP_BINS]);
    let c = f.dataset("curves/step_00000").expect("curves");
    assert_eq!(c.shape().len(), 3);
    if hdf5::filters::deflate_available() {
        assert!(!ds.filters().is_empty(), "deflate-compressed");
    }
}

#[test]
fn an_interrupted_run_is_marked_incomplete() {
    let cfg = small_config();
    let mut sim = Simulation::new(cfg.clone(), |s| Box::new(CpuBackend::new(s, 1)));
    let mut rec = Recorder::new();
    sim.run(7, &mut rec, &AtomicBool::new(false), |_| {});
    let mut meta = RunMeta::new(&cfg, "cpu", "1 rayon thread");
    meta.complete = false;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("partial.h5");
    write_run(&path, &meta, &rec).expect("write");
    let back = read_run(&path).expect("read");
    assert!(!back.meta.complete);
    assert_eq!(back.steps_done, 7);
    assert_eq!(back.meta.steps_requested, 20);
    assert_eq!(back.meta.settled, None);
    assert!(back.series.values().all(|s| s.len() == 7));
}

#[test]
fn an_empty_recorder_writes_a_readable_file() {
    let cfg = small_config();
    let meta = RunMeta::new(&cfg, "cpu", "none");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("empty.h5");
    write_run(&path, &meta, &Recorder::new()).expect("write");
    let back = read_run(&path).expect("read");
    assert_eq!(back.steps_done, 0);
    assert!(back.series.values().all(Vec::is_empty));
    assert!(back.snapshots.is_empty());
}

fn bytes(p: &Path) -> Vec<u8> {
    std::fs::read(p).expect("read bytes")
}

#[test]
fn a_failing_write_leaves_the_existing_file_intact() {
    let (_, meta, rec) = small_run();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("run.h5");
    write_run(&path, &meta, &rec).expect("first write");
    let before = bytes(&path);

    // Fails half-way: the temporary file exists and has its first attributes when the
    // device name (which HDF5 cannot store with a NUL in it) is reached.
    let mut bad = meta.clone();
    bad.device = "bad\0device".to_string();
    bad.seed = meta.seed + 1;
    let err = write_run(&path, &bad, &rec).expect_err("NUL in a string attribute");
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("device"), "{msg}");
    assert_eq!(bytes(&path), before, "old file untouched");
    assert!(!dir.path().join("run.h5.tmp").exists(), "temporary file removed");
    assert_eq!(read_run(&path).expect("still readable").meta.seed, meta.seed);

    // Fails at the start: the temporary path is taken by a directory.
    std::fs::create_dir(dir.path().join("run.h5.tmp")).expect("mkdir");
    let err = write_run(&path, &meta, &rec).expect_err("temporary path is a directory");
    assert!(err.to_string().contains(&path.display().to_string()), "{err}");
    assert_eq!(bytes(&path), before, "old file untouched");
    assert!(dir.path().join("run.h5.tmp").is_dir(), "a directory we did not create is left alone");
}

#[test]
fn a_config_that_does_not_parse_is_refused_before_touching_disk() {
    let (_, mut meta, rec) = small_run();
    meta.config_toml = "creators = \"many\"".to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("run.h5");
    let err = write_run(&path, &meta, &rec).expect_err("bad config");
    assert!(err.to_string().contains("config"), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 0);
}

#[test]
fn writing_into_a_missing_directory_names_the_path() {
    let (_, meta, rec) = small_run();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("no_such_dir").join("run.h5");
    let err = write_run(&path, &meta, &rec).expect_err("missing directory");
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("does not exist"), "{msg}");
    assert!(!path.exists());
}

#[test]
fn reading_a_missing_or_foreign_file_names_the_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("missing.h5");
    let err = read_run(&missing).expect_err("missing");
    assert!(err.to_string().contains(&missing.display().to_string()), "{err}");

    let text = dir.path().join("notes.h5");
    std::fs::write(&text, "not hdf5").expect("write");
    let err = read_run(&text).expect_err("not HDF5");
    assert!(err.to_string().contains(&text.display().to_string()), "{err}");

    let foreign = dir.path().join("foreign.h5");
    hdf5::File::create(&foreign).expect("create");
    let err = read_run(&foreign).expect_err("no hollow attributes");
    let msg = err.to_string();
    assert!(msg.contains(&foreign.display().to_string()) && msg.contains("format"), "{msg}");
}

#[test]
fn every_series_runs_along_the_step_dimension_scale() {
    let (_, meta, rec) = small_run();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("run.h5");
    write_run(&path, &meta, &rec).expect("write");
    let f = hdf5::File::open(&path).unwrap();
    let g = f.group("timeseries").unwrap();
    let step = g.dataset("step").unwrap();
    assert!(hollow::io::dimscale::scales_of(&f, &step).unwrap().is_empty(), "the scale has no scale itself");
    let class: String =
        step.attr("CLASS").unwrap().read_scalar::<hdf5::types::FixedAscii<16>>().unwrap().as_str().into();
    assert_eq!(class, "DIMENSION_SCALE");
    for m in METRICS.iter().filter(|m| m.name != "step") {
        let ds = g.dataset(m.name).unwrap();
        let scales = hollow::io::dimscale::scales_of(&f, &ds).unwrap();
        assert_eq!(scales, vec![("/timeseries/step".to_string(), 20)], "{}", m.name);
    }
    // Reading the file back is unchanged by the scale's attributes.
    assert_eq!(read_run(&path).unwrap().steps_done, 20);
}

/// The attributes a dataset carries (names only).
fn attr_names(ds: &hdf5::Dataset) -> Vec<String> {
    ds.attr_names().unwrap()
}

#[test]
fn snapshot_variables_run_along_step_label_and_bin_scales() {
    let (cfg, meta, rec) = small_run();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("run.h5");
    write_run(&path, &meta, &rec).expect("write");
    let f = hdf5::File::open(&path).unwrap();
    let g = f.group("snapshots").unwrap();
    let n = rec.snapshots.len();
    assert!(n >= 2, "default config takes snapshots before and after the shock");
    let bins = cfg.market.bins as usize;
    let scales = |name: &str| hollow::io::dimscale::scales_of(&f, &g.dataset(name).unwrap()).unwrap();
    let dims = |names: &[(&str, usize)]| -> Vec<(String, usize)> {
        names.iter().map(|(d, len)| (format!("/snapshots/{d}"), *len)).collect()
    };
    assert_eq!(scales("quality"), dims(&[("step", n), ("mode", 3), ("q", SNAP_BINS)]));
    assert_eq!(scales("units_quality"), dims(&[("step", n), ("channel", 2), ("q", SNAP_BINS)]));
    assert_eq!(scales("creative"), dims(&[("step", n), ("mode", 3), ("x", SNAP_BINS)]));
    assert_eq!(scales("talent"), dims(&[("step", n), ("mode", 3), ("ln_talent", SNAP_BINS)]));
    for curve in ["sell_through", "price"] {
        assert_eq!(scales(curve), dims(&[("step", n), ("channel", 2), ("curve_q", bins)]), "{curve}");
    }
    for (coord, len) in [("q", SNAP_BINS), ("x", SNAP_BINS), ("ln_talent", SNAP_BINS), ("curve_q", bins)] {
        assert_eq!(scales(&format!("{coord}_bounds")), dims(&[(coord, len), ("bnds", 2)]), "{coord}");
        let bounds: String = g
            .dataset(coord)
            .unwrap()
            .attr("bounds")
            .unwrap()
            .read_scalar::<hdf5::types::VarLenUnicode>()
            .unwrap()
            .into();
        assert_eq!(bounds, format!("{coord}_bounds"));
    }
    // Every snapshot group's histograms share the label and bin scales.
    let first = format!("step_{:05}", rec.snapshots[0].step);
    let per_step = hollow::io::dimscale::scales_of(&f, &g.group(&first).unwrap().dataset("talent").unwrap()).unwrap();
    assert_eq!(per_step, dims(&[("mode", 3), ("ln_talent", SNAP_BINS)]));

    // The scales' names and values: the snapshot steps, the labels, bin centres inside their edges.
    let name = |d: &str| -> String {
        g.dataset(d)
            .unwrap()
            .attr("NAME")
            .unwrap()
            .read_scalar::<hdf5::types::FixedAscii<128>>()
            .unwrap()
            .as_str()
            .into()
    };
    assert_eq!((name("step"), name("mode"), name("q")), ("step".into(), "mode".into(), "q".into()));
    assert!(name("bnds").starts_with("This is a netCDF dimension but not a netCDF variable."), "{}", name("bnds"));
    let steps: Vec<u32> = g.dataset("step").unwrap().read_raw().unwrap();
    assert_eq!(steps, rec.snapshots.iter().map(|s| s.step).collect::<Vec<_>>());
    let modes: Vec<hdf5::types::VarLenUnicode> = g.dataset("mode").unwrap().read_raw().unwrap();
    assert_eq!(modes.iter().map(|m| m.as_str()).collect::<Vec<_>>(), ["exit", "AI", "human"]);
    let q: Vec<f64> = g.dataset("q").unwrap().read_raw().unwrap();
    let qb: Vec<f64> = g.dataset("q_bounds").unwrap().read_raw().unwrap();
    let q_max = f64::from(cfg.market.q_max);
    assert_eq!((qb[0], qb[2 * SNAP_BINS - 1]), (0.0, q_max));
    assert!(q.iter().enumerate().all(|(b, c)| qb[2 * b] < *c && *c < qb[2 * b + 1]));

    // The stacked variables hold the snapshots' numbers, step by step.
    let stacked: Vec<f64> = g.dataset("quality").unwrap().read_raw().unwrap();
    let expect: Vec<f64> = rec.snapshots.iter().flat_map(|s| s.quality.concat()).collect();
    assert!(same_values(&stacked, &expect));
    let price: Vec<f32> = g.dataset("price").unwrap().read_raw().unwrap();
    let expect: Vec<f32> = rec.snapshots.iter().flat_map(|s| s.curves.iter().map(|c| c[1])).collect();
    assert_eq!(price, expect);
    // And the run reads back the same snapshots beside them.
    assert_eq!(read_run(&path).unwrap().snapshots, rec.snapshots);
}

#[test]
fn every_dataset_of_a_run_file_has_units_and_a_description() {
    let (_, meta, rec) = small_run();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("run.h5");
    write_run(&path, &meta, &rec).expect("write");
    let f = hdf5::File::open(&path).unwrap();
    let mut groups = vec![f.group("/").unwrap()];
    let mut seen = 0;
    while let Some(g) = groups.pop() {
        for ds in g.datasets().unwrap() {
            let names = attr_names(&ds);
            assert!(names.iter().any(|n| n == "units"), "{} has no units", ds.name());
            let d: String = ds.attr("description").unwrap().read_scalar::<hdf5::types::VarLenUnicode>().unwrap().into();
            assert!(!d.is_empty(), "{} has no description", ds.name());
            seen += 1;
        }
        groups.extend(g.groups().unwrap());
    }
    assert!(seen > METRICS.len() + 4 * rec.snapshots.len(), "{seen} datasets visited");
}
