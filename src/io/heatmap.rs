//! Phase-diagram figures (PNG, plotters bitmap backend): a heatmap over two axes (linear or
//! log) with a colour bar (sequential, or diverging around zero) or a category legend,
//! and regime boundaries outlined where a categorical grid changes; and a line plot with a
//! ±1 std band for one-axis sweeps. Knows nothing about sweeps or HDF5: the caller
//! (`hollow plot phase`) hands it plain grids. Colours and ticks are `scale.rs`'s; the
//! PNG is written through `plot::write_png`, like every figure.

use super::plot::{Canvas, FigureError, fig_err, write_png};
use super::scale::{CATEGORY_COLOURS, Mapper, NO_DATA, edges, fmt_log_tick, fmt_tick, log_ticks, nice_step, warp};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

/// A plot axis: one value per grid column/row, strictly increasing.
#[derive(Clone, Debug)]
pub struct PlotAxis {
    pub label: String,
    pub values: Vec<f64>,
    /// Draw on a log scale (values must be positive).
    pub log: bool,
}

/// How values become colours.
#[derive(Clone, Debug)]
pub enum ColourScale {
    /// Continuous values; `diverging` centres a blue–white–red map on zero, otherwise viridis.
    Continuous { label: String, diverging: bool },
    /// Category indices 0..labels.len() with a legend.
    Categorical { labels: Vec<String> },
}

/// A heatmap over `x` × `y`.
#[derive(Clone, Debug)]
pub struct Heatmap {
    pub title: String,
    /// Smaller text under the title, parts separated by [`SEP`] (wrapped there to fit).
    pub subtitle: String,
    pub x: PlotAxis,
    pub y: PlotAxis,
    /// `z[i * y.len + j]` for x index i and y index j; NaN cells are drawn grey.
    pub z: Vec<f64>,
    pub colour: ColourScale,
    /// A categorical grid (same layout as `z`) whose changes are outlined, with its name
    /// and category labels (the regions are labelled with them).
    pub regimes: Option<Regimes>,
    /// Lines drawn over the cells (e.g. the welfare-maximising s* per row).
    pub overlays: Vec<Overlay>,
    pub size: (u32, u32),
}

/// A line over a heatmap, in data units, labelled at its top end. With `x_spread`, each
/// point also gets a horizontal whisker from its (lo, hi).
#[derive(Clone, Debug)]
pub struct Overlay {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    pub x_spread: Vec<(f64, f64)>,
    pub dashed: bool,
}

/// Regions of a categorical grid, outlined on a heatmap.
#[derive(Clone, Debug)]
pub struct Regimes {
    /// Prefix of the region labels ("" for the bare category label).
    pub name: String,
    pub labels: Vec<String>,
    pub grid: Vec<f64>,
}

/// A line over one axis with a ±1 std band (one-axis sweeps).
#[derive(Clone, Debug)]
pub struct LinePlot {
    pub title: String,
    pub subtitle: String,
    pub x: PlotAxis,
    pub y_label: String,
    pub mean: Vec<f64>,
    /// Band half-width per point (NaN: no band there).
    pub std: Vec<f64>,
    pub size: (u32, u32),
}

const FONT: &str = "sans-serif";
fn err(file: &Path, reason: impl ToString) -> FigureError {
    fig_err(file, reason)
}

type Area<'a> = Canvas<'a>;

fn text_style(size: u32, h: HPos, v: VPos) -> TextStyle<'static> {
    TextStyle::from((FONT, size).into_font()).pos(Pos::new(h, v))
}

/// Separator of subtitle parts; lines are broken only there.
pub const SEP: &str = " · ";

/// Draws the title and the subtitle (wrapped at [`SEP`] to fit the width) at the top of
/// `root`; returns the height they take.
fn draw_titles(root: &Area, file: &Path, title: &str, subtitle: &str) -> Result<u32, FigureError> {
    let w = root.dim_in_pixel().0 as i32;
    root.draw(&Text::new(title.to_string(), (w / 2, 12), text_style(24, HPos::Center, VPos::Top)))
        .map_err(|e| err(file, e))?;
    let font = TextStyle::from((FONT, 15).into_font());
    let fits = |t: &str| root.estimate_text_size(t, &font).map_or(true, |(tw, _)| (tw as i32) < w - 30);
    let mut lines: Vec<String> = Vec::new();
    for part in subtitle.split(SEP).filter(|p| !p.is_empty()) {
        match lines.last_mut() {
            Some(l) if fits(&format!("{l}{SEP}{part}")) => {
                l.push_str(SEP);
                l.push_str(part);
            }
            _ => lines.push(part.to_string()),
        }
    }
    let mut y = 44;
    for l in &lines {
        root.draw(&Text::new(
            l.clone(),
            (w / 2, y),
            text_style(15, HPos::Center, VPos::Top).color(&RGBColor(80, 80, 80)),
        ))
        .map_err(|e| err(file, e))?;
        y += 20;
    }
    Ok(if lines.is_empty() { 50 } else { y as u32 + 6 })
}

/// Draws tick marks and labels of a log axis by hand (plotters would put its ticks at
/// "nice" exponents such as 10^0.5): decades labelled, other integers as minor ticks.
fn draw_log_axis(
    root: &Area,
    file: &Path,
    to_px: &dyn Fn(f64) -> (i32, i32),
    ulo: f64,
    uhi: f64,
    horizontal: bool,
) -> Result<(), FigureError> {
    let (major, minor) = log_ticks(ulo, uhi);
    for (vals, len) in [(&major, 7), (&minor, 4)] {
        for &v in vals {
            let (x, y) = to_px(v.log10());
            let tick = if horizontal { vec![(x, y), (x, y + len)] } else { vec![(x, y), (x - len, y)] };
            root.draw(&PathElement::new(tick, BLACK.stroke_width(1))).map_err(|e| err(file, e))?;
            if len == 7 {
                let (pos, at) = if horizontal {
                    ((HPos::Center, VPos::Top), (x, y + 10))
                } else {
                    ((HPos::Right, VPos::Center), (x - 10, y))
                };
                root.draw(&Text::new(fmt_log_tick(v), at, text_style(15, pos.0, pos.1))).map_err(|e| err(file, e))?;
            }
        }
    }
    Ok(())
}

/// Writes a heatmap PNG.
pub fn draw_heatmap(path: &Path, h: &Heatmap) -> Result<(), FigureError> {
    let (nx, ny) = (h.x.values.len(), h.y.values.len());
    if nx == 0 || ny == 0 || h.z.len() != nx * ny {
        return Err(err(path, format!("heatmap data has {} values for a {nx} × {ny} grid", h.z.len())));
    }
    for a in [&h.x, &h.y] {
        if a.log && a.values.iter().any(|&v| v <= 0.0) {
            return Err(err(path, format!("axis {}: a log axis needs positive values", a.label)));
        }
    }
    write_png(path, h.size, |root| draw_heatmap_on(root, path, h))
}

/// The heatmap on a white canvas of `h.size`.
fn draw_heatmap_on(root: &Area, path: &Path, h: &Heatmap) -> Result<(), FigureError> {
    let (nx, ny) = (h.x.values.len(), h.y.values.len());
    let w = h.size.0;
    let top = draw_titles(root, path, &h.title, &h.subtitle)?;
    let legend_w = 190u32.min(w / 3);
    let (main, side) = root.split_horizontally(w - legend_w);
    let (xe, ye) = (edges(&h.x.values, h.x.log), edges(&h.y.values, h.y.log));
    let (x0, x1, y0, y1) = (xe[0], xe[nx], ye[0], ye[ny]);
    let mut chart = ChartBuilder::on(&main)
        .margin_top(top)
        .margin_left(10)
        .margin_right(10)
        .margin_bottom(10)
        .x_label_area_size(60)
        .y_label_area_size(85)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|e| err(path, e))?;
    // Linear axes get plotters' ticks; log axes get none here and hand-drawn decades below.
    let xstep = nice_step(x1 - x0, 7);
    let ystep = nice_step(y1 - y0, 7);
    let xfmt = |v: &f64| fmt_tick(*v, xstep);
    let yfmt = |v: &f64| fmt_tick(*v, ystep);
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(if h.x.log { 0 } else { 8 })
        .y_labels(if h.y.log { 0 } else { 8 })
        .x_label_formatter(&xfmt)
        .y_label_formatter(&yfmt)
        .x_desc(h.x.label.as_str())
        .y_desc(h.y.label.as_str())
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 17))
        .draw()
        .map_err(|e| err(path, e))?;

    // Cells.
    let (cats, mapper) = match &h.colour {
        ColourScale::Categorical { labels } => (Some(labels), None),
        ColourScale::Continuous { diverging, .. } => (None, Some(Mapper::new(&h.z, *diverging))),
    };
    let colour_of = |v: f64| match &mapper {
        Some(m) => m.colour(v),
        None if v.is_finite() && v >= 0.0 => CATEGORY_COLOURS[(v as usize) % CATEGORY_COLOURS.len()],
        None => NO_DATA,
    };
    chart
        .draw_series((0..nx).flat_map(|i| (0..ny).map(move |j| (i, j))).map(|(i, j)| {
            Rectangle::new([(xe[i], ye[j]), (xe[i + 1], ye[j + 1])], colour_of(h.z[i * ny + j]).filled())
        }))
        .map_err(|e| err(path, e))?;

    // Regime boundaries: a line along every edge between two cells of different regimes,
    // and each regime's label at the cell nearest its centre.
    if let Some(r) = &h.regimes {
        if r.grid.len() == nx * ny {
            let g = |i: usize, j: usize| r.grid[i * ny + j];
            let differs = |a: f64, b: f64| a.is_finite() && b.is_finite() && a != b;
            let mut segs = Vec::new();
            for i in 0..nx {
                for j in 0..ny {
                    if i + 1 < nx && differs(g(i, j), g(i + 1, j)) {
                        segs.push([(xe[i + 1], ye[j]), (xe[i + 1], ye[j + 1])]);
                    }
                    if j + 1 < ny && differs(g(i, j), g(i, j + 1)) {
                        segs.push([(xe[i], ye[j + 1]), (xe[i + 1], ye[j + 1])]);
                    }
                }
            }
            let white = WHITE.stroke_width(5);
            let black = BLACK.stroke_width(2);
            for style in [white, black] {
                chart
                    .draw_series(segs.iter().map(|s| PathElement::new(s.to_vec(), style)))
                    .map_err(|e| err(path, e))?;
            }
            if !segs.is_empty() {
                let font = TextStyle::from((FONT, 15).into_font());
                for (c, component) in regions(&r.grid, nx, ny) {
                    // Label regions big enough to hold a label: at least 4 cells and 2% of the grid.
                    if component.len() < 4.max(nx * ny / 50) {
                        continue;
                    }
                    let Some(label) = r.labels.get(c) else { continue };
                    let n = component.len() as f64;
                    let (ci, cj) =
                        component.iter().fold((0.0, 0.0), |(a, b), &(i, j)| (a + i as f64 / n, b + j as f64 / n));
                    let d = |p: &(usize, usize)| (p.0 as f64 - ci).powi(2) + (p.1 as f64 - cj).powi(2);
                    let Some(&(i, j)) = component.iter().min_by(|a, b| d(a).total_cmp(&d(b))) else { continue };
                    let at = chart.backend_coord(&(0.5 * (xe[i] + xe[i + 1]), 0.5 * (ye[j] + ye[j + 1])));
                    let t = if r.name.is_empty() { label.clone() } else { format!("{}: {label}", r.name) };
                    let (tw, th) = root.estimate_text_size(&t, &font).map_or((100, 16), |(w, h)| (w as i32, h as i32));
                    let bx = [(at.0 - tw / 2 - 5, at.1 - th / 2 - 4), (at.0 + tw / 2 + 5, at.1 + th / 2 + 4)];
                    root.draw(&Rectangle::new(bx, WHITE.mix(0.8).filled())).map_err(|e| err(path, e))?;
                    root.draw(&Text::new(t, at, text_style(15, HPos::Center, VPos::Center)))
                        .map_err(|e| err(path, e))?;
                }
            }
        }
    }

    // Overlays: a white casing under a black line (readable on any colour), whiskers,
    // markers, and the label in a white box at the top end.
    let at = |p: &(f64, f64)| (warp(p.0, h.x.log), warp(p.1, h.y.log));
    for o in &h.overlays {
        let pts: Vec<(f64, f64)> = o.points.iter().map(at).filter(|p| p.0.is_finite() && p.1.is_finite()).collect();
        for (style, w) in [(WHITE, 6), (BLACK, 2)] {
            if o.dashed {
                let segs = dashes(&pts, (x1 - x0) / 60.0, (y1 - y0) / 60.0);
                chart
                    .draw_series(segs.into_iter().map(|s| PathElement::new(s, style.stroke_width(w))))
                    .map_err(|e| err(path, e))?;
            } else {
                chart
                    .draw_series(std::iter::once(PathElement::new(pts.clone(), style.stroke_width(w))))
                    .map_err(|e| err(path, e))?;
            }
            let whiskers =
                o.x_spread.iter().zip(&o.points).map(|(&(lo, hi), &(_, y))| vec![at(&(lo, y)), at(&(hi, y))]);
            chart
                .draw_series(whiskers.map(|s| PathElement::new(s, style.stroke_width(w))))
                .map_err(|e| err(path, e))?;
        }
        if !o.dashed {
            chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, BLACK.filled()))).map_err(|e| err(path, e))?;
        }
        if let Some(top) = pts.iter().max_by(|a, b| a.1.total_cmp(&b.1)) {
            let c = chart.backend_coord(top);
            let font = TextStyle::from((FONT, 15).into_font());
            let (tw, th) = root.estimate_text_size(&o.label, &font).map_or((100, 16), |(w, h)| (w as i32, h as i32));
            let (lx, ly) = (c.0 + 8, c.1 + th);
            let bx = [(lx - 4, ly - th / 2 - 4), (lx + tw + 4, ly + th / 2 + 4)];
            root.draw(&Rectangle::new(bx, WHITE.mix(0.85).filled())).map_err(|e| err(path, e))?;
            root.draw(&Text::new(o.label.clone(), (lx, ly), text_style(15, HPos::Left, VPos::Center)))
                .map_err(|e| err(path, e))?;
        }
    }

    // Log-axis ticks by hand.
    let (px, py) = chart.plotting_area().get_pixel_range();
    if h.x.log {
        let to = |u: f64| (chart.backend_coord(&(u, y0)).0, py.end);
        draw_log_axis(root, path, &to, x0, x1, true)?;
    }
    if h.y.log {
        let to = |u: f64| (px.start, chart.backend_coord(&(x0, u)).1);
        draw_log_axis(root, path, &to, y0, y1, false)?;
    }

    // Colour bar or legend, aligned with the plot.
    match (cats, &mapper, &h.colour) {
        (Some(labels), _, _) => draw_legend(&side, path, labels, py.start, h.z.iter().any(|v| !v.is_finite()))?,
        (None, Some(m), ColourScale::Continuous { label, .. }) => draw_colour_bar(&side, path, m, label, py.clone())?,
        _ => {}
    }
    Ok(())
}

/// A polyline cut into dashes about `dx` (or `dy`) long, in chart units.
fn dashes(pts: &[(f64, f64)], dx: f64, dy: f64) -> Vec<Vec<(f64, f64)>> {
    let mut out = Vec::new();
    for w in pts.windows(2) {
        let (a, b) = (w[0], w[1]);
        let len = (((b.0 - a.0) / dx).powi(2) + ((b.1 - a.1) / dy).powi(2)).sqrt();
        let n = (len.ceil() as usize).max(1);
        for k in (0..n).step_by(2) {
            let t0 = k as f64 / n as f64;
            let t1 = ((k + 1) as f64 / n as f64).min(1.0);
            let p = |t: f64| (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1));
            out.push(vec![p(t0), p(t1)]);
        }
    }
    out
}

/// Connected regions (4-neighbour) of equal finite category in a grid laid out
/// `grid[i * ny + j]`: (category, cells) per region, in order of first cell.
fn regions(grid: &[f64], nx: usize, ny: usize) -> Vec<(usize, Vec<(usize, usize)>)> {
    let mut seen = vec![false; nx * ny];
    let mut out = Vec::new();
    for start in 0..nx * ny {
        let c = grid[start];
        if seen[start] || !c.is_finite() || c < 0.0 {
            continue;
        }
        let mut cells = Vec::new();
        let mut stack = vec![start];
        seen[start] = true;
        while let Some(k) = stack.pop() {
            let (i, j) = (k / ny, k % ny);
            cells.push((i, j));
            let mut visit = |i2: usize, j2: usize| {
                let k2 = i2 * ny + j2;
                if !seen[k2] && grid[k2] == c {
                    seen[k2] = true;
                    stack.push(k2);
                }
            };
            if i > 0 {
                visit(i - 1, j);
            }
            if i + 1 < nx {
                visit(i + 1, j);
            }
            if j > 0 {
                visit(i, j - 1);
            }
            if j + 1 < ny {
                visit(i, j + 1);
            }
        }
        out.push((c as usize, cells));
    }
    out
}

fn draw_colour_bar(
    side: &Area,
    file: &Path,
    m: &Mapper,
    label: &str,
    py: std::ops::Range<i32>,
) -> Result<(), FigureError> {
    let (x0, bw) = (20, 26);
    let (top, bottom) = (py.start, py.end);
    let hgt = (bottom - top).max(1);
    for k in 0..hgt {
        let t = 1.0 - k as f64 / (hgt - 1).max(1) as f64;
        let c = m.colour_at(t);
        side.draw(&Rectangle::new([(x0, top + k), (x0 + bw, top + k + 1)], c.filled())).map_err(|e| err(file, e))?;
    }
    side.draw(&Rectangle::new([(x0, top), (x0 + bw, bottom)], BLACK.stroke_width(1))).map_err(|e| err(file, e))?;
    let tick_font = TextStyle::from((FONT, 14).into_font());
    let mut widest = 0;
    for (v, step) in m.ticks() {
        widest = widest.max(side.estimate_text_size(&fmt_tick(v, step), &tick_font).map_or(40, |(w, _)| w as i32));
        let y = bottom - (m.frac(v) * hgt as f64).round() as i32;
        side.draw(&PathElement::new(vec![(x0 + bw, y), (x0 + bw + 5, y)], BLACK.stroke_width(1)))
            .map_err(|e| err(file, e))?;
        side.draw(&Text::new(fmt_tick(v, step), (x0 + bw + 8, y), text_style(14, HPos::Left, VPos::Center)))
            .map_err(|e| err(file, e))?;
    }
    // The label just right of the tick labels, inside the side panel.
    let lx = (x0 + bw + 8 + widest + 18).min(side.dim_in_pixel().0 as i32 - 12);
    let style = TextStyle::from((FONT, 17).into_font())
        .transform(FontTransform::Rotate90)
        .pos(Pos::new(HPos::Center, VPos::Center));
    side.draw(&Text::new(label.to_string(), (lx, (top + bottom) / 2), style)).map_err(|e| err(file, e))
}

fn draw_legend(side: &Area, file: &Path, labels: &[String], top: i32, no_data: bool) -> Result<(), FigureError> {
    let mut y = top + 4;
    let mut items: Vec<(String, RGBColor)> =
        labels.iter().enumerate().map(|(i, l)| (l.clone(), CATEGORY_COLOURS[i % CATEGORY_COLOURS.len()])).collect();
    if no_data {
        items.push(("no data".into(), NO_DATA));
    }
    for (l, c) in items {
        side.draw(&Rectangle::new([(16, y), (38, y + 22)], c.filled())).map_err(|e| err(file, e))?;
        side.draw(&Rectangle::new([(16, y), (38, y + 22)], BLACK.stroke_width(1))).map_err(|e| err(file, e))?;
        side.draw(&Text::new(l, (46, y + 11), text_style(16, HPos::Left, VPos::Center))).map_err(|e| err(file, e))?;
        y += 32;
    }
    Ok(())
}

/// Writes a line plot with a ±1 std band (one-axis sweeps).
pub fn draw_line(path: &Path, p: &LinePlot) -> Result<(), FigureError> {
    let n = p.x.values.len();
    if n == 0 || p.mean.len() != n || p.std.len() != n {
        return Err(err(path, "line plot: x, mean and std lengths differ"));
    }
    write_png(path, p.size, |root| draw_line_on(root, path, p))
}

/// The line plot on a white canvas of `p.size`.
fn draw_line_on(root: &Area, path: &Path, p: &LinePlot) -> Result<(), FigureError> {
    let n = p.x.values.len();
    let top = draw_titles(root, path, &p.title, &p.subtitle)?;
    let u: Vec<f64> = p.x.values.iter().map(|&v| warp(v, p.x.log)).collect();
    let e = edges(&p.x.values, p.x.log);
    // A little room either side so the end points do not sit on the frame.
    let (x0, x1) =
        if n == 1 { (e[0], e[1]) } else { (u[0] - 0.03 * (u[n - 1] - u[0]), u[n - 1] + 0.03 * (u[n - 1] - u[0])) };
    let lo_hi = |v: f64, s: f64| if s.is_finite() { (v - s, v + s) } else { (v, v) };
    let (mut y0, mut y1) = p.mean.iter().zip(&p.std).filter(|(m, _)| m.is_finite()).fold(
        (f64::INFINITY, f64::NEG_INFINITY),
        |(a, b), (&m, &s)| {
            let (l, h) = lo_hi(m, s);
            (a.min(l), b.max(h))
        },
    );
    if !y0.is_finite() {
        (y0, y1) = (0.0, 1.0);
    }
    let pad = ((y1 - y0) * 0.06).max(1e-9);
    let (y0, y1) = (y0 - pad, y1 + pad);
    let mut chart = ChartBuilder::on(root)
        .margin(15)
        .margin_top(top)
        .x_label_area_size(60)
        .y_label_area_size(85)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|e| err(path, e))?;
    let xstep = nice_step(x1 - x0, 7);
    let ystep = nice_step(y1 - y0, 7);
    let xfmt = |v: &f64| fmt_tick(*v, xstep);
    let yfmt = |v: &f64| fmt_tick(*v, ystep);
    chart
        .configure_mesh()
        .max_light_lines(1)
        .light_line_style(RGBColor(245, 245, 245))
        .bold_line_style(RGBColor(225, 225, 225))
        .x_labels(if p.x.log { 0 } else { 8 })
        .x_label_formatter(&xfmt)
        .y_label_formatter(&yfmt)
        .x_desc(p.x.label.as_str())
        .y_desc(p.y_label.as_str())
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 17))
        .draw()
        .map_err(|e| err(path, e))?;
    let pts: Vec<(f64, f64, f64)> =
        (0..n).filter(|&i| p.mean[i].is_finite()).map(|i| (u[i], p.mean[i], p.std[i])).collect();
    let band: Vec<(f64, f64)> = pts
        .iter()
        .filter(|t| t.2.is_finite())
        .map(|&(x, m, s)| (x, m + s))
        .chain(pts.iter().rev().filter(|t| t.2.is_finite()).map(|&(x, m, s)| (x, m - s)))
        .collect();
    if band.len() >= 4 {
        chart
            .draw_series(std::iter::once(Polygon::new(band, RGBColor(59, 117, 175).mix(0.25).filled())))
            .map_err(|e| err(path, e))?;
    }
    let line = RGBColor(59, 117, 175);
    chart
        .draw_series(LineSeries::new(pts.iter().map(|&(x, m, _)| (x, m)), line.stroke_width(2)))
        .map_err(|e| err(path, e))?;
    chart.draw_series(pts.iter().map(|&(x, m, _)| Circle::new((x, m), 3, line.filled()))).map_err(|e| err(path, e))?;
    if p.x.log {
        let (_, py) = chart.plotting_area().get_pixel_range();
        let to = |uu: f64| (chart.backend_coord(&(uu, y0)).0, py.end);
        draw_log_axis(root, path, &to, x0, x1, true)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_split_disconnected_cells_of_one_category() {
        // 3 × 3, category 1 in two separate corners.
        let g = [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0];
        let r = regions(&g, 3, 3);
        assert_eq!(r.iter().filter(|(c, _)| *c == 1).count(), 2);
        assert_eq!(r.iter().find(|(c, _)| *c == 0).map(|(_, v)| v.len()), Some(7));
    }
}
