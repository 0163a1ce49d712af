package dev.sluice.testapp.pool;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;

/**
 * A bank-transfer workload: several threads move money between accounts, each transfer one
 * transaction (two balance updates and a ledger row). The app remembers every transfer whose commit
 * returned normally; {@link #check} verifies that money was neither made nor lost, that every
 * acknowledged transfer is in the ledger, and that every account's balance is exactly what the
 * ledger says (no transfer half applied). Each ledger row also says when its transfer started
 * (microseconds since the epoch, on this JVM's clock) and which server wrote it (its port, where
 * the database tells it), so that a test can see where each transfer went and when.
 */
final class Bank {

  private final DataSource ds;
  private final Transactions tx;
  private final String accountsTable;
  private final String transfersTable;
  private final int maxThreads;
  private final Set<Long> acknowledged = ConcurrentHashMap.newKeySet();
  private final AtomicLong nextId = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private volatile String lastError = "";
  private final List<Thread> workers = new ArrayList<>();
  private volatile boolean running;
  private int accounts;
  private long initialBalance;
  private volatile String serverExpression = "NULL";

  /**
   * @param suffix appended to the table names, so that several banks share a database
   * @param maxThreads at most this many workers (1 for a data source of one shared connection)
   */
  Bank(DataSource ds, Transactions tx, String suffix, int maxThreads) {
    this.ds = ds;
    this.tx = tx;
    this.accountsTable = "accounts" + suffix;
    this.transfersTable = "transfers" + suffix;
    this.maxThreads = maxThreads;
  }

  String setup(String args) throws SQLException {
    String[] a = args.trim().split(" ");
    accounts = Integer.parseInt(a[0]);
    initialBalance = Long.parseLong(a[1]);
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS " + transfersTable);
      s.execute("DROP TABLE IF EXISTS " + accountsTable);
      s.execute("CREATE TABLE " + accountsTable + " (id INT PRIMARY KEY, balance BIGINT NOT NULL)");
      s.execute(
          "CREATE TABLE "
              + transfersTable
              + " (id BIGINT PRIMARY KEY, from_id INT NOT NULL, to_id INT NOT NULL,"
              + " amount BIGINT NOT NULL, started BIGINT NOT NULL, server VARCHAR(32))");
      serverExpression = serverExpression(c.getMetaData().getDatabaseProductName());
      for (int i = 0; i < accounts; i++) {
        s.execute("INSERT INTO " + accountsTable + " VALUES (" + i + ", " + initialBalance + ")");
      }
    }
    return "accounts " + accounts;
  }

  /** SQL naming the server a statement runs on (its port), or NULL where none is known. */
  private static String serverExpression(String product) {
    String p = product == null ? "" : product.toLowerCase(java.util.Locale.ROOT);
    if (p.contains("mariadb") || p.contains("mysql")) {
      return "CAST(@@port AS CHAR)";
    }
    if (p.contains("postgres")) {
      return "current_setting('port')";
    }
    return "NULL";
  }

  /** The ids of the acknowledged transfers, ascending, comma separated. */
  String acked() {
    return acknowledged.stream()
        .sorted()
        .map(String::valueOf)
        .collect(java.util.stream.Collectors.joining(","));
  }

  String start(String args) {
    int threads = Math.min(maxThreads, Integer.parseInt(args.trim()));
    running = true;
    for (int i = 0; i < threads; i++) {
      Thread t = new Thread(this::work, "bank-" + i);
      t.start();
      workers.add(t);
    }
    return "started " + threads;
  }

  String stats() {
    return "acked=" + acknowledged.size() + " failed=" + failed.get();
  }

  /** The last failure of a transfer, as one line. */
  String lastError() {
    return lastError.replace('\n', ' ').replace(';', ',').replace('}', ')');
  }

  String stop() throws InterruptedException {
    running = false;
    for (Thread t : workers) {
      t.join();
    }
    workers.clear();
    return stats();
  }

  private void work() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    while (running) {
      int from = random.nextInt(accounts);
      int to = random.nextInt(accounts - 1);
      if (to >= from) {
        to++;
      }
      long amount = 1 + random.nextInt(50);
      long id = nextId.incrementAndGet();
      long started =
          java.time.temporal.ChronoUnit.MICROS.between(
              java.time.Instant.EPOCH, java.time.Instant.now());
      try {
        transfer(id, from, to, amount, started);
        acknowledged.add(id);
      } catch (Exception e) {
        failed.incrementAndGet();
        lastError = e.getClass().getName() + ": " + e.getMessage();
        backOff();
      }
    }
  }

  /** As applications do after a failed transaction, rather than spinning. */
  private static void backOff() {
    try {
      Thread.sleep(1);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * One transfer, one transaction: on the connection, or (JTA) around the borrow, so that the pool
   * enlists the connection as it lends it. Acknowledged only when the commit returned normally.
   */
  private void transfer(long id, int from, int to, long amount, long started) throws Exception {
    tx.begin();
    boolean committed = false;
    try {
      try (Connection c = ds.getConnection()) {
        if (tx.local()) {
          c.setAutoCommit(false);
        }
        try {
          // a fixed lock order keeps the transfers from deadlocking each other
          int first = Math.min(from, to);
          int second = Math.max(from, to);
          update(c, first, first == from ? -amount : amount);
          update(c, second, second == from ? -amount : amount);
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO "
                      + transfersTable
                      + " VALUES (?, ?, ?, ?, ?, "
                      + serverExpression
                      + ")")) {
            ps.setLong(1, id);
            ps.setInt(2, from);
            ps.setInt(3, to);
            ps.setLong(4, amount);
            ps.setLong(5, started);
            ps.executeUpdate();
          }
          if (tx.local()) {
            c.commit();
          }
        } catch (SQLException e) {
          if (tx.local()) {
            try {
              c.rollback();
            } catch (SQLException ignored) {
              // the connection is gone; the server rolls the transaction back
            }
          }
          throw e;
        }
      }
      tx.commit();
      committed = true;
    } finally {
      if (!committed) {
        tx.rollback();
      }
    }
  }

  private void update(Connection c, int account, long delta) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("UPDATE " + accountsTable + " SET balance = balance + ? WHERE id = ?")) {
      ps.setLong(1, delta);
      ps.setInt(2, account);
      ps.executeUpdate();
    }
  }

  /** {@code total=.. expected=.. ledger=.. missing=.. inconsistent=..}. */
  String check() throws SQLException {
    long total;
    long ledger;
    long missing = 0;
    long inconsistent = 0;
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      try (ResultSet rs = s.executeQuery("SELECT SUM(balance) FROM " + accountsTable)) {
        rs.next();
        total = rs.getLong(1);
      }
      Set<Long> inLedger = new java.util.HashSet<>();
      try (ResultSet rs = s.executeQuery("SELECT id FROM " + transfersTable)) {
        while (rs.next()) {
          inLedger.add(rs.getLong(1));
        }
      }
      ledger = inLedger.size();
      for (Long id : acknowledged) {
        if (!inLedger.contains(id)) {
          missing++;
        }
      }
      try (ResultSet rs =
          s.executeQuery(
              "SELECT a.id, a.balance, (SELECT COALESCE(SUM(amount), 0) FROM "
                  + transfersTable
                  + " t WHERE t.from_id = a.id), (SELECT COALESCE(SUM(amount), 0) FROM "
                  + transfersTable
                  + " t WHERE t.to_id = a.id) FROM "
                  + accountsTable
                  + " a")) {
        while (rs.next()) {
          if (rs.getLong(2) != initialBalance - rs.getLong(3) + rs.getLong(4)) {
            inconsistent++;
          }
        }
      }
    }
    return "total="
        + total
        + " expected="
        + (accounts * initialBalance)
        + " acked="
        + acknowledged.size()
        + " ledger="
        + ledger
        + " missing="
        + missing
        + " inconsistent="
        + inconsistent;
  }
}
