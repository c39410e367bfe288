//! Redis lists as a [`ListStore`], so that `pottery_core::list` runs Python's list and deque
//! semantics directly on them.
//!
//! Elements move through the module list API (`RedisModule_ListPush/Pop/Get/Set/Insert/Delete`,
//! Redis 7.0): no command is called, nothing is copied into Rust, and element positions are
//! always in range because `pottery_core::list` checks them first. Redis deletes a list key by
//! itself when one of these calls removes its last element.

use pottery_core::list::{End, ListStore};
use pottery_core::CommandError;
use redis_module::{raw, Context, RedisString};
use std::os::raw::{c_int, c_long};
use std::ptr;

type OpenKey = unsafe extern "C" fn(
    *mut raw::RedisModuleCtx,
    *mut raw::RedisModuleString,
    c_int,
) -> *mut raw::RedisModuleKey;
type KeyOnly = unsafe extern "C" fn(*mut raw::RedisModuleKey) -> c_int;
type Length = unsafe extern "C" fn(*mut raw::RedisModuleKey) -> usize;
type Push =
    unsafe extern "C" fn(*mut raw::RedisModuleKey, c_int, *mut raw::RedisModuleString) -> c_int;
type Pop = unsafe extern "C" fn(*mut raw::RedisModuleKey, c_int) -> *mut raw::RedisModuleString;
type Get = unsafe extern "C" fn(*mut raw::RedisModuleKey, c_long) -> *mut raw::RedisModuleString;
type Put =
    unsafe extern "C" fn(*mut raw::RedisModuleKey, c_long, *mut raw::RedisModuleString) -> c_int;
type Delete = unsafe extern "C" fn(*mut raw::RedisModuleKey, c_long) -> c_int;
type Close = unsafe extern "C" fn(*mut raw::RedisModuleKey);

/// The module API functions a list key needs, looked up once so that no call can find one
/// missing (they all exist since Redis 7.0).
#[derive(Clone, Copy)]
struct ListApi {
    open: OpenKey,
    close: Close,
    key_type: KeyOnly,
    length: Length,
    push: Push,
    pop: Pop,
    get: Get,
    set: Put,
    insert: Put,
    delete: Delete,
    delete_key: KeyOnly,
}

const MISSING_API: CommandError =
    CommandError::Internal("ERR this Redis lacks the module list API (needs Redis 7.0)");
const LIST_FAILED: CommandError =
    CommandError::Internal("ERR the list changed under the pottery module");

impl ListApi {
    fn get() -> Result<ListApi, CommandError> {
        // SAFETY: reading the function pointers Redis filled in when the module loaded.
        unsafe {
            Ok(ListApi {
                open: raw::RedisModule_OpenKey.ok_or(MISSING_API)?,
                close: raw::RedisModule_CloseKey.ok_or(MISSING_API)?,
                key_type: raw::RedisModule_KeyType.ok_or(MISSING_API)?,
                length: raw::RedisModule_ValueLength.ok_or(MISSING_API)?,
                push: raw::RedisModule_ListPush.ok_or(MISSING_API)?,
                pop: raw::RedisModule_ListPop.ok_or(MISSING_API)?,
                get: raw::RedisModule_ListGet.ok_or(MISSING_API)?,
                set: raw::RedisModule_ListSet.ok_or(MISSING_API)?,
                insert: raw::RedisModule_ListInsert.ok_or(MISSING_API)?,
                delete: raw::RedisModule_ListDelete.ok_or(MISSING_API)?,
                delete_key: raw::RedisModule_DeleteKey.ok_or(MISSING_API)?,
            })
        }
    }
}

/// A key opened for writing that holds a list or nothing; closed on drop.
pub struct ListKey {
    ctx: *mut raw::RedisModuleCtx,
    key: *mut raw::RedisModuleKey,
    api: ListApi,
}

impl ListKey {
    /// Opens `name` for writing; `WRONGTYPE` unless it holds a list or nothing.
    pub fn open(ctx: &Context, name: &RedisString) -> Result<ListKey, CommandError> {
        let api = ListApi::get()?;
        let mode = (raw::REDISMODULE_READ | raw::REDISMODULE_WRITE) as c_int;
        // SAFETY: `ctx` and `name` are live for the command; the key is closed on drop.
        let key = unsafe { (api.open)(ctx.ctx, name.inner, mode) };
        if key.is_null() {
            return Err(CommandError::Internal("ERR could not open the key"));
        }
        let list = ListKey {
            ctx: ctx.ctx,
            key,
            api,
        };
        // SAFETY: `key` is open.
        let key_type = unsafe { (api.key_type)(key) } as isize;
        if key_type == raw::REDISMODULE_KEYTYPE_EMPTY || key_type == raw::REDISMODULE_KEYTYPE_LIST {
            Ok(list)
        } else {
            Err(CommandError::WrongType)
        }
    }

    /// Takes ownership of a string the list API returned, so that it is freed once.
    fn owned(&self, string: *mut raw::RedisModuleString) -> Result<RedisString, CommandError> {
        if string.is_null() {
            Err(LIST_FAILED)
        } else {
            Ok(RedisString::from_redis_module_string(self.ctx, string))
        }
    }

    fn status(status: c_int) -> Result<(), CommandError> {
        if status == raw::REDISMODULE_OK as c_int {
            Ok(())
        } else {
            Err(LIST_FAILED)
        }
    }
}

fn position(index: usize) -> Result<c_long, CommandError> {
    c_long::try_from(index).map_err(|_| LIST_FAILED)
}

fn side(end: End) -> c_int {
    (match end {
        End::Head => raw::REDISMODULE_LIST_HEAD,
        End::Tail => raw::REDISMODULE_LIST_TAIL,
    }) as c_int
}

impl Drop for ListKey {
    fn drop(&mut self) {
        // SAFETY: opened in `open`, closed exactly once here.
        unsafe { (self.api.close)(self.key) };
        self.key = ptr::null_mut();
    }
}

// SAFETY for every call below: `self.key` is open for writing and holds a list or nothing (the
// list API checks the type again and reports errors through its return value), and
// `pottery_core::list` passes only in-range positions.
impl ListStore for ListKey {
    type Item = RedisString;

    fn len(&self) -> usize {
        unsafe { (self.api.length)(self.key) }
    }

    fn push(&mut self, end: End, item: RedisString) -> Result<(), CommandError> {
        // Redis copies the element into the list; `item` is released when dropped.
        Self::status(unsafe { (self.api.push)(self.key, side(end), item.inner) })
    }

    fn pop(&mut self, end: End) -> Result<RedisString, CommandError> {
        self.owned(unsafe { (self.api.pop)(self.key, side(end)) })
    }

    fn take(&mut self, index: usize) -> Result<RedisString, CommandError> {
        let at = position(index)?;
        let item = self.owned(unsafe { (self.api.get)(self.key, at) })?;
        Self::status(unsafe { (self.api.delete)(self.key, at) })?;
        Ok(item)
    }

    fn set(&mut self, index: usize, item: RedisString) -> Result<(), CommandError> {
        let at = position(index)?;
        Self::status(unsafe { (self.api.set)(self.key, at, item.inner) })
    }

    fn insert_before(&mut self, index: usize, item: RedisString) -> Result<(), CommandError> {
        let at = position(index)?;
        Self::status(unsafe { (self.api.insert)(self.key, at, item.inner) })
    }

    fn remove(&mut self, index: usize) -> Result<(), CommandError> {
        let at = position(index)?;
        Self::status(unsafe { (self.api.delete)(self.key, at) })
    }

    fn clear(&mut self) -> Result<(), CommandError> {
        Self::status(unsafe { (self.api.delete_key)(self.key) })
    }
}
