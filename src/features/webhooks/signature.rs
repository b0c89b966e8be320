//! `SelfCommunity-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>],v0=<hex>`: HMAC-SHA256 of
//! `"<t>.<body>"` with the endpoint's signing secret (its text's bytes are the key), as
//! SelfCommunity's "Build a webhook endpoint" page describes. Both schemes carry the same
//! signature, so a receiver written for either verifies; while a rotated secret overlaps, the
//! previous secret's signature is a second `v1`.

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const HEADER: &str = "SelfCommunity-Signature";

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 0xf) as usize] as char);
    }
    out
}

/// HMAC-SHA256(secret, "<t>.<body>"), in hex.
pub fn sign(secret: &str, t: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length: cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex(&mac.finalize().into_bytes())
}

/// The header's value: the current secret's signature as `v1` and `v0`, and the previous
/// secret's as a second `v1` while it still signs.
pub fn header(secret: &str, previous: Option<&str>, t: i64, body: &[u8]) -> String {
    let current = sign(secret, t, body);
    match previous {
        Some(old) => format!("t={t},v1={current},v1={},v0={current}", sign(old, t, body)),
        None => format!("t={t},v1={current},v0={current}"),
    }
}

/// What a receiver does (and what the tests do): does any `v1` (or `v0`) of `header` match
/// `secret`'s signature of `body`, compared in constant time? Returns the header's `t`.
pub fn verify(secret: &str, header: &str, body: &[u8]) -> Option<i64> {
    let mut t = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1" | "v0", v)) => signatures.push(v.to_owned()),
            _ => {}
        }
    }
    let t = t?;
    let expected = sign(secret, t, body);
    signatures.iter().any(|s| constant_time_eq(s.as_bytes(), expected.as_bytes())).then_some(t)
}

/// Equal, in a time that depends only on the lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231's test case 2 ("Jefe"), so the HMAC is the standard one, not merely
    /// self-consistent.
    #[test]
    fn the_hmac_is_rfc_4231s() {
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        assert_eq!(hex(&mac.finalize().into_bytes()), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        // sign() is HMAC over "<t>.<body>".
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"12.{}");
        assert_eq!(sign("Jefe", 12, b"{}"), hex(&mac.finalize().into_bytes()));
    }

    #[test]
    fn a_header_verifies_with_its_secrets_only() {
        let body = br#"{"event_id":1}"#;
        let h = header("new", Some("old"), 1_700_000_000, body);
        assert_eq!(h.matches("v1=").count(), 2);
        assert_eq!(verify("new", &h, body), Some(1_700_000_000));
        assert_eq!(verify("old", &h, body), Some(1_700_000_000));
        assert_eq!(verify("other", &h, body), None);
        assert_eq!(verify("new", &h, br#"{"event_id":2}"#), None);
        let single = header("new", None, 5, body);
        assert_eq!(single.matches("v1=").count(), 1);
        assert!(single.starts_with("t=5,v1=") && single.contains(",v0="));
    }
}
