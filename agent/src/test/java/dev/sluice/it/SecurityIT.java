package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import javax.management.Attribute;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;

/**
 * With ZooKeeper digest authentication configured, the nodes the agent creates can be written by
 * the operator's account and not by an unauthenticated client, and the secret shows nowhere: not in
 * the log, not in a JMX attribute, not in an exception message.
 */
class SecurityIT {

  static final String SECRET = "Zk-s3cr3t-" + Long.toHexString(System.nanoTime());

  @Test
  void aclsGuardTheNodesAndTheSecretShowsNowhere() throws Exception {
    String account = "sluice:" + SECRET;
    try (ZooKeeperFixture zk = new ZooKeeperFixture();
        H2TcpServer h2 = new H2TcpServer();
        AppProcess app =
            AppProcess.jdbcApp(h2.url("secure"))
                .agentArgs(InstanceCutOffIT.registryArgsFor(zk) + ",registry.auth=" + account)
                .jmx()
                .start()) {
      zk.addDigestAuth(account);
      String node = InstanceCutOffIT.instanceNode(zk, app);
      assertTrue(app.send("connect").ok);
      String datanode = DatasourceCutOffIT.datanode(h2.url("secure"), "secure");
      Await.until(
          "datasource node",
          Duration.ofSeconds(10),
          () -> {
            try {
              return "".equals(zk.get(datanode));
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          });

      try (ZooKeeper anonymous = ZooKeeperFixture.connect(zk.connectString())) {
        for (String path : new String[] {node, datanode}) {
          assertThrows(
              KeeperException.NoAuthException.class,
              () -> anonymous.setData(path, "DISABLED".getBytes(StandardCharsets.UTF_8), -1),
              path);
          assertThrows(KeeperException.NoAuthException.class, () -> anonymous.delete(path, -1));
        }
      }
      assertTrue(app.send("connect").ok, "the anonymous client changed nothing");

      zk.set(node, "DISABLED"); // the operator's account may
      AppProcess.Reply refused = InstanceCutOffIT.awaitRefused(app, "connect");
      assertFalse(refused.text.contains(SECRET), refused::toString);
      zk.set(node, "");
      InstanceCutOffIT.awaitAllowed(app, "connect");

      assertNoSecretInJmx(app.jmx(), SECRET);
      zk.stop(); // a JMX write-through now fails with a message naming the registry problem
      Exception failed =
          assertThrows(
              Exception.class,
              () ->
                  app.jmx().invoke(new ObjectName("sluice:type=Instance"), "disable", null, null));
      assertFalse(InstanceCutOffIT.rootMessage(failed).contains(SECRET), failed.toString());
      assertEquals(0, app.exit());
      assertFalse(app.output().contains(SECRET), "the secret never shows:\n" + app.output());
    }
  }

  /** Reads every attribute of every MBean in the agent's domain. */
  static void assertNoSecretInJmx(MBeanServerConnection jmx, String secret) throws Exception {
    int read = 0;
    for (ObjectName name : jmx.queryNames(new ObjectName("sluice:*"), null)) {
      for (MBeanAttributeInfo info : jmx.getMBeanInfo(name).getAttributes()) {
        for (Object a : jmx.getAttributes(name, new String[] {info.getName()}).asList()) {
          String value = String.valueOf(((Attribute) a).getValue());
          assertFalse(value.contains(secret), name + " " + info.getName() + " = " + value);
          read++;
        }
      }
    }
    assertTrue(read > 10, "the agent's attributes were read: " + read);
  }
}
