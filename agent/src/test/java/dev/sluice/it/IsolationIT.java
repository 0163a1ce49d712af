package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An application that bundles its own, different versions of Curator, ZooKeeper, Guava and SLF4J
 * with Logback runs unaffected by the agent's copies, with its logging configuration untouched, and
 * is governed all the same.
 */
class IsolationIT {

  @Test
  void theAppsOwnLibrariesAndLoggingAreUntouched(@TempDir Path dir) throws Exception {
    Path appLog = dir.resolve("app.log");
    try (ZooKeeperFixture zk = new ZooKeeperFixture();
        H2TcpServer h2 = new H2TcpServer();
        AppProcess app =
            AppProcess.bundledLibsApp()
                .agentArgs(InstanceCutOffIT.registryArgsFor(zk))
                .sysProp("app.log.file", appLog.toString())
                .start()) {
      String path = InstanceCutOffIT.instanceNode(zk, app);

      AppProcess.Reply libs = app.send("libs");
      assertTrue(libs.ok, libs::toString);
      assertTrue(libs.text.contains("zookeeper=zookeeper-3.7.2.jar"), libs::toString);
      assertTrue(libs.text.contains("curator=curator-framework-5.5.0.jar"), libs::toString);
      assertTrue(libs.text.contains("guava=guava-32.1.3-jre.jar"), libs::toString);
      assertTrue(libs.text.contains("slf4j=slf4j-api-1.7.36.jar"), libs::toString);
      assertTrue(
          libs.text.contains("loggerFactory=ch.qos.logback.classic.LoggerContext"), libs::toString);
      assertTrue(libs.text.contains("zookeeperVersion=3.7.2"), libs::toString);

      // the app's own ZooKeeper client works next to the agent's
      assertEquals("zk hello", app.send("zk " + zk.connectString()).text);
      assertTrue(app.send("connect " + h2.url("isolated")).ok);

      // none of the agent's classes but the bootstrap bridge is visible to the app
      for (String name :
          List.of(
              "dev.sluice.agent.SluiceAgent",
              "dev.sluice.registry.ZooKeeperRegistry",
              "dev.sluice.shaded.curator.framework.CuratorFramework",
              "dev.sluice.shaded.slf4j.LoggerFactory",
              "dev.sluice.shaded.bytebuddy.ByteBuddy")) {
        assertEquals("absent " + name, app.send("class " + name).text);
      }

      zk.set(path, "DISABLED");
      InstanceCutOffIT.awaitRefused(app, "connect " + h2.url("isolated"));
      zk.set(path, "");
      InstanceCutOffIT.awaitAllowed(app, "connect " + h2.url("isolated"));
      assertEquals(0, app.exit());

      String log = Files.readString(appLog);
      assertTrue(
          log.contains("BUNDLED-APP INFO BundledLibsApp - wrote and read /bundled-app/check-"),
          log);
      assertTrue(log.contains("BUNDLED-APP INFO BundledLibsApp - connected to"), log);
      assertFalse(log.contains("sluice"), "the agent writes nothing into the app's log: " + log);
      assertFalse(app.output().contains("SLF4J"), "no SLF4J binding warnings: " + app.output());
    }
  }
}
