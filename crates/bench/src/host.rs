//! What the machine did during a bench window, beside what was measured: the CPU time the
//! hypervisor took (`steal`), the kernel's softirq time (loopback TCP is received there),
//! and how long a process's threads waited for a CPU once runnable (the scheduler's own
//! account, `/proc/<pid>/task/*/schedstat`). A delivery slower with the joins than
//! without is then either the gateway's work or a thread that was ready and not run.

use std::ops::Sub;

/// Readings of /proc/stat's first line, ms since boot (all CPUs summed).
#[derive(Clone, Copy, Default, Debug, PartialEq)]
pub struct Host {
    pub steal_ms: f64,
    pub softirq_ms: f64,
}

impl Host {
    pub fn read() -> Host {
        std::fs::read_to_string("/proc/stat")
            .ok()
            .and_then(|s| Host::parse(s.lines().next()?))
            .unwrap_or_default()
    }

    /// `cpu  user nice system idle iowait irq softirq steal …`, in USER_HZ ticks of 10 ms.
    fn parse(line: &str) -> Option<Host> {
        let f: Vec<f64> = line
            .split_whitespace()
            .skip(1)
            .map(|v| v.parse().ok())
            .collect::<Option<_>>()?;
        Some(Host {
            softirq_ms: *f.get(6)? * 10.0,
            steal_ms: *f.get(7)? * 10.0,
        })
    }
}

impl Sub for Host {
    type Output = Host;
    fn sub(self, o: Host) -> Host {
        Host {
            steal_ms: self.steal_ms - o.steal_ms,
            softirq_ms: self.softirq_ms - o.softirq_ms,
        }
    }
}

impl std::ops::AddAssign for Host {
    fn add_assign(&mut self, o: Host) {
        self.steal_ms += o.steal_ms;
        self.softirq_ms += o.softirq_ms;
    }
}

/// Time a process's threads spent runnable but not running, and how often they were run.
/// Threads at SCHED_IDLE (the gateway's builders and bulk sender) are left out: they are
/// meant to wait.
#[derive(Clone, Copy, Default, Debug, PartialEq)]
pub struct Waits {
    pub waited_ms: f64,
    pub runs: f64,
}

/// Linux's SCHED_IDLE policy number, as /proc/<pid>/stat's 41st field shows it.
const SCHED_IDLE: u32 = 5;

impl Waits {
    /// Summed over `pid`'s live threads (a thread that ended since the last reading is
    /// missing from both readings' difference only if it was made meanwhile too).
    pub fn of(pid: u32) -> Waits {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            return Waits::default();
        };
        let mut w = Waits::default();
        for t in tasks.flatten() {
            let read = |f: &str| std::fs::read_to_string(t.path().join(f)).ok();
            let (Some(stat), Some(sched)) = (read("stat"), read("schedstat")) else {
                continue;
            };
            if policy(&stat) == Some(SCHED_IDLE) {
                continue;
            }
            if let Some((waited, runs)) = parse_schedstat(&sched) {
                w.waited_ms += waited;
                w.runs += runs;
            }
        }
        w
    }

    /// Mean wait per run, µs.
    pub fn per_run_us(&self) -> f64 {
        self.waited_ms * 1000.0 / self.runs.max(1.0)
    }
}

impl Sub for Waits {
    type Output = Waits;
    fn sub(self, o: Waits) -> Waits {
        Waits {
            waited_ms: self.waited_ms - o.waited_ms,
            runs: self.runs - o.runs,
        }
    }
}

impl std::ops::AddAssign for Waits {
    fn add_assign(&mut self, o: Waits) {
        self.waited_ms += o.waited_ms;
        self.runs += o.runs;
    }
}

impl std::fmt::Display for Waits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:.0} ms ({:.0} µs a run)",
            self.waited_ms,
            self.per_run_us()
        )
    }
}

/// The scheduling policy from a thread's `stat` line: the 41st field, counted after the
/// command name (which may hold spaces and parentheses, so from the last ')').
fn policy(stat: &str) -> Option<u32> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // Fields 3.. follow the name; the policy is field 41.
    rest.split_whitespace().nth(41 - 3)?.parse().ok()
}

/// `schedstat`: ns on the CPU, ns waiting on a run queue, times run. (ms waited, runs).
fn parse_schedstat(s: &str) -> Option<(f64, f64)> {
    let mut f = s.split_whitespace().map(|v| v.parse::<f64>().ok());
    let _on_cpu = f.next()??;
    let waited = f.next()??;
    let runs = f.next()??;
    Some((waited / 1e6, runs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_stat_gives_softirq_and_steal() {
        let h = Host::parse("cpu  100 2 30 4000 5 0 61 17 0 0").unwrap();
        assert_eq!(
            h,
            Host {
                softirq_ms: 610.0,
                steal_ms: 170.0
            }
        );
        assert_eq!(Host::parse("cpu  1 2 3"), None);
    }

    #[test]
    fn a_threads_policy_is_read_from_its_stat_line() {
        // A thread of this test at SCHED_IDLE, read back from the kernel's own line.
        let (tx, rx) = std::sync::mpsc::sync_channel(0);
        let t = std::thread::spawn(move || {
            yiping::gateway::lower_priority();
            // SAFETY: gettid has no arguments and cannot fail.
            let tid = unsafe { libc::syscall(libc::SYS_gettid) };
            let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).unwrap();
            let _ = rx.recv();
            stat
        });
        let mine = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        let _ = tx.send(());
        assert_eq!(policy(&t.join().unwrap()), Some(SCHED_IDLE));
        assert_eq!(policy(&mine), Some(0));
        // A name may hold spaces and parentheses.
        let odd = mine.replacen('(', "(a ) (b ", 1);
        assert_eq!(policy(&odd), Some(0));
        assert_eq!(policy("no name"), None);
    }

    #[test]
    fn this_threads_waits_are_read_from_the_kernel() {
        let w = Waits::of(std::process::id());
        // This test's own thread has run at least once; on a kernel without schedstat
        // the reading is zero and the bench says so by printing it.
        assert!(w.runs >= 1.0 || !std::path::Path::new("/proc/self/schedstat").exists());
        assert_eq!(parse_schedstat("5000000 2500000 7\n"), Some((2.5, 7.0)));
    }
}
