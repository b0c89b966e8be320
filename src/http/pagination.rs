//! `limit`/`offset` paging with Django REST framework's envelope: absolute `next`/`previous`
//! URLs a client can GET as they are, behind a reverse proxy too when it is trusted.

use poem::Request;

use crate::domain::paging::PageRequest;

/// The page a list operation's `limit` and `offset` ask for (their validators have already
/// refused values below 1 and 0).
pub fn page_request(limit: Option<i64>, offset: Option<i64>) -> PageRequest {
    PageRequest::new(limit.and_then(|l| u64::try_from(l).ok()), offset.and_then(|o| u64::try_from(o).ok()))
}

/// The same for the lists that answer whole without `limit` (see
/// [`PageRequest::whole_unless_limited`]).
pub fn whole_page_request(limit: Option<i64>, offset: Option<i64>) -> PageRequest {
    PageRequest::whole_unless_limited(limit.and_then(|l| u64::try_from(l).ok()), offset.and_then(|o| u64::try_from(o).ok()))
}

/// The URL of this request's page at `offset` (`None`: without an offset), other query
/// parameters kept.
fn page_url(req: &Request, trust_forwarded: bool, limit: Option<u64>, offset: Option<u64>) -> String {
    let forwarded = |name: &str| {
        trust_forwarded
            .then(|| req.header(name))
            .flatten()
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let scheme = match forwarded("x-forwarded-proto") {
        Some("https") => "https",
        _ => "http",
    };
    let host = forwarded("x-forwarded-host")
        .or_else(|| req.header("host"))
        .filter(|h| is_host(h))
        .map(str::to_owned)
        .or_else(|| req.local_addr().as_socket_addr().map(|a| a.to_string()))
        .unwrap_or_else(|| "localhost".to_owned());
    // Paths are served without their trailing slash internally; links use the canonical form.
    let path = req.uri().path();
    let path = if path.ends_with('/') { path.to_owned() } else { format!("{path}/") };

    let mut query: Vec<(String, String)> = req
        .uri()
        .query()
        .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| k != "limit" && k != "offset")
        .collect();
    if let Some(limit) = limit {
        query.push(("limit".into(), limit.to_string()));
    }
    if let Some(offset) = offset {
        query.push(("offset".into(), offset.to_string()));
    }
    let query = serde_urlencoded::to_string(&query).unwrap_or_default();
    format!("{scheme}://{host}{path}?{query}")
}

/// A host header worth echoing: a name or address and an optional port, nothing else.
fn is_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}

/// `(next, previous)` for a page of a list of `count` items, as Django REST framework makes them.
pub fn links(req: &Request, trust_forwarded: bool, page: PageRequest, count: u64) -> (Option<String>, Option<String>) {
    let PageRequest { limit, offset } = page;
    if limit == PageRequest::WHOLE {
        // The rest of the list from `offset`: nothing after it; before it, the whole list.
        return (None, (offset > 0).then(|| page_url(req, trust_forwarded, None, None)));
    }
    let next = (offset.saturating_add(limit) < count)
        .then(|| page_url(req, trust_forwarded, Some(limit), Some(offset + limit)));
    let previous = (offset > 0).then(|| {
        if offset <= limit {
            page_url(req, trust_forwarded, Some(limit), None)
        } else {
            page_url(req, trust_forwarded, Some(limit), Some(offset - limit))
        }
    });
    (next, previous)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(uri: &str, headers: &[(&str, &str)]) -> Request {
        let mut builder = Request::builder().uri(uri.parse().unwrap());
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.finish()
    }

    #[test]
    fn next_and_previous_follow_django_rest_framework() {
        let req = request("/api/v2/user/5/connections?mutual=1&limit=2&offset=2", &[("host", "api.test")]);
        let page = PageRequest { limit: 2, offset: 2 };
        let (next, previous) = links(&req, false, page, 7);
        assert_eq!(next.as_deref(), Some("http://api.test/api/v2/user/5/connections/?mutual=1&limit=2&offset=4"));
        assert_eq!(previous.as_deref(), Some("http://api.test/api/v2/user/5/connections/?mutual=1&limit=2"));
        assert_eq!(links(&req, false, PageRequest { limit: 2, offset: 6 }, 7).0, None, "last page");
        assert_eq!(links(&req, false, PageRequest { limit: 2, offset: 0 }, 7).1, None, "first page");
        let (_, previous) = links(&req, false, PageRequest { limit: 2, offset: 5 }, 7);
        assert!(previous.unwrap().ends_with("limit=2&offset=3"));
    }

    #[test]
    fn forwarded_headers_count_only_when_trusted() {
        let headers = [("host", "internal:8080"), ("x-forwarded-proto", "https"), ("x-forwarded-host", "api.example")];
        let req = request("/api/v2/user/connection/requests/", &headers);
        let page = PageRequest { limit: 1, offset: 0 };
        assert!(links(&req, true, page, 3).0.unwrap().starts_with("https://api.example/"));
        assert!(links(&req, false, page, 3).0.unwrap().starts_with("http://internal:8080/"));
    }

    #[test]
    fn a_strange_host_is_not_echoed() {
        let req = request("/api/v2/user/connection/requests/", &[("host", "evil.test/<script>")]);
        let next = links(&req, false, PageRequest { limit: 1, offset: 0 }, 3).0.unwrap();
        assert!(!next.contains("evil"), "{next}");
    }
}
