//! The client's Lua scripts for the module's list and deque commands (`lua/*.lua` in
//! `client/src/containers/list/`), whole as the client sends them, so that tests can run them
//! by `EVAL` beside the module commands.

const PRELUDE: &str = include_str!("../../client/src/containers/list/lua/prelude.lua");

/// Each module command beside its script's own part.
const SCRIPTS: [(&str, &str); 5] = [
    (
        "POTTERY.LIST.INSERT",
        include_str!("../../client/src/containers/list/lua/insert.lua"),
    ),
    (
        "POTTERY.LIST.POP",
        include_str!("../../client/src/containers/list/lua/pop.lua"),
    ),
    (
        "POTTERY.LIST.SETSLICE",
        include_str!("../../client/src/containers/list/lua/setslice.lua"),
    ),
    (
        "POTTERY.DEQUE.ROTATE",
        include_str!("../../client/src/containers/list/lua/rotate.lua"),
    ),
    (
        "POTTERY.DEQUE.PUSH",
        include_str!("../../client/src/containers/list/lua/push.lua"),
    ),
];

/// The module's list and deque commands, in a fixed order.
pub const LIST_COMMANDS: [&str; 5] = [
    SCRIPTS[0].0,
    SCRIPTS[1].0,
    SCRIPTS[2].0,
    SCRIPTS[3].0,
    SCRIPTS[4].0,
];

/// The script the client runs for `command` (one of [`LIST_COMMANDS`], any case) where the
/// module is not used: `KEYS[1]` the key, `ARGV` the command's arguments after the key.
///
/// ```no_run
/// let server = pottery_tests::Server::builder().without_module().start();
/// let script = pottery_tests::list_script("POTTERY.DEQUE.ROTATE");
/// let length: i64 = server.cmd(&["EVAL", &script, "1", "k", "1"]).unwrap();
/// assert_eq!(length, 0);
/// ```
pub fn list_script(command: &str) -> String {
    let (_, body) = SCRIPTS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(command))
        .unwrap_or_else(|| panic!("pottery-tests: no list script for {command}"));
    format!("{PRELUDE}{body}")
}

/// `EVAL <list_script(command)> 1 key args...`: the script as the client runs it.
pub fn eval_list_script(command: &str, key: &str, args: &[impl redis::ToRedisArgs]) -> redis::Cmd {
    let mut eval = redis::cmd("EVAL");
    eval.arg(list_script(command)).arg(1).arg(key).arg(args);
    eval
}
