package dev.sluice.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's ZooKeeper client over TLS, against a real server's TLS port: it connects with the CA
 * of a PEM file, a digest account authenticates through it, and without TLS, or without trusting
 * the server's CA, there is no session.
 */
class ZooKeeperTlsTest {

  private static final RegistryPaths PATHS = RegistryLayout.V5.paths("tls", "app");
  private static final String INSTANCE = PATHS.instancesRoot() + "/10.0.0.1@1@tls";
  private static final String ACCOUNT = "sluice:tls-s3cret";

  private static TlsZooKeeper zk;

  @BeforeAll
  static void start() throws Exception {
    zk = new TlsZooKeeper();
  }

  @AfterAll
  static void stop() throws Exception {
    if (zk != null) {
      zk.close();
    }
  }

  @Test
  void aDigestAccountRegistersOverTlsTrustingThePemCa() throws Exception {
    Connections heard = new Connections();
    try (ZooKeeperRegistry registry =
        new ZooKeeperRegistry(
            new ZooKeeperRegistry.Settings(
                zk.secureConnectString(),
                5000,
                10_000,
                ACCOUNT,
                ZooKeeperTransport.tls(zk.caFile())),
            PATHS,
            INSTANCE)) {
      registry.start(heard);
      assertTrue(heard.connected.await(20, TimeUnit.SECONDS), "connected over TLS");
      assertTrue(registry.awaitInitialSync(10_000));
      try (CuratorFramework operator = operator(zk.plainConnectString())) {
        Poll.until(
            "the instance node",
            Duration.ofSeconds(10),
            () -> Poll.unchecked(() -> operator.checkExists().forPath(INSTANCE) != null));
        assertEquals(
            "digest",
            operator.getACL().forPath(INSTANCE).get(0).getId().getScheme(),
            "created by the digest account");
      }
    }
  }

  @Test
  void withoutTlsOrWithoutTrustingTheServerThereIsNoSession() throws Exception {
    for (ZooKeeperTransport transport :
        new ZooKeeperTransport[] {ZooKeeperTransport.plain(), ZooKeeperTransport.tls(null)}) {
      Connections heard = new Connections();
      try (ZooKeeperRegistry registry =
          new ZooKeeperRegistry(
              new ZooKeeperRegistry.Settings(
                  zk.secureConnectString(), 1000, 10_000, ACCOUNT, transport),
              PATHS,
              INSTANCE + "-" + transport.isTls())) {
        registry.start(heard);
        // A session would come within a second here; five is the bound for a slow machine.
        assertFalse(heard.connected.await(5, TimeUnit.SECONDS), transport + " must not connect");
      }
    }
  }

  @Test
  void aCaFileWithoutCertificatesIsRefusedAtOnce(@TempDir Path dir) throws Exception {
    Path empty = Files.writeString(dir.resolve("ca.pem"), "not a certificate\n");
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> ZooKeeperTransport.tls(empty.toString()));
    assertTrue(e.getMessage().contains(empty.toString()), e.getMessage());
  }

  private static CuratorFramework operator(String connectString) throws Exception {
    CuratorFramework c =
        CuratorFrameworkFactory.builder()
            .connectString(connectString)
            .retryPolicy(new RetryOneTime(100))
            .authorization("digest", ACCOUNT.getBytes(java.nio.charset.StandardCharsets.UTF_8))
            .build();
    c.start();
    assertTrue(c.blockUntilConnected(10, TimeUnit.SECONDS));
    return c;
  }

  private static final class Connections implements RegistryListener {
    final CountDownLatch connected = new CountDownLatch(1);

    @Override
    public void instanceValue(String value) {}

    @Override
    public void datasourceValue(String path, String value) {}

    @Override
    public void connection(boolean up) {
      if (up) {
        connected.countDown();
      }
    }
  }
}
