package dev.sluice.jmx;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import javax.management.MBeanFeatureInfo;
import javax.management.MBeanInfo;
import javax.management.MBeanServer;
import javax.management.MBeanServerFactory;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

/**
 * What operators and their tools see of the MXBeans: the object names, attributes and operations
 * are a contract (SPEC), whatever the Java classes behind them are called.
 */
class MXBeanNamesTest {

  private final MBeanServer server = MBeanServerFactory.newMBeanServer();

  @Test
  void dataSource() throws Exception {
    ObjectName name = new ObjectName(DataSource.objectName("sluice", "orders", "primary"));
    assertEquals("sluice:type=DataSource,schema=orders,name=primary", name.toString());
    server.registerMBean(new DataSource(new StubDatasource()), name);
    MBeanInfo info = server.getMBeanInfo(name);
    assertEquals(
        Set.of(
            "Schema",
            "Name",
            "Endpoint",
            "State",
            "Disabled",
            "EffectiveState",
            "CutOffBy",
            "OpenConnections",
            "RefusedConnections",
            "AbortedConnections",
            "RegistryPath"),
        names(info.getAttributes()));
    assertEquals(Set.of("disable", "enable"), names(info.getOperations()));
    assertEquals("ENABLED", server.getAttribute(name, "State"));
    assertEquals("DISABLED", server.getAttribute(name, "EffectiveState"));
    assertEquals("DISABLED", server.invoke(name, "disable", new Object[0], new String[0]));
  }

  @Test
  void group() throws Exception {
    ObjectName name = new ObjectName(Group.objectName("sluice", "orders"));
    assertEquals("sluice:type=Group,name=orders", name.toString());
    java.util.List<String> set = new java.util.ArrayList<>();
    Group bean =
        new Group(
            new GroupControl() {
              @Override
              public String setPrimary(String hostPort) {
                if (hostPort.isEmpty()) {
                  throw new IllegalArgumentException("not host:port");
                }
                set.add(hostPort);
                return "primary " + hostPort;
              }

              @Override
              public String address() {
                return "db:3306";
              }

              @Override
              public String readAddress() {
                return null;
              }

              @Override
              public String primary() {
                return null;
              }

              @Override
              public String primarySource() {
                return "/mysql/master/orders";
              }

              @Override
              public long primaryRevision() {
                return -1;
              }

              @Override
              public String[] replicas() {
                return new String[] {"r1:3306 ENABLED"};
              }

              @Override
              public long failovers() {
                return 0;
              }

              @Override
              public String lastFailover() {
                return null;
              }

              @Override
              public int openConnections() {
                return 0;
              }
            });
    server.registerMBean(bean, name);
    MBeanInfo info = server.getMBeanInfo(name);
    assertEquals(
        Set.of(
            "Address",
            "ReadAddress",
            "Primary",
            "PrimarySource",
            "PrimaryRevision",
            "Replicas",
            "Failovers",
            "LastFailover",
            "OpenConnections"),
        names(info.getAttributes()));
    assertEquals("", server.getAttribute(name, "Primary"), "empty while unknown");
    assertEquals("", server.getAttribute(name, "ReadAddress"));
    assertEquals("", server.getAttribute(name, "LastFailover"));
    assertEquals(Set.of("setPrimary"), names(info.getOperations()));
    assertEquals(
        "primary db2:3306",
        server.invoke(
            name, "setPrimary", new Object[] {"db2:3306"}, new String[] {"java.lang.String"}));
    assertEquals(java.util.List.of("db2:3306"), set);
    javax.management.RuntimeMBeanException bad =
        org.junit.jupiter.api.Assertions.assertThrows(
            javax.management.RuntimeMBeanException.class,
            () ->
                server.invoke(
                    name, "setPrimary", new Object[] {""}, new String[] {"java.lang.String"}));
    assertEquals("not host:port", bad.getTargetException().getMessage());
    for (javax.management.MBeanAttributeInfo a : info.getAttributes()) {
      assertEquals(false, a.isWritable(), a.getName() + " is read-only");
    }

    java.util.List<javax.management.AttributeChangeNotification> heard =
        new java.util.ArrayList<>();
    server.addNotificationListener(
        name,
        (n, handback) -> heard.add((javax.management.AttributeChangeNotification) n),
        null,
        null);
    bean.primaryChanged(null, "db2:3306");
    assertEquals(1, heard.size());
    assertEquals("Primary", heard.get(0).getAttributeName());
    assertEquals("", heard.get(0).getOldValue());
    assertEquals("db2:3306", heard.get(0).getNewValue());
    assertEquals(1, info.getNotifications().length);
  }

  private static Set<String> names(MBeanFeatureInfo[] features) {
    return Arrays.stream(features)
        .map(MBeanFeatureInfo::getName)
        .collect(Collectors.toCollection(TreeSet::new));
  }

  private static final class StubDatasource implements DatasourceControl {
    @Override
    public String schema() {
      return "orders";
    }

    @Override
    public String name() {
      return "primary";
    }

    @Override
    public String endpoint() {
      return "db:5432/orders";
    }

    @Override
    public boolean disabled() {
      return false;
    }

    @Override
    public int openConnections() {
      return 0;
    }

    @Override
    public long refusedConnections() {
      return 0;
    }

    @Override
    public long abortedConnections() {
      return 0;
    }

    @Override
    public String registryPath() {
      return "";
    }

    @Override
    public String setDisabled(boolean disabled) {
      return disabled ? "DISABLED" : "ENABLED";
    }

    @Override
    public String cutOffBy() {
      return "instance switch";
    }
  }
}
