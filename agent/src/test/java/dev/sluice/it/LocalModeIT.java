package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

/** With no registry configured the same JMX operations work on the state in memory. */
class LocalModeIT {

  @Test
  void jmxDisablesAndEnablesInMemory() throws Exception {
    try (H2TcpServer h2 = new H2TcpServer();
        AppProcess app = AppProcess.jdbcApp(h2.url("local")).jmx().start()) {
      MBeanServerConnection jmx = app.jmx();
      ObjectName instance = new ObjectName("sluice:type=Instance");
      InstanceCutOffIT.awaitMBean(jmx, instance);
      assertEquals("LOCAL", jmx.getAttribute(instance, "Mode"));
      assertEquals(false, jmx.getAttribute(instance, "RegistryConnected"));
      assertTrue(jmx.queryNames(new ObjectName("sluice:type=Registry"), null).isEmpty());
      String id = (String) jmx.getAttribute(instance, "Id");
      assertTrue(id.contains("@" + app.pid() + "@"), id);
      // the path the node would have: the same JVM with a registry would be switched there
      assertEquals("/sluice/states/proxynodes/" + id, jmx.getAttribute(instance, "RegistryPath"));

      assertTrue(app.send("open held").ok);
      String done = (String) jmx.invoke(instance, "disable", null, null);
      assertEquals(
          "DISABLED in this JVM (local mode); 1 open connection aborted, new connections refused",
          done);
      AppProcess.Reply refused = app.send("connect");
      InstanceCutOffIT.assertRefusal(refused, id, "local mode; JMX sluice:type=Instance");
      InstanceCutOffIT.awaitFailure(app, "query held SELECT 1");

      jmx.invoke(instance, "enable", null, null);
      assertTrue(app.send("connect").ok);
      assertEquals("ENABLED", jmx.getAttribute(instance, "State"));
    }
  }

  @Test
  void withoutRemoteJmxTheBeansAreThereForAToolThatAttachesAfterStartUp() throws Exception {
    try (H2TcpServer h2 = new H2TcpServer();
        AppProcess app = AppProcess.jdbcApp(h2.url("quiet")).start()) {
      assertTrue(app.send("connect").ok);
      // what JConsole and VisualVM do with a local JVM: start its management agent, then connect
      com.sun.tools.attach.VirtualMachine vm =
          com.sun.tools.attach.VirtualMachine.attach(String.valueOf(app.pid()));
      String address;
      try {
        address = vm.startLocalManagementAgent();
      } finally {
        vm.detach();
      }
      try (javax.management.remote.JMXConnector connector =
          javax.management.remote.JMXConnectorFactory.connect(
              new javax.management.remote.JMXServiceURL(address))) {
        MBeanServerConnection jmx = connector.getMBeanServerConnection();
        ObjectName instance = new ObjectName("sluice:type=Instance");
        // registered once the application's class loading is quiet, at the latest 5 s after start
        InstanceCutOffIT.awaitMBean(jmx, instance);
        assertEquals("LOCAL", jmx.getAttribute(instance, "Mode"));
        assertEquals(
            1,
            jmx.queryNames(new ObjectName("sluice:type=DataSource,*"), null).size(),
            "the datasource met before the beans were registered has its bean too");
      }
    }
  }
}
