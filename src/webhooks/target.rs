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

/// Is `ip` an address of the public internet?
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        // shared address space (RFC 6598), benchmarking (RFC 2544), reserved (240/4)
        || (a == 100 && (64..128).contains(&b))
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
        || first == 0x2001 && ip.segments()[1] == 0x0db8 // documentation
        || ip.segments()[..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible, deprecated
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
        assert!(matches!(check("http://localhost:9/hook", false).await, Err(TargetError::Private(_))));
        assert!(check("http://127.0.0.1:9/hook", true).await.is_ok());
        assert!(check("https://93.184.216.34/hook", false).await.is_ok());
    }
}
