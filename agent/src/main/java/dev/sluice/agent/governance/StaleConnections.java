package dev.sluice.agent.governance;

import java.lang.reflect.Method;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.LinkedHashSet;
import java.util.Set;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps pools from handing out connections the agent aborted. A pool that neither validates on
 * borrow nor evicts on SQLState {@code 08} would otherwise give the application a dead connection
 * after access is restored. When a borrowed connection wraps an aborted physical connection, it is
 * evicted from its pool and the borrow is repeated.
 */
final class StaleConnections {

  private static final Logger log = LoggerFactory.getLogger(StaleConnections.class);

  /** Enough for a pool full of aborted connections of a usual size; then the pool's own checks. */
  static final int MAX_RETRIES = 32;

  private final WeakIdentitySet<Connection> aborted = new WeakIdentitySet<>();

  // Set while this thread borrows again in place of a stale connection: that borrow's own exit
  // must not start another round of replacing.
  private static final ThreadLocal<Boolean> REPLACING = new ThreadLocal<>();

  void aborted(Connection physical) {
    aborted.add(physical);
  }

  /** The connection to hand out, or the {@link SQLException} a repeated borrow failed with. */
  Object replaceIfStale(Object dataSource, Object borrowed) {
    if (aborted.isEmpty()
        || !(borrowed instanceof Connection)
        || !(dataSource instanceof DataSource)) {
      return borrowed;
    }
    Connection c = (Connection) borrowed;
    for (int attempt = 0; attempt < MAX_RETRIES && isStale(c); attempt++) {
      log.debug(
          "{} handed out an aborted connection; evicting it and borrowing again",
          dataSource.getClass().getName());
      evict(dataSource, c);
      try {
        c = ((DataSource) dataSource).getConnection();
      } catch (SQLException e) {
        return e;
      }
    }
    return c;
  }

  private boolean isStale(Connection c) {
    Set<Class<?>> types = new LinkedHashSet<>();
    for (Connection dead : aborted.snapshot()) {
      types.add(dead.getClass());
    }
    for (Class<?> type : types) {
      try {
        Object physical = type.isInstance(c) ? c : c.isWrapperFor(type) ? c.unwrap(type) : null;
        if (physical instanceof Connection && aborted.contains((Connection) physical)) {
          return true;
        }
      } catch (SQLException | RuntimeException e) {
        // a proxy that cannot unwrap: nothing to learn from it
      }
    }
    return false;
  }

  /**
   * Removes the connection from its pool: HikariCP's {@code evictConnection(Connection)} where the
   * data source has it; else {@code close()}, on which pools that look at the physical connection
   * (DBCP2, c3p0) drop it.
   */
  private static void evict(Object dataSource, Connection c) {
    try {
      Method evict = dataSource.getClass().getMethod("evictConnection", Connection.class);
      evict.invoke(dataSource, c);
      return;
    } catch (NoSuchMethodException e) {
      // not HikariCP
    } catch (ReflectiveOperationException | RuntimeException e) {
      log.debug("evictConnection failed: {}", e.toString());
    }
    try {
      c.close();
    } catch (SQLException | RuntimeException e) {
      log.debug("closing a stale connection failed: {}", e.toString());
    }
  }
}
