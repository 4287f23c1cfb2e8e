//! The request timeout, armed lazily: the timer is only registered once the handler has actually
//! had to wait. Most requests (health probes, anything answered from memory) finish in their
//! first poll and never touch the runtime's timer wheel, which costs a lock and two wheel updates
//! per request. The deadline still counts from when the request arrived.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::time::{Instant, Sleep};

/// Runs `inner` until it finishes (`Some(output)`) or `deadline` passes (`None`, and `inner` is
/// dropped, which cancels the handler).
pub(crate) struct Deadline<F> {
    inner: F,
    deadline: Instant,
    timer: Option<Pin<Box<Sleep>>>,
}

impl<F> Deadline<F> {
    pub(crate) fn new(inner: F, deadline: Instant) -> Self {
        Self {
            inner,
            deadline,
            timer: None,
        }
    }
}

impl<F: Future + Unpin> Future for Deadline<F> {
    type Output = Option<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Poll::Ready(output) = Pin::new(&mut this.inner).poll(cx) {
            return Poll::Ready(Some(output));
        }
        let deadline = this.deadline;
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        timer.as_mut().poll(cx).map(|()| None)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_ready_future_never_arms_the_timer() {
        let mut deadline = Deadline::new(std::future::ready(7), Instant::now());
        assert_eq!((&mut deadline).await, Some(7));
        assert!(deadline.timer.is_none());
    }

    // Paused time: the runtime advances its clock to the next timer when idle, so these tests
    // take no wall-clock time and cannot be flaky on a loaded machine.
    #[tokio::test(start_paused = true)]
    async fn a_slow_future_is_abandoned_at_the_deadline_counted_from_arrival() {
        let arrived = Instant::now();
        tokio::time::sleep(Duration::from_millis(150)).await;
        let slow = Box::pin(tokio::time::sleep(Duration::from_secs(30)));
        let outcome = Deadline::new(slow, arrived + Duration::from_millis(200)).await;
        assert_eq!(outcome, None);
        let waited = arrived.elapsed();
        assert_eq!(waited, Duration::from_millis(200));
    }

    #[tokio::test(start_paused = true)]
    async fn a_future_that_waits_but_finishes_in_time_completes() {
        let quick = Box::pin(async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            "done"
        });
        let mut deadline = Deadline::new(quick, Instant::now() + Duration::from_secs(30));
        assert_eq!((&mut deadline).await, Some("done"));
        assert!(
            deadline.timer.is_some(),
            "it had to wait, so the timer was armed"
        );
    }
}
