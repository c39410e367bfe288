//! `bench nextid`: NextId (sync, async, blocks) beside Python pottery's NextID.

use crate::measure::{median_rate, pottery_rate, print_table, start_servers, Options, Row};
use pottery::NextId;
use pottery_tests::Server;

pub fn run(options: &Options) {
    let servers = start_servers(5, options);
    let ports: Vec<String> = servers.iter().map(|s| s.port().to_string()).collect();
    let count = options.count;
    let mut rows = Vec::new();

    let mut connection = servers[0].connection();
    rows.push(Row {
        case: "PING, one connection (floor)".into(),
        masters: 1,
        calls_per_second: median_rate(count, || {
            let _: String = redis::cmd("PING").query(&mut connection).expect("PING");
        }),
        ids_per_call: 0,
    });
    rows.push(Row {
        case: "POTTERY.NEXTID, one connection".into(),
        masters: 1,
        calls_per_second: median_rate(count, || {
            let _: i64 = redis::cmd("POTTERY.NEXTID")
                .arg("bench:raw")
                .query(&mut connection)
                .expect("POTTERY.NEXTID");
        }),
        ids_per_call: 1,
    });

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    for masters in [1, 5] {
        let urls: Vec<String> = servers[..masters].iter().map(Server::url).collect();
        let name = format!("bench-{masters}");
        let mut ids = NextId::builder()
            .name(name.as_str())
            .masters(urls.clone())
            .build()
            .expect("NextId");
        rows.push(Row {
            case: "pottery-rs NextId::next_id (sync)".into(),
            masters,
            calls_per_second: median_rate(count, || {
                ids.next_id().expect("next_id");
            }),
            ids_per_call: 1,
        });
        rows.push(Row {
            case: "pottery-rs NextId::next_ids(100) (sync)".into(),
            masters,
            calls_per_second: median_rate(count / 4, || {
                ids.next_ids(100).expect("next_ids");
            }),
            ids_per_call: 100,
        });
        let mut async_ids = runtime
            .block_on(
                NextId::builder()
                    .name(name.as_str())
                    .masters(urls)
                    .build_async(),
            )
            .expect("aio::NextId");
        rows.push(Row {
            case: "pottery-rs aio::NextId::next_id".into(),
            masters,
            calls_per_second: median_rate(count, || {
                runtime.block_on(async_ids.next_id()).expect("next_id");
            }),
            ids_per_call: 1,
        });
        rows.push(Row {
            case: "pottery-rs aio::NextId::next_ids(100)".into(),
            masters,
            calls_per_second: median_rate(count / 4, || {
                runtime.block_on(async_ids.next_ids(100)).expect("next_ids");
            }),
            ids_per_call: 100,
        });
        let python_count = (count / 4).max(50);
        rows.push(Row {
            case: "Python pottery 3.0.1 NextID".into(),
            masters,
            calls_per_second: pottery_rate(
                "nextid_worker.py",
                &[
                    "bench".into(),
                    "--ports".into(),
                    ports[..masters].join(","),
                    "--name".into(),
                    format!("bench-py-{masters}"),
                    "--count".into(),
                    python_count.to_string(),
                ],
                options,
            ),
            ids_per_call: 1,
        });
    }
    print_table("nextid", options, &rows);
}
