package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.registry.etcd.EtcdCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kill switch and the traffic switch over etcd, end to end: an unmodified plain-JDBC app with
 * {@code registry=etcd://...}, governed by an operator with the real {@code etcdctl}, running
 * exactly the commands the README shows.
 */
class EtcdIT {

  static final String INSTANCES = "/sluice/states/proxynodes/";

  static H2TcpServer h2;

  @BeforeAll
  static void start() throws Exception {
    h2 = new H2TcpServer();
  }

  @AfterAll
  static void stop() throws Exception {
    h2.close();
  }

  static String instanceKey(Etcdctl etcdctl, AppProcess app) {
    return Await.until(
        "the instance key of pid " + app.pid(),
        Duration.ofSeconds(20),
        () -> {
          try {
            return etcdctl.keys(INSTANCES).stream()
                .filter(k -> k.contains("@" + app.pid() + "@"))
                .findFirst()
                .orElse(null);
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        },
        k -> k != null);
  }

  static String value(Etcdctl etcdctl, String key) {
    try {
      return etcdctl.get(key);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void etcdctlCutsTheInstanceAndADatasourceOffAndBack() throws Exception {
    try (EtcdCluster etcd = EtcdCluster.single()) {
      Etcdctl etcdctl = new Etcdctl(etcd, null);
      String url = h2.url("orders");
      String datanode = DatasourceCutOffIT.datanode(url, "orders");
      try (AppProcess app =
          AppProcess.jdbcApp(url)
              .agentArgs(
                  "registry=etcd://" + etcd.endpoints() + ",registry.session-timeout-ms=4000")
              .start()) {
        assertTrue(app.send("connect").ok);
        String key = instanceKey(etcdctl, app);
        String id = key.substring(INSTANCES.length());
        assertEquals("", value(etcdctl, key));
        assertNotEquals("0", etcdctl.lease(key), "the instance key is bound to a lease");

        // README: etcdctl put <instance key> DISABLED
        etcdctl.run("put", key, "DISABLED");
        InstanceCutOffIT.assertRefusal(InstanceCutOffIT.awaitRefused(app, "connect"), id, key);
        // the plain put detached the key from its lease; the agent re-attaches it, keeping DISABLED
        Await.until(
            "re-attached to a lease",
            Duration.ofSeconds(10),
            () -> {
              try {
                return !etcdctl.lease(key).equals("0");
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
        assertEquals("DISABLED", value(etcdctl, key));
        // README: etcdctl put --ignore-lease <instance key> ""
        etcdctl.run("put", "--ignore-lease", key, "");
        InstanceCutOffIT.awaitAllowed(app, "connect");

        // README: etcdctl put <datasource key> DISABLED / etcdctl del <datasource key>
        Await.until(
            "datasource key created",
            Duration.ofSeconds(10),
            () -> "".equals(value(etcdctl, datanode)));
        assertEquals("0", etcdctl.lease(datanode), "datasource keys carry no lease");
        etcdctl.run("put", datanode, "DISABLED");
        DatasourceCutOffIT.assertDatasourceRefusal(
            InstanceCutOffIT.awaitRefused(app, "connect"), datanode);
        etcdctl.run("del", datanode);
        InstanceCutOffIT.awaitAllowed(app, "connect");

        // A lost lease: the key comes back under the same id with the last known value.
        etcdctl.run("put", "--ignore-lease", key, "DISABLED");
        InstanceCutOffIT.awaitRefused(app, "connect");
        String lease = etcdctl.lease(key);
        etcdctl.run("lease", "revoke", lease);
        Await.until(
            "re-created on a new lease with the last value",
            Duration.ofSeconds(10),
            () -> {
              try {
                String now = etcdctl.lease(key);
                return !now.equals("0")
                    && !now.equals(lease)
                    && "DISABLED".equals(etcdctl.get(key));
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
        InstanceCutOffIT.assertRefusal(app.send("connect"), id, key);
        etcdctl.run("put", "--ignore-lease", key, "");
        InstanceCutOffIT.awaitAllowed(app, "connect");

        assertEquals(0, app.exit());
        assertFalse(etcdctl.keys(INSTANCES).contains(key), "the key goes with the JVM");
      }
    }
  }

  @Test
  void anEtcdThatIsDownNeverStopsTheAppAndIsUsedOnceItIsUp() throws Exception {
    try (EtcdCluster etcd = EtcdCluster.unstarted(1)) {
      String url = h2.url("late");
      try (AppProcess app =
          AppProcess.jdbcApp(url)
              .agentArgs("registry=etcd://" + etcd.endpoints() + ",registry.initial-sync-ms=1500")
              .start()) {
        InstanceCutOffIT.assertOnlyTheFirstConnectWaits(app, 1500);
        Await.until(
            "the agent saying why it is not connected (after registry.connect-timeout-ms)",
            Duration.ofSeconds(15),
            () -> app.agentLog().stream().anyMatch(l -> l.contains("no lease from etcd://")));

        etcd.startAll();
        Etcdctl etcdctl = new Etcdctl(etcd, null);
        String key = instanceKey(etcdctl, app);
        String datanode = DatasourceCutOffIT.datanode(url, "late");
        Await.until(
            "the datasource met before etcd was up is registered",
            Duration.ofSeconds(20),
            () -> "".equals(value(etcdctl, datanode)));
        etcdctl.run("put", datanode, "DISABLED");
        DatasourceCutOffIT.assertDatasourceRefusal(
            InstanceCutOffIT.awaitRefused(app, "connect"), datanode);
        etcdctl.run("put", datanode, "");
        etcdctl.run("put", key, "DISABLED");
        InstanceCutOffIT.awaitRefused(app, "connect");
      }
    }
  }

  @Test
  void tlsAndAuthenticationWorkAndTheSecretIsNeverShown() throws Exception {
    try (EtcdCluster etcd = EtcdCluster.start(1, true)) {
      String secret = "pw-" + Long.toHexString(System.nanoTime());
      String root = etcd.enableAuth("sluice:" + secret, "/sluice/");
      Etcdctl etcdctl = new Etcdctl(etcd, root);
      try (AppProcess app =
          AppProcess.jdbcApp(h2.url("orders"))
              .agentArgs(
                  "registry=etcd+https://"
                      + etcd.endpoints()
                      + ",registry.tls-ca-file="
                      + etcd.caFile())
              // off the command line, where the Runtime MBean would show it (README)
              .env("SLUICE_REGISTRY_AUTH", "sluice:" + secret)
              .jmx()
              .start()) {
        String key = instanceKey(etcdctl, app);
        etcdctl.run("put", key, "DISABLED");
        InstanceCutOffIT.awaitRefused(app, "connect");
        etcdctl.run("put", key, "");
        InstanceCutOffIT.awaitAllowed(app, "connect");
        Etcdctl anonymous = new Etcdctl(etcd, null);
        assertThrows(IllegalStateException.class, () -> anonymous.run("put", key, "DISABLED"));
        assertTrue(app.send("connect").ok);
        SecurityIT.assertNoSecretInJmx(app.jmx(), secret);
        assertEquals(0, app.exit());
        assertFalse(app.output().contains(secret), "the secret never shows:\n" + app.output());
      }
    }
  }

  @Test
  void theEtcdClientIsInvisibleToAnAppWithItsOwnLibraries(@TempDir Path dir) throws Exception {
    Path appLog = dir.resolve("app.log");
    try (EtcdCluster etcd = EtcdCluster.single();
        AppProcess app =
            AppProcess.bundledLibsApp()
                .agentArgs("registry=etcd://" + etcd.endpoints())
                .sysProp("app.log.file", appLog.toString())
                .start()) {
      Etcdctl etcdctl = new Etcdctl(etcd, null);
      String key = instanceKey(etcdctl, app);
      AppProcess.Reply libs = app.send("libs");
      assertTrue(libs.text.contains("guava=guava-32.1.3-jre.jar"), libs::toString);
      assertTrue(
          libs.text.contains("loggerFactory=ch.qos.logback.classic.LoggerContext"), libs::toString);
      for (String name :
          List.of(
              "dev.sluice.registry.etcd.EtcdRegistry",
              "dev.sluice.shaded.etcd.jetcd.Client",
              "dev.sluice.shaded.grpc.ManagedChannel",
              "dev.sluice.shaded.vertx.core.Vertx",
              "dev.sluice.shaded.netty.channel.MultiThreadIoEventLoopGroup",
              "dev.sluice.shaded.google.protobuf.Message",
              "io.grpc.ManagedChannel",
              "io.vertx.core.Vertx")) {
        assertEquals("absent " + name, app.send("class " + name).text);
      }
      String url = h2.url("isolated");
      assertTrue(app.send("connect " + url).ok);
      etcdctl.run("put", key, "DISABLED");
      InstanceCutOffIT.awaitRefused(app, "connect " + url);
      etcdctl.run("put", key, "");
      InstanceCutOffIT.awaitAllowed(app, "connect " + url);
      assertEquals(0, app.exit());
      String log = Files.readString(appLog);
      assertFalse(log.contains("sluice") || log.contains("grpc") || log.contains("vertx"), log);
      assertFalse(app.output().contains("SLF4J"), "no SLF4J binding warnings: " + app.output());
      assertFalse(
          app.output().contains("TcpMetrics") || app.output().contains("INFO: "),
          "gRPC's java.util.logging output stays in the agent: " + app.output());
    }
  }

  @Test
  void aZooKeeperUserDoesNotLoadTheEtcdClient() throws Exception {
    try (ZooKeeperFixture zk = new ZooKeeperFixture();
        AppProcess app =
            AppProcess.jdbcApp(h2.url("orders"))
                .agentArgs(InstanceCutOffIT.registryArgsFor(zk))
                .jvmArg("-Xlog:class+load=info:stdout")
                .start()) {
      assertTrue(app.send("connect").ok);
      InstanceCutOffIT.instanceNode(zk, app);
      String out = app.output();
      assertTrue(out.contains("dev.sluice.shaded.curator"), "class loading is logged");
      for (String etcdOnly :
          List.of(
              "dev.sluice.registry.etcd",
              "dev.sluice.shaded.etcd",
              "dev.sluice.shaded.grpc",
              "dev.sluice.shaded.vertx",
              "dev.sluice.shaded.google.protobuf")) {
        assertFalse(out.contains(etcdOnly), etcdOnly + " was loaded");
      }
    }
  }
}
