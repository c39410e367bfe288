//! Faces: how a container's calls are run, and what they return.
//!
//! Each container type is written once, generic over its face: `RedisDict<K, V>` is
//! `RedisDict<K, V, Blocking>`, whose methods return [`Result`](crate::Result)s, and
//! [`aio::RedisDict<K, V>`](crate::aio::RedisDict) is `RedisDict<K, V, Tokio>`, whose methods
//! return futures of the same results. Both send the same commands and decode the same
//! replies ([`Operation`]); a face is only the loop that carries requests and replies.

pub(crate) mod blocking;
pub(crate) mod operation;
#[cfg(feature = "tokio")]
pub(crate) mod tokio;

pub use self::operation::Operation;

mod sealed {
    pub trait Sealed {}
}
pub(crate) use sealed::Sealed;

/// How a container's calls run: [`Blocking`] (the calling thread waits) or
/// [`Tokio`](crate::aio::Tokio) (calls are futures). Implemented by those two only.
///
/// Methods shared by both faces return `F::Output<T>`: `pottery::Result<T>` on a sync type,
/// [`Pending<T>`](crate::aio::Pending) (a future of `pottery::Result<T>`) on an
/// [`aio`](crate::aio) type.
///
/// # Example
///
/// ```no_run
/// // The same type, two faces.
/// let sync: pottery::RedisSet<u32> = pottery::RedisSet::open("redis://127.0.0.1:6379/", "s")?;
/// assert!(sync.insert(&1)? || true);
/// # Ok::<(), pottery::Error>(())
/// ```
pub trait Face: Sealed + Send + Sync + Sized + 'static {
    /// What a call returns: `Result<T>`, or a future of it.
    type Output<T: Send + 'static>;

    /// Whether calls are futures; the connections they use depend on it.
    #[doc(hidden)]
    const ASYNC: bool;

    /// Runs an operation to its end.
    #[doc(hidden)]
    fn run<T: Send + 'static>(operation: Operation<T>) -> Self::Output<T>;
}

/// The sync face: every call waits for its replies on the calling thread and returns a
/// [`Result`](crate::Result). The default face of every container.
///
/// # Example
///
/// ```no_run
/// let hits = pottery::containers::RedisCounter::<String, pottery::Blocking>::open("redis://127.0.0.1:6379/", "hits")?;
/// hits.increment("home", 1)?;
/// # Ok::<(), pottery::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Blocking;

/// Runs `operation` with nobody waiting for its result (cleanup when a handle or a guard is
/// dropped): spawned on the current tokio runtime for an async face, else run on this thread
/// (bounded by the connector's timeouts).
pub(crate) fn run_detached<T: Send + 'static>(operation: Operation<T>, asynchronous: bool) {
    if let Some(operation) = spawn_on_runtime(operation, asynchronous) {
        let _ = Blocking::run(operation);
    }
}

/// Runs `operation` in the background for as long as it takes (a guard's auto-renewal): a task
/// on the current tokio runtime for an async face, else a thread of its own.
pub(crate) fn spawn_detached(operation: Operation<()>, asynchronous: bool) {
    if let Some(operation) = spawn_on_runtime(operation, asynchronous) {
        // Without a thread there is no renewal: the hold then lasts its TTL, as without it.
        let _ = std::thread::Builder::new()
            .name("pottery-renewal".to_owned())
            .spawn(move || Blocking::run(operation));
    }
}

/// Spawns `operation` on the current tokio runtime for an async face; otherwise (a sync face,
/// or no runtime) gives it back.
fn spawn_on_runtime<T: Send + 'static>(
    operation: Operation<T>,
    asynchronous: bool,
) -> Option<Operation<T>> {
    #[cfg(feature = "tokio")]
    if asynchronous {
        if let Ok(runtime) = ::tokio::runtime::Handle::try_current() {
            runtime.spawn(self::tokio::Tokio::run(operation));
            return None;
        }
    }
    let _ = asynchronous;
    Some(operation)
}
