//! Where the regions of a categorical grid are and where their labels can go: connected
//! regions of one category, each cell's depth inside its region, and candidate label
//! positions deepest first (placed without collisions by `io::place`).

use super::place::Rect;

/// Where the label of the region `component` (its cells) may go, best first: centres of
/// its cells, preferring those whose label box (of the given size) lies most inside the
/// region, then those deepest inside it, then those nearest its centre.
/// `cell_px(i, j)` is a cell's centre in pixels and `cell_at(p)` the cell under a pixel.
pub(super) fn region_candidates(
    (nx, ny): (usize, usize),
    component: &[(usize, usize)],
    size: (f64, f64),
    cell_px: &dyn Fn(usize, usize) -> (f64, f64),
    cell_at: &dyn Fn((f64, f64)) -> Option<(usize, usize)>,
) -> Vec<(f64, f64)> {
    let mut inside = vec![false; nx * ny];
    for &(i, j) in component {
        inside[i * ny + j] = true;
    }
    let depth = depths(&inside, nx, ny);
    let n = component.len() as f64;
    let (ci, cj) = component.iter().fold((0.0, 0.0), |(a, b), &(i, j)| (a + i as f64 / n, b + j as f64 / n));
    let coverage = |c: (f64, f64)| {
        let r = Rect::centred(c, size);
        let mut hit = 0;
        for a in 0..5 {
            for b in 0..3 {
                let p = (r.x0 + r.width() * a as f64 / 4.0, r.y0 + r.height() * b as f64 / 2.0);
                hit += usize::from(cell_at(p).is_some_and(|(i, j)| inside[i * ny + j]));
            }
        }
        hit
    };
    let mut scored: Vec<(usize, usize, f64, (f64, f64))> = component
        .iter()
        .map(|&(i, j)| {
            let c = cell_px(i, j);
            let d = (i as f64 - ci).powi(2) + (j as f64 - cj).powi(2);
            (coverage(c), depth[i * ny + j], d, c)
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.total_cmp(&b.2)));
    scored.into_iter().take(60).map(|t| t.3).collect()
}

/// For each cell of a region (`inside`), the number of cells to its nearest cell outside
/// it or off the grid (8-neighbour steps); 0 outside.
pub(super) fn depths(inside: &[bool], nx: usize, ny: usize) -> Vec<usize> {
    let mut d = vec![usize::MAX; nx * ny];
    let mut queue = std::collections::VecDeque::new();
    for i in 0..nx {
        for j in 0..ny {
            let k = i * ny + j;
            if !inside[k] {
                d[k] = 0;
            } else if i == 0 || j == 0 || i + 1 == nx || j + 1 == ny {
                d[k] = 1;
                queue.push_back(k);
            }
        }
    }
    for i in 0..nx {
        for j in 0..ny {
            let k = i * ny + j;
            if d[k] == usize::MAX && neighbours(i, j, nx, ny).any(|k2| !inside[k2]) {
                d[k] = 1;
                queue.push_back(k);
            }
        }
    }
    while let Some(k) = queue.pop_front() {
        let (i, j) = (k / ny, k % ny);
        for k2 in neighbours(i, j, nx, ny) {
            if d[k2] == usize::MAX {
                d[k2] = d[k] + 1;
                queue.push_back(k2);
            }
        }
    }
    d
}

/// The up to 8 neighbours of cell (i, j), as indices `i * ny + j`.
pub(super) fn neighbours(i: usize, j: usize, nx: usize, ny: usize) -> impl Iterator<Item = usize> {
    (-1i64..=1)
        .flat_map(|a| (-1i64..=1).map(move |b| (a, b)))
        .filter(|&(a, b)| (a, b) != (0, 0))
        .map(move |(a, b)| (i as i64 + a, j as i64 + b))
        .filter(move |&(a, b)| a >= 0 && b >= 0 && (a as usize) < nx && (b as usize) < ny)
        .map(move |(a, b)| a as usize * ny + b as usize)
}

/// Connected regions (4-neighbour) of equal finite category in a grid laid out
/// `grid[i * ny + j]`: (category, cells) per region, in order of first cell.
pub(super) fn regions(grid: &[f64], nx: usize, ny: usize) -> Vec<(usize, Vec<(usize, usize)>)> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::place::{LabelRequest, place_labels};

    #[test]
    fn regions_split_disconnected_cells_of_one_category() {
        // 3 × 3, category 1 in two separate corners.
        let g = [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0];
        let r = regions(&g, 3, 3);
        assert_eq!(r.iter().filter(|(c, _)| *c == 1).count(), 2);
        assert_eq!(r.iter().find(|(c, _)| *c == 0).map(|(_, v)| v.len()), Some(7));
    }

    #[test]
    fn region_labels_wider_than_their_regions_neither_collide_nor_leave_the_plot() {
        // 12 × 6 cells of 20 px; three vertical stripes 4 cells (80 px) wide, and labels of
        // 110 px: each label's natural spot, its stripe's centre, pokes into a neighbour.
        let (nx, ny, cell) = (12usize, 6usize, 20.0);
        let grid: Vec<f64> = (0..nx * ny).map(|k| ((k / ny) / 4) as f64).collect();
        let plot = Rect { x0: 0.0, y0: 0.0, x1: nx as f64 * cell, y1: ny as f64 * cell };
        let cell_px = |i: usize, j: usize| ((i as f64 + 0.5) * cell, plot.y1 - (j as f64 + 0.5) * cell);
        let cell_at = |p: (f64, f64)| {
            let (i, j) = ((p.0 / cell).floor(), ((plot.y1 - p.1) / cell).floor());
            (i >= 0.0 && j >= 0.0 && (i as usize) < nx && (j as usize) < ny).then(|| (i as usize, j as usize))
        };
        let size = (110.0, 24.0);
        let requests: Vec<LabelRequest> = regions(&grid, nx, ny)
            .iter()
            .map(|(_, cells)| LabelRequest {
                size,
                candidates: region_candidates((nx, ny), cells, size, &cell_px, &cell_at),
            })
            .collect();
        assert_eq!(requests.len(), 3);
        // An overlay's label already sits in the middle of the plot.
        let taken = [Rect::centred((120.0, 60.0), (60.0, 24.0))];
        let placed: Vec<Rect> = place_labels(&plot, &requests, &taken, &[], 4.0).into_iter().flatten().collect();
        assert_eq!(placed.len(), 3, "every stripe gets its label");
        for (k, a) in placed.iter().enumerate() {
            assert!(plot.contains(a), "{a:?} leaves the plot");
            assert!(!a.overlaps(&taken[0]), "{a:?} covers the overlay's label");
            for b in &placed[k + 1..] {
                assert!(!a.overlaps(b), "{a:?} and {b:?} overlap");
            }
        }
        // The deepest cells come first: the first candidate of the middle stripe is one of
        // its two middle columns, not an edge column.
        let first = requests[1].candidates[0];
        assert!((100.0..=140.0).contains(&first.0), "{first:?}");
    }
}
