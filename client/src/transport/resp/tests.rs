use super::*;

fn packed(args: &[Arg<'_>]) -> Vec<u8> {
    let mut buffer = Vec::new();
    append(&mut buffer, args);
    buffer
}

#[test]
fn packs_like_the_redis_crate() {
    for value in [0, 7, -1, 10, 1234567890, i64::MAX, i64::MIN] {
        let args = [
            Arg::Bytes(b"POTTERY.NEXTID.CLAIM"),
            Arg::Bytes(b"nextid:\xffx"),
            Arg::Int(value),
            Arg::Bytes(b""),
        ];
        let expected = redis::cmd("POTTERY.NEXTID.CLAIM")
            .arg(&b"nextid:\xffx"[..])
            .arg(value)
            .arg("")
            .get_packed_command();
        assert_eq!(packed(&args), expected, "value {value}");
    }
}

#[test]
fn packs_a_bare_command() {
    assert_eq!(packed(&[Arg::Bytes(b"PING")]), b"*1\r\n$4\r\nPING\r\n");
}
