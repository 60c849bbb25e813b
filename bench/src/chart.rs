//! Pictures of results for `bench/RESULTS.md`: SVG charts, and latency histograms in
//! HdrHistogram's percentile-distribution text format (`.hgrm`).
//!
//! - [`LineChart`]: named series of (x, y) points on log-log axes, for a time or a rate
//!   against data size or job size, one series per contender (eau2 and its baselines);
//! - [`latency_chart`]: latency distributions by percentile, the way HdrHistogram's
//!   plotter draws them (the x axis stretches the tail: 90%, 99%, 99.9%, ...);
//! - [`bar_chart`]: one bar per result, baselines in grey; [`Report::save_charts`]
//!   draws every table of a report this way, plus each result's ratio to its baseline
//!   (every bench that prints a table gets its charts through it);
//! - [`hgrm_text`] / [`parse_hgrm`]: a [`Latencies`] as `.hgrm` text and back.
//!
//! Charts are drawn with plotters' SVG backend alone: text is written as SVG `<text>`
//! and laid out by the viewer, so no font library is needed to build or run this.
//!
//! ```
//! use eau2_bench::chart::LineChart;
//!
//! let svg = LineChart::new("all_reduce on 4 ranks", "bytes", "ms")
//!     .series("eau2", vec![(65536.0, 0.34), (1048576.0, 2.6)])
//!     .series("Open MPI", vec![(65536.0, 0.25), (1048576.0, 2.2)])
//!     .render()
//!     .unwrap();
//! assert!(svg.starts_with("<svg") && svg.contains("Open MPI"));
//! ```

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use plotters::coord::combinators::BindKeyPoints;
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

use crate::measure::Latencies;
use crate::report::{fmt_num, Report};

/// The size of every chart, in pixels.
const SIZE: (u32, u32) = (800, 480);

/// Series colours, in order: eau2's first series is always the same blue.
const COLOURS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// The colour of baseline bars.
const BASELINE: RGBColor = RGBColor(160, 160, 160);

fn colour(i: usize) -> RGBColor {
    COLOURS[i % COLOURS.len()]
}

/// Turns a plotters error into an I/O error saying what was being drawn.
fn drawing<E: std::fmt::Debug>(what: &str) -> impl Fn(E) -> io::Error + '_ {
    move |e| io::Error::other(format!("drawing {what}: {e:?}"))
}

/// Writes `svg` to `path`, creating its folder.
pub fn save_svg(path: &Path, svg: &str) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, svg)
        .map_err(|e| io::Error::new(e.kind(), format!("writing {}: {e}", path.display())))
}

/// A file name part from free text: lowercase letters and digits, the rest as `-`.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// A named line of points.
#[derive(Clone, Debug)]
pub struct Series {
    /// The legend's text.
    pub name: String,
    /// The points, in drawing order.
    pub points: Vec<(f64, f64)>,
}

/// Series on log-log axes: data sizes, rank counts and times each span orders of
/// magnitude, and equal ratios then look equal wherever they sit on the chart.
#[derive(Clone, Debug)]
pub struct LineChart {
    title: String,
    x_label: String,
    y_label: String,
    series: Vec<Series>,
}

impl LineChart {
    /// An empty chart.
    pub fn new(title: &str, x_label: &str, y_label: &str) -> LineChart {
        LineChart {
            title: title.to_string(),
            x_label: x_label.to_string(),
            y_label: y_label.to_string(),
            series: Vec::new(),
        }
    }

    /// Adds a series; points with a non-positive coordinate cannot sit on a log axis and
    /// are left out.
    pub fn series(mut self, name: &str, points: Vec<(f64, f64)>) -> LineChart {
        let points = points
            .into_iter()
            .filter(|&(x, y)| x > 0.0 && y > 0.0 && x.is_finite() && y.is_finite())
            .collect();
        self.series.push(Series {
            name: name.to_string(),
            points,
        });
        self
    }

    /// The chart as an SVG document.
    pub fn render(&self) -> io::Result<String> {
        self.render_with(&|x| fmt_axis(x))
    }

    /// The chart as an SVG document, with x-axis labels made by `x_label`.
    fn render_with(&self, x_label: &dyn Fn(f64) -> String) -> io::Result<String> {
        let all = || self.series.iter().flat_map(|s| s.points.iter().copied());
        let bounds = |f: fn((f64, f64)) -> f64| {
            all()
                .map(f)
                .fold((f64::INFINITY, 0f64), |(lo, hi), v| (lo.min(v), hi.max(v)))
        };
        let (x0, x1) = padded(bounds(|p| p.0));
        let (y0, y1) = padded(bounds(|p| p.1));
        // Room above the data for the legend in the upper left: a share of the height
        // that grows with the number of series.
        let share = (0.05 + 0.055 * self.series.len() as f64).min(0.5);
        let y1 = y1 * ((y1 / y0).ln() * share / (1.0 - share)).exp();
        // Sizes and rank counts are powers of two: tick them so, not at 1-2-5 steps.
        let pow2 = all().all(|(x, _)| x.fract() == 0.0 && (x as u64).is_power_of_two());
        let x_ticks = log_ticks(x0, x1, pow2);
        let y_ticks = log_ticks(y0, y1, false);
        let mut svg = String::new();
        {
            let what = &self.title;
            let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
            root.fill(&WHITE).map_err(drawing(what))?;
            let mut chart = ChartBuilder::on(&root)
                .caption(&self.title, ("sans-serif", 20))
                .margin(12)
                .x_label_area_size(45)
                .y_label_area_size(70)
                .build_cartesian_2d(
                    (x0..x1).log_scale().with_key_points(x_ticks),
                    (y0..y1).log_scale().with_key_points(y_ticks),
                )
                .map_err(drawing(what))?;
            chart
                .configure_mesh()
                .x_desc(&self.x_label)
                .y_desc(&self.y_label)
                .x_label_formatter(&|x| x_label(*x))
                .y_label_formatter(&|y| fmt_axis(*y))
                .draw()
                .map_err(drawing(what))?;
            for (i, s) in self.series.iter().enumerate() {
                let c = colour(i);
                chart
                    .draw_series(LineSeries::new(s.points.clone(), c.stroke_width(2)))
                    .map_err(drawing(what))?
                    .label(s.name.as_str())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2))
                    });
                chart
                    .draw_series(s.points.iter().map(|&p| Circle::new(p, 3, c.filled())))
                    .map_err(drawing(what))?;
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()
                .map_err(drawing(what))?;
            root.present().map_err(drawing(what))?;
        }
        Ok(svg)
    }

    /// Renders the chart into `path`.
    pub fn save(&self, path: &Path) -> io::Result<()> {
        save_svg(path, &self.render()?)
    }
}

/// A log axis's range around `(lo, hi)`, a little wider so no point sits on the frame.
fn padded((lo, hi): (f64, f64)) -> (f64, f64) {
    if !lo.is_finite() || hi <= 0.0 {
        return (1.0, 10.0); // no points: an empty but valid axis
    }
    let (lo, hi) = if lo == hi {
        (lo / 2.0, hi * 2.0)
    } else {
        (lo, hi)
    };
    (lo / 1.25, hi * 1.25)
}

/// Where a log axis over `lo..hi` gets its ticks: every power of two (`pow2`) or 1-2-5
/// steps, thinned to about ten at most (decades first, then every other one).
fn log_ticks(lo: f64, hi: f64, pow2: bool) -> Vec<f64> {
    let mut ticks = Vec::new();
    if pow2 {
        let mut v = 2f64.powi(lo.log2().floor() as i32);
        while v <= hi {
            if v >= lo {
                ticks.push(v);
            }
            v *= 2.0;
        }
    } else {
        let mut decade = 10f64.powi(lo.log10().floor() as i32);
        while decade <= hi {
            for step in [1.0, 2.0, 5.0] {
                let v = decade * step;
                if (lo..=hi).contains(&v) {
                    ticks.push(v);
                }
            }
            decade *= 10.0;
        }
        if ticks.len() > 10 {
            let decades = |v: &f64| v.log10().fract().abs() < 1e-9;
            ticks.retain(decades);
        }
    }
    while ticks.len() > 10 {
        ticks = ticks.into_iter().step_by(2).collect();
    }
    ticks
}

/// An axis label: whole numbers, binary sizes for large powers of two, else 3 digits.
fn fmt_axis(v: f64) -> String {
    let units = [(1u64 << 30, "Gi"), (1 << 20, "Mi"), (1 << 10, "Ki")];
    for (unit, name) in units {
        let n = v / unit as f64;
        if n >= 1.0 && n.fract() == 0.0 && v.fract() == 0.0 && (v as u64).is_power_of_two() {
            return format!("{n}{name}");
        }
    }
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return format!("{}", v as i64);
    }
    fmt_num(v)
}

/// The percentile that `1 / (1 - q)` stands for, as the latency chart's x labels.
fn percentile_label(x: f64) -> String {
    let pct = 100.0 * (1.0 - 1.0 / x);
    if pct < 0.0001 {
        return "0%".into();
    }
    let text = format!("{pct:.4}");
    format!("{}%", text.trim_end_matches('0').trim_end_matches('.'))
}

/// Latency distributions, one series per contender, in microseconds against the
/// percentile. The x axis is `1 / (1 - percentile)` on a log scale, as HdrHistogram's
/// plotter draws it, so that 90%, 99% and 99.9% are evenly spaced and the tail shows.
pub fn latency_chart(title: &str, dists: &[(&str, &Latencies)]) -> io::Result<String> {
    let mut chart = LineChart::new(title, "percentile", "latency (us)");
    for (name, lat) in dists {
        let points = lat
            .percentiles(5)
            .into_iter()
            .filter(|p| p.quantile < 1.0)
            .map(|p| (1.0 / (1.0 - p.quantile), p.value as f64))
            .collect();
        chart = chart.series(name, points);
    }
    chart.render_with(&percentile_label)
}

/// One bar of a [`bar_chart`].
#[derive(Clone, Debug)]
pub struct Bar {
    /// The label beside the bar.
    pub label: String,
    /// Its length.
    pub value: f64,
    /// Drawn grey, as what the others are measured against.
    pub baseline: bool,
}

/// Horizontal bars, top to bottom in the order given, each with its value at its end;
/// a dashed line marks `mark` on the value axis when given (1.0 on a chart of ratios).
pub fn bar_chart(title: &str, metric: &str, bars: &[Bar], mark: Option<f64>) -> io::Result<String> {
    let n = bars.len().max(1) as i32;
    let top = bars
        .iter()
        .map(|b| b.value)
        .chain(mark)
        .filter(|v| v.is_finite())
        .fold(0f64, f64::max);
    let x1 = if top > 0.0 { top * 1.2 } else { 1.0 };
    let longest = bars.iter().map(|b| b.label.len()).max().unwrap_or(0) as u32;
    let height = SIZE.1.max(90 + 28 * n as u32);
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (SIZE.0 + 6 * longest, height)).into_drawing_area();
        root.fill(&WHITE).map_err(drawing(title))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(20 + 7 * longest)
            .build_cartesian_2d(0f64..x1, (0..n - 1).into_segmented())
            .map_err(drawing(title))?;
        // Rows 0..=n-1 (a segmented range includes its end); bar i is drawn at row
        // n - 1 - i, so that the first bar is on top.
        let label_of = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(row) => bars
                .get((n - 1 - row) as usize)
                .map_or(String::new(), |b| b.label.clone()),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(WHITE)
            .x_desc(metric)
            .y_labels(bars.len())
            .y_label_formatter(&label_of)
            .x_label_formatter(&|x| fmt_num(*x))
            .draw()
            .map_err(drawing(title))?;
        chart
            .draw_series(bars.iter().enumerate().map(|(i, b)| {
                let row = n - 1 - i as i32;
                let fill = if b.baseline { BASELINE } else { colour(0) };
                let mut bar = Rectangle::new(
                    [
                        (0.0, SegmentValue::Exact(row)),
                        (b.value.max(0.0), SegmentValue::Exact(row + 1)),
                    ],
                    fill.filled(),
                );
                bar.set_margin(4, 4, 0, 0);
                bar
            }))
            .map_err(drawing(title))?;
        chart
            .draw_series(bars.iter().enumerate().map(|(i, b)| {
                let x = b.value.max(0.0) + x1 * 0.005;
                let at = (x, SegmentValue::CenterOf(n - 1 - i as i32));
                Text::new(fmt_num(b.value), at, ("sans-serif", 13))
            }))
            .map_err(drawing(title))?;
        if let Some(m) = mark {
            let line = [(m, SegmentValue::Exact(0)), (m, SegmentValue::Last)];
            chart
                .draw_series(DashedLineSeries::new(line, 6, 4, BLACK.stroke_width(1)))
                .map_err(drawing(title))?;
        }
        root.present().map_err(drawing(title))?;
    }
    Ok(svg)
}

impl Report {
    /// Prints the report, then, when `charts` names a folder, draws it there
    /// ([`Report::save_charts`]) and lists the files under the report (for the links in
    /// RESULTS.md). What every bench that prints a table calls.
    pub fn publish(&self, charts: Option<&Path>, stem: Option<&str>) -> io::Result<()> {
        self.print();
        if let Some(dir) = charts {
            for path in self.save_charts(dir, stem)? {
                println!("- chart: {}", path.display());
            }
        }
        Ok(())
    }

    /// Draws this report's results into `dir` as SVG and returns the files written:
    /// `STEM-METRIC.svg` per metric (a bar per row, baselines grey) and, when rows are
    /// measured against baselines, `STEM-vs-baseline.svg` (each such ratio as a bar,
    /// with parity marked). `stem` defaults to the title's [`slug`].
    pub fn save_charts(&self, dir: &Path, stem: Option<&str>) -> io::Result<Vec<PathBuf>> {
        let stem = stem.map_or_else(|| slug(self.title()), str::to_string);
        let mut written = Vec::new();
        let baselines: Vec<&str> = self.rows().filter_map(|r| r.baseline).collect();
        let mut metrics: Vec<&str> = Vec::new();
        for r in self.rows() {
            if !metrics.contains(&r.metric) {
                metrics.push(r.metric);
            }
        }
        for metric in metrics {
            let bars: Vec<Bar> = self
                .rows()
                .filter(|r| r.metric == metric)
                .map(|r| Bar {
                    label: r.name.to_string(),
                    value: r.value,
                    baseline: baselines.contains(&r.name),
                })
                .collect();
            let path = dir.join(format!("{stem}-{}.svg", slug(metric)));
            save_svg(&path, &bar_chart(self.title(), metric, &bars, None)?)?;
            written.push(path);
        }
        let ratios: Vec<Bar> = self
            .ratio_values()
            .into_iter()
            .map(|(label, value)| Bar {
                label,
                value,
                baseline: false,
            })
            .collect();
        if !ratios.is_empty() {
            let path = dir.join(format!("{stem}-vs-baseline.svg"));
            let title = format!("{}: ratio to baseline", self.title());
            let svg = bar_chart(&title, "x baseline (1 = parity)", &ratios, Some(1.0))?;
            save_svg(&path, &svg)?;
            written.push(path);
        }
        Ok(written)
    }
}

/// A [`Latencies`] in HdrHistogram's percentile-distribution format, the text that
/// `outputPercentileDistribution` writes and HdrHistogram's plotter reads: a line per
/// percentile step (5 per halving of the distance to 100%) with the value, the
/// percentile, the count up to it and `1/(1-percentile)`, then the mean, deviation,
/// maximum, count and the histogram's shape. Values are recorded in microseconds and
/// written in milliseconds (a scaling ratio of 1000), the unit the plotter expects.
pub fn hgrm_text(lat: &Latencies) -> String {
    const SCALE: f64 = 1000.0;
    let mut s = String::new();
    // Writing to a String cannot fail; the results are ignored for that reason.
    let _ = writeln!(
        s,
        "{:>12} {:>14} {:>10} {:>14}\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    );
    let mut total = 0u64;
    for p in lat.percentiles(5) {
        total += p.count_since_last;
        let value = p.value as f64 / SCALE;
        if p.quantile < 1.0 {
            let inverse = 1.0 / (1.0 - p.quantile);
            let _ = writeln!(
                s,
                "{value:12.3} {:1.12} {total:10} {inverse:14.2}",
                p.quantile
            );
        } else {
            let _ = writeln!(s, "{value:12.3} {:1.12} {total:10}", p.quantile);
        }
    }
    let shape = lat.shape();
    let _ = writeln!(
        s,
        "#[Mean    = {:12.3}, StdDeviation   = {:12.3}]",
        shape.mean / SCALE,
        shape.stdev / SCALE
    );
    let _ = writeln!(
        s,
        "#[Max     = {:12.3}, Total count    = {:12}]",
        shape.max as f64 / SCALE,
        shape.count
    );
    let _ = writeln!(
        s,
        "#[Buckets = {:12}, SubBuckets     = {:12}]",
        shape.buckets, shape.sub_buckets
    );
    s
}

/// Writes [`hgrm_text`] of `lat` to `path`.
pub fn save_hgrm(path: &Path, lat: &Latencies) -> io::Result<()> {
    save_svg(path, &hgrm_text(lat))
}

/// One line of a `.hgrm` file: the value (in the file's unit), the percentile as a
/// fraction, and how many values were at most that value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HgrmLine {
    /// The value at this percentile.
    pub value: f64,
    /// The percentile, 0 to 1.
    pub quantile: f64,
    /// Values recorded up to this one.
    pub total_count: u64,
}

/// Reads the percentile lines and the total count of a `.hgrm` text (for checks and
/// comparisons); the header and the other footer lines are skipped.
pub fn parse_hgrm(text: &str) -> Result<(Vec<HgrmLine>, u64), String> {
    let mut lines = Vec::new();
    let mut count = None;
    for (i, line) in text.lines().enumerate() {
        let bad = |what: &str| format!("line {}: {what}: {line:?}", i + 1);
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("#[Max") {
            let total = rest
                .split("Total count    =")
                .nth(1)
                .map(|t| t.trim().trim_end_matches(']').trim());
            count = Some(
                total
                    .and_then(|t| t.parse().ok())
                    .ok_or_else(|| bad("no total count"))?,
            );
            continue;
        }
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("Value") {
            continue;
        }
        let fields: Vec<&str> = trimmed.split_whitespace().collect();
        if !(3..=4).contains(&fields.len()) {
            return Err(bad("expected 3 or 4 fields"));
        }
        lines.push(HgrmLine {
            value: fields[0].parse().map_err(|_| bad("bad value"))?,
            quantile: fields[1].parse().map_err(|_| bad("bad percentile"))?,
            total_count: fields[2].parse().map_err(|_| bad("bad count"))?,
        });
    }
    Ok((lines, count.ok_or("no `#[Max ... Total count` line")?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::Stat;

    fn sample() -> Latencies {
        let mut lat = Latencies::new();
        for i in 1..=10_000u64 {
            lat.record_micros(20 + i % 50 + if i % 1000 == 0 { 5000 } else { 0 });
        }
        lat
    }

    #[test]
    fn hgrm_parses_back_monotone_with_every_value_counted() {
        let lat = sample();
        let text = hgrm_text(&lat);
        assert!(text.starts_with("       Value     Percentile TotalCount 1/(1-Percentile)\n\n"));
        let (lines, count) = parse_hgrm(&text).unwrap();
        assert_eq!(count, 10_000);
        assert!(lines.len() > 10, "{text}");
        for w in lines.windows(2) {
            assert!(w[0].value <= w[1].value, "{w:?}");
            assert!(w[0].quantile <= w[1].quantile, "{w:?}");
            assert!(w[0].total_count <= w[1].total_count, "{w:?}");
        }
        let last = lines.last().unwrap();
        assert_eq!((last.quantile, last.total_count), (1.0, 10_000));
        // Microseconds in, milliseconds out: the maximum is 5020 us.
        assert!((last.value - 5.02).abs() < 0.01, "{last:?}");
        assert!(text.contains("SubBuckets     =         2048]"), "{text}");
    }

    /// Whether `svg` has a text element saying exactly `text` (plotters writes the text
    /// on a line of its own).
    fn has_text(svg: &str, text: &str) -> bool {
        svg.contains(&format!(">\n{text}\n</text>"))
    }

    #[test]
    fn charts_are_svg_with_their_series() {
        let svg = LineChart::new("t", "bytes", "ms")
            .series("eau2", vec![(1024.0, 1.0), (1048576.0, 30.0)])
            .series("Open MPI", vec![(1024.0, 0.8), (1048576.0, 20.0)])
            .render()
            .unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..80]);
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(has_text(&svg, "eau2") && has_text(&svg, "Open MPI"));
        assert!(svg.contains("<polyline"), "the lines are drawn");

        let lat = sample();
        let svg = latency_chart("kv", &[("kv get", &lat), ("raw TCP", &lat)]).unwrap();
        assert!(svg.starts_with("<svg") && has_text(&svg, "kv get") && has_text(&svg, "99.9%"));
    }

    #[test]
    fn a_report_draws_its_rows_and_ratios() {
        let mut r = Report::new("Parse: eau2 vs memchr");
        r.add("memchr", "MB/s", Stat::single(4000.0));
        r.add_vs("eau2", "MB/s", Stat::single(1000.0), "memchr");
        r.add("eau2", "s", Stat::single(0.1));
        r.add("memchr", "s", Stat::single(0.02));
        let dir = std::env::temp_dir().join(format!("eau2-chart-test-{}", std::process::id()));
        let files = r.save_charts(&dir, None).unwrap();
        let names: Vec<String> = files
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "parse-eau2-vs-memchr-mb-s.svg",
                "parse-eau2-vs-memchr-s.svg",
                "parse-eau2-vs-memchr-vs-baseline.svg"
            ]
        );
        let bars = std::fs::read_to_string(&files[0]).unwrap();
        assert!(bars.starts_with("<svg") && has_text(&bars, "memchr") && has_text(&bars, "1000"));
        let ratios = std::fs::read_to_string(&files[2]).unwrap();
        assert!(has_text(&ratios, "0.250"), "{ratios}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn labels() {
        assert_eq!(
            slug("KV get latency, 64-byte values"),
            "kv-get-latency-64-byte-values"
        );
        assert_eq!(fmt_axis(65536.0), "64Ki");
        assert_eq!(fmt_axis(3.0), "3");
        assert_eq!(fmt_axis(0.05), "0.050");
        assert_eq!(percentile_label(10.0), "90%");
        assert_eq!(percentile_label(1000.0), "99.9%");
        assert_eq!(percentile_label(1.0), "0%");
        assert_eq!(log_ticks(1.1, 5.4, false), [2.0, 5.0]);
        assert_eq!(log_ticks(50e3, 1.3e6, true).len(), 5, "64Ki to 1Mi");
        assert_eq!(
            log_ticks(1.0, 1e5, false),
            [1.0, 10.0, 100.0, 1e3, 1e4, 1e5]
        );
    }
}
