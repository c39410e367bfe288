//! The Bloom filter as a native Redis data type: persistence, AOF rewrite, `COPY`,
//! `MEMORY USAGE` and `DEBUG DIGEST`.
//!
//! The RDB layout (encoding version 1) is the `SCANDUMP` stream of `pottery_core::bloom_dump`:
//! one string buffer holding the header, then each sub-filter's bit array as string buffers of at
//! most 16 MiB, oldest sub-filter first. Loading checks the header, including the byte limit
//! `pottery.bf-max-bytes`, before allocating, and refuses buffers that do not fit exactly. The
//! AOF rewrite emits the same chunks as `POTTERY.BF.LOADCHUNK` commands, skipping all-zero ones.

use crate::host::{config, stats};
use pottery_core::bloom::BloomFilter;
use pottery_core::bloom_dump::{decode_header, encode_header, scan, write_at, Scan, CHUNK_BYTES};
use redis_module::native_types::RedisType;
use redis_module::{logging, raw};
use std::borrow::Cow;
use std::os::raw::{c_char, c_int, c_longlong, c_void};
use std::ptr;

/// The type name Redis stores in RDB files: exactly nine characters, fixed forever.
pub const TYPE_NAME: &str = "PotteryBF";
/// The RDB encoding version this build writes and reads.
pub const ENCODING_VERSION: i32 = 1;

/// The registered type, created in `RedisModule_OnLoad` through `redis_module!`'s `data_types`.
pub static BLOOM_TYPE: RedisType = RedisType::new(
    TYPE_NAME,
    ENCODING_VERSION,
    raw::RedisModuleTypeMethods {
        // Version 4 is what Redis 7.0 knows (copy, defrag, the *2 callbacks).
        version: 4,
        rdb_load: Some(rdb_load),
        rdb_save: Some(rdb_save),
        aof_rewrite: Some(aof_rewrite),
        mem_usage: Some(mem_usage),
        digest: Some(digest),
        free: Some(free),
        aux_load: None,
        aux_save: None,
        aux_save_triggers: 0,
        free_effort: None,
        unlink: None,
        copy: Some(copy),
        defrag: None,
        mem_usage2: None,
        free_effort2: None,
        unlink2: None,
        copy2: None,
        aux_save2: None,
    },
);

unsafe extern "C" fn rdb_save(rdb: *mut raw::RedisModuleIO, value: *mut c_void) {
    let Some(filter) = (unsafe { value.cast::<BloomFilter>().as_ref() }) else {
        return;
    };
    raw::save_slice(rdb, &encode_header(filter));
    for sub in filter.filters() {
        for chunk in sub.bytes.chunks(CHUNK_BYTES) {
            raw::save_slice(rdb, chunk);
        }
    }
}

unsafe extern "C" fn rdb_load(
    rdb: *mut raw::RedisModuleIO,
    encoding_version: c_int,
) -> *mut c_void {
    match load(rdb, encoding_version) {
        Ok(filter) => {
            stats::bloom_created(filter.bytes());
            Box::into_raw(Box::new(filter)).cast::<c_void>()
        }
        Err(problem) => {
            logging::log_warning(format!(
                "pottery: refusing a stored Bloom filter: {problem}"
            ));
            ptr::null_mut()
        }
    }
}

fn load(rdb: *mut raw::RedisModuleIO, encoding_version: c_int) -> Result<BloomFilter, String> {
    if encoding_version != ENCODING_VERSION {
        return Err(format!("unknown encoding version {encoding_version}"));
    }
    let header = raw::load_string_buffer(rdb).map_err(|error| error.to_string())?;
    let mut filter =
        decode_header(header.as_ref(), config::max_bytes()).map_err(|error| error.to_string())?;
    drop(header);
    let mut offset = 0u64;
    let sizes: Vec<u64> = filter
        .filters()
        .iter()
        .map(|sub| sub.bytes.len() as u64)
        .collect();
    for size in sizes {
        let end = offset + size;
        while offset < end {
            let chunk = raw::load_string_buffer(rdb).map_err(|error| error.to_string())?;
            let data = chunk.as_ref();
            // A chunk never spans sub-filters when saved: one that would is corrupt.
            if data.is_empty() || data.len() as u64 > end - offset {
                return Err("a data chunk does not fit its sub-filter".into());
            }
            write_at(&mut filter, offset, data).map_err(|error| error.to_string())?;
            offset += data.len() as u64;
        }
    }
    Ok(filter)
}

unsafe extern "C" fn aof_rewrite(
    aof: *mut raw::RedisModuleIO,
    key: *mut raw::RedisModuleString,
    value: *mut c_void,
) {
    let Some(filter) = (unsafe { value.cast::<BloomFilter>().as_ref() }) else {
        return;
    };
    let Some(emit) = (unsafe { raw::RedisModule_EmitAOF }) else {
        return;
    };
    let command = c"POTTERY.BF.LOADCHUNK";
    let format = c"slb";
    let mut iterator: i64 = 0;
    while let Some(step) = scan(filter, iterator) {
        let (load_with, data): (i64, Cow<[u8]>) = match step {
            Scan::Header(header) => {
                iterator = 1;
                (1, Cow::Owned(header))
            }
            Scan::Data(next, chunk) => {
                iterator = next;
                // Bit arrays start zeroed: an all-zero chunk needs no command.
                if chunk.iter().all(|byte| *byte == 0) {
                    continue;
                }
                (next, Cow::Borrowed(chunk))
            }
            Scan::Done => break,
        };
        unsafe {
            emit(
                aof,
                command.as_ptr(),
                format.as_ptr(),
                key,
                load_with as c_longlong,
                data.as_ptr().cast::<c_char>(),
                data.len(),
            );
        }
    }
}

unsafe extern "C" fn mem_usage(value: *const c_void) -> usize {
    let Some(filter) = (unsafe { value.cast::<BloomFilter>().as_ref() }) else {
        return 0;
    };
    std::mem::size_of::<BloomFilter>()
        + filter
            .filters()
            .iter()
            .map(|sub| std::mem::size_of_val(sub) + sub.bytes.len())
            .sum::<usize>()
}

unsafe extern "C" fn digest(md: *mut raw::RedisModuleDigest, value: *mut c_void) {
    let Some(filter) = (unsafe { value.cast::<BloomFilter>().as_ref() }) else {
        return;
    };
    let (Some(add), Some(end)) = (unsafe {
        (
            raw::RedisModule_DigestAddStringBuffer,
            raw::RedisModule_DigestEndSequence,
        )
    }) else {
        return;
    };
    let header = encode_header(filter);
    unsafe {
        add(md, header.as_ptr().cast::<c_char>(), header.len());
        for sub in filter.filters() {
            add(md, sub.bytes.as_ptr().cast::<c_char>(), sub.bytes.len());
        }
        end(md);
    }
}

unsafe extern "C" fn copy(
    _from: *mut raw::RedisModuleString,
    _to: *mut raw::RedisModuleString,
    value: *const c_void,
) -> *mut c_void {
    match unsafe { value.cast::<BloomFilter>().as_ref() } {
        Some(filter) => {
            stats::bloom_created(filter.bytes());
            Box::into_raw(Box::new(filter.clone())).cast::<c_void>()
        }
        None => ptr::null_mut(),
    }
}

unsafe extern "C" fn free(value: *mut c_void) {
    if !value.is_null() {
        let filter = unsafe { Box::from_raw(value.cast::<BloomFilter>()) };
        stats::bloom_freed(filter.bytes());
    }
}
