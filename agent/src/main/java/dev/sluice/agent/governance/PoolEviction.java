package dev.sluice.agent.governance;

import java.lang.reflect.Method;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How to make a pool drop a connection the agent aborted. JDBC has no call for it, so the general
 * way comes last: the connection is used once, with a call that enlists it in no transaction
 * ({@code getWarnings()}), so that pools that evict a connection failing with a connection error
 * see it fail, and closed (pools that look at the physical connection on return drop it). Pools
 * that do neither by default need their own call, and only they: each is looked up by its method's
 * name and signature, invoked reflectively, and its failure falls back to the general way.
 *
 * <ul>
 *   <li>{@code evictConnection(Connection)}: HikariCP, which puts a connection back whatever error
 *       a closed driver connection reports;
 *   <li>{@code flush(GRACEFUL)} (an enum parameter): Agroal, which by default never validates and
 *       never evicts. It closes the idle connections and marks the lent ones to be closed as they
 *       come back, never one in use: its flush runs later, on the pool's own thread, and may meet
 *       connections opened after access was restored ({@code ALL} would close those under the
 *       application);
 *   <li>{@code resetConnection()}, once access is restored: Spring's {@code
 *       SingleConnectionDataSource}, which keeps its one connection for good and fails every borrow
 *       once it is closed;
 *   <li>{@code softResetAllUsers()}, once access is restored: c3p0, which retries a failed
 *       acquisition only after {@code acquireRetryDelay} (1 s by default) and meanwhile makes every
 *       borrow wait for that retry; its soft reset starts a new pool that acquires at once.
 * </ul>
 */
final class PoolEviction {

  private static final Logger log = LoggerFactory.getLogger(PoolEviction.class);

  /** What a pool class offers; looked up once per class. */
  private static final class Calls {
    final Method evictConnection;
    final Method flush;
    final Object flushGraceful;
    final Method reset;
    final Method softReset;

    Calls(Class<?> type) {
      evictConnection = method(type, "evictConnection", Connection.class);
      Method f = null;
      Object graceful = null;
      for (Method m : type.getMethods()) {
        if (m.getName().equals("flush")
            && m.getParameterCount() == 1
            && m.getParameterTypes()[0].isEnum()) {
          for (Object constant : m.getParameterTypes()[0].getEnumConstants()) {
            if (((Enum<?>) constant).name().equals("GRACEFUL")) {
              f = m;
              graceful = constant;
            }
          }
        }
      }
      flush = f;
      flushGraceful = graceful;
      reset = method(type, "resetConnection");
      softReset = method(type, "softResetAllUsers");
    }

    private static Method method(Class<?> type, String name, Class<?>... parameters) {
      try {
        return type.getMethod(name, parameters);
      } catch (NoSuchMethodException | RuntimeException e) {
        return null;
      }
    }
  }

  private final ConcurrentMap<Class<?>, Calls> calls = new ConcurrentHashMap<>();

  private Calls of(Object dataSource) {
    return calls.computeIfAbsent(dataSource.getClass(), Calls::new);
  }

  /** Removes {@code c}, which the pool just lent and which is dead, from the pool. */
  void evict(Object dataSource, Connection c) {
    try {
      // Throws on a closed connection (JDBC says so), and enlists it in no transaction: a pool
      // that enlists on first use (Atomikos) would otherwise tie the dead connection into the
      // application's transaction, which then ends in doubt.
      c.getWarnings();
    } catch (SQLException | RuntimeException expected) {
      // the pool has seen its connection fail
    }
    Calls known = of(dataSource);
    if (known.evictConnection != null
        && invoke(known.evictConnection, dataSource, c, "evictConnection")) {
      return;
    }
    if (known.flush != null) {
      // everything idle now, and on return what is lent: the dead connection and its siblings
      invoke(known.flush, dataSource, known.flushGraceful, "flush(GRACEFUL)");
    }
    try {
      c.close();
    } catch (SQLException | RuntimeException e) {
      log.debug("closing a stale connection failed: {}", e.toString());
    }
  }

  /**
   * After the agent aborted connections of a pool's datasource: has a pool that never checks its
   * connections drop them all (idle ones now, lent ones as they come back), so that no borrow, not
   * even one that enlists the connection in a transaction before it returns, meets one. Only pools
   * known to need it ({@code flush(GRACEFUL)}: Agroal); others are left to their own checks and the
   * agent's check at borrow.
   */
  void purge(Object dataSource) {
    Calls known = of(dataSource);
    if (known.flush != null) {
      invoke(known.flush, dataSource, known.flushGraceful, "flush(GRACEFUL)");
    }
  }

  /**
   * Whether the pool of data source class {@code type} drops aborted connections with a flush of
   * its own ({@link #purge}). Such a flush runs on the pool's own thread, the one that also opens
   * its connections: an attempt of the pool's held through a cut-off would hold the flush behind
   * it, past the re-enable.
   */
  boolean flushes(Class<?> type) {
    return calls.computeIfAbsent(type, Calls::new).flush != null;
  }

  /**
   * Access to a pool's datasource is restored: has a pool that would otherwise wait out a retry
   * delay of its own before it acquires again start acquiring now ({@code softResetAllUsers()}:
   * c3p0). Its connections were aborted with the cut-off; none is lost that was alive.
   */
  void restored(Object dataSource) {
    Calls known = of(dataSource);
    if (known.softReset != null) {
      invoke(known.softReset, dataSource, null, "softResetAllUsers");
    }
  }

  /**
   * After a borrow failed while aborted connections are about: drops the one connection of a data
   * source that keeps one for good. Returns whether it did, so that the borrow may be repeated.
   */
  boolean resetAfterFailure(Object dataSource) {
    Calls known = of(dataSource);
    return known.reset != null && invoke(known.reset, dataSource, null, "resetConnection");
  }

  private static boolean invoke(Method m, Object target, Object argument, String what) {
    try {
      if (m.getParameterCount() == 0) {
        m.invoke(target);
      } else {
        m.invoke(target, argument);
      }
      return true;
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      log.debug("{} on {} failed: {}", what, target.getClass().getName(), e.toString());
      return false;
    }
  }
}
