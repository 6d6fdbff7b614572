//! `yiping-gateway`: the server alone, for a site's server machines (no Bevy, winit or
//! wgpu in it). `yiping-gateway --config config/gateway.toml` runs the gateway as
//! `yiping gateway` does; `yiping-gateway account …` manages its credentials.

use clap::Parser;

/// mimalloc, as in the `yiping` binary (its `main.rs` says why and what it measured).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "yiping-gateway",
    version,
    about = "一屏 Yiping's gateway: WebSocket feed, HTTP intake, the store",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(flatten)]
    serve: yiping_gateway::cli::ServeArgs,
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

#[derive(clap::Subcommand)]
enum Cmd {
    /// The gateway's credentials: add, list, revoke, rotate, and the access log.
    Account(yiping_gateway::cli::account::AccountArgs),
    /// 值班表: check a roster CSV and send it to the gateway.
    Roster(yiping_gateway::cli::duty::RosterArgs),
    /// 日报 / 周报: a daily or weekly report, as PDF or HTML.
    Report(yiping_gateway::cli::duty::ReportArgs),
}

fn main() -> anyhow::Result<()> {
    yiping_gateway::cli::init_log("info");
    let cli = Cli::parse();
    match cli.cmd {
        Some(Cmd::Account(a)) => yiping_gateway::cli::account::run(a),
        Some(Cmd::Roster(a)) => yiping_gateway::cli::duty::roster(a),
        Some(Cmd::Report(a)) => yiping_gateway::cli::duty::report(a),
        None => yiping_gateway::cli::serve(cli.serve),
    }
}
