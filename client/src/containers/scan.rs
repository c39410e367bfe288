//! [`Scan`]: iteration over a container in server-side batches (`HSCAN`/`SSCAN` for hashes
//! and sets, `LRANGE` pages for lists), so a large container is never transferred, nor
//! decoded, in one piece. An `Iterator` on the sync face, a `Stream` on the async one.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::face::operation::Operation;
use crate::face::{Blocking, Face};
use crate::transport::key::KeyHandle;

/// Elements asked for per `HSCAN`/`SSCAN` call (a hint to the server) or per `LRANGE` page.
pub(crate) const SCAN_BATCH: usize = 1000;

/// Turns the next raw element(s) of a batch into an item: one member for `SSCAN` or
/// `LRANGE`, a field and its value for `HSCAN`.
pub(crate) type DecodeNext<T> = fn(&mut std::vec::IntoIter<Vec<u8>>) -> Option<Result<T>>;

/// How batches are fetched.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Pages {
    /// `HSCAN`/`SSCAN key cursor COUNT 1000`, until the cursor is 0 again.
    Cursor(&'static str),
    /// `LRANGE key start start+999`, from the head, until a page is short.
    Range,
}

/// An iterator (sync face) or a stream (async face) over a [`RedisDict`](crate::RedisDict), a
/// [`RedisSet`](crate::RedisSet), a [`RedisCounter`](crate::RedisCounter) (about 1000
/// elements per `HSCAN`/`SSCAN` round trip), a [`RedisList`](crate::RedisList) or a
/// [`RedisDeque`](crate::RedisDeque) (1000 elements per `LRANGE`, from the head).
///
/// A hash or set scan has `SCAN`'s guarantees: every element present for the whole iteration
/// is returned; one added or removed meanwhile may or may not be; an element may come twice if
/// the container is rehashed during the iteration (`to_hashmap`/`to_hashset` take a consistent
/// snapshot instead). Each item is a `Result`: a failed round trip or an undecodable element
/// ends the iteration with that error.
///
/// # Example
///
/// ```no_run
/// let tags: pottery::RedisSet<String> = pottery::RedisSet::open("redis://127.0.0.1:6379/", "tags")?;
/// for tag in tags.iter() {
///     println!("{}", tag?);
/// }
/// # Ok::<(), pottery::Error>(())
/// ```
///
/// On the async face, with `futures`' `StreamExt` (or `tokio-stream`'s):
///
/// ```no_run
/// use futures_util::StreamExt;
///
/// # async fn run() -> pottery::Result<()> {
/// let tags: pottery::aio::RedisSet<String> = pottery::aio::RedisSet::open("redis://127.0.0.1:6379/", "tags")?;
/// let mut scan = tags.iter();
/// while let Some(tag) = scan.next().await {
///     println!("{}", tag?);
/// }
/// # Ok(())
/// # }
/// ```
pub struct Scan<T, F: Face = Blocking> {
    handle: Arc<KeyHandle>,
    pages: Pages,
    /// The `SCAN` cursor, or the index of the next `LRANGE` page.
    position: u64,
    finished: bool,
    batch: std::vec::IntoIter<Vec<u8>>,
    decode: DecodeNext<T>,
    #[cfg(feature = "tokio")]
    fetching: Option<crate::aio::Pending<Batch>>,
    face: PhantomData<fn() -> F>,
}

/// A fetched batch: the next position (`None` after the last batch) and its elements.
type Batch = (Option<u64>, Vec<Vec<u8>>);

impl<T, F: Face> fmt::Debug for Scan<T, F> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Scan")
            .field("key", &self.handle.name())
            .field("pages", &self.pages)
            .field("position", &self.position)
            .field("finished", &self.finished)
            .finish()
    }
}

impl<T, F: Face> Scan<T, F> {
    pub(crate) fn new(handle: Arc<KeyHandle>, pages: Pages, decode: DecodeNext<T>) -> Self {
        Self {
            handle,
            pages,
            position: 0,
            finished: false,
            batch: Vec::new().into_iter(),
            decode,
            #[cfg(feature = "tokio")]
            fetching: None,
            face: PhantomData,
        }
    }

    fn fetch(&self) -> Operation<Batch> {
        let position = self.position;
        match self.pages {
            Pages::Cursor(command) => {
                let mut command = self.handle.command(command);
                command.arg(position).arg("COUNT").arg(SCAN_BATCH);
                self.handle
                    .request::<(u64, Vec<Vec<u8>>)>(command)
                    .map(|(cursor, elements)| ((cursor != 0).then_some(cursor), elements))
            }
            Pages::Range => {
                let batch = SCAN_BATCH as u64;
                let mut command = self.handle.command("LRANGE");
                command.arg(position).arg(position + batch - 1);
                self.handle
                    .request::<Vec<Vec<u8>>>(command)
                    .map(move |elements| {
                        // A short page is the last one.
                        let next = (elements.len() == SCAN_BATCH).then(|| position + batch);
                        (next, elements)
                    })
            }
        }
    }

    /// The next item of the batch at hand; `None` when a fetch is needed first (or the scan
    /// is over, see `finished`).
    fn next_buffered(&mut self) -> Option<Result<T>> {
        let item = (self.decode)(&mut self.batch)?;
        if item.is_err() {
            self.stop();
        }
        Some(item)
    }

    /// Takes a fetched batch; an error ends the scan and is returned as its last item.
    fn accept(&mut self, fetched: Result<Batch>) -> Option<Result<T>> {
        match fetched {
            Ok((next, elements)) => {
                self.finished = next.is_none();
                self.position = next.unwrap_or(self.position);
                self.batch = elements.into_iter();
                None
            }
            Err(error) => {
                self.stop();
                Some(Err(error))
            }
        }
    }

    fn stop(&mut self) {
        self.finished = true;
        self.batch = Vec::new().into_iter();
    }
}

impl<T> Iterator for Scan<T, Blocking> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        loop {
            if let Some(item) = self.next_buffered() {
                return Some(item);
            }
            if self.finished {
                return None;
            }
            if let Some(error) = self.accept(Blocking::run(self.fetch())) {
                return Some(error);
            }
        }
    }
}

#[cfg(feature = "tokio")]
impl<T> futures_util::Stream for Scan<T, crate::aio::Tokio> {
    type Item = Result<T>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        context: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<T>>> {
        use crate::aio::Tokio;
        use std::future::Future;
        use std::task::Poll;

        // Every field is Unpin (the in-flight call is boxed).
        let this = &mut *self;
        loop {
            if let Some(item) = this.next_buffered() {
                return Poll::Ready(Some(item));
            }
            if this.finished {
                return Poll::Ready(None);
            }
            let fetching = match &mut this.fetching {
                Some(fetching) => fetching,
                None => this.fetching.insert(Tokio::run(this.fetch())),
            };
            let Poll::Ready(fetched) = std::pin::Pin::new(fetching).poll(context) else {
                return Poll::Pending;
            };
            this.fetching = None;
            if let Some(error) = this.accept(fetched) {
                return Poll::Ready(Some(error));
            }
        }
    }
}

/// The field and value of the next `HSCAN` pair; a lone field means a malformed reply.
pub(crate) fn next_pair(
    batch: &mut std::vec::IntoIter<Vec<u8>>,
) -> Option<Result<(Vec<u8>, Vec<u8>)>> {
    let field = batch.next()?;
    Some(
        batch
            .next()
            .map(|value| (field, value))
            .ok_or(Error::UnexpectedReply { command: "HSCAN" }),
    )
}
