package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * A Spring Boot fat jar ({@code java -jar}, classes in nested jars under Boot's own class loader,
 * HikariCP configured by Boot, queries through {@code JdbcTemplate}) is governed exactly like the
 * plain apps: the instance switch and the datasource switch both cut it off and let it back.
 */
class SpringBootIT extends WithZooKeeperAndH2 {

  @Test
  void aFatJarIsGovernedLikeAnyApp() throws Exception {
    String url = h2.url("boot");
    String datanode = DatasourceCutOffIT.datanode(url, "boot");
    try (AppProcess app =
        AppProcess.springBootApp(url).agentArgs(InstanceCutOffIT.registryArgsFor(zk)).start()) {
      String node = InstanceCutOffIT.instanceNode(zk, app);
      AppProcess.Reply first = app.send("connect");
      assertTrue(first.ok, first + "\n" + app.output());
      assertEquals("com.zaxxer.hikari.HikariDataSource", app.send("pool").text);
      assertTrue(
          app.send("loader").text.contains("springframework.boot.loader"),
          "the pool lives in Boot's nested-jar class loader");

      assertBothSwitchesWork(app, node, datanode);
    }
  }
}
