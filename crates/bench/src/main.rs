//! `yiping-bench`: the benches, as a binary of their own beside the product. Each prints
//! its figures (BENCHMARKS.md holds them with the command and the machine); none is a
//! pass/fail test. `cargo run --release -p yiping-bench -- --help` lists them.

mod duty;
mod gateway;
mod host;
mod kpi;
mod process;
mod snapshot;
mod units;
mod wall;
mod year;

use clap::{Parser, Subcommand};

/// mimalloc, as in the `yiping` binary: the benches measure the product as it ships.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "yiping-bench",
    about = "一屏 Yiping's benches: each prints its figures"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// What the duty engine's round costs the core a heartbeat, as the live state grows.
    Duty(duty::Args),
    /// Load-test a gateway: N clients, a paced event rate, delivery rate and latency.
    Gateway(gateway::Args),
    /// CPU time per frame of the wall's own systems, headless, at a city's and a
    /// province's size.
    Wall(wall::Args),
    /// A province's snapshot end to end: gateway to a wall's first full frame, bytes
    /// and decode time per encoding, other clients' delivery during ten joins.
    Snapshot(snapshot::Args),
    /// Phones of units and grid workers beside the walls: N scoped clients, the walls'
    /// delivery without and with them, memory per idle phone, the dispatches' delivery.
    Units(units::Args),
    /// The gateway's memory over a simulated year: the demo city's simulator against a
    /// gateway whose clock runs fast, resident memory day by day.
    Year(year::Args),
    /// What one event costs the KPI figures as the history grows.
    Kpi(kpi::Args),
    /// The gateway as `yiping gateway` runs it: the benches start it as a process of its
    /// own, from this binary.
    #[command(hide = true)]
    Serve(yiping::gateway::cli::ServeArgs),
}

fn main() -> anyhow::Result<()> {
    yiping::gateway::cli::init_log("info,wgpu=error,naga=warn");
    match Cli::parse().cmd {
        Cmd::Duty(a) => duty::run(a),
        Cmd::Gateway(a) => gateway::run(a),
        Cmd::Wall(a) => wall::run(a),
        Cmd::Snapshot(a) => snapshot::run(a),
        Cmd::Units(a) => units::run(a),
        Cmd::Year(a) => year::run(a),
        Cmd::Kpi(a) => kpi::run(a),
        Cmd::Serve(a) => yiping::gateway::cli::serve(a),
    }
}
