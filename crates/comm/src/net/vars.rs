//! Every `EAU2_*` environment variable eau2 reads, parsed and checked in one place.
//!
//! Each setting has one reader here ([`peer_timeout`], [`msg_window`], ...) that returns
//! the default when the variable is unset and a [`VarError`] naming the variable, the
//! value and what is expected when it is set to anything else: a value is never ignored.
//! [`check_all`] runs every reader, so a launcher (or a rank at start) can refuse a bad
//! environment at once, before anything waits on a network. [`unknown`] names the
//! `EAU2_*` variables nothing reads (usually typos), for a warning.
//!
//! Readers take the environment as a function (`get`), so tests pass a map; the process
//! environment is [`process_env`].
//!
//! Durations are given in seconds with a decimal point allowed; error messages quote the
//! text as given, never a rounded number.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use super::{DEFAULT_MSG_WINDOW, DEFAULT_NET_POLL, DEFAULT_PEER_TIMEOUT};

// The launch contract: what eau2-launch hands its ranks and what the runtime reads, named
// once here for both.

/// This process's rank, set by eau2-launch.
pub const RANK: &str = "EAU2_RANK";
/// The number of ranks, set by eau2-launch.
pub const SIZE: &str = "EAU2_SIZE";
/// Rank 0's rendezvous address, `host:port`.
pub const MASTER: &str = "EAU2_MASTER";
/// The job's shared secret (see [`super::token`]).
pub const TOKEN: &str = "EAU2_TOKEN";
/// The job's id, checked in every hello.
pub const JOB_ID: &str = "EAU2_JOB_ID";
/// Which attempt of the job this is, 0 for the first: eau2-launch `--tolerate K` starts
/// the whole job again after a lost rank, each time under the next epoch (and a fresh
/// [`TOKEN`], [`JOB_ID`] and [`MASTER`], so no message of an earlier attempt is ever
/// accepted).
pub const EPOCH: &str = "EAU2_EPOCH";
/// How many times eau2-launch may restart a job that lost ranks (its `--tolerate K`;
/// default 0, fail-stop).
pub const TOLERATE: &str = "EAU2_TOLERATE";
/// The name of the job's checkpoint folder, under each host's temporary folder (set by
/// eau2-launch when `--tolerate` is above 0; `Node::checkpoint` writes there). One name
/// for every attempt of the job, so that a restarted attempt finds the files.
pub const CHECKPOINTS: &str = "EAU2_CHECKPOINTS";
/// Tests only: faults a rank injects into itself at a chosen collective call, so that a
/// test can lose a rank at an exact point of a program (see [`super::fault`]).
pub const TEST_FAULT: &str = "EAU2_TEST_FAULT";
/// The exit status of a rank that stopped because a peer was lost (killed, gone, or
/// silent past `EAU2_PEER_TIMEOUT`), not because of its own failure: sysexits'
/// `EX_TEMPFAIL`. eau2-launch `--tolerate` restarts a job whose ranks ended so, and does
/// not restart one that failed by itself (it would fail again).
pub const EXIT_PEER_LOST: u8 = 75;
/// Which diagnostics to show (`tracing-subscriber`'s filter syntax; see
/// [`log_filter_error`]).
pub const LOG: &str = "EAU2_LOG";
/// Set by eau2-launch when its standard error is a terminal: the terminal's width. Rank
/// 0 then sends each drawing of its progress bar as one status line on its standard
/// error, [`STATUS_START`] TEXT [`STATUS_END`] and a newline, which the launcher takes
/// out of the output and draws below the ranks' lines.
pub const STATUS_COLS: &str = "EAU2_STATUS_COLS";
/// What starts a status line (an APC string, which a terminal that meets one by mistake
/// ignores).
pub const STATUS_START: &str = "\x1b_eau2-status;";
/// What ends a status line, before its newline.
pub const STATUS_END: &str = "\x1b\\";

/// One attempt of a job as eau2-launch starts it: what every rank of it shares.
#[derive(Clone, Copy, Debug)]
pub struct Attempt<'a> {
    /// The number of ranks, [`SIZE`].
    pub size: u32,
    /// Rank 0's rendezvous address, [`MASTER`].
    pub master: &'a str,
    /// The attempt's secret, [`TOKEN`].
    pub token: &'a str,
    /// The attempt's id, [`JOB_ID`].
    pub job_id: &'a str,
    /// The attempt's number, [`EPOCH`].
    pub epoch: u32,
}

/// The variables eau2-launch sets for rank `rank` of `attempt`: [`RANK`], [`SIZE`],
/// [`MASTER`], [`TOKEN`], [`JOB_ID`] and [`EPOCH`], which the runtime reads back.
pub fn for_rank(rank: u32, attempt: &Attempt<'_>) -> [(&'static str, String); 6] {
    [
        (RANK, rank.to_string()),
        (SIZE, attempt.size.to_string()),
        (MASTER, attempt.master.to_string()),
        (TOKEN, attempt.token.to_string()),
        (JOB_ID, attempt.job_id.to_string()),
        (EPOCH, attempt.epoch.to_string()),
    ]
}

/// A variable's value, or `None` when it is unset.
pub type Get<'a> = &'a dyn Fn(&str) -> Option<String>;

/// How long the ranks may take to meet when `EAU2_RENDEZVOUS_TIMEOUT` is unset.
pub const DEFAULT_RENDEZVOUS_TIMEOUT: Duration = Duration::from_secs(30);

/// How often rank 0 prints a progress line when `EAU2_PROGRESS_SECS` is unset.
pub const DEFAULT_PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// The bytes of source chunks a rank sends per round of a shuffle when
/// `EAU2_EXCHANGE_ROUND_BYTES` is unset.
pub const DEFAULT_EXCHANGE_ROUND_BYTES: usize = 64 << 20;

/// The longest timeout accepted: a week. Longer ones are typos, and a deadline that far
/// ahead could not be represented on some clocks.
const MAX_TIMEOUT_SECS: f64 = 7.0 * 24.0 * 3600.0;

/// The shortest peer or rendezvous timeout accepted.
pub const MIN_TIMEOUT: Duration = Duration::from_secs(1);

/// Why the rendezvous timeout has a floor of [`MIN_TIMEOUT`].
pub const RENDEZVOUS_FLOOR_WHY: &str =
    "starting a process on a busy machine alone can take that long";

/// Why the peer timeout has a floor of [`MIN_TIMEOUT`].
pub const TIMEOUT_FLOOR_WHY: &str = "heartbeats go every quarter of it, and a busy machine \
     can stall a process that long, so a shorter one declares healthy peers lost";

/// Every variable eau2 or eau2-launch reads, with what it holds. Names set by
/// eau2-launch for its ranks are here too, so that [`unknown`] does not flag them.
pub const KNOWN: &[(&str, &str)] = &[
    (RANK, "this process's rank (set by eau2-launch)"),
    (SIZE, "the number of ranks (set by eau2-launch)"),
    (MASTER, "rank 0's rendezvous address, host:port"),
    (TOKEN, "the job's shared secret"),
    (JOB_ID, "the job's id, checked in every hello"),
    (
        EPOCH,
        "which attempt of the job this is, 0 first (set by eau2-launch)",
    ),
    (TOLERATE, "how many lost-rank restarts eau2-launch allows"),
    (
        CHECKPOINTS,
        "the job's checkpoint folder name under TMPDIR (set by eau2-launch --tolerate)",
    ),
    (
        TEST_FAULT,
        "tests only: RANK:EPOCH:CALL:kill|stop, a rank's fault at a collective",
    ),
    (
        "EAU2_RENDEZVOUS_TIMEOUT",
        "seconds the ranks may take to meet",
    ),
    (
        "EAU2_PEER_TIMEOUT",
        "seconds a peer may be silent before it is lost",
    ),
    ("EAU2_MSG_WINDOW", "unconsumed message bytes held per peer"),
    (
        "EAU2_CROWDED",
        "1 or 0: whether ranks outnumber the CPUs of a machine",
    ),
    (
        "EAU2_NET_POLL_US",
        "microseconds the network thread polls after data",
    ),
    ("EAU2_PMI_VERSION", "the PMI protocol version, 1 or 2"),
    (
        "EAU2_SLURM_PORTS",
        "the port range LO-HI used under plain srun",
    ),
    (
        "EAU2_SECRET_FILE",
        "the key that secures jobs under plain srun",
    ),
    (LOG, "which diagnostics to show"),
    ("EAU2_STATS", "statistics: 1, json:FILE or 0"),
    ("EAU2_PROGRESS_SECS", "seconds between progress lines"),
    (
        STATUS_COLS,
        "the launcher's terminal width (set by eau2-launch)",
    ),
    (
        "EAU2_EXCHANGE_ROUND_BYTES",
        "bytes a rank sends per round of a shuffle",
    ),
    (
        "EAU2_TEST_LOAD_HOOK",
        "tests only: pauses a rank around the opening of a file it loads",
    ),
];

/// A variable set to a value eau2 cannot use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VarError {
    /// The variable.
    pub name: String,
    /// Its value, as given.
    pub value: String,
    /// What it should hold, and why when that is not obvious.
    pub expected: String,
}

impl VarError {
    /// An error for `name` set to `value`, which should be `expected`.
    pub fn new(name: &str, value: &str, expected: impl Into<String>) -> VarError {
        VarError {
            name: name.to_string(),
            value: value.to_string(),
            expected: expected.into(),
        }
    }
}

impl fmt::Display for VarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}={:?}: expected {}",
            self.name, self.value, self.expected
        )
    }
}

impl std::error::Error for VarError {}

/// The process environment as a [`Get`]. A value that is not UTF-8 is passed on with its
/// bad bytes replaced, so that the reader rejects it by name instead of taking it as
/// unset; [`check_all`] names such values too.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
}

/// Runs every reader on `get`, returning every bad value (empty when all are good).
/// `EAU2_LOG` is not checked here (its syntax belongs to `tracing-subscriber`, which
/// this crate does not use); `EAU2_RANK`/`EAU2_SIZE` are checked where a rank reads them.
pub fn check_all(get: Get<'_>) -> Vec<VarError> {
    let checks: [Result<(), VarError>; 16] = [
        master(get).map(drop),
        epoch(get).map(drop),
        checkpoints(get).map(drop),
        tolerate(get).map(drop),
        super::fault::parse(get).map(drop),
        rendezvous_timeout(get).map(drop),
        peer_timeout(get).map(drop),
        msg_window(get).map(drop),
        net_poll(get).map(drop),
        crowded(get).map(drop),
        pmi_version(get).map(drop),
        slurm_ports(get).map(drop),
        stats(get).map(drop),
        progress_every(get).map(drop),
        status_cols(get).map(drop),
        exchange_round_bytes(get).map(drop),
    ];
    let mut errors: Vec<VarError> = checks.into_iter().filter_map(Result::err).collect();
    for name in ["EAU2_SECRET_FILE", TOKEN, JOB_ID] {
        if let Some(value) = get(name).filter(|v| v.contains('\u{fffd}')) {
            errors.push(VarError::new(name, &value, "UTF-8 text"));
        }
    }
    errors
}

/// The `EAU2_*` names among `names` that no part of eau2 reads, each with the known
/// name it most likely meant (if one is close).
pub fn unknown<'a>(
    names: impl IntoIterator<Item = &'a str>,
) -> Vec<(String, Option<&'static str>)> {
    names
        .into_iter()
        .filter(|n| n.starts_with("EAU2_") && !KNOWN.iter().any(|(k, _)| k == n))
        .map(|n| {
            let closest = KNOWN
                .iter()
                .map(|(k, _)| (edit_distance(n, k), *k))
                .min()
                .filter(|(d, _)| *d <= 3)
                .map(|(_, k)| k);
            (n.to_string(), closest)
        })
        .collect()
}

/// A warning line for each of [`unknown`]'s findings in the process environment.
pub fn unknown_warnings() -> Vec<String> {
    let names: Vec<String> = std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .collect();
    unknown(names.iter().map(String::as_str))
        .into_iter()
        .map(|(name, closest)| match closest {
            Some(k) => format!("{name} is set but nothing reads it; did you mean {k}?"),
            None => format!("{name} is set but nothing in eau2 reads it"),
        })
        .collect()
}

/// Levenshtein distance, for suggesting the variable a typo meant.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (diag + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// A duration in seconds between `min` and a week, or `default` when unset.
/// `floor_why` says why nothing under `min` is accepted.
fn seconds(
    get: Get<'_>,
    name: &str,
    default: Duration,
    min_secs: f64,
    floor_why: &str,
) -> Result<Duration, VarError> {
    let Some(text) = get(name) else {
        return Ok(default);
    };
    let expected = || {
        let mut e =
            format!("seconds, e.g. 10 or 2.5, from {min_secs} to {MAX_TIMEOUT_SECS} (a week)");
        if !floor_why.is_empty() {
            e.push_str(&format!("; not under {min_secs} s: {floor_why}"));
        }
        e
    };
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| VarError::new(name, &text, expected()))?;
    // Also refuses NaN and infinities, which compare false.
    if !(min_secs..=MAX_TIMEOUT_SECS).contains(&secs) {
        return Err(VarError::new(name, &text, expected()));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// A whole number from `min` to `max`, or `default` when unset; `unit` names what it
/// counts in the message.
fn whole(
    get: Get<'_>,
    name: &str,
    default: u64,
    min: u64,
    max: u64,
    unit: &str,
) -> Result<u64, VarError> {
    let Some(text) = get(name) else {
        return Ok(default);
    };
    text.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            VarError::new(
                name,
                &text,
                format!("a whole number of {unit} from {min} to {max}"),
            )
        })
}

/// The error for an `EAU2_LOG` that its parser (`tracing-subscriber`'s `EnvFilter`,
/// used by the callers: this crate has none) refused with `why`.
pub fn log_filter_error(spec: &str, why: impl fmt::Display) -> VarError {
    VarError::new(
        LOG,
        spec,
        format!("a filter such as warn, info or eau2=debug,eau2_comm=trace ({why})"),
    )
}

/// Splits `host:port` (or `[v6]:port`); `None` when it is not one.
pub fn split_host_port(addr: &str) -> Option<(&str, u16)> {
    let (host, port) = addr.rsplit_once(':')?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    Some((host, port.parse().ok()?))
}

/// `EAU2_MASTER`: rank 0's rendezvous address, `host:port` (`None` when unset or empty).
pub fn master(get: Get<'_>) -> Result<Option<String>, VarError> {
    let Some(text) = get(MASTER).filter(|m| !m.is_empty()) else {
        return Ok(None);
    };
    match split_host_port(&text) {
        Some((host, _)) if !host.is_empty() => Ok(Some(text)),
        _ => Err(VarError::new(
            MASTER,
            &text,
            "host:port, e.g. node1:4000 or 10.0.0.1:4000",
        )),
    }
}

/// `EAU2_EPOCH`: which attempt of the job this is (0, the first, when unset).
pub fn epoch(get: Get<'_>) -> Result<u32, VarError> {
    whole(get, EPOCH, 0, 0, u64::from(u32::MAX), "attempts").map(|n| n as u32)
}

/// `EAU2_CHECKPOINTS`: the job's checkpoint folder name (`None` when unset: checkpoints
/// are not kept). A plain name, since it is joined to each host's temporary folder.
pub fn checkpoints(get: Get<'_>) -> Result<Option<String>, VarError> {
    match get(CHECKPOINTS) {
        None => Ok(None),
        Some(name)
            if !name.is_empty()
                && name != "."
                && name != ".."
                && !name.contains('/')
                && !name.contains('\u{fffd}') =>
        {
            Ok(Some(name))
        }
        Some(name) => Err(VarError::new(
            CHECKPOINTS,
            &name,
            "a folder name without `/`, e.g. eau2-checkpoints-1f2e3d",
        )),
    }
}

/// `EAU2_TOLERATE`: how many times eau2-launch may restart a job that lost a rank
/// (0, fail-stop, when unset; at most 100, more is a typo).
pub fn tolerate(get: Get<'_>) -> Result<u32, VarError> {
    whole(get, TOLERATE, 0, 0, 100, "restarts").map(|n| n as u32)
}

/// `EAU2_RENDEZVOUS_TIMEOUT`: how long the ranks may take to meet (default 30 s; at
/// least 1 s).
pub fn rendezvous_timeout(get: Get<'_>) -> Result<Duration, VarError> {
    seconds(
        get,
        "EAU2_RENDEZVOUS_TIMEOUT",
        DEFAULT_RENDEZVOUS_TIMEOUT,
        MIN_TIMEOUT.as_secs_f64(),
        RENDEZVOUS_FLOOR_WHY,
    )
}

/// `EAU2_PEER_TIMEOUT`: how long a peer may be silent before it is declared lost
/// (default 10 s; at least 1 s, since heartbeats go every quarter of it).
pub fn peer_timeout(get: Get<'_>) -> Result<Duration, VarError> {
    seconds(
        get,
        "EAU2_PEER_TIMEOUT",
        DEFAULT_PEER_TIMEOUT,
        MIN_TIMEOUT.as_secs_f64(),
        TIMEOUT_FLOOR_WHY,
    )
}

/// `EAU2_MSG_WINDOW`: unconsumed message bytes a rank holds from each peer before the
/// peer's sends wait (default 64 MiB; at least 1).
pub fn msg_window(get: Get<'_>) -> Result<u64, VarError> {
    whole(
        get,
        "EAU2_MSG_WINDOW",
        DEFAULT_MSG_WINDOW,
        1,
        u64::MAX,
        "bytes",
    )
}

/// `EAU2_CROWDED`: 1 or 0 to say whether some machine of the job runs more ranks than
/// it has CPUs (which picks the typed all-reduce's algorithm), instead of the ranks
/// finding out; `None` when unset. Every rank must be given the same value.
pub fn crowded(get: Get<'_>) -> Result<Option<bool>, VarError> {
    let Some(text) = get("EAU2_CROWDED") else {
        return Ok(None);
    };
    match text.trim() {
        "1" => Ok(Some(true)),
        "0" => Ok(Some(false)),
        _ => Err(VarError::new("EAU2_CROWDED", &text, "1 or 0")),
    }
}

/// `EAU2_NET_POLL_US`: how long the network thread polls after data while a program
/// thread waits (default 50 µs; 0 turns it off; at most a second, as it spins a core).
pub fn net_poll(get: Get<'_>) -> Result<Duration, VarError> {
    let default = DEFAULT_NET_POLL.as_micros() as u64;
    whole(
        get,
        "EAU2_NET_POLL_US",
        default,
        0,
        1_000_000,
        "microseconds",
    )
    .map(Duration::from_micros)
}

/// `EAU2_PMI_VERSION`: the PMI protocol to speak on `PMI_FD`, 1 or 2 (`None` when unset:
/// the wire-up chooses).
pub fn pmi_version(get: Get<'_>) -> Result<Option<u8>, VarError> {
    let Some(text) = get("EAU2_PMI_VERSION") else {
        return Ok(None);
    };
    match text.trim() {
        "1" => Ok(Some(1)),
        "2" => Ok(Some(2)),
        _ => Err(VarError::new("EAU2_PMI_VERSION", &text, "1 or 2")),
    }
}

/// `EAU2_SLURM_PORTS`: an inclusive port range `LO-HI` (`None` when unset).
pub fn slurm_ports(get: Get<'_>) -> Result<Option<(u16, u16)>, VarError> {
    let Some(text) = get("EAU2_SLURM_PORTS") else {
        return Ok(None);
    };
    let range = text.trim().split_once('-').and_then(|(lo, hi)| {
        let lo: u16 = lo.trim().parse().ok()?;
        let hi: u16 = hi.trim().parse().ok()?;
        (0 < lo && lo <= hi).then_some((lo, hi))
    });
    range.map(Some).ok_or_else(|| {
        VarError::new(
            "EAU2_SLURM_PORTS",
            &text,
            "a range LO-HI of ports, 1 <= LO <= HI <= 65535, e.g. 30000-39999",
        )
    })
}

/// What `EAU2_STATS` asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stats {
    /// Nothing (unset, empty or `0`).
    Off,
    /// The table on rank 0's standard error (`1`).
    Table,
    /// JSON in this file (`json:FILE`).
    Json(PathBuf),
}

/// `EAU2_STATS`: unset, empty or `0` is off, `1` the table, `json:FILE` JSON in FILE.
pub fn stats(get: Get<'_>) -> Result<Stats, VarError> {
    let Some(text) = get("EAU2_STATS") else {
        return Ok(Stats::Off);
    };
    match text.trim() {
        "" | "0" => Ok(Stats::Off),
        "1" => Ok(Stats::Table),
        t if t.starts_with("json:") && t.len() > 5 => Ok(Stats::Json(PathBuf::from(&t[5..]))),
        _ => Err(VarError::new(
            "EAU2_STATS",
            &text,
            "1 (a table on standard error), json:FILE (JSON written to FILE) or 0 (none)",
        )),
    }
}

/// `EAU2_PROGRESS_SECS`: how often rank 0 prints a progress line when standard error is
/// not a terminal (default 5 s; from 0.01 s).
pub fn progress_every(get: Get<'_>) -> Result<Duration, VarError> {
    seconds(get, "EAU2_PROGRESS_SECS", DEFAULT_PROGRESS_EVERY, 0.01, "")
}

/// `EAU2_STATUS_COLS`: the width of eau2-launch's terminal, which draws rank 0's
/// progress bar (`None` when unset: no launcher terminal).
pub fn status_cols(get: Get<'_>) -> Result<Option<u16>, VarError> {
    if get(STATUS_COLS).is_none() {
        return Ok(None);
    }
    whole(get, STATUS_COLS, 0, 1, u16::MAX.into(), "columns").map(|c| Some(c as u16))
}

/// `EAU2_EXCHANGE_ROUND_BYTES`: the bytes of source chunks a rank sends per round of a
/// shuffle (default 64 MiB; at least 1).
pub fn exchange_round_bytes(get: Get<'_>) -> Result<usize, VarError> {
    whole(
        get,
        "EAU2_EXCHANGE_ROUND_BYTES",
        DEFAULT_EXCHANGE_ROUND_BYTES as u64,
        1,
        usize::MAX as u64,
        "bytes",
    )
    .map(|b| b as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A [`Get`] over `pairs`.
    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn unset_gives_defaults() {
        let get = env(&[]);
        assert_eq!(peer_timeout(&get), Ok(DEFAULT_PEER_TIMEOUT));
        assert_eq!(rendezvous_timeout(&get), Ok(Duration::from_secs(30)));
        assert_eq!(msg_window(&get), Ok(DEFAULT_MSG_WINDOW));
        assert_eq!(net_poll(&get), Ok(DEFAULT_NET_POLL));
        assert_eq!(progress_every(&get), Ok(Duration::from_secs(5)));
        assert_eq!(exchange_round_bytes(&get), Ok(64 << 20));
        assert_eq!(stats(&get), Ok(Stats::Off));
        assert_eq!((pmi_version(&get), slurm_ports(&get)), (Ok(None), Ok(None)));
        assert_eq!(status_cols(&get), Ok(None));
        assert_eq!(crowded(&get), Ok(None));
        assert!(check_all(&get).is_empty());
    }

    #[test]
    fn good_values_are_read_exactly() {
        let get = env(&[
            ("EAU2_PEER_TIMEOUT", " 2.5 "),
            ("EAU2_RENDEZVOUS_TIMEOUT", "1"),
            ("EAU2_MSG_WINDOW", "4096"),
            ("EAU2_NET_POLL_US", "0"),
            ("EAU2_PROGRESS_SECS", "0.05"),
            ("EAU2_EXCHANGE_ROUND_BYTES", "300"),
            ("EAU2_STATS", "json:/tmp/s.json"),
            ("EAU2_PMI_VERSION", "2"),
            ("EAU2_SLURM_PORTS", "30000-30009"),
            ("EAU2_STATUS_COLS", "80"),
            ("EAU2_MASTER", "[::1]:4000"),
            ("EAU2_CROWDED", "0"),
        ]);
        assert_eq!(peer_timeout(&get), Ok(Duration::from_millis(2500)));
        assert_eq!(rendezvous_timeout(&get), Ok(Duration::from_secs(1)));
        assert_eq!(msg_window(&get), Ok(4096));
        assert_eq!(net_poll(&get), Ok(Duration::ZERO));
        assert_eq!(progress_every(&get), Ok(Duration::from_millis(50)));
        assert_eq!(exchange_round_bytes(&get), Ok(300));
        assert_eq!(stats(&get), Ok(Stats::Json("/tmp/s.json".into())));
        assert_eq!(pmi_version(&get), Ok(Some(2)));
        assert_eq!(slurm_ports(&get), Ok(Some((30000, 30009))));
        assert_eq!(status_cols(&get), Ok(Some(80)));
        assert_eq!(crowded(&get), Ok(Some(false)));
        assert_eq!(split_host_port("[::1]:4000"), Some(("::1", 4000)));
        assert!(check_all(&get).is_empty());
    }

    #[test]
    fn bad_values_name_variable_value_and_expectation() {
        let e = peer_timeout(&env(&[("EAU2_PEER_TIMEOUT", "abc")])).unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with("EAU2_PEER_TIMEOUT=\"abc\": expected seconds, e.g. 10 or 2.5"),
            "{text}"
        );
        // Under the floor: refused with the reason, the value quoted as given.
        let e = peer_timeout(&env(&[("EAU2_PEER_TIMEOUT", "0.05")])).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("\"0.05\""), "{text}");
        assert!(text.contains("heartbeats go every quarter of it"), "{text}");
        assert!(!text.contains("0.1"), "no rounded duration: {text}");
        for bad in ["0", "-1", "NaN", "inf", "1e9", "", "10s"] {
            assert!(
                peer_timeout(&env(&[("EAU2_PEER_TIMEOUT", bad)])).is_err(),
                "{bad}"
            );
            let get = env(&[("EAU2_RENDEZVOUS_TIMEOUT", bad)]);
            assert!(rendezvous_timeout(&get).is_err(), "{bad}");
        }
        let cases: [(&str, &str); 15] = [
            ("EAU2_MASTER", "node1"),
            ("EAU2_MASTER", ":4000"),
            ("EAU2_RENDEZVOUS_TIMEOUT", "0.5"),
            ("EAU2_MSG_WINDOW", "0"),
            ("EAU2_MSG_WINDOW", "64M"),
            ("EAU2_NET_POLL_US", "-5"),
            ("EAU2_NET_POLL_US", "2000000"),
            ("EAU2_EXCHANGE_ROUND_BYTES", "abc"),
            ("EAU2_EXCHANGE_ROUND_BYTES", "0"),
            ("EAU2_PROGRESS_SECS", "abc"),
            ("EAU2_STATS", "yes"),
            ("EAU2_STATS", "json:"),
            ("EAU2_PMI_VERSION", "3"),
            ("EAU2_SLURM_PORTS", "9-1"),
            ("EAU2_CROWDED", "yes"),
        ];
        for (name, value) in cases {
            let errors = check_all(&env(&[(name, value)]));
            assert_eq!(errors.len(), 1, "{name}={value}: {errors:?}");
            assert_eq!(
                (errors[0].name.as_str(), errors[0].value.as_str()),
                (name, value)
            );
            let text = errors[0].to_string();
            assert!(
                text.starts_with(&format!("{name}={value:?}: expected ")),
                "{text}"
            );
        }
        let errors = check_all(&env(&[
            ("EAU2_STATUS_COLS", "wide"),
            ("EAU2_MSG_WINDOW", "x"),
        ]));
        assert_eq!(errors.len(), 2, "every bad value is reported: {errors:?}");
    }

    #[test]
    fn unknown_names_get_suggestions() {
        let found = unknown(["EAU2_PEER_TIMOUT", "EAU2_LOG", "PATH", "EAU2_WHATEVER_ELSE"]);
        assert_eq!(
            found,
            vec![
                ("EAU2_PEER_TIMOUT".to_string(), Some("EAU2_PEER_TIMEOUT")),
                ("EAU2_WHATEVER_ELSE".to_string(), None),
            ]
        );
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
