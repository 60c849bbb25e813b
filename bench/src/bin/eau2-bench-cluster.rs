//! Benchmarks of the cluster runtime, run through eau2-launch:
//!
//! - `latency`: `get` of a small value homed at rank 1, from rank 0, against a raw TCP
//!   ping-pong of the same sizes between the same two processes, in the same run, in
//!   alternating phases that each start with unmeasured warm-up operations;
//! - `throughput`: `get` of 1-64 MiB values against a raw TCP stream of the same sizes;
//! - `pipelined`: every rank's threads issue gets to the other ranks at once;
//! - `collectives`: all-reduce (OR of u64 words), broadcast, all-to-all, all-gather and
//!   gather at several sizes, each through the byte path (`broadcast_bytes`,
//!   `all_reduce_slice`, ...) and through the typed call a newcomer writes on a
//!   `Vec<u64>` (`broadcast`, `all_reduce` with a closure, ...; named `OP_typed`),
//!   against Open MPI's results for the same operations from `bench/mpi`
//!   (`bench/collectives.sh` runs both in one go).
//!
//! Rank 0 prints a Markdown report. With `--charts DIR` it also draws it there as SVG
//! (`eau2_bench::chart`): every report's bars and ratios to its baseline, the latency
//! distributions (with their `.hgrm` files) and the transfer rate against value size.
//! Example:
//! `target/release/eau2-launch -n 2 target/release/eau2-bench-cluster latency`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use eau2::kv::{Key, Kv};
use eau2::{Bytes, Error, Node, Result};
use eau2_bench::chart::{self, LineChart};
use eau2_bench::measure::{time_once, Latencies, Stat, Timing};
use eau2_bench::report::{human_bytes, read_timings, CollectiveTime, Report};

/// Benchmarks of the cluster runtime (run under eau2-launch with at least 2 ranks).
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    #[command(subcommand)]
    bench: Bench,
    /// Also draw the results as SVG charts in this folder (rank 0), e.g. bench/charts.
    #[arg(long, global = true)]
    charts: Option<std::path::PathBuf>,
}

#[derive(Subcommand, Debug)]
enum Bench {
    /// KV get and message ping-pong latency of small values vs a raw TCP ping-pong and,
    /// with `--baseline`, Open MPI's (ranks 0 and 1).
    Latency {
        /// Value size in bytes.
        #[arg(long, default_value_t = 64)]
        size: usize,
        /// Phases of each kind, alternating raw and kv.
        #[arg(long, default_value_t = 10)]
        phases: usize,
        /// Measured operations per phase.
        #[arg(long, default_value_t = 2_000)]
        ops: usize,
        /// Unmeasured operations that open each phase. On a VM the cost of a wake-up
        /// depends on what ran just before (which vCPUs are awake, where the scheduler
        /// has put the threads), so each kind is measured in its own steady state.
        #[arg(long, default_value_t = 1_000)]
        warmup: usize,
        /// The `pingpong SIZE p50_us p99_us` line of `bench/mpi/pingpong.c` run just
        /// before: adds Open MPI's ping-pong and the ratios against it.
        #[arg(long)]
        baseline: Option<std::path::PathBuf>,
    },
    /// Bulk transfer rate of large values vs a raw TCP stream (ranks 0 and 1).
    Throughput {
        /// Value sizes in MiB.
        #[arg(long, value_delimiter = ',', default_values_t = [1, 4, 16, 64])]
        mib: Vec<usize>,
        /// Timed transfers per size and kind; the median is reported.
        #[arg(long, default_value_t = 11)]
        runs: usize,
    },
    /// All-reduce, broadcast and all-to-all times, optionally against Open MPI's.
    Collectives {
        /// Sizes in bytes (each rank's vector; the total each rank sends in all-to-all).
        #[arg(long, value_delimiter = ',', default_values_t = [64 << 10, 1 << 20, 16 << 20])]
        sizes: Vec<usize>,
        /// Measured calls per operation and size; the median is reported.
        #[arg(long, default_value_t = 21)]
        runs: usize,
        /// Unmeasured calls before them.
        #[arg(long, default_value_t = 3)]
        warmup: usize,
        /// Lines `op bytes ranks median_ms` from `bench/mpi/collectives.c` for the same
        /// job size: print a table with the ratio eau2 / Open MPI.
        #[arg(long)]
        baseline: Option<std::path::PathBuf>,
        /// The operations to measure (see `COLLECTIVES`), e.g. one alone under a
        /// profiler.
        #[arg(long, value_delimiter = ',', default_values_t = COLLECTIVES.map(String::from))]
        ops: Vec<String>,
    },
    /// Gets per second with many requests in flight from every rank.
    Pipelined {
        /// Requesting threads per rank.
        #[arg(long, default_value_t = 16)]
        threads: usize,
        /// Gets per thread.
        #[arg(long, default_value_t = 5_000)]
        ops: usize,
        /// Value size in bytes.
        #[arg(long, default_value_t = 64)]
        size: usize,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    let charts = Charts(args.charts.clone());
    let charts = &charts;
    eau2::run(|node| {
        if node.size() < 2 {
            return Err(Error::Config(
                "run under eau2-launch with -n 2 or more".into(),
            ));
        }
        match args.bench {
            Bench::Latency {
                size,
                phases,
                ops,
                warmup,
                ref baseline,
            } => latency(
                node,
                size,
                (phases, ops, warmup),
                baseline.as_deref(),
                charts,
            ),
            Bench::Throughput { ref mib, runs } => throughput(node, mib, runs, charts),
            Bench::Pipelined { threads, ops, size } => pipelined(node, threads, ops, size, charts),
            Bench::Collectives {
                ref sizes,
                runs,
                warmup,
                ref baseline,
                ref ops,
            } => collectives(
                node,
                (sizes, ops),
                runs,
                warmup,
                baseline.as_deref(),
                charts,
            ),
        }
    })
}

/// Where charts go, if anywhere (`--charts`).
struct Charts(Option<std::path::PathBuf>);

impl Charts {
    /// Prints `report`, and draws it when charts were asked for; `stem` names the files.
    fn report(&self, report: &Report, stem: &str) -> Result<()> {
        report
            .publish(self.0.as_deref(), Some(stem))
            .map_err(|e| Error::io("drawing the report's charts", e))
    }

    /// Writes `svg` (from `draw`) as `DIR/NAME` when charts were asked for.
    fn svg(&self, name: &str, draw: impl FnOnce() -> std::io::Result<String>) -> Result<()> {
        let Some(dir) = &self.0 else { return Ok(()) };
        let path = dir.join(name);
        draw()
            .and_then(|svg| chart::save_svg(&path, &svg))
            .map_err(|e| Error::io(format!("drawing {}", path.display()), e))?;
        print_written(&[path]);
        Ok(())
    }

    /// Writes `lat` as `DIR/NAME` in HdrHistogram's text format, when charts were asked for.
    fn hgrm(&self, name: &str, lat: &Latencies) -> Result<()> {
        let Some(dir) = &self.0 else { return Ok(()) };
        let path = dir.join(name);
        chart::save_hgrm(&path, lat).map_err(|e| Error::io_path("writing", &path, e))?;
        print_written(&[path]);
        Ok(())
    }
}

/// Lists files written, under the report, for RESULTS.md's links.
fn print_written(files: &[std::path::PathBuf]) {
    for f in files {
        println!("- chart: {}", f.display());
    }
}

fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    format!(
        "eau2-launch -n {} eau2-bench-cluster {}",
        std::env::var("EAU2_SIZE").unwrap_or_else(|_| "?".into()),
        args.join(" ")
    )
}

/// The raw TCP baseline's server, on rank 1: answers each 8-byte request `n` with `n`
/// bytes. Its address is published in the store for rank 0.
fn serve_raw(node: &Node) -> Result<std::thread::JoinHandle<()>> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| Error::io("binding the raw server", e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::io("reading the raw server's address", e))?;
    node.comm()
        .kv()
        .put(&Key::new("bench/raw-addr", 1), addr.to_string())?;
    Ok(std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        let _ = stream.set_nodelay(true);
        let mut reply = Vec::new();
        let mut request = [0u8; 8];
        while stream.read_exact(&mut request).is_ok() {
            let n = u64::from_le_bytes(request) as usize;
            if stream.write_all(page_aligned(&mut reply, n)).is_err() {
                return;
            }
        }
    }))
}

/// Rank 0's side of the raw baseline.
struct RawClient {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl RawClient {
    fn connect(node: &Node) -> Result<RawClient> {
        let addr = node
            .comm()
            .kv()
            .wait_and_get(&Key::new("bench/raw-addr", 1))?;
        let addr = String::from_utf8_lossy(&addr).into_owned();
        let stream =
            TcpStream::connect(&addr).map_err(|e| Error::io(format!("connecting to {addr}"), e))?;
        stream
            .set_nodelay(true)
            .map_err(|e| Error::io("setting TCP_NODELAY", e))?;
        Ok(RawClient {
            stream,
            buf: Vec::new(),
        })
    }

    /// Fetches `n` bytes into a buffer reused across calls: the floor of any transfer.
    fn fetch(&mut self, n: usize) -> Result<()> {
        let window = page_aligned(&mut self.buf, n);
        self.stream
            .write_all(&(n as u64).to_le_bytes())
            .and_then(|_| self.stream.read_exact(window))
            .map_err(|e| Error::io("raw ping-pong", e))
    }

    /// Fetches `n` bytes into a fresh allocation, as a receiver of a new value must when it
    /// has no buffer to reuse.
    fn fetch_fresh(&mut self, n: usize) -> Result<Vec<u8>> {
        let mut buf = Vec::new();
        let window = page_aligned(&mut buf, n);
        self.stream
            .write_all(&(n as u64).to_le_bytes())
            .and_then(|_| self.stream.read_exact(window))
            .map_err(|e| Error::io("raw transfer", e))?;
        Ok(buf)
    }
}

/// `n` bytes of `buf` starting at a page boundary, reallocating `buf` when it is too
/// small. Copies to or from memory 16 bytes into a page, where the allocator puts large
/// blocks, ran at about half the speed on the development machine; kv bodies are received
/// page-aligned, and the raw baseline sends and receives page-aligned, so that it is the
/// fastest raw transfer we know how to write.
fn page_aligned(buf: &mut Vec<u8>, n: usize) -> &mut [u8] {
    const PAGE: usize = 4096;
    if buf.len() < n + PAGE - 1 {
        *buf = vec![0; n + PAGE - 1];
    }
    let start = (PAGE - buf.as_ptr() as usize % PAGE) % PAGE;
    &mut buf[start..start + n]
}

/// Runs a rank-1-serves, rank-0-measures benchmark: rank 1 stores its values with
/// `store` and starts the raw baseline's server; rank 0, with its cache off so that every
/// get crosses the network, runs `measure` with a client of that server, while rank 1
/// runs `serve_while` (which must return once rank 0 is done). Other ranks only take part
/// in the barriers.
fn serve_and_measure(
    node: &Node,
    store: impl FnOnce() -> Result<()>,
    serve_while: impl FnOnce() -> Result<()>,
    measure: impl FnOnce(&mut RawClient) -> Result<()>,
) -> Result<()> {
    let server = if node.rank() == 1 {
        store()?;
        Some(serve_raw(node)?)
    } else {
        None
    };
    node.comm().barrier()?;
    if node.rank() == 0 {
        node.comm().kv().set_cache_budget(0);
        measure(&mut RawClient::connect(node)?)?;
    } else if node.rank() == 1 {
        serve_while()?;
    }
    node.comm().barrier()?;
    drop(server); // the raw server thread ends when rank 0's connection closes
    Ok(())
}

/// The tag of the message ping-pong in [`latency`]; an empty request ends it.
const PING_TAG: u64 = 7;

fn latency(
    node: &Node,
    size: usize,
    (phases, ops, warmup): (usize, usize, usize),
    baseline: Option<&std::path::Path>,
    charts: &Charts,
) -> Result<()> {
    let key = Key::new("bench/small", 1);
    let store = || Ok(node.comm().kv().put(&key, vec![7u8; size])?);
    // Rank 1 answers each 8-byte message with `size` bytes, as it answers a get.
    let echo = || loop {
        if node.comm().recv(0, PING_TAG)?.is_empty() {
            return Ok(());
        }
        node.comm()
            .send(0, PING_TAG, Bytes::from(vec![7u8; size]))?;
    };
    let mpi = match baseline {
        Some(path) if node.rank() == 0 => read_pingpong_baseline(path, size)?,
        _ => None,
    };
    serve_and_measure(node, store, echo, |raw| {
        let kv = node.comm().kv();
        let kv_get = || get_expecting(kv, &key, size);
        let ping = || {
            node.comm().send(1, PING_TAG, Bytes::from_static(&[1; 8]))?;
            match node.comm().recv(1, PING_TAG)?.len() {
                n if n == size => Ok(()),
                n => Err(Error::App(format!(
                    "ping-pong reply of {n} bytes, not {size}"
                ))),
            }
        };
        let mut raw_phases = PhasedLatencies::default();
        let mut kv_phases = PhasedLatencies::default();
        let mut msg_phases = PhasedLatencies::default();
        for _ in 0..phases {
            raw_phases.phase(warmup, ops, || raw.fetch(size))?;
            kv_phases.phase(warmup, ops, kv_get)?;
            msg_phases.phase(warmup, ops, ping)?;
        }
        node.comm().send(1, PING_TAG, Bytes::new())?;
        let mut report = Report::new(format!(
            "KV get latency, {size}-byte values, rank 0 -> rank 1"
        ));
        report.command(command_line());
        let series = [
            ("raw TCP ping-pong", &raw_phases),
            ("kv get", &kv_phases),
            ("message ping-pong", &msg_phases),
        ];
        for (name, p) in series {
            let s = p.all.summary();
            report.add(name, "p50 us", p.p50_spread());
            report.add(name, "p99 us", Stat::single(s.p99 as f64));
            report.add(name, "p99.9 us", Stat::single(s.p999 as f64));
        }
        if let Some((p50, p99)) = mpi {
            let name = "Open MPI ping-pong (TCP)";
            report.add(name, "p50 us", Stat::single(p50));
            report.add(name, "p99 us", Stat::single(p99));
        }
        for pct in ["p50", "p99"] {
            for (what, base) in [
                ("raw", "raw TCP ping-pong"),
                ("Open MPI", "Open MPI ping-pong (TCP)"),
            ] {
                if base.starts_with("Open MPI") && mpi.is_none() {
                    continue;
                }
                for ours in ["kv get", "message ping-pong"] {
                    report.ratio(
                        &format!("{ours} {pct} / {what} {pct}"),
                        ours,
                        base,
                        &format!("{pct} us"),
                    );
                }
            }
        }
        report.note(format!(
            "{phases} phases of each kind, alternating; each phase runs {warmup} unmeasured \
             operations, then {ops} measured ones. p50: over all measured operations, with \
             the lowest and highest phase's p50 as min and max. Open MPI: bench/mpi/pingpong.c \
             with the same phases, run just before (bench/latency.sh)"
        ));
        let stem = format!("kv-latency-{size}B");
        charts.report(&report, &stem)?;
        charts.svg(&format!("{stem}-distribution.svg"), || {
            chart::latency_chart(
                &format!("KV get and message ping-pong vs raw TCP ping-pong, {size}-byte values"),
                &[
                    ("kv get", &kv_phases.all),
                    ("message ping-pong", &msg_phases.all),
                    ("raw TCP ping-pong", &raw_phases.all),
                ],
            )
        })?;
        charts.hgrm(&format!("{stem}-kv-get.hgrm"), &kv_phases.all)?;
        charts.hgrm(&format!("{stem}-message.hgrm"), &msg_phases.all)?;
        charts.hgrm(&format!("{stem}-raw-tcp.hgrm"), &raw_phases.all)?;
        Ok(())
    })
}

/// Reads the `pingpong SIZE p50_us p99_us` line for `size` from `bench/mpi/pingpong.c`'s
/// output.
fn read_pingpong_baseline(path: &std::path::Path, size: usize) -> Result<Option<(f64, f64)>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io_path("reading", path, e))?;
    Ok(text.lines().find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        match f[..] {
            ["pingpong", s, p50, p99] if s.parse() == Ok(size) => {
                Some((p50.parse().ok()?, p99.parse().ok()?))
            }
            _ => None,
        }
    }))
}

/// Gets `key` and checks that its value has `len` bytes.
fn get_expecting(kv: &Kv, key: &Key, len: usize) -> Result<()> {
    match kv.get(key)? {
        Some(v) if v.len() == len => Ok(()),
        _ => Err(Error::App(format!(
            "the benchmark value {key} went missing"
        ))),
    }
}

/// Latencies measured in phases: all of them together, and each phase's median.
#[derive(Default)]
struct PhasedLatencies {
    all: Latencies,
    phase_p50s: Vec<f64>,
}

impl PhasedLatencies {
    /// Runs `op` `warmup` times unmeasured, then `ops` times measured.
    fn phase(
        &mut self,
        warmup: usize,
        ops: usize,
        mut op: impl FnMut() -> Result<()>,
    ) -> Result<()> {
        for _ in 0..warmup {
            op()?;
        }
        let mut phase = Latencies::new();
        for _ in 0..ops {
            phase.time(&mut op)?;
        }
        self.phase_p50s.push(phase.summary().p50 as f64);
        self.all.merge(&phase);
        Ok(())
    }

    fn p50_spread(&self) -> Stat {
        let fold = |f: fn(f64, f64) -> f64, init| self.phase_p50s.iter().copied().fold(init, f);
        Stat {
            value: self.all.summary().p50 as f64,
            min: fold(f64::min, f64::INFINITY),
            max: fold(f64::max, 0.0),
        }
    }
}

fn throughput(node: &Node, sizes: &[usize], runs: usize, charts: &Charts) -> Result<()> {
    let key = |mib: usize| Key::new(format!("bench/big/{mib}"), 1);
    let store = || {
        sizes
            .iter()
            .try_for_each(|&mib| node.comm().kv().put(&key(mib), vec![3u8; mib << 20]))
            .map_err(Into::into)
    };
    serve_and_measure(
        node,
        store,
        || Ok(()),
        |raw| {
            let kv = node.comm().kv();
            let mut report = Report::new("Large value transfer, rank 1 -> rank 0");
            report.command(command_line());
            for &mib in sizes {
                let len = mib << 20;
                // Every timed run moves at least 64 MiB, so that small values are timed over
                // many transfers rather than one (a single 1 MiB transfer takes about a
                // millisecond here, within the machine's jitter).
                let batch = (64 / mib).max(1);
                let bytes = (len * batch) as u64;
                let (mut raw_t, mut fresh_t, mut kv_t) = (Vec::new(), Vec::new(), Vec::new());
                let kv_get = || get_expecting(kv, &key(mib), len);
                // One unmeasured transfer of each kind first: it touches the memory that the
                // measured ones reuse (the raw buffer; the kv receive buffer it recycles).
                raw.fetch(len)?;
                raw.fetch_fresh(len)?;
                kv_get()?;
                let timed = |times: &mut Vec<Duration>, op: &mut dyn FnMut() -> Result<()>| {
                    let (result, took) = time_once(|| (0..batch).try_for_each(|_| op()));
                    times.push(took);
                    result
                };
                for _ in 0..runs {
                    timed(&mut fresh_t, &mut || raw.fetch_fresh(len).map(drop))?;
                    timed(&mut raw_t, &mut || raw.fetch(len))?;
                    timed(&mut kv_t, &mut || kv_get())?;
                }
                let gbps = |t: Vec<Duration>| {
                    let s = Timing::new(t).throughput(bytes);
                    Stat {
                        value: s.value / 1000.0,
                        min: s.min / 1000.0,
                        max: s.max / 1000.0,
                    }
                };
                let raw_name = format!("raw TCP {mib} MiB, reused buffer");
                let fresh_name = format!("raw TCP {mib} MiB, fresh buffer");
                let kv_name = format!("kv get {mib} MiB");
                report.add(&raw_name, "GB/s", gbps(raw_t));
                report.add_vs(&fresh_name, "GB/s", gbps(fresh_t), &raw_name);
                report.add_vs(&kv_name, "GB/s", gbps(kv_t), &raw_name);
                report.ratio(
                    &format!("kv / raw reused buffer, {mib} MiB"),
                    &kv_name,
                    &raw_name,
                    "GB/s",
                );
            }
            report.note(format!(
                "median of {runs} timed runs per size and kind, kinds interleaved, each run \
             moving max(1, 64 / MiB) values of that size, after one unmeasured transfer of \
             each kind; the fresh-buffer raw transfer receives into new memory \
             (page faults included) and frees it after, which is what a kv get costs when no \
             recycled receive buffer fits"
            ));
            charts.report(&report, "kv-throughput")?;
            charts.svg("kv-throughput-vs-size.svg", || {
                let series = |name: &dyn Fn(usize) -> String| {
                    sizes
                        .iter()
                        .filter_map(|&mib| {
                            Some(((mib << 20) as f64, report.value(&name(mib), "GB/s")?))
                        })
                        .collect()
                };
                LineChart::new(
                    "Large values, rank 1 -> rank 0",
                    "value size (bytes)",
                    "GB/s",
                )
                .series("kv get", series(&|mib| format!("kv get {mib} MiB")))
                .series(
                    "raw TCP, reused buffer",
                    series(&|mib| format!("raw TCP {mib} MiB, reused buffer")),
                )
                .series(
                    "raw TCP, fresh buffer",
                    series(&|mib| format!("raw TCP {mib} MiB, fresh buffer")),
                )
                .render()
            })?;
            Ok(())
        },
    )
}

fn pipelined(node: &Node, threads: usize, ops: usize, size: usize, charts: &Charts) -> Result<()> {
    let (rank, size_n) = (node.rank(), node.size());
    const KEYS: usize = 64;
    for i in 0..KEYS {
        node.comm().kv().put(
            &Key::new(format!("bench/p{i}"), rank),
            Bytes::from(vec![1u8; size]),
        )?;
    }
    node.comm().kv().set_cache_budget(0);
    node.comm().barrier()?;
    let started = Instant::now();
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || -> Result<()> {
                    for j in 0..ops {
                        // Any rank but this one, round robin.
                        let home = (rank + 1 + (t + j) % (size_n - 1)) % size_n;
                        node.comm()
                            .kv()
                            .get(&Key::new(format!("bench/p{}", (t * 31 + j) % KEYS), home))?;
                    }
                    Ok(())
                })
            })
            .collect();
        workers.into_iter().try_for_each(|w| {
            w.join()
                .map_err(|_| Error::App("a worker panicked".into()))?
        })
    })?;
    let elapsed = started.elapsed().as_secs_f64();
    let slowest = node.comm().all_reduce(elapsed, f64::max)?;
    node.comm().barrier()?;
    if rank == 0 {
        let total = (threads * ops * size_n) as f64;
        let mut report = Report::new(format!(
            "Pipelined gets, {size_n} ranks x {threads} threads, {size}-byte values"
        ));
        report.command(command_line());
        report.add(
            "gets per second (all ranks)",
            "ops/s",
            Stat::single(total / slowest),
        );
        report.add(
            "gets per second per rank",
            "ops/s",
            Stat::single(total / slowest / size_n as f64),
        );
        report.note(format!("{total} gets in {slowest:.3} s (slowest rank)"));
        charts.report(&report, &format!("kv-pipelined-{size_n}-ranks"))?;
    }
    Ok(())
}

/// The collectives measured, by the names both sides print: each byte path, then the
/// typed call on `Vec<u64>` values of the same size (Open MPI prints its one call under
/// both names), and for the all-reduce also the typed call with a closure over elements
/// (`all_reduce_elementwise`, against the same MPI_Allreduce).
const COLLECTIVES: [&str; 11] = [
    "all_reduce",
    "all_reduce_typed",
    "all_reduce_elementwise",
    "broadcast",
    "broadcast_typed",
    "all_to_all",
    "all_to_all_typed",
    "all_gather",
    "all_gather_typed",
    "gather",
    "gather_typed",
];

/// The buffers of one size's runs, made before any is timed (as the MPI program's are):
/// the vector all-reduced in place, the value broadcast, the parts sent in an
/// all-to-all (which the byte paths share without copying), and each rank's share of
/// an all-gather or gather (a part's size). The typed calls take and give back vectors:
/// each call's result is the next call's input, as in a loop of a user's program.
struct Buffers {
    words: Vec<u64>,
    value: Bytes,
    parts: Vec<Bytes>,
    typed_parts: Vec<Vec<u64>>,
    part_words: Vec<u64>,
}

impl Buffers {
    fn new(bytes: usize, n: usize) -> Buffers {
        let part = bytes / n;
        Buffers {
            words: vec![0x5a5a_5a5a_5a5a_5a5a; bytes / 8],
            value: Bytes::from(vec![0x5a; bytes]),
            parts: (0..n).map(|_| Bytes::from(vec![0x5a; part])).collect(),
            typed_parts: (0..n)
                .map(|_| vec![0x5a5a_5a5a_5a5a_5a5a; part / 8])
                .collect(),
            part_words: vec![0x5a5a_5a5a_5a5a_5a5a; part / 8],
        }
    }

    /// Makes the share a typed gather sent away again (untimed): a program gathers a
    /// new value each time.
    fn refill(&mut self, bytes: usize, n: usize) {
        if self.part_words.is_empty() {
            self.part_words = vec![0x5a5a_5a5a_5a5a_5a5a; bytes / n / 8];
        }
    }
}

/// Folds `other` into `acc` word by word with bitwise OR, as every all-reduce here does.
fn or_into(acc: &mut [u64], other: &[u64]) {
    acc.iter_mut().zip(other).for_each(|(a, b)| *a |= b)
}

/// Runs collective `op` once on `buffers`.
fn run_collective(node: &Node, op: &str, buffers: &mut Buffers) -> Result<()> {
    let root_value = |v: Vec<u64>| (node.rank() == 0).then_some(v);
    match op {
        "all_reduce" => node.comm().all_reduce_slice(&mut buffers.words, or_into)?,
        "all_reduce_typed" => {
            let words = std::mem::take(&mut buffers.words);
            buffers.words = node.comm().all_reduce(words, |mut acc, other| {
                or_into(&mut acc, &other);
                acc
            })?;
        }
        "all_reduce_elementwise" => {
            let words = std::mem::take(&mut buffers.words);
            buffers.words = node.comm().all_reduce_elementwise(words, |a, b| a | b)?;
        }
        "broadcast" => {
            node.comm().broadcast_bytes(0, buffers.value.clone())?;
        }
        "broadcast_typed" => {
            let words = std::mem::take(&mut buffers.words);
            buffers.words = node.comm().broadcast(0, root_value(words))?;
        }
        "all_to_all" => {
            node.comm().all_to_all_bytes(buffers.parts.clone())?;
        }
        "all_to_all_typed" => {
            let parts = std::mem::take(&mut buffers.typed_parts);
            buffers.typed_parts = node.comm().all_to_all(parts)?;
        }
        "all_gather" => {
            node.comm().all_gather_bytes(buffers.parts[0].clone())?;
        }
        "all_gather_typed" => {
            let mine = std::mem::take(&mut buffers.part_words);
            buffers.part_words = node.comm().all_gather(mine)?.swap_remove(node.rank());
        }
        "gather" => {
            node.comm().gather_bytes(0, buffers.parts[0].clone())?;
        }
        "gather_typed" => {
            let mine = std::mem::take(&mut buffers.part_words);
            if let Some(mut all) = node.comm().gather(0, mine)? {
                buffers.part_words = all.swap_remove(0);
            }
        }
        other => {
            return Err(Error::Config(format!(
                "unknown collective {other:?} (known: {})",
                COLLECTIVES.join(", ")
            )))
        }
    }
    Ok(())
}

fn collectives(
    node: &Node,
    (sizes, ops): (&[usize], &[String]),
    runs: usize,
    warmup: usize,
    baseline: Option<&std::path::Path>,
    charts: &Charts,
) -> Result<()> {
    let n = node.size();
    let baseline = match baseline {
        Some(path) if node.rank() == 0 => {
            read_timings(path).map_err(|e| Error::io_path("reading", path, e))?
        }
        _ => Vec::new(),
    };
    let mut report = Report::new(format!("Collectives on {n} ranks: eau2 vs Open MPI"));
    report.command(command_line());
    for &bytes in sizes {
        let mut buffers = Buffers::new(bytes, n);
        for op in ops.iter().map(String::as_str) {
            let mut times = Vec::with_capacity(runs);
            for i in 0..warmup + runs {
                buffers.refill(bytes, n);
                node.comm().barrier()?;
                let (done, took) = time_once(|| run_collective(node, op, &mut buffers));
                done?;
                if i >= warmup {
                    times.push(took.as_secs_f64());
                }
            }
            // A call takes as long as its slowest rank.
            node.comm().all_reduce_slice(&mut times, |acc, other| {
                acc.iter_mut().zip(other).for_each(|(a, b)| *a = a.max(*b))
            })?;
            if node.rank() != 0 {
                continue;
            }
            let ms = Timing::new(times.iter().map(|&t| Duration::from_secs_f64(t)).collect())
                .median()
                .as_secs_f64()
                * 1e3;
            println!("{op} {bytes} {n} {ms:.6}");
            let name = format!("{op}, {}", human_bytes(bytes));
            let found = baseline
                .iter()
                .find(|t| t.op == op && t.bytes == bytes && t.ranks == n);
            match found {
                Some(&CollectiveTime { ms: mpi_ms, .. }) => {
                    report.add(&format!("{name}, Open MPI"), "ms", Stat::single(mpi_ms));
                    report.add_vs(&name, "ms", Stat::single(ms), &format!("{name}, Open MPI"));
                }
                None => {
                    report.add(&name, "ms", Stat::single(ms));
                }
            }
        }
    }
    if node.rank() == 0 {
        report.note(format!(
            "median of {runs} calls after {warmup} unmeasured; a call's time is its slowest rank's"
        ));
        charts.report(&report, &format!("collectives-{n}-ranks"))?;
    }
    Ok(())
}
