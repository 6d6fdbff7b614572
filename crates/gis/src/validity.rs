//! Whether a feature's polygons are polygons: rings of at least four points, closed,
//! finite, not crossing themselves, holes inside their shell (geo's own validation for
//! the last). Each problem says which ring and, for a crossing, where; an import lists
//! them with the feature's code beside the other problems.

use geo::Validation;

use super::{Feature, Ring};

/// Where two segments of a ring cross, if they do: through each other, or along each
/// other. A point repeated in a row (a zero-length segment, common in exported layers) is
/// not a crossing, nor are neighbours meeting at their shared end.
fn crossing(ring: &Ring) -> Option<[f64; 2]> {
    use geo::line_intersection::{LineIntersection, line_intersection};
    let mut ring: Ring = ring.clone();
    ring.dedup();
    if ring.len() < 4 {
        return None;
    }
    let seg = |i: usize| {
        geo::Line::new(
            geo::coord! { x: ring[i][0], y: ring[i][1] },
            geo::coord! { x: ring[i + 1][0], y: ring[i + 1][1] },
        )
    };
    let n = ring.len() - 1;
    for i in 0..n {
        for j in i + 1..n {
            // Neighbours share an end; the first and last segments too (the ring closes).
            if j == i + 1 || (i == 0 && j == n - 1) {
                continue;
            }
            match line_intersection(seg(i), seg(j)) {
                Some(LineIntersection::SinglePoint {
                    intersection,
                    is_proper: true,
                }) => {
                    return Some([intersection.x, intersection.y]);
                }
                Some(LineIntersection::Collinear { intersection })
                    if intersection.start != intersection.end =>
                {
                    return Some([intersection.start.x, intersection.start.y]);
                }
                _ => {}
            }
        }
    }
    None
}

/// Every problem of `f`'s polygons, in words ("polygon 1, ring 0 crosses itself near
/// (119.50123, 32.16001)"); none for a valid feature.
pub fn problems(f: &Feature) -> Vec<String> {
    let mut out = vec![];
    for (pi, poly) in f.polygons.iter().enumerate() {
        let mut rings_ok = true;
        for (ri, ring) in poly.iter().enumerate() {
            let at = format!("polygon {pi}, ring {ri}");
            if ring.iter().flatten().any(|v| !v.is_finite()) {
                out.push(format!("{at} has a coordinate that is not a number"));
                rings_ok = false;
            } else if ring.len() < 4 {
                out.push(format!(
                    "{at} has {} points (a ring needs at least four, the last the first)",
                    ring.len()
                ));
                rings_ok = false;
            } else if ring.first() != ring.last() {
                out.push(format!(
                    "{at} is not closed (its last point is not its first)"
                ));
                rings_ok = false;
            } else if let Some([x, y]) = crossing(ring) {
                out.push(format!("{at} crosses itself near ({x:.5}, {y:.5})"));
                rings_ok = false;
            }
        }
        // Holes outside their shell, rings crossing each other: geo's own checks.
        if rings_ok && !poly.is_empty() {
            let line = |r: &Ring| {
                geo::LineString::from(r.iter().map(|p| (p[0], p[1])).collect::<Vec<_>>())
            };
            let g = geo::Polygon::new(line(&poly[0]), poly[1..].iter().map(line).collect());
            // Crossings are found above; geo also counts a ring touching itself at a
            // point (a pinch, common in generated and exported boundaries), which
            // encloses no wrong area and is left alone here.
            for e in g.validation_errors() {
                if !matches!(
                    e,
                    geo::algorithm::validation::InvalidPolygon::SelfIntersection(_)
                ) {
                    out.push(format!("polygon {pi}: {e}"));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feature(rings: Vec<Ring>) -> Feature {
        Feature {
            index: 0,
            properties: Default::default(),
            has_geometry: true,
            polygons: vec![rings],
            lines: vec![],
            points: vec![],
        }
    }

    #[test]
    fn a_ring_that_crosses_itself_is_named_with_where() {
        let square = vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]];
        assert!(problems(&feature(vec![square.clone()])).is_empty());
        let bowtie = vec![[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0], [0.0, 0.0]];
        let p = problems(&feature(vec![bowtie]));
        assert_eq!(
            p,
            ["polygon 0, ring 0 crosses itself near (0.50000, 0.50000)"]
        );
        let open = vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]];
        assert!(problems(&feature(vec![open]))[0].contains("not closed"));
        let short = vec![[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]];
        assert!(problems(&feature(vec![short]))[0].contains("3 points"));
        let hole_outside = vec![[5.0, 5.0], [6.0, 5.0], [6.0, 6.0], [5.0, 6.0], [5.0, 5.0]];
        let p = problems(&feature(vec![square, hole_outside]));
        assert!(p.len() == 1 && p[0].starts_with("polygon 0:"), "{p:?}");
    }
}
