//! `hollow plot`: the figures of output files — `phase` (a heatmap or line of one metric of a
//! sweep file, or of a two-axis slice of a grid of more axes), `run` (time series of run
//! files) and `regimes` (the regime map of a sweep over the AI cost scale). Checks the flags
//! and the files, then leaves the drawing and the analysis (slices included) to `crate::io`
//! and `crate::sweep::analysis`.

use super::{CliError, usage};
use crate::config::Config;
use anyhow::Result;
use clap::Subcommand;
use std::path::{Path, PathBuf};

/// Figures from output files.
#[derive(Subcommand)]
pub enum PlotCmd {
    /// Phase diagram of one outcome of a sweep file: a heatmap over the two axes (a line
    /// with a ±1 std band for a one-axis sweep), regime boundaries outlined; of a grid of
    /// more axes, the slice that --at leaves two axes of.
    Phase {
        /// Sweep file (from `hollow sweep` or `hollow merge`).
        file: PathBuf,
        /// Outcome to show (one of the file's metrics).
        metric: String,
        /// KEY=VALUE: fix axis KEY at its grid value nearest to VALUE (repeat for each
        /// axis but the two shown; a grid of three or more axes needs them).
        #[arg(long = "at", value_name = "KEY=VALUE")]
        at: Vec<String>,
        /// Output PNG (default: <file stem>_<metric>.png next to the file).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Per-cell statistic of a numeric metric over replicas: mean or std.
        #[arg(long, default_value = "mean")]
        stat: String,
        /// Categorical metric whose changes are outlined ("none" to draw no boundaries;
        /// default: the metric itself if categorical, else the first of dominant_segment
        /// and welfare_regime that is recorded and changes on the grid).
        #[arg(long)]
        regimes: Option<String>,
        /// Colour map: auto (diverging around zero when values have both signs), viridis, diverging.
        #[arg(long, default_value = "auto")]
        cmap: String,
        /// Image size in pixels, WIDTHxHEIGHT.
        #[arg(long, default_value = "1100x800")]
        size: String,
        /// Draw no welfare-maximising s* and laissez-faire line (drawn by default on a
        /// welfare metric of a sweep over technology.ai_cost_scale).
        #[arg(long)]
        no_optimum: bool,
    },
    /// Time series of run files, one panel per metric, the shock marked; several files are
    /// overlaid (or, with --band, drawn as the mean and ±1 sd of replicas); a run's own
    /// mean-field check is drawn as a dashed level over its last window.
    Run {
        /// Run files (from `hollow run`).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Series to draw (names of /timeseries; default: welfare, share_ai, share_human, congestion).
        #[arg(long = "metric")]
        metrics: Vec<String>,
        /// Output PNG (default: <first file stem>_run.png next to it).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Treat the files as replicas: mean and ±1 sd band instead of one line each.
        #[arg(long)]
        band: bool,
    },
    /// Regime map of a sweep over technology.ai_cost_scale and another key (pollution):
    /// per row, how welfare responds to AI expansion against the no-AI run (the largest
    /// s): monotone gains, gains with a dip, inverted U, harmful from entry; with s* and
    /// s = 1. Needs the metrics welfare_final and share_ai.
    Regimes {
        /// Sweep file.
        file: PathBuf,
        /// KEY=VALUE: fix axis KEY at its grid value nearest to VALUE (as for `plot phase`).
        #[arg(long = "at", value_name = "KEY=VALUE")]
        at: Vec<String>,
        /// Output PNG (default: <file stem>_regimes.png next to the file).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Image size in pixels, WIDTHxHEIGHT.
        #[arg(long, default_value = "1100x800")]
        size: String,
    },
}

pub(super) fn cmd_plot(what: PlotCmd) -> Result<()> {
    match what {
        PlotCmd::Phase { file, metric, at, output, stat, regimes, cmap, size, no_optimum } => {
            let look =
                Look { stat: &stat, regimes: regimes.as_deref(), cmap: &cmap, size: &size, optimum: !no_optimum };
            cmd_plot_phase(&file, &metric, &at, output, &look)
        }
        PlotCmd::Regimes { file, at, output, size } => cmd_plot_regimes(&file, &at, output, &size),
        PlotCmd::Run { files, metrics, output, band } => cmd_plot_run(&files, metrics, output, band),
    }
}

/// The default figure path: `<stem of file>_<suffix>.png` beside `file` (`default` when it has
/// no stem).
fn png_beside(file: &Path, default: &str, suffix: &str) -> PathBuf {
    let stem = file.file_stem().map_or(default.into(), |s| s.to_string_lossy().into_owned());
    file.with_file_name(format!("{stem}_{suffix}.png"))
}

/// A figure size `WIDTHxHEIGHT`.
fn parse_size(size: &str) -> Result<(u32, u32)> {
    size.split_once('x')
        .and_then(|(w, h)| Some((w.trim().parse::<u32>().ok()?, h.trim().parse::<u32>().ok()?)))
        .filter(|&(w, h)| (300..=8000).contains(&w) && (200..=8000).contains(&h))
        .ok_or_else(|| {
            usage(format!("--size {size}: expected WIDTHxHEIGHT in pixels, e.g. 1100x800 (300..8000 × 200..8000)"))
        })
}

/// Axis `i` of a sweep file, for a figure.
fn sweep_axis(sf: &crate::sweep::SweepFile, i: usize) -> crate::io::heatmap::PlotAxis {
    let a = &sf.axes[i];
    crate::io::heatmap::PlotAxis {
        label: crate::io::labels::axis_label(&a.key, &a.label),
        values: a.values.clone(),
        log: a.scale == crate::sweep::Scale::Log,
    }
}

/// The part of a sweep file a figure shows: the file itself, or the slice of a grid of
/// more than two axes that `--at KEY=VALUE` leaves two axes of (the grid value nearest to
/// each VALUE), with what the subtitle says of it. A run list has no axes to draw.
fn figure_slice(
    file: &Path,
    sf: crate::sweep::SweepFile,
    at: &[String],
) -> Result<(crate::sweep::SweepFile, Vec<crate::sweep::analysis::Fixed>)> {
    if let Some(t) = &sf.runs {
        return Err(CliError::Input(format!(
            "{}: holds a run list ({} runs), not a grid: a phase diagram needs axes; `hollow export {}` gives \
             its runs as a table",
            file.display(),
            t.runs,
            file.display()
        ))
        .into());
    }
    let mut pairs = Vec::new();
    for a in at {
        let parsed = a.split_once('=').and_then(|(k, v)| Some((k.trim().to_string(), v.trim().parse::<f64>().ok()?)));
        match parsed {
            Some((k, v)) if v.is_finite() => pairs.push((k, v)),
            _ => return Err(usage(format!("--at {a}: expected KEY=VALUE with a number, e.g. --at market.k=4"))),
        }
    }
    if pairs.is_empty() && sf.axes.len() <= 2 {
        return Ok((sf, Vec::new()));
    }
    let keep = sf.axes.len().min(2);
    crate::sweep::analysis::slice_at(&sf, &pairs, keep).map_err(|m| usage(format!("{}: {m}", file.display())))
}

/// The subtitle's note on a slice: which value each fixed axis takes.
fn slice_note(fixed: &[crate::sweep::analysis::Fixed]) -> Option<String> {
    (!fixed.is_empty())
        .then(|| format!("slice at {}", fixed.iter().map(|f| f.describe()).collect::<Vec<_>>().join(", ")))
}

/// `_key=value` for each fixed axis: a default figure name per slice.
fn slice_suffix(fixed: &[crate::sweep::analysis::Fixed]) -> String {
    fixed.iter().map(|f| format!("_{}={}", f.key, f.value)).collect()
}

/// What a figure of a sweep file says under its title: the spec, the grid, the seeds, and
/// a warning when cells are missing.
fn sweep_subtitle(file: &Path, sf: &crate::sweep::SweepFile) -> String {
    let sep = crate::io::heatmap::SEP;
    let spec_name =
        Path::new(&sf.spec_file).file_name().map_or(sf.spec_file.clone(), |n| n.to_string_lossy().into_owned());
    let grid = sf.describe_dims();
    let r = sf.replicas;
    let subtitle = format!(
        "{spec_name}{sep}{grid} × {r} replica{}, {} steps, {} seeds{sep}spec {}",
        if r == 1 { "" } else { "s" },
        sf.steps,
        sf.seeds.replace('_', "-"),
        sf.spec_hash
    );
    let (done, cells) = (sf.cells_done(), sf.n_cells());
    if done < cells {
        eprintln!("warning: {} holds {done} of {cells} cells; missing cells are drawn grey", file.display());
        return format!("INCOMPLETE: {done} of {cells} cells{sep}{subtitle}");
    }
    subtitle
}

fn cmd_plot_run(files: &[PathBuf], metrics: Vec<String>, output: Option<PathBuf>, band: bool) -> Result<()> {
    use crate::io::runplot::{RunToPlot, draw_runs, meanfield_levels};
    let mut runs = Vec::new();
    for f in files {
        let file = crate::io::read_run(f).map_err(|e| CliError::Input(e.to_string()))?;
        let cfg = Config::from_str_named(&file.meta.config_toml, &f.display().to_string(), &[])
            .map_err(|e| CliError::Input(format!("{}: its stored config: {e}", f.display())))?;
        let name = f.file_stem().map_or(String::new(), |s| s.to_string_lossy().into_owned());
        runs.push(RunToPlot {
            label: format!("{name} (seed {})", file.meta.seed),
            meanfield: meanfield_levels(f),
            shock: cfg.technology.shock_step.min(file.steps_done),
            window: cfg.equilibrium.window,
            file,
        });
    }
    let metrics = if metrics.is_empty() {
        ["welfare", "share_ai", "share_human", "congestion"].map(String::from).to_vec()
    } else {
        metrics
    };
    if let Some(m) = metrics.iter().find(|m| runs.iter().any(|r| r.file.series(m).is_none())) {
        let have = runs[0].file.series_order.join(", ");
        return Err(usage(format!("--metric {m}: not a series of these run files; they have {have}")));
    }
    let output = output.unwrap_or_else(|| png_beside(&files[0], "run", "run"));
    draw_runs(&output, &runs, &metrics, band)?;
    println!("wrote {}", output.display());
    Ok(())
}

fn cmd_plot_regimes(file: &Path, at: &[String], output: Option<PathBuf>, size: &str) -> Result<()> {
    let full = crate::sweep::store::read(file).map_err(|e| CliError::Input(e.to_string()))?;
    let size = parse_size(size)?;
    let mut subtitle = sweep_subtitle(file, &full);
    let (sf, fixed) = figure_slice(file, full, at)?;
    let e = crate::sweep::analysis::expansion(&sf).map_err(|m| CliError::Input(format!("{}: {m}", file.display())))?;
    let output = output.unwrap_or_else(|| png_beside(file, "sweep", &format!("regimes{}", slice_suffix(&fixed))));
    if let Some(note) = slice_note(&fixed) {
        subtitle = format!("{subtitle}{}{note}", crate::io::heatmap::SEP);
    }
    crate::io::phase::draw_regime_map(&output, &sf, &e, sweep_axis(&sf, 0), sweep_axis(&sf, 1), subtitle, size)?;
    for r in &e.rows {
        println!(
            "{:>10.4}  {:<20} s* = {:.3} (replicas {:.3}–{:.3}), no-AI welfare {:.4}",
            r.value,
            r.regime.map_or("no AI entry", |g| g.label()),
            r.s_star,
            r.s_star_lo,
            r.s_star_hi,
            r.no_ai
        );
    }
    println!("wrote {}", output.display());
    Ok(())
}

/// How `plot phase` draws: its flags other than the file, metric, slice and output.
struct Look<'a> {
    stat: &'a str,
    regimes: Option<&'a str>,
    cmap: &'a str,
    size: &'a str,
    optimum: bool,
}

fn cmd_plot_phase(file: &Path, metric: &str, at: &[String], output: Option<PathBuf>, look: &Look<'_>) -> Result<()> {
    use crate::io::heatmap::{self, ColourScale, Heatmap, LinePlot};
    use crate::observe::outcome_categories;
    use crate::sweep::store;
    let Look { stat, regimes, cmap, size, optimum } = *look;
    // The sweep file is this command's input: a bad one is exit 3.
    let full = store::read(file).map_err(|e| CliError::Input(e.to_string()))?;
    let size = parse_size(size)?;
    let mut subtitle = sweep_subtitle(file, &full);
    let (sf, fixed) = figure_slice(file, full, at)?;
    if let Some(note) = slice_note(&fixed) {
        subtitle = format!("{subtitle}{}{note}", heatmap::SEP);
    }
    let Some(values) = sf.metric(metric) else {
        return Err(CliError::Input(format!(
            "{}: no metric \"{metric}\"; this sweep recorded {}",
            file.display(),
            sf.metrics.join(", ")
        ))
        .into());
    };
    let cats = outcome_categories(metric);
    let r = sf.replicas as usize;
    let (a, b) = store::cell_stats(values, r, cats.is_some());
    let (z, stat_name) = match (cats.is_some(), stat) {
        (true, _) => (a, "most frequent value".to_string()),
        (false, "mean") => (a, "mean".to_string()),
        (false, "std") => (b.clone(), "standard deviation".to_string()),
        (false, other) => return Err(usage(format!("--stat {other}: expected mean or std"))),
    };
    let diverging = match cmap {
        "auto" | "diverging" => true,
        "viridis" => false,
        other => return Err(usage(format!("--cmap {other}: expected auto, viridis or diverging"))),
    };
    let value_label = crate::io::labels::with_unit(metric);
    let title =
        format!("{}: {stat_name} over {r} replica{}", crate::io::labels::label(metric), if r == 1 { "" } else { "s" });
    let sep = heatmap::SEP;
    let axis = |i: usize| sweep_axis(&sf, i);
    let output = output.unwrap_or_else(|| png_beside(file, "sweep", &format!("{metric}{}", slice_suffix(&fixed))));
    if sf.axes.len() == 1 {
        // The band is ±1 std around the mean; a plot of the std itself gets none.
        let std = if cats.is_some() || stat != "mean" { vec![f64::NAN; z.len()] } else { b };
        if std.iter().any(|v| v.is_finite()) {
            subtitle = format!("{subtitle}{sep}band: ±1 std over replicas");
        }
        heatmap::draw_line(
            &output,
            &LinePlot {
                title,
                subtitle,
                x: axis(0),
                y_label: value_label,
                mean: z,
                std,
                y_categories: cats.map_or(Vec::new(), |c| c.iter().map(|s| s.to_string()).collect()),
                size,
            },
        )?;
    } else {
        let regime_name = match regimes {
            Some("none") => None,
            Some(name) => {
                if outcome_categories(name).is_none() {
                    return Err(usage(format!(
                        "--regimes {name}: not a categorical outcome (categorical: dominant_segment, welfare_regime)"
                    )));
                }
                if sf.metric(name).is_none() {
                    return Err(CliError::Input(format!(
                        "--regimes {name}: {} did not record it; it has {}",
                        file.display(),
                        sf.metrics.join(", ")
                    ))
                    .into());
                }
                Some(name.to_string())
            }
            None => crate::sweep::analysis::default_regimes(&sf, metric),
        };
        let regimes = regime_name.map(|name| {
            let (regimes, note) = crate::io::phase::regime_outline(&sf, metric, name);
            if let Some(note) = note {
                subtitle = format!("{subtitle}{sep}{note}");
            }
            regimes
        });
        let colour = match cats {
            Some(c) => ColourScale::Categorical { labels: c.iter().map(|s| s.to_string()).collect() },
            None => ColourScale::Continuous { label: value_label, diverging },
        };
        // On welfare over the AI cost scale: where welfare peaks, and laissez-faire.
        let overlays = match optimum.then(|| crate::io::phase::welfare_optimum(&sf, metric)).flatten() {
            Some((overlays, note)) => {
                subtitle = format!("{subtitle}{sep}{note}");
                overlays
            }
            None => Vec::new(),
        };
        heatmap::draw_heatmap(
            &output,
            &Heatmap { title, subtitle, x: axis(0), y: axis(1), z, colour, regimes, overlays, size },
        )?;
    }
    println!("wrote {}", output.display());
    Ok(())
}
