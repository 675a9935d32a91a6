//! The HDF5 vocabulary every hollow file is written and read with (run, mean-field,
//! equilibrium, sweep and fact files): scalar, text and text-list attributes; datasets,
//! chunked and compressed, with their `units` and `description`; groups that list in
//! creation order; attributes read back; and the `created` time stamp. Every failure is an
//! [`OutputError`] naming the file and what was being done. Where a file goes and how it
//! replaces the old one is `io::output`'s; what a file holds is its writer's.

pub use super::error::OutputError;
use ::hdf5::types::VarLenUnicode;
use ::hdf5::{Dataset, Group, H5Type, Location};
use std::time::{SystemTime, UNIX_EPOCH};

/// Deflate level of every dataset (1 fast .. 9 small).
const DEFLATE_LEVEL: u8 = 4;
/// Largest chunk, in elements, of a dataset (1-D series are chunked along time).
const MAX_CHUNK_ELEMS: usize = 1 << 16;

/// Attaches the file and the operation to HDF5 errors.
pub trait Ctx<T> {
    fn ctx(self, file: &str, doing: impl FnOnce() -> String) -> Result<T, OutputError>;
}

impl<T> Ctx<T> for ::hdf5::Result<T> {
    fn ctx(self, file: &str, doing: impl FnOnce() -> String) -> Result<T, OutputError> {
        self.map_err(|source| OutputError::Hdf5 { file: file.to_string(), doing: doing(), source })
    }
}

// ---------------------------------------------------------------------------------------
// Writing

/// A scalar attribute.
pub fn put<T: H5Type>(loc: &Location, file: &str, name: &str, value: T) -> Result<(), OutputError> {
    loc.new_attr::<T>()
        .create(name)
        .and_then(|a| a.write_scalar(&value))
        .ctx(file, || format!("writing attribute {name} of {}", loc.name()))
}

fn to_vlu(loc: &Location, file: &str, name: &str, value: &str) -> Result<VarLenUnicode, OutputError> {
    value.parse::<VarLenUnicode>().map_err(|e| {
        OutputError::format(
            file,
            format!(
                "attribute {name} of {} cannot be stored as HDF5 text ({e}); remove NUL characters from it",
                loc.name()
            ),
        )
    })
}

/// A variable-length UTF-8 string attribute.
pub fn put_str(loc: &Location, file: &str, name: &str, value: &str) -> Result<(), OutputError> {
    let v = to_vlu(loc, file, name, value)?;
    put(loc, file, name, v)
}

/// A 1-D attribute of variable-length UTF-8 strings.
pub fn put_str_list<'a>(
    loc: &Location,
    file: &str,
    name: &str,
    values: impl IntoIterator<Item = &'a str>,
) -> Result<(), OutputError> {
    let v = values.into_iter().map(|s| to_vlu(loc, file, name, s)).collect::<Result<Vec<_>, _>>()?;
    loc.new_attr::<VarLenUnicode>()
        .shape(v.len())
        .create(name)
        .and_then(|a| a.write_raw(&v[..]))
        .ctx(file, || format!("writing attribute {name} of {}", loc.name()))
}

/// `units` and `description` of a dataset: every dataset hollow writes carries both (the
/// netCDF/CF names, so xarray shows them).
pub fn put_meta(ds: &Dataset, file: &str, units: &str, description: &str) -> Result<(), OutputError> {
    put_str(ds, file, "units", units)?;
    put_str(ds, file, "description", description)
}

/// A chunked, shuffled, deflate-compressed dataset of `shape` holding `data` (C order).
/// Chunks span whole trailing dimensions and as much of the first as fits in
/// `MAX_CHUNK_ELEMS`; an empty dataset is stored contiguous (chunks need non-zero sizes);
/// without deflate in the linked libhdf5 the data are stored uncompressed.
pub fn put_dataset<T: H5Type>(
    g: &Group,
    file: &str,
    name: &str,
    shape: &[usize],
    data: &[T],
) -> Result<Dataset, OutputError> {
    let path = || format!("{}/{name}", g.name().trim_end_matches('/'));
    if shape.iter().product::<usize>() != data.len() {
        return Err(OutputError::format(
            file,
            format!("{}: {} values do not fill shape {shape:?}", path(), data.len()),
        ));
    }
    let mut b = g.new_dataset::<T>();
    if shape.iter().all(|&d| d > 0) {
        let mut chunk = shape.to_vec();
        let inner: usize = shape[1..].iter().product();
        chunk[0] = chunk[0].min((MAX_CHUNK_ELEMS / inner.max(1)).max(1));
        b = b.chunk(chunk);
        if ::hdf5::filters::deflate_available() {
            b = b.shuffle().deflate(DEFLATE_LEVEL);
        }
    }
    let ds = b.shape(shape).create(name).ctx(file, || format!("creating dataset {}", path()))?;
    if !data.is_empty() {
        ds.write_raw(data).ctx(file, || format!("writing dataset {}", path()))?;
    }
    Ok(ds)
}

/// [`put_dataset`] with its `units` and `description`.
pub fn put_described<T: H5Type>(
    g: &Group,
    file: &str,
    name: &str,
    shape: &[usize],
    data: &[T],
    units: &str,
    description: &str,
) -> Result<Dataset, OutputError> {
    let ds = put_dataset(g, file, name, shape, data)?;
    put_meta(&ds, file, units, description)?;
    Ok(ds)
}

/// A 1-D dataset of variable-length UTF-8 strings (labels of a categorical axis).
pub fn put_labels(g: &Group, file: &str, name: &str, labels: &[&str]) -> Result<Dataset, OutputError> {
    let v = labels.iter().map(|s| to_vlu(g, file, name, s)).collect::<Result<Vec<_>, _>>()?;
    let path = || format!("{}/{name}", g.name().trim_end_matches('/'));
    let ds = g
        .new_dataset::<VarLenUnicode>()
        .shape([v.len()])
        .create(name)
        .ctx(file, || format!("creating dataset {}", path()))?;
    ds.write_raw(&v).ctx(file, || format!("writing dataset {}", path()))?;
    Ok(ds)
}

/// A group whose members list in creation order (h5py and h5ls honour it).
pub fn ordered_group(parent: &Group, file: &str, name: &str) -> Result<Group, OutputError> {
    use ::hdf5::plist::group_create::LinkCreationOrder;
    parent
        .create_group_builder()
        .with_gcpl(|p| p.link_creation_order(LinkCreationOrder::Indexed))
        .create(name)
        .ctx(file, || format!("creating group {}/{name}", parent.name().trim_end_matches('/')))
}

// ---------------------------------------------------------------------------------------
// Reading

fn open_attr(loc: &Location, file: &str, name: &str) -> Result<::hdf5::Attribute, OutputError> {
    loc.attr(name).map_err(|_| {
        OutputError::format(
            file,
            format!(
                "{} has no attribute {name}: not a complete hollow file of this kind, or written by an \
                 incompatible version",
                loc.name()
            ),
        )
    })
}

/// A scalar attribute; a missing one is a [`OutputError::Format`] error.
pub fn get<T: H5Type>(loc: &Location, file: &str, name: &str) -> Result<T, OutputError> {
    open_attr(loc, file, name)?.read_scalar().ctx(file, || format!("reading attribute {name} of {}", loc.name()))
}

/// A text attribute.
pub fn get_str(loc: &Location, file: &str, name: &str) -> Result<String, OutputError> {
    get::<VarLenUnicode>(loc, file, name).map(|s| s.as_str().to_string())
}

/// A 1-D text-list attribute.
pub fn get_str_list(loc: &Location, file: &str, name: &str) -> Result<Vec<String>, OutputError> {
    let v: Vec<VarLenUnicode> =
        open_attr(loc, file, name)?.read_raw().ctx(file, || format!("reading attribute {name} of {}", loc.name()))?;
    Ok(v.into_iter().map(|s| s.as_str().to_string()).collect())
}

// ---------------------------------------------------------------------------------------
// Time

/// The current time as RFC 3339 UTC, e.g. `2025-11-27T19:45:00Z`: every file's `created`.
pub fn now_rfc3339() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    rfc3339(secs as i64)
}

/// Seconds since the Unix epoch as RFC 3339 UTC.
fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", sod / 3600, sod % 3600 / 60, sod % 60)
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_matches_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(4_107_542_399), "2100-02-28T23:59:59Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn now_is_well_formed() {
        let s = now_rfc3339();
        assert_eq!(s.len(), 20, "{s}");
        assert!(s.ends_with('Z') && s.as_bytes()[10] == b'T', "{s}");
    }

    #[test]
    fn attributes_and_described_datasets_read_back_and_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.h5");
        let file = path.display().to_string();
        let f = ::hdf5::File::create(&path).unwrap();
        put(&f, &file, "n", 7_u32).unwrap();
        put_str(&f, &file, "s", "text").unwrap();
        put_str_list(&f, &file, "l", ["a", "b"]).unwrap();
        let g = ordered_group(&f, &file, "g").unwrap();
        let ds = put_described(&g, &file, "d", &[2, 3], &[1.0_f64, 2.0, 3.0, 4.0, 5.0, 6.0], "m", "six").unwrap();
        assert_eq!(get::<u32>(&f, &file, "n").unwrap(), 7);
        assert_eq!(get_str(&f, &file, "s").unwrap(), "text");
        assert_eq!(get_str_list(&f, &file, "l").unwrap(), ["a", "b"]);
        assert_eq!(
            (get_str(&ds, &file, "units").unwrap(), get_str(&ds, &file, "description").unwrap()),
            ("m".into(), "six".into())
        );
        assert_eq!(ds.read_raw::<f64>().unwrap(), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let e = get::<u32>(&f, &file, "missing").unwrap_err().to_string();
        assert!(e.starts_with(&file) && e.contains("missing"), "{e}");
        let e = put_dataset(&g, &file, "short", &[4], &[1.0_f64]).unwrap_err().to_string();
        assert!(e.starts_with(&file) && e.contains("/g/short") && e.contains("do not fill"), "{e}");
        let e = put_str(&f, &file, "nul", "a\0b").unwrap_err().to_string();
        assert!(e.starts_with(&file) && e.contains("NUL"), "{e}");
        let labels = put_labels(&f, &file, "mode", &["exit", "AI"]).unwrap();
        let back: Vec<VarLenUnicode> = labels.read_raw().unwrap();
        assert_eq!(back.iter().map(|s| s.as_str()).collect::<Vec<_>>(), ["exit", "AI"]);
    }
}
