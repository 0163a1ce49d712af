package dev.sluice.agent.governance;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Wrapper;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Every connection this JVM opened, with the datasource it goes to, held weakly: the physical
 * connections drivers opened, and the pooled (or XA) connections a driver's data source opened
 * without going through {@code Driver.connect}, until their physical connection shows up behind the
 * first handle they lend.
 *
 * <p>A connection a pool lends is found here through {@link Wrapper#unwrap}, tried with the classes
 * of the connections tracked: the JDBC contract for reaching the connection under a proxy.
 */
final class TrackedConnections {

  /** How many connections are tracked between two sweeps of the closed ones. */
  static final int SWEEP_EVERY = 64;

  /** What is known of one tracked connection. */
  static final class Tracked {
    final Datasource datasource;

    /** The pooled or XA connection it belongs to, or {@code null}. */
    final Object pooled;

    volatile boolean closedByAgent;

    Tracked(Datasource datasource, Object pooled) {
      this.datasource = datasource;
      this.pooled = pooled;
    }
  }

  private final IdentityTable<Tracked> units = new IdentityTable<>();
  private final AtomicInteger tracked = new AtomicInteger();
  private volatile Class<?>[] physicalClasses = new Class<?>[0];
  private final AtomicInteger pendingPooled = new AtomicInteger();

  /** Tracks a physical connection; returns whether it was new. */
  boolean track(Datasource d, Connection c) {
    return track(d, c, null);
  }

  private boolean track(Datasource d, Object unit, Object pooled) {
    Tracked fresh = new Tracked(d, pooled);
    if (units.putIfAbsent(unit, fresh) != fresh) {
      return false;
    }
    if (unit instanceof Connection) {
      rememberClass(unit.getClass());
    }
    if (tracked.incrementAndGet() % SWEEP_EVERY == 0) {
      sweepClosed();
    }
    return true;
  }

  /**
   * Tracks a pooled connection whose physical connection the agent has not seen yet: it is aborted
   * by closing it, until its first handle shows the physical connection.
   */
  void trackPooled(Datasource d, Object pooled) {
    if (units.get(pooled) == null) {
      units.put(pooled, new Tracked(d, pooled));
      pendingPooled.incrementAndGet();
    }
  }

  /** Whether a pooled connection waits for its first handle; cheap. */
  boolean anyPendingPooled() {
    return pendingPooled.get() > 0;
  }

  /**
   * A pooled connection lent its first handle: from now on the handle is the connection tracked,
   * still closed with the pooled connection when it is aborted. Returns its datasource, or {@code
   * null} when the pooled connection was not pending.
   */
  Datasource handleOpened(Object pooled, Connection handle) {
    Tracked t = units.get(pooled);
    if (t == null || t.pooled != pooled) {
      return null;
    }
    if (units.remove(pooled) != null) {
      pendingPooled.decrementAndGet();
    }
    units.put(handle, new Tracked(t.datasource, pooled));
    rememberClass(handle.getClass());
    return t.datasource;
  }

  private synchronized void rememberClass(Class<?> type) {
    Class<?>[] known = physicalClasses;
    for (Class<?> k : known) {
      if (k == type) {
        return;
      }
    }
    Class<?>[] next = Arrays.copyOf(known, known.length + 1);
    next[known.length] = type;
    physicalClasses = next;
  }

  /** What is known of a tracked connection (by identity), or {@code null}. */
  Tracked get(Object unit) {
    return units.get(unit);
  }

  /**
   * The tracked connection that {@code connection} is or wraps, or {@code null}. Tries {@code
   * unwrap} with each class of tracked connections; allocates nothing.
   */
  Object trackedBehind(Object connection) {
    return behind(connection, units, physicalClasses);
  }

  /** The classes of the physical connections seen so far. */
  Class<?>[] physicalClasses() {
    return physicalClasses;
  }

  /**
   * The key of {@code table} that {@code connection} is or wraps (found through {@link
   * Wrapper#unwrap} with {@code classes}), or {@code null}.
   */
  static Object behind(Object connection, IdentityTable<?> table, Class<?>[] classes) {
    if (table.get(connection) != null) {
      return connection;
    }
    if (!(connection instanceof Wrapper)) {
      return null;
    }
    Wrapper w = (Wrapper) connection;
    for (Class<?> k : classes) {
      if (k.isInstance(connection)) {
        continue;
      }
      try {
        if (w.isWrapperFor(k)) {
          Object inner = w.unwrap(k);
          if (inner != null && table.get(inner) != null) {
            return inner;
          }
        }
      } catch (SQLException | RuntimeException e) {
        // a proxy that cannot unwrap: nothing to learn from it
      }
    }
    return null;
  }

  /**
   * The innermost driver connection {@code connection} is or wraps, among the classes the agent has
   * seen drivers open; {@code null} if none.
   */
  Connection physicalBehind(Object connection) {
    if (!(connection instanceof Wrapper)) {
      return null;
    }
    for (Class<?> k : physicalClasses) {
      if (k.isInstance(connection)) {
        return (Connection) connection;
      }
    }
    Wrapper w = (Wrapper) connection;
    for (Class<?> k : physicalClasses) {
      try {
        if (w.isWrapperFor(k)) {
          Object inner = w.unwrap(k);
          if (inner instanceof Connection) {
            return (Connection) inner;
          }
        }
      } catch (SQLException | RuntimeException e) {
        // a proxy that cannot unwrap
      }
    }
    return null;
  }

  /** The connections of {@code d} that are still open (each a Connection or a pooled one). */
  List<Object> openOf(Datasource d) {
    List<Object> out = new ArrayList<>();
    units.forEach(
        (unit, t) -> {
          if (t.datasource == d && isOpen(unit, t)) {
            out.add(unit);
          }
        });
    return out;
  }

  /** Every connection still open, of any datasource. */
  List<Object> allOpen() {
    List<Object> out = new ArrayList<>();
    units.forEach(
        (unit, t) -> {
          if (isOpen(unit, t)) {
            out.add(unit);
          }
        });
    return out;
  }

  /** Physical connections open to {@code d} now, counted on demand. */
  int openCount(Datasource d) {
    int[] n = new int[1];
    units.forEach(
        (unit, t) -> {
          if (t.datasource == d && isOpen(unit, t)) {
            n[0]++;
          }
        });
    return n[0];
  }

  private static boolean isOpen(Object unit, Tracked t) {
    if (t.closedByAgent) {
      return false;
    }
    if (t.pooled != null) {
      // a handle says nothing of its pooled connection: open until the agent closes it
      return true;
    }
    return !closed((Connection) unit);
  }

  static boolean closed(Connection c) {
    try {
      return c.isClosed();
    } catch (SQLException | RuntimeException e) {
      return true; // a connection that cannot answer is not counted as open
    }
  }

  /**
   * Drops closed connections, so that an application that opens and closes many connections does
   * not make the next cut-off walk all of them.
   */
  void sweepClosed() {
    units.purge();
    List<Object> closed = new ArrayList<>();
    units.forEach(
        (unit, t) -> {
          if (t.pooled == null && closed((Connection) unit)) {
            closed.add(unit);
          }
        });
    closed.forEach(units::remove);
  }

  int size() {
    return units.size();
  }
}
