package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
}
