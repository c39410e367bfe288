//! [`Operation`]: what a client call sends and how it decodes the replies, without any I/O.
//!
//! Every container method is written once, as an operation: the request(s) it sends (a
//! command or a pipeline, encoded when the operation is made) and the code that turns each
//! reply into the next request or into the result. The sync and async faces
//! ([`Blocking`](crate::Blocking), [`Tokio`](crate::aio::Tokio)) only carry the requests to
//! the server and the replies back, in a loop of a few lines each, the way the `redis` crate
//! builds a `Cmd` once and runs it with `query` or `query_async`.

use std::time::Duration;

use redis::{FromRedisValue, Value};

use crate::error::{Error, Result};
use crate::transport::connector::Route;

/// A request to one server (or one cluster, routed by key): a single command, or a pipeline
/// (atomic when built with `.atomic()`) whose commands all touch the routing key's slot.
pub(crate) enum Request {
    Command(redis::Cmd),
    Pipeline(redis::Pipeline),
}

/// What an operation does next with the reply to its request.
type Continuation<T> = Box<dyn FnOnce(Result<Value>) -> Operation<T> + Send>;

/// What an operation does after a pause.
type Resumption<T> = Box<dyn FnOnce() -> Operation<T> + Send>;

/// One client call, sans I/O: either finished, or waiting for the reply to a request.
///
/// Made by the container methods and run by a face; users only see it in the signature of
/// [`Face::run`](crate::Face), which they do not call.
pub struct Operation<T> {
    pub(crate) step: Step<T>,
}

pub(crate) enum Step<T> {
    Done(Result<T>),
    Send {
        route: Route,
        request: Request,
        then: Continuation<T>,
    },
    /// Waiting before the next request (polling with jitter): the sync face sleeps, the async
    /// face awaits a timer.
    Pause {
        duration: Duration,
        then: Resumption<T>,
    },
}

impl<T: Send + 'static> Operation<T> {
    /// An operation that sends nothing.
    pub(crate) fn done(result: Result<T>) -> Self {
        Self {
            step: Step::Done(result),
        }
    }

    /// The operation `make` builds, or its error (such as a value that does not encode): lets
    /// a method encode its arguments with `?` before it sends anything.
    pub(crate) fn build(make: impl FnOnce() -> Result<Self>) -> Self {
        make().unwrap_or_else(|error| Self::done(Err(error)))
    }

    /// Sends `request` along `route` and hands the raw reply to `then`.
    pub(crate) fn send(
        route: Route,
        request: Request,
        then: impl FnOnce(Result<Value>) -> Operation<T> + Send + 'static,
    ) -> Self {
        Self {
            step: Step::Send {
                route,
                request,
                then: Box::new(then),
            },
        }
    }

    /// Waits `duration`, then goes on with the operation `then` makes.
    pub(crate) fn pause(
        duration: Duration,
        then: impl FnOnce() -> Operation<T> + Send + 'static,
    ) -> Self {
        Self {
            step: Step::Pause {
                duration,
                then: Box::new(then),
            },
        }
    }

    /// Transforms the result once the operation has finished.
    pub(crate) fn map<U: Send + 'static>(
        self,
        transform: impl FnOnce(T) -> U + Send + 'static,
    ) -> Operation<U> {
        self.and_then(|value| Ok(transform(value)))
    }

    /// Transforms the result with a step that may fail (decoding, checking).
    pub(crate) fn and_then<U: Send + 'static>(
        self,
        transform: impl FnOnce(T) -> Result<U> + Send + 'static,
    ) -> Operation<U> {
        self.then(|result| Operation::done(result.and_then(transform)))
    }

    /// Replaces an error of the operation (for example with a more specific variant).
    pub(crate) fn map_err(self, transform: impl FnOnce(Error) -> Error + Send + 'static) -> Self {
        self.then(|result| Operation::done(result.map_err(transform)))
    }

    /// Continues with another operation once this one has finished, successfully or not: the
    /// way to write a call that needs several round trips.
    pub(crate) fn then<U: Send + 'static>(
        self,
        next: impl FnOnce(Result<T>) -> Operation<U> + Send + 'static,
    ) -> Operation<U> {
        match self.step {
            Step::Done(result) => next(result),
            Step::Send {
                route,
                request,
                then,
            } => Operation::send(route, request, move |reply| then(reply).then(next)),
            Step::Pause { duration, then } => Operation::pause(duration, move || then().then(next)),
        }
    }

    /// Continues with `next` after a success; an error ends the operation.
    pub(crate) fn and_then_send<U: Send + 'static>(
        self,
        next: impl FnOnce(T) -> Operation<U> + Send + 'static,
    ) -> Operation<U> {
        self.then(|result| match result {
            Ok(value) => next(value),
            Err(error) => Operation::done(Err(error)),
        })
    }
}

impl<T: FromRedisValue + Send + 'static> Operation<T> {
    /// Sends `request` and converts its reply to `T` (for a pipeline: the tuple or vector of
    /// its non-ignored replies).
    pub(crate) fn query(route: Route, request: Request) -> Self {
        Self::send(route, request, |reply| {
            Operation::done(reply.and_then(|value| decode(value)))
        })
    }
}

/// Converts a reply as `query` does in the `redis` crate: an error reply, or one nested in an
/// array (`BF.MADD` on a full filter), is the call's error.
pub(crate) fn decode<T: FromRedisValue>(value: Value) -> Result<T> {
    let value = resp2_shape(value.extract_error()?);
    redis::from_redis_value(value).map_err(|error| Error::Redis(error.into()))
}

/// A RESP3 reply in the shape RESP2 gives it (a map as its flat array of keys and values, a
/// set as an array, a boolean as 1 or 0, a verbatim string as a bulk string), so that every
/// decoder reads replies alike whichever protocol a connection speaks (`?protocol=resp3`).
fn resp2_shape(value: Value) -> Value {
    match value {
        Value::Map(pairs) => Value::Array(
            pairs
                .into_iter()
                .flat_map(|(key, value)| [resp2_shape(key), resp2_shape(value)])
                .collect(),
        ),
        Value::Array(items) | Value::Set(items) => {
            Value::Array(items.into_iter().map(resp2_shape).collect())
        }
        Value::Boolean(flag) => Value::Int(i64::from(flag)),
        Value::VerbatimString { text, .. } => Value::BulkString(text.into_bytes()),
        Value::Attribute { data, .. } => resp2_shape(*data),
        other => other,
    }
}

/// Runs operations one after the other, collecting their results (for calls that touch
/// several containers, such as set algebra across servers).
pub(crate) fn all<T: Send + 'static>(operations: Vec<Operation<T>>) -> Operation<Vec<T>> {
    let mut collected = Operation::done(Ok(Vec::with_capacity(operations.len())));
    for operation in operations {
        collected = collected.and_then_send(move |mut results: Vec<T>| {
            operation.map(move |result| {
                results.push(result);
                results
            })
        });
    }
    collected
}
