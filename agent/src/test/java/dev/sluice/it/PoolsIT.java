package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every pool fails fast while its endpoint is cut off and works again at once after re-enable,
 * handing out live connections only: including Tomcat JDBC and c3p0, which do not validate on
 * borrow, on H2, whose error for a closed connection is no SQLState 08.
 */
class PoolsIT extends WithZooKeeperAndH2 {

  static void awaitState(MBeanServerConnection jmx, ObjectName bean, String state) {
    Await.until(
        bean + " " + state,
        Duration.ofSeconds(10),
        () -> {
          try {
            return state.equals(jmx.getAttribute(bean, "State"));
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
  }

  @ParameterizedTest
  @ValueSource(strings = {"hikari", "dbcp2", "tomcat", "c3p0"})
  void borrowFailsFastAndRecoversWithLiveConnections(String pool) throws Exception {
    String url = h2.url("pool_" + pool);
    String node = DatasourceCutOffIT.datanode(url, "pool_" + pool);
    try (AppProcess app =
        AppProcess.poolApp(pool, url)
            .agentArgs(InstanceCutOffIT.registryArgsFor(zk))
            .jmx()
            .start()) {
      assertTrue(app.send("borrow").ok);
      Await.until(
          "datanode created",
          Duration.ofSeconds(10),
          () -> DatasourceCutOffIT.getFrom(zk, node) != null);
      MBeanServerConnection jmx = app.jmx();
      ObjectName bean =
          new ObjectName(
              "sluice:type=DataSource,schema=pool_"
                  + pool
                  + ",name="
                  + node.substring(node.lastIndexOf('/') + 1));
      InstanceCutOffIT.awaitMBean(jmx, bean);
      for (int round = 0; round < 3; round++) {
        // the pool holds recently used connections when the cut-off lands
        assertTrue(app.send("hold a").ok);
        assertTrue(app.send("hold b").ok);
        assertTrue(app.send("close a").ok);
        assertTrue(app.send("close b").ok);

        zk.set(node, "DISABLED");
        awaitState(jmx, bean, "DISABLED");
        AppProcess.Reply refused = app.send("borrow");
        DatasourceCutOffIT.assertDatasourceRefusal(refused, node);
        assertTrue(
            refused.ms < 1000, pool + ": at once, not after the pool's 10 s wait: " + refused);

        // Once the agent has applied the re-enable (seen over JMX, not by borrowing), every
        // borrow must get a live connection: none the agent aborted.
        zk.set(node, "");
        long enabled = System.nanoTime();
        awaitState(jmx, bean, "ENABLED");
        for (int i = 0; i < 4; i++) {
          AppProcess.Reply borrow = app.send("borrow");
          assertTrue(borrow.ok, pool + ", round " + round + ", borrow " + i + ": " + borrow);
        }
        long ms = (System.nanoTime() - enabled) / 1_000_000;
        assertTrue(ms < 1000, pool + ": works again within a second: " + ms + " ms");
      }
    }
  }

  @Test
  void aPoolBorrowedFromBeforeItsUrlIsSetIsRefusedAtOnceByThatUrl() throws Exception {
    String url = h2.url("pool_late");
    String node = DatasourceCutOffIT.datanode(url, "pool_late");
    zk.create(node, "DISABLED"); // disabled before the pool's first borrow
    try (AppProcess app =
        AppProcess.poolApp("dbcp2-late", url)
            .agentArgs(InstanceCutOffIT.registryArgsFor(zk))
            .start()) {
      AppProcess.Reply refused = app.send("borrow");
      DatasourceCutOffIT.assertDatasourceRefusal(refused, node);
      assertTrue(refused.ms < 1000, "at once, not after the pool's 10 s wait: " + refused);

      zk.set(node, "");
      InstanceCutOffIT.awaitAllowed(app, "borrow");
      zk.set(node, "DISABLED");
      DatasourceCutOffIT.assertDatasourceRefusal(
          InstanceCutOffIT.awaitRefused(app, "borrow"), node);
    } finally {
      zk.delete(node);
    }
  }
}
