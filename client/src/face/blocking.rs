//! The sync executor: sends each request of an operation over a pooled connection and waits.

use crate::error::Result;
use crate::face::operation::{Operation, Step};
use crate::face::{Blocking, Face, Sealed};

impl Sealed for Blocking {}

impl Face for Blocking {
    type Output<T: Send + 'static> = Result<T>;

    const ASYNC: bool = false;

    fn run<T: Send + 'static>(operation: Operation<T>) -> Result<T> {
        let mut step = operation.step;
        loop {
            match step {
                Step::Done(result) => return result,
                Step::Send {
                    route,
                    request,
                    then,
                } => step = then(route.send_blocking(&request)).step,
                Step::Pause { duration, then } => {
                    std::thread::sleep(duration);
                    step = then().step;
                }
            }
        }
    }
}
