package dev.sluice.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class PollTest {

  @Test
  void returnsTheFirstAcceptedValue() {
    AtomicInteger calls = new AtomicInteger();
    assertEquals(
        3, (int) Poll.until("three", Duration.ofSeconds(10), calls::incrementAndGet, n -> n == 3));
  }

  @Test
  void failsAtTheDeadlineNamingWhatAndTheLastError() {
    IllegalStateException transientError = new IllegalStateException("not yet");
    AssertionError e =
        assertThrows(
            AssertionError.class,
            () ->
                Poll.until(
                    "the node",
                    Duration.ofMillis(100),
                    () -> {
                      throw transientError;
                    }));
    assertTrue(e.getMessage().contains("waiting for the node"), e.getMessage());
    assertSame(transientError, e.getCause());
  }
}
