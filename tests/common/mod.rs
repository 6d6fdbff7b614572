//! The shared fixture of the gateway's end-to-end tests: a gateway on loopback on a fresh
//! SQLite file in a temporary folder, with an operator, a viewer and an admin token, and
//! the few moves every test makes (connect and read the snapshot, send a command and wait
//! for its result, register the example unit).
#![allow(dead_code)] // each test binary uses its own share of it
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly where it stands

use std::ops::Deref;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use yiping::gateway::config::{GatewayConfig, Role, TokenConfig};
use yiping::gateway::{self, GatewayHandle};
use yiping::protocol::{
    ClientMsg, Command, CommandOutcome, ErrorCode, Hello, PROTOCOL_VERSION, Resume, ServerMsg,
    examples,
};

pub mod browser;

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub const OP: &str = "operator-token";
pub const VIEW: &str = "viewer-token";
pub const ADMIN: &str = "admin-token-1";

pub fn config(dir: &tempfile::TempDir) -> GatewayConfig {
    let mut cfg = GatewayConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        http_listen: "127.0.0.1:0".parse().unwrap(),
        database: dir.path().join("gateway.sqlite"),
        ..Default::default()
    };
    cfg.tokens = vec![
        TokenConfig::new(OP, Role::Operator, "值班员 王磊"),
        TokenConfig::new(VIEW, Role::Viewer, "大屏"),
        TokenConfig::new(ADMIN, Role::Admin, "管理员"),
    ];
    cfg
}

pub async fn start(dir: &tempfile::TempDir) -> GatewayHandle {
    gateway::start(config(dir)).await.unwrap()
}

pub async fn connect(g: &GatewayHandle, token: &str, resume: Option<Resume>) -> Ws {
    connect_to(g.ws_addr, token, resume).await
}

/// A client of the gateway at `addr` that said hello.
pub async fn connect_to(addr: std::net::SocketAddr, token: &str, resume: Option<Resume>) -> Ws {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}"))
        .await
        .unwrap();
    say(
        &mut ws,
        &ClientMsg::Hello(Hello {
            protocol: PROTOCOL_VERSION,
            token: token.into(),
            resume_from: resume,
            region: None,
            rewind: None,
            encoding: Default::default(),
        }),
    )
    .await;
    ws
}

pub async fn say(ws: &mut Ws, msg: &ClientMsg) {
    ws.send(Message::Text(serde_json::to_string(msg).unwrap().into()))
        .await
        .unwrap();
}

pub async fn next(ws: &mut Ws) -> ServerMsg {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a message within 10 s")
            .expect("stream open")
            .expect("frame ok");
        if let Message::Text(t) = frame {
            return serde_json::from_str(&t).unwrap();
        }
    }
}

/// The next message is the error `code`, and its message names `says`.
pub async fn expect_error(ws: &mut Ws, code: ErrorCode, says: &str) {
    match next(ws).await {
        ServerMsg::Error { code: got, message } => {
            assert_eq!(got, code, "{message}");
            assert!(message.contains(says), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

/// The next message that is not a heartbeat (or the figures that follow it).
pub async fn next_real(ws: &mut Ws) -> ServerMsg {
    loop {
        match next(ws).await {
            ServerMsg::Heartbeat { .. } | ServerMsg::Kpis { .. } | ServerMsg::Live { .. } => {
                continue;
            }
            m => return m,
        }
    }
}

/// Read a whole snapshot; returns (epoch, seq, tickets).
pub async fn snapshot(ws: &mut Ws) -> (String, u64, usize) {
    let mut n = 0;
    loop {
        match next_real(ws).await {
            ServerMsg::Snapshot(s) => {
                n += s.tickets.len();
                if s.last {
                    return (s.epoch, s.seq, n);
                }
            }
            other => panic!("expected a snapshot, got {other:?}"),
        }
    }
}

pub fn cmd(key: &str, command: Command) -> ClientMsg {
    ClientMsg::Command {
        key: key.into(),
        command,
    }
}

pub fn intake(key: &str) -> ClientMsg {
    cmd(
        key,
        Command::Intake {
            ticket: examples::new_ticket(),
        },
    )
}

/// Send a command and read up to its result; returns the deltas seen before it and it.
pub async fn run(ws: &mut Ws, msg: ClientMsg) -> (Vec<ServerMsg>, CommandOutcome) {
    let ClientMsg::Command { key, .. } = &msg else {
        panic!()
    };
    let key = key.clone();
    say(ws, &msg).await;
    let mut seen = vec![];
    loop {
        match next_real(ws).await {
            ServerMsg::CommandResult { key: k, outcome } if k == key => return (seen, outcome),
            m => seen.push(m),
        }
    }
}

/// Send a command that must be applied; the id it made, if any.
pub async fn ok(ws: &mut Ws, key: &str, command: Command) -> Option<u64> {
    match run(ws, cmd(key, command)).await.1 {
        CommandOutcome::Ok { id, .. } => id,
        r => panic!("{key}: {r:?}"),
    }
}

/// Send a command that must be refused with `code`.
pub async fn refused(ws: &mut Ws, key: &str, command: Command, code: ErrorCode) {
    match run(ws, cmd(key, command)).await.1 {
        CommandOutcome::Refused { code: c, .. } if c == code => {}
        r => panic!("{key}: {r:?}, not {code}"),
    }
}

/// A program's standard output, which must succeed (its standard error in the panic).
pub fn stdout_of(mut command: std::process::Command) -> Vec<u8> {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

pub fn delta_seq(m: &ServerMsg) -> Option<u64> {
    match m {
        ServerMsg::Delta { seq, .. } => Some(*seq),
        _ => None,
    }
}

/// A gateway on a fresh database in a temporary folder (kept while the fixture lives, so
/// that a restart finds the same file).
pub struct Gw {
    pub g: GatewayHandle,
    pub dir: tempfile::TempDir,
}

impl Deref for Gw {
    type Target = GatewayHandle;
    fn deref(&self) -> &GatewayHandle {
        &self.g
    }
}

impl Gw {
    pub async fn start() -> Gw {
        let dir = tempfile::tempdir().unwrap();
        Gw {
            g: start(&dir).await,
            dir,
        }
    }

    /// A client with `token` that has read its whole snapshot.
    pub async fn client(&self, token: &str) -> Ws {
        let mut ws = connect(&self.g, token, None).await;
        snapshot(&mut ws).await;
        ws
    }

    /// An admin client, with the example unit registered.
    pub async fn admin_with_unit(&self) -> Ws {
        let mut admin = self.client(ADMIN).await;
        let (_, out) = run(
            &mut admin,
            cmd(
                "unit",
                Command::UpsertUnit {
                    unit: examples::unit(),
                },
            ),
        )
        .await;
        assert!(matches!(out, CommandOutcome::Ok { .. }), "{out:?}");
        admin
    }

    /// Stop the gateway and start it again on the same database.
    pub async fn restart(self) -> Gw {
        let Gw { g, dir } = self;
        g.shutdown().await;
        Gw {
            g: start(&dir).await,
            dir,
        }
    }

    pub async fn shutdown(self) {
        self.g.shutdown().await;
    }
}

/// Rewind the gateway at `addr` over the wire from `from_ms` at 3,600x and read the replay
/// to its end: the ids of every ticket it showed (in its snapshot or its deltas).
pub async fn rewind_ids(addr: std::net::SocketAddr, token: &str, from_ms: i64) -> Vec<u64> {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}"))
        .await
        .unwrap();
    let ask = yiping::protocol::RewindAsk {
        from_ms,
        speed: 3600.0,
    };
    say(&mut ws, &yiping::wire::rewind_hello(token, None, ask)).await;
    let mut ids = std::collections::BTreeSet::new();
    loop {
        let m = tokio::time::timeout(Duration::from_secs(60), next(&mut ws))
            .await
            .expect("the rewind goes on to its end");
        match m {
            ServerMsg::Snapshot(s) => ids.extend(s.tickets.iter().map(|t| t.id)),
            ServerMsg::Delta { event, .. } => ids.extend(event.ticket().map(|t| t.id)),
            ServerMsg::Replay { done: true, .. } => return ids.into_iter().collect(),
            ServerMsg::Error { code, message } => panic!("rewind refused: {code:?} {message}"),
            _ => {}
        }
    }
}

/// A third-party check of the `/metrics` format: Prometheus's own `promtool check metrics`
/// (tools/test.sh installs Debian's prometheus package).
pub fn promtool_accepts(text: &str) {
    use std::io::Write;
    let mut promtool = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool (Debian's prometheus package; tools/test.sh installs it)");
    promtool
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = promtool.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `yiping gateway` as a process of its own on `dir/g.sqlite` (with `prefix` before it in
/// the shell, `extra` in its config and the test tokens); returns it and where it listens.
pub fn gateway_process(
    dir: &std::path::Path,
    prefix: &str,
    extra: &str,
) -> (
    std::process::Child,
    std::net::SocketAddr,
    std::net::SocketAddr,
) {
    let cfg_path = dir.join("gateway.toml");
    let tokens: String = [
        (VIEW, "viewer", "大屏"),
        (OP, "operator", "值班员"),
        (ADMIN, "admin", "管理员"),
    ]
    .iter()
    .map(|(t, r, n)| format!("[[tokens]]\ntoken = \"{t}\"\nrole = \"{r}\"\nname = \"{n}\"\n"))
    .collect();
    std::fs::write(
        &cfg_path,
        format!(
            "{}database = {:?}\n{extra}{tokens}",
            // `extra` may name the addresses itself (a node restarted on its ports).
            if extra.contains("listen =") {
                ""
            } else {
                "listen = \"127.0.0.1:0\"\nhttp_listen = \"127.0.0.1:0\"\n"
            },
            dir.join("g.sqlite")
        ),
    )
    .unwrap();
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{prefix}exec {} gateway --config {}",
            env!("CARGO_BIN_EXE_yiping"),
            cfg_path.display()
        ))
        .env(
            "RUST_LOG",
            "info,yiping=debug,yiping_gateway=debug,yiping_store=debug,yiping_cluster=debug",
        )
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(dir.join("gateway.stderr")).unwrap())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(out));
    let addr_of = |line: &str, key: &str| -> Option<std::net::SocketAddr> {
        let i = line.find(key)? + key.len();
        line[i..].split_whitespace().next()?.parse().ok()
    };
    let (ws, http) = loop {
        let Some(Ok(line)) = lines.next() else {
            let err = std::fs::read_to_string(dir.join("gateway.stderr")).unwrap_or_default();
            panic!("the gateway did not say where it listens: {err}");
        };
        if let (Some(w), Some(h)) = (addr_of(&line, "ws_addr="), addr_of(&line, "http_addr=")) {
            break (w, h);
        }
    };
    // The rest of its log goes to dir/gateway.log, for a failure's post-mortem.
    let mut log = std::fs::File::create(dir.join("gateway.log")).unwrap();
    std::thread::spawn(move || {
        for l in lines.map_while(Result::ok) {
            let _ = std::io::Write::write_all(&mut log, format!("{l}\n").as_bytes());
        }
    });
    (child, ws, http)
}

/// A bare HTTP/1.1 request; returns (status, body).
pub async fn http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    token: &str,
    body: &str,
) -> (u16, String) {
    http_as(addr, (method, path), token, "application/json", body).await
}

pub async fn http_as(
    addr: std::net::SocketAddr,
    request: (&str, &str),
    token: &str,
    content_type: &str,
    body: &str,
) -> (u16, String) {
    let (status, body) = http_bytes(addr, request, token, content_type, body.as_bytes()).await;
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// `yiping account --database db …`: its standard output.
pub fn account_cli(db: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_yiping"))
        .arg("account")
        .arg("--database")
        .arg(db)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "yiping account {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// The token an `account add` or `rotate` printed (its last line).
/// The token a `yiping account add` or `rotate` printed (its last line).
pub fn token_of(out: &str) -> String {
    out.lines().last().unwrap().trim().to_string()
}

/// A CA and a certificate it signed for 127.0.0.1, as PEM files in `dir`; returns the
/// CA's file.
pub fn make_certs(
    dir: &std::path::Path,
) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "一屏 test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".into()]).unwrap();
    let cert = server.signed_by(&key, &ca_cert, &ca_key).unwrap();
    let (ca_path, cert_path, key_path) = (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    );
    std::fs::write(&ca_path, ca_cert.pem()).unwrap();
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    (ca_path, cert_path, key_path)
}

/// A bare HTTP/1.1 request with a body of bytes; returns (status, body bytes).
pub async fn http_bytes(
    addr: std::net::SocketAddr,
    (method, path): (&str, &str),
    token: &str,
    content_type: &str,
    body: &[u8],
) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    tokio::io::AsyncWriteExt::write_all(&mut s, head.as_bytes())
        .await
        .unwrap();
    // A refusal may come before the whole body is sent (and the socket close under it).
    let _ = tokio::io::AsyncWriteExt::write_all(&mut s, body).await;
    let mut out = Vec::new();
    let _ = tokio::io::AsyncReadExt::read_to_end(&mut s, &mut out).await;
    let status = std::str::from_utf8(&out[9..12]).unwrap().parse().unwrap();
    let at = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    (status, out[at..].to_vec())
}

/// A Python tool from PyPI in a folder of its own (installed on first use, like
/// nats-server): where it is, for `PYTHONPATH`.
pub fn python_tool(package: &str) -> std::path::PathBuf {
    python_tool_with(package, &[])
}

/// The same, with pip's options (`--no-deps` for a package whose pins do not build here).
pub fn python_tool_with(package: &str, options: &[&str]) -> std::path::PathBuf {
    let home = std::env::var("HOME").unwrap_or_else(|_| "/tmp".into());
    let dir = std::path::Path::new(&home).join(".cache/yiping-tools/py");
    let name = package.split("==").next().unwrap_or(package);
    if !dir.join(name).exists() {
        testkit::pip_install(&dir, package, options).unwrap();
    }
    dir
}

/// Run a Python script with `lib` on its path and one argument; what it prints, as JSON.
pub fn run_python(script: &str, arg: &str, lib: &std::path::Path) -> serde_json::Value {
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(arg)
        .env("PYTHONPATH", lib)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
