//! `bench synchronizers`: Semaphore and RwLock acquire+release beside POTTERY.LOCK +
//! POTTERY.UNLOCK on one connection (the floor of a one-master lock) and beside Redlock on one
//! master, on the same server in one run (interleaved, so ratios compare like with like).

use crate::measure::{median_rates_interleaved, start_servers, timed_runs, Options, Runs};
use pottery::{Redlock, RwLock, Semaphore};
use std::time::Duration;

const TTL: Duration = Duration::from_secs(10);

/// The baseline row: one master's lock commands on one connection.
const FLOOR: &str = "POTTERY.LOCK + POTTERY.UNLOCK, one connection";

pub fn run(options: &Options) {
    let servers = start_servers(1, options);
    let url = servers[0].url();
    let count = options.count;

    let mut connection = servers[0].connection();
    let floor = timed_runs(count, move || {
        let _: i64 = redis::cmd("POTTERY.LOCK")
            .arg(&["bench:floor", "token", "10000"])
            .query(&mut connection)
            .expect("POTTERY.LOCK");
        let _: i64 = redis::cmd("POTTERY.UNLOCK")
            .arg(&["bench:floor", "token"])
            .query(&mut connection)
            .expect("POTTERY.UNLOCK");
    });
    let mut connection = servers[0].connection();
    let raw_semaphore = timed_runs(count, move || {
        let _: i64 = redis::cmd("POTTERY.SEM.ACQUIRE")
            .arg(&["bench:raw-sem", "holder", "1", "4", "10000"])
            .query(&mut connection)
            .expect("POTTERY.SEM.ACQUIRE");
        let _: i64 = redis::cmd("POTTERY.SEM.RELEASE")
            .arg(&["bench:raw-sem", "holder"])
            .query(&mut connection)
            .expect("POTTERY.SEM.RELEASE");
    });
    let redlock = Redlock::builder()
        .name("bench-redlock")
        .master(url.as_str())
        .ttl(TTL)
        .build()
        .expect("Redlock");
    let semaphore = Semaphore::open(url.as_str(), "bench:sem", 4)
        .expect("Semaphore")
        .with_ttl(TTL);
    // Three permits held by others: the hash the benchmark acquires in is not empty.
    let busy = Semaphore::open(url.as_str(), "bench:busy", 4)
        .expect("Semaphore")
        .with_ttl(Duration::from_secs(600));
    let _held: Vec<_> = (0..3).map(|_| busy.acquire(1).expect("held")).collect();
    let rwlock = RwLock::open(url.as_str(), "bench:rw")
        .expect("RwLock")
        .with_ttl(TTL);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let async_semaphore = pottery::aio::Semaphore::open(url.as_str(), "bench:async-sem", 4)
        .expect("aio::Semaphore")
        .with_ttl(TTL);

    let cases: Vec<(&str, Runs<'_>)> = vec![
        (FLOOR, Box::new(floor)),
        (
            "POTTERY.SEM.ACQUIRE + RELEASE, one connection",
            Box::new(raw_semaphore),
        ),
        (
            "pottery-rs Redlock, 1 master (sync)",
            Box::new(timed_runs(count, || {
                redlock
                    .acquire()
                    .expect("acquire")
                    .release()
                    .expect("release");
            })),
        ),
        (
            "pottery-rs Semaphore::acquire(1) + release (sync)",
            Box::new(timed_runs(count, || {
                semaphore
                    .acquire(1)
                    .expect("acquire")
                    .release()
                    .expect("release");
            })),
        ),
        (
            "pottery-rs Semaphore, 3 other holders (sync)",
            Box::new(timed_runs(count, || {
                busy.acquire(1)
                    .expect("acquire")
                    .release()
                    .expect("release");
            })),
        ),
        (
            "pottery-rs RwLock::read + release (sync)",
            Box::new(timed_runs(count, || {
                rwlock.read().expect("read").release().expect("release");
            })),
        ),
        (
            "pottery-rs RwLock::write + release (sync)",
            Box::new(timed_runs(count, || {
                rwlock.write().expect("write").release().expect("release");
            })),
        ),
        (
            "pottery-rs aio::Semaphore::acquire(1) + release",
            Box::new(timed_runs(count, || {
                runtime.block_on(async {
                    let permit = async_semaphore.acquire(1).await.expect("acquire");
                    permit.release().await.expect("release");
                })
            })),
        ),
    ];
    let (names, mut runs): (Vec<&str>, Vec<Runs<'_>>) = cases.into_iter().unzip();
    let rates = median_rates_interleaved(&mut runs);
    println!(
        "\nsynchronizers: acquire + release, one master, one sequential client, warm, median of 3 runs{}\n",
        options.placement_note()
    );
    println!("| case | acquire+release/s | vs POTTERY.LOCK floor | vs Redlock (1 master) |");
    println!("|---|---:|---:|---:|");
    let redlock_rate = rates[2];
    for (name, rate) in names.iter().zip(&rates) {
        println!(
            "| {name} | {rate:.0} | {:.2}x | {:.2}x |",
            rate / rates[0],
            rate / redlock_rate
        );
    }
}
