package dev.sluice.agent.governance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class DataSourceLearningTest {

  /**
   * A data source made while a round is open, after every one the round knew was decided (a second
   * HikariCP pool in the JVM, whose driver's data source HikariCP makes inside its first borrow):
   * the governor is told to look at borrows again, else its borrows are never learned and its
   * connections never governed.
   */
  @Test
  void aDataSourceMadeWhileARoundIsOpenStartsLookingAgain() {
    KnownDataSources sources = new KnownDataSources(url -> null, url -> false);
    AtomicInteger changes = new AtomicInteger();
    DataSourceLearning learning =
        new DataSourceLearning(
            sources, new TrackedConnections(), (d, c) -> {}, changes::incrementAndGet);
    Object first = new Object();
    learning.created(first);
    assertTrue(learning.active());
    int before = changes.get();
    KnownDataSources.Entry e = sources.entry(first);
    sources.decide(first, e, KnownDataSources.Kind.WRAPPER, null);
    assertTrue(!learning.active(), "nothing left to learn");

    learning.created(new Object());
    assertEquals(before + 1, changes.get(), "told to look at borrows again");
    assertTrue(learning.active());
  }
}
