package dev.sluice.agent.governance;

import dev.sluice.agent.config.AgentConfig.DatasourceMapping;
import dev.sluice.agent.datasource.DatasourceName;
import dev.sluice.agent.datasource.Endpoint;
import dev.sluice.agent.datasource.JdbcUrls;
import java.lang.ref.WeakReference;
import java.lang.reflect.Method;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The datasources this JVM has met, found from the JDBC URLs drivers are asked to connect to (SPEC
 * section 4): a configured {@code datasources.<schema>.<name>} claims its endpoint, any other
 * endpoint is named as discovered. Also knows which datasource a {@code javax.sql.DataSource} (a
 * pool) connects to, once it has seen it: from the pool's URL getter, or else from a connection it
 * handed out.
 */
public final class DatasourceCatalog {

  private static final Logger log = LoggerFactory.getLogger(DatasourceCatalog.class);

  /** URLs remembered for the fast path; beyond that they are parsed on each connect. */
  static final int MAX_CACHED_URLS = 4096;

  /** Tries to learn a pool's datasource from its connections before giving up on it. */
  static final int MAX_LEARNING_TRIES = 16;

  private static final String[] URL_GETTERS = {"getJdbcUrl", "getUrl", "getURL"};

  private final List<DatasourceMapping> mappings;
  private final Function<DatasourceName, String> pathOf;
  private final Function<DatasourceName, String> refusalTarget;
  private final ConcurrentHashMap<String, Datasource> byUrl = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Datasource> byPath = new ConcurrentHashMap<>();
  private final Set<String> reportedUnparseable = ConcurrentHashMap.newKeySet();
  private volatile Consumer<Datasource> listener = d -> {};
  private volatile PoolEntry[] pools = new PoolEntry[0];

  /** What is known of one {@code javax.sql.DataSource}. */
  private static final class PoolEntry {
    final WeakReference<Object> dataSource;
    volatile Datasource datasource;
    volatile int tries;

    PoolEntry(Object dataSource) {
      this.dataSource = new WeakReference<>(dataSource);
    }
  }

  /**
   * @param pathOf the registry path of a datasource name
   * @param refusalTarget what a refusal names after the datasource: its path, or how to reach it in
   *     local mode
   */
  public DatasourceCatalog(
      Collection<DatasourceMapping> mappings,
      Function<DatasourceName, String> pathOf,
      Function<DatasourceName, String> refusalTarget) {
    this.mappings = new ArrayList<>(mappings);
    this.pathOf = pathOf;
    this.refusalTarget = refusalTarget;
  }

  /**
   * Hears of every datasource, those already met included; may be told of one twice, so it must be
   * idempotent.
   */
  public void listen(Consumer<Datasource> newListener) {
    listener = newListener;
    byPath.values().forEach(newListener);
  }

  /** The datasource {@code url} connects to; met for the first time, it is announced. */
  public Datasource forUrl(String url) {
    String key = url == null ? "" : url;
    Datasource d = byUrl.get(key);
    if (d != null) {
      return d;
    }
    d = resolve(key);
    if (byUrl.size() < MAX_CACHED_URLS) {
      byUrl.putIfAbsent(key, d);
    }
    return d;
  }

  /** The datasource at {@code path}, if this JVM has met it. */
  public Datasource byPath(String path) {
    return byPath.get(path);
  }

  public Collection<Datasource> all() {
    return byPath.values();
  }

  private Datasource resolve(String url) {
    Endpoint endpoint;
    try {
      endpoint = JdbcUrls.parse(url);
    } catch (JdbcUrls.UnparseableUrlException e) {
      endpoint = Endpoint.unparsed(url);
      if (reportedUnparseable.add(endpoint.host())) {
        log.warn(
            "cannot find the endpoint of {} ({}); governing it as a datasource of its own: {}",
            JdbcUrls.redact(url),
            e.getMessage(),
            DatasourceName.discovered(endpoint));
      }
    }
    DatasourceName name = nameOf(endpoint);
    String path = pathOf.apply(name);
    Datasource existing = byPath.get(path);
    if (existing != null) {
      return existing;
    }
    Datasource created = new Datasource(name, endpoint, path, refusalTarget.apply(name));
    existing = byPath.putIfAbsent(path, created);
    if (existing != null) {
      return existing;
    }
    log.info("met datasource {} at {} ({})", name, endpoint, path);
    listener.accept(created);
    return created;
  }

  private DatasourceName nameOf(Endpoint e) {
    for (DatasourceMapping m : mappings) {
      if (m.hostPort.equalsIgnoreCase(e.hostPort())
          && (m.database == null || m.database.equals(e.database()))) {
        return new DatasourceName(m.schema, m.name);
      }
    }
    return DatasourceName.discovered(e);
  }

  /**
   * The datasource a pool connects to, or {@code null} while the agent has not seen where its
   * connections go. Learned from the pool's URL getter ({@code getJdbcUrl}, {@code getUrl}, {@code
   * getURL}) the first time.
   */
  public Datasource forDataSource(Object dataSource) {
    PoolEntry entry = entry(dataSource);
    Datasource d = entry.datasource;
    if (d == null && entry.tries == 0) {
      entry.tries = 1;
      String url = urlOf(dataSource);
      if (url != null) {
        d = forUrl(url);
        entry.datasource = d;
      }
    }
    return d;
  }

  /**
   * Learns a pool's datasource from a connection it handed out, by unwrapping it to a physical
   * connection the agent saw a driver open.
   */
  void learnFrom(Object dataSource, Connection borrowed) {
    PoolEntry entry = entry(dataSource);
    if (entry.datasource != null || entry.tries > MAX_LEARNING_TRIES) {
      return;
    }
    entry.tries++;
    Set<Class<?>> types = new LinkedHashSet<>();
    for (Datasource d : byPath.values()) {
      for (Connection c : d.open.snapshot()) {
        types.add(c.getClass());
      }
    }
    for (Class<?> type : types) {
      try {
        Object physical =
            type.isInstance(borrowed)
                ? borrowed
                : borrowed.isWrapperFor(type) ? borrowed.unwrap(type) : null;
        if (physical instanceof Connection) {
          for (Datasource d : byPath.values()) {
            if (d.open.contains((Connection) physical)) {
              entry.datasource = d;
              return;
            }
          }
        }
      } catch (SQLException | RuntimeException e) {
        // a proxy that cannot unwrap: nothing to learn from it
      }
    }
  }

  /** Whether the agent knows where this pool's connections go. */
  boolean knows(Object dataSource) {
    return entry(dataSource).datasource != null;
  }

  private PoolEntry entry(Object dataSource) {
    for (PoolEntry e : pools) {
      if (e.dataSource.get() == dataSource) {
        return e;
      }
    }
    synchronized (this) {
      for (PoolEntry e : pools) {
        if (e.dataSource.get() == dataSource) {
          return e;
        }
      }
      List<PoolEntry> next = new ArrayList<>();
      for (PoolEntry e : pools) {
        if (e.dataSource.get() != null) {
          next.add(e);
        }
      }
      PoolEntry created = new PoolEntry(dataSource);
      next.add(created);
      pools = next.toArray(new PoolEntry[0]);
      return created;
    }
  }

  private static String urlOf(Object dataSource) {
    for (String getter : URL_GETTERS) {
      try {
        Method m = dataSource.getClass().getMethod(getter);
        if (m.getReturnType() == String.class) {
          Object url = m.invoke(dataSource);
          if (url instanceof String && ((String) url).startsWith("jdbc:")) {
            return (String) url;
          }
        }
      } catch (NoSuchMethodException e) {
        // try the next name
      } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
        log.debug("{}.{}() failed: {}", dataSource.getClass().getName(), getter, e.toString());
      }
    }
    return null;
  }
}
