//! `yiping roster import` and `yiping report`: the duty room from the command line, over
//! a running gateway's HTTP port with an account's token (the roster is a command like any
//! other: authorized, in the log and the audit trail, on every node of a cluster).

use std::io::Read;
use std::path::PathBuf;

use crate::duty::roster_csv;

/// Where the gateway is and who asks.
#[derive(clap::Args, Debug)]
pub struct Remote {
    /// The gateway's HTTP address.
    #[arg(long, default_value = "http://127.0.0.1:7401")]
    pub gateway: String,
    /// An account's token (an admin's for a roster); or set YIPING_TOKEN.
    #[arg(long, env = "YIPING_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

/// 值班表 (duty roster).
#[derive(clap::Args, Debug)]
pub struct RosterArgs {
    #[command(subcommand)]
    pub cmd: RosterCmd,
}

#[derive(clap::Subcommand, Debug)]
pub enum RosterCmd {
    /// Check a roster CSV (center,role,person,name,phone,credential,start,end) and, unless
    /// --check, send it to the gateway: every row is checked first; nothing is taken until
    /// every row is right.
    Import {
        file: PathBuf,
        /// Only check the file; send nothing.
        #[arg(long)]
        check: bool,
        #[command(flatten)]
        remote: Remote,
    },
}

/// 日报 / 周报 (daily or weekly report) of the credential's scope, as PDF or HTML.
#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// daily or weekly.
    pub kind: String,
    /// The day (a weekly report: the week's last day), YYYY-MM-DD.
    #[arg(long)]
    pub date: String,
    /// pdf or html.
    #[arg(long, default_value = "pdf")]
    pub format: String,
    /// A region inside the token's scope (a district's report).
    #[arg(long)]
    pub region: Option<String>,
    /// Where to write it (default: daily-<date>.<format> here).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub remote: Remote,
}

fn token(r: &Remote) -> anyhow::Result<String> {
    r.token
        .clone()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| anyhow::anyhow!("give an account's token: --token or YIPING_TOKEN"))
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(120)))
        .build()
        .into()
}

/// The gateway's error answer as a line: its code and what to fix.
fn refused(status: u16, body: &str) -> anyhow::Error {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    match (v["code"].as_str(), v["message"].as_str()) {
        (Some(c), Some(m)) => anyhow::anyhow!("the gateway refused it (HTTP {status}, {c}):\n{m}"),
        _ => anyhow::anyhow!(
            "the gateway answered HTTP {status}: {}",
            body.chars().take(300).collect::<String>()
        ),
    }
}

pub fn roster(a: RosterArgs) -> anyhow::Result<()> {
    let RosterCmd::Import {
        file,
        check,
        remote,
    } = a.cmd;
    let text = std::fs::read_to_string(&file).map_err(|e| {
        anyhow::anyhow!(
            "cannot read {}: {e} (save the roster as UTF-8 CSV)",
            file.display()
        )
    })?;
    let roster = match roster_csv::read(&text) {
        Ok(r) => r,
        Err(problems) => {
            for p in &problems {
                eprintln!("{}: {p}", file.display());
            }
            anyhow::bail!("{} problem(s): nothing was sent", problems.len());
        }
    };
    println!(
        "{}: {} people, {} shifts, all rows correct",
        file.display(),
        roster.people.len(),
        roster.shifts.len()
    );
    if check {
        return Ok(());
    }
    let url = format!("{}/api/roster", remote.gateway.trim_end_matches('/'));
    let mut resp = agent()
        .post(&url)
        .header("Authorization", &format!("Bearer {}", token(&remote)?))
        .header("Content-Type", "text/csv; charset=utf-8")
        .send(text.as_bytes())
        .map_err(|e| anyhow::anyhow!("cannot reach the gateway at {url}: {e}"))?;
    let status = resp.status().as_u16();
    let body = resp.body_mut().read_to_string().unwrap_or_default();
    if status != 200 {
        return Err(refused(status, &body));
    }
    println!("taken by the gateway: {body}");
    Ok(())
}

pub fn report(a: ReportArgs) -> anyhow::Result<()> {
    if crate::report::Kind::parse(&a.kind).is_none() {
        anyhow::bail!("no report {:?}: daily or weekly", a.kind);
    }
    let mut url = format!(
        "{}/api/reports/{}?date={}&format={}",
        a.remote.gateway.trim_end_matches('/'),
        a.kind,
        a.date,
        a.format
    );
    if let Some(r) = &a.region {
        url += &format!("&region={r}");
    }
    let mut resp = agent()
        .get(&url)
        .header("Authorization", &format!("Bearer {}", token(&a.remote)?))
        .call()
        .map_err(|e| anyhow::anyhow!("cannot reach the gateway at {url}: {e}"))?;
    let status = resp.status().as_u16();
    let mut bytes = Vec::new();
    resp.body_mut()
        .with_config()
        .limit(64 << 20)
        .reader()
        .read_to_end(&mut bytes)?;
    if status != 200 {
        return Err(refused(status, &String::from_utf8_lossy(&bytes)));
    }
    let out = a
        .out
        .unwrap_or_else(|| PathBuf::from(format!("{}-{}.{}", a.kind, a.date, a.format)));
    std::fs::write(&out, &bytes)?;
    println!("{} ({} bytes)", out.display(), bytes.len());
    Ok(())
}
