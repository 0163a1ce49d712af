package dev.sluice.agent.governance;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import javax.sql.PooledConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Aborts a driver connection that belongs to a pooled connection of the driver's own and that would
 * not abort otherwise. MariaDB Connector/J hands {@code abort()} and {@code close()} of such a
 * connection to its pooled connection, whose {@code close()} only gives it back to its pool: the
 * socket stays open and the application's statement in flight goes on. Such a connection is
 * detached from its pooled connection (its public {@code setPoolConnection(null)}), aborted, and
 * the pool told that it failed (the pooled connection's public {@code
 * fireConnectionErrorOccurred(SQLException)}), on which the pool drops it.
 *
 * <p>Recognised by shape, looked up once per class: a field holding a {@code PooledConnection} and
 * a public one-argument setter for it. Every other connection is aborted as JDBC says.
 */
final class PooledAbort {

  private static final Logger log = LoggerFactory.getLogger(PooledAbort.class);

  /** The shape of one connection class, or {@link #NONE}. */
  private static final class Shape {
    final Field pooled;
    final Method detach;

    Shape(Field pooled, Method detach) {
      this.pooled = pooled;
      this.detach = detach;
    }
  }

  private static final Shape NONE = new Shape(null, null);

  private final ConcurrentMap<Class<?>, Shape> shapes = new ConcurrentHashMap<>();

  /**
   * Aborts {@code c} if it is such a connection and belongs to a pooled connection now; returns
   * whether it did (else the caller aborts it the JDBC way).
   */
  boolean abortIfPooled(Connection c) {
    Shape shape = shapes.computeIfAbsent(c.getClass(), PooledAbort::shapeOf);
    if (shape == NONE) {
      return false;
    }
    try {
      Object pooled = shape.pooled.get(c);
      if (!(pooled instanceof PooledConnection)) {
        return false;
      }
      shape.detach.invoke(c, (Object) null);
      c.abort(Runnable::run);
      Method fire = pooled.getClass().getMethod("fireConnectionErrorOccurred", SQLException.class);
      fire.invoke(pooled, new SQLException("Sluice: the connection was aborted", "08006"));
      return true;
    } catch (ReflectiveOperationException | RuntimeException | SQLException e) {
      log.debug("aborting pooled {} failed: {}", c.getClass().getName(), e.toString());
      return false;
    }
  }

  private static Shape shapeOf(Class<?> type) {
    try {
      for (Class<?> t = type; t != null && t != Object.class; t = t.getSuperclass()) {
        for (Field f : t.getDeclaredFields()) {
          if (!PooledConnection.class.isAssignableFrom(f.getType())) {
            continue;
          }
          for (Method m : type.getMethods()) {
            if (m.getName().equals("setPoolConnection")
                && m.getParameterCount() == 1
                && m.getParameterTypes()[0].isAssignableFrom(f.getType())) {
              f.setAccessible(true);
              return new Shape(f, m);
            }
          }
        }
      }
    } catch (RuntimeException e) {
      log.debug("cannot look into {}: {}", type.getName(), e.toString());
    }
    return NONE;
  }
}
