//! [`Scan`]: iteration over a hash or a set in server-side batches (`HSCAN`/`SSCAN`), so a
//! large container is never transferred, nor decoded, in one piece.

use std::fmt;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::transport::key::KeyHandle;

/// Elements asked for per `HSCAN`/`SSCAN` call (a hint to the server).
pub(crate) const SCAN_BATCH: usize = 1000;

/// Turns the next raw element(s) of a batch into an item: one member for `SSCAN`, a field and
/// its value for `HSCAN`.
pub(crate) type DecodeNext<T> = fn(&mut std::vec::IntoIter<Vec<u8>>) -> Option<Result<T>>;

/// An iterator over a [`RedisDict`](crate::RedisDict), a [`RedisSet`](crate::RedisSet) or a
/// [`RedisCounter`](crate::RedisCounter), fetching about 1000 elements per round trip with
/// `HSCAN`/`SSCAN`.
///
/// It has `SCAN`'s guarantees: every element present for the whole iteration is returned; one
/// added or removed meanwhile may or may not be; an element may come twice if the container is
/// rehashed during the iteration (`to_hashmap`/`to_hashset` take a consistent snapshot instead).
/// Each item is a `Result`: a failed round trip or an undecodable element ends the iteration
/// with that error.
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
pub struct Scan<T> {
    handle: Arc<KeyHandle>,
    command: &'static str,
    cursor: u64,
    finished: bool,
    batch: std::vec::IntoIter<Vec<u8>>,
    decode: DecodeNext<T>,
}

impl<T> fmt::Debug for Scan<T> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Scan")
            .field("key", &self.handle.name())
            .field("command", &self.command)
            .field("cursor", &self.cursor)
            .field("finished", &self.finished)
            .finish()
    }
}

impl<T> Scan<T> {
    pub(crate) fn new(
        handle: Arc<KeyHandle>,
        command: &'static str,
        decode: DecodeNext<T>,
    ) -> Self {
        Self {
            handle,
            command,
            cursor: 0,
            finished: false,
            batch: Vec::new().into_iter(),
            decode,
        }
    }

    fn fetch(&mut self) -> Result<()> {
        let (cursor, elements): (u64, Vec<Vec<u8>>) = self.handle.query(
            redis::cmd(self.command)
                .arg(self.handle.name())
                .arg(self.cursor)
                .arg("COUNT")
                .arg(SCAN_BATCH),
        )?;
        self.cursor = cursor;
        self.finished = cursor == 0;
        self.batch = elements.into_iter();
        Ok(())
    }
}

impl<T> Iterator for Scan<T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        loop {
            if let Some(item) = (self.decode)(&mut self.batch) {
                if item.is_err() {
                    self.finished = true;
                    self.batch = Vec::new().into_iter();
                }
                return Some(item);
            }
            if self.finished {
                return None;
            }
            if let Err(error) = self.fetch() {
                self.finished = true;
                return Some(Err(error));
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
