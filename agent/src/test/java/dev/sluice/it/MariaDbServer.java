package dev.sluice.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import org.testcontainers.containers.MariaDBContainer;

/**
 * A real MariaDB server for end-to-end tests: Debian's {@code mariadb-server} binaries on a free
 * port with a temporary data directory; a Testcontainers container where a Docker engine is present
 * and the binaries are not. With neither, the test fails naming the package to install. The
 * database {@code test} exists; user {@code root}, no password.
 */
final class MariaDbServer implements AutoCloseable {

  static final String PACKAGE_HINT =
      "MariaDB server binaries (mariadbd, mariadb-install-db) not found and no Docker engine is"
          + " available: install the Debian package 'mariadb-server' (apt-get install mariadb-server)";

  private final String host;
  private final int port;
  private final AutoCloseable server;

  private MariaDbServer(String host, int port, AutoCloseable server) {
    this.host = host;
    this.port = port;
    this.server = server;
  }

  static MariaDbServer start() throws Exception {
    Path mariadbd = Paths.get("/usr/sbin/mariadbd");
    Path installDb = Paths.get("/usr/bin/mariadb-install-db");
    if (Files.isExecutable(mariadbd) && Files.isExecutable(installDb)) {
      Local local = new Local(mariadbd, installDb);
      return new MariaDbServer("127.0.0.1", local.port, local);
    }
    if (NativeServer.dockerAvailable()) {
      MariaDBContainer<?> c =
          new MariaDBContainer<>("mariadb:10.11")
              .withDatabaseName("test")
              .withUsername("root")
              .withPassword("");
      c.start();
      return new MariaDbServer(c.getHost(), c.getMappedPort(3306), c::stop);
    }
    throw new AssertionError(PACKAGE_HINT);
  }

  /** Debian's binaries, run as the {@code mysql} user, with grant tables skipped. */
  private static final class Local extends NativeServer {
    Local(Path mariadbd, Path installDb) throws Exception {
      super("sluice-mariadb", "mysql");
      Path data = root.resolve("data");
      run(
          List.of(
              installDb.toString(),
              "--no-defaults",
              "--datadir=" + data,
              "--auth-root-authentication-method=normal",
              "--skip-test-db",
              "--skip-name-resolve"),
          true);
      String url = "jdbc:mariadb://127.0.0.1:" + port + "/mysql";
      startAndAwait(
          List.of(
              mariadbd.toString(),
              "--no-defaults",
              "--datadir=" + data,
              "--port=" + port,
              "--bind-address=127.0.0.1",
              "--socket=" + root.resolve("mysqld.sock"),
              "--pid-file=" + root.resolve("mysqld.pid"),
              "--skip-grant-tables",
              "--skip-name-resolve",
              "--innodb-flush-log-at-trx-commit=2",
              "--innodb-buffer-pool-size=64M",
              "--max-connections=300",
              "--skip-log-bin"),
          url,
          "root",
          "");
      try (Connection c = DriverManager.getConnection(url, "root", "");
          Statement s = c.createStatement()) {
        s.execute("CREATE DATABASE IF NOT EXISTS test");
      }
    }

    @Override
    String fastShutdownSignal() {
      return "TERM";
    }
  }

  /** {@code jdbc:<scheme>://host:port/test}, e.g. scheme {@code mariadb} or {@code mysql}. */
  String url(String scheme) {
    return "jdbc:" + scheme + "://" + host + ":" + port + "/test";
  }

  int port() {
    return port;
  }

  @Override
  public void close() throws Exception {
    server.close();
  }
}
