//! `yiping`: the wall, the gateway, the simulator and the tools, as subcommands
//! (`src/cli/`).

mod cli;

/// mimalloc (its 2.x line, without transparent huge pages), not glibc's malloc.
///
/// Measured with `yiping-bench snapshot --first-frame-only` (a million tickets, this
/// 2-core machine): with glibc the feed thread (decoding a part's strings) and the wall's
/// main thread (boxing tickets, building roll-up chains) waited on each other's malloc
/// locks; a third of the feed thread's time was a futex wake inside malloc, and the
/// first full frame came at 2.2-2.9 s. mimalloc's per-thread heaps: 1.46-1.93 s (five
/// runs), the feed's last part handed over at 0.6-0.8 s instead of 1.7 s, compact decode
/// 0.22-0.33 µs a ticket instead of 0.43-0.62. The gateway's resident memory after the ten joins'
/// snapshots: 879 MB instead of 1.5 GB.
///
/// mimalloc 2.3 asks for huge pages on its segments; with THP in `madvise` mode (as
/// here) every first touch then zeroes 2 MB: `clear_page_erms` was 57% of the wall's
/// time and the frame came at 2.9-4.1 s, hence `no_thp`. (The crate's default, the 3.x
/// line, measured like that too.)
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    cli::main()
}
