//! Where ranks run: `--hostfile FILE` and `-H host1:2,host2:2`, read as Open MPI reads
//! them, and the placement of ranks on their slots.
//!
//! A hostfile has one host per line, `HOST [slots=N]` (N defaults to 1); `#` starts a
//! comment; a host named twice adds up its slots. Ranks fill the hosts in order, each
//! up to its slots (Open MPI's default "by slot" mapping): with `a slots=2` and `b slots=2`,
//! ranks 0 and 1 run on a, 2 and 3 on b. Asking for more ranks than slots is an error.

use std::fmt;
use std::path::Path;

/// A host and how many ranks it takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host {
    /// The name (or address) other hosts, and the rsh command, reach it by.
    pub name: String,
    /// How many ranks it takes.
    pub slots: u32,
}

/// A bad hostfile or host list, with where it went wrong.
#[derive(Debug, PartialEq, Eq)]
pub struct HostsError(pub String);

impl fmt::Display for HostsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Reads a hostfile.
pub fn read_hostfile(path: &Path) -> Result<Vec<Host>, HostsError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| HostsError(format!("cannot read the hostfile {}: {e}", path.display())))?;
    parse_hostfile(&text, &path.display().to_string())
}

/// Parses a hostfile's text; `origin` names it in messages.
pub fn parse_hostfile(text: &str, origin: &str) -> Result<Vec<Host>, HostsError> {
    let mut hosts = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let at = || format!("{origin}:{}", i + 1);
        let mut words = line.split_ascii_whitespace();
        let name = words.next().unwrap_or_default();
        check_name(name).map_err(|why| HostsError(format!("{}: {why}", at())))?;
        let mut slots = 1;
        for word in words {
            let (key, value) = word
                .split_once('=')
                .ok_or_else(|| HostsError(format!("{}: `{word}` is not slots=N", at())))?;
            match key {
                "slots" => {
                    slots =
                        parse_slots(value).map_err(|why| HostsError(format!("{}: {why}", at())))?
                }
                // Open MPI's limit on oversubscription; we never oversubscribe.
                "max_slots" | "max-slots" => {
                    parse_slots(value).map_err(|why| HostsError(format!("{}: {why}", at())))?;
                }
                _ => {
                    return Err(HostsError(format!(
                        "{}: unknown setting `{key}` (only slots=N is understood)",
                        at()
                    )))
                }
            }
        }
        add(&mut hosts, name, slots);
    }
    if hosts.is_empty() {
        return Err(HostsError(format!("{origin} names no host")));
    }
    Ok(hosts)
}

/// Parses `-H host1:2,host2,host3:4` (a host without `:N` has one slot).
pub fn parse_host_list(list: &str) -> Result<Vec<Host>, HostsError> {
    let mut hosts = Vec::new();
    for item in list.split(',') {
        let item = item.trim();
        let (name, slots) = match item.rsplit_once(':') {
            Some((name, n)) => (
                name,
                parse_slots(n).map_err(|why| HostsError(format!("-H {item}: {why}")))?,
            ),
            None => (item, 1),
        };
        check_name(name).map_err(|why| HostsError(format!("-H `{item}`: {why}")))?;
        add(&mut hosts, name, slots);
    }
    Ok(hosts)
}

/// The host of each of `n` ranks, filling the hosts' slots in order.
pub fn place(hosts: &[Host], n: u32) -> Result<Vec<String>, HostsError> {
    let total: u64 = hosts.iter().map(|h| u64::from(h.slots)).sum();
    if u64::from(n) > total {
        return Err(HostsError(format!(
            "{n} ranks do not fit in the {total} slots of the hosts given"
        )));
    }
    Ok(hosts
        .iter()
        .flat_map(|h| std::iter::repeat_n(h.name.clone(), h.slots as usize))
        .take(n as usize)
        .collect())
}

/// The number of slots of all hosts together, saturating.
pub fn total_slots(hosts: &[Host]) -> u32 {
    hosts.iter().fold(0u32, |t, h| t.saturating_add(h.slots))
}

fn add(hosts: &mut Vec<Host>, name: &str, slots: u32) {
    match hosts.iter_mut().find(|h| h.name == name) {
        Some(h) => h.slots = h.slots.saturating_add(slots),
        None => hosts.push(Host {
            name: name.to_string(),
            slots,
        }),
    }
}

fn parse_slots(text: &str) -> Result<u32, String> {
    match text.parse::<u32>() {
        Ok(0) | Err(_) => Err(format!("`{text}` is not a number of slots (1 or more)")),
        Ok(n) => Ok(n),
    }
}

/// A host name must be one word that cannot be taken for an option of the rsh command.
fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("empty host name".into());
    }
    if name.starts_with('-') {
        return Err(format!("host name `{name}` starts with `-`"));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b".-_:[]@".contains(&b))
    {
        return Err(format!("`{name}` is not a host name"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(name: &str, slots: u32) -> Host {
        Host {
            name: name.into(),
            slots,
        }
    }

    #[test]
    fn hostfiles_as_open_mpi_writes_them() {
        let text = "# cluster\nnode1 slots=2\n\n node2   slots=2 max_slots=4 # gpu\nnode3\nnode1\n";
        assert_eq!(
            parse_hostfile(text, "hf").unwrap(),
            [host("node1", 3), host("node2", 2), host("node3", 1)]
        );
    }

    #[test]
    fn hostfile_errors_name_the_line() {
        for (text, want) in [
            ("a slots=0\n", "hf:1"),
            ("a\nb slots=x\n", "hf:2"),
            ("a cpus=2\n", "unknown setting"),
            ("a slots\n", "not slots=N"),
            ("-oProxyCommand=x\n", "starts with `-`"),
            ("# nothing\n", "names no host"),
            ("a$(reboot)\n", "not a host name"),
        ] {
            let err = parse_hostfile(text, "hf").unwrap_err().0;
            assert!(err.contains(want), "{text:?}: {err}");
        }
    }

    #[test]
    fn host_lists() {
        assert_eq!(
            parse_host_list("a:2,b,c:3").unwrap(),
            [host("a", 2), host("b", 1), host("c", 3)]
        );
        assert!(parse_host_list("a:0").is_err());
        assert!(parse_host_list("a,,b").is_err());
        assert!(parse_host_list("a:x").is_err());
    }

    #[test]
    fn ranks_fill_slots_in_order() {
        let hosts = [host("a", 2), host("b", 2)];
        assert_eq!(place(&hosts, 3).unwrap(), ["a", "a", "b"]);
        assert_eq!(place(&hosts, 4).unwrap(), ["a", "a", "b", "b"]);
        let err = place(&hosts, 5).unwrap_err().0;
        assert!(err.contains("5 ranks") && err.contains("4 slots"), "{err}");
        assert_eq!(total_slots(&hosts), 4);
    }
}
