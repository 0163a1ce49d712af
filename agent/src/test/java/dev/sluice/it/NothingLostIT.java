package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

/**
 * Nothing is lost, for every pool of the matrix: one application runs a bank-transfer workload
 * through each pool at once (each pool its own accounts), while the datasource is cut off for 300
 * ms and re-enabled, 50 times. For every pool the total balance never changes, every transfer the
 * application saw committed is in the database, no transfer is half applied, and commits resume in
 * every window between two cut-offs.
 */
class NothingLostIT {

  static final int TOGGLES = 50;
  static final long CUT_OFF_MS = 300;

  @Test
  void onPostgreSql() throws Exception {
    try (PostgresServer db = PostgresServer.start()) {
      run(
          db.jdbcUrl(),
          db.user(),
          db.password(),
          PoolMatrix.onPostgreSql(),
          "SELECT COUNT(*) FROM pg_stat_activity WHERE backend_type = 'client backend'");
    }
  }

  @Test
  void onMariaDb() throws Exception {
    try (MariaDbServer db = MariaDbServer.start()) {
      run(
          db.url("mariadb"),
          "root",
          "",
          PoolMatrix.onMariaDb(),
          "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE COMMAND <> 'Daemon'");
    }
  }

  /** Connections the server has open now, this one included. */
  private static long serverConnections(String url, String user, String password, String sql)
      throws Exception {
    try (java.sql.Connection c = java.sql.DriverManager.getConnection(url, user, password);
        java.sql.Statement s = c.createStatement();
        java.sql.ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static void run(
      String url, String user, String password, List<String> all, String countConnections)
      throws Exception {
    // -Dsluice.nothing-lost.pools=a,b runs those pools only
    String only = System.getProperty("sluice.nothing-lost.pools", "");
    List<String> pools = new java.util.ArrayList<>(all);
    if (!only.isEmpty()) {
      pools.retainAll(List.of(only.split(",")));
    }
    try (ZooKeeperFixture zk = new ZooKeeperFixture();
        AppProcess app =
            AppProcess.poolApp("multi", url, user, password, String.join(",", pools))
                .agentArgs(InstanceCutOffIT.registryArgsFor(zk))
                // Atomikos by default returns from commit() when a one-phase commit's outcome is
                // in doubt (its connection died during the commit, for whatever reason) and the
                // database rolled it back: no pool or agent can keep such a commit. Told to say
                // so, it throws HeuristicMixedException and nothing acknowledged is lost.
                .sysProp("com.atomikos.icatch.throw_on_heuristic", "true")
                .jmx()
                .start()) {
      assertTrue(app.send("bank-setup 20 1000", 120).ok);
      MBeanServerConnection jmx = app.jmx();
      ObjectName bean = datasourceBean(jmx);
      String node = (String) jmx.getAttribute(bean, "RegistryPath");
      assertTrue(app.send("bank-start 2").ok);

      for (int i = 0; i < TOGGLES; i++) {
        Map<String, Map<String, Long>> before = stats(app);
        long open = serverConnections(url, user, password, countConnections);
        // each pool holds at most 4; a single connection and the bank's own thread or two besides
        assertTrue(
            open <= 4L * pools.size() + 8,
            "no connection leaks: the server has " + open + " open before cut-off " + i);
        zk.set(node, "DISABLED");
        PoolsIT.awaitState(jmx, bean, "DISABLED");
        Thread.sleep(CUT_OFF_MS); // the length of the cut-off, not a wait for anything
        zk.set(node, "");
        PoolsIT.awaitState(jmx, bean, "ENABLED");
        // every pool commits again before the next cut-off
        try {
          Await.until(
              "commits of every pool after re-enable " + i,
              Duration.ofSeconds(20),
              () -> stats(app),
              now -> pools.stream().allMatch(p -> acked(now, p) > acked(before, p)));
        } catch (AssertionError e) {
          Map<String, Map<String, Long>> now = stats(app);
          StringBuilder stuck = new StringBuilder();
          for (String p : pools) {
            if (acked(now, p) <= acked(before, p)) {
              stuck.append(p).append(' ');
            }
          }
          throw new AssertionError(
              "no commit within 20 s after re-enable "
                  + i
                  + " through: "
                  + stuck
                  + "\nlast errors: "
                  + app.send("bank-errors").text
                  + "\nthe agent's log:\n"
                  + String.join("\n", app.agentLog()),
              e);
        }
      }

      AppProcess.Reply stop = app.send("bank-stop", 120);
      AppProcess.Reply checked = app.send("bank-check", 120);
      Map<String, Map<String, Long>> stopped = parse(stop.text);
      Map<String, Map<String, Long>> check = parse(checked.text);
      for (String pool : pools) {
        if (stopped.get(pool) == null || check.get(pool) == null) {
          throw new AssertionError(
              pool
                  + " did not answer the bank's stop or check: "
                  + stop
                  + " / "
                  + checked
                  + "\nthe server's connections now: "
                  + openNow(url, user, password, countConnections)
                  + "\n"
                  + warnings(app)
                  + "\nthe agent's log:\n"
                  + String.join("\n", app.agentLog()));
        }
      }
      long aborted = (Long) jmx.getAttribute(bean, "AbortedConnections");
      System.out.printf(
          "nothing-lost %s: %d cut-offs of %d ms, %d connections aborted%n",
          url, TOGGLES, CUT_OFF_MS, aborted);
      long failed = 0;
      for (String pool : pools) {
        Map<String, Long> c = check.get(pool);
        System.out.printf("  %-12s %s, check %s%n", pool, stopped.get(pool), c);
        if (c.get("missing") != 0 || !c.get("expected").equals(c.get("total"))) {
          System.out.println(warnings(app));
        }
        assertEquals(c.get("expected"), c.get("total"), pool + ": no money made or lost " + c);
        assertEquals(0, c.get("missing"), pool + ": every acknowledged commit is there " + c);
        assertEquals(0, c.get("inconsistent"), pool + ": no transfer half applied " + c);
        assertTrue(c.get("ledger") >= c.get("acked"), pool + ": " + c);
        assertTrue(c.get("acked") >= TOGGLES, pool + ": commits in every window " + c);
        // each pool on its own: one left ungoverned would commit through every cut-off
        assertTrue(
            stopped.get(pool).get("failed") > 0,
            pool + ": the cut-offs hit this pool's transactions too " + stopped.get(pool));
        failed += stopped.get(pool).get("failed");
      }
      assertTrue(failed > 0, "the cut-offs hit transactions in flight");
      assertTrue(aborted > 0, "connections were aborted");
    }
  }

  /** {@link #serverConnections}, or why they cannot be counted; for a failure's story. */
  private static String openNow(String url, String user, String password, String sql) {
    try {
      return Long.toString(serverConnections(url, user, password, sql));
    } catch (Exception e) {
      return e.toString();
    }
  }

  /** The application's (and its libraries') warnings, for a failure's story. */
  private static String warnings(AppProcess app) {
    StringBuilder out = new StringBuilder("the application's warnings:\n");
    for (String line : app.output().split("\n")) {
      if (line.contains("WARN") || line.contains("SEVERE") || line.contains("NOTA")) {
        out.append(line).append('\n');
      }
    }
    return out.toString();
  }

  private static long acked(Map<String, Map<String, Long>> stats, String pool) {
    Map<String, Long> s = stats.get(pool);
    return s == null ? -1 : s.get("acked");
  }

  private static ObjectName datasourceBean(MBeanServerConnection jmx) {
    return Await.until(
        "the datasource's bean",
        Duration.ofSeconds(10),
        () -> {
          try {
            return jmx.queryNames(new ObjectName("sluice:type=DataSource,*"), null).stream()
                .findFirst()
                .orElse(null);
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        },
        n -> n != null);
  }

  private static Map<String, Map<String, Long>> stats(AppProcess app) {
    try {
      return parse(app.send("bank-stats").text);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** {@code pool{a=1 b=2};pool{...};} into a map per pool. */
  static Map<String, Map<String, Long>> parse(String text) {
    Map<String, Map<String, Long>> out = new LinkedHashMap<>();
    for (String part : text.trim().split(";")) {
      int open = part.indexOf('{');
      if (open < 0) {
        continue;
      }
      Map<String, Long> values = new LinkedHashMap<>();
      for (String pair : part.substring(open + 1, part.lastIndexOf('}')).trim().split(" ")) {
        int eq = pair.indexOf('=');
        if (eq > 0) {
          values.put(pair.substring(0, eq), Long.parseLong(pair.substring(eq + 1)));
        }
      }
      out.put(part.substring(0, open).trim(), values);
    }
    return out;
  }
}
