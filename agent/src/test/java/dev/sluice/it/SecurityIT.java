package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.registry.TlsZooKeeper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.openmbean.CompositeData;
import javax.management.openmbean.TabularData;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With ZooKeeper digest authentication configured the way the README recommends (a file named by
 * {@code SLUICE_REGISTRY_AUTH_FILE}), the nodes the agent creates can be written by the operator's
 * account and not by an unauthenticated client, and the secret shows nowhere: not on the command
 * line, not in the log, not in any attribute of any MBean of the application's JVM (the {@code
 * Runtime} MBean's {@code InputArguments} and {@code SystemProperties} included), not in an
 * exception message. Over {@code zookeeper+tls://} the agent jar, with its relocated ZooKeeper and
 * Netty, connects to ZooKeeper's TLS port and obeys it.
 */
class SecurityIT {

  /** A password with what a command line or a key=value list would trip over. */
  static final String SECRET = "Zk-s3cr3t," + Long.toHexString(System.nanoTime()) + "=\"q' x";

  @TempDir Path dir;

  /** The recommended way: a file readable by its owner only, named in the environment. */
  private Path authFile(String account) throws Exception {
    Path file = dir.resolve("sluice-auth");
    Files.writeString(file, account + "\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    return file;
  }

  @Test
  void aclsGuardTheNodesAndTheSecretShowsNowhere() throws Exception {
    String account = "sluice:" + SECRET;
    try (ZooKeeperFixture zk = new ZooKeeperFixture();
        H2TcpServer h2 = new H2TcpServer();
        AppProcess app =
            AppProcess.jdbcApp(h2.url("secure"))
                .agentArgs(InstanceCutOffIT.registryArgsFor(zk))
                .env("SLUICE_REGISTRY_AUTH_FILE", authFile(account).toString())
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
      Path cmdline = Path.of("/proc/" + app.pid() + "/cmdline");
      if (Files.isReadable(cmdline)) { // what ps shows
        String line = new String(Files.readAllBytes(cmdline), StandardCharsets.UTF_8);
        assertTrue(line.contains("-javaagent:"), line);
        assertFalse(line.contains(SECRET), line);
      }
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

  @Test
  void overTlsTheAgentJarRegistersAndObeys() throws Exception {
    String account = "sluice:" + SECRET;
    try (TlsZooKeeper zk = new TlsZooKeeper();
        H2TcpServer h2 = new H2TcpServer();
        AppProcess app =
            AppProcess.jdbcApp(h2.url("tls"))
                .agentArgs(
                    "registry=zookeeper+tls://"
                        + zk.secureConnectString()
                        + ",registry.tls-ca-file="
                        + zk.caFile()
                        + ",registry.session-timeout-ms=4000")
                .env("SLUICE_REGISTRY_AUTH_FILE", authFile(account).toString())
                .start();
        ZooKeeper operator = ZooKeeperFixture.connect(zk.plainConnectString())) {
      operator.addAuthInfo("digest", account.getBytes(StandardCharsets.UTF_8));
      String parent = InstanceCutOffIT.INSTANCES;
      String child =
          Await.until(
              "the instance node, registered over TLS",
              Duration.ofSeconds(30),
              () -> {
                try {
                  return operator.getChildren(parent, false).stream()
                      .filter(c -> c.contains("@" + app.pid() + "@"))
                      .findFirst()
                      .orElse(null);
                } catch (KeeperException.NoNodeException e) {
                  return null;
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              },
              c -> c != null);
      String node = parent + "/" + child;
      assertEquals(
          "digest", operator.getACL(node, null).get(0).getId().getScheme(), "the agent's account");
      assertTrue(app.send("connect").ok);
      // The CLI over TLS too, authenticating from the same file (its path is no secret).
      String[] tls = {
        "registry=zookeeper+tls://" + zk.secureConnectString(),
        "registry.tls-ca-file=" + zk.caFile(),
        "registry.auth-file=" + dir.resolve("sluice-auth")
      };
      String[] disable = CliIT.cli("disable", child, tls[0], tls[1], tls[2]);
      assertEquals("0", disable[0], disable[1]);
      InstanceCutOffIT.awaitRefused(app, "connect");
      String[] enable = CliIT.cli("enable", child, tls[0], tls[1], tls[2]);
      assertEquals("0", enable[0], enable[1]);
      InstanceCutOffIT.awaitAllowed(app, "connect");
      assertFalse(disable[1].contains(SECRET) || enable[1].contains(SECRET));
      assertEquals(0, app.exit());
      assertTrue(
          app.output().contains("(TLS, trusting the CAs of " + zk.caFile() + ")"), app.output());
      assertFalse(app.output().contains(SECRET), app.output());
    }
  }

  /**
   * Reads every attribute of every MBean of the application's JVM: the agent's, the JVM's own
   * ({@code java.lang:type=Runtime} with its {@code InputArguments} and {@code SystemProperties}),
   * and any other. An attribute that cannot be read is skipped.
   */
  static void assertNoSecretInJmx(MBeanServerConnection jmx, String secret) throws Exception {
    int read = 0;
    boolean inputArguments = false;
    boolean systemProperties = false;
    for (ObjectName name : jmx.queryNames(null, null)) {
      for (MBeanAttributeInfo info : jmx.getMBeanInfo(name).getAttributes()) {
        Object value;
        try {
          value = jmx.getAttribute(name, info.getName());
        } catch (Exception unreadable) {
          continue; // unsupported by this JVM, or not available now
        }
        String text = deepToString(value);
        assertFalse(text.contains(secret), name + " " + info.getName() + " = " + text);
        read++;
        if (name.toString().equals("java.lang:type=Runtime")) {
          inputArguments |= info.getName().equals("InputArguments");
          systemProperties |= info.getName().equals("SystemProperties");
        }
      }
    }
    assertTrue(inputArguments && systemProperties, "the Runtime MBean's arguments were read");
    assertTrue(read > 100, "every MBean's attributes were read: " + read);
  }

  private static String deepToString(Object value) {
    if (value instanceof Object[]) {
      return Arrays.deepToString((Object[]) value);
    }
    if (value instanceof CompositeData) {
      CompositeData c = (CompositeData) value;
      StringBuilder out = new StringBuilder();
      for (String key : c.getCompositeType().keySet()) {
        out.append(key).append('=').append(deepToString(c.get(key))).append(' ');
      }
      return out.toString();
    }
    if (value instanceof TabularData) {
      StringBuilder out = new StringBuilder();
      for (Object row : ((TabularData) value).values()) {
        out.append(deepToString(row)).append('\n');
      }
      return out.toString();
    }
    return String.valueOf(value);
  }
}
