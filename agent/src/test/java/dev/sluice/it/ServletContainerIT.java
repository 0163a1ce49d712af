package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * A servlet container (Tomcat) with a web application whose JDBC driver sits in its own {@code
 * WEB-INF/lib}, loaded by Tomcat's web application class loader, is governed exactly like the plain
 * apps: the instance switch and the datasource switch cut it off and let it back.
 */
class ServletContainerIT extends WithZooKeeperAndH2 {

  @Test
  void aWebApplicationIsGovernedLikeAnyApp() throws Exception {
    String url = h2.url("webapp");
    String datanode = DatasourceCutOffIT.datanode(url, "webapp");
    try (AppProcess app =
        AppProcess.servletApp(url).agentArgs(InstanceCutOffIT.registryArgsFor(zk)).start()) {
      String node = InstanceCutOffIT.instanceNode(zk, app);
      AppProcess.Reply first = app.send("connect");
      assertTrue(first.ok, first + "\n" + app.output());
      assertTrue(
          first.text.contains("org.apache.catalina.loader.ParallelWebappClassLoader"),
          "the driver comes from the web application's class loader: " + first);

      assertBothSwitchesWork(app, node, datanode);
    }
  }
}
