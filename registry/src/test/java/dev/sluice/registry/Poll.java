package dev.sluice.registry;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Polling with a deadline, for every test module (in this module's test jar): the condition is
 * re-checked, never assumed after a fixed sleep. A {@link RuntimeException} from the probe counts
 * as "not yet" (a registry or database in the middle of a change) and is the cause of the failure
 * if the deadline passes.
 */
public final class Poll {

  private static final long INTERVAL_MS = 20;

  private Poll() {}

  /** Returns the first value {@code probe} yields that {@code done} accepts, or fails. */
  public static <T> T until(String what, Duration timeout, Supplier<T> probe, Predicate<T> done) {
    long deadline = System.nanoTime() + timeout.toNanos();
    T last = null;
    RuntimeException lastError = null;
    while (true) {
      try {
        last = probe.get();
        lastError = null;
        if (done.test(last)) {
          return last;
        }
      } catch (RuntimeException e) {
        lastError = e;
      }
      if (System.nanoTime() >= deadline) {
        break;
      }
      try {
        Thread.sleep(INTERVAL_MS);
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

  /**
   * The value of {@code call}, a checked exception rethrown unchecked, so that a probe that throws
   * one counts as "not yet" too.
   */
  public static <T> T unchecked(Callable<T> call) {
    try {
      return call.call();
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Returns once {@code condition} holds, or fails. */
  public static void until(String what, Duration timeout, BooleanSupplier condition) {
    until(what, timeout, condition::getAsBoolean, Boolean.TRUE::equals);
  }
}
