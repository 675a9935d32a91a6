//! Where text goes on a figure, as geometry in pixels: the corner of a plot that a legend
//! can take without covering data ([`free_corner`]), and positions for labels that never
//! overlap one another nor leave their bounds ([`place_labels`]). Pure functions of
//! rectangles and segments; `plot.rs` and `heatmap.rs` turn their data into them and draw.

/// An axis-aligned rectangle in pixels (x grows right, y grows down).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rect {
    pub x0: f64,
    pub y0: f64,
    pub x1: f64,
    pub y1: f64,
}

impl Rect {
    /// The rectangle of two corners, in either order.
    pub fn new(a: (f64, f64), b: (f64, f64)) -> Rect {
        Rect { x0: a.0.min(b.0), y0: a.1.min(b.1), x1: a.0.max(b.0), y1: a.1.max(b.1) }
    }
    /// A `w` × `h` rectangle centred on `c`.
    pub fn centred(c: (f64, f64), (w, h): (f64, f64)) -> Rect {
        Rect { x0: c.0 - w / 2.0, y0: c.1 - h / 2.0, x1: c.0 + w / 2.0, y1: c.1 + h / 2.0 }
    }
    pub fn width(&self) -> f64 {
        self.x1 - self.x0
    }
    pub fn height(&self) -> f64 {
        self.y1 - self.y0
    }
    /// Grown by `d` on every side (shrunk for negative `d`).
    pub fn inflate(&self, d: f64) -> Rect {
        Rect { x0: self.x0 - d, y0: self.y0 - d, x1: self.x1 + d, y1: self.y1 + d }
    }
    /// The interiors overlap (touching edges do not count).
    pub fn overlaps(&self, o: &Rect) -> bool {
        self.x0 < o.x1 && o.x0 < self.x1 && self.y0 < o.y1 && o.y0 < self.y1
    }
    pub fn contains(&self, o: &Rect) -> bool {
        o.x0 >= self.x0 && o.x1 <= self.x1 && o.y0 >= self.y0 && o.y1 <= self.y1
    }
    fn contains_point(&self, p: (f64, f64)) -> bool {
        p.0 >= self.x0 && p.0 <= self.x1 && p.1 >= self.y0 && p.1 <= self.y1
    }
    /// Moved by the least amount that puts it inside `bounds` (when it fits there).
    pub fn clamped_into(&self, bounds: &Rect) -> Rect {
        let shift = |lo: f64, hi: f64, blo: f64, bhi: f64| {
            if lo < blo {
                blo - lo
            } else if hi > bhi {
                (bhi - hi).max(blo - lo)
            } else {
                0.0
            }
        };
        let dx = shift(self.x0, self.x1, bounds.x0, bounds.x1);
        let dy = shift(self.y0, self.y1, bounds.y0, bounds.y1);
        Rect { x0: self.x0 + dx, y0: self.y0 + dy, x1: self.x1 + dx, y1: self.y1 + dy }
    }
    /// The segment a–b passes through the rectangle (Liang–Barsky clipping).
    pub fn hits_segment(&self, a: (f64, f64), b: (f64, f64)) -> bool {
        if self.contains_point(a) || self.contains_point(b) {
            return true;
        }
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let (mut t0, mut t1) = (0.0f64, 1.0f64);
        for (p, q) in [(-dx, a.0 - self.x0), (dx, self.x1 - a.0), (-dy, a.1 - self.y0), (dy, self.y1 - a.1)] {
            if p == 0.0 {
                if q < 0.0 {
                    return false;
                }
            } else {
                let r = q / p;
                if p < 0.0 {
                    t0 = t0.max(r);
                } else {
                    t1 = t1.min(r);
                }
                if t0 > t1 {
                    return false;
                }
            }
        }
        true
    }
}

/// Something drawn on a plot that text should not cover.
#[derive(Clone, Debug, PartialEq)]
pub enum Obstacle {
    /// A line segment (a piece of a series, a boundary, a mark).
    Segment((f64, f64), (f64, f64)),
    /// A filled area (a bar, a marker, a placed label).
    Area(Rect),
}

impl Obstacle {
    fn hits(&self, r: &Rect) -> bool {
        match self {
            Obstacle::Segment(a, b) => r.hits_segment(*a, *b),
            Obstacle::Area(o) => r.overlaps(o),
        }
    }
}

/// The segments of a polyline as obstacles.
pub fn polyline(points: &[(f64, f64)]) -> impl Iterator<Item = Obstacle> + '_ {
    points.windows(2).map(|w| Obstacle::Segment(w[0], w[1]))
}

/// A corner of a plot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Corner {
    UpperRight,
    UpperLeft,
    LowerRight,
    LowerLeft,
}

/// The first corner of `plot`, in the order upper right, upper left, lower right, lower
/// left, where a `size` box set `inset` pixels in from the frame touches no obstacle (with
/// `inset` of clearance around it too), and that box; `None` when data reaches every corner.
pub fn free_corner(plot: &Rect, size: (f64, f64), inset: f64, obstacles: &[Obstacle]) -> Option<(Corner, Rect)> {
    let (w, h) = size;
    if w + 2.0 * inset > plot.width() || h + 2.0 * inset > plot.height() {
        return None;
    }
    let (l, r) = (plot.x0 + inset, plot.x1 - inset - w);
    let (t, b) = (plot.y0 + inset, plot.y1 - inset - h);
    [(Corner::UpperRight, r, t), (Corner::UpperLeft, l, t), (Corner::LowerRight, r, b), (Corner::LowerLeft, l, b)]
        .into_iter()
        .map(|(c, x, y)| (c, Rect { x0: x, y0: y, x1: x + w, y1: y + h }))
        .find(|(_, bx)| {
            let clear = bx.inflate(inset);
            !obstacles.iter().any(|o| o.hits(&clear))
        })
}

/// A label to place: its box size and the centres it may take, best first.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelRequest {
    pub size: (f64, f64),
    pub candidates: Vec<(f64, f64)>,
}

/// Boxes for `requests`, placed in order: each takes its first candidate (moved inside
/// `bounds` if it pokes out) that lies inside `bounds`, overlaps neither a box in `taken`
/// nor one placed before it (with `gap` pixels between), and touches nothing in `avoid`;
/// failing that, the first that meets all but `avoid`; failing that, none (`None`). So no
/// two placed boxes overlap and none leaves `bounds`, whatever the requests.
pub fn place_labels(
    bounds: &Rect,
    requests: &[LabelRequest],
    taken: &[Rect],
    avoid: &[Obstacle],
    gap: f64,
) -> Vec<Option<Rect>> {
    let mut placed: Vec<Rect> = taken.to_vec();
    let mut out = Vec::with_capacity(requests.len());
    for req in requests {
        let fits = |r: &Rect, placed: &[Rect]| bounds.contains(r) && !placed.iter().any(|p| p.inflate(gap).overlaps(r));
        let boxes: Vec<Rect> =
            req.candidates.iter().map(|&c| Rect::centred(c, req.size).clamped_into(bounds)).collect();
        let choice = boxes
            .iter()
            .find(|r| fits(r, &placed) && !avoid.iter().any(|o| o.hits(r)))
            .or_else(|| boxes.iter().find(|r| fits(r, &placed)))
            .copied();
        if let Some(r) = choice {
            placed.push(r);
        }
        out.push(choice);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plot() -> Rect {
        Rect { x0: 0.0, y0: 0.0, x1: 400.0, y1: 300.0 }
    }

    #[test]
    fn a_segment_through_a_box_hits_it_and_one_beside_it_does_not() {
        let r = Rect { x0: 10.0, y0: 10.0, x1: 20.0, y1: 20.0 };
        assert!(r.hits_segment((0.0, 0.0), (30.0, 30.0)), "diagonal through");
        assert!(r.hits_segment((15.0, 0.0), (15.0, 30.0)), "vertical through, no end inside");
        assert!(!r.hits_segment((0.0, 25.0), (30.0, 25.0)), "passes below");
        assert!(!r.hits_segment((0.0, 9.0), (9.0, 0.0)), "cuts the corner's outside");
    }

    #[test]
    fn the_legend_takes_a_corner_the_data_leaves_free() {
        // A line rising from lower left to upper right (pixel y grows down) leaves the
        // upper left and the lower right free; upper right is taken.
        let rising: Vec<Obstacle> = polyline(&[(0.0, 300.0), (400.0, 0.0)]).collect();
        let (c, bx) = free_corner(&plot(), (100.0, 40.0), 6.0, &rising).unwrap();
        assert_eq!(c, Corner::UpperLeft);
        assert!(plot().contains(&bx));
        // Data in all four corners: no corner is free.
        let mut everywhere = rising.clone();
        everywhere.extend(polyline(&[(0.0, 0.0), (400.0, 300.0)]));
        assert_eq!(free_corner(&plot(), (100.0, 40.0), 6.0, &everywhere), None);
        // A box bigger than the plot never fits.
        assert_eq!(free_corner(&plot(), (500.0, 40.0), 6.0, &[]), None);
    }

    #[test]
    fn labels_wanting_one_spot_neither_overlap_nor_leave_the_bounds() {
        // Five labels that all prefer the same centre near the right edge, with fallbacks
        // spread over the plot; and one that only fits if it is pushed inside.
        let spot = (390.0, 150.0);
        let fallbacks: Vec<(f64, f64)> = (0..12).map(|k| (60.0 + 25.0 * k as f64, 20.0 + 22.0 * k as f64)).collect();
        let mut requests: Vec<LabelRequest> = (0..5)
            .map(|_| LabelRequest {
                size: (120.0, 20.0),
                candidates: std::iter::once(spot).chain(fallbacks.iter().copied()).collect(),
            })
            .collect();
        requests.push(LabelRequest { size: (80.0, 20.0), candidates: vec![(-30.0, 310.0)] });
        let taken = [Rect { x0: 300.0, y0: 0.0, x1: 400.0, y1: 30.0 }];
        let placed = place_labels(&plot(), &requests, &taken, &[], 2.0);
        let boxes: Vec<Rect> = placed.iter().flatten().copied().collect();
        assert_eq!(boxes.len(), requests.len(), "every label found a place: {placed:?}");
        for (i, a) in boxes.iter().enumerate() {
            assert!(plot().contains(a), "{a:?} leaves the plot");
            assert!(!a.overlaps(&taken[0]), "{a:?} covers a label placed before");
            for b in &boxes[i + 1..] {
                assert!(!a.overlaps(b), "{a:?} and {b:?} overlap");
            }
        }
        // The first label gets its preferred spot, moved inside the right edge.
        assert_eq!(boxes[0], Rect { x0: 280.0, y0: 140.0, x1: 400.0, y1: 160.0 });
        // The pushed-in one sits in the lower-left corner.
        assert_eq!(boxes[5], Rect { x0: 0.0, y0: 280.0, x1: 80.0, y1: 300.0 });
    }

    #[test]
    fn a_label_with_no_room_is_left_out_rather_than_overlapping() {
        let full = [plot()];
        let r = place_labels(
            &plot(),
            &[LabelRequest { size: (10.0, 10.0), candidates: vec![(50.0, 50.0)] }],
            &full,
            &[],
            0.0,
        );
        assert_eq!(r, vec![None]);
    }

    #[test]
    fn labels_prefer_candidates_clear_of_lines() {
        let line: Vec<Obstacle> = polyline(&[(100.0, 0.0), (100.0, 300.0)]).collect();
        let req = LabelRequest { size: (40.0, 20.0), candidates: vec![(100.0, 150.0), (200.0, 150.0)] };
        let r = place_labels(&plot(), &[req], &[], &line, 0.0);
        assert_eq!(r[0], Some(Rect::centred((200.0, 150.0), (40.0, 20.0))));
    }
}
