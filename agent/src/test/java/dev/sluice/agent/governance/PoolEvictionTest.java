package dev.sluice.agent.governance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Each pool's own call is found by its shape and used; every other pool gets the general way. */
class PoolEvictionTest {

  final List<String> calls = new ArrayList<>();
  final PoolEviction eviction = new PoolEviction();

  Connection connection() {
    return (Connection)
        Proxy.newProxyInstance(
            getClass().getClassLoader(),
            new Class<?>[] {Connection.class},
            (proxy, method, args) -> {
              calls.add("connection." + method.getName());
              if (method.getName().equals("getWarnings")) {
                throw new SQLException("This connection has been closed.", "08003");
              }
              return null;
            });
  }

  /** Like HikariCP. */
  public class Evicting {
    public void evictConnection(Connection c) {
      calls.add("evictConnection");
    }
  }

  /** Like Agroal. */
  public enum FlushMode {
    ALL,
    IDLE,
    GRACEFUL
  }

  public class Flushing {
    public void flush(FlushMode mode) {
      calls.add("flush(" + mode + ")");
    }
  }

  /** Like c3p0 and Spring's single connection. */
  public class Resetting {
    public void softResetAllUsers() {
      calls.add("softResetAllUsers");
    }

    public void resetConnection() {
      calls.add("resetConnection");
    }
  }

  public class Plain {}

  @Test
  void aPoolWithEvictConnectionIsAskedToEvictIt() {
    eviction.evict(new Evicting(), connection());
    assertEquals(List.of("connection.getWarnings", "evictConnection"), calls);
  }

  @Test
  void aPoolWithAFlushIsFlushedGracefullyAndTheConnectionClosed() {
    eviction.evict(new Flushing(), connection());
    assertEquals(List.of("connection.getWarnings", "flush(GRACEFUL)", "connection.close"), calls);
    calls.clear();
    eviction.purge(new Flushing());
    assertEquals(List.of("flush(GRACEFUL)"), calls);
  }

  @Test
  void onlyAPoolWithAGracefulFlushFlushes() {
    assertTrue(eviction.flushes(Flushing.class));
    assertFalse(eviction.flushes(Evicting.class));
    assertFalse(eviction.flushes(Plain.class));
  }

  @Test
  void anyOtherPoolSeesTheConnectionFailAndClosed() {
    eviction.evict(new Plain(), connection());
    assertEquals(List.of("connection.getWarnings", "connection.close"), calls);
    eviction.purge(new Plain());
    eviction.restored(new Plain());
    assertFalse(eviction.resetAfterFailure(new Plain()));
    assertEquals(2, calls.size(), "nothing else is called on a pool without those calls");
  }

  @Test
  void aPoolWithAResetIsResetWhenAccessIsRestoredOrWhenItsBorrowFails() {
    eviction.restored(new Resetting());
    assertEquals(List.of("softResetAllUsers"), calls);
    assertTrue(eviction.resetAfterFailure(new Resetting()));
    assertEquals(List.of("softResetAllUsers", "resetConnection"), calls);
  }
}
