//! Which of rank 0's addresses another rank should dial.
//!
//! Rank 0 listens on every interface (the wildcard address) and publishes the IPv4
//! addresses of its interfaces that are up, loopback last. Host names are not used: on
//! Debian a host's own name usually resolves to `127.0.1.1`, which no other host reaches.
//! Each other rank picks from that list: one of its own addresses (rank 0 is on the same
//! host), else one on a subnet it shares with rank 0, else the first non-loopback one.

use std::net::Ipv4Addr;

use crate::error::{Error, Result};

/// One IPv4 address of an interface, with its netmask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IfAddr {
    /// The interface's address.
    pub addr: Ipv4Addr,
    /// Its netmask.
    pub mask: Ipv4Addr,
}

impl IfAddr {
    fn same_subnet(&self, other: Ipv4Addr) -> bool {
        let mask = u32::from(self.mask);
        u32::from(self.addr) & mask == u32::from(other) & mask
    }
}

/// The IPv4 addresses of this host's interfaces that are up, loopback ones last.
pub fn local_addrs() -> Result<Vec<IfAddr>> {
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `list` with a linked list we own until freeifaddrs.
    if unsafe { libc::getifaddrs(&mut list) } != 0 {
        return Err(Error::io(
            "listing this host's network interfaces",
            std::io::Error::last_os_error(),
        ));
    }
    let mut out = Vec::new();
    let mut cur = list;
    while !cur.is_null() {
        // SAFETY: `cur` is a node of the list getifaddrs returned, not yet freed; the
        // address and netmask, when not null, point to sockaddrs of the family they name.
        unsafe {
            let ifa = &*cur;
            let up = ifa.ifa_flags & (libc::IFF_UP as libc::c_uint) != 0;
            if up
                && !ifa.ifa_addr.is_null()
                && !ifa.ifa_netmask.is_null()
                && i32::from((*ifa.ifa_addr).sa_family) == libc::AF_INET
            {
                let addr = &*(ifa.ifa_addr as *const libc::sockaddr_in);
                let mask = &*(ifa.ifa_netmask as *const libc::sockaddr_in);
                out.push(IfAddr {
                    addr: Ipv4Addr::from(u32::from_be(addr.sin_addr.s_addr)),
                    mask: Ipv4Addr::from(u32::from_be(mask.sin_addr.s_addr)),
                });
            }
            cur = ifa.ifa_next;
        }
    }
    // SAFETY: `list` came from getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(list) };
    out.sort_by_key(|a| a.addr.is_loopback());
    Ok(out)
}

/// Rank 0's published form: `PORT/ADDR,ADDR,...`.
pub fn publish(port: u16, addrs: &[IfAddr]) -> String {
    let list: Vec<String> = if addrs.is_empty() {
        vec![Ipv4Addr::LOCALHOST.to_string()]
    } else {
        addrs.iter().map(|a| a.addr.to_string()).collect()
    };
    format!("{port}/{}", list.join(","))
}

/// Reads rank 0's published `PORT/ADDR,...` and picks the `ip:port` to dial from a host
/// whose interfaces are `mine`.
pub fn choose(published: &str, mine: &[IfAddr]) -> Result<String> {
    let bad = || Error::Config(format!("rank 0 published {published:?}, not PORT/ADDR,..."));
    let (port, list) = published.split_once('/').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    let theirs: Vec<Ipv4Addr> = list
        .split(',')
        .map(|a| a.parse().map_err(|_| bad()))
        .collect::<Result<_>>()?;
    let same_host = theirs
        .iter()
        .find(|t| mine.iter().any(|m| m.addr == **t && !t.is_loopback()));
    let same_subnet = || {
        theirs
            .iter()
            .find(|t| !t.is_loopback() && mine.iter().any(|m| m.same_subnet(**t)))
    };
    let first_routable = || theirs.iter().find(|t| !t.is_loopback());
    let pick = same_host
        .or_else(same_subnet)
        .or_else(first_routable)
        .or(theirs.first())
        .ok_or_else(bad)?;
    Ok(format!("{pick}:{port}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ifa(addr: &str, mask: &str) -> IfAddr {
        IfAddr {
            addr: addr.parse().unwrap(),
            mask: mask.parse().unwrap(),
        }
    }

    #[test]
    fn publishes_port_and_addresses() {
        let a = [
            ifa("198.18.0.1", "255.255.255.0"),
            ifa("127.0.0.1", "255.0.0.0"),
        ];
        assert_eq!(publish(4000, &a), "4000/198.18.0.1,127.0.0.1");
        assert_eq!(publish(1, &[]), "1/127.0.0.1");
    }

    #[test]
    fn prefers_same_host_then_subnet_then_routable() {
        let lo = ifa("127.0.0.1", "255.0.0.0");
        let rank0 = "4000/10.1.0.5,198.18.0.1,127.0.0.1";
        let same_host = [ifa("198.18.0.1", "255.255.255.0"), lo];
        assert_eq!(choose(rank0, &same_host).unwrap(), "198.18.0.1:4000");
        let same_subnet = [ifa("198.18.0.7", "255.255.255.0"), lo];
        assert_eq!(choose(rank0, &same_subnet).unwrap(), "198.18.0.1:4000");
        let elsewhere = [ifa("192.0.2.9", "255.255.255.0"), lo];
        assert_eq!(choose(rank0, &elsewhere).unwrap(), "10.1.0.5:4000");
        assert_eq!(choose("9/127.0.0.1", &[lo]).unwrap(), "127.0.0.1:9");
    }

    #[test]
    fn rejects_malformed_publications() {
        for bad in [
            "",
            "4000",
            "x/1.2.3.4",
            "4000/",
            "4000/host",
            "70000/1.2.3.4",
        ] {
            assert!(choose(bad, &[]).is_err(), "{bad}");
        }
    }

    #[test]
    fn this_host_has_loopback() {
        let addrs = local_addrs().unwrap();
        assert!(addrs.iter().any(|a| a.addr.is_loopback()), "{addrs:?}");
    }
}
