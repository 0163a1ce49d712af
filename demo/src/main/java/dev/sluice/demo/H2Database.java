package dev.sluice.demo;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.h2.tools.Server;

/**
 * An H2 TCP server on a free loopback port that serves the database the URLs call {@code mem:shop}
 * from an in-memory database of this JVM named after the server: two such servers hold two
 * different databases under one name, as two members of a replication group do.
 */
final class H2Database implements AutoCloseable {

  /** The database name in the URLs. */
  static final String NAME = "mem:shop";

  private final Server server;
  private Connection operator;

  H2Database(String storage) throws SQLException {
    server =
        Server.createTcpServer("-tcpPort", "0", "-ifNotExists", "-key", NAME, "mem:" + storage)
            .start();
  }

  /** {@code 127.0.0.1:<port>}. */
  String hostPort() {
    return "127.0.0.1:" + server.getPort();
  }

  int port() {
    return server.getPort();
  }

  /** The URL an application uses for this server's database. */
  String url() {
    return "jdbc:h2:tcp://" + hostPort() + "/" + NAME + ";DB_CLOSE_DELAY=-1";
  }

  /**
   * The first column of the first row of {@code sql}, a number, read over the operator's own
   * connection (the demo's JVM has no agent: it sees each server as it is).
   */
  synchronized long number(String sql) throws SQLException {
    try (Statement s = operator().createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** The numbers in the first column of {@code sql}'s rows, read as {@link #number} reads. */
  synchronized Set<Long> numbers(String sql) throws SQLException {
    Set<Long> out = new HashSet<>();
    try (Statement s = operator().createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      while (rs.next()) {
        out.add(rs.getLong(1));
      }
    }
    return out;
  }

  /** The operator's own connection, opened at first use. */
  private Connection operator() throws SQLException {
    if (operator == null) {
      operator = DriverManager.getConnection(url());
    }
    return operator;
  }

  /** Makes this database a copy of {@code source}'s (H2's {@code SCRIPT}, run here). */
  void copyFrom(H2Database source) throws SQLException {
    List<String> script = new ArrayList<>();
    try (Connection c = DriverManager.getConnection(source.url());
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SCRIPT NOPASSWORDS NOSETTINGS")) {
      while (rs.next()) {
        script.add(rs.getString(1));
      }
    }
    try (Connection c = DriverManager.getConnection(url());
        Statement s = c.createStatement()) {
      for (String statement : script) {
        s.execute(statement);
      }
    }
  }

  @Override
  public synchronized void close() {
    try {
      if (operator != null) {
        operator.close();
      }
    } catch (SQLException ignored) {
      // the server stops anyway
    }
    server.stop();
  }
}
