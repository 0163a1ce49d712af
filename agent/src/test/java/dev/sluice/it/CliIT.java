package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.registry.etcd.EtcdCluster;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@code java -jar sluice-agent.jar status|disable|enable} against a running instance. */
class CliIT {

  static String[] cli(String... args) throws Exception {
    List<String> cmd =
        new ArrayList<>(List.of(AppProcess.java(), "-jar", AppProcess.agentJar().toString()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    return new String[] {String.valueOf(p.exitValue()), out};
  }

  @Test
  void statusDisableAndEnable() throws Exception {
    try (ZooKeeperFixture zk = new ZooKeeperFixture();
        H2TcpServer h2 = new H2TcpServer();
        AppProcess app =
            AppProcess.jdbcApp(h2.url("cli"))
                .agentArgs(InstanceCutOffIT.registryArgsFor(zk))
                .start()) {
      String id = zk.awaitChild(InstanceCutOffIT.INSTANCES, "@" + app.pid() + "@");
      String registry = "registry=zookeeper://" + zk.connectString();

      String[] status = cli("status", registry);
      assertEquals("0", status[0], status[1]);
      assertTrue(status[1].contains(id + "  ENABLED"), status[1]);

      String[] disable = cli("disable", id, registry);
      assertEquals("0", disable[0], disable[1]);
      InstanceCutOffIT.awaitRefused(app, "connect");
      assertTrue(cli("status", registry)[1].contains(id + "  DISABLED"));

      assertEquals("0", cli("enable", id, registry)[0]);
      InstanceCutOffIT.awaitAllowed(app, "connect");

      String[] unknown = cli("disable", "10.0.0.1@1@nope", registry);
      assertEquals("1", unknown[0], unknown[1]);
      assertTrue(
          unknown[1].contains("no instance node /sluice/states/proxynodes/10.0.0.1@1@nope"),
          unknown[1]);

      String[] bad = cli("status", "registry=zk:2181");
      assertEquals("2", bad[0], bad[1]);
      assertTrue(bad[1].contains("invalid registry='zk:2181'"), bad[1]);
    }
  }

  /** {@code recovery status|disable|enable}: the global recovery switch, followed by every JVM. */
  @Test
  void theRecoverySwitch() throws Exception {
    try (ZooKeeperFixture zk = new ZooKeeperFixture();
        AppProcess app =
            AppProcess.jdbcApp("jdbc:h2:mem:cli")
                .agentArgs(InstanceCutOffIT.registryArgsFor(zk))
                .jmx()
                .start()) {
      String registry = "registry=zookeeper://" + zk.connectString();
      String[] status = cli("recovery", registry);
      assertEquals("0", status[0], status[1]);
      assertTrue(
          status[1].contains("/sluice/control/recovery = (absent): automatic recovery ENABLED"),
          status[1]);

      String[] off = cli("recovery", "disable", registry);
      assertEquals("0", off[0], off[1]);
      assertEquals("DISABLED", zk.get("/sluice/control/recovery"));
      awaitRecoveryEnabled(app, false);
      String[] now = cli("recovery", "status", registry);
      assertTrue(now[1].contains("= 'DISABLED': automatic recovery DISABLED"), now[1]);

      assertEquals("0", cli("recovery", "enable", registry)[0]);
      awaitRecoveryEnabled(app, true);

      String[] bad = cli("recovery", "sideways", registry);
      assertEquals("2", bad[0], bad[1]);
      assertTrue(bad[1].contains("recovery takes status, disable, enable or ack"), bad[1]);

      // ack: the leader's record of its last action on a datasource is marked acknowledged
      String[] none = cli("recovery", "ack", "shop/db2_3306", registry);
      assertEquals("1", none[0], none[1]);
      assertTrue(none[1].contains("no automatic action is recorded"), none[1]);
      String record = "/sluice/control/actions/shop/db2_3306";
      zk.create(
          record,
          "{\"action\":\"disable\",\"reason\":\"DOWN\",\"at\":\"2026-11-28T10:00:00Z\","
              + "\"leader\":\"x\"}");
      String[] ack = cli("recovery", "ack", "shop/db2_3306", registry);
      assertEquals("0", ack[0], ack[1]);
      String acked = zk.get(record);
      assertTrue(acked.startsWith("{\"action\":\"disable\",\"reason\":\"DOWN\""), acked);
      assertTrue(acked.matches(".*\"acknowledged\":\"20\\d\\d-.*Z\"}"), acked);
      String[] usage = cli("recovery", "ack", "no-slash", registry);
      assertEquals("2", usage[0], usage[1]);
    }
  }

  private static void awaitRecoveryEnabled(AppProcess app, boolean enabled) {
    Await.until(
        "Recovery Enabled=" + enabled,
        java.time.Duration.ofSeconds(10),
        () -> {
          try {
            return enabled == (Boolean) app.jmx().getAttribute(FleetLeaderIT.RECOVERY, "Enabled");
          } catch (Exception e) {
            return false;
          }
        });
  }

  @Test
  void statusDisableAndEnableOverEtcdWithTlsAndAuthentication() throws Exception {
    try (EtcdCluster etcd = EtcdCluster.start(1, true);
        H2TcpServer h2 = new H2TcpServer()) {
      String root = etcd.enableAuth("sluice:agent-pw", "/sluice/");
      String tls = "registry.tls-ca-file=" + etcd.caFile();
      try (AppProcess app =
          AppProcess.jdbcApp(h2.url("cli"))
              .agentArgs(
                  "registry=etcd+https://"
                      + etcd.endpoints()
                      + ","
                      + tls
                      + ",registry.auth=sluice:agent-pw")
              .start()) {
        Etcdctl etcdctl = new Etcdctl(etcd, root);
        String key = EtcdIT.instanceKey(etcdctl, app);
        String id = key.substring(EtcdIT.INSTANCES.length());
        String lease = etcdctl.lease(key);
        String registry = "registry=etcd+https://" + etcd.endpoints();
        String auth = "registry.auth=" + root;

        String[] status = cli("status", registry, tls, auth);
        assertEquals("0", status[0], status[1]);
        assertTrue(status[1].contains(id + "  ENABLED"), status[1]);
        assertFalse(status[1].contains("INFO: "), "gRPC's own logging stays quiet: " + status[1]);

        String[] disable = cli("disable", id, registry, tls, auth);
        assertEquals("0", disable[0], disable[1]);
        InstanceCutOffIT.awaitRefused(app, "connect");
        assertEquals(lease, etcdctl.lease(key), "the key keeps its lease");
        assertTrue(cli("status", registry, tls, auth)[1].contains(id + "  DISABLED"));

        assertEquals("0", cli("enable", id, registry, tls, auth)[0]);
        InstanceCutOffIT.awaitAllowed(app, "connect");

        String[] recovery = cli("recovery", "disable", registry, tls, auth);
        assertEquals("0", recovery[0], recovery[1]);
        assertEquals("DISABLED", etcdctl.get("/sluice/control/recovery"));
        assertTrue(cli("recovery", registry, tls, auth)[1].contains("automatic recovery DISABLED"));
        assertEquals("0", cli("recovery", "enable", registry, tls, auth)[0]);

        String[] anonymous = cli("disable", id, registry, tls);
        assertEquals("1", anonymous[0], anonymous[1]);
        assertTrue(app.send("connect").ok, "an anonymous operator changes nothing");
      }
    }
  }
}
