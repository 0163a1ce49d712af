package dev.sluice.agent.governance;

import dev.sluice.agent.datasource.DatasourceMapping;
import dev.sluice.agent.datasource.DatasourceName;
import dev.sluice.agent.datasource.Endpoint;
import dev.sluice.agent.datasource.JdbcUrls;
import java.util.ArrayList;
import java.util.Collection;
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
 * endpoint is named as discovered. Holds the connections opened to them ({@link
 * TrackedConnections}).
 */
public final class DatasourceCatalog {

  private static final Logger log = LoggerFactory.getLogger(DatasourceCatalog.class);

  /** URLs remembered for the fast path; beyond that they are parsed on each connect. */
  static final int MAX_CACHED_URLS = 4096;

  private final List<DatasourceMapping> mappings;
  private final Function<DatasourceName, String> pathOf;
  private final Function<DatasourceName, String> refusalTarget;
  private final ConcurrentHashMap<String, Datasource> byUrl = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Datasource> byPath = new ConcurrentHashMap<>();
  private final Set<String> reportedUnparseable = ConcurrentHashMap.newKeySet();
  private final TrackedConnections connections = new TrackedConnections();
  private volatile Consumer<Datasource> listener = d -> {};

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
    Datasource created =
        new Datasource(name, endpoint, path, refusalTarget.apply(name), connections::openCount);
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

  /** Every connection this JVM opened, with its datasource. */
  TrackedConnections connections() {
    return connections;
  }
}
