//! `yiping account add | list | revoke | rotate | log`: the gateway's credentials, in its
//! own database file. It may run while the gateway does: a revocation or a rotation ends
//! the credential's sessions within a second, with no restart. A token is printed once,
//! when made, and stored only as its argon2id hash.

use std::path::PathBuf;

use crate::accounts::{hash_token, new_id, new_token};
use domain::access::Role;
use domain::time::{civil, now_ms};
use store::AccountBook;
use store::accounts::Account;

#[derive(clap::Args)]
pub struct AccountArgs {
    /// The gateway's database file.
    #[arg(long, default_value = "yiping.sqlite")]
    database: PathBuf,
    /// A cluster's PostgreSQL instead (the `[cluster] postgres` of config/cluster.toml).
    #[arg(long)]
    postgres: Option<String>,
    /// Who runs this, for the access log.
    #[arg(long, default_value = "yiping account")]
    by: String,
    #[command(subcommand)]
    cmd: AccountCmd,
}

#[derive(clap::Subcommand)]
enum AccountCmd {
    /// Add a credential for one person or screen; prints its token once.
    Add {
        /// Who or what it is (unique): written in the audit trail of all it does.
        #[arg(long)]
        name: String,
        /// viewer, unit, operator or admin.
        #[arg(long)]
        role: String,
        /// The region it may see and command (a grid-id prefix, e.g. 321102-01 for a
        /// town); the whole city when absent.
        #[arg(long, default_value = "")]
        region: String,
        /// For the unit role: the unit id it acts for.
        #[arg(long)]
        unit: Option<String>,
        #[command(flatten)]
        qr: QrArgs,
    },
    /// Every credential, revoked ones marked.
    List,
    /// Revoke a credential (by id or name): its sessions end within a second.
    Revoke { who: String },
    /// Give a credential a new token (by id or name); the old one stops working.
    Rotate {
        who: String,
        #[command(flatten)]
        qr: QrArgs,
    },
    /// The newest lines of the access log: logins, refusals, additions, revocations.
    Log {
        #[arg(long, default_value_t = 50)]
        lines: usize,
    },
}

/// The phone page's sign-in: its link with the token, as a QR code to print.
#[derive(clap::Args)]
struct QrArgs {
    /// The gateway's HTTP address as phones reach it (e.g. https://gw.city.example:7401):
    /// prints the phone page's sign-in link and its QR code.
    #[arg(long)]
    page: Option<String>,
    /// Also write the QR code, with the account's name under it, to this SVG file (to
    /// print and hand over; it holds the token: keep it like one).
    #[arg(long, requires = "page")]
    qr: Option<PathBuf>,
}

impl QrArgs {
    /// Print the link and its QR code (and write the SVG) for `token`.
    fn show(&self, name: &str, token: &str) -> anyhow::Result<()> {
        let Some(page) = &self.page else {
            return Ok(());
        };
        let link = super::qr::link(page, token)?;
        println!("{}", super::qr::terminal(&link)?);
        println!("phone sign-in link (手机登录链接): {link}");
        if let Some(path) = &self.qr {
            std::fs::write(path, super::qr::svg(&link, name)?)?;
            println!(
                "QR code written to {} (it holds the token: keep it like one)",
                path.display()
            );
        }
        Ok(())
    }
}

pub fn run(a: AccountArgs) -> anyhow::Result<()> {
    let book = match &a.postgres {
        Some(url) => AccountBook::open_postgres(url)?,
        None => AccountBook::open(&a.database)?,
    };
    let find = |who: &str| -> anyhow::Result<Account> {
        book.find(who)?.ok_or_else(|| {
            anyhow::anyhow!(
                "no account '{who}' in {}: see `yiping account list`",
                a.database.display()
            )
        })
    };
    match a.cmd {
        AccountCmd::Add {
            name,
            role,
            region,
            unit,
            qr,
        } => {
            let role = Role::parse(&role).ok_or_else(|| {
                anyhow::anyhow!("--role {role}: use viewer, unit, operator or admin")
            })?;
            if role == Role::Unit && unit.is_none() {
                anyhow::bail!("a unit credential needs --unit (the unit id it acts for)");
            }
            if role != Role::Unit && unit.is_some() {
                anyhow::bail!("--unit goes with --role unit only");
            }
            domain::text::check_text("name", &name, 1, 64)
                .map_err(|r| anyhow::anyhow!(r.message))?;
            if book.find(&name)?.is_some() {
                anyhow::bail!("an account named '{name}' exists: names are unique");
            }
            let id = new_id();
            let token = new_token(&id);
            let account = Account {
                id: id.clone(),
                name,
                role,
                region,
                unit,
                token_hash: hash_token(&token).map_err(anyhow::Error::msg)?,
                created_ms: now_ms(),
                revoked_ms: None,
            };
            book.add(&account, &a.by)?;
            qr.show(&account.name, &token)?;
            println!(
                "account {id} ({}) added. Its token, shown this once:\n{token}",
                account.name
            );
        }
        AccountCmd::List => {
            println!(
                "{:<13} {:<20} {:<9} {:<16} {:<16} state",
                "id", "name", "role", "region", "unit"
            );
            for acc in book.all()? {
                let state = match acc.revoked_ms {
                    Some(t) => format!("revoked {} {}", civil(t).date(), civil(t).hhmm()),
                    None => "active".into(),
                };
                let region = if acc.region.is_empty() {
                    "(city)"
                } else {
                    &acc.region
                };
                println!(
                    "{:<13} {:<20} {:<9} {:<16} {:<16} {state}",
                    acc.id,
                    acc.name,
                    acc.role.as_str(),
                    region,
                    acc.unit.as_deref().unwrap_or("-")
                );
            }
        }
        AccountCmd::Revoke { who } => {
            let acc = find(&who)?;
            if !book.revoke(&acc.id, now_ms(), &a.by)? {
                anyhow::bail!("account {} is revoked already", acc.id);
            }
            println!(
                "account {} ({}) revoked: its sessions end within a second",
                acc.id, acc.name
            );
        }
        AccountCmd::Rotate { who, qr } => {
            let acc = find(&who)?;
            let token = new_token(&acc.id);
            let hash = hash_token(&token).map_err(anyhow::Error::msg)?;
            if !book.rotate(&acc.id, &hash, now_ms(), &a.by)? {
                anyhow::bail!("account {} is revoked: add a new one instead", acc.id);
            }
            qr.show(&acc.name, &token)?;
            println!(
                "account {} ({}) has a new token, shown this once (the old one no longer works):\n{token}",
                acc.id, acc.name
            );
        }
        AccountCmd::Log { lines } => {
            for e in book.recent_log(lines)? {
                let c = civil(e.at_ms);
                println!(
                    "{} {}  {:<13} {:<8} {}",
                    c.date(),
                    c.hhmmss(),
                    e.account,
                    e.event,
                    e.detail
                );
            }
        }
    }
    Ok(())
}
