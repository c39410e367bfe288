//! `std::collections` look-alikes stored in Redis: dict, set, counter, list, deque and queue,
//! and their server-side iteration.

pub(crate) mod counter;
pub(crate) mod deque;
pub(crate) mod dict;
pub(crate) mod list;
pub(crate) mod queue;
pub(crate) mod scan;
pub(crate) mod set;
