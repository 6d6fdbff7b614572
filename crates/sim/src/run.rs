//! The simulated city live, against a gateway: its feed in, its commands out, paced to
//! the clock at a chosen speed.

use super::*;

#[derive(Clone, Debug)]
pub struct SimOptions {
    pub url: String,
    /// The CA (PEM) of a `wss://` gateway.
    pub ca: Option<std::path::PathBuf>,
    /// Needs the admin role (it registers units).
    pub token: String,
    /// Simulated seconds per real second.
    pub speed: f64,
    /// Tickets a simulated day across the whole city.
    pub tickets_per_day: f64,
    pub seed: u64,
    /// Stop after this much real time (None: until stopped).
    pub duration: Option<Duration>,
    /// Run this long at this speed first, so that a fresh demo starts with a lived-in
    /// city (deadlines stay scaled to `speed`).
    pub warmup: Option<(Duration, f64)>,
    /// Start a flood (typhoon rain) this long after the start: an hour of simulated time
    /// with 30 times the usual intake in 扬中市 and 丹徒区.
    pub flood_after: Option<Duration>,
}

/// What a run did, for logs and tests.
#[derive(Clone, Debug, Default)]
pub struct SimStats {
    pub intake: u64,
    pub commands: u64,
    pub warnings: u64,
    /// Commands the gateway refused (a simulator that follows the lifecycle makes none,
    /// but for races with other clients).
    pub refused: u64,
    pub accepted: u64,
}

/// Why the simulator stopped before its time.
#[derive(thiserror::Error, Debug)]
pub enum SimError {
    #[error("the simulator's feed did not start: {0}")]
    Feed(std::io::Error),
    #[error("the simulator's feed thread is gone")]
    FeedGone,
}

/// Run the simulator against a gateway until `stop` is set or the duration ends.
pub fn run(opts: &SimOptions, city: &City, stop: Arc<AtomicBool>) -> Result<SimStats, SimError> {
    let mut fc = FeedConfig::new(opts.url.clone(), opts.token.clone());
    fc.ca = opts.ca.clone();
    let h = feed::spawn(fc).map_err(SimError::Feed)?;
    let mut sim = Sim::new(city, opts.speed, opts.tickets_per_day, opts.seed);
    if let Some(after) = opts.flood_after {
        sim.flood(
            &["321182", "321112"],
            now_ms() + after.as_millis() as i64,
            30.0,
        );
    }
    let mut mirror = Mirror::default();
    for c in sim.setup() {
        h.commands.send(c).map_err(|_| SimError::FeedGone)?;
    }
    let started = Instant::now();
    // Steps are measured on the domain clock, which a bench may run fast.
    let mut last = now_ms();
    let tick = Duration::from_millis(100);
    while !stop.load(Ordering::Relaxed) && opts.duration.is_none_or(|d| started.elapsed() < d) {
        let deadline = Instant::now() + tick;
        while let Ok(ev) = h.events.recv_deadline(deadline) {
            match ev {
                FeedEvent::Msg(m, _) => {
                    match &m {
                        protocol::ServerMsg::CommandResult {
                            outcome: protocol::CommandOutcome::Refused { code, message },
                            ..
                        } => {
                            sim.stats.refused += 1;
                            tracing::warn!("sim: refused {code}: {message}");
                        }
                        protocol::ServerMsg::CommandResult { .. } => sim.stats.accepted += 1,
                        _ => {}
                    }
                    let change = mirror.apply(&m);
                    sim.observe(&mirror, &change, now_ms());
                }
                FeedEvent::Status(s) => tracing::info!("sim feed: {s:?}"),
            }
        }
        if mirror.loading || mirror.epoch.is_empty() {
            continue;
        }
        sim.speed = match opts.warmup {
            Some((d, fast)) if started.elapsed() < d => fast,
            _ => opts.speed,
        };
        let now = now_ms();
        let dt = (now - last) as f64;
        last = now;
        for c in sim.step(&mirror, now, dt) {
            h.commands.send(c).map_err(|_| SimError::FeedGone)?;
        }
    }
    Ok(sim.stats)
}
