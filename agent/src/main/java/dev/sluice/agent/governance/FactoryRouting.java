package dev.sluice.agent.governance;

import java.lang.reflect.Method;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes the calls of drivers' own data sources that open connections without {@code
 * Driver.connect} (SPEC section 7): MariaDB Connector/J's {@code MariaDbDataSource} and H2's {@code
 * JdbcDataSource}, say, which pools use through {@code dataSourceClassName} or as an {@code
 * XADataSource}. Such a data source's whole configuration is its URL and credentials, so for the
 * length of one call whose URL names a group's address its URL property is set to the routed URL
 * (through the setter paired with its URL getter) and set back at the call's exit; calls of one
 * data source are serialised meanwhile, and only while they are routed.
 *
 * <p>Which data sources: a driver's own, by the JDBC contract those that implement {@code
 * javax.sql.XADataSource} or {@code javax.sql.ConnectionPoolDataSource} ("implemented by a driver
 * vendor"), that are not closeable (a pool holds connections and is closed; its URL set for one
 * call would be baked into the connections it opens later on its own threads, which no route would
 * see), and that have a public {@code String} URL getter ({@code getUrl}, {@code getURL}, {@code
 * getJdbcUrl}) and its setter. A data source that goes through {@code Driver.connect} after all is
 * routed there, to the same member; one the agent cannot route is left alone.
 */
final class FactoryRouting {

  private static final Logger log = LoggerFactory.getLogger(FactoryRouting.class);

  private static final String[][] URL_PROPERTIES = {
    {"getUrl", "setUrl"}, {"getURL", "setURL"}, {"getJdbcUrl", "setJdbcUrl"}
  };

  /** The URL getter and setter of a routable class, or none. */
  private static final ClassValue<Method[]> PROPERTY =
      new ClassValue<Method[]>() {
        @Override
        protected Method[] computeValue(Class<?> type) {
          return urlProperty(type);
        }
      };

  /** The URL getter of a driver's own pool (closeable), which no call can route; or none. */
  private static final ClassValue<Method[]> DRIVER_POOL =
      new ClassValue<Method[]>() {
        @Override
        protected Method[] computeValue(Class<?> type) {
          if (!driversOwn(type) || !AutoCloseable.class.isAssignableFrom(type)) {
            return NONE;
          }
          for (String[] p : URL_PROPERTIES) {
            try {
              Method getter = type.getMethod(p[0]);
              if (getter.getReturnType() == String.class) {
                return new Method[] {getter};
              }
            } catch (NoSuchMethodException e) {
              // the next name
            } catch (RuntimeException | LinkageError e) {
              return NONE;
            }
          }
          return NONE;
        }
      };

  private static final Method[] NONE = new Method[0];
  private final java.util.Set<Class<?>> warned = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /**
   * One routed call: the data source's URL is {@code routed} from {@link #route} to {@link #exit}.
   */
  static final class Swap {
    final Object dataSource;
    final Method setter;
    final String original;
    final String routed;
    final GroupRouting.Routed via;
    ReentrantLock lock;

    Swap(
        Object dataSource, Method setter, String original, String routed, GroupRouting.Routed via) {
      this.dataSource = dataSource;
      this.setter = setter;
      this.original = original;
      this.routed = routed;
      this.via = via;
    }
  }

  // The data sources whose URL named a group's address, each with the lock its routed calls take:
  // while one holds it, the data source's URL is another's than its own.
  private final IdentityTable<ReentrantLock> grouped = new IdentityTable<>();
  private final ThreadLocal<Swap> current = new ThreadLocal<>();

  /** Whether data sources of {@code type} may be routed here; cheap after the first call. */
  static boolean routable(Class<?> type) {
    return PROPERTY.get(type).length == 2;
  }

  /**
   * Routes the call of {@code dataSource} that starts now: a {@link Swap} (its URL is set to the
   * routed one until {@link #exit}), the refusal of a group without a primary, or {@code null} when
   * its URL names no group's address (or it is not routable, or this thread is inside a routed call
   * of it already). May wait for a primary, as a connect does. The URL is read under the data
   * source's lock once it named a group's address: another thread's routed call may have set it.
   */
  Object route(Object dataSource, GroupRouting routing, Predicate<String> disabled) {
    Method[] property = PROPERTY.get(dataSource.getClass());
    if (property.length != 2) {
      return null;
    }
    Swap inside = current.get();
    if (inside != null && inside.dataSource == dataSource) {
      return null; // a call of the same data source inside its routed call: routed already
    }
    ReentrantLock lock = grouped.get(dataSource);
    if (lock == null) {
      String url = urlOf(dataSource, property[0]);
      lock = grouped.get(dataSource); // a routed call may have set the URL just read
      if (lock == null) {
        if (url == null || routing.groupOf(url) == null) {
          return null;
        }
        lock = grouped.putIfAbsent(dataSource, new ReentrantLock());
      }
    }
    lock.lock();
    boolean routedCall = false;
    try {
      String url = urlOf(dataSource, property[0]); // its own: no routed call of it is under way
      if (url == null) {
        return null;
      }
      Object routed = routing.route(url, disabled);
      if (!(routed instanceof String)) {
        return routed; // refused: no primary known, or no replica left
      }
      GroupRouting.Routed via = routing.takeRouted((String) routed);
      if (routed.equals(url)) {
        return null;
      }
      try {
        property[1].invoke(dataSource, routed);
      } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
        log.warn(
            "{} names a group's address in {} but its URL cannot be set for routing ({}); this"
                + " call is not routed",
            dataSource.getClass().getName(),
            url,
            e instanceof java.lang.reflect.InvocationTargetException ? e.getCause() : e);
        return null;
      }
      Swap s = new Swap(dataSource, property[1], url, (String) routed, via);
      s.lock = lock;
      current.set(s);
      routedCall = true;
      return s;
    } finally {
      if (!routedCall) {
        lock.unlock();
      }
    }
  }

  private static String urlOf(Object dataSource, Method getter) {
    try {
      Object u = getter.invoke(dataSource);
      return u instanceof String && ((String) u).startsWith("jdbc:") ? (String) u : null;
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      return null;
    }
  }

  /** The routed call of {@code s} has returned: the data source's own URL again. */
  void exit(Swap s) {
    try {
      s.setter.invoke(s.dataSource, s.original);
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      log.error(
          "{}: could not set its URL back to {} after a routed call: {}",
          s.dataSource.getClass().getName(),
          s.original,
          e instanceof java.lang.reflect.InvocationTargetException ? e.getCause() : e);
    } finally {
      current.remove();
      s.lock.unlock();
    }
  }

  /**
   * A driver's own pool ({@code MariaDbPoolDataSource}, say) whose URL names a group's address: its
   * connections are opened on its own threads without {@code Driver.connect}, so they cannot be
   * routed. Says so once per class, at WARN.
   */
  void warnIfUnroutablePool(Object dataSource, GroupRouting routing) {
    Method[] getter = DRIVER_POOL.get(dataSource.getClass());
    if (getter.length == 0 || warned.contains(dataSource.getClass())) {
      return;
    }
    String url;
    try {
      Object u = getter[0].invoke(dataSource);
      url = u instanceof String ? (String) u : null;
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      return;
    }
    String group = url == null ? null : routing.groupOf(url);
    if (group != null && warned.add(dataSource.getClass())) {
      log.warn(
          "{} is a driver's own pool that opens its connections without Driver.connect: its URL"
              + " {} names the address of group {}, but its connections cannot be routed and go"
              + " where the URL says. Use a pool over the driver (a JDBC URL) or over the"
              + " driver's plain data source instead",
          dataSource.getClass().getName(),
          url,
          group);
    }
  }

  /** Implements what, by the JDBC contract, a driver vendor implements. */
  private static boolean driversOwn(Class<?> type) {
    return javax.sql.XADataSource.class.isAssignableFrom(type)
        || javax.sql.ConnectionPoolDataSource.class.isAssignableFrom(type);
  }

  private static Method[] urlProperty(Class<?> type) {
    if (!driversOwn(type) || AutoCloseable.class.isAssignableFrom(type)) {
      return NONE;
    }
    for (String[] p : URL_PROPERTIES) {
      try {
        Method getter = type.getMethod(p[0]);
        Method setter = type.getMethod(p[1], String.class);
        if (getter.getReturnType() == String.class) {
          return new Method[] {getter, setter};
        }
      } catch (NoSuchMethodException e) {
        // the next name
      } catch (RuntimeException | LinkageError e) {
        return NONE;
      }
    }
    return NONE;
  }
}
