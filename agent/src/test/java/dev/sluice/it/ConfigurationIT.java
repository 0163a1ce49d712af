package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every configuration source, read by a real JVM; a bad value never stops the application. */
class ConfigurationIT {

  @Test
  void eachSourceIsReadAndABadValueIsOneLine(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("sluice.properties");
    Files.writeString(file, "namespace=from-file\n");
    try (ZooKeeperFixture zk = new ZooKeeperFixture();
        H2TcpServer h2 = new H2TcpServer();
        AppProcess app =
            AppProcess.jdbcApp(h2.url("cfg"))
                .env("SLUICE_REGISTRY", "zookeeper://" + zk.connectString())
                .sysProp("sluice.config", file.toString())
                .sysProp("sluice.layout", "legacy")
                .agentArgs("app=billing,cutoff.grace-ms=-5")
                .start()) {
      // registry from the environment, namespace from the file, layout from a system property,
      // app from the agent arguments
      String parent = "/from-file/billing/state/instances";
      String id = zk.awaitChild(parent, "@-@" + app.pid());
      assertTrue(app.send("connect").ok, "the app works despite the bad value");

      List<String> errors =
          app.agentLog().stream().filter(l -> l.contains(" ERROR ")).collect(Collectors.toList());
      assertEquals(1, errors.size(), errors::toString);
      assertTrue(
          errors
              .get(0)
              .endsWith(
                  "configuration: invalid cutoff.grace-ms='-5' (agent argument cutoff.grace-ms): expected a"
                      + " whole number of milliseconds from 0 to 3600000; using the default 0"),
          errors.get(0));

      zk.set(parent + "/" + id, "DISABLED");
      InstanceCutOffIT.awaitRefused(app, "connect");
    }
  }
}
