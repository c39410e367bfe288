//! `bench lock`: Redlock acquire+release beside the raw floor (`SET NX PX` + `DEL` on one
//! connection), Python pottery's Redlock and the `rslock` crate, on the same servers in one
//! run (their runs interleaved, so ratios compare like with like); then 8 clients contending
//! for one lock: hand-offs per second and fairness.

use crate::measure::{
    median_rates_interleaved, pottery_rate, start_servers, timed_runs, Options, Runs,
};
use pottery::Redlock;
use pottery_tests::Server;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The TTL every client in the suite uses.
const TTL: Duration = Duration::from_secs(10);
/// How long the contention part runs.
const CONTENTION: Duration = Duration::from_secs(10);
/// Contending clients.
const CLIENTS: usize = 8;

/// The baseline row: what a lock costs at least on one master.
const RAW_FLOOR: &str = "raw floor: SET NX PX + DEL, one connection";

struct Row {
    case: String,
    masters: usize,
    rate: f64,
}

pub fn run(options: &Options) {
    let servers = start_servers(5, options);
    let ports: Vec<String> = servers.iter().map(|s| s.port().to_string()).collect();
    let count = options.count;
    let mut rows = Vec::new();

    let mut connection = servers[0].connection();
    let mut raw_floor = Some(timed_runs(count, move || {
        let _: Option<String> = redis::cmd("SET")
            .arg("bench:raw")
            .arg("token")
            .arg("NX")
            .arg("PX")
            .arg(10_000)
            .query(&mut connection)
            .expect("SET");
        let _: i64 = redis::cmd("DEL")
            .arg("bench:raw")
            .query(&mut connection)
            .expect("DEL");
    }));

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    for masters in [1, 5] {
        let urls: Vec<String> = servers[..masters].iter().map(Server::url).collect();
        let builder = || {
            Redlock::builder()
                .name(format!("bench-{masters}"))
                .masters(urls.clone())
                .ttl(TTL)
        };
        let lock = builder().build().expect("Redlock");
        let async_lock = runtime
            .block_on(builder().build_async())
            .expect("aio::Redlock");
        let manager = rslock::LockManager::new(urls.clone());
        let resource = format!("bench-rslock-{masters}");
        let python_args = [
            "bench".to_string(),
            "--ports".into(),
            ports[..masters].join(","),
            "--name".into(),
            format!("bench-py-{masters}"),
            "--count".into(),
            (count / 4).max(50).to_string(),
            "--runs".into(),
            "1".into(),
        ];
        let mut cases: Vec<(&str, Runs<'_>)> = Vec::new();
        // The floor has one master: it runs beside the 1-master cases.
        if let Some(floor) = raw_floor.take() {
            cases.push((RAW_FLOOR, Box::new(floor)));
        }
        cases.push((
            "pottery-rs Redlock (sync)",
            Box::new(timed_runs(count, || {
                lock.acquire().expect("acquire").release().expect("release");
            })),
        ));
        cases.push((
            "pottery-rs aio::Redlock",
            Box::new(timed_runs(count, || {
                runtime.block_on(async {
                    let guard = async_lock.acquire().await.expect("acquire");
                    guard.release().await.expect("release");
                })
            })),
        ));
        cases.push((
            "rslock 0.10 LockManager::lock + unlock",
            Box::new(timed_runs(count, || {
                runtime.block_on(async {
                    let lock = manager
                        .lock(resource.as_bytes(), TTL)
                        .await
                        .expect("rslock lock");
                    manager.unlock(&lock).await;
                })
            })),
        ));
        cases.push((
            "Python pottery 3.0.1 Redlock",
            Box::new(|| pottery_rate("redlock_worker.py", &python_args, options)),
        ));
        let (names, mut runs): (Vec<&str>, Vec<_>) = cases.into_iter().unzip();
        let rates = median_rates_interleaved(&mut runs);
        for (name, rate) in names.into_iter().zip(rates) {
            rows.push(Row {
                case: name.into(),
                masters,
                rate,
            });
        }
    }
    print_rates(options, &rows);
    contend(&servers);
}

fn print_rates(options: &Options, rows: &[Row]) {
    let find = |prefix: &str, masters: usize| {
        rows.iter()
            .find(|row| row.case.starts_with(prefix) && row.masters == masters)
            .map(|row| row.rate)
    };
    let floor = find(RAW_FLOOR, 1);
    println!(
        "\nlock: acquire + release, one sequential client, warm, median of 3 runs{}\n",
        options.placement_note()
    );
    println!("| case | masters | acquire+release/s | vs raw floor | vs pottery (same masters) | vs rslock (same masters) |");
    println!("|---|---:|---:|---:|---:|---:|");
    let ratio = |rate: f64, other: Option<f64>| {
        other
            .map(|other| format!("{:.2}x", rate / other))
            .unwrap_or_default()
    };
    for row in rows {
        println!(
            "| {} | {} | {:.0} | {} | {} | {} |",
            row.case,
            row.masters,
            row.rate,
            ratio(row.rate, floor),
            ratio(row.rate, find("Python pottery", row.masters)),
            ratio(row.rate, find("rslock", row.masters)),
        );
    }
}

/// 8 sync clients (own connections each) on one lock over 5 masters for 10 s: each acquires,
/// increments a shared in-memory log of who held it, releases, and goes again.
fn contend(servers: &[Server]) {
    let urls: Vec<String> = servers.iter().map(Server::url).collect();
    let holders = Arc::new(Mutex::new(Vec::<usize>::new()));
    let release_errors = Arc::new(AtomicUsize::new(0));
    let end = Instant::now() + CONTENTION;
    let threads: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let lock = Redlock::builder()
                .name("bench-contended")
                .masters(urls.clone())
                .ttl(TTL)
                .build()
                .expect("Redlock");
            let holders = Arc::clone(&holders);
            let release_errors = Arc::clone(&release_errors);
            std::thread::spawn(move || {
                while let Some(left) = end.checked_duration_since(Instant::now()) {
                    if let Some(guard) = lock.acquire_timeout(left).expect("masters answer") {
                        holders
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .push(client);
                        // A loaded machine can make a master miss its timeout: counted, shown.
                        if guard.release().is_err() {
                            release_errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("client finished");
    }
    let holders = holders
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let hand_offs = holders.windows(2).filter(|pair| pair[0] != pair[1]).count();
    let mut per_client = [0usize; CLIENTS];
    for &client in holders.iter() {
        per_client[client] += 1;
    }
    let mean = holders.len() as f64 / CLIENTS as f64;
    let fewest = per_client.iter().copied().min().unwrap_or(0);
    println!(
        "\nlock: {CLIENTS} clients contending for one lock on 5 masters for {} s\n",
        CONTENTION.as_secs()
    );
    println!("| acquisitions | hand-offs/s | per client | fewest / mean | release errors |");
    println!("|---:|---:|---|---:|---:|");
    println!(
        "| {} | {:.0} | {} | {:.2} | {} |",
        holders.len(),
        hand_offs as f64 / CONTENTION.as_secs_f64(),
        per_client
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" "),
        fewest as f64 / mean.max(1.0),
        release_errors.load(Ordering::Relaxed),
    );
}
