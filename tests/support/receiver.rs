//! A webhook receiver for tests: a minimal HTTP/1.1 server on a loopback port that records
//! every POST it gets (its `SelfCommunity-Signature` and body) and answers as told: the next
//! status of a script (then 200), never, or a body that does not end.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Clone, Debug)]
pub struct Received {
    pub signature: String,
    pub body: String,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("a JSON payload")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// The script's statuses in turn, then 200.
    Answer,
    /// Reads the request and never answers.
    Silent,
    /// Answers 200 with a body that never ends.
    Endless,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    pub port: u16,
    got: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<u16>>>,
}

impl Receiver {
    pub async fn start(behaviour: Behaviour) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a receiver");
        let port = listener.local_addr().unwrap().port();
        let receiver = Receiver {
            url: format!("http://127.0.0.1:{port}/hook"),
            port,
            got: Arc::default(),
            script: Arc::default(),
        };
        let shared = receiver.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = shared.clone();
                tokio::spawn(async move { shared.serve(stream, behaviour).await });
            }
        });
        receiver
    }

    /// The statuses the next requests get, in turn (then 200).
    pub fn answer_with(&self, statuses: &[u16]) {
        self.script.lock().unwrap().extend(statuses);
    }

    pub fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Waits until `n` requests came (at most 30 s), and answers them.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let got = self.received();
            if got.len() >= n || Instant::now() > deadline {
                assert!(got.len() >= n, "{} of {n} deliveries came within 30 s", got.len());
                return got;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    async fn serve(&self, mut stream: TcpStream, behaviour: Behaviour) {
        let mut buffer = Vec::new();
        loop {
            let Some((head_end, length, signature)) = read_head(&mut stream, &mut buffer).await else { return };
            while buffer.len() < head_end + length {
                let mut chunk = [0u8; 8192];
                match stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                }
            }
            let body = String::from_utf8_lossy(&buffer[head_end..head_end + length]).into_owned();
            buffer.drain(..head_end + length);
            self.got.lock().unwrap().push(Received { signature, body });
            match behaviour {
                Behaviour::Silent => {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    return;
                }
                Behaviour::Endless => {
                    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n";
                    if stream.write_all(head.as_bytes()).await.is_err() {
                        return;
                    }
                    let chunk = format!("{:x}\r\n{}\r\n", 65536, "x".repeat(65536));
                    while stream.write_all(chunk.as_bytes()).await.is_ok() {}
                    return;
                }
                Behaviour::Answer => {
                    let status = self.script.lock().unwrap().pop_front().unwrap_or(200);
                    let answer = format!("HTTP/1.1 {status} Status\r\nContent-Length: 8\r\nContent-Type: text/plain\r\n\r\nreceived");
                    if stream.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                }
            }
        }
    }
}

/// Reads a request's head: where it ends, its `Content-Length`, its signature header.
async fn read_head(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<(usize, usize, String)> {
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
            let header = |name: &str| {
                head.lines()
                    .filter_map(|l| l.split_once(':'))
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.trim().to_owned())
            };
            let length = header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
            return Some((end + 4, length, header("selfcommunity-signature").unwrap_or_default()));
        }
        let mut chunk = [0u8; 8192];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
}
