//! Where rank 0 listens for the rendezvous.
//!
//! Either the user names it (`--master HOST:PORT`, e.g. to use a routable interface), or the
//! launcher picks a free loopback port. Picking means binding port 0, reading the port the
//! kernel chose and releasing it so rank 0 can bind it. Another process could take the port
//! in between; that window is tiny, and rank 0 then fails to bind with a clear error rather
//! than the job misbehaving silently.

use std::io;
use std::net::{Ipv4Addr, TcpListener, TcpStream, ToSocketAddrs};
use std::thread;
use std::time::{Duration, Instant};

/// Checks a user-given `HOST:PORT`; used as clap's value parser for `--master`.
///
/// The host is not resolved here: the ranks resolve it, possibly on other machines. Port 0
/// is refused because rank 0 would bind a random port that no other rank could know.
pub fn parse(s: &str) -> Result<String, String> {
    let Some((host, port)) = s.rsplit_once(':') else {
        return Err(format!("`{s}` is not HOST:PORT (no `:`)"));
    };
    if host.is_empty() {
        return Err(format!("`{s}` has an empty host"));
    }
    match port.parse::<u16>() {
        Ok(0) => Err("port 0 cannot be used: the other ranks could not know it".to_string()),
        Ok(_) => Ok(s.to_string()),
        Err(_) => Err(format!("`{port}` is not a port number (1-65535)")),
    }
}

/// Picks a currently free port on 127.0.0.1 and returns `127.0.0.1:PORT`.
pub fn pick_free() -> io::Result<String> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    let port = listener.local_addr()?.port();
    // The listener is dropped here, freeing the port for rank 0.
    Ok(format!("{}:{port}", Ipv4Addr::LOCALHOST))
}

/// For a rank 0 on another host, where no port can be checked from here: `HOST:PORT` with
/// a port in 20000-29999 (below Linux's ephemeral ports) drawn from the job's `token`. Should
/// another program hold it, rank 0 fails to listen, saying so, and the job stops at once.
pub fn pick_remote(host: &str, token: &str) -> String {
    let seed = token
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    let port = 20000 + seed % 10000;
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Waits, for at most `within`, until nothing accepts connections at `master` any more:
/// before a restart under a fixed `--master`, whose earlier rank 0 (on another host, torn
/// down through its rsh session) may still hold the port, so that the new rank 0 can
/// listen there. Returns whether the port was seen free; `false` leaves the new rank 0 to
/// fail naming the port, as a first attempt would. A probe that connects is taken by the
/// old listener for a stranger and dropped.
pub fn wait_until_released(master: &str, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    loop {
        let Some(addr) = master.to_socket_addrs().ok().and_then(|mut a| a.next()) else {
            // A name that does not resolve here may resolve at rank 0's host: nothing to
            // probe, and rank 0 says what is wrong if anything is.
            return true;
        };
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(100));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_is_released_once_its_listener_closes() {
        let held = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let master = held.local_addr().unwrap().to_string();
        assert!(!wait_until_released(&master, Duration::ZERO));
        let closer = thread::spawn(move || {
            thread::sleep(Duration::from_millis(300));
            drop(held);
        });
        // The deadline is far beyond the 300 ms the listener lives: the result does not
        // depend on timing.
        assert!(wait_until_released(&master, Duration::from_secs(60)));
        closer.join().unwrap();
        let free = pick_free().unwrap();
        assert!(wait_until_released(&free, Duration::ZERO));
    }

    #[test]
    fn accepts_host_port_pairs() {
        assert_eq!(parse("node7:7000").unwrap(), "node7:7000");
        assert_eq!(parse("10.0.0.1:1").unwrap(), "10.0.0.1:1");
        assert_eq!(parse("[::1]:65535").unwrap(), "[::1]:65535");
    }

    #[test]
    fn rejects_malformed_addresses() {
        for bad in [
            "node7",
            ":7000",
            "node7:",
            "node7:0",
            "node7:65536",
            "node7:http",
        ] {
            assert!(parse(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn remote_ports_stay_in_range() {
        for token in ["", "00", "ffffffffffffffffffffffffffffffff"] {
            let addr = pick_remote("h1", token);
            let port: u16 = addr.strip_prefix("h1:").unwrap().parse().unwrap();
            assert!((20000..30000).contains(&port), "{addr}");
        }
        assert!(pick_remote("::1", "a").starts_with("[::1]:"));
    }

    #[test]
    fn picks_a_loopback_port() {
        let addr = pick_free().unwrap();
        let port: u16 = addr.strip_prefix("127.0.0.1:").unwrap().parse().unwrap();
        assert_ne!(port, 0);
    }
}
