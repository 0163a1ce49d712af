package dev.sluice.agent.governance;

import java.lang.reflect.Method;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the agent knows of each data source ({@code javax.sql.DataSource}, and the {@code
 * XADataSource}s and {@code ConnectionPoolDataSource}s pools open connections with): where its
 * connections go, and how it gets them. Learned while nothing is cut off, from the first calls of
 * each data source, so that a borrow can be refused as soon as its datasource is disabled:
 *
 * <ul>
 *   <li>{@link Kind#MAPPED}: its connections go to one datasource, known from a URL getter, from a
 *       connection a driver opened inside its call, or by unwrapping a connection it lent to one
 *       the agent saw a driver open (a pool);
 *   <li>{@link Kind#FACTORY}: it opens physical connections itself, without {@code Driver.connect}
 *       (some drivers' own data sources): each connection it returns is tracked at its exit;
 *   <li>{@link Kind#WRAPPER}: it lends what another data source lent it, possibly of several
 *       datasources (a routing or transaction-aware proxy): the data source under it is governed.
 * </ul>
 */
final class KnownDataSources {

  private static final Logger log = LoggerFactory.getLogger(KnownDataSources.class);

  /** How a data source gets its connections. */
  enum Kind {
    UNKNOWN,
    MAPPED,
    FACTORY,
    WRAPPER,
    /** Nothing could be learned from its first calls; borrows are governed as far as they can. */
    UNMAPPABLE
  }

  /** Calls of an undecided data source the agent looks at before it gives up learning. */
  static final int MAX_TRIES = 16;

  private static final String[] URL_GETTERS = {"getJdbcUrl", "getUrl", "getURL"};

  /** What is known of one data source. */
  static final class Entry {
    volatile Datasource datasource;
    volatile Kind kind = Kind.UNKNOWN;

    /**
     * Its URL getters, looked up on first need; none: it has none. A getter that answers nothing is
     * asked again later: a pool may be configured after its first borrow.
     */
    volatile Method[] urlGetters;

    volatile int tries;

    /** Its first call looked at borrowed from another data source inside. */
    volatile boolean borrowedInside;

    /**
     * The URL naming a routing group's address its connections are routed through (its URL getter
     * says so, or a connection it lent was routed), or {@code null}: where they go changes with the
     * group's primary.
     */
    volatile String routedUrl;
  }

  private final IdentityTable<Entry> entries = new IdentityTable<>();
  private final Function<String, Datasource> forUrl;
  private final Predicate<String> routed;
  private volatile Class<?>[] factoryClasses = new Class<?>[0];

  /**
   * @param forUrl the datasource of a JDBC URL
   * @param routed whether a JDBC URL names a routing group's address
   */
  KnownDataSources(Function<String, Datasource> forUrl, Predicate<String> routed) {
    this.forUrl = forUrl;
    this.routed = routed;
  }

  /** The entry of {@code dataSource}, registered if new. */
  Entry entry(Object dataSource) {
    Entry e = entries.get(dataSource);
    return e != null ? e : entries.putIfAbsent(dataSource, new Entry());
  }

  /** The entry of {@code dataSource}, or {@code null} if the agent never heard of it. */
  Entry peek(Object dataSource) {
    return entries.get(dataSource);
  }

  /** Registers a data source just constructed; returns whether it was new. */
  boolean register(Object dataSource) {
    if (entries.get(dataSource) != null) {
      return false;
    }
    Entry fresh = new Entry();
    return entries.putIfAbsent(dataSource, fresh) == fresh;
  }

  /**
   * The datasource a data source's connections go to, or {@code null} while unknown (also for a
   * wrapper, whose inner data source is governed instead). Asks the data source's URL getter
   * ({@code getJdbcUrl}, {@code getUrl}, {@code getURL}) until it answers with a URL: a pool
   * borrowed from before it was configured (DBCP2's and Tomcat JDBC's {@code setUrl} after a first
   * {@code getConnection}) is mapped as soon as its URL is set, even if it was given up as {@link
   * Kind#UNMAPPABLE} meanwhile.
   */
  Datasource datasourceOf(Object dataSource) {
    Entry e = entry(dataSource);
    Datasource d = e.datasource;
    if (d != null || e.kind == Kind.WRAPPER) {
      return d;
    }
    Method[] getters = e.urlGetters;
    if (getters == null) {
      getters = urlGetters(dataSource.getClass());
      e.urlGetters = getters;
    }
    if (getters.length == 0) {
      return null;
    }
    String url = urlOf(dataSource, getters);
    if (url != null) {
      if (routed.test(url)) {
        e.routedUrl = url;
      }
      d = forUrl.apply(url);
      e.datasource = d;
      if (e.kind == Kind.UNMAPPABLE) {
        e.kind = Kind.MAPPED;
        log.debug(
            "data source {} is MAPPED of {} now that its URL is set",
            dataSource.getClass().getName(),
            d.name());
      }
    }
    return d;
  }

  /** Decides what {@code e} is; returns whether it was undecided. */
  boolean decide(Object dataSource, Entry e, Kind kind, Datasource d) {
    boolean wasUndecided = e.kind == Kind.UNKNOWN;
    if (d != null && kind != Kind.WRAPPER) {
      e.datasource = d;
    }
    e.kind = kind;
    if (kind == Kind.FACTORY) {
      addFactoryClass(dataSource.getClass());
    }
    if (wasUndecided) {
      log.debug(
          "data source {} is {}{}",
          dataSource.getClass().getName(),
          kind,
          d == null ? "" : " of " + d.name());
    }
    return wasUndecided;
  }

  /**
   * One more call of an undecided data source taught nothing; gives up after {@link #MAX_TRIES}.
   */
  void triedInVain(Entry e) {
    if (++e.tries >= MAX_TRIES && e.kind == Kind.UNKNOWN) {
      e.kind = Kind.UNMAPPABLE;
    }
  }

  /**
   * The datasource of a connection a data source opened itself: the data source's, else the URL the
   * connection reports ({@code DatabaseMetaData.getURL()}).
   */
  Datasource datasourceOfOpened(Object dataSource, Connection c) {
    Datasource d = datasourceOf(dataSource);
    if (d != null) {
      return d;
    }
    try {
      DatabaseMetaData meta = c.getMetaData();
      String url = meta == null ? null : meta.getURL();
      if (url != null) {
        d = forUrl.apply(url);
        entry(dataSource).datasource = d;
      }
    } catch (Exception e) {
      log.debug(
          "{}: no URL from its connection: {}", dataSource.getClass().getName(), e.toString());
    }
    return d;
  }

  private synchronized void addFactoryClass(Class<?> type) {
    factoryClasses = ClassList.with(factoryClasses, type);
  }

  /** Whether data sources of this class open their connections themselves; cheap. */
  boolean isFactoryClass(Class<?> type) {
    return ClassList.contains(factoryClasses, type);
  }

  boolean anyFactoryClass() {
    return factoryClasses.length > 0;
  }

  /** Calls {@code action} with every data source still reachable and what is known of it. */
  void forEach(java.util.function.BiConsumer<Object, Entry> action) {
    entries.forEach(action);
  }

  /** The classes of the data sources still reachable. */
  java.util.Set<Class<?>> classes() {
    java.util.Set<Class<?>> out = new java.util.HashSet<>();
    entries.forEach((ds, e) -> out.add(ds.getClass()));
    return out;
  }

  /** How many data sources still reachable are undecided. */
  int undecided() {
    entries.purge();
    AtomicInteger n = new AtomicInteger();
    entries.forEach(
        (ds, e) -> {
          if (e.kind == Kind.UNKNOWN) {
            n.incrementAndGet();
          }
        });
    return n.get();
  }

  private static final Method[] NO_GETTERS = new Method[0];

  /** The public URL getters of a class that return a {@code String}. */
  private static Method[] urlGetters(Class<?> type) {
    java.util.List<Method> found = new java.util.ArrayList<>(1);
    for (String getter : URL_GETTERS) {
      try {
        Method m = type.getMethod(getter);
        if (m.getReturnType() == String.class) {
          found.add(m);
        }
      } catch (NoSuchMethodException e) {
        // try the next name
      } catch (RuntimeException | LinkageError e) {
        log.debug("{}.{}() cannot be looked up: {}", type.getName(), getter, e.toString());
      }
    }
    return found.isEmpty() ? NO_GETTERS : found.toArray(NO_GETTERS);
  }

  private static String urlOf(Object dataSource, Method[] getters) {
    for (Method m : getters) {
      try {
        Object url = m.invoke(dataSource);
        if (url instanceof String && ((String) url).startsWith("jdbc:")) {
          return (String) url;
        }
      } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
        log.debug("{}.{}() failed: {}", dataSource.getClass().getName(), m.getName(), e.toString());
      }
    }
    return null;
  }
}
