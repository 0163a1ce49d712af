package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

/**
 * Nothing is lost: a bank-transfer workload runs through HikariCP while its datasource is disabled
 * and enabled 50 times. The total balance never changes, every transfer the application saw
 * committed is in the database, and no transfer is half applied.
 */
class NothingLostIT {

  static final int TOGGLES = 50;

  @Test
  void onMariaDb() throws Exception {
    try (MariaDbServer db = MariaDbServer.start()) {
      run(db.url("mariadb"), "root", "", "test", db.port());
    }
  }

  @Test
  void onPostgreSql() throws Exception {
    try (PostgresServer db = PostgresServer.start()) {
      int port = Integer.parseInt(db.jdbcUrl().replaceAll("^.*:(\\d+)/.*$", "$1"));
      run(db.jdbcUrl(), db.user(), db.password(), "postgres", port);
    }
  }

  private static void run(String url, String user, String password, String schema, int port)
      throws Exception {
    String node = "/sluice/states/datanodes/" + schema + "/127.0.0.1_" + port;
    try (ZooKeeperFixture zk = new ZooKeeperFixture();
        AppProcess app =
            AppProcess.poolApp("hikari", url, user, password)
                .agentArgs(InstanceCutOffIT.registryArgsFor(zk))
                .jmx()
                .start()) {
      assertTrue(app.send("bank-setup 20 1000").ok);
      Await.until(
          "datanode created",
          Duration.ofSeconds(10),
          () -> DatasourceCutOffIT.getFrom(zk, node) != null);
      MBeanServerConnection jmx = app.jmx();
      ObjectName bean =
          new ObjectName("sluice:type=DataSource,schema=" + schema + ",name=127.0.0.1_" + port);
      InstanceCutOffIT.awaitMBean(jmx, bean);
      assertTrue(app.send("bank-start 4").ok);

      for (int i = 0; i < TOGGLES; i++) {
        long acked = stats(app).get("acked");
        zk.set(node, "DISABLED");
        PoolsIT.awaitState(jmx, bean, "DISABLED");
        zk.set(node, "");
        PoolsIT.awaitState(jmx, bean, "ENABLED");
        // the workload makes progress again before the next cut-off
        Await.until(
            "transfers after re-enable",
            Duration.ofSeconds(20),
            () -> stats(app).get("acked") >= acked + 5);
      }

      Map<String, Long> stopped = parse(app.send("bank-stop", 120).text);
      assertTrue(stopped.get("failed") > 0, "the cut-offs hit transactions in flight: " + stopped);
      assertTrue((Long) jmx.getAttribute(bean, "AbortedConnections") > 0);

      Map<String, Long> check = parse(app.send("bank-check").text);
      System.out.printf(
          "nothing-lost %s: %d toggles, %s, aborted=%s, check %s%n",
          schema, TOGGLES, stopped, jmx.getAttribute(bean, "AbortedConnections"), check);
      assertEquals(check.get("expected"), check.get("total"), "no money made or lost: " + check);
      assertEquals(
          0, check.get("missing"), "every acknowledged commit is in the database: " + check);
      assertEquals(0, check.get("inconsistent"), "no transfer half applied: " + check);
      assertTrue(check.get("ledger") >= check.get("acked"), check::toString);
      assertTrue(check.get("acked") >= TOGGLES * 5, check::toString);
    }
  }

  private static Map<String, Long> stats(AppProcess app) {
    try {
      return parse(app.send("bank-stats").text);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** {@code a=1 b=2} into a map. */
  private static Map<String, Long> parse(String text) {
    Map<String, Long> out = new HashMap<>();
    for (String pair : text.trim().split(" ")) {
      int eq = pair.indexOf('=');
      if (eq > 0) {
        out.put(pair.substring(0, eq), Long.parseLong(pair.substring(eq + 1)));
      }
    }
    return out;
  }
}
