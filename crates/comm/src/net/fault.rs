//! Faults a rank injects into itself, for tests of lost ranks (`EAU2_TEST_FAULT`).
//!
//! A test of `eau2-launch --tolerate` must lose a rank at a point it chooses, not at a
//! moment guessed from timing, which would make it flaky on a busy machine. The value
//! is a comma-separated list of `RANK:EPOCH:CALL:ACTION`: rank RANK of attempt EPOCH
//! (`EAU2_EPOCH`), on starting its CALL-th collective call (1 for the first), sends
//! itself SIGKILL (`kill`, a lost process) or SIGSTOP (`stop`, a frozen one, which its
//! peers declare lost after `EAU2_PEER_TIMEOUT`). Every collective of a program is a
//! point every rank reaches in the same order, so CALL names the same moment of the
//! program on every run.
//!
//! Unset, the hook costs one load of an initialised `OnceLock` per collective call.

use std::sync::OnceLock;

use super::vars::{self, Get, VarError};

/// What a faulty rank does to itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// SIGKILL: the process is gone at once, as if killed by the OOM killer or `kill -9`.
    Kill,
    /// SIGSTOP: the process stays but says nothing, as a frozen host would.
    Stop,
}

/// One injected fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    /// The rank that faults.
    pub rank: usize,
    /// The attempt of the job in which it faults.
    pub epoch: u32,
    /// Before which collective call, counted from 1.
    pub call: u64,
    /// What it does.
    pub action: Action,
}

/// `EAU2_TEST_FAULT` parsed (empty when unset or empty).
pub fn parse(get: Get<'_>) -> Result<Vec<Fault>, VarError> {
    let Some(text) = get(vars::TEST_FAULT) else {
        return Ok(Vec::new());
    };
    let bad = || {
        VarError::new(
            vars::TEST_FAULT,
            &text,
            "RANK:EPOCH:CALL:kill or RANK:EPOCH:CALL:stop (CALL from 1), comma-separated",
        )
    };
    text.split(',')
        .filter(|item| !item.trim().is_empty())
        .map(|item| {
            let parts: Vec<&str> = item.trim().split(':').collect();
            let [rank, epoch, call, action] = parts[..] else {
                return Err(bad());
            };
            let action = match action {
                "kill" => Action::Kill,
                "stop" => Action::Stop,
                _ => return Err(bad()),
            };
            let call: u64 = call.parse().map_err(|_| bad())?;
            if call == 0 {
                return Err(bad());
            }
            Ok(Fault {
                rank: rank.parse().map_err(|_| bad())?,
                epoch: epoch.parse().map_err(|_| bad())?,
                call,
                action,
            })
        })
        .collect()
}

/// The faults meant for this process's epoch, read once. A bad value was refused when
/// the rank started (`vars::check_all`), so here it simply injects nothing.
fn armed() -> &'static [Fault] {
    static ARMED: OnceLock<Vec<Fault>> = OnceLock::new();
    ARMED.get_or_init(|| {
        let get = &vars::process_env;
        let epoch = vars::epoch(get).unwrap_or(0);
        let mut faults = parse(get).unwrap_or_default();
        faults.retain(|f| f.epoch == epoch);
        faults
    })
}

/// Called as rank `rank` starts collective call number `seq` (from 0): injects the fault
/// armed for that point, if any.
pub(crate) fn at_collective(rank: usize, seq: u64) {
    let faults = armed();
    if faults.is_empty() {
        return;
    }
    for fault in faults {
        if fault.rank == rank && fault.call == seq + 1 {
            let signal = match fault.action {
                Action::Kill => libc::SIGKILL,
                Action::Stop => libc::SIGSTOP,
            };
            // SAFETY: kill has no memory-safety preconditions; the target is this process.
            unsafe {
                libc::kill(libc::getpid(), signal);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Result<Vec<Fault>, VarError> {
        let text = text.to_string();
        parse(&move |name: &str| (name == vars::TEST_FAULT).then(|| text.clone()))
    }

    #[test]
    fn parses_a_list_and_refuses_nonsense() {
        assert_eq!(
            parsed("2:0:5:kill, 1:1:3:stop").unwrap(),
            [
                Fault {
                    rank: 2,
                    epoch: 0,
                    call: 5,
                    action: Action::Kill
                },
                Fault {
                    rank: 1,
                    epoch: 1,
                    call: 3,
                    action: Action::Stop
                }
            ]
        );
        assert_eq!(parsed("").unwrap(), []);
        for bad in [
            "2:0:5",
            "2:0:0:kill",
            "x:0:1:kill",
            "1:0:1:hang",
            "1:0:1:kill:9",
        ] {
            let e = parsed(bad).unwrap_err();
            assert!(e.to_string().starts_with("EAU2_TEST_FAULT="), "{e}");
        }
    }
}
