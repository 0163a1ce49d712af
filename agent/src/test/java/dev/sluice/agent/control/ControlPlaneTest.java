package dev.sluice.agent.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.config.AgentConfig;
import dev.sluice.agent.governance.DatasourceCatalog;
import dev.sluice.agent.governance.Governor;
import dev.sluice.registry.RegistryPaths;
import java.lang.management.ManagementFactory;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.management.MBeanServer;
import javax.management.MBeanServerDelegate;
import javax.management.MBeanServerNotification;
import javax.management.NotificationListener;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

/** The control plane in local mode, as the agent's start thread sets it up. */
class ControlPlaneTest {

  private static final String DOMAIN = "sluice-control-test";

  /**
   * A datasource met on the application's connecting thread gets its MXBean on the agent's own
   * thread: the platform MBean server announces a registration on the registering thread.
   */
  @Test
  void datasourceMetOnTheConnectingThreadIsRegisteredOnTheAgentsThread() throws Exception {
    MBeanServer server = ManagementFactory.getPlatformMBeanServer();
    ObjectName wanted =
        new ObjectName(DOMAIN + ":type=DataSource,schema=orders,name=db.example_5432");
    BlockingQueue<String> registeredOn = new ArrayBlockingQueue<>(1);
    NotificationListener listener =
        (n, handback) -> {
          if (n instanceof MBeanServerNotification
              && MBeanServerNotification.REGISTRATION_NOTIFICATION.equals(n.getType())
              && wanted.equals(((MBeanServerNotification) n).getMBeanName())) {
            registeredOn.offer(Thread.currentThread().getName());
          }
        };
    server.addNotificationListener(MBeanServerDelegate.DELEGATE_NAME, listener, null, null);
    AgentConfig config = AgentConfig.load("jmx.domain=" + DOMAIN, Map.of(), Map.of());
    RegistryPaths paths = config.layout().paths(config.namespace(), config.app());
    ControlPlane plane = new ControlPlane();
    DatasourceCatalog catalog = ControlPlane.catalog(config, paths);
    Governor governor = new Governor(0, 0, catalog, plane::changed);
    try {
      plane.start(config, paths, governor, catalog);
      catalog.forUrl("jdbc:postgresql://db.example:5432/orders");
      String thread = registeredOn.poll(10, TimeUnit.SECONDS);
      assertEquals(
          "sluice-control",
          thread,
          "the thread that registered "
              + wanted
              + "; registered: "
              + server.queryNames(new ObjectName(DOMAIN + ":*"), null));
      assertTrue(server.isRegistered(wanted));
    } finally {
      server.removeNotificationListener(MBeanServerDelegate.DELEGATE_NAME, listener);
      governor.close();
      for (ObjectName n : server.queryNames(new ObjectName(DOMAIN + ":*"), null)) {
        server.unregisterMBean(n);
      }
    }
  }
}
