//! The dispatcher: one task per server process. Each round it runs the relay (numbers the
//! committed events and makes their deliveries), then claims due deliveries (a lease, so that
//! no other process attempts them meanwhile) and makes each attempt in a task of its own, at
//! most `concurrency` at once: a receiver that never answers holds one slot for the timeout,
//! never the others. Each attempt is recorded, and its delivery moved on (delivered, due again
//! after the next delay of the schedule, or failed).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::Semaphore;

use super::queries::{AttemptRecord, Claimed};
use super::{WebhookSettings, signature, target};
use crate::db::connection::Repo;
use crate::db::error::RepoError;
use crate::http::metrics::Metrics;
use crate::outbox::payload;

/// The most of an answer's body that is read (the rest is not waited for) and kept.
const RESPONSE_READ_LIMIT: usize = 64 * 1024;
const RESPONSE_KEPT: usize = 2000;
/// How often the outbox's backlog is measured for `/metrics`.
const BACKLOG_EVERY: Duration = Duration::from_secs(5);

/// The HTTP clients of deliveries: one that verifies certificates, one that does not (an
/// endpoint with `ssl_cert_verification: false`). Neither follows redirects (a `3xx` is a
/// failure); unless private targets are allowed, both resolve names to public addresses only.
#[derive(Clone)]
pub struct Clients {
    verifying: reqwest::Client,
    trusting: reqwest::Client,
}

impl Clients {
    pub fn new(settings: &WebhookSettings) -> Result<Clients, String> {
        let build = |verify: bool| {
            let mut builder = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                // Never a proxy named by the environment: it would connect to addresses this
                // process never checked.
                .no_proxy()
                .timeout(settings.timeout)
                .connect_timeout(settings.timeout.min(Duration::from_secs(5)))
                .pool_idle_timeout(Duration::from_secs(30))
                .user_agent(concat!("connections-api-webhooks/", env!("CARGO_PKG_VERSION")))
                .danger_accept_invalid_certs(!verify);
            if !settings.allow_private_targets {
                builder = builder.dns_resolver(Arc::new(target::PublicResolver));
            }
            builder.build().map_err(|e| format!("cannot build the webhook client: {e}"))
        };
        Ok(Clients { verifying: build(true)?, trusting: build(false)? })
    }
}

/// Runs the dispatcher until `stop` is notified.
pub async fn run(repo: Repo, settings: WebhookSettings, metrics: Arc<Metrics>, stop: Arc<tokio::sync::Notify>) {
    let clients = match Clients::new(&settings) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "webhooks are not delivered");
            return;
        }
    };
    let slots = Arc::new(Semaphore::new(settings.concurrency.max(1)));
    let settings = Arc::new(settings);
    let mut last_backlog = Instant::now() - BACKLOG_EVERY;
    loop {
        let worked = round(&repo, &settings, &clients, &slots, &metrics).await;
        if last_backlog.elapsed() >= BACKLOG_EVERY {
            last_backlog = Instant::now();
            if let Ok((unnumbered, pending)) = repo.outbox_backlog().await {
                metrics.set_outbox_backlog(unnumbered, pending);
            }
        }
        let pause = if worked { Duration::from_millis(5) } else { settings.poll_interval };
        tokio::select! {
            _ = stop.notified() => break,
            _ = tokio::time::sleep(pause) => {}
        }
    }
}

/// One round; true when it found work (the next round starts at once).
async fn round(repo: &Repo, settings: &Arc<WebhookSettings>, clients: &Clients, slots: &Arc<Semaphore>, metrics: &Arc<Metrics>) -> bool {
    let numbered = match repo.relay_events().await {
        Ok(n) => n,
        Err(e) => {
            log_unavailable("relay", &e);
            0
        }
    };
    let free = slots.available_permits();
    if free == 0 {
        return numbered > 0;
    }
    let claimed = match repo.claim_deliveries(Utc::now(), settings.lease(), free as u64).await {
        Ok(c) => c,
        Err(e) => {
            log_unavailable("claim", &e);
            return false;
        }
    };
    let found = numbered > 0 || !claimed.is_empty();
    // Deactivated between the lease and now: not attempted; it waits, unleased when the lease
    // runs out, as the endpoint's other deliveries do, until the endpoint is active again.
    for delivery in claimed.into_iter().filter(|d| d.endpoint.is_active) {
        let Ok(permit) = slots.clone().acquire_owned().await else { break };
        let (repo, settings, clients, metrics) = (repo.clone(), settings.clone(), clients.clone(), metrics.clone());
        tokio::spawn(async move {
            let record = attempt(&clients, &settings, &delivery).await;
            metrics.record_delivery(&delivery.event.event.r#type, outcome(&record));
            if let Err(e) = repo.record_attempt(&delivery, &record).await {
                // The lease runs out and another round attempts it again: at least once.
                log_unavailable("record", &e);
            }
            drop(permit);
        });
    }
    found
}

fn outcome(record: &AttemptRecord) -> &'static str {
    match (record.delivered, record.next_retry) {
        (true, _) => "delivered",
        (false, Some(_)) => "retrying",
        (false, None) => "failed",
    }
}

fn log_unavailable(step: &str, e: &RepoError) {
    tracing::warn!(step, error = %e, "webhook dispatcher: database step failed; trying again next round");
}

/// Makes one attempt of `delivery`: signs the payload now, POSTs it, reads at most
/// [`RESPONSE_READ_LIMIT`] of the answer.
pub async fn attempt(clients: &Clients, settings: &WebhookSettings, delivery: &Claimed) -> AttemptRecord {
    let endpoint = &delivery.endpoint;
    let body = payload::body(&delivery.event);
    let sent_at = Utc::now();
    let previous = match (&endpoint.previous_secret, endpoint.previous_secret_until_ms) {
        (Some(old), Some(until)) if until > sent_at.timestamp_millis() => Some(old.as_str()),
        _ => None,
    };
    let header = signature::header(&endpoint.secret, previous, sent_at.timestamp(), body.as_bytes());
    let started = Instant::now();
    let result = send(clients, settings, &endpoint.target, endpoint.ssl_cert_verification, &header, &body).await;
    let latency_ms = started.elapsed().as_millis() as i64;
    let (code, response_body, error) = match result {
        Ok((code, text)) => (Some(code), text, None),
        Err(e) => (None, String::new(), Some(e)),
    };
    let delivered = code.is_some_and(|c| (200..300).contains(&c));
    let done_attempts = delivery.attempts + 1;
    let next_retry = match delivered {
        true => None,
        false => settings
            .retry_schedule
            .get((done_attempts - 1) as usize)
            .and_then(|delay| chrono::Duration::from_std(*delay).ok())
            .map(|delay| Utc::now() + delay),
    };
    AttemptRecord {
        sent_at,
        request_body: body,
        signature_header: header,
        response_code: code,
        response_body,
        error,
        latency_ms,
        next_retry,
        delivered,
    }
}

async fn send(clients: &Clients, settings: &WebhookSettings, url: &str, verify: bool, header: &str, body: &str) -> Result<(i64, String), String> {
    let url = target::parse(url).map_err(|e| format!("{e:?}"))?;
    if !settings.allow_private_targets && !target::literal_allowed(&url) {
        return Err("the target is not a public address".into());
    }
    let client = if verify { &clients.verifying } else { &clients.trusting };
    let request = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(signature::HEADER, header)
        .body(body.to_owned());
    // The whole attempt, body included, within the timeout (reqwest's covers it too).
    let work = async {
        let mut response = request.send().await.map_err(describe)?;
        let code = i64::from(response.status().as_u16());
        let mut kept = Vec::new();
        let mut read = 0usize;
        while read < RESPONSE_READ_LIMIT {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    read += chunk.len();
                    if kept.len() < RESPONSE_KEPT {
                        kept.extend_from_slice(&chunk[..chunk.len().min(RESPONSE_KEPT - kept.len())]);
                    }
                }
                Ok(None) | Err(_) => break,
            }
        }
        Ok((code, String::from_utf8_lossy(&kept).into_owned()))
    };
    match tokio::time::timeout(settings.timeout, work).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer within {} s", settings.timeout.as_secs_f64())),
    }
}

/// The error without the URL's query (which may hold a receiver's token).
fn describe(e: reqwest::Error) -> String {
    let e = e.without_url();
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_redirect() {
        "redirected"
    } else {
        "request failed"
    };
    let mut text = format!("{kind}: {e}");
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}
