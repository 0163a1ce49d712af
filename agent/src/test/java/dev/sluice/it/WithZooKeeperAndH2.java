package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** A ZooKeeper server and an H2 server shared by the tests of one class. */
abstract class WithZooKeeperAndH2 {

  static ZooKeeperFixture zk;
  static H2TcpServer h2;

  @BeforeAll
  static void startServers() throws Exception {
    zk = new ZooKeeperFixture();
    h2 = new H2TcpServer();
  }

  @AfterAll
  static void stopServers() throws Exception {
    h2.close();
    zk.close();
  }

  /**
   * The instance switch and then the datasource switch of {@code datanode} cut {@code app} off and
   * let it back, its {@code connect} refused with SQLState 08004 while off; then the app exits
   * normally.
   */
  static void assertBothSwitchesWork(AppProcess app, String node, String datanode)
      throws Exception {
    zk.set(node, "DISABLED");
    AppProcess.Reply refused = InstanceCutOffIT.awaitRefused(app, "connect");
    assertEquals("08004", refused.sqlState(), refused::toString);
    assertTrue(refused.ms < 1000, "refused at once, not after the pool's wait: " + refused);
    zk.set(node, "");
    InstanceCutOffIT.awaitAllowed(app, "connect");

    zk.set(datanode, "DISABLED");
    AppProcess.Reply refusedByDatanode = InstanceCutOffIT.awaitRefused(app, "connect");
    DatasourceCutOffIT.assertDatasourceRefusal(refusedByDatanode, datanode);
    assertTrue(
        refusedByDatanode.ms < 1000,
        "refused at once, not after the pool's wait: " + refusedByDatanode);
    zk.set(datanode, "");
    InstanceCutOffIT.awaitAllowed(app, "connect");
    assertEquals(0, app.exit());
  }
}
