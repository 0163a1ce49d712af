package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

/**
 * No connection the agent aborted is handed out by a pool after access is restored. HikariCP skips
 * its liveness check for a connection used in the last 500 ms, and H2's error for a closed
 * connection is no SQLState 08, so without the agent's help the first borrows after a quick
 * re-enable would get the aborted connections.
 */
class PoolRecoveryIT {

  @Test
  void theFirstBorrowsAfterReEnableGetLiveConnections() throws Exception {
    try (ZooKeeperFixture zk = new ZooKeeperFixture();
        H2TcpServer h2 = new H2TcpServer();
        AppProcess app =
            AppProcess.hikariApp(h2.url("pool"))
                .agentArgs(InstanceCutOffIT.registryArgsFor(zk))
                .jmx()
                .start()) {
      MBeanServerConnection jmx = app.jmx();
      ObjectName instance = new ObjectName("sluice:type=Instance");
      InstanceCutOffIT.awaitMBean(jmx, instance);
      InstanceCutOffIT.instanceNode(zk, app);
      for (int round = 0; round < 3; round++) {
        // fill the pool with recently used connections
        assertTrue(app.send("hold a").ok);
        assertTrue(app.send("hold b").ok);
        assertTrue(app.send("close a").ok);
        assertTrue(app.send("close b").ok);

        jmx.invoke(instance, "disable", null, null);
        AppProcess.Reply refused = app.send("borrow");
        assertEquals(
            "java.sql.SQLTransientConnectionException", refused.exception(), refused::toString);

        jmx.invoke(instance, "enable", null, null); // returns once applied
        for (int i = 0; i < 4; i++) {
          AppProcess.Reply borrow = app.send("borrow");
          assertTrue(borrow.ok, "round " + round + ", borrow " + i + ": " + borrow);
        }
      }
    }
  }
}
