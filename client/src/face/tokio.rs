//! The async executor: sends each request of an operation over the connector's shared
//! multiplexed connection and awaits the reply.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::error::Result;
use crate::face::operation::{Operation, Step};
use crate::face::{Face, Sealed};

/// The async face, on tokio: every call is a future ([`Pending`]) whose requests go over the
/// one multiplexed connection that every async container of a [`Connector`](crate::Connector)
/// shares. The face of the [`aio`](crate::aio) types.
///
/// # Example
///
/// ```no_run
/// # async fn run() -> pottery::Result<()> {
/// let hits = pottery::containers::RedisCounter::<String, pottery::aio::Tokio>::open("redis://127.0.0.1:6379/", "hits")?;
/// hits.increment("home", 1).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Tokio;

impl Sealed for Tokio {}

impl Face for Tokio {
    type Output<T: Send + 'static> = Pending<T>;

    const ASYNC: bool = true;

    fn run<T: Send + 'static>(operation: Operation<T>) -> Pending<T> {
        Pending(Box::pin(async move {
            let mut step = operation.step;
            loop {
                match step {
                    Step::Done(result) => return result,
                    Step::Send {
                        route,
                        request,
                        then,
                    } => step = then(route.send_async(&request).await).step,
                    Step::Pause { duration, then } => {
                        ::tokio::time::sleep(duration).await;
                        step = then().step;
                    }
                }
            }
        }))
    }
}

/// A call of an async container: a `Send + 'static` future of its [`Result`], so it can be
/// awaited, spawned, raced or dropped (a call dropped mid-way leaves the shared connection
/// usable for every other call).
///
/// # Example
///
/// ```no_run
/// # async fn run() -> pottery::Result<()> {
/// let set: pottery::aio::RedisSet<String> = pottery::aio::RedisSet::open("redis://127.0.0.1:6379/", "s")?;
/// let pending: pottery::aio::Pending<bool> = set.insert("a");
/// let added = tokio::spawn(pending).await.expect("not cancelled")?;
/// # Ok(())
/// # }
/// ```
#[must_use = "a call does nothing until it is awaited"]
pub struct Pending<T>(Pin<Box<dyn Future<Output = Result<T>> + Send>>);

impl<T> Future for Pending<T> {
    type Output = Result<T>;

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Result<T>> {
        self.0.as_mut().poll(context)
    }
}

impl<T> fmt::Debug for Pending<T> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("Pending")
    }
}
