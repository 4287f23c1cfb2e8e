//! A real SMTP listener on loopback that captures what it receives, so mail tests exercise the
//! real SMTP client over a real socket. It speaks the small subset a relay needs (EHLO/HELO,
//! MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT) without TLS, and can be told to reject
//! the next messages with a transient (4xx) or permanent (5xx) reply.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One message as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedMail {
    /// Envelope sender.
    pub mail_from: String,
    /// Envelope recipients.
    pub rcpt_to: Vec<String>,
    /// The message (headers and body), dot-unstuffed, CRLF line ends.
    pub data: String,
}

impl CapturedMail {
    /// The value of a header (first occurrence, unfolded).
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next()?;
        let mut value: Option<String> = None;
        for line in head.split("\r\n") {
            if let Some(v) = value.as_mut() {
                if line.starts_with(' ') || line.starts_with('\t') {
                    v.push_str(line.trim_start());
                    continue;
                }
                break;
            }
            if let Some((key, rest)) = line.split_once(':')
                && key.eq_ignore_ascii_case(name)
            {
                value = Some(rest.trim().to_owned());
            }
        }
        value
    }

    /// The body after the header block (quoted-printable soft breaks removed).
    pub fn body(&self) -> String {
        let body = self
            .data
            .split_once("\r\n\r\n")
            .map(|(_, b)| b)
            .unwrap_or("");
        body.replace("=\r\n", "").replace("=3D", "=")
    }
}

#[derive(Debug, Default)]
struct Shared {
    received: Vec<CapturedMail>,
    reject_next: Vec<&'static str>,
}

/// The listener; it runs until dropped.
#[derive(Debug, Clone)]
pub struct SmtpListener {
    /// Where it listens.
    pub addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    task: Arc<tokio::task::JoinHandle<()>>,
}

impl Drop for SmtpListener {
    fn drop(&mut self) {
        if Arc::strong_count(&self.task) == 1 {
            self.task.abort();
        }
    }
}

impl SmtpListener {
    /// Starts listening on 127.0.0.1 on a free port.
    pub async fn start() -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Mutex::new(Shared::default()));
        let state = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let state = state.clone();
                tokio::spawn(async move {
                    let _ = serve(socket, state).await;
                });
            }
        });
        Ok(Self {
            addr,
            shared,
            task: Arc::new(task),
        })
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<CapturedMail> {
        self.shared
            .lock()
            .map(|s| s.received.clone())
            .unwrap_or_default()
    }

    /// Rejects the next message at RCPT with this reply (e.g. `451 4.3.0 try later`).
    pub fn reject_next(&self, reply: &'static str) {
        if let Ok(mut s) = self.shared.lock() {
            s.reject_next.push(reply);
        }
    }
}

async fn serve(socket: tokio::net::TcpStream, state: Arc<Mutex<Shared>>) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 latchkey-test ESMTP\r\n").await?;
    let mut mail_from = String::new();
    let mut rcpt_to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_owned();
        let verb = command
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply: String = match verb.as_str() {
            "EHLO" => {
                "250-latchkey-test\r\n250-8BITMIME\r\n250-AUTH PLAIN LOGIN\r\n250 SMTPUTF8".into()
            }
            "HELO" => "250 latchkey-test".into(),
            "AUTH" => "235 2.7.0 accepted".into(),
            "MAIL" => {
                mail_from = command
                    .get(10..)
                    .unwrap_or("")
                    .trim()
                    .trim_matches(['<', '>'])
                    .to_owned();
                rcpt_to.clear();
                "250 2.1.0 ok".into()
            }
            "RCPT" => {
                let rejection = state.lock().ok().and_then(|mut s| {
                    if s.reject_next.is_empty() {
                        None
                    } else {
                        Some(s.reject_next.remove(0))
                    }
                });
                match rejection {
                    Some(reply) => reply.into(),
                    None => {
                        let to = command
                            .get(8..)
                            .unwrap_or("")
                            .trim()
                            .trim_matches(['<', '>']);
                        rcpt_to.push(to.split('>').next().unwrap_or(to).to_owned());
                        "250 2.1.5 ok".into()
                    }
                }
            }
            "DATA" => {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    let unstuffed = line.strip_prefix('.').unwrap_or(&line);
                    data.push_str(unstuffed);
                }
                if let Ok(mut s) = state.lock() {
                    s.received.push(CapturedMail {
                        mail_from: mail_from.clone(),
                        rcpt_to: rcpt_to.clone(),
                        data,
                    });
                }
                "250 2.0.0 queued".into()
            }
            "RSET" | "NOOP" => "250 2.0.0 ok".into(),
            "QUIT" => {
                write.write_all(b"221 2.0.0 bye\r\n").await?;
                return Ok(());
            }
            _ => "502 5.5.2 not implemented".into(),
        };
        write.write_all(reply.as_bytes()).await?;
        write.write_all(b"\r\n").await?;
    }
}
