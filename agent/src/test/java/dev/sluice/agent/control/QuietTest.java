package dev.sluice.agent.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class QuietTest {

  @Test
  void workWaitsWhileClassesAreLoadedAndRunsOnceWhenTheyStop() throws Exception {
    ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    try {
      AtomicLong classes = new AtomicLong();
      AtomicInteger looks = new AtomicInteger();
      // moves at each look until the fifth: the application is still loading classes
      Quiet quiet =
          new Quiet(
              timer, () -> looks.incrementAndGet() < 5 ? classes.incrementAndGet() : classes.get());
      AtomicInteger ran = new AtomicInteger();
      CountDownLatch done = new CountDownLatch(2);
      quiet.then(
          () -> {
            ran.incrementAndGet();
            assertTrue(looks.get() >= 5, "ran while classes were still being loaded: " + looks);
            done.countDown();
          });
      assertEquals(0, ran.get(), "ran at once");
      assertTrue(
          waitFor(() -> ran.get() == 1), "ran once the count stood still: looks " + looks.get());
      quiet.then(done::countDown); // after the moment: runs soon
      assertTrue(done.await(5, TimeUnit.SECONDS), "work added later ran too");
      assertEquals(1, ran.get(), "each piece of work runs once");
    } finally {
      timer.shutdownNow();
    }
  }

  /** Waits up to 5 s for {@code condition}, looking every 10 ms. */
  private static boolean waitFor(java.util.function.BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) {
        return true;
      }
      Thread.sleep(10);
    }
    return false;
  }
}
