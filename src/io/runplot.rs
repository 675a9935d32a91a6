//! `hollow plot run`: the time series of one or more run files, one panel per metric, the
//! shock marked. Several files are overlaid (legend: file name and seed), or, as replicas,
//! drawn as their mean with a ±1 sd band; a run's own mean-field check (its final values,
//! stored as `meanfield_*` attributes) is drawn as a dashed level over the run's last
//! window where the file has it.

use super::RunFile;
use super::labels;
use super::plot::{self, FigureError, PALETTE, Panel, Series, Style};
use std::path::Path;

/// One run to draw: its file, a label, and its mean-field check's final values by metric
/// name (`meanfield_share_ai` → `share_ai`, `meanfield_welfare_final` → `welfare`).
pub struct RunToPlot {
    pub label: String,
    pub file: RunFile,
    pub meanfield: Vec<(String, f64)>,
    pub shock: u32,
    pub window: u32,
}

/// The final values of a file's mean-field check, by the name of the series they match.
pub fn meanfield_levels(path: &Path) -> Vec<(String, f64)> {
    let Ok(f) = ::hdf5::File::open(path) else { return Vec::new() };
    [
        ("meanfield_share_ai", "share_ai"),
        ("meanfield_share_exit", "share_exit"),
        ("meanfield_share_human", "share_human"),
        ("meanfield_welfare_final", "welfare"),
    ]
    .iter()
    .filter_map(|(attr, series)| {
        let v = f.attr(attr).and_then(|a| a.read_scalar::<f64>()).ok()?;
        v.is_finite().then(|| (series.to_string(), v))
    })
    .collect()
}

/// Draws `metrics` of `runs` to `path`; with `band`, the runs are replicas: their mean and
/// ±1 sd per step (over the steps all of them have).
pub fn draw_runs(path: &Path, runs: &[RunToPlot], metrics: &[String], band: bool) -> Result<(), FigureError> {
    let panels: Vec<Panel> = metrics
        .iter()
        .map(|m| {
            let mut series = Vec::new();
            let get = |r: &RunToPlot| r.file.series(m).unwrap_or(&[]).to_vec();
            if band && runs.len() > 1 {
                let n = runs.iter().map(|r| get(r).len()).min().unwrap_or(0);
                let (mut mean, mut sd) = (vec![0.0; n], vec![0.0; n]);
                for t in 0..n {
                    let v: Vec<f64> = runs.iter().map(|r| get(r)[t]).collect();
                    mean[t] = v.iter().sum::<f64>() / v.len() as f64;
                    sd[t] = (v.iter().map(|x| (x - mean[t]).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt();
                }
                let pts = |f: &dyn Fn(usize) -> f64| (0..n).map(|t| (t as f64, f(t))).collect::<Vec<_>>();
                series.push(Series::new(
                    format!("mean of {} runs", runs.len()),
                    pts(&|t| mean[t]),
                    PALETTE[0],
                    Style::Line,
                ));
                series.push(Series::new("± 1 sd", pts(&|t| mean[t] + sd[t]), PALETTE[0], Style::Dashed));
                series.push(Series::new("", pts(&|t| mean[t] - sd[t]), PALETTE[0], Style::Dashed));
            } else {
                for (k, r) in runs.iter().enumerate() {
                    series.push(Series::new(
                        r.label.clone(),
                        plot::series_points(&get(r)),
                        PALETTE[k % PALETTE.len()],
                        Style::Line,
                    ));
                }
            }
            // The mean field's final level over each run's last window (one per distinct level).
            for (k, r) in runs.iter().enumerate() {
                if let Some((_, v)) = r.meanfield.iter().find(|(s, _)| s == m) {
                    let end = get(r).len() as f64;
                    let from = (end - f64::from(r.window)).max(0.0);
                    let name = if k == 0 { "mean field (final)".to_string() } else { String::new() };
                    series.push(Series::new(name, vec![(from, *v), (end, *v)], (0, 0, 0), Style::Dashed));
                    if band {
                        break;
                    }
                }
            }
            let marks = runs.first().map(|r| vec![(f64::from(r.shock), "shock".to_string())]).unwrap_or_default();
            Panel {
                title: labels::label(m).to_string(),
                x_label: "step".into(),
                y_label: labels::with_unit(m),
                series,
                marks,
                ..Default::default()
            }
        })
        .collect();
    let title = if runs.len() == 1 { runs[0].label.clone() } else { format!("{} runs", runs.len()) };
    plot::draw_figure(path, &title, &panels, panels.len().min(2), (640, 420))
}
