package dev.sluice.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

/**
 * The application side of the Patroni failover benchmark: one thread writes a row through a
 * HikariCP pool every millisecond ({@code INSERT ... RETURNING inet_server_port()}), and records
 * when (wall clock, microseconds) each write was acknowledged and by which server. The same program
 * runs with the agent, its URL naming a routing group, and without it, through HAProxy. With a
 * fourth argument {@code plain} it writes without a pool, on one connection that it opens again
 * after any failure (a broken connection, a server that refuses writes now).
 *
 * <p>Arguments: URL, user, password[, plain]. Commands on standard input, one answer line each:
 *
 * <ul>
 *   <li>{@code mark <port>}: waits for a write acknowledged by {@code port}, forgets every write
 *       before it; {@code MARKED}.
 *   <li>{@code await <port> <timeout-ms>}: waits for the first write after the mark acknowledged by
 *       {@code port}; {@code LANDED <last write by another server before it> <that write> <writes
 *       failed between them>}, or {@code TIMEOUT <servers seen> <failures> <last error>}.
 * </ul>
 */
public final class WriteProbe {

  private static final Object LOCK = new Object();
  // {acknowledged at µs, server port, failures since the previous acknowledgement}
  private static final Deque<long[]> WRITES = new ArrayDeque<>();
  private static long failures;
  private static String lastError = "none";

  public static void main(String[] args) throws Exception {
    if (args.length > 3 && args[3].equals("plain")) {
      Thread writer = new Thread(() -> writePlain(args[0], args[1], args[2]), "writer");
      writer.setDaemon(true);
      writer.start();
      commands();
      System.exit(0);
    }
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(args[0]);
    config.setUsername(args[1]);
    config.setPassword(args[2]);
    config.setMaximumPoolSize(2);
    config.setConnectionTimeout(250);
    config.setValidationTimeout(250);
    config.setInitializationFailTimeout(-1);
    config.addDataSourceProperty("connectTimeout", "2");
    config.addDataSourceProperty("socketTimeout", "5");
    try (HikariDataSource pool = new HikariDataSource(config)) {
      Thread writer = new Thread(() -> write(pool), "writer");
      writer.setDaemon(true);
      writer.start();
      commands();
    }
    System.exit(0);
  }

  private static void commands() throws Exception {
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    System.out.println("READY");
    for (String line; (line = in.readLine()) != null; ) {
      String[] cmd = line.trim().split(" ");
      if (cmd[0].equals("mark")) {
        System.out.println(mark(Integer.parseInt(cmd[1])));
      } else if (cmd[0].equals("await")) {
        System.out.println(await(Integer.parseInt(cmd[1]), Long.parseLong(cmd[2])));
      } else if (cmd[0].equals("exit")) {
        return;
      } else {
        System.out.println("ERR unknown command " + line);
      }
    }
  }

  /** Writes through the pool, a connection borrowed for each write. */
  private static void write(HikariDataSource pool) {
    while (true) {
      try (Connection c = pool.getConnection()) {
        acknowledged(insert(c));
      } catch (SQLException e) {
        failed(e);
      }
      if (!pause()) {
        return;
      }
    }
  }

  /**
   * Writes on one connection, without a pool; after any failure (a broken connection, a server that
   * now refuses writes) it connects again for the next write.
   */
  private static void writePlain(String url, String user, String password) {
    Properties p = new Properties();
    p.setProperty("user", user);
    p.setProperty("password", password);
    p.setProperty("connectTimeout", "2");
    p.setProperty("socketTimeout", "5");
    Connection c = null;
    while (true) {
      try {
        if (c == null) {
          c = DriverManager.getConnection(url, p);
        }
        acknowledged(insert(c));
      } catch (SQLException e) {
        failed(e);
        try {
          if (c != null) {
            c.close();
          }
        } catch (SQLException broken) {
          // gone already
        }
        c = null;
      }
      if (!pause()) {
        return;
      }
    }
  }

  /** One write; the port of the server that acknowledged it. */
  private static int insert(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "INSERT INTO writes(at) VALUES (clock_timestamp()) RETURNING inet_server_port()")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  private static void acknowledged(int port) {
    long at = PropagationProbe.epochMicros();
    synchronized (LOCK) {
      WRITES.addLast(new long[] {at, port, failures});
      failures = 0;
      LOCK.notifyAll();
    }
  }

  private static void failed(SQLException e) {
    synchronized (LOCK) {
      failures++;
      lastError = e.getSQLState() + " " + e.getMessage();
    }
  }

  private static boolean pause() {
    try {
      Thread.sleep(1);
      return true;
    } catch (InterruptedException e) {
      return false;
    }
  }

  private static String mark(int port) throws InterruptedException {
    long deadline = System.nanoTime() + 60_000_000_000L;
    synchronized (LOCK) {
      WRITES.clear();
      while (WRITES.isEmpty() || WRITES.peekLast()[1] != port) {
        WRITES.clear();
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return "TIMEOUT no write on " + port + " within 60 s; last error " + lastError;
        }
        LOCK.wait(Math.max(1, left / 1_000_000));
      }
      long[] last = WRITES.peekLast();
      WRITES.clear();
      WRITES.addLast(last);
      return "MARKED";
    }
  }

  private static String await(int port, long timeoutMs) throws InterruptedException {
    long deadline = System.nanoTime() + timeoutMs * 1_000_000;
    synchronized (LOCK) {
      while (true) {
        long lastOther = 0;
        for (long[] w : WRITES) {
          if (w[1] == port) {
            return "LANDED " + lastOther + " " + w[0] + " " + w[2];
          }
          lastOther = w[0];
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          Set<Long> seen = new TreeSet<>();
          WRITES.forEach(w -> seen.add(w[1]));
          return "TIMEOUT servers " + seen + ", " + failures + " failed, last error " + lastError;
        }
        LOCK.wait(Math.max(1, left / 1_000_000));
      }
    }
  }
}
