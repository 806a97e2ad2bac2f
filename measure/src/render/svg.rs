//! Small inline-SVG plots: axes with ticks (linear or log), lines and dots, a legend. The
//! page needs no script and no network.

use std::fmt::Write;

pub struct Axis {
    pub label: String,
    pub log: bool,
    pub min: f64,
    pub max: f64,
    /// Numbered ticks; off for an axis that only separates rows.
    pub numbered: bool,
}

impl Axis {
    /// An axis spanning `values` (a little padding; positive values only on a log axis).
    pub fn spanning(label: &str, log: bool, values: impl Iterator<Item = f64>) -> Axis {
        let values: Vec<f64> = values
            .filter(|v| v.is_finite() && (!log || *v > 0.0))
            .collect();
        let (mut min, mut max) = values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(*v), b.max(*v))
            });
        if !min.is_finite() {
            (min, max) = (if log { 1.0 } else { 0.0 }, 1.0);
        }
        if log {
            min = 10f64.powf(min.log10().floor());
            max = 10f64.powf(max.log10().ceil().max(min.log10() + 1.0));
        } else {
            min = min.min(0.0);
            max = if max > min { max * 1.08 } else { min + 1.0 };
        }
        Axis {
            label: label.into(),
            log,
            min,
            max,
            numbered: true,
        }
    }

    fn fraction(&self, v: f64) -> f64 {
        if self.log {
            (v.max(self.min).log10() - self.min.log10()) / (self.max.log10() - self.min.log10())
        } else {
            (v - self.min) / (self.max - self.min)
        }
    }

    fn ticks(&self) -> Vec<f64> {
        if !self.numbered {
            return Vec::new();
        }
        if self.log {
            let (low, high) = (
                self.min.log10().round() as i32,
                self.max.log10().round() as i32,
            );
            return (low..=high).map(|e| 10f64.powi(e)).collect();
        }
        // At most six intervals, each a round step.
        let raw = (self.max - self.min) / 6.0;
        let magnitude = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 5.0, 10.0]
            .iter()
            .map(|m| m * magnitude)
            .find(|s| *s >= raw)
            .unwrap_or(raw);
        let mut ticks = Vec::new();
        let mut v = (self.min / step).ceil() * step;
        while v <= self.max + step * 1e-9 {
            ticks.push(v);
            v += step;
        }
        ticks
    }
}

pub enum Mark {
    Line { dashed: bool },
    Dots,
}

pub struct Series {
    pub name: String,
    pub color: &'static str,
    pub mark: Mark,
    pub points: Vec<(f64, f64)>,
}

pub struct Plot {
    pub id: &'static str,
    pub title: String,
    pub x: Axis,
    pub y: Axis,
    pub series: Vec<Series>,
}

const WIDTH: f64 = 680.0;
const HEIGHT: f64 = 360.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 190.0;
const TOP: f64 = 32.0;
const BOTTOM: f64 = 48.0;

fn number(v: f64) -> String {
    if v == 0.0 || (v.abs() >= 0.01 && v.abs() < 10_000.0) {
        let text = format!("{v:.2}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{v:.0e}")
    }
}

impl Plot {
    fn px(&self, x: f64) -> f64 {
        LEFT + self.x.fraction(x) * (WIDTH - LEFT - RIGHT)
    }

    fn py(&self, y: f64) -> f64 {
        HEIGHT - BOTTOM - self.y.fraction(y) * (HEIGHT - TOP - BOTTOM)
    }

    pub fn render(&self) -> String {
        let mut svg = String::new();
        let _ = write!(
            svg,
            r#"<svg id="{}" class="plot" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{}">"#,
            self.id,
            html_escape::encode_double_quoted_attribute(&self.title)
        );
        let _ = write!(
            svg,
            r#"<text x="{LEFT}" y="18" class="title">{}</text>"#,
            html_escape::encode_text(&self.title)
        );
        self.axes(&mut svg);
        for (index, series) in self.series.iter().enumerate() {
            self.series(&mut svg, series);
            let y = TOP + 8.0 + index as f64 * 18.0;
            let x = WIDTH - RIGHT + 12.0;
            let _ = write!(
                svg,
                r#"<rect x="{x}" y="{}" width="12" height="4" fill="{}"/><text x="{}" y="{}" class="legend">{}</text>"#,
                y - 4.0,
                series.color,
                x + 18.0,
                y + 1.0,
                html_escape::encode_text(&series.name)
            );
        }
        svg.push_str("</svg>");
        svg
    }

    fn axes(&self, svg: &mut String) {
        let (x0, x1, y0, y1) = (LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM);
        let _ = write!(
            svg,
            r##"<path d="M{x0} {y0} V{y1} H{x1}" fill="none" stroke="#444"/>"##
        );
        for tick in self.x.ticks() {
            let x = self.px(tick);
            let _ = write!(
                svg,
                r##"<path d="M{x:.1} {y1} v4" stroke="#444"/><text x="{x:.1}" y="{}" class="tick" text-anchor="middle">{}</text>"##,
                y1 + 16.0,
                number(tick)
            );
        }
        for tick in self.y.ticks() {
            let y = self.py(tick);
            let _ = write!(
                svg,
                r##"<path d="M{x0} {y:.1} h-4" stroke="#444"/><path d="M{x0} {y:.1} H{x1}" stroke="#eee"/><text x="{}" y="{:.1}" class="tick" text-anchor="end">{}</text>"##,
                x0 - 6.0,
                y + 4.0,
                number(tick)
            );
        }
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{}" class="label" text-anchor="middle">{}</text>"#,
            (x0 + x1) / 2.0,
            HEIGHT - 10.0,
            html_escape::encode_text(&self.x.label)
        );
        let _ = write!(
            svg,
            r#"<text transform="translate(16 {:.1}) rotate(-90)" class="label" text-anchor="middle">{}</text>"#,
            (y0 + y1) / 2.0,
            html_escape::encode_text(&self.y.label)
        );
    }

    fn series(&self, svg: &mut String, series: &Series) {
        match series.mark {
            Mark::Line { dashed } => {
                let points: Vec<String> = series
                    .points
                    .iter()
                    .map(|(x, y)| format!("{:.1},{:.1}", self.px(*x), self.py(*y)))
                    .collect();
                let _ = write!(
                    svg,
                    r#"<polyline class="series" data-series="{}" points="{}" fill="none" stroke="{}" stroke-width="2"{}/>"#,
                    html_escape::encode_double_quoted_attribute(&series.name),
                    points.join(" "),
                    series.color,
                    if dashed {
                        r#" stroke-dasharray="6 4""#
                    } else {
                        ""
                    }
                );
            }
            Mark::Dots => {
                let _ = write!(
                    svg,
                    r#"<g class="series" data-series="{}" fill="{}" fill-opacity="0.7">"#,
                    html_escape::encode_double_quoted_attribute(&series.name),
                    series.color
                );
                for (x, y) in &series.points {
                    let _ = write!(
                        svg,
                        r#"<circle cx="{:.1}" cy="{:.1}" r="4"/>"#,
                        self.px(*x),
                        self.py(*y)
                    );
                }
                svg.push_str("</g>");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_axes_span_decades_and_place_values_inside() {
        let axis = Axis::spanning("ms", true, [3.0, 450.0].into_iter());
        assert_eq!((axis.min, axis.max), (1.0, 1000.0));
        assert_eq!(axis.ticks(), vec![1.0, 10.0, 100.0, 1000.0]);
        assert!((axis.fraction(10.0) - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn linear_ticks_are_round_numbers() {
        let axis = Axis::spanning("MiB", false, [120.0, 930.0].into_iter());
        let ticks = axis.ticks();
        assert_eq!(ticks[0], 0.0);
        assert!(
            ticks.windows(2).all(|w| (w[1] - w[0] - 200.0).abs() < 1e-9),
            "{ticks:?}"
        );
    }

    #[test]
    fn a_plot_has_its_series_and_escapes_names() {
        let plot = Plot {
            id: "p",
            title: "a <b>".into(),
            x: Axis::spanning("x", false, [0.0, 1.0].into_iter()),
            y: Axis::spanning("y", false, [0.0, 1.0].into_iter()),
            series: vec![Series {
                name: "s&t".into(),
                color: "#000",
                mark: Mark::Dots,
                points: vec![(0.5, 0.5)],
            }],
        };
        let svg = plot.render();
        assert!(svg.contains("<circle") && svg.contains("s&amp;t") && svg.contains("a &lt;b&gt;"));
    }
}
