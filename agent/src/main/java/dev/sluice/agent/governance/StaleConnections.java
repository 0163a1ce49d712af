package dev.sluice.agent.governance;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTimeoutException;
import java.sql.SQLTransientConnectionException;
import java.util.Arrays;
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

  private final PoolEviction eviction;

  // Failed borrows that may still be repeated: one per connection aborted. A failure is not always
  // the dead connection's (a pool's own timeout), and repeating a slow failure costs its time
  // again.
  private final java.util.concurrent.atomic.AtomicInteger repeatsLeft =
      new java.util.concurrent.atomic.AtomicInteger();

  /**
   * @param onChange told when the first aborted connection is added or the last one goes
   */
  StaleConnections(TrackedConnections connections, PoolEviction eviction, Runnable onChange) {
    this.connections = connections;
    this.eviction = eviction;
    this.onChange = onChange;
  }

  // Aborts, on the borrowing thread, a marked connection whose abort waits out a grace (one routed
  // to an earlier primary): a connection just lent carries none of the application's work yet.
  private volatile java.util.function.Consumer<Connection> abortPending = c -> {};

  void abortPending(java.util.function.Consumer<Connection> abort) {
    this.abortPending = abort;
  }

  /** The agent aborted {@code unit} (a connection, or a pooled connection it closed). */
  void aborted(Object unit) {
    boolean first = aborted.isEmpty();
    aborted.put(unit, Boolean.TRUE);
    repeatsLeft.updateAndGet(n -> Math.min(n + 1, MAX_RETRIES * 4));
    rememberClass(unit.getClass());
    if (first) {
      onChange.run();
    }
  }

  private synchronized void rememberClass(Class<?> type) {
    abortedClasses = ClassList.with(abortedClasses, type);
  }

  /** Whether the agent aborted {@code unit} (or marked it to be). Allocates nothing. */
  boolean contains(Object unit) {
    return aborted.get(unit) != null;
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
      Connection physical = physicalOf(c);
      abortPending.accept(physical == null || isUnreachable(physical) ? c : physical);
      eviction.evict(dataSource, c);
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
   * of a repeated borrow, or the exception to throw. A pool that uses the connection inside its
   * borrow (to enlist it in a transaction, to test it, to hand out a handle of it) fails the borrow
   * on a dead one, mostly with its own exception and no SQLState, and drops it: the borrow is
   * repeated, at most once per aborted connection in all. Not repeated: a refusal of the agent's, a
   * timeout, an SQL error that says it is something else (an SQLState outside class 08).
   */
  Object retryAfterFailure(
      Object dataSource, boolean credentials, String user, String password, Throwable thrown) {
    if (!(dataSource instanceof DataSource) || replacing() || refusedByTheAgent(thrown)) {
      return thrown;
    }
    // a data source that keeps one connection for good fails every borrow once it is dead: it
    // recovers no other way, so it is reset whatever the budget
    if (eviction.resetAfterFailure(dataSource)) {
      Object again = borrowAgain((DataSource) dataSource, credentials, user, password);
      return again instanceof Connection
          ? replaceIfStale(dataSource, credentials, user, password, again)
          : again;
    }
    if (!worthRepeating(thrown)) {
      return thrown;
    }
    for (int attempt = 0; attempt < MAX_RETRIES; attempt++) {
      if (repeatsLeft.getAndUpdate(n -> Math.max(0, n - 1)) <= 0) {
        return thrown;
      }
      log.debug(
          "a borrow from {} failed while aborted connections are about ({}); borrowing again",
          dataSource.getClass().getName(),
          thrown.toString());
      Object again = borrowAgain((DataSource) dataSource, credentials, user, password);
      if (again instanceof Connection) {
        return replaceIfStale(dataSource, credentials, user, password, again);
      }
      if (!worthRepeating((Throwable) again)) {
        return again;
      }
      thrown = (Throwable) again;
    }
    return thrown;
  }

  private static boolean refusedByTheAgent(Throwable thrown) {
    return Refusal.within(thrown);
  }

  /** Whether a failed borrow may have failed on a dead connection, so that repeating it helps. */
  static boolean worthRepeating(Throwable thrown) {
    if (thrown instanceof SQLTimeoutException
        || thrown instanceof SQLTransientConnectionException
        || !(thrown instanceof Exception)) {
      return false; // a pool's own timeout, or not a failure of the borrow at all
    }
    if (thrown instanceof SQLException) {
      String state = ((SQLException) thrown).getSQLState();
      if (state != null && (!state.startsWith("08") || state.equals("08001"))) {
        return false; // something else, or a new connection that could not be opened
      }
    }
    return !refusedByTheAgent(thrown);
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
    if (isUnreachable(physical)) {
      return true;
    }
    if (physical == null) {
      return aborted.get(c) != null;
    }
    return aborted.get(physical) != null || TrackedConnections.closed(physical);
  }

  /**
   * A connection that fails to unwrap along the route its class took before: Agroal's, for one,
   * unwraps by asking the driver's connection, which refuses once it is closed.
   */
  private static volatile Connection unreachable;

  /** The marker, made on first need: a proxy class costs start-up time nobody needs to pay. */
  private static Connection unreachable() {
    Connection u = unreachable;
    if (u == null) {
      synchronized (StaleConnections.class) {
        u = unreachable;
        if (u == null) {
          u =
              (Connection)
                  java.lang.reflect.Proxy.newProxyInstance(
                      StaleConnections.class.getClassLoader(),
                      new Class<?>[] {Connection.class},
                      (proxy, method, args) -> {
                        throw new UnsupportedOperationException();
                      });
          unreachable = u;
        }
      }
    }
    return u;
  }

  private static boolean isUnreachable(Object physical) {
    return physical != null && physical == unreachable;
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
        } catch (SQLException e) {
          if (connectionState(e)) {
            return unreachable();
          }
        } catch (RuntimeException e) {
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
      k = unwrapping(c, connections.unwrapTargets());
    }
    if (k == null) {
      return null;
    }
    if (k == CLOSED_BEHIND) {
      return unreachable();
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

  /**
   * The class {@code c} unwraps to; {@code Connection.class} too when its driver connection is
   * closed and refuses to be unwrapped ({@link #unreachable()} then).
   */
  private static Class<?> unwrapping(Connection c, Class<?>[] classes) {
    for (Class<?> k : classes) {
      try {
        if (c.isWrapperFor(k) && c.unwrap(k) instanceof Connection) {
          return k;
        }
      } catch (SQLException e) {
        if (connectionState(e)) {
          return CLOSED_BEHIND;
        }
      } catch (RuntimeException e) {
        // a proxy that cannot unwrap
      }
    }
    return null;
  }

  // unwrapping() found a wrapper whose driver connection refuses to be reached: it is closed
  private static final Class<?> CLOSED_BEHIND = Void.class;

  /** A connection exception (SQLState class 08): a closed connection refusing a call. */
  private static boolean connectionState(SQLException e) {
    String state = e.getSQLState();
    return state != null && state.startsWith("08");
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
}
