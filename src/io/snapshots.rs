//! The snapshots of a run file: one group of histograms per snapshot step
//! (`/snapshots/step_NNNNN/`) and the market curves (`/curves/step_NNNNN`), and the same
//! numbers stacked along the snapshot steps as netCDF variables of `/snapshots`, with
//! dimension scales (`io::dimscale`) for the step, the mode or channel labels and each
//! histogram's bin centres (their edges as CF `bounds` variables), so
//! `xarray.open_dataset(FILE, engine="h5netcdf", group="snapshots")` gives named, valued
//! coordinates. [`write`] and [`read`]; what a snapshot holds is `observe::Snapshot`'s, the
//! layout docs/output.md's.

use crate::config::Config;
use crate::io::dimscale;
use crate::io::h5::{self, Ctx, OutputError};
use crate::observe::Snapshot;
use ::hdf5::{Dataset, File, Group};

/// Labels of the per-mode rows (the `mode` dimension).
const MODES: [&str; 3] = ["exit", "AI", "human"];
/// Labels of the per-channel rows (the `channel` dimension).
const CHANNELS: [&str; 2] = ["AI", "human"];

/// A binned axis of the snapshots: its coordinate (bin centres) and the range it bins.
struct BinAxis {
    /// Name of the coordinate and of the dimension; the bounds variable is `<name>_bounds`.
    name: &'static str,
    units: &'static str,
    description: &'static str,
    lo: f64,
    hi: f64,
    bins: usize,
}

impl BinAxis {
    fn width(&self) -> f64 {
        (self.hi - self.lo) / self.bins.max(1) as f64
    }
    fn centres(&self) -> Vec<f64> {
        (0..self.bins).map(|b| self.lo + (b as f64 + 0.5) * self.width()).collect()
    }
    /// `[bins, 2]`, C order: the lower and upper edge of every bin.
    fn bounds(&self) -> Vec<f64> {
        (0..self.bins)
            .flat_map(|b| [self.lo + b as f64 * self.width(), self.lo + (b + 1) as f64 * self.width()])
            .collect()
    }
}

/// Which labels the rows of a histogram have.
#[derive(Clone, Copy)]
enum Rows {
    Mode,
    Channel,
}

impl Rows {
    fn labels(self) -> &'static [&'static str] {
        match self {
            Rows::Mode => &MODES,
            Rows::Channel => &CHANNELS,
        }
    }
    /// The `rows` attribute of the per-step datasets.
    fn text(self) -> &'static str {
        match self {
            Rows::Mode => "exit, AI, human",
            Rows::Channel => "AI, human",
        }
    }
}

/// One kind of snapshot histogram.
struct Hist {
    name: &'static str,
    rows: fn(&Snapshot) -> &[Vec<f64>],
    labels: Rows,
    /// Index into the histogram bin axes (`hist_axes`).
    axis: usize,
    /// What is binned, in words (the per-step `axis` attribute).
    axis_text: &'static str,
    units: &'static str,
    description: &'static str,
}

const HISTS: [Hist; 4] = [
    Hist {
        name: "quality",
        rows: |s| &s.quality,
        labels: Rows::Mode,
        axis: 0,
        axis_text: "nominal quality q of the creator's units",
        units: "creators",
        description: "Creators by nominal quality, by mode",
    },
    Hist {
        name: "units_quality",
        rows: |s| &s.units_quality,
        labels: Rows::Channel,
        axis: 0,
        axis_text: "nominal quality q",
        units: "units",
        description: "Units offered by nominal quality, by channel",
    },
    Hist {
        name: "creative",
        rows: |s| &s.creative,
        labels: Rows::Mode,
        axis: 1,
        axis_text: "creative share x",
        units: "creators",
        description: "Creators by creative share, by mode",
    },
    Hist {
        name: "talent",
        rows: |s| &s.talent,
        labels: Rows::Mode,
        axis: 2,
        axis_text: "log talent ln S",
        units: "creators",
        description: "Creators by log talent, by mode",
    },
];

/// The bin axes of the histograms (`q`, `x`, `ln_talent`), `bins` bins each.
fn hist_axes(cfg: &Config, bins: usize) -> [BinAxis; 3] {
    let q_max = f64::from(cfg.market.q_max);
    let span = f64::from(crate::observe::talent_span(cfg.technology.talent_sigma));
    [
        BinAxis {
            name: "q",
            units: "quality",
            description: "nominal quality q, bin centre (edges in q_bounds)",
            lo: 0.0,
            hi: q_max,
            bins,
        },
        BinAxis {
            name: "x",
            units: "1",
            description: "creative share x, bin centre (edges in x_bounds)",
            lo: 0.0,
            hi: 1.0,
            bins,
        },
        BinAxis {
            name: "ln_talent",
            units: "1",
            description: "log talent ln S, bin centre (edges in ln_talent_bounds)",
            lo: -span,
            hi: span,
            bins,
        },
    ]
}

/// `step_00042`: the name of a snapshot group and curve dataset.
fn step_name(step: u32) -> String {
    format!("step_{step:05}")
}

/// Bins of the histograms and of the curves, the same in every snapshot (the stacked
/// variables need one shape): the first snapshot's, or the config's when there is none.
fn bin_counts(file: &str, snaps: &[Snapshot], cfg: &Config) -> Result<(usize, usize), OutputError> {
    let Some(first) = snaps.first() else {
        return Ok((crate::observe::SNAP_BINS, cfg.market.bins as usize));
    };
    let bins = first.quality[0].len();
    for s in snaps {
        for h in &HISTS {
            if (h.rows)(s).iter().any(|r| r.len() != bins) {
                return Err(OutputError::format(
                    file,
                    format!("snapshot at step {}: rows of {} are not all {bins} bins long", s.step, h.name),
                ));
            }
        }
        if s.curves.len() % 2 != 0 || s.curves.len() != first.curves.len() {
            return Err(OutputError::format(
                file,
                format!(
                    "snapshot at step {}: {} curve cells, expected two channels of {} bins",
                    s.step,
                    s.curves.len(),
                    first.curves.len() / 2
                ),
            ));
        }
    }
    Ok((bins, first.curves.len() / 2))
}

/// Writes `/snapshots` and `/curves` of a run file.
pub fn write(f: &File, file: &str, snaps: &[Snapshot], cfg: &Config) -> Result<(), OutputError> {
    let (bins, curve_bins) = bin_counts(file, snaps, cfg)?;
    let axes = hist_axes(cfg, bins);
    let q_max = f64::from(cfg.market.q_max);
    let group = h5::ordered_group(f, file, "snapshots")?;
    let curves = h5::ordered_group(f, file, "curves")?;

    // Per step: the histograms in a group, the curves in one dataset.
    let mut per_step: Vec<(Dataset, Rows, usize)> = Vec::new();
    for s in snaps {
        let name = step_name(s.step);
        let g = group.create_group(&name).ctx(file, || format!("creating group /snapshots/{name}"))?;
        h5::put(&g, file, "step", s.step)?;
        for h in &HISTS {
            let rows = (h.rows)(s);
            let a = &axes[h.axis];
            let ds = h5::put_dataset(&g, file, h.name, &[rows.len(), bins], &rows.concat())?;
            h5::put_str(&ds, file, "rows", h.labels.text())?;
            h5::put_str(&ds, file, "axis", h.axis_text)?;
            h5::put(&ds, file, "range_lo", a.lo)?;
            h5::put(&ds, file, "range_hi", a.hi)?;
            h5::put(&ds, file, "bins", bins as u64)?;
            h5::put_meta(&ds, file, h.units, h.description)?;
            per_step.push((ds, h.labels, h.axis));
        }
        let flat: Vec<f32> = s.curves.iter().flatten().copied().collect();
        let ds = h5::put_dataset(&curves, file, &name, &[2, curve_bins, 2], &flat)?;
        h5::put(&ds, file, "step", s.step)?;
        h5::put_str(&ds, file, "dims", "channel (AI, human) x quality bin x (sell-through R, price P)")?;
        h5::put_str(&ds, file, "rows", Rows::Channel.text())?;
        h5::put_str(&ds, file, "axis", "nominal quality q")?;
        h5::put(&ds, file, "range_lo", 0.0_f64)?;
        h5::put(&ds, file, "range_hi", q_max)?;
        h5::put(&ds, file, "bins", curve_bins as u64)?;
        h5::put_meta(
            &ds,
            file,
            "R: 1 (units sold / offered); P: money/unit sold",
            "Market curves creators see: EMAs of sell-through R and price per unit sold P",
        )?;
    }

    // The dimensions of the stacked variables.
    let steps: Vec<u32> = snaps.iter().map(|s| s.step).collect();
    let step = h5::put_described(&group, file, "step", &[steps.len()], &steps, "step", "step of the snapshot")?;
    let mode = h5::put_labels(&group, file, "mode", &MODES)?;
    h5::put_meta(&mode, file, "", "creator's mode: exit, AI (generative production) or human craft")?;
    let channel = h5::put_labels(&group, file, "channel", &CHANNELS)?;
    h5::put_meta(&channel, file, "", "channel of the units: AI-made or human-made")?;
    let curve_axis = BinAxis {
        name: "curve_q",
        units: "quality",
        description: "nominal quality q of a market-curve bin, bin centre (edges in curve_q_bounds)",
        lo: 0.0,
        hi: q_max,
        bins: curve_bins,
    };
    let bnds = group
        .new_dataset::<f32>()
        .shape([2])
        .create("bnds")
        .ctx(file, || "creating dataset /snapshots/bnds".to_string())?;
    h5::put_meta(&bnds, file, "", "the two edges of a bin (lower, upper) in the *_bounds variables")?;
    let mut coords = Vec::new();
    for a in axes.iter().chain([&curve_axis]) {
        let c = h5::put_described(&group, file, a.name, &[a.bins], &a.centres(), a.units, a.description)?;
        let bounds_name = format!("{}_bounds", a.name);
        h5::put_str(&c, file, "bounds", &bounds_name)?;
        let b = h5::put_described(
            &group,
            file,
            &bounds_name,
            &[a.bins, 2],
            &a.bounds(),
            a.units,
            &format!("edges of the {} bins: lower, upper", a.name),
        )?;
        coords.push((c, b));
    }
    let scale = |ds: &Dataset, name: &str| {
        dimscale::set_scale(ds, name).ctx(file, || format!("making /snapshots/{name} a dimension scale"))
    };
    scale(&step, "step")?;
    scale(&mode, "mode")?;
    scale(&channel, "channel")?;
    dimscale::set_dimension_only(&bnds).ctx(file, || "making /snapshots/bnds a dimension".to_string())?;
    for ((c, _), a) in coords.iter().zip(axes.iter().chain([&curve_axis])) {
        scale(c, a.name)?;
    }

    // The stacked variables: [step, mode or channel, bin].
    let n = snaps.len();
    let mut stacked: Vec<(Dataset, Rows, usize)> = Vec::new();
    for h in &HISTS {
        let flat: Vec<f64> = snaps.iter().flat_map(|s| (h.rows)(s).concat()).collect();
        let rows = h.labels.labels().len();
        let ds = h5::put_described(&group, file, h.name, &[n, rows, bins], &flat, h.units, h.description)?;
        stacked.push((ds, h.labels, h.axis));
    }
    let curve_var = |name: &str, k: usize, units: &str, description: &str| -> Result<Dataset, OutputError> {
        let flat: Vec<f32> = snaps.iter().flat_map(|s| s.curves.iter().map(move |c| c[k])).collect();
        h5::put_described(&group, file, name, &[n, 2, curve_bins], &flat, units, description)
    };
    let sell_through = curve_var(
        "sell_through",
        0,
        "1",
        "Market curve creators read: EMA of sell-through R (units sold / offered), by channel and quality bin",
    )?;
    let price = curve_var(
        "price",
        1,
        "money/unit",
        "Market curve creators read: EMA of the price per unit sold P, by channel and quality bin",
    )?;

    // Every dataset to its scales, in one pass (each scale's back-references are one list).
    let label = |r: Rows| match r {
        Rows::Mode => &mode,
        Rows::Channel => &channel,
    };
    let mut dims: Vec<(&Dataset, Vec<&Dataset>)> = Vec::new();
    for (ds, rows, axis) in &stacked {
        dims.push((ds, vec![&step, label(*rows), &coords[*axis].0]));
    }
    // The curves' bin coordinate comes after the histograms' three.
    let curve_coord = &coords[axes.len()].0;
    dims.push((&sell_through, vec![&step, &channel, curve_coord]));
    dims.push((&price, vec![&step, &channel, curve_coord]));
    for (c, b) in &coords {
        dims.push((b, vec![c, &bnds]));
    }
    for (ds, rows, axis) in &per_step {
        dims.push((ds, vec![label(*rows), &coords[*axis].0]));
    }
    let links: Vec<(&Dataset, &[&Dataset])> = dims.iter().map(|(d, s)| (*d, s.as_slice())).collect();
    dimscale::attach_each(f, &links).ctx(file, || "attaching the dimension scales of /snapshots".to_string())
}

/// Reads the snapshots (histograms and curves) of a run file, by step.
pub fn read(f: &File, file: &str) -> Result<Vec<Snapshot>, OutputError> {
    let snaps = open_group(f, file, "snapshots")?;
    let curves = open_group(f, file, "curves")?;
    let mut out = Vec::new();
    // The per-step groups; the stacked variables and their scales beside them are datasets.
    for g in snaps.groups().ctx(file, || "listing /snapshots".to_string())? {
        let path = g.name();
        let name = path.rsplit('/').next().unwrap_or_default().to_string();
        let step = name
            .strip_prefix("step_")
            .and_then(|n| n.parse::<u32>().ok())
            .ok_or_else(|| OutputError::format(file, format!("{path} is not named step_<N>")))?;
        let curve = if curves.link_exists(&name) {
            let ds = curves.dataset(&name).ctx(file, || format!("opening dataset /curves/{name}"))?;
            let shape = ds.shape();
            if shape.len() != 3 || shape[0] != 2 || shape[2] != 2 {
                return Err(OutputError::format(
                    file,
                    format!("/curves/{name} has shape {shape:?}, expected [2, bins, 2]"),
                ));
            }
            let flat: Vec<f32> = ds.read_raw().ctx(file, || format!("reading dataset /curves/{name}"))?;
            flat.chunks_exact(2).map(|c| [c[0], c[1]]).collect()
        } else {
            Vec::new()
        };
        out.push(Snapshot {
            step,
            quality: get_rows(&g, file, "quality")?,
            units_quality: get_rows(&g, file, "units_quality")?,
            creative: get_rows(&g, file, "creative")?,
            talent: get_rows(&g, file, "talent")?,
            curves: curve,
        });
    }
    out.sort_by_key(|s| s.step);
    Ok(out)
}

/// A group of the file; a missing one means the file is not a (complete) run file.
fn open_group(f: &File, file: &str, name: &str) -> Result<Group, OutputError> {
    if !f.link_exists(name) {
        return Err(OutputError::format(file, format!("no group /{name}: not a complete hollow run file")));
    }
    f.group(name).ctx(file, || format!("opening group /{name}"))
}

/// A `[N, bins]` histogram dataset as N rows.
fn get_rows<const N: usize>(g: &Group, file: &str, name: &str) -> Result<[Vec<f64>; N], OutputError> {
    let path = format!("{}/{name}", g.name());
    if !g.link_exists(name) {
        return Err(OutputError::format(file, format!("no dataset {path}")));
    }
    let ds = g.dataset(name).ctx(file, || format!("opening dataset {path}"))?;
    let shape = ds.shape();
    if shape.len() != 2 || shape[0] != N {
        return Err(OutputError::format(file, format!("{path} has shape {shape:?}, expected [{N}, bins]")));
    }
    let flat: Vec<f64> = ds.read_raw().ctx(file, || format!("reading dataset {path}"))?;
    let bins = shape[1];
    Ok(std::array::from_fn(|i| flat[i * bins..(i + 1) * bins].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_names_sort_by_step() {
        assert_eq!(step_name(7), "step_00007");
        assert!(step_name(99) < step_name(100));
    }

    #[test]
    fn bin_centres_lie_between_their_bounds() {
        let a = BinAxis { name: "x", units: "1", description: "", lo: -1.0, hi: 1.0, bins: 4 };
        assert_eq!(a.centres(), [-0.75, -0.25, 0.25, 0.75]);
        assert_eq!(a.bounds(), [-1.0, -0.5, -0.5, 0.0, 0.0, 0.5, 0.5, 1.0]);
    }
}
