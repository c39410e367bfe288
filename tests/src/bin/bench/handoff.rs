//! `bench handoff`: 8 clients contending for one lock, each acquiring, doing a GET and SET
//! on a counter, and releasing, over and over: hand-offs per second and the longest wait of
//! any client, for pottery-rs waiting in the masters' queues (`POTTERY.LOCK ... BLOCK`)
//! beside pottery-rs polling, the python-redis-lock package (waiters woken through a list)
//! and Python pottery's Redlock, on the same servers in one run; and a `Semaphore` of one
//! permit waiting in its queue (`POTTERY.SEM.ACQUIRE ... BLOCK`) beside polling.
//!
//! Fairness is read off the longest wait: a first-come-first-served queue makes no client
//! wait longer than the holds of the 7 clients ahead of it (plus their hand-offs), which the
//! table shows beside it as 7 × the longest hold.

use crate::measure::{exit_with, start_servers, Options};
use pottery::{Redlock, Semaphore};
use pottery_tests::{python, workspace_root, Server};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Contending clients.
const CLIENTS: usize = 8;
/// How long each case runs.
const SECONDS: Duration = Duration::from_secs(5);

/// One case's outcome.
struct Outcome {
    case: String,
    masters: usize,
    acquisitions: usize,
    hand_offs: usize,
    longest_wait: Duration,
    longest_hold: Duration,
    lost: i64,
}

impl Outcome {
    fn hand_offs_per_second(&self) -> f64 {
        self.hand_offs as f64 / SECONDS.as_secs_f64()
    }
}

pub fn run(options: &Options) {
    let servers = start_servers(5, options);
    let mut outcomes = Vec::new();
    for masters in [1, 5] {
        let over = &servers[..masters];
        outcomes.push(pottery_rs(over, Kind::Redlock, true));
        outcomes.push(pottery_rs(over, Kind::Redlock, false));
        outcomes.push(python_case(over, "pottery"));
        if masters == 1 {
            outcomes.push(python_case(over, "redis-lock"));
            outcomes.push(pottery_rs(over, Kind::Semaphore, true));
            outcomes.push(pottery_rs(over, Kind::Semaphore, false));
        }
    }
    print(options, &outcomes);
}

/// One held lock: who, how long they waited for it, how long they held it.
type Record = (usize, Duration, Duration);

/// What the pottery-rs clients contend for.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Redlock,
    /// A semaphore of one permit (single master).
    Semaphore,
}

/// One client's lock: acquire for at most `left`, then a release to call.
enum Contender {
    Redlock(Redlock),
    Semaphore(Semaphore),
}

impl Contender {
    fn hold(&self, left: Duration) -> Option<Box<dyn FnOnce()>> {
        match self {
            Contender::Redlock(lock) => {
                let guard = lock.acquire_timeout(left).expect("masters answer")?;
                // A loaded machine can make a master miss its timeout: the lock expires.
                Some(Box::new(move || drop(guard.release())))
            }
            Contender::Semaphore(semaphore) => {
                let permit = semaphore
                    .acquire_timeout(1, left)
                    .expect("server answers")?;
                Some(Box::new(move || drop(permit.release())))
            }
        }
    }
}

fn pottery_rs(servers: &[Server], kind: Kind, blocking: bool) -> Outcome {
    let urls: Vec<String> = servers.iter().map(Server::url).collect();
    let kind_name = match kind {
        Kind::Redlock => "redlock",
        Kind::Semaphore => "sem",
    };
    let name = format!("bench-handoff-{kind_name}-{}-{blocking}", servers.len());
    let counter = format!("{name}:counter");
    let _: i64 = servers[0].cmd(&["DEL", &counter]).expect("DEL");
    let records = Arc::new(Mutex::new(Vec::<Record>::new()));
    let end = Instant::now() + SECONDS;
    let threads: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let lock = match kind {
                Kind::Redlock => Contender::Redlock(
                    Redlock::builder()
                        .name(name.clone())
                        .masters(urls.clone())
                        .ttl(Duration::from_secs(10))
                        .blocking(blocking)
                        .build()
                        .expect("Redlock"),
                ),
                Kind::Semaphore => Contender::Semaphore(
                    Semaphore::open(urls[0].as_str(), &name, 1)
                        .expect("Semaphore")
                        .with_ttl(Duration::from_secs(10))
                        .with_blocking(blocking),
                ),
            };
            let mut work = servers[0].connection();
            let counter = counter.clone();
            let records = Arc::clone(&records);
            std::thread::spawn(move || {
                while let Some(left) = end.checked_duration_since(Instant::now()) {
                    let start = Instant::now();
                    let Some(release) = lock.hold(left) else {
                        continue;
                    };
                    let got = Instant::now();
                    let value: Option<i64> = redis::cmd("GET")
                        .arg(&counter)
                        .query(&mut work)
                        .expect("GET");
                    let () = redis::cmd("SET")
                        .arg(&counter)
                        .arg(value.unwrap_or(0) + 1)
                        .query(&mut work)
                        .expect("SET");
                    let held = Instant::now();
                    release();
                    records
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push((client, got - start, held - got));
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("client finished");
    }
    let records = records
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let total: Option<i64> = servers[0].cmd(&["GET", &counter]).expect("GET");
    Outcome {
        case: match (kind, blocking) {
            (Kind::Redlock, true) => "pottery-rs Redlock, waiting in the queue (BLOCK)",
            (Kind::Redlock, false) => "pottery-rs Redlock, polling (blocking(false))",
            (Kind::Semaphore, true) => "pottery-rs Semaphore(1), waiting in the queue (BLOCK)",
            (Kind::Semaphore, false) => "pottery-rs Semaphore(1), polling (with_blocking(false))",
        }
        .to_owned(),
        masters: servers.len(),
        acquisitions: records.len(),
        hand_offs: records
            .windows(2)
            .filter(|pair| pair[0].0 != pair[1].0)
            .count(),
        longest_wait: records.iter().map(|r| r.1).max().unwrap_or_default(),
        longest_hold: records.iter().map(|r| r.2).max().unwrap_or_default(),
        lost: records.len() as i64 - total.unwrap_or(0),
    }
}

fn python_case(servers: &[Server], kind: &str) -> Outcome {
    let ports: Vec<String> = servers.iter().map(|s| s.port().to_string()).collect();
    let script = workspace_root().join("tests/python/handoff_worker.py");
    let output = std::process::Command::new(python())
        .arg(&script)
        .args(["--kind", kind, "--ports", &ports.join(",")])
        .args(["--clients", &CLIENTS.to_string()])
        .args(["--seconds", &SECONDS.as_secs_f64().to_string()])
        .output()
        .unwrap_or_else(|error| exit_with(&format!("cannot run Python: {error}")));
    if !output.status.success() {
        exit_with(&format!(
            "the Python {kind} clients failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let fields: Vec<f64> = stdout
        .lines()
        .find_map(|line| line.strip_prefix("result "))
        .map(|rest| rest.split(' ').filter_map(|f| f.parse().ok()).collect())
        .unwrap_or_default();
    let [acquisitions, hand_offs, wait_ms, hold_ms, lost] = fields[..] else {
        exit_with(&format!(
            "the Python {kind} clients printed no result: {stdout}"
        ));
    };
    Outcome {
        case: match kind {
            "redis-lock" => "python-redis-lock 4.0 (SET NX, BLPOP wake-ups)".into(),
            _ => "Python pottery 3.0.1 Redlock (polling)".into(),
        },
        masters: servers.len(),
        acquisitions: acquisitions as usize,
        hand_offs: hand_offs as usize,
        longest_wait: Duration::from_secs_f64(wait_ms / 1000.0),
        longest_hold: Duration::from_secs_f64(hold_ms / 1000.0),
        lost: lost as i64,
    }
}

/// The polling case a case is compared with: the same type's.
fn polling_of(case: &str) -> &'static str {
    if case.starts_with("pottery-rs Semaphore") {
        "pottery-rs Semaphore(1), polling"
    } else {
        "pottery-rs Redlock, polling"
    }
}

fn print(options: &Options, outcomes: &[Outcome]) {
    println!(
        "\nhandoff: {CLIENTS} clients contending for one lock for {} s each (acquire, GET + SET, release){}\n",
        SECONDS.as_secs(),
        options.placement_note()
    );
    println!("| case | masters | acquisitions | hand-offs/s | vs polling (same masters) | vs python-redis-lock | longest wait ms | 7 x longest hold ms | lost increments |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let find = |prefix: &str, masters: usize| {
        outcomes
            .iter()
            .find(|o| o.case.starts_with(prefix) && (masters == 0 || o.masters == masters))
            .map(Outcome::hand_offs_per_second)
    };
    let ratio = |rate: f64, other: Option<f64>| {
        other
            .filter(|other| *other > 0.0)
            .map(|other| format!("{:.1}x", rate / other))
            .unwrap_or_default()
    };
    for outcome in outcomes {
        let rate = outcome.hand_offs_per_second();
        println!(
            "| {} | {} | {} | {:.0} | {} | {} | {:.1} | {:.1} | {} |",
            outcome.case,
            outcome.masters,
            outcome.acquisitions,
            rate,
            ratio(rate, find(polling_of(&outcome.case), outcome.masters)),
            ratio(rate, find("python-redis-lock", 0)),
            outcome.longest_wait.as_secs_f64() * 1000.0,
            outcome.longest_hold.as_secs_f64() * 1000.0 * (CLIENTS - 1) as f64,
            outcome.lost,
        );
    }
}
