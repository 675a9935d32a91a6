//! `hollow export`: hollow's HDF5 files as tidy tables for pandas, R or a spreadsheet.
//! A sweep becomes one row per cell and replica (its seed, one column per axis key — of a
//! run list, per overridden key — one per metric; categorical metrics by label); a run one
//! row per step (one column per series); a `reproduce` file (`facts.h5`) one row per
//! measured number. Each is built once as a [`Table`] of named, typed columns, then encoded
//! as CSV (empty fields are values not computed, NaN) or Parquet (those values null). Knows
//! the file layouts through their readers; writes nothing itself (the caller writes the
//! bytes through the guarded output).

use super::OutputError;
use crate::sweep::store::SweepFile;
use std::path::Path;
use std::sync::Arc;

/// What kind of hollow file `path` is: its root attribute `format`.
pub fn file_format(path: &Path) -> Result<String, OutputError> {
    super::output::hollow_format(path).ok_or_else(|| OutputError::Format {
        file: path.display().to_string(),
        reason: "not an HDF5 file written by hollow (no `format` attribute starting with hollow-)".into(),
    })
}

/// One column's values, all of one type. NaN in `F64` and `None` in `Text` are values not
/// computed: an empty CSV field, a Parquet null.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    F64(Vec<f64>),
    /// Counts and indices (cell, replica).
    I64(Vec<i64>),
    /// Seeds: every bit of a u64 matters, so they are neither rounded to f64 nor shown negative.
    U64(Vec<u64>),
    Text(Vec<Option<String>>),
}

impl Column {
    fn len(&self) -> usize {
        match self {
            Column::F64(v) => v.len(),
            Column::I64(v) => v.len(),
            Column::U64(v) => v.len(),
            Column::Text(v) => v.len(),
        }
    }

    /// Row `i` as a CSV field.
    fn csv_field(&self, i: usize) -> String {
        match self {
            Column::F64(v) => num(v[i]),
            Column::I64(v) => v[i].to_string(),
            Column::U64(v) => v[i].to_string(),
            Column::Text(v) => v[i].as_deref().map(text).unwrap_or_default(),
        }
    }
}

/// A table: named columns of equal length, in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    pub columns: Vec<(String, Column)>,
    /// Kept apart from the columns so that a table with none (a run with no series) still
    /// has its rows.
    pub rows: usize,
}

/// The encodings `hollow export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    Csv,
    Parquet,
}

impl TableFormat {
    /// The file extension of the format, also its `--format` name.
    pub fn extension(self) -> &'static str {
        match self {
            TableFormat::Csv => "csv",
            TableFormat::Parquet => "parquet",
        }
    }

    /// The format named on the command line, or `None` for a name hollow does not write.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "csv" => Some(TableFormat::Csv),
            "parquet" => Some(TableFormat::Parquet),
            _ => None,
        }
    }
}

impl Table {
    fn push(&mut self, name: impl Into<String>, column: Column) {
        debug_assert_eq!(column.len(), self.rows, "every column has one value per row");
        self.columns.push((name.into(), column));
    }

    /// The table as CSV: a header row, then one line per row.
    pub fn to_csv(&self) -> String {
        let mut out = self.columns.iter().map(|(n, _)| text(n)).collect::<Vec<_>>().join(",");
        out.push('\n');
        for i in 0..self.rows {
            let row: Vec<String> = self.columns.iter().map(|(_, c)| c.csv_field(i)).collect();
            out.push_str(&row.join(","));
            out.push('\n');
        }
        out
    }

    /// The table as a Parquet file, uncompressed, in one row group. Numbers are optional
    /// DOUBLE (NaN written as null, so every Parquet reader sees "not computed" as missing,
    /// and pandas still shows NaN); cell and replica INT64; seeds INT64 annotated unsigned
    /// (the same 64 bits, read back as uint64 by pyarrow and pandas); labels UTF8 strings.
    /// `file` names the output in errors.
    pub fn to_parquet(&self, file: &str) -> Result<Vec<u8>, OutputError> {
        use parquet::basic::{LogicalType, Repetition, Type as Physical};
        use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
        use parquet::file::properties::WriterProperties;
        use parquet::file::writer::SerializedFileWriter;
        use parquet::schema::types::Type;
        let err = |e: parquet::errors::ParquetError| OutputError::Format {
            file: file.to_string(),
            reason: format!("writing Parquet: {e}"),
        };
        let fields = self
            .columns
            .iter()
            .map(|(name, c)| {
                let (physical, logical, repetition) = match c {
                    Column::F64(_) => (Physical::DOUBLE, None, Repetition::OPTIONAL),
                    Column::I64(_) => (Physical::INT64, None, Repetition::REQUIRED),
                    Column::U64(_) => (Physical::INT64, Some(LogicalType::integer(64, false)), Repetition::REQUIRED),
                    Column::Text(_) => (Physical::BYTE_ARRAY, Some(LogicalType::String), Repetition::OPTIONAL),
                };
                Type::primitive_type_builder(name, physical)
                    .with_repetition(repetition)
                    .with_logical_type(logical)
                    .build()
                    .map(Arc::new)
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(err)?;
        let schema = Arc::new(Type::group_type_builder("hollow").with_fields(fields).build().map_err(err)?);
        let mut out = Vec::new();
        let mut writer =
            SerializedFileWriter::new(&mut out, schema, Arc::new(WriterProperties::builder().build())).map_err(err)?;
        let mut group = writer.next_row_group().map_err(err)?;
        for (_, c) in &self.columns {
            let mut col = group.next_column().map_err(err)?.ok_or_else(|| OutputError::Format {
                file: file.to_string(),
                reason: "writing Parquet: the schema has fewer columns than the table".into(),
            })?;
            // Definition level 1 is a value, 0 a null (optional columns only).
            match c {
                Column::F64(v) => {
                    let present: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
                    let levels: Vec<i16> = v.iter().map(|x| i16::from(!x.is_nan())).collect();
                    col.typed::<DoubleType>().write_batch(&present, Some(&levels), None).map_err(err)?;
                }
                Column::I64(v) => {
                    col.typed::<Int64Type>().write_batch(v, None, None).map_err(err)?;
                }
                Column::U64(v) => {
                    let bits: Vec<i64> = v.iter().map(|&x| x as i64).collect();
                    col.typed::<Int64Type>().write_batch(&bits, None, None).map_err(err)?;
                }
                Column::Text(v) => {
                    let present: Vec<ByteArray> = v.iter().flatten().map(|s| ByteArray::from(s.as_str())).collect();
                    let levels: Vec<i16> = v.iter().map(|x| i16::from(x.is_some())).collect();
                    col.typed::<ByteArrayType>().write_batch(&present, Some(&levels), None).map_err(err)?;
                }
            }
            col.close().map_err(err)?;
        }
        group.close().map_err(err)?;
        writer.close().map_err(err)?;
        Ok(out)
    }

    /// The table in `format`, as the bytes of a file.
    pub fn encode(&self, format: TableFormat, file: &str) -> Result<Vec<u8>, OutputError> {
        match format {
            TableFormat::Csv => Ok(self.to_csv().into_bytes()),
            TableFormat::Parquet => self.to_parquet(file),
        }
    }
}

/// A CSV field: numbers in Rust's shortest round-trip form, NaN as empty.
fn num(v: f64) -> String {
    if v.is_nan() { String::new() } else { format!("{v}") }
}

/// A CSV field for text: quoted when it holds a comma, a quote or a line break.
fn text(s: &str) -> String {
    if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

/// One row per cell and replica, in cell order (cells not done have empty metrics). A
/// grid's rows name the cell and give every axis value; a run list's name the run and give
/// the value of every overridden key in it (the base config's where it does not override).
pub fn sweep_table(sf: &SweepFile) -> Table {
    let r = sf.replicas as usize;
    let rows = sf.n_cells() * r;
    let mut t = Table { columns: Vec::new(), rows };
    let cell_of = |at: usize| at / r;
    t.push(
        if sf.runs.is_some() { "run" } else { "cell" },
        Column::I64((0..rows).map(|at| cell_of(at) as i64).collect()),
    );
    t.push("replica", Column::I64((0..rows).map(|at| (at % r) as i64).collect()));
    t.push("seed", Column::U64(sf.run_seeds[..rows].to_vec()));
    match &sf.runs {
        Some(list) => {
            for (k, v) in list.keys.iter().zip(&list.values) {
                t.push(k, Column::F64((0..rows).map(|at| v[cell_of(at)]).collect()));
            }
        }
        None => {
            for (d, a) in sf.axes.iter().enumerate() {
                t.push(&a.key, Column::F64((0..rows).map(|at| a.values[sf.cell_indices(cell_of(at))[d]]).collect()));
            }
        }
    }
    for (m, name) in sf.metrics.iter().enumerate() {
        let values = &sf.values[m][..rows];
        let column = match crate::observe::outcome_categories(name) {
            Some(labels) => Column::Text(
                values
                    .iter()
                    .map(|&v| v.is_finite().then(|| labels.get(v as usize).copied().unwrap_or("").to_string()))
                    .collect(),
            ),
            None => Column::F64(values.to_vec()),
        };
        t.push(name, column);
    }
    t
}

/// One row per step, one column per series (in the order they were declared).
pub fn run_table(rf: &super::RunFile) -> Table {
    let rows = rf.steps_done as usize;
    let mut t = Table { columns: Vec::new(), rows };
    for n in rf.series_order.iter().filter(|n| rf.series.contains_key(*n)) {
        let s = &rf.series[n];
        let values: Vec<f64> = (0..rows).map(|i| s.get(i).copied().unwrap_or(f64::NAN)).collect();
        // The step index is stored as a float series like the rest; as an integer column it
        // reads as pandas reads the CSV's (int64), and prints the same in the CSV.
        let column = if n == "step" && values.iter().all(|v| v.fract() == 0.0 && v.abs() < 2f64.powi(53)) {
            Column::I64(values.iter().map(|&v| v as i64).collect())
        } else {
            Column::F64(values)
        };
        t.push(n, column);
    }
    t
}

/// One row per measured number of a `reproduce` file: fact id, measure, value.
pub fn facts_table(path: &Path) -> Result<Table, OutputError> {
    let file = path.display().to_string();
    let err = |e: ::hdf5::Error| OutputError::Format { file: file.clone(), reason: e.to_string() };
    let f = ::hdf5::File::open(path).map_err(err)?;
    let (mut ids, mut measures, mut values) = (Vec::new(), Vec::new(), Vec::new());
    for g in f.member_names().map_err(err)? {
        let group = f.group(&g).map_err(err)?;
        for a in group.attr_names().map_err(err)? {
            // Text attributes (title, criterion) are not numbers of the table.
            if let Ok(v) = group.attr(&a).and_then(|x| x.read_scalar::<f64>()) {
                ids.push(Some(g.clone()));
                measures.push(Some(a));
                values.push(v);
            }
        }
    }
    let mut t = Table { columns: Vec::new(), rows: values.len() };
    t.push("id", Column::Text(ids));
    t.push("measure", Column::Text(measures));
    t.push("value", Column::F64(values));
    Ok(t)
}

/// [`sweep_table`] as CSV.
pub fn sweep_csv(sf: &SweepFile) -> String {
    sweep_table(sf).to_csv()
}

/// [`run_table`] as CSV.
pub fn run_csv(rf: &super::RunFile) -> String {
    run_table(rf).to_csv()
}

/// [`facts_table`] as CSV.
pub fn facts_csv(path: &Path) -> Result<String, OutputError> {
    Ok(facts_table(path)?.to_csv())
}
