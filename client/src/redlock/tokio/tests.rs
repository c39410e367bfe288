use futures_util::FutureExt;

use crate::{Error, Redlock};

#[test]
fn locks_and_guards_can_move_between_threads() {
    fn send_and_sync<T: Send + Sync>() {}
    send_and_sync::<crate::Redlock>();
    send_and_sync::<crate::LockGuard>();
    send_and_sync::<crate::aio::Redlock>();
    send_and_sync::<crate::aio::LockGuard>();
}

#[test]
#[allow(deprecated)]
fn the_old_names_still_compile() {
    fn same<T>(_: Option<T>, _: Option<T>) {}
    same(None::<crate::AsyncRedlock>, None::<crate::aio::Redlock>);
    same(None::<crate::AsyncLockGuard>, None::<crate::aio::LockGuard>);
    same(None::<crate::AsyncNextId>, None::<crate::aio::NextId>);
}

#[test]
fn builds_without_a_runtime_and_rejects_sync_connections() {
    let built = Redlock::builder()
        .name("a")
        .masters(["redis://127.0.0.1:1/", "redis://127.0.0.1:2/"])
        .build_async()
        .now_or_never();
    let Some(Ok(lock)) = built else {
        panic!("valid");
    };
    assert_eq!(
        (lock.masters(), lock.quorum(), lock.key()),
        (2, 2, "redlock:a")
    );
    assert!(matches!(
        Redlock::builder().name("a").build_async().now_or_never(),
        Some(Err(Error::InvalidArgument {
            argument: "masters",
            ..
        }))
    ));
}

#[tokio::test]
async fn unreachable_masters_are_a_quorum_error_not_a_busy_lock() {
    let Ok(lock) = Redlock::builder()
        .name("a")
        .masters([
            "redis://127.0.0.1:1/",
            "redis://127.0.0.1:2/",
            "redis://127.0.0.1:3/",
        ])
        .acquire_timeout(std::time::Duration::from_millis(30))
        .build_async()
        .await
    else {
        panic!("valid");
    };
    assert!(matches!(
        lock.try_acquire().await,
        Err(Error::QuorumNotAchieved {
            quorum: 2,
            masters: 3,
            ..
        })
    ));
    assert!(matches!(
        lock.acquire().await,
        Err(Error::QuorumNotAchieved { .. })
    ));
    assert!(matches!(
        lock.holder().await,
        Err(Error::QuorumNotAchieved { .. })
    ));
}
