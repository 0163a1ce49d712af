package dev.sluice.it;

import java.time.Duration;
import java.util.function.Supplier;

/** Polling with a deadline: the condition is re-checked, never assumed after a fixed sleep. */
final class Await {
  private Await() {}

  /** Returns the first value {@code probe} yields that {@code done} accepts, or fails. */
  static <T> T until(
      String what, Duration timeout, Supplier<T> probe, java.util.function.Predicate<T> done) {
    long deadline = System.nanoTime() + timeout.toNanos();
    T last = null;
    RuntimeException lastError = null;
    while (System.nanoTime() < deadline) {
      try {
        last = probe.get();
        lastError = null;
        if (done.test(last)) {
          return last;
        }
      } catch (RuntimeException e) {
        lastError = e;
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for " + what);
      }
    }
    AssertionError failure =
        new AssertionError(
            "timed out after " + timeout + " waiting for " + what + "; last: " + last);
    if (lastError != null) {
      failure.initCause(lastError);
    }
    throw failure;
  }

  static void until(String what, Duration timeout, Supplier<Boolean> condition) {
    until(what, timeout, condition, Boolean.TRUE::equals);
  }
}
