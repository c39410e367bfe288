//! 20,000 random `POTTERY.*` commands (see `pottery_tests::fuzz`): every reply is a value or an
//! error, the server stays up and its memory bounded. The seed is random per run and printed,
//! so a failure can be replayed with `scripts/fuzz --seed S`.

use pottery_tests::fuzz::{fuzz, FuzzOptions};
use pottery_tests::Server;

#[test]
fn twenty_thousand_random_commands_leave_the_server_up() {
    let seed = std::env::var("POTTERY_FUZZ_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("fuzz seed {seed} (replay: POTTERY_FUZZ_SEED={seed} or scripts/fuzz --seed {seed})");
    let server = Server::start();
    let options = FuzzOptions {
        commands: 20_000,
        seed,
        ..FuzzOptions::default()
    };
    let report = fuzz(&server, &options).unwrap_or_else(|problem| panic!("{problem}"));
    assert_eq!(report.commands, 20_000);
    // Every command was exercised, and both values and errors came back: a fuzzer whose
    // commands all fail at the parser proves little.
    for (name, (values, errors)) in &report.per_command {
        assert!(values + errors > 0, "{name} never ran");
    }
    assert!(
        report.errors > 0 && report.errors < report.commands,
        "{report:?}"
    );
    let pong: String = server.cmd(&["PING"]).unwrap();
    assert_eq!(pong, "PONG");
}
