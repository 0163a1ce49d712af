package dev.sluice.it;

import dev.sluice.registry.Poll;
import java.time.Duration;
import java.util.function.Predicate;
import java.util.function.Supplier;

/** Polling with a deadline, as {@link Poll} does it for every test module. */
final class Await {
  private Await() {}

  /** Returns the first value {@code probe} yields that {@code done} accepts, or fails. */
  static <T> T until(String what, Duration timeout, Supplier<T> probe, Predicate<T> done) {
    return Poll.until(what, timeout, probe, done);
  }

  static void until(String what, Duration timeout, Supplier<Boolean> condition) {
    Poll.until(what, timeout, condition, Boolean.TRUE::equals);
  }
}
