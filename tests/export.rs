//! `hollow export`: a sweep file as a tidy table (one row per cell and replica, the axis
//! keys and metrics as columns, the same numbers as the file) and a run file as one row per
//! step; and the sweep file's `/grid`, the same runs with dimension scales for xarray, and
//! units and a description on every dataset of the sweep file.

use std::process::Command;

fn hollow() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hollow"))
}

fn csv(path: &std::path::Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let head = lines.next().unwrap().split(',').map(str::to_string).collect();
    (head, lines.map(|l| l.split(',').map(str::to_string).collect()).collect())
}

#[test]
fn a_sweep_exports_one_row_per_cell_and_replica_with_the_file_s_numbers() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("base.toml"),
        "steps = 20\ncreators = 100\nbuyers = 200\n[technology]\nshock_step = 5\n",
    )
    .unwrap();
    let spec = dir.path().join("s.toml");
    std::fs::write(
        &spec,
        "base = \"base.toml\"\nreplicas = 2\nmetrics = [\"welfare_final\", \"dominant_segment\"]\n\
         [[axis]]\nkey = \"technology.ai_cost_scale\"\nvalues = [0.5, 2.0]\n\
         [[axis]]\nkey = \"market.pollution\"\nvalues = [0.0, 1.0, 2.0]\n",
    )
    .unwrap();
    let sweep = dir.path().join("s.h5");
    let st = hollow().args(["sweep", spec.to_str().unwrap(), "-q", "-o"]).arg(&sweep).status().unwrap();
    assert!(st.success());
    let out = dir.path().join("s.csv");
    assert!(hollow().args(["export", sweep.to_str().unwrap(), "-o"]).arg(&out).status().unwrap().success());
    let (head, rows) = csv(&out);
    assert_eq!(
        head,
        [
            "cell",
            "replica",
            "seed",
            "technology.ai_cost_scale",
            "market.pollution",
            "welfare_final",
            "dominant_segment"
        ]
    );
    assert_eq!(rows.len(), 2 * 3 * 2);
    let sf = hollow::sweep::store::read(&sweep).unwrap();
    let w = sf.metric("welfare_final").unwrap();
    for (k, row) in rows.iter().enumerate() {
        assert_eq!(row[0].parse::<usize>().unwrap() * 2 + row[1].parse::<usize>().unwrap(), k);
        assert_eq!(row[5].parse::<f64>().unwrap(), w[k], "row {k}: the file's number, exactly");
        assert!(["exit", "AI", "human"].contains(&row[6].as_str()), "categories by label: {}", row[6]);
    }
    // Cell 4 is s = 2.0 (index 1), pollution 1.0 (index 1).
    assert_eq!((rows[8][3].as_str(), rows[8][4].as_str()), ("2", "1"));
    // The same runs under /grid, with the axes and the replica as dimension scales (xarray).
    let f = hdf5::File::open(&sweep).unwrap();
    let g = f.dataset("grid/welfare_final").unwrap();
    assert_eq!(
        hollow::io::dimscale::scales_of(&f, &g).unwrap(),
        vec![
            ("/grid/technology.ai_cost_scale".to_string(), 2),
            ("/grid/market.pollution".to_string(), 3),
            ("/grid/replica".to_string(), 2)
        ]
    );
    let grid: Vec<f64> = g.read_raw().unwrap();
    assert_eq!(grid.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), w.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
    let axis: Vec<f64> = f.dataset("grid/market.pollution").unwrap().read_raw().unwrap();
    assert_eq!(axis, [0.0, 1.0, 2.0]);
    // Every dataset says what it holds, under the one attribute name for units.
    let text = |loc: &hdf5::Location, name: &str| -> Option<String> {
        loc.attr(name).ok().map(|a| a.read_scalar::<hdf5::types::VarLenUnicode>().unwrap().as_str().to_string())
    };
    let mut groups = vec![f.group("/").unwrap()];
    while let Some(g) = groups.pop() {
        for ds in g.datasets().unwrap() {
            assert!(text(&ds, "units").is_some(), "{} has no units", ds.name());
            assert!(text(&ds, "description").is_some_and(|d| !d.is_empty()), "{} has no description", ds.name());
        }
        groups.extend(g.groups().unwrap());
    }
    assert_eq!(text(&f.group("metrics/welfare_final").unwrap(), "units").as_deref(), Some("money/buyer"));
    assert!(text(&f.group("metrics/welfare_final").unwrap(), "unit").is_none());
    // Never over a file hollow did not write, unless asked.
    assert_eq!(hollow().args(["export", sweep.to_str().unwrap(), "-o"]).arg(&out).status().unwrap().code(), Some(4));
    assert!(hollow().args(["export", sweep.to_str().unwrap(), "--force", "-o"]).arg(&out).status().unwrap().success());
}

#[test]
fn a_run_exports_one_row_per_step() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, "steps = 12\ncreators = 100\nbuyers = 200\n").unwrap();
    let run = dir.path().join("r.h5");
    assert!(hollow().args(["run", cfg.to_str().unwrap(), "-q", "-o"]).arg(&run).output().unwrap().status.success());
    let out = dir.path().join("r.csv");
    assert!(hollow().args(["export", run.to_str().unwrap(), "-o"]).arg(&out).status().unwrap().success());
    let (head, rows) = csv(&out);
    assert_eq!(head[0], "step");
    assert_eq!(rows.len(), 12);
    let rf = hollow::io::read_run(&run).unwrap();
    let col = head.iter().position(|h| h == "welfare").unwrap();
    assert_eq!(rows[7][col].parse::<f64>().unwrap(), rf.series("welfare").unwrap()[7]);
    // A file that is not hollow's is refused as input (exit 3).
    assert_eq!(hollow().args(["export", cfg.to_str().unwrap()]).status().unwrap().code(), Some(3));
}

/// Every row of a Parquet file as (column name, field) pairs, read with the `parquet` crate.
fn parquet_rows(path: &std::path::Path) -> Vec<Vec<(String, parquet::record::Field)>> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let reader = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
    reader.get_row_iter(None).unwrap().map(|r| r.unwrap().into_columns()).collect()
}

#[test]
fn parquet_holds_the_csv_s_columns_rows_and_numbers() {
    use parquet::record::Field;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("base.toml"), "steps = 15\ncreators = 100\nbuyers = 200\n").unwrap();
    let spec = dir.path().join("s.toml");
    std::fs::write(
        &spec,
        "base = \"base.toml\"\nreplicas = 2\nmetrics = [\"welfare_final\", \"dominant_segment\"]\n\
         [[axis]]\nkey = \"technology.ai_cost_scale\"\nvalues = [0.5, 2.0]\n",
    )
    .unwrap();
    let sweep = dir.path().join("s.h5");
    assert!(hollow().args(["sweep", spec.to_str().unwrap(), "-q", "-o"]).arg(&sweep).status().unwrap().success());
    let csv_out = dir.path().join("s.csv");
    assert!(hollow().args(["export", sweep.to_str().unwrap(), "-o"]).arg(&csv_out).status().unwrap().success());
    // The format follows the output's extension when not named.
    let pq = dir.path().join("s.parquet");
    assert!(hollow().args(["export", sweep.to_str().unwrap(), "-o"]).arg(&pq).status().unwrap().success());
    let (head, rows) = csv(&csv_out);
    let prows = parquet_rows(&pq);
    assert_eq!(prows.len(), rows.len());
    assert_eq!(prows[0].iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), head);
    let sf = hollow::sweep::store::read(&sweep).unwrap();
    for (k, (p, c)) in prows.iter().zip(&rows).enumerate() {
        assert_eq!(p[0].1, Field::Long(c[0].parse().unwrap()), "cell, row {k}");
        assert_eq!(p[1].1, Field::Long(c[1].parse().unwrap()), "replica, row {k}");
        // Seeds keep all 64 bits (as unsigned), equal to the file's and the CSV's.
        assert_eq!(p[2].1, Field::ULong(sf.run_seeds[k]), "seed, row {k}");
        assert_eq!(c[2].parse::<u64>().unwrap(), sf.run_seeds[k]);
        assert_eq!(p[3].1, Field::Double(c[3].parse().unwrap()), "axis value, row {k}");
        assert_eq!(p[4].1, Field::Double(c[4].parse().unwrap()), "welfare_final, row {k}");
        assert_eq!(p[5].1, Field::Str(c[5].clone()), "dominant_segment by label, row {k}");
    }
    // Same input, same bytes (no timestamp in the file).
    let again = dir.path().join("again.pq");
    let st = hollow().args(["export", sweep.to_str().unwrap(), "--format", "parquet", "-o"]).arg(&again).status();
    assert!(st.unwrap().success());
    assert_eq!(std::fs::read(&again).unwrap(), std::fs::read(&pq).unwrap());
    // A format hollow does not write is a usage error (exit 2), not a CSV under another name.
    let xlsx = dir.path().join("x.xlsx");
    let st = hollow().args(["export", sweep.to_str().unwrap(), "--format", "xlsx", "-o"]).arg(&xlsx).status();
    assert_eq!(st.unwrap().code(), Some(2));
    assert!(!xlsx.exists());

    // A run: the default output name follows the format.
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, "steps = 12\ncreators = 100\nbuyers = 200\n").unwrap();
    let run = dir.path().join("r.h5");
    assert!(hollow().args(["run", cfg.to_str().unwrap(), "-q", "-o"]).arg(&run).output().unwrap().status.success());
    assert!(hollow().args(["export", run.to_str().unwrap(), "--format", "parquet"]).status().unwrap().success());
    assert!(hollow().args(["export", run.to_str().unwrap()]).status().unwrap().success());
    let (head, rows) = csv(&dir.path().join("r.csv"));
    let prows = parquet_rows(&dir.path().join("r.parquet"));
    assert_eq!(prows.len(), 12);
    assert_eq!(prows[0].iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), head);
    for (k, (p, c)) in prows.iter().zip(&rows).enumerate() {
        for ((name, field), text) in p.iter().zip(c) {
            // An empty CSV field (not computed) is a Parquet null; every other number is equal.
            let expect = match (name.as_str(), text.is_empty()) {
                ("step", _) => Field::Long(text.parse().unwrap()),
                (_, true) => Field::Null,
                _ => Field::Double(text.parse().unwrap()),
            };
            assert_eq!(*field, expect, "{name}, step {k}");
        }
    }
}
