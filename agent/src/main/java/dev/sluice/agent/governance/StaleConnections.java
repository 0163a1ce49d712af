package dev.sluice.agent.governance;

import java.lang.reflect.Method;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTimeoutException;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps pools from handing out connections the agent aborted. A pool that neither validates on
 * borrow nor evicts a connection after an error would otherwise lend the application a dead
 * connection after access is restored, for good.
 *
 * <p>While any aborted connection is still reachable (held weakly: a pool that dropped it lets it
 * be collected), every borrow is checked: a connection that is, or wraps ({@code Wrapper.unwrap}),
 * an aborted connection or a closed driver connection is evicted from its pool and the borrow
 * repeated with the same arguments. A borrow that fails while aborted connections are about (a pool
 * that uses the connection inside its borrow, to enlist it in a transaction or test it) is repeated
 * too: the pool has dropped the dead connection by then. The check allocates nothing.
 */
final class StaleConnections {

  private static final Logger log = LoggerFactory.getLogger(StaleConnections.class);

  /** Enough for a pool full of aborted connections of a usual size; then the pool's own checks. */
  static final int MAX_RETRIES = 32;

  private final IdentityTable<Boolean> aborted = new IdentityTable<>();
  private volatile Class<?>[] abortedClasses = new Class<?>[0];
  private final TrackedConnections connections;
  private final Runnable onChange;

  // Set while this thread borrows again in place of a stale connection: that borrow's own exit
  // hands back what it got, and the loop here checks it.
  private final ThreadLocal<boolean[]> replacing = ThreadLocal.withInitial(() -> new boolean[1]);

  // Per pool class: its evictConnection(Connection) method, or NONE.
  private final ConcurrentMap<Class<?>, Method> evictors = new ConcurrentHashMap<>();
  private static final Method NONE;

  static {
    try {
      NONE = Object.class.getMethod("hashCode");
    } catch (NoSuchMethodException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /**
   * @param onChange told when the first aborted connection is added or the last one goes
   */
  StaleConnections(TrackedConnections connections, Runnable onChange) {
    this.connections = connections;
    this.onChange = onChange;
  }

  /** The agent aborted {@code unit} (a connection, or a pooled connection it closed). */
  void aborted(Object unit) {
    boolean first = aborted.isEmpty();
    aborted.put(unit, Boolean.TRUE);
    rememberClass(unit.getClass());
    if (first) {
      onChange.run();
    }
  }

  private synchronized void rememberClass(Class<?> type) {
    Class<?>[] known = abortedClasses;
    for (Class<?> k : known) {
      if (k == type) {
        return;
      }
    }
    Class<?>[] next = Arrays.copyOf(known, known.length + 1);
    next[known.length] = type;
    abortedClasses = next;
  }

  /** Whether no aborted connection is reachable any more: no borrow needs a check. */
  boolean isEmpty() {
    return aborted.isEmpty();
  }

  /** Forgets the aborted connections that were collected; tells whether the set emptied. */
  void purge() {
    if (aborted.purge() && aborted.isEmpty()) {
      onChange.run();
    }
  }

  /** Whether this thread is inside a repeated borrow of this class's own making. */
  boolean replacing() {
    return replacing.get()[0];
  }

  /**
   * The connection to hand out in place of {@code borrowed}, or the {@link SQLException} a repeated
   * borrow failed with.
   */
  Object replaceIfStale(
      Object dataSource, boolean credentials, String user, String password, Object borrowed) {
    if (!(borrowed instanceof Connection) || !(dataSource instanceof DataSource)) {
      return borrowed;
    }
    Connection c = (Connection) borrowed;
    if (!isStale(c) || replacing()) {
      return c; // a repeated borrow is checked by the loop that made it
    }
    for (int attempt = 0; attempt < MAX_RETRIES && isStale(c); attempt++) {
      log.debug(
          "{} handed out an aborted connection; evicting it and borrowing again",
          dataSource.getClass().getName());
      evict(dataSource, c);
      Object again = borrowAgain((DataSource) dataSource, credentials, user, password);
      if (!(again instanceof Connection)) {
        return again;
      }
      c = (Connection) again;
    }
    return c;
  }

  /**
   * After a borrow failed with {@code thrown} while aborted connections are about: the connection
   * of a repeated borrow, or the exception to throw. Only a connection failure is repeated, not a
   * refusal of the agent's or a pool's timeout, and at most once per aborted connection.
   */
  Object retryAfterFailure(
      Object dataSource, boolean credentials, String user, String password, Throwable thrown) {
    if (!(dataSource instanceof DataSource) || !connectionFailure(thrown) || replacing()) {
      return thrown;
    }
    int budget = Math.min(MAX_RETRIES, aborted.size());
    for (int attempt = 0; attempt < budget; attempt++) {
      log.debug(
          "a borrow from {} failed on a connection the agent aborted ({}); borrowing again",
          dataSource.getClass().getName(),
          thrown.toString());
      Object again = borrowAgain((DataSource) dataSource, credentials, user, password);
      if (again instanceof Connection) {
        return replaceIfStale(dataSource, credentials, user, password, again);
      }
      if (!connectionFailure((Throwable) again)) {
        return again;
      }
      thrown = (Throwable) again;
    }
    return thrown;
  }

  /** An SQL connection exception (SQLState class 08, anywhere in the causes) and nothing else. */
  static boolean connectionFailure(Throwable thrown) {
    if (!(thrown instanceof SQLException)
        || thrown instanceof SQLTimeoutException
        || Governor.SQLSTATE_REJECTED.equals(((SQLException) thrown).getSQLState())) {
      return false;
    }
    for (Throwable t = thrown; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof SQLException) {
        String state = ((SQLException) t).getSQLState();
        if (Governor.SQLSTATE_REJECTED.equals(state)) {
          return false;
        }
        if (state != null && state.startsWith("08")) {
          return true;
        }
      }
    }
    return false;
  }

  private Object borrowAgain(DataSource ds, boolean credentials, String user, String password) {
    boolean[] flag = replacing.get();
    flag[0] = true;
    try {
      return credentials ? ds.getConnection(user, password) : ds.getConnection();
    } catch (SQLException e) {
      return e;
    } finally {
      flag[0] = false;
    }
  }

  /**
   * Whether {@code c} is, or wraps, a connection the agent aborted, or a driver connection that is
   * closed. Allocates nothing; a pool's own connection class is unwrapped along the route learned
   * for it the first time.
   */
  boolean isStale(Connection c) {
    Connection physical = physicalOf(c);
    if (physical == null) {
      return aborted.get(c) != null;
    }
    return aborted.get(physical) != null || TrackedConnections.closed(physical);
  }

  /** How a pool's connection class reaches the driver's connection: {@code to == null}: itself. */
  private static final class Route {
    final Class<?> from;
    final Class<?> to;

    Route(Class<?> from, Class<?> to) {
      this.from = from;
      this.to = to;
    }
  }

  /** The routes learned, one per pool connection class (a handful at most). */
  private volatile Route[] routes = new Route[0];

  private static final int MAX_ROUTES = 16;

  private Connection physicalOf(Connection c) {
    Class<?> type = c.getClass();
    for (Route r : routes) {
      if (r.from == type) {
        if (r.to == null) {
          return c;
        }
        try {
          Object inner = c.unwrap(r.to);
          if (inner instanceof Connection) {
            return (Connection) inner;
          }
        } catch (SQLException | RuntimeException e) {
          // this one does not unwrap as the last one did: look again
        }
        break;
      }
    }
    Connection found = itself(c, abortedClasses);
    if (found == null) {
      found = itself(c, connections.physicalClasses());
    }
    if (found != null) {
      learnRoute(type, null);
      return found;
    }
    Class<?> k = unwrapping(c, abortedClasses);
    if (k == null) {
      k = unwrapping(c, connections.physicalClasses());
    }
    if (k == null) {
      return null;
    }
    learnRoute(type, k);
    try {
      return (Connection) c.unwrap(k);
    } catch (SQLException | RuntimeException e) {
      return null;
    }
  }

  private static Connection itself(Connection c, Class<?>[] classes) {
    for (Class<?> k : classes) {
      if (k.isInstance(c)) {
        return c;
      }
    }
    return null;
  }

  private static Class<?> unwrapping(Connection c, Class<?>[] classes) {
    for (Class<?> k : classes) {
      try {
        if (c.isWrapperFor(k) && c.unwrap(k) instanceof Connection) {
          return k;
        }
      } catch (SQLException | RuntimeException e) {
        // a proxy that cannot unwrap
      }
    }
    return null;
  }

  private synchronized void learnRoute(Class<?> from, Class<?> to) {
    Route[] known = routes;
    Route[] next = new Route[Math.min(known.length + 1, MAX_ROUTES)];
    next[0] = new Route(from, to);
    int n = 1;
    for (Route r : known) {
      if (n < next.length && r.from != from) {
        next[n++] = r;
      }
    }
    routes = n == next.length ? next : Arrays.copyOf(next, n);
  }

  /**
   * Removes the connection from its pool. Pools evict a connection that fails with a connection
   * error (SQLState 08) as it is used, so it is used once; HikariCP, which does not look at the
   * error of a closed driver connection from every driver, is asked through its {@code
   * evictConnection(Connection)}; then it is closed, on which pools that look at the physical
   * connection drop it.
   */
  private void evict(Object dataSource, Connection c) {
    // The aborted connection stays in the set until it is collected: a pool that puts it back on
    // close could otherwise lend it again once the checks have stopped.
    try {
      c.getAutoCommit();
    } catch (SQLException | RuntimeException expected) {
      // the pool has seen its connection fail
    }
    Method evictor = evictors.computeIfAbsent(dataSource.getClass(), StaleConnections::evictorOf);
    if (evictor != NONE) {
      try {
        evictor.invoke(dataSource, c);
        return;
      } catch (ReflectiveOperationException | RuntimeException e) {
        log.debug("evictConnection failed: {}", e.toString());
      }
    }
    try {
      c.close();
    } catch (SQLException | RuntimeException e) {
      log.debug("closing a stale connection failed: {}", e.toString());
    }
  }

  private static Method evictorOf(Class<?> type) {
    try {
      return type.getMethod("evictConnection", Connection.class);
    } catch (NoSuchMethodException | RuntimeException e) {
      return NONE;
    }
  }
}
