package dev.sluice.it;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.testcontainers.containers.MariaDBContainer;
import org.testcontainers.containers.Network;

/**
 * A real MariaDB primary and replica with real binary-log replication (GTID-based, {@code
 * MASTER_USE_GTID=slave_pos}): two {@link MariaDbServer}s from Debian's {@code mariadb-server} on
 * free ports, or two containers on one Docker network where a Docker engine is present and the
 * binaries are not; with neither, starting fails naming the package. The replica runs {@code
 * read_only}: root may still write there, the user {@link MariaDbServer#APP_USER} may not. Both
 * have the database {@code test}.
 */
final class MariaDbReplication implements AutoCloseable {

  private static final Duration CATCH_UP = Duration.ofSeconds(30);

  private final MariaDbServer primary;
  private final MariaDbServer replica;
  private final List<AutoCloseable> resources;

  private MariaDbReplication(
      MariaDbServer primary, MariaDbServer replica, List<AutoCloseable> resources) {
    this.primary = primary;
    this.replica = replica;
    this.resources = resources;
  }

  /** Starts both servers, points the replica at the primary and waits until it has caught up. */
  static MariaDbReplication start() throws Exception {
    List<AutoCloseable> resources = new ArrayList<>();
    try {
      MariaDbServer primary;
      MariaDbServer replica;
      String sourceHost;
      int sourcePort;
      if (MariaDbServer.nativeBinaries()) {
        primary = MariaDbServer.startForReplication(1, false);
        resources.add(primary);
        replica = MariaDbServer.startForReplication(2, true);
        resources.add(replica);
        sourceHost = primary.host();
        sourcePort = primary.port();
      } else if (NativeServer.dockerAvailable()) {
        Network network = Network.newNetwork();
        resources.add(network);
        primary = container(network, "primary", 1, false);
        resources.add(primary);
        replica = container(network, "replica", 2, true);
        resources.add(replica);
        sourceHost = "primary";
        sourcePort = 3306;
      } else {
        throw new AssertionError(MariaDbServer.PACKAGE_HINT);
      }
      MariaDbReplication replication = new MariaDbReplication(primary, replica, resources);
      replication.follow(sourceHost, sourcePort);
      return replication;
    } catch (Throwable t) {
      closeAll(resources);
      throw t;
    }
  }

  private static MariaDbServer container(
      Network network, String alias, int serverId, boolean readOnly) throws Exception {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--server-id=" + serverId,
                "--log-bin=mariadb-bin",
                "--binlog-format=ROW",
                "--log-slave-updates"));
    if (readOnly) {
      args.add("--read-only");
    }
    MariaDBContainer<?> c =
        new MariaDBContainer<>(MariaDbServer.IMAGE)
            .withDatabaseName("test")
            .withUsername("root")
            .withPassword("")
            .withNetwork(network)
            .withNetworkAliases(alias)
            .withCommand(args.toArray(new String[0]));
    c.start();
    MariaDbServer server = MariaDbServer.of(c.getHost(), c.getMappedPort(3306), c::stop);
    try (Connection conn = root(server);
        Statement s = conn.createStatement()) {
      s.execute("SET sql_log_bin=0");
      s.execute(
          "CREATE USER IF NOT EXISTS '"
              + MariaDbServer.APP_USER
              + "'@'%' IDENTIFIED BY '"
              + MariaDbServer.APP_PASSWORD
              + "'");
      s.execute("GRANT ALL PRIVILEGES ON test.* TO '" + MariaDbServer.APP_USER + "'@'%'");
    }
    return server;
  }

  private void follow(String sourceHost, int sourcePort) throws Exception {
    try (Connection c = root(replica);
        Statement s = c.createStatement()) {
      s.execute(
          "CHANGE MASTER TO MASTER_HOST='"
              + sourceHost
              + "', MASTER_PORT="
              + sourcePort
              + ", MASTER_USER='root', MASTER_PASSWORD='', MASTER_CONNECT_RETRY=1,"
              + " MASTER_USE_GTID=slave_pos");
      s.execute("START SLAVE");
    }
    Await.until(
        "the replica's IO and SQL threads running (IO, SQL, last IO error, last SQL error)",
        CATCH_UP,
        () -> {
          String[] status = slaveStatus();
          if (!status[3].isEmpty()) {
            throw new AssertionError("replication failed: " + String.join(" / ", status));
          }
          return List.of(status);
        },
        status -> "Yes".equals(status.get(0)) && "Yes".equals(status.get(1)));
    awaitReplicaCaughtUp();
  }

  /** Slave_IO_Running, Slave_SQL_Running, Last_IO_Error, Last_SQL_Error. */
  private String[] slaveStatus() {
    try (Connection c = root(replica);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SHOW SLAVE STATUS")) {
      if (!rs.next()) {
        return new String[] {"", "", "", ""};
      }
      return new String[] {
        rs.getString("Slave_IO_Running"),
        rs.getString("Slave_SQL_Running"),
        nonNull(rs.getString("Last_IO_Error")),
        nonNull(rs.getString("Last_SQL_Error"))
      };
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String nonNull(String s) {
    return s == null ? "" : s;
  }

  static Connection root(MariaDbServer server) throws SQLException {
    return DriverManager.getConnection(server.url("mariadb"), "root", "");
  }

  static Connection app(MariaDbServer server) throws SQLException {
    return DriverManager.getConnection(
        server.url("mariadb"), MariaDbServer.APP_USER, MariaDbServer.APP_PASSWORD);
  }

  MariaDbServer primary() {
    return primary;
  }

  MariaDbServer replica() {
    return replica;
  }

  /**
   * Waits until the replica has applied every transaction the primary has logged so far (the
   * server's own {@code MASTER_GTID_WAIT}, bounded by 30 s); fails with the replication status
   * otherwise.
   */
  void awaitReplicaCaughtUp() throws SQLException {
    String position;
    try (Connection c = root(primary);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT @@gtid_binlog_pos")) {
      rs.next();
      position = rs.getString(1);
    }
    if (position == null || position.isEmpty()) {
      return; // nothing logged yet
    }
    try (Connection c = root(replica);
        PreparedStatement ps = c.prepareStatement("SELECT MASTER_GTID_WAIT(?, ?)")) {
      ps.setString(1, position);
      ps.setLong(2, CATCH_UP.toSeconds());
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        if (rs.getInt(1) != 0) {
          throw new AssertionError(
              "the replica did not reach the primary's position "
                  + position
                  + " within "
                  + CATCH_UP.toSeconds()
                  + " s: "
                  + String.join(" / ", slaveStatus()));
        }
      }
    }
  }

  /**
   * Makes the replica a primary: stops and forgets replication, and turns {@code read_only} off.
   * The old primary stays up and writable (split brain, as a failover leaves it when the old
   * primary was only unreachable).
   */
  void promoteReplica() throws SQLException {
    try (Connection c = root(replica);
        Statement s = c.createStatement()) {
      s.execute("STOP SLAVE");
      s.execute("RESET SLAVE ALL");
      s.execute("SET GLOBAL read_only=OFF");
    }
  }

  @Override
  public void close() throws Exception {
    closeAll(resources);
  }

  private static void closeAll(List<AutoCloseable> resources) throws Exception {
    Exception first = null;
    for (int i = resources.size() - 1; i >= 0; i--) {
      try {
        resources.get(i).close();
      } catch (Exception e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    resources.clear();
    if (first != null) {
      throw first;
    }
  }
}
