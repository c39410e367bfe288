//! The servers this binary runs on: with the module, or without it in the pass that exercises
//! the client's script mode (`POTTERY_WITHOUT_MODULE=1`), so that pass cannot quietly run with
//! the module.

use pottery_tests::redis::Value;
use pottery_tests::Server;
use std::collections::HashMap;

#[test]
fn default_servers_load_the_module_unless_the_pass_is_without_it() {
    let server = Server::start();
    let modules: Vec<HashMap<String, Value>> = server.cmd(&["MODULE", "LIST"]).unwrap();
    let pottery = modules.iter().any(
        |module| matches!(module.get("name"), Some(Value::BulkString(name)) if name == b"pottery"),
    );
    assert_eq!(pottery, !pottery_tests::without_module());
    assert_eq!(server.module().is_some(), pottery);
}
