package dev.sluice.agent.datasource;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the endpoint a JDBC URL connects to, for MySQL, MariaDB, PostgreSQL, H2, SQL Server, Oracle
 * thin, HSQLDB, Derby, SQLite and DuckDB URLs, through the URL prefixes of wrapping drivers (P6Spy
 * and others), and generically for {@code jdbc:<x>://host[:port]/database} URLs (a port is required
 * unless the scheme's default is known).
 *
 * <p>A URL that lists several hosts (failover, load balancing, replication) is the datasource of
 * its <em>first</em> host: the agent governs connects, and a connect is one decision about one URL,
 * before the driver picks a host.
 */
public final class JdbcUrls {

  private JdbcUrls() {}

  /** Thrown for a URL that looks like JDBC but none of the parsers understands. */
  public static final class UnparseableUrlException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    UnparseableUrlException(String why) {
      super(why);
    }
  }

  private static final Pattern ORACLE_DESCRIPTION_HOST =
      Pattern.compile("\\(\\s*HOST\\s*=\\s*([^)\\s]+)\\s*\\)", Pattern.CASE_INSENSITIVE);
  private static final Pattern ORACLE_DESCRIPTION_PORT =
      Pattern.compile("\\(\\s*PORT\\s*=\\s*(\\d+)\\s*\\)", Pattern.CASE_INSENSITIVE);
  private static final Pattern ORACLE_DESCRIPTION_SERVICE =
      Pattern.compile(
          "\\(\\s*(?:SERVICE_NAME|SID)\\s*=\\s*([^)\\s]+)\\s*\\)", Pattern.CASE_INSENSITIVE);
  private static final Pattern KEY_VALUE_HOST =
      Pattern.compile("\\(\\s*host\\s*=\\s*([^)\\s]+)\\s*\\)", Pattern.CASE_INSENSITIVE);
  private static final Pattern KEY_VALUE_PORT =
      Pattern.compile("\\(\\s*port\\s*=\\s*(\\d+)\\s*\\)", Pattern.CASE_INSENSITIVE);
  private static final Pattern MYSQL_BRACKET_HOST =
      Pattern.compile("host\\s*=\\s*([^,)\\s]+)", Pattern.CASE_INSENSITIVE);
  private static final Pattern MYSQL_BRACKET_PORT =
      Pattern.compile("port\\s*=\\s*(\\d+)", Pattern.CASE_INSENSITIVE);

  /**
   * The endpoint of {@code url}.
   *
   * @throws UnparseableUrlException when no parser understands it
   */
  public static Endpoint parse(String url) {
    if (url == null) {
      throw new UnparseableUrlException("no URL");
    }
    String u = url.trim();
    String lower = u.toLowerCase(Locale.ROOT);
    if (!lower.startsWith("jdbc:")) {
      throw new UnparseableUrlException("not a jdbc: URL");
    }
    if (lower.startsWith("jdbc:mysql") || lower.startsWith("jdbc:mariadb")) {
      return mysqlFamily(u, 3306);
    }
    if (lower.startsWith("jdbc:postgresql:")) {
      return postgresql(u);
    }
    if (lower.startsWith("jdbc:h2:")) {
      return h2(u);
    }
    if (lower.startsWith("jdbc:sqlserver:")) {
      return sqlServer(u);
    }
    if (lower.startsWith("jdbc:oracle:thin:")) {
      return oracleThin(u);
    }
    if (lower.startsWith("jdbc:hsqldb:")) {
      return hsqldb(u);
    }
    if (lower.startsWith("jdbc:derby:")) {
      return derby(u);
    }
    if (lower.startsWith("jdbc:sqlite:")) {
      return embeddedFile(u, "jdbc:sqlite:", "sqlite");
    }
    if (lower.startsWith("jdbc:duckdb:")) {
      return embeddedFile(u, "jdbc:duckdb:", "duckdb");
    }
    String wrapper = wrapperOf(lower);
    if (wrapper != null) {
      // a driver that wraps another names it in its URL: the endpoint is the wrapped URL's
      return parse("jdbc:" + u.substring(wrapper.length()));
    }
    return generic(u);
  }

  /**
   * URL prefixes of drivers that wrap another driver ({@code jdbc:p6spy:mysql://…}): P6Spy,
   * log4jdbc, OpenTelemetry's and OpenTracing's JDBC instrumentation, the AWS Advanced JDBC
   * Wrapper.
   */
  private static final String[] WRAPPERS = {
    "jdbc:p6spy:", "jdbc:log4jdbc:", "jdbc:otel:", "jdbc:tracing:", "jdbc:aws-wrapper:"
  };

  /** The {@link #WRAPPERS} prefix {@code lower} starts with, followed by more, or null. */
  private static String wrapperOf(String lower) {
    for (String wrapper : WRAPPERS) {
      if (lower.startsWith(wrapper) && lower.length() > wrapper.length()) {
        return wrapper;
      }
    }
    return null;
  }

  /**
   * Default ports of {@code jdbc:<x>://host/database} URLs that may leave the port out, by URL
   * prefix: pgjdbc-ng, jTDS (SQL Server, Sybase), IBM Db2 (JCC), Firebird (Jaybird), Amazon
   * Redshift, Vertica, ClickHouse, YugabyteDB.
   */
  private static final String[][] DEFAULT_PORTS = {
    {"jdbc:pgsql:", "5432"},
    {"jdbc:jtds:sqlserver:", "1433"},
    {"jdbc:jtds:sybase:", "7100"},
    {"jdbc:db2:", "446"},
    {"jdbc:firebirdsql:", "3050"},
    {"jdbc:firebird:", "3050"},
    {"jdbc:redshift:", "5439"},
    {"jdbc:vertica:", "5433"},
    {"jdbc:clickhouse:", "8123"},
    {"jdbc:ch:", "8123"},
    {"jdbc:yugabytedb:", "5433"},
  };

  /**
   * HSQLDB: a server ({@code hsql://}, {@code hsqls://}, {@code http://}, {@code https://}, each
   * with its default port) or an in-process database ({@code mem:}, {@code file:}, {@code res:}).
   */
  private static Endpoint hsqldb(String url) {
    String rest = url.substring("jdbc:hsqldb:".length());
    String lower = rest.toLowerCase(Locale.ROOT);
    String[][] servers = {
      {"hsql://", "9001"}, {"hsqls://", "554"}, {"http://", "80"}, {"https://", "443"}
    };
    for (String[] server : servers) {
      if (lower.startsWith(server[0])) {
        return server(rest.substring(server[0].length()), Integer.parseInt(server[1]));
      }
    }
    String path = cutParams(rest, ";");
    int colon = path.indexOf(':');
    String storage = colon < 0 ? "file" : path.substring(0, colon).toLowerCase(Locale.ROOT);
    if (!storage.equals("mem") && !storage.equals("file") && !storage.equals("res")) {
      storage = "file";
      colon = -1;
    }
    return Endpoint.inProcess("hsqldb_" + storage, lastSegment(path.substring(colon + 1)));
  }

  /**
   * Apache Derby: the network server ({@code //host[:1527]/database}) or an embedded database,
   * named by its sub-subprotocol ({@code memory:}, {@code directory:} (the default), {@code
   * classpath:}, {@code jar:(archive)}).
   */
  private static Endpoint derby(String url) {
    String rest = url.substring("jdbc:derby:".length());
    if (rest.startsWith("//")) {
      return server(rest.substring(2), 1527);
    }
    String path = cutParams(rest, ";");
    String lower = path.toLowerCase(Locale.ROOT);
    String storage = "directory";
    for (String kind : new String[] {"memory:", "directory:", "classpath:", "jar:"}) {
      if (lower.startsWith(kind)) {
        storage = kind.substring(0, kind.length() - 1);
        path = path.substring(kind.length());
        break;
      }
    }
    if (path.startsWith("(")) {
      // jar:(archive.jar)database
      int close = path.indexOf(')');
      path = close < 0 ? "" : path.substring(close + 1);
    }
    return Endpoint.inProcess("derby_" + storage, lastSegment(path));
  }

  /**
   * SQLite and DuckDB: in-process, a file ({@code jdbc:sqlite:/data/app.db}, {@code
   * file:app.db?mode=ro}) or memory ({@code :memory:}, nothing, or SQLite's {@code mode=memory}).
   */
  private static Endpoint embeddedFile(String url, String prefix, String engine) {
    String rest = url.substring(prefix.length());
    String params = rest.indexOf('?') < 0 ? "" : rest.substring(rest.indexOf('?'));
    String path = cutParams(rest, "?");
    String lower = path.toLowerCase(Locale.ROOT);
    if (lower.startsWith("file:")) {
      path = path.substring(5);
      lower = lower.substring(5);
    }
    if (path.isEmpty()
        || lower.startsWith(":memory:")
        || params.toLowerCase(Locale.ROOT).contains("mode=memory")) {
      String name = lower.startsWith(":memory:") ? path.substring(":memory:".length()) : path;
      return Endpoint.inProcess(engine + "_mem", lastSegment(name));
    }
    if (lower.startsWith(":resource:")) {
      return Endpoint.inProcess(engine + "_resource", lastSegment(path.substring(10)));
    }
    return Endpoint.inProcess(engine + "_file", lastSegment(path));
  }

  /**
   * HSQLDB's and Derby's servers: {@code host[:port][/path/database][;properties]}, what follows
   * the URL's scheme; the database is the path's last segment.
   */
  private static Endpoint server(String afterScheme, int defaultPort) {
    String hosts = authority(afterScheme, "/;");
    String path = cutParams(afterScheme.substring(hosts.length()), ";");
    return hostPort(withoutUserInfo(hosts), defaultPort, lastSegment(path));
  }

  /**
   * {@code url} with its one host and port replaced by {@code hostPort} and nothing else changed
   * (user info, database, parameters), or {@code null} when the URL does not name exactly one host
   * in a {@code //host:port} authority this can rewrite: multi-host and key-value host forms,
   * Oracle and SQL Server URLs are never rewritten. A wrapping driver's URL ({@code
   * jdbc:p6spy:mysql://…}) is rewritten as the URL it wraps.
   */
  public static String withHostPort(String url, String hostPort) {
    if (url == null) {
      return null;
    }
    String lower = url.toLowerCase(Locale.ROOT);
    String wrapper = wrapperOf(lower);
    if (wrapper != null) {
      String inner = withHostPort("jdbc:" + url.substring(wrapper.length()), hostPort);
      return inner == null ? null : url.substring(0, wrapper.length()) + inner.substring(5);
    }
    String terminators;
    int start;
    if (lower.startsWith("jdbc:mysql") || lower.startsWith("jdbc:mariadb")) {
      terminators = "/?";
      start = url.indexOf("://");
      start = start < 0 ? -1 : start + 3;
    } else if (lower.startsWith("jdbc:postgresql://")) {
      terminators = "/?";
      start = "jdbc:postgresql://".length();
    } else if (lower.startsWith("jdbc:h2:tcp://") || lower.startsWith("jdbc:h2:ssl://")) {
      terminators = "/";
      start = "jdbc:h2:tcp://".length();
    } else {
      return null;
    }
    if (start < 0) {
      return null;
    }
    String hosts = authority(url.substring(start), terminators);
    int at = hosts.lastIndexOf('@');
    String host = hosts.substring(at + 1);
    if (host.isEmpty()
        || host.indexOf('(') >= 0
        || host.toLowerCase(Locale.ROOT).startsWith("address=")
        // a host list, MySQL's bracketed one included, names more than the address
        || !firstHost(host).equals(host)) {
      return null;
    }
    return url.substring(0, start + at + 1) + hostPort + url.substring(start + hosts.length());
  }

  /** MySQL Connector/J and MariaDB Connector/J, every host syntax they accept. */
  private static Endpoint mysqlFamily(String url, int defaultPort) {
    int scheme = url.indexOf("://");
    if (scheme < 0) {
      throw new UnparseableUrlException("expected jdbc:mysql://host... or jdbc:mariadb://host...");
    }
    String rest = url.substring(scheme + 3);
    String hosts = authority(rest, "/?");
    String database = pathDatabase(rest.substring(hosts.length()));
    String first = firstHost(hosts);
    if (first.toLowerCase(Locale.ROOT).startsWith("address=")) {
      String host = group(KEY_VALUE_HOST, first, "localhost");
      String port = group(KEY_VALUE_PORT, first, String.valueOf(defaultPort));
      return Endpoint.network(host, Integer.parseInt(port), database);
    }
    if (first.startsWith("(")) {
      String host = group(MYSQL_BRACKET_HOST, first, "localhost");
      String port = group(MYSQL_BRACKET_PORT, first, String.valueOf(defaultPort));
      return Endpoint.network(host, Integer.parseInt(port), database);
    }
    return hostPort(withoutUserInfo(first), defaultPort, database);
  }

  private static Endpoint postgresql(String url) {
    String rest = url.substring("jdbc:postgresql:".length());
    if (!rest.startsWith("//")) {
      // jdbc:postgresql:database  or  jdbc:postgresql:/  (localhost, default port)
      String db = rest.startsWith("/") ? rest.substring(1) : rest;
      return Endpoint.network("localhost", 5432, cutParams(db, "?"));
    }
    rest = rest.substring(2);
    String hosts = authority(rest, "/?");
    String database = pathDatabase(rest.substring(hosts.length()));
    String first = firstHost(hosts);
    if (first.isEmpty()) {
      first = "localhost";
    }
    return hostPort(withoutUserInfo(first), 5432, database);
  }

  private static Endpoint h2(String url) {
    String rest = url.substring("jdbc:h2:".length());
    String lower = rest.toLowerCase(Locale.ROOT);
    if (lower.startsWith("tcp://") || lower.startsWith("ssl://")) {
      String r = rest.substring(6);
      String hosts = authority(r, "/");
      String path = cutParams(r.substring(hosts.length()), ";");
      return hostPort(firstHost(hosts), 9092, lastSegment(path));
    }
    if (lower.startsWith("mem:")) {
      return Endpoint.inProcess("h2_mem", cutParams(rest.substring(4), ";"));
    }
    if (lower.startsWith("zip:") || lower.startsWith("split:") || lower.startsWith("nio")) {
      return Endpoint.inProcess("h2_file", lastSegment(cutParams(rest, ";")));
    }
    String path = lower.startsWith("file:") ? rest.substring(5) : rest;
    return Endpoint.inProcess("h2_file", lastSegment(cutParams(path, ";")));
  }

  private static Endpoint sqlServer(String url) {
    String rest = url.substring("jdbc:sqlserver:".length());
    if (!rest.startsWith("//")) {
      throw new UnparseableUrlException("expected jdbc:sqlserver://");
    }
    rest = rest.substring(2);
    int semi = rest.indexOf(';');
    String server = semi < 0 ? rest : rest.substring(0, semi);
    String props = semi < 0 ? "" : rest.substring(semi + 1);
    String database = property(props, "databaseName");
    if (database == null) {
      database = property(props, "database");
    }
    if (server.isEmpty()) {
      server = property(props, "serverName");
      if (server == null) {
        server = "localhost";
      }
      String port = property(props, "portNumber");
      if (port != null) {
        server = server + ":" + port;
      }
    }
    int backslash = server.indexOf('\\');
    if (backslash >= 0) {
      // host\instance[:port]; a named instance without a port is found through the browser
      String instancePart = server.substring(backslash + 1);
      int colon = instancePart.indexOf(':');
      server = server.substring(0, backslash) + (colon >= 0 ? instancePart.substring(colon) : "");
    }
    return hostPort(server, 1433, database);
  }

  private static Endpoint oracleThin(String url) {
    String rest = url.substring("jdbc:oracle:thin:".length());
    int at = rest.indexOf('@');
    if (at < 0) {
      throw new UnparseableUrlException("expected jdbc:oracle:thin:@...");
    }
    String target = rest.substring(at + 1).trim();
    if (target.startsWith("(")) {
      String host = group(ORACLE_DESCRIPTION_HOST, target, null);
      if (host == null) {
        throw new UnparseableUrlException("no HOST in the connect descriptor");
      }
      String port = group(ORACLE_DESCRIPTION_PORT, target, "1521");
      return Endpoint.network(
          host, Integer.parseInt(port), group(ORACLE_DESCRIPTION_SERVICE, target, null));
    }
    if (target.startsWith("//")) {
      target = target.substring(2);
    }
    String lowerTarget = target.toLowerCase(Locale.ROOT);
    if (lowerTarget.startsWith("ldap") || target.indexOf(':') < 0 && target.indexOf('/') < 0) {
      throw new UnparseableUrlException("a TNS alias or directory name names no host");
    }
    target = cutParams(target, "?");
    // host:port:SID  |  host:port/service  |  host/service  |  [v6]:port/service
    String hostPart;
    String database = null;
    int slash = target.indexOf('/');
    if (slash >= 0) {
      hostPart = target.substring(0, slash);
      database = target.substring(slash + 1);
    } else {
      int last = target.lastIndexOf(':');
      int bracket = target.lastIndexOf(']');
      int firstColon = target.indexOf(':', bracket < 0 ? 0 : bracket);
      if (firstColon >= 0 && last > firstColon) {
        hostPart = target.substring(0, last);
        database = target.substring(last + 1);
      } else {
        hostPart = target;
      }
    }
    return hostPort(hostPart, 1521, database);
  }

  /**
   * {@code jdbc:<anything>://host[:port][/database]...}; a port is required unless the scheme's
   * default is known ({@link #DEFAULT_PORTS}).
   */
  private static Endpoint generic(String url) {
    int scheme = url.indexOf("://");
    if (scheme < 0) {
      throw new UnparseableUrlException("no //host in the URL");
    }
    String rest = url.substring(scheme + 3);
    String hosts = authority(rest, "/?;");
    String first = withoutUserInfo(firstHost(hosts));
    String lower = url.toLowerCase(Locale.ROOT);
    int defaultPort = -1;
    for (String[] known : DEFAULT_PORTS) {
      if (lower.startsWith(known[0])) {
        defaultPort = Integer.parseInt(known[1]);
        break;
      }
    }
    int colon = first.lastIndexOf(':');
    if (defaultPort < 0 && (colon < 0 || first.endsWith("]"))) {
      throw new UnparseableUrlException("no port in the URL, and no default known for it");
    }
    return hostPort(first, defaultPort, pathDatabase(rest.substring(hosts.length())));
  }

  /** The authority part: up to the first of {@code terminators} outside brackets/parentheses. */
  private static String authority(String rest, String terminators) {
    int depth = 0;
    for (int i = 0; i < rest.length(); i++) {
      char c = rest.charAt(i);
      if (c == '[' || c == '(') {
        depth++;
      } else if (c == ']' || c == ')') {
        depth--;
      } else if (depth == 0 && terminators.indexOf(c) >= 0) {
        return rest.substring(0, i);
      }
    }
    return rest;
  }

  /** The first of comma-separated hosts, commas inside brackets or parentheses not counting. */
  private static String firstHost(String hosts) {
    String h = hosts.trim();
    if (h.startsWith("[") && (h.contains("(") || h.indexOf(',') < h.indexOf(']'))) {
      // MySQL's bracketed host list: [host1:3306,host2] or [(host=..),(..)]
      int end = h.lastIndexOf(']');
      String inner = h.substring(1, end < 0 ? h.length() : end);
      if (inner.contains("(") || inner.contains(",") || !looksLikeIpv6(inner)) {
        return firstHost(inner);
      }
    }
    int depth = 0;
    for (int i = 0; i < h.length(); i++) {
      char c = h.charAt(i);
      if (c == '[' || c == '(') {
        depth++;
      } else if (c == ']' || c == ')') {
        depth--;
      } else if (c == ',' && depth == 0) {
        return h.substring(0, i).trim();
      }
    }
    return h;
  }

  private static boolean looksLikeIpv6(String s) {
    return s.indexOf(':') != s.lastIndexOf(':');
  }

  private static String withoutUserInfo(String host) {
    int at = host.lastIndexOf('@');
    return at < 0 ? host : host.substring(at + 1);
  }

  /** {@code host}, {@code host:port}, {@code [v6]}, {@code [v6]:port}. */
  private static Endpoint hostPort(String hostPort, int defaultPort, String database) {
    String s = hostPort.trim();
    String host;
    String port = null;
    if (s.startsWith("[")) {
      int end = s.indexOf(']');
      if (end < 0) {
        throw new UnparseableUrlException("unclosed [ in the host");
      }
      host = s.substring(0, end + 1);
      if (s.length() > end + 1) {
        if (s.charAt(end + 1) != ':') {
          throw new UnparseableUrlException("unexpected text after the IPv6 address");
        }
        port = s.substring(end + 2);
      }
    } else if (looksLikeIpv6(s)) {
      host = s; // a bare IPv6 literal without a port
    } else {
      int colon = s.indexOf(':');
      host = colon < 0 ? s : s.substring(0, colon);
      port = colon < 0 ? null : s.substring(colon + 1);
    }
    if (host.isEmpty()) {
      host = "localhost";
    }
    int p;
    if (port == null || port.isEmpty()) {
      if (defaultPort < 0) {
        throw new UnparseableUrlException("no port");
      }
      p = defaultPort;
    } else {
      try {
        p = Integer.parseInt(port);
      } catch (NumberFormatException e) {
        throw new UnparseableUrlException("port '" + port + "' is not a number");
      }
      if (p < 1 || p > 65535) {
        throw new UnparseableUrlException("port " + p + " out of range");
      }
    }
    return Endpoint.network(host, p, database);
  }

  /** {@code /database?params} or {@code /database;params}: the database, or null. */
  private static String pathDatabase(String path) {
    if (!path.startsWith("/")) {
      return null;
    }
    String db = cutParams(path.substring(1), "?;");
    return db.isEmpty() ? null : db;
  }

  private static String cutParams(String s, String separators) {
    for (int i = 0; i < s.length(); i++) {
      if (separators.indexOf(s.charAt(i)) >= 0) {
        return s.substring(0, i);
      }
    }
    return s;
  }

  private static String lastSegment(String path) {
    String p = path;
    while (p.endsWith("/") || p.endsWith("\\")) {
      p = p.substring(0, p.length() - 1);
    }
    int cut = Math.max(p.lastIndexOf('/'), Math.max(p.lastIndexOf('\\'), p.lastIndexOf(':')));
    return p.substring(cut + 1);
  }

  /** A {@code key=value} from SQL Server's {@code ;}-separated properties, key case-insensitive. */
  private static String property(String props, String key) {
    for (String pair : props.split(";")) {
      int eq = pair.indexOf('=');
      if (eq > 0 && pair.substring(0, eq).trim().equalsIgnoreCase(key)) {
        return pair.substring(eq + 1).trim();
      }
    }
    return null;
  }

  private static String group(Pattern p, String s, String fallback) {
    Matcher m = p.matcher(s);
    return m.find() ? m.group(1) : fallback;
  }

  /**
   * Names of URL parameters that carry credentials or look like a secret, in any letter case:
   * {@code user}, {@code password}, {@code passwd}, {@code pwd}, {@code sslpassword}, {@code
   * apiToken}, {@code sslkey}, {@code secret}... Broad on purpose: a harmless parameter taken for a
   * secret costs nothing but a coarser datasource name.
   */
  private static final String SECRET_KEY =
      "[\\w.-]*(?:user|password|passwd|pwd|secret|token|key|credential|auth)[\\w.-]*|uid";

  /**
   * A secret {@code key=value} after {@code ?}, {@code &}, {@code ;}, {@code :}, {@code (} or
   * {@code ,}; the value runs to the next {@code &}, {@code ;} or {@code )}.
   */
  private static final Pattern SECRET_PARAMETER =
      Pattern.compile("([?&;:(,]\\s*)(" + SECRET_KEY + ")(\\s*=)[^&;)]*", Pattern.CASE_INSENSITIVE);

  /** {@code user:password@} after {@code //}, up to the authority's last {@code @}. */
  private static final Pattern USER_INFO = Pattern.compile("//[^/?;]*@");

  /** Oracle's {@code user/password@} before the connect target. */
  private static final Pattern ORACLE_LOGIN =
      Pattern.compile("^(jdbc:oracle:\\w+:)[^(]*@", Pattern.CASE_INSENSITIVE);

  /**
   * The URL with every credential and secret-looking parameter removed, so that what is derived
   * from it (the name of an unparseable URL's datasource, which everyone who may read the registry
   * sees) is the same whatever the password, and gives nothing to guess it from.
   */
  public static String withoutCredentials(String url) {
    String r = SECRET_PARAMETER.matcher(url).replaceAll("$1");
    r = ORACLE_LOGIN.matcher(r).replaceFirst("$1@");
    return USER_INFO.matcher(r).replaceAll("//");
  }

  /** The URL with credentials masked, for log lines. */
  public static String redact(String url) {
    if (url == null) {
      return "null";
    }
    String r = SECRET_PARAMETER.matcher(url).replaceAll("$1$2$3***");
    r = ORACLE_LOGIN.matcher(r).replaceFirst("$1***@");
    return USER_INFO.matcher(r).replaceAll("//***@");
  }
}
