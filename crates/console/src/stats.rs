//! How rank 0 shows a job's statistics ([`eau2::stats`] gathers them): a table on
//! standard error (`EAU2_STATS=1`, `--stats`), or JSON in a file (`EAU2_STATS=json:FILE`).

use std::io::Write;

use eau2::stats::{JobStats, StatsMode};
use eau2::{Error, Result};

/// Makes [`show`] the library's statistics reporter.
pub fn install() {
    eau2::stats::set_reporter(show);
}

/// Shows `job` as `mode` says: the [`table`] on standard error, or JSON in a file.
pub fn show(job: &JobStats, mode: &StatsMode) -> Result<()> {
    match mode {
        StatsMode::Off => Ok(()),
        StatsMode::Table => {
            let table = table(job);
            crate::progress::suspend(|| std::io::stderr().lock().write_all(table.as_bytes()))
                .map_err(|e| Error::io("writing the job statistics", e))
        }
        StatsMode::Json(path) => {
            let json = serde_json::to_vec_pretty(job)
                .map_err(|e| Error::internal(format!("encoding the job statistics: {e}")))?;
            std::fs::write(path, json).map_err(|e| Error::io_path("writing", path, e))
        }
    }
}

/// The table rank 0 prints.
pub fn table(job: &JobStats) -> String {
    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    let mut out = format!(
        "eau2 stats ({} ranks)\n{:>5} {:>10} {:>10} {:>10} {:>10} {:>8} {:>8} {:>9} {:>8}\n",
        job.ranks,
        "rank",
        "sent MiB",
        "sent msgs",
        "recv MiB",
        "recv msgs",
        "user s",
        "wait s",
        "peak MiB",
        "chunks"
    );
    for r in &job.per_rank {
        out.push_str(&format!(
            "{:>5} {:>10.2} {:>10} {:>10.2} {:>10} {:>8.2} {:>8.2} {:>9.1} {:>8}\n",
            r.rank,
            mib(r.sent_bytes),
            r.sent_msgs,
            mib(r.recv_bytes),
            r.recv_msgs,
            r.user_secs,
            r.network_wait_secs,
            mib(r.peak_rss_bytes),
            r.chunks_stored
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use eau2::stats::RankStats;

    #[test]
    fn the_table_has_a_row_per_rank() {
        let job = JobStats {
            ranks: 2,
            per_rank: (0..2)
                .map(|rank| RankStats {
                    rank,
                    sent_bytes: 3 << 20,
                    ..RankStats::default()
                })
                .collect(),
        };
        let t = table(&job);
        assert_eq!(t.lines().count(), 4, "{t}");
        assert!(t.lines().nth(3).unwrap().contains("3.00"), "{t}");
    }
}
