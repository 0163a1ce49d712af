package dev.sluice.agent.governance;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Wrapper;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
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

    /** For a pooled (or XA) connection tracked as such: itself; else {@code null}. */
    final Object pooled;

    /** For a pooled connection: the handle it lent last, aborted in its place. */
    volatile Connection handle;

    volatile boolean closedByAgent;

    /** For a connection routed to a group's member: the group and the member; else null. */
    volatile String routedGroup;

    volatile String routedMember;

    /** For a routed connection: the URL the application named (the group's address). */
    volatile String routedFrom;

    Tracked(Datasource datasource, Object pooled) {
      this.datasource = datasource;
      this.pooled = pooled;
    }
  }

  private final IdentityTable<Tracked> units = new IdentityTable<>();
  private final AtomicInteger tracked = new AtomicInteger();
  private volatile Class<?>[] physicalClasses = new Class<?>[0];
  // What unwrap is asked for: the physical classes, then the driver's interfaces they implement
  // (some pools unwrap to interfaces only), then java.sql.Connection itself.
  private volatile Class<?>[] unwrapTargets = {Connection.class};
  private final AtomicInteger pooledUnits = new AtomicInteger();

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
   * Tracks a pooled connection whose physical connection the agent has not seen opened. It is
   * aborted through the handle it lent last; closing it instead would go behind its pool's back
   * (H2's pool, for one, is then never told its handle was closed and loses the slot).
   */
  void trackPooled(Datasource d, Object pooled) {
    if (units.get(pooled) == null) {
      units.put(pooled, new Tracked(d, pooled));
      pooledUnits.incrementAndGet();
    }
  }

  /** Whether any pooled connection is tracked as such; cheap. */
  boolean anyPooled() {
    return pooledUnits.get() > 0;
  }

  /** A pooled connection lent {@code handle}: it is what a cut-off aborts. Allocates nothing. */
  void handleOpened(Object pooled, Connection handle) {
    Tracked t = units.get(pooled);
    if (t == null || t.pooled != pooled) {
      return;
    }
    if (t.handle != handle) {
      t.handle = handle;
      rememberClass(handle.getClass());
    }
    t.closedByAgent = false; // lent again by its pool: open, and aborted at the next cut-off
  }

  private synchronized void rememberClass(Class<?> type) {
    Class<?>[] known = physicalClasses;
    Class<?>[] next = ClassList.with(known, type);
    if (next == known) {
      return;
    }
    physicalClasses = next;
    Set<Class<?>> targets = new LinkedHashSet<>(Arrays.asList(next));
    for (Class<?> k : next) {
      addDriverInterfaces(k, targets);
    }
    targets.remove(Connection.class);
    targets.add(Connection.class);
    unwrapTargets = targets.toArray(new Class<?>[0]);
  }

  private static void addDriverInterfaces(Class<?> type, Set<Class<?>> into) {
    for (Class<?> t = type; t != null; t = t.getSuperclass()) {
      for (Class<?> i : t.getInterfaces()) {
        if (Connection.class.isAssignableFrom(i) && i != Connection.class) {
          into.add(i);
          addDriverInterfaces(i, into);
        }
      }
    }
  }

  /** The classes and interfaces {@code unwrap} is asked for, concrete classes first. */
  Class<?>[] unwrapTargets() {
    return unwrapTargets;
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
    return behind(connection, units, unwrapTargets);
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
    for (Class<?> k : unwrapTargets) {
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

  /** How many connections routed through {@code group} to its primary are open now. */
  int openRoutedCount(String group) {
    int[] n = new int[1];
    units.forEach(
        (unit, t) -> {
          if (group.equals(t.routedGroup) && isOpen(unit, t)) {
            n[0]++;
          }
        });
    return n[0];
  }

  /** The connections routed through {@code group} to another member than {@code member}. */
  List<Object> openRoutedElsewhere(String group, String member) {
    List<Object> out = new ArrayList<>();
    units.forEach(
        (unit, t) -> {
          if (group.equals(t.routedGroup)
              && t.routedMember != null
              && !member.equals(t.routedMember)
              && isOpen(unit, t)) {
            out.add(unit);
          }
        });
    return out;
  }

  /** The tracked pooled connection whose last handle is {@code handle}, or {@code null}. */
  Object lending(Connection handle) {
    Object[] found = new Object[1];
    units.forEach(
        (unit, t) -> {
          if (found[0] == null && t.pooled == unit && t.handle == handle) {
            found[0] = unit;
          }
        });
    return found[0];
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
      // a pooled connection has no isClosed(): open until the agent aborts it
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
