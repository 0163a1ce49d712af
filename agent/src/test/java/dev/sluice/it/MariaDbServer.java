package dev.sluice.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.testcontainers.containers.MariaDBContainer;

/**
 * A real MariaDB server for end-to-end tests: Debian's {@code mariadb-server} binaries on a free
 * port with a temporary data directory; a Testcontainers container where a Docker engine is present
 * and the binaries are not. With neither, the test fails naming the package to install. The
 * database {@code test} exists; user {@code root}, no password.
 *
 * <p>{@link #start()} skips the grant tables and the binary log. {@link #startForReplication} keeps
 * both, for {@link MariaDbReplication}: root (no password) may do anything, and the user {@link
 * #APP_USER} may only use the database {@code test}, so {@code read_only} stops its writes.
 */
final class MariaDbServer implements AutoCloseable {

  static final String PACKAGE_HINT =
      "MariaDB server binaries (mariadbd, mariadb-install-db) not found and no Docker engine is"
          + " available: install the Debian package 'mariadb-server' (apt-get install mariadb-server)";

  static final String IMAGE = "mariadb:10.11";
  private static final Path MARIADBD = Paths.get("/usr/sbin/mariadbd");
  private static final Path INSTALL_DB = Paths.get("/usr/bin/mariadb-install-db");

  /** An account without SUPER or READ_ONLY ADMIN, as applications have (replication servers). */
  static final String APP_USER = "app";

  static final String APP_PASSWORD = "app-secret";

  private final String host;
  private final int port;
  private final AutoCloseable server;

  private MariaDbServer(String host, int port, AutoCloseable server) {
    this.host = host;
    this.port = port;
    this.server = server;
  }

  /** A server started elsewhere (a container), closed by {@code server}. */
  static MariaDbServer of(String host, int port, AutoCloseable server) {
    return new MariaDbServer(host, port, server);
  }

  static MariaDbServer start() throws Exception {
    if (nativeBinaries()) {
      Local local =
          new Local(List.of("--skip-grant-tables", "--skip-log-bin", "--max-connections=1000"));
      return new MariaDbServer("127.0.0.1", local.port, local);
    }
    if (NativeServer.dockerAvailable()) {
      MariaDBContainer<?> c =
          new MariaDBContainer<>(IMAGE)
              .withDatabaseName("test")
              .withUsername("root")
              .withPassword("");
      c.start();
      return new MariaDbServer(c.getHost(), c.getMappedPort(3306), c::stop);
    }
    throw new AssertionError(PACKAGE_HINT);
  }

  static boolean nativeBinaries() {
    return Files.isExecutable(MARIADBD) && Files.isExecutable(INSTALL_DB);
  }

  /**
   * Debian's binaries with the grant tables and a row-based binary log, as server {@code serverId};
   * {@code read_only} when asked. Callers check {@link #nativeBinaries()} first.
   */
  static MariaDbServer startForReplication(int serverId, boolean readOnly) throws Exception {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--server-id=" + serverId,
                "--log-bin=mariadb-bin",
                "--binlog-format=ROW",
                "--log-slave-updates",
                "--max-connections=100"));
    if (readOnly) {
      args.add("--read-only");
    }
    Local local = new Local(args, APP_USER, APP_PASSWORD);
    return new MariaDbServer("127.0.0.1", local.port, local);
  }

  /**
   * Debian's binaries, run as the {@code mysql} user. With the grant tables (no {@code
   * --skip-grant-tables} among {@code args}) an init file, kept out of the binary log, lets root
   * connect over TCP without a password and creates the application user.
   */
  private static final class Local extends NativeServer {
    Local(List<String> args) throws Exception {
      this(args, null, null);
    }

    Local(List<String> args, String appUser, String appPassword) throws Exception {
      super("sluice-mariadb", "mysql");
      Path data = root.resolve("data");
      run(
          List.of(
              INSTALL_DB.toString(),
              "--no-defaults",
              "--datadir=" + data,
              "--auth-root-authentication-method=normal",
              "--skip-test-db",
              "--skip-name-resolve"),
          true);
      List<String> cmd =
          new ArrayList<>(
              List.of(
                  MARIADBD.toString(),
                  "--no-defaults",
                  "--datadir=" + data,
                  "--port=" + port,
                  "--bind-address=127.0.0.1",
                  "--socket=" + root.resolve("mysqld.sock"),
                  "--pid-file=" + root.resolve("mysqld.pid"),
                  "--skip-name-resolve",
                  "--innodb-flush-log-at-trx-commit=2",
                  "--innodb-buffer-pool-size=64M"));
      if (!args.contains("--skip-grant-tables")) {
        Path init = root.resolve("init.sql");
        Files.writeString(
            init,
            String.join(
                "\n",
                "SET sql_log_bin=0;",
                "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';",
                "GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;",
                "CREATE DATABASE IF NOT EXISTS test;",
                appUser == null
                    ? ""
                    : "CREATE USER IF NOT EXISTS '"
                        + appUser
                        + "'@'127.0.0.1' IDENTIFIED BY '"
                        + appPassword
                        + "';",
                appUser == null
                    ? ""
                    : "GRANT ALL PRIVILEGES ON test.* TO '" + appUser + "'@'127.0.0.1';",
                ""));
        if (asRoot()) {
          run(List.of("chown", "mysql:mysql", init.toString()), false);
        }
        cmd.add("--init-file=" + init);
      }
      cmd.addAll(args);
      String url = "jdbc:mariadb://127.0.0.1:" + port + "/mysql";
      startAndAwait(cmd, url, "root", "");
      try (Connection c = DriverManager.getConnection(url, "root", "");
          Statement s = c.createStatement()) {
        s.execute("SET sql_log_bin=0");
        s.execute("CREATE DATABASE IF NOT EXISTS test");
      }
    }

    @Override
    String fastShutdownSignal() {
      return "TERM";
    }
  }

  /**
   * The server as a process of this machine (Debian's binaries), to be killed, paused, restarted.
   */
  NativeServer process() {
    if (!(server instanceof NativeServer)) {
      throw new IllegalStateException("not a local server: " + server);
    }
    return (NativeServer) server;
  }

  /** {@code jdbc:<scheme>://host:port/test}, e.g. scheme {@code mariadb} or {@code mysql}. */
  String url(String scheme) {
    return "jdbc:" + scheme + "://" + host + ":" + port + "/test";
  }

  int port() {
    return port;
  }

  String host() {
    return host;
  }

  /** {@code host:port}, as a registry names a database server. */
  String hostAndPort() {
    return host + ":" + port;
  }

  @Override
  public void close() throws Exception {
    server.close();
  }
}
