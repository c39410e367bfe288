//! Runs a test body once per face of the client: the sync calls as they are, the async ones
//! on a current-thread tokio runtime, so one model test covers `RedisDict<K, V>` and
//! `aio::RedisDict<K, V>` alike.

use pottery::aio::Tokio;
use pottery::{Blocking, Face, Scan};

/// A face whose calls a test can wait for.
pub trait Wait: Face {
    /// The call's result.
    fn wait<T: Send + 'static>(call: Self::Output<T>) -> pottery::Result<T>;

    /// Every item of a scan (an iterator or a stream).
    fn collect<T: Send + 'static>(scan: Scan<T, Self>) -> pottery::Result<Vec<T>>;
}

impl Wait for Blocking {
    fn wait<T: Send + 'static>(call: pottery::Result<T>) -> pottery::Result<T> {
        call
    }

    fn collect<T: Send + 'static>(scan: Scan<T, Blocking>) -> pottery::Result<Vec<T>> {
        scan.collect()
    }
}

thread_local! {
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
}

/// Runs `future` on this thread's test runtime (one per thread, so connections opened by one
/// call stay usable by the next).
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    RUNTIME.with(|runtime| runtime.block_on(future))
}

impl Wait for Tokio {
    fn wait<T: Send + 'static>(call: pottery::aio::Pending<T>) -> pottery::Result<T> {
        block_on(call)
    }

    fn collect<T: Send + 'static>(scan: Scan<T, Tokio>) -> pottery::Result<Vec<T>> {
        use futures_util::TryStreamExt;
        block_on(scan.try_collect())
    }
}
