//! Which targets a webhook may call. Unless the operator allows private targets, a target
//! whose address is not public (loopback, private, link-local, multicast, unspecified, ...) is
//! refused when the endpoint is created or changed, and again at delivery: the client resolves
//! names through [`PublicResolver`], so the address it connects to is one that was checked
//! (a name that resolved to a public address at creation and to a private one later, DNS
//! rebinding, is not called).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::Url;

/// Why a target is refused: the field error's code and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetError {
    /// Not an absolute `http(s)` URL with a host.
    Invalid(String),
    /// Its address is not public.
    Private(String),
}

/// Is `ip` an address of the public internet? Not when it falls in a range of IANA's IPv4 or
/// IPv6 Special-Purpose Address Registry that is not globally reachable, nor in multicast,
/// broadcast or reserved space. An IPv6 address that carries an IPv4 one (mapped, compatible,
/// NAT64 `64:ff9b::/96`) is judged by the IPv4 address inside; the local-use NAT64 prefix,
/// 6to4 and Teredo, whose IPv4 address a relay or the network decides, are refused whole.
/// (The standard library's `is_global` would be the classification, but it is unstable.)
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

/// IANA's IPv4 special-purpose ranges that are not globally reachable (and the deprecated 6to4
/// relay anycast), as (network, prefix length).
const NOT_GLOBAL_V4: [(u32, u8); 16] = [
    (0x0000_0000, 8),  // 0.0.0.0/8 "this network"
    (0x0a00_0000, 8),  // 10.0.0.0/8 private
    (0x6440_0000, 10), // 100.64.0.0/10 shared address space
    (0x7f00_0000, 8),  // 127.0.0.0/8 loopback
    (0xa9fe_0000, 16), // 169.254.0.0/16 link-local
    (0xac10_0000, 12), // 172.16.0.0/12 private
    (0xc000_0000, 24), // 192.0.0.0/24 IETF protocol assignments (but .9 and .10, below)
    (0xc000_0200, 24), // 192.0.2.0/24 documentation
    (0xc058_6300, 24), // 192.88.99.0/24 6to4 relay anycast (deprecated)
    (0xc0a8_0000, 16), // 192.168.0.0/16 private
    (0xc612_0000, 15), // 198.18.0.0/15 benchmarking
    (0xc633_6400, 24), // 198.51.100.0/24 documentation
    (0xcb00_7100, 24), // 203.0.113.0/24 documentation
    (0xe000_0000, 4),  // 224.0.0.0/4 multicast
    (0xf000_0000, 4),  // 240.0.0.0/4 reserved
    (0xffff_ffff, 32), // 255.255.255.255 limited broadcast
];

/// IANA's IPv6 special-purpose ranges that are not globally reachable, plus multicast, the
/// deprecated site-local space, and the prefixes refused whole (local-use NAT64, 6to4; Teredo,
/// inside 2001::/23, in `is_public_v6`). IPv4-mapped addresses never get here.
const NOT_GLOBAL_V6: [(u128, u8); 14] = [
    (0, 128),                                        // ::/128 unspecified
    (1, 128),                                        // ::1/128 loopback
    (0x0064_ff9b_0001 << 80, 48),                    // 64:ff9b:1::/48 local-use IPv4/IPv6 translation
    (0x0100 << 112, 64),                             // 100::/64 discard-only
    (0x0100_0000_0000_0001 << 64, 64),               // 100:0:0:1::/64 dummy prefix
    (0x2001 << 112, 23),                             // 2001::/23 IETF protocol assignments (exceptions below)
    (0x2001_0db8 << 96, 32),                         // 2001:db8::/32 documentation
    (0x2002 << 112, 16),                             // 2002::/16 6to4
    (0x3fff << 112, 20),                             // 3fff::/20 documentation
    (0x5f00 << 112, 16),                             // 5f00::/16 segment routing SIDs
    (0xfc00 << 112, 7),                              // fc00::/7 unique local
    (0xfe80 << 112, 10),                             // fe80::/10 link-local
    (0xfec0 << 112, 10),                             // fec0::/10 site-local (deprecated)
    (0xff00 << 112, 8),                              // ff00::/8 multicast
];

/// Globally reachable ranges inside the not-global ones above (IANA's exceptions).
const GLOBAL_EXCEPTIONS_V4: [(u32, u8); 2] = [(0xc000_0009, 32), (0xc000_000a, 32)]; // PCP and TURN anycast
const GLOBAL_EXCEPTIONS_V6: [(u128, u8); 7] = [
    ((0x2001_0001 << 96) | 1, 128),   // 2001:1::1 PCP anycast
    ((0x2001_0001 << 96) | 2, 128),   // 2001:1::2 TURN anycast
    ((0x2001_0001 << 96) | 3, 128),   // 2001:1::3 DNS-SD service registration anycast
    (0x2001_0003 << 96, 32),          // 2001:3::/32 AMT
    (0x2001_0004_0112 << 80, 48),     // 2001:4:112::/48 AS112-v6
    (0x2001_0020 << 96, 28),          // 2001:20::/28 ORCHIDv2
    (0x2001_0030 << 96, 28),          // 2001:30::/28 drone remote ID
];

fn in_v4(ip: u32, (net, len): (u32, u8)) -> bool {
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - u32::from(len)) };
    ip & mask == net & mask
}

fn in_v6(ip: u128, (net, len): (u128, u8)) -> bool {
    let mask = if len == 0 { 0 } else { u128::MAX << (128 - u32::from(len)) };
    ip & mask == net & mask
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let ip = u32::from(ip);
    GLOBAL_EXCEPTIONS_V4.iter().any(|&range| in_v4(ip, range)) || !NOT_GLOBAL_V4.iter().any(|&range| in_v4(ip, range))
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let ip = u128::from(ip);
    // 2001::/32 (Teredo) is refused whole, before the exceptions of 2001::/23 are looked at.
    if in_v6(ip, (0x2001 << 112, 32)) {
        return false;
    }
    GLOBAL_EXCEPTIONS_V6.iter().any(|&range| in_v6(ip, range)) || !NOT_GLOBAL_V6.iter().any(|&range| in_v6(ip, range))
}

/// The IPv4 address an IPv6 one carries where its own prefix says which: IPv4-mapped
/// (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`, deprecated; not `::` nor `::1`), and the
/// well-known NAT64 prefix (`64:ff9b::a.b.c.d`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let bits = u128::from(ip);
    let low = Ipv4Addr::from((bits & 0xffff_ffff) as u32);
    let mapped = in_v6(bits, (0xffff << 32, 96));
    let compatible = in_v6(bits, (0, 96)) && bits > 1;
    let nat64 = in_v6(bits, (0x0064_ff9b << 96, 96));
    (mapped || compatible || nat64).then_some(low)
}

/// Parses `target`: an absolute `http` or `https` URL with a host and no credentials.
pub fn parse(target: &str) -> Result<Url, TargetError> {
    let url = Url::parse(target).map_err(|e| TargetError::Invalid(format!("not an absolute URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(TargetError::Invalid("the scheme must be http or https".into()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(TargetError::Invalid("the URL has no host".into()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(TargetError::Invalid("credentials do not belong in the URL".into()));
    }
    Ok(url)
}

/// How long creation waits for a name to resolve before taking it as unresolved.
const LOOKUP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// The checks of creation: a valid URL; unless `allow_private`, an IP literal must be public,
/// and a name must not resolve to any address that is not. A name that does not resolve now is
/// accepted (the receiver may not exist yet), as is one that does not resolve within
/// [`LOOKUP_TIMEOUT`]: every delivery checks again.
pub async fn check(target: &str, allow_private: bool) -> Result<Url, TargetError> {
    let url = parse(target)?;
    if allow_private {
        return Ok(url);
    }
    match url.host() {
        Some(url::Host::Ipv4(ip)) => require_public(IpAddr::V4(ip))?,
        Some(url::Host::Ipv6(ip)) => require_public(IpAddr::V6(ip))?,
        Some(url::Host::Domain(name)) => {
            let port = url.port_or_known_default().unwrap_or(443);
            let lookup = tokio::time::timeout(LOOKUP_TIMEOUT, tokio::net::lookup_host((name, port))).await;
            if let Ok(Ok(addrs)) = lookup {
                for addr in addrs {
                    require_public(addr.ip())?;
                }
            }
        }
        None => return Err(TargetError::Invalid("the URL has no host".into())),
    }
    Ok(url)
}

fn require_public(ip: IpAddr) -> Result<(), TargetError> {
    if is_public(ip) {
        Ok(())
    } else {
        Err(TargetError::Private(format!("{ip} is not a public address (set WEBHOOK_ALLOW_PRIVATE_TARGETS=true to allow it)")))
    }
}

/// Delivery's check of a URL whose host is an IP literal (no resolver is asked for those).
pub fn literal_allowed(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => is_public(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => is_public(IpAddr::V6(ip)),
        _ => true,
    }
}

/// The delivery client's resolver: the system's answers, public addresses only.
#[derive(Debug, Default)]
pub struct PublicResolver;

impl reqwest::dns::Resolve for PublicResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.filter(|a| is_public(a.ip())).collect();
            if addrs.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One address in (and, where it has neighbours, at the edges of) every range refused.
    #[test]
    fn every_special_purpose_range_that_is_not_global_is_refused() {
        for private in [
            "0.1.2.3", "10.0.0.1", "100.64.0.1", "100.127.255.254", "127.0.0.1", "169.254.169.254", "172.31.255.255",
            "192.0.0.8", "192.0.0.170", "192.0.2.1", "192.88.99.1", "192.168.0.1", "198.18.0.1", "198.19.255.255",
            "198.51.100.7", "203.0.113.9", "224.0.0.1", "239.255.255.255", "240.0.0.1", "255.255.255.255",
            "::", "::1", "64:ff9b:1::1", "100::1", "100:0:0:1::1", "2001:2::1", "2001:10::1", "2001:db8::1",
            "2002:7f00:1::", "2002:808:808::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "3fff::1", "5f00::1",
            "fc00::1", "fd12:3456::1", "fe80::1", "fec0::1", "ff02::1",
            // IPv4 inside IPv6: judged by the IPv4 address.
            "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::127.0.0.1", "::10.1.2.3", "64:ff9b::a9fe:a9fe", "64:ff9b::7f00:1",
            "64:ff9b::c000:8",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private} must be refused");
        }
    }

    #[test]
    fn public_addresses_and_ianas_global_exceptions_pass() {
        for public in [
            "1.1.1.1", "8.8.8.8", "93.184.216.34", "100.63.255.255", "100.128.0.1", "172.32.0.1", "192.0.0.9", "192.0.0.10",
            "192.0.3.1", "192.31.196.1", "192.52.193.1", "192.175.48.1", "198.20.0.1", "223.255.255.255",
            "2606:4700:4700::1111", "2620:4f:8000::1", "2001:1::1", "2001:1::2", "2001:1::3", "2001:3::1", "2001:4:112::1",
            "2001:20::1", "2001:30::1", "2001:200::1", "2400:cb00::1",
            "::ffff:8.8.8.8", "::8.8.8.8", "64:ff9b::808:808",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public} is public");
        }
    }

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0", "224.0.0.1",
            "255.255.255.255", "100.64.0.1", "::1", "::", "fe80::1", "fc00::1", "ff02::1", "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[tokio::test]
    async fn targets_are_checked() {
        assert!(matches!(check("ftp://example.com/", false).await, Err(TargetError::Invalid(_))));
        assert!(matches!(check("/relative", false).await, Err(TargetError::Invalid(_))));
        assert!(matches!(check("http://user:pw@example.com/", false).await, Err(TargetError::Invalid(_))));
        assert!(matches!(check("http://127.0.0.1:9/hook", false).await, Err(TargetError::Private(_))));
        assert!(matches!(check("http://[::1]/hook", false).await, Err(TargetError::Private(_))));
        for refused in ["http://[64:ff9b::a9fe:a9fe]/", "http://[2002:7f00:1::]/", "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "http://192.0.0.8/"] {
            assert!(matches!(check(refused, false).await, Err(TargetError::Private(_))), "{refused}");
        }
        assert!(matches!(check("http://localhost:9/hook", false).await, Err(TargetError::Private(_))));
        assert!(check("http://127.0.0.1:9/hook", true).await.is_ok());
        assert!(check("https://93.184.216.34/hook", false).await.is_ok());
    }
}
