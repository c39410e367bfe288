//! `bench modes`: what doing without the module costs. Each operation runs in module mode
//! (servers with the module, `Mode::Module`), in script mode (servers without it,
//! `Mode::WithoutModule`: the module commands' Lua scripts) and as Python pottery 3.0.1 does
//! it (its own scripts and commands, on the servers without the module), in one run with the
//! runs interleaved; ratios compare each mode with module mode and with Python pottery.
//!
//! Rows are grouped by operation: another operation adds its three cases with [`Case`] and
//! gets its ratios from [`print_rows`].

use crate::measure::{median_rates_interleaved, pottery_rate, timed_runs, Options, Runs};
use pottery::{Mode, NextId, Redlock};
use pottery_tests::Server;
use std::time::Duration;

/// How an operation reached the servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Module,
    Script,
    Python,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Module => "pottery-rs, module mode",
            Kind::Script => "pottery-rs, script mode (no module)",
            Kind::Python => "Python pottery 3.0.1 (no module)",
        }
    }
}

/// One measured case: an operation, how it ran, on how many masters.
pub struct Case<'a> {
    pub operation: &'static str,
    pub kind: Kind,
    pub masters: usize,
    pub runs: Runs<'a>,
}

/// A measured row.
pub struct Row {
    pub operation: &'static str,
    pub kind: Kind,
    pub masters: usize,
    pub rate: f64,
}

fn servers(n: usize, options: &Options, module: bool) -> Vec<Server> {
    let mut builder = Server::builder();
    if !module {
        builder = builder.without_module();
    }
    if let Some(cpu) = options.server_cpu() {
        builder = builder.cpu(cpu);
    }
    builder.start_many(n)
}

fn ports(servers: &[Server]) -> String {
    let ports: Vec<String> = servers.iter().map(|s| s.port().to_string()).collect();
    ports.join(",")
}

pub fn run(options: &Options) {
    let with = servers(5, options, true);
    let without = servers(5, options, false);
    let count = options.count;
    let python_count = (count / 4).max(50).to_string();
    let mut rows = Vec::new();
    for masters in [1, 5] {
        let mut cases = Vec::new();
        for (kind, servers, mode) in [
            (Kind::Module, &with, Mode::Module),
            (Kind::Script, &without, Mode::WithoutModule),
        ] {
            let urls: Vec<String> = servers[..masters].iter().map(Server::url).collect();
            let lock = Redlock::builder()
                .name(format!("modes-{masters}"))
                .masters(urls.clone())
                .ttl(Duration::from_secs(10))
                .mode(mode)
                .build()
                .expect("Redlock");
            cases.push(Case {
                operation: "Redlock acquire + release",
                kind,
                masters,
                runs: Box::new(timed_runs(count, move || {
                    lock.acquire().expect("acquire").release().expect("release");
                })),
            });
            let mut ids = NextId::builder()
                .name(format!("modes-{masters}"))
                .masters(urls)
                .mode(mode)
                .build()
                .expect("NextId");
            cases.push(Case {
                operation: "NextId next_id",
                kind,
                masters,
                runs: Box::new(timed_runs(count, move || {
                    ids.next_id().expect("next_id");
                })),
            });
        }
        for (operation, script) in [
            ("Redlock acquire + release", "redlock_worker.py"),
            ("NextId next_id", "nextid_worker.py"),
        ] {
            let args = vec![
                "bench".to_string(),
                "--ports".into(),
                ports(&without[..masters]),
                "--name".into(),
                format!("modes-py-{masters}"),
                "--count".into(),
                python_count.clone(),
                "--runs".into(),
                "1".into(),
            ];
            cases.push(Case {
                operation,
                kind: Kind::Python,
                masters,
                runs: Box::new(move || pottery_rate(script, &args, options)),
            });
        }
        rows.extend(measure(cases));
    }
    print_rows(options, &rows);
}

/// Runs the cases interleaved (see [`median_rates_interleaved`]): the median rate of each.
pub fn measure(cases: Vec<Case<'_>>) -> Vec<Row> {
    let (labels, mut runs): (Vec<_>, Vec<_>) = cases
        .into_iter()
        .map(|case| ((case.operation, case.kind, case.masters), case.runs))
        .unzip();
    let rates = median_rates_interleaved(&mut runs);
    labels
        .into_iter()
        .zip(rates)
        .map(|((operation, kind, masters), rate)| Row {
            operation,
            kind,
            masters,
            rate,
        })
        .collect()
}

/// The table: each row's rate, and its ratio to module mode and to Python pottery for the same
/// operation on the same masters.
pub fn print_rows(options: &Options, rows: &[Row]) {
    let rate_of = |operation: &str, kind: Kind, masters: usize| {
        rows.iter()
            .find(|row| row.operation == operation && row.kind == kind && row.masters == masters)
            .map(|row| row.rate)
    };
    let ratio = |rate: f64, other: Option<f64>| {
        other
            .map(|other| format!("{:.2}x", rate / other))
            .unwrap_or_default()
    };
    println!(
        "\nmodes: module commands vs their Lua scripts vs Python pottery, one sequential client, \
         warm, median of 3 interleaved runs{}\n",
        options.placement_note()
    );
    println!("| operation | how | masters | calls/s | vs module mode | vs Python pottery |");
    println!("|---|---|---:|---:|---:|---:|");
    for row in rows {
        println!(
            "| {} | {} | {} | {:.0} | {} | {} |",
            row.operation,
            row.kind.label(),
            row.masters,
            row.rate,
            ratio(row.rate, rate_of(row.operation, Kind::Module, row.masters)),
            ratio(row.rate, rate_of(row.operation, Kind::Python, row.masters)),
        );
    }
}
