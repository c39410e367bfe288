//! The requests of [`RedisList`] that its methods, [`RedisDeque`](crate::containers::RedisDeque)'s
//! and [`RedisQueue`](crate::containers::RedisQueue)'s compose: each one request on the key,
//! for any face.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::codec::{from_json, to_json};
use crate::containers::dict::decode_optional;
use crate::containers::list::{lrange_bounds, RedisList, LIST_BATCH};
use crate::error::Result;
use crate::face::operation::Operation;
use crate::face::Face;

impl<T, F: Face> RedisList<T, F>
where
    T: Serialize + DeserializeOwned + Send + 'static,
{
    /// `LLEN`.
    pub(crate) fn length(&self) -> Operation<usize> {
        self.handle.request(self.handle.command("LLEN"))
    }

    /// The element `LPOP` or `RPOP` (`command`) removes, if any.
    pub(crate) fn pop_end(&self, command: &str) -> Operation<Option<T>> {
        self.handle
            .request(self.handle.command(command))
            .and_then(decode_optional)
    }

    /// `LINDEX`.
    pub(crate) fn element(&self, index: i64) -> Operation<Option<T>> {
        let mut command = self.handle.command("LINDEX");
        command.arg(index);
        self.handle.request(command).and_then(decode_optional)
    }

    /// `RPUSH` of one element.
    pub(crate) fn push_one<Q>(&self, value: &Q) -> Operation<()>
    where
        Q: Serialize + ?Sized,
    {
        Operation::build(|| {
            let mut command = self.handle.command("RPUSH");
            command.arg(to_json(value)?);
            Ok(self.handle.request::<usize>(command).map(drop))
        })
    }

    /// Pushes already encoded items with `command` (`RPUSH`/`LPUSH`) in batches, atomically.
    pub(crate) fn push_all(&self, command: &str, encoded: &[Vec<u8>]) -> Operation<()> {
        if encoded.is_empty() {
            return Operation::done(Ok(()));
        }
        let mut pipeline = redis::pipe();
        pipeline.atomic();
        for batch in encoded.chunks(LIST_BATCH) {
            pipeline
                .cmd(command)
                .arg(self.handle.name())
                .arg(batch)
                .ignore();
        }
        self.handle.request_pipeline(pipeline)
    }

    /// Replaces the whole list with `items`, in order, in one `MULTI`/`EXEC` (`DEL`, then
    /// `RPUSH` batches): the write-back of a sort.
    pub(crate) fn rewrite(&self, items: &[T]) -> Operation<()> {
        Operation::build(|| {
            let encoded = items.iter().map(to_json).collect::<Result<Vec<_>>>()?;
            let mut pipeline = redis::pipe();
            pipeline
                .atomic()
                .cmd("DEL")
                .arg(self.handle.name())
                .ignore();
            for batch in encoded.chunks(LIST_BATCH) {
                pipeline
                    .cmd("RPUSH")
                    .arg(self.handle.name())
                    .arg(batch)
                    .ignore();
            }
            Ok(self.handle.request_pipeline(pipeline))
        })
    }

    /// `LRANGE` of Python's `l[start:stop]`.
    pub(crate) fn range(&self, start: i64, stop: i64) -> Operation<Vec<T>> {
        let Some((first, last)) = lrange_bounds(start, stop) else {
            return Operation::done(Ok(Vec::new()));
        };
        let mut command = self.handle.command("LRANGE");
        command.arg(first).arg(last);
        self.handle
            .request(command)
            .and_then(|stored: Vec<Vec<u8>>| stored.iter().map(|bytes| from_json(bytes)).collect())
    }

    /// `LPOS`.
    pub(crate) fn find<Q>(&self, value: &Q) -> Operation<Option<usize>>
    where
        Q: Serialize + ?Sized,
    {
        Operation::build(|| {
            let mut command = self.handle.command("LPOS");
            command.arg(to_json(value)?);
            Ok(self.handle.request(command))
        })
    }
}

/// Encodes every item, in order.
pub(crate) fn encode_all<T: Serialize>(items: impl IntoIterator<Item = T>) -> Result<Vec<Vec<u8>>> {
    items.into_iter().map(|item| to_json(&item)).collect()
}
