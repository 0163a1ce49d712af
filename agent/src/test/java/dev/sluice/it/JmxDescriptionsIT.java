package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.management.AttributeChangeNotification;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanInfo;
import javax.management.MBeanNotificationInfo;
import javax.management.MBeanOperationInfo;
import javax.management.MBeanParameterInfo;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

/**
 * The MXBeans explain themselves as JConsole and VisualVM show them: read over a remote JMX
 * connection, every bean, attribute, operation, parameter and notification has a description of its
 * own (not its name, not the JDK's default), operations are of impact ACTION and say what they did,
 * no constructor is shown, and a DataSource bean's EffectiveState counts the instance switch.
 */
class JmxDescriptionsIT {

  private static final Set<String> JDK_DEFAULTS =
      Set.of(
          "Information on the management interface of the MBean",
          "Attribute exposed for management",
          "Operation exposed for management",
          "");

  @Test
  void everyBeanExplainsItself() throws Exception {
    try (ZooKeeperFixture zk = new ZooKeeperFixture();
        H2TcpServer h2 = new H2TcpServer();
        AppProcess app =
            AppProcess.jdbcApp(h2.url("jmx"))
                .agentArgs(
                    InstanceCutOffIT.registryArgsFor(zk)
                        + ",groups.orders.address=orders.invalid:3306")
                .jmx()
                .start()) {
      assertTrue(app.send("open held").ok);
      MBeanServerConnection jmx = app.jmx();
      ObjectName instance = new ObjectName("sluice:type=Instance");
      InstanceCutOffIT.awaitMBean(jmx, instance);
      ObjectName datasource =
          new ObjectName(
              "sluice:type=DataSource,schema=jmx,name=127.0.0.1_" + h2.hostPort().split(":")[1]);
      InstanceCutOffIT.awaitMBean(jmx, datasource);
      InstanceCutOffIT.awaitMBean(jmx, new ObjectName("sluice:type=Recovery"));

      Set<String> types = new TreeSet<>();
      for (ObjectName name : jmx.queryNames(new ObjectName("sluice:*"), null)) {
        types.add(name.getKeyProperty("type"));
        MBeanInfo info = jmx.getMBeanInfo(name);
        assertDescribed(name + " itself", info.getDescription(), name.getKeyProperty("type"));
        assertEquals(0, info.getConstructors().length, name + " shows no constructor");
        for (MBeanAttributeInfo a : info.getAttributes()) {
          assertDescribed(name + " " + a.getName(), a.getDescription(), a.getName());
        }
        for (MBeanOperationInfo op : info.getOperations()) {
          String what = name + " " + op.getName() + "()";
          assertDescribed(what, op.getDescription(), op.getName());
          assertEquals(MBeanOperationInfo.ACTION, op.getImpact(), what + " impact");
          assertEquals(String.class.getName(), op.getReturnType(), what + " says what it did");
          for (MBeanParameterInfo p : op.getSignature()) {
            assertFalse(
                p.getName().matches("p\\d+"), what + " names its parameter: " + p.getName());
            assertDescribed(what + " " + p.getName(), p.getDescription(), p.getName());
          }
        }
        for (MBeanNotificationInfo n : info.getNotifications()) {
          assertDescribed(name + " notification", n.getDescription(), n.getName());
        }
      }
      assertEquals(Set.of("DataSource", "Group", "Instance", "Recovery", "Registry"), types);
      MBeanAttributeInfo effective = attribute(jmx.getMBeanInfo(datasource), "EffectiveState");
      assertTrue(
          effective.getDescription().contains("instance switch"), effective.getDescription());

      // the instance switch cuts the datasource off: its EffectiveState says so, State does not
      List<AttributeChangeNotification> heard = new CopyOnWriteArrayList<>();
      jmx.addNotificationListener(
          datasource, (n, handback) -> heard.add((AttributeChangeNotification) n), null, null);
      assertEquals("ENABLED", jmx.getAttribute(datasource, "EffectiveState"));
      String done = (String) jmx.invoke(instance, "disable", null, null);
      assertTrue(
          done.matches(
              "DISABLED through /sluice/states/proxynodes/\\S+; 1 open connection aborted, new"
                  + " connections refused"),
          done);
      assertEquals("ENABLED", jmx.getAttribute(datasource, "State"));
      assertEquals("DISABLED", jmx.getAttribute(datasource, "EffectiveState"));
      assertEquals("instance switch", jmx.getAttribute(datasource, "CutOffBy"));
      Await.until("the EffectiveState notification", Duration.ofSeconds(5), () -> !heard.isEmpty());
      AttributeChangeNotification n = heard.get(0);
      assertEquals("EffectiveState", n.getAttributeName());
      assertEquals("ENABLED", n.getOldValue());
      assertEquals("DISABLED", n.getNewValue());
      assertEquals(datasource, n.getSource(), "the source is the bean's name");
      assertTrue(
          ((String) jmx.invoke(instance, "disable", null, null)).startsWith("already DISABLED"));

      String both = (String) jmx.invoke(datasource, "disable", null, null);
      assertTrue(both.startsWith("DISABLED through /sluice/states/datanodes/jmx/"), both);
      assertEquals("datasource node and instance switch", jmx.getAttribute(datasource, "CutOffBy"));
      String enabled = (String) jmx.invoke(datasource, "enable", null, null);
      assertTrue(enabled.endsWith("; still cut off by the instance switch"), enabled);
      assertEquals(
          "ENABLED through "
              + jmx.getAttribute(instance, "RegistryPath")
              + "; new connections allowed",
          jmx.invoke(instance, "enable", null, null));
      assertEquals("ENABLED", jmx.getAttribute(datasource, "EffectiveState"));
      assertEquals("", jmx.getAttribute(datasource, "CutOffBy"));
    }
  }

  private static MBeanAttributeInfo attribute(MBeanInfo info, String name) {
    for (MBeanAttributeInfo a : info.getAttributes()) {
      if (a.getName().equals(name)) {
        return a;
      }
    }
    throw new AssertionError("no attribute " + name);
  }

  private static void assertDescribed(String what, String description, String name) {
    assertFalse(JDK_DEFAULTS.contains(description), what + ": '" + description + "'");
    assertNotEquals(name, description, what + " is described by more than its name");
    assertTrue(description.length() > 12, what + ": '" + description + "'");
  }
}
