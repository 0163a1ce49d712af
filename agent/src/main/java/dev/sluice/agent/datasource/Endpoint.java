package dev.sluice.agent.datasource;

import java.util.Locale;
import java.util.Objects;

/**
 * Where connections go: a host and port (and the database asked for), or, for in-process databases
 * such as {@code jdbc:h2:mem:x} and for URLs that cannot be parsed, an endpoint of its own. Equal
 * endpoints are the same datasource.
 */
public final class Endpoint {

  /** How the endpoint was found. */
  public enum Kind {
    /** A network endpoint: host and port. */
    NETWORK,
    /** An in-process database (H2 mem or file): its own endpoint, no host. */
    IN_PROCESS,
    /** A URL no parser understood: its own endpoint, keyed by the URL. */
    UNPARSED
  }

  private final Kind kind;
  private final String host;
  private final int port;
  private final String database;

  private Endpoint(Kind kind, String host, int port, String database) {
    this.kind = kind;
    this.host = host;
    this.port = port;
    this.database = database;
  }

  /** A network endpoint; the host is kept in lower case, without IPv6 brackets. */
  public static Endpoint network(String host, int port, String database) {
    String h = host.toLowerCase(Locale.ROOT);
    if (h.startsWith("[") && h.endsWith("]")) {
      h = h.substring(1, h.length() - 1);
    }
    return new Endpoint(Kind.NETWORK, h, port, emptyToNull(database));
  }

  /** An in-process database, e.g. {@code h2_mem} / {@code orders}. */
  public static Endpoint inProcess(String engine, String database) {
    return new Endpoint(Kind.IN_PROCESS, engine, 0, emptyToNull(database));
  }

  /**
   * An endpoint for a URL no parser understood, keyed by a digest of the URL without its
   * credentials: the name is readable by everyone who may read the registry, and must neither help
   * guess a password nor change when one is rotated.
   */
  public static Endpoint unparsed(String url) {
    return new Endpoint(
        Kind.UNPARSED,
        "url_" + Integer.toHexString(JdbcUrls.withoutCredentials(url).hashCode() & 0x7fffffff),
        0,
        null);
  }

  public Kind kind() {
    return kind;
  }

  /** The host (network), the engine (in-process), or the URL digest (unparsed). */
  public String host() {
    return host;
  }

  /** The port; 0 when there is none. */
  public int port() {
    return port;
  }

  /** The database, or {@code null}. */
  public String database() {
    return database;
  }

  /** {@code host:port} with IPv6 hosts in brackets, or the host alone when there is no port. */
  public String hostPort() {
    if (kind != Kind.NETWORK) {
      return host;
    }
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }

  /** {@code host:port/database} as shown to operators. */
  @Override
  public String toString() {
    return hostPort() + (database == null ? "" : "/" + database);
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof Endpoint)) {
      return false;
    }
    Endpoint e = (Endpoint) o;
    return kind == e.kind
        && port == e.port
        && host.equals(e.host)
        && Objects.equals(database, e.database);
  }

  @Override
  public int hashCode() {
    return Objects.hash(kind, host, port, database);
  }

  private static String emptyToNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }
}
