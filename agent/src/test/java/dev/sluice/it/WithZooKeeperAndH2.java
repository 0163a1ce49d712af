package dev.sluice.it;

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
}
