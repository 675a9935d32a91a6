//! HDF5 dimension scales written by hand (hdf5-metno has no bindings for the H5DS API):
//! the attributes `H5DSset_scale` and `H5DSattach_scale` write — CLASS and NAME on the scale,
//! DIMENSION_LIST on each dataset, REFERENCE_LIST back on the scale — so h5py's `dims`,
//! netCDF-4 readers and `xarray.open_dataset(engine="h5netcdf")` see named dimensions with
//! their coordinates instead of `phony_dim_N`.

use ::hdf5::types::VarLenArray;
use ::hdf5::{Dataset, H5Type, Location, ObjectReference, ObjectReference1, Result};
use hdf5_sys::{h5a, h5i::hid_t, h5p::H5P_DEFAULT, h5s, h5t};

/// One row of a scale's REFERENCE_LIST: a dataset attached to it and along which dimension.
#[derive(H5Type, Clone, Copy, Debug)]
#[repr(C)]
struct RefEntry {
    dataset: ObjectReference1,
    dimension: u32,
}

/// A scalar string attribute of exactly `text.len() + 1` bytes, null-terminated: the type
/// H5DS writes and checks (hdf5's fixed strings are null-padded, which H5DS refuses).
fn put_fixed(ds: &Dataset, attr: &str, text: &str) -> Result<()> {
    let name = std::ffi::CString::new(attr).map_err(|e| ::hdf5::Error::from(e.to_string()))?;
    let value = std::ffi::CString::new(text).map_err(|e| ::hdf5::Error::from(e.to_string()))?;
    let fail = |what: &str| ::hdf5::Error::from(format!("writing string attribute {attr}: {what} failed"));
    ::hdf5::sync::sync(|| unsafe {
        let tid: hid_t = h5t::H5Tcopy(*h5t::H5T_C_S1);
        if tid < 0 {
            return Err(fail("H5Tcopy"));
        }
        let ok = h5t::H5Tset_size(tid, text.len() + 1) >= 0
            && h5t::H5Tset_strpad(tid, h5t::H5T_str_t::H5T_STR_NULLTERM) >= 0;
        let sid = h5s::H5Screate(h5s::H5S_class_t::H5S_SCALAR);
        let aid = if ok && sid >= 0 {
            h5a::H5Acreate2(ds.id(), name.as_ptr(), tid, sid, H5P_DEFAULT, H5P_DEFAULT)
        } else {
            -1
        };
        let written = aid >= 0 && h5a::H5Awrite(aid, tid, value.as_ptr().cast()) >= 0;
        if aid >= 0 {
            h5a::H5Aclose(aid);
        }
        if sid >= 0 {
            h5s::H5Sclose(sid);
        }
        h5t::H5Tclose(tid);
        if written { Ok(()) } else { Err(fail("H5Acreate2/H5Awrite")) }
    })
}

/// Makes `scale` a dimension scale named `name`.
pub fn set_scale(scale: &Dataset, name: &str) -> Result<()> {
    put_fixed(scale, "CLASS", "DIMENSION_SCALE")?;
    put_fixed(scale, "NAME", name)
}

/// Makes `dim` a netCDF dimension that is not a variable (no coordinate values: the
/// second dimension of a CF `bounds` variable, say), with the NAME netCDF-4 and h5netcdf
/// write for one: their marker text and the length.
pub fn set_dimension_only(dim: &Dataset) -> Result<()> {
    put_fixed(dim, "CLASS", "DIMENSION_SCALE")?;
    put_fixed(dim, "NAME", &format!("{NOT_A_VARIABLE}{:10}", dim.size()))
}

/// The NAME prefix netCDF-4 gives a dimension scale that is not a netCDF variable.
const NOT_A_VARIABLE: &str = "This is a netCDF dimension but not a netCDF variable.";

/// Attaches `scales[d]` to dimension d of every dataset in `data` (all in the file `root`,
/// addressed by their full paths). `scales` must already be scales (`set_scale`).
pub fn attach(root: &Location, data: &[&Dataset], scales: &[&Dataset]) -> Result<()> {
    let links: Vec<(&Dataset, &[&Dataset])> = data.iter().map(|&d| (d, scales)).collect();
    attach_each(root, &links)
}

/// Attaches scales to many datasets at once: each pair is a dataset and its scales by
/// dimension. A scale may serve many datasets (a histogram's bin axis, a label axis);
/// its REFERENCE_LIST, an attribute written once, lists them all, so every attachment of
/// a file goes through one call.
pub fn attach_each(root: &Location, links: &[(&Dataset, &[&Dataset])]) -> Result<()> {
    // Scales by path, with the (dataset, dimension) pairs that use them.
    let mut back: Vec<(String, &Dataset, Vec<RefEntry>)> = Vec::new();
    for (ds, scales) in links {
        if scales.len() != ds.ndim() {
            return Err(::hdf5::Error::from(format!(
                "{} has {} dimensions, {} scales were given",
                ds.name(),
                ds.ndim(),
                scales.len()
            )));
        }
        let refs: Vec<ObjectReference1> =
            scales.iter().map(|s| ObjectReference1::create(root, &s.name())).collect::<Result<_>>()?;
        let list: Vec<VarLenArray<ObjectReference1>> = refs.iter().map(|r| VarLenArray::from_slice(&[*r])).collect();
        ds.new_attr::<VarLenArray<ObjectReference1>>().shape([list.len()]).create("DIMENSION_LIST")?.write(&list)?;
        let me = ObjectReference1::create(root, &ds.name())?;
        for (d, s) in scales.iter().enumerate() {
            let entry = RefEntry { dataset: me, dimension: d as u32 };
            let name = s.name();
            match back.iter_mut().find(|b| b.0 == name) {
                Some(b) => b.2.push(entry),
                None => back.push((name, s, vec![entry])),
            }
        }
    }
    for (_, s, b) in back {
        s.new_attr::<RefEntry>().shape([b.len()]).create("REFERENCE_LIST")?.write(&b)?;
    }
    Ok(())
}

/// The dimension scales attached to `ds`, by dimension: each scale's path and length
/// (empty when none is attached). The reader's side of `attach`.
pub fn scales_of(root: &Location, ds: &Dataset) -> Result<Vec<(String, usize)>> {
    if !ds.attr_names()?.iter().any(|n| n == "DIMENSION_LIST") {
        return Ok(Vec::new());
    }
    let list: Vec<VarLenArray<ObjectReference1>> = ds.attr("DIMENSION_LIST")?.read_raw()?;
    list.iter()
        .map(|refs| {
            let r = refs.first().ok_or_else(|| ::hdf5::Error::from("an empty DIMENSION_LIST entry"))?;
            match r.dereference(root)? {
                ::hdf5::ReferencedObject::Dataset(s) => Ok((s.name(), s.size())),
                _ => Err(::hdf5::Error::from("a DIMENSION_LIST entry that is not a dataset")),
            }
        })
        .collect()
}
