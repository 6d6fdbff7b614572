//! `yiping-bench duty`: what the duty engine's round costs the core once a heartbeat, as
//! the live state grows (it walks the live tickets for urgent ones not accepted and ones
//! supervised twice, and the warnings), and what a report costs to lay out as PDF.

use std::time::Instant;

use yiping::domain::State;
use yiping::domain::duty::round::{Rules, round};
use yiping::protocol::{Priority, TicketStatus, examples};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Live tickets, comma-separated sizes.
    #[arg(long, default_value = "10000,100000,1000000")]
    pub tickets: String,
    /// Rounds timed at each size.
    #[arg(long, default_value_t = 50)]
    pub rounds: usize,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    println!("live tickets   round p50     round max   (a heartbeat is 1 s)");
    for n in a.tickets.split(',') {
        let n: usize = n.trim().parse()?;
        let mut s = State::default();
        let base = examples::ticket();
        for i in 0..n as u64 {
            let mut t = base.clone();
            t.id = i + 1;
            // One in twenty urgent, most of them accepted: what a city's open tickets are.
            t.priority = if i % 20 == 0 {
                Priority::Urgent
            } else {
                Priority::Normal
            };
            t.status = if i % 7 == 0 {
                TicketStatus::Assigned
            } else {
                TicketStatus::InProgress
            };
            t.stage_deadline_ms = Some(i64::MAX / 2);
            t.supervised_stages.clear();
            s.tickets.insert(t.id, Box::new(t));
        }
        let rules = Rules::default();
        let mut times = Vec::with_capacity(a.rounds);
        for _ in 0..a.rounds {
            let t = Instant::now();
            let changes = round(&s, &rules, 1_800_000_000_000, true);
            times.push(t.elapsed().as_secs_f64() * 1e3);
            std::hint::black_box(changes);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{n:>12}   {:>8.2} ms   {:>8.2} ms",
            times[times.len() / 2],
            times[times.len() - 1]
        );
    }
    Ok(())
}
