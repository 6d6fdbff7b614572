//! `yiping`: the wall, the gateway, the simulator and the tools, as subcommands
//! (`src/cli/`).

mod cli;

fn main() -> anyhow::Result<()> {
    cli::main()
}
