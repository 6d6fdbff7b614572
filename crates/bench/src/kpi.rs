//! `yiping-bench kpi`: what one event costs the KPI figures (`domain::kpi::Kpis`) as the
//! history grows. A history of N tickets over `--days` days and 4,000 grids is built, then
//! `--events` lifecycle changes (dispatch, accept, start, resolve, rate, close, new
//! intake) are applied one by one and timed; the figures are read once a second's worth
//! of events, as the gateway does. The cost per event should not grow with N.

use std::time::Instant;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use yiping::domain::kpi::Kpis;
use yiping::domain::lifecycle;
use yiping::protocol::{Category, Channel, Command, NewTicket, Priority, Ticket, examples};

#[derive(clap::Args)]
pub struct Args {
    /// History sizes to measure, comma-separated.
    #[arg(long, default_value = "10000,100000,1000000", value_delimiter = ',')]
    sizes: Vec<usize>,
    /// Events timed at each size.
    #[arg(long, default_value_t = 200_000)]
    events: usize,
    /// Days the history spans.
    #[arg(long, default_value_t = 365)]
    days: i64,
}

fn intake(rng: &mut SmallRng, id: u64, created: i64) -> Ticket {
    let n = NewTicket {
        channel: Channel::ALL[rng.random_range(0..8)],
        category: Category::ALL[rng.random_range(0..8)],
        priority: [Priority::Urgent, Priority::Important, Priority::Normal][rng.random_range(0..3)],
        grid: format!(
            "3211{:02}-{:02}-{:03}-{:03}",
            rng.random_range(0..6),
            rng.random_range(0..10),
            rng.random_range(0..12),
            rng.random_range(0..6)
        ),
        created_ms: Some(created),
        sla_minutes: None,
        ..examples::new_ticket()
    };
    lifecycle::new_ticket(id, &n, created, [240, 1440, 4320])
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let unit = examples::unit();
    println!("history     events   ns/event (mean)   p99 ns   figures() µs");
    for &n in &a.sizes {
        let mut rng = SmallRng::seed_from_u64(11);
        let now = 1_795_000_000_000i64;
        let span = a.days * 86_400_000;
        // The history: most tickets archived, the last day's still open.
        let mut open: Vec<Ticket> = Vec::new();
        let mut all: Vec<Ticket> = Vec::with_capacity(n);
        for id in 1..=n as u64 {
            let created = now - span + (id as i64 * span / n as i64);
            let mut t = intake(&mut rng, id, created);
            if now - created > 86_400_000 {
                for c in [
                    Command::Dispatch {
                        ticket: id,
                        unit: unit.id.clone(),
                    },
                    Command::Accept { ticket: id },
                    Command::Resolve {
                        ticket: id,
                        note: String::new(),
                    },
                    Command::Rate {
                        ticket: id,
                        satisfied: rng.random_bool(0.98),
                    },
                    Command::Close { ticket: id },
                ] {
                    t = lifecycle::apply_ticket(&t, &c, Some(&unit), created + 3_600_000)
                        .map_err(|r| anyhow::anyhow!(r.message))?
                        .ticket;
                }
                all.push(t);
            } else {
                open.push(t);
            }
        }
        let mut k = Kpis::recompute(all.iter().chain(open.iter()), now);
        drop(all);
        let mut next = n as u64 + 1;
        let mut clock = now;
        let mut per = Vec::with_capacity(a.events);
        let mut fig_us = Vec::new();
        for e in 0..a.events {
            clock += 5;
            let i = rng.random_range(0..open.len().max(1));
            let t0 = Instant::now();
            if open.is_empty() || rng.random_bool(0.15) {
                let t = intake(&mut rng, next, clock);
                next += 1;
                k.update(None, &t);
                open.push(t);
            } else {
                let t = &open[i];
                let c = match t.status {
                    yiping::protocol::TicketStatus::Received
                    | yiping::protocol::TicketStatus::Returned => Command::Dispatch {
                        ticket: t.id,
                        unit: unit.id.clone(),
                    },
                    yiping::protocol::TicketStatus::Assigned => Command::Accept { ticket: t.id },
                    yiping::protocol::TicketStatus::Accepted => Command::Start { ticket: t.id },
                    yiping::protocol::TicketStatus::InProgress => Command::Resolve {
                        ticket: t.id,
                        note: String::new(),
                    },
                    yiping::protocol::TicketStatus::Resolved => Command::Rate {
                        ticket: t.id,
                        satisfied: true,
                    },
                    _ => Command::Close { ticket: t.id },
                };
                let after = lifecycle::apply_ticket(t, &c, Some(&unit), clock)
                    .map_err(|r| anyhow::anyhow!(r.message))?
                    .ticket;
                k.update(Some(t), &after);
                if after.status == yiping::protocol::TicketStatus::Archived {
                    open.swap_remove(i);
                } else {
                    open[i] = after;
                }
            }
            per.push(t0.elapsed().as_nanos() as f64);
            if e % 1000 == 999 {
                let t1 = Instant::now();
                k.advance(clock);
                std::hint::black_box(k.figures(clock));
                fig_us.push(t1.elapsed().as_secs_f64() * 1e6);
            }
        }
        let mean = per.iter().sum::<f64>() / per.len() as f64;
        per.sort_by(f64::total_cmp);
        let p99 = per[(per.len() as f64 * 0.99) as usize];
        let fig = fig_us.iter().sum::<f64>() / fig_us.len().max(1) as f64;
        println!(
            "{n:>9} {:>9} {mean:>15.0} {p99:>10.0} {fig:>13.1}",
            a.events
        );
    }
    println!("(each event's time includes the lifecycle step that makes it, as in the store)");
    Ok(())
}
