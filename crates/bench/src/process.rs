//! A gateway as a process of its own (this binary's `serve`), and its `/metrics`: what
//! the benches that measure a gateway from outside share.

use std::io::{Read, Write};
use std::process::{Child, Command as Process};
use std::time::{Duration, Instant};

use crate::wall::rss_of;

/// A gateway child process on `dir/gateway.sqlite` and two free ports, with `tail`
/// appended to its config (tokens, limits) and `args` after its own: up when its port
/// answers. Its log goes to `yiping-bench-gateway.log` in the temporary folder.
pub struct Gateway {
    pub child: Child,
    pub url: String,
    pub http_port: u16,
}

pub fn start_gateway(
    exe: &std::path::Path,
    dir: &std::path::Path,
    tail: &str,
    args: &[String],
) -> anyhow::Result<Gateway> {
    let port = |_| -> anyhow::Result<u16> {
        Ok(std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port())
    };
    let (ws, http) = (port(0)?, port(1)?);
    let cfg = dir.join("gateway.toml");
    let mut f = std::fs::File::create(&cfg)?;
    writeln!(
        f,
        "listen = \"127.0.0.1:{ws}\"\nhttp_listen = \"127.0.0.1:{http}\"\n\
         database = \"{}\"\n{tail}",
        dir.join("gateway.sqlite").display()
    )?;
    let t0 = Instant::now();
    // Its log (tracing writes to stdout) and any panic, in one file.
    let log = std::fs::File::create(std::env::temp_dir().join("yiping-bench-gateway.log"))?;
    let child = Process::new(exe)
        .args(["serve", "--config"])
        .arg(&cfg)
        .args(args)
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()?;
    // Up when its port answers (it loads every ticket first).
    while std::net::TcpStream::connect(("127.0.0.1", ws)).is_err() {
        anyhow::ensure!(
            t0.elapsed() < Duration::from_secs(300),
            "the gateway did not start (see yiping-bench-gateway.log in the temporary folder)"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    println!(
        "gateway: up in {:.1} s, resident {:.0} MB",
        t0.elapsed().as_secs_f64(),
        rss_of(child.id())
    );
    Ok(Gateway {
        child,
        url: format!("ws://127.0.0.1:{ws}"),
        http_port: http,
    })
}

/// The gateway's `/metrics` page, over plain HTTP/1.1.
pub fn metrics_text(port: u16) -> anyhow::Result<String> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        s,
        "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )?;
    let mut text = String::new();
    s.read_to_string(&mut text)?;
    Ok(text)
}

/// The sum of a series over its labels; `name` may carry labels of its own
/// (`x_bucket{le="0.01"}`).
pub fn series(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|r| r.starts_with(' ') || r.starts_with('{'))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}
