package dev.sluice.agent.governance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class IdentityTableTest {

  /** Equal to every other one: the table must go by identity. */
  static final class AllEqual {
    @Override
    public boolean equals(Object o) {
      return o instanceof AllEqual;
    }

    @Override
    public int hashCode() {
      return 1;
    }
  }

  @Test
  void keysAreTheirOwnIdentityNotTheirEquals() {
    IdentityTable<String> table = new IdentityTable<>();
    AllEqual a = new AllEqual();
    AllEqual b = new AllEqual();
    table.put(a, "a");
    assertNull(table.get(b));
    table.put(b, "b");
    assertEquals("a", table.get(a));
    assertEquals("b", table.get(b));
    assertEquals(2, table.size());
  }

  @Test
  void growsRemovesAndReusesItsSlots() {
    IdentityTable<Integer> table = new IdentityTable<>();
    List<Object> keys = new ArrayList<>();
    for (int i = 0; i < 5000; i++) {
      Object k = new Object();
      keys.add(k);
      table.put(k, i);
    }
    for (int i = 0; i < keys.size(); i++) {
      assertEquals(i, table.get(keys.get(i)));
    }
    for (int i = 0; i < keys.size(); i += 2) {
      assertEquals(i, table.remove(keys.get(i)));
    }
    assertEquals(2500, table.size());
    for (int i = 0; i < keys.size(); i++) {
      assertEquals(i % 2 == 0 ? null : (Integer) i, table.get(keys.get(i)));
    }
    Object k = keys.get(0);
    assertSame(7, table.putIfAbsent(k, 7));
    assertSame(7, table.putIfAbsent(k, 8), "the first value stays");
    AtomicInteger seen = new AtomicInteger();
    table.forEach((key, v) -> seen.incrementAndGet());
    assertEquals(2501, seen.get());
  }

  @Test
  void aKeyTheApplicationDropsIsForgotten() throws InterruptedException {
    IdentityTable<String> table = new IdentityTable<>();
    Object kept = new Object();
    table.put(kept, "kept");
    for (int i = 0; i < 1000; i++) {
      table.put(new Object(), "dropped");
    }
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (table.size() > 1 && System.nanoTime() < deadline) {
      System.gc();
      table.purge();
      Thread.sleep(10);
    }
    assertEquals(1, table.size());
    assertEquals("kept", table.get(kept));
  }

  @Test
  void lookupsWhileAnotherThreadWritesSeeEveryKeyThatIsIn() throws Exception {
    IdentityTable<Boolean> table = new IdentityTable<>();
    List<Object> stable = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      Object k = new Object();
      stable.add(k);
      table.put(k, Boolean.TRUE);
    }
    Thread writer =
        new Thread(
            () -> {
              List<Object> churn = new ArrayList<>();
              for (int i = 0; i < 20_000; i++) {
                Object k = new Object();
                churn.add(k);
                table.put(k, Boolean.TRUE);
                if (churn.size() > 50) {
                  table.remove(churn.remove(0));
                }
              }
            });
    writer.start();
    int misses = 0;
    while (writer.isAlive()) {
      for (Object k : stable) {
        if (table.get(k) == null) {
          misses++;
        }
      }
    }
    writer.join();
    assertEquals(0, misses, "a key that is in is always found, whatever the writer does");
    assertTrue(table.size() >= 100);
  }
}
