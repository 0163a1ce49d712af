package dev.sluice.agent.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.sluice.agent.config.AgentConfig;
import dev.sluice.agent.governance.DatasourceCatalog;
import dev.sluice.agent.governance.Governor;
import dev.sluice.agent.governance.GroupRouting;
import dev.sluice.registry.Faults;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class GroupSwitchTest {

  private static GroupRouting routing(String args) {
    AgentConfig config = AgentConfig.load(args, Map.of(), Map.of());
    return GroupSwitch.routing(config, config.layout().paths(config.namespace(), config.app()));
  }

  @Test
  void theKeysPrimariesAreReadFrom() {
    GroupRouting zk =
        routing(
            "registry=zookeeper://zk:2181,namespace=prod,groups.a.address=a:1,"
                + "groups.b.address=b:1,groups.b.primary=orchestrator:cluster-b");
    assertEquals("/prod/states/groups/a/primary", zk.group("a").key());
    assertEquals("/mysql/master/cluster-b", zk.group("b").key());

    GroupRouting etcd =
        routing(
            "registry=etcd://e:2379,layout=legacy,app=shop,groups.a.address=a:1,"
                + "groups.b.address=b:1,groups.b.primary=orchestrator:cluster-b,"
                + "orchestrator.kv-prefix=/kv/");
    assertEquals("/sluice/shop/state/groups/a/primary", etcd.group("a").key());
    assertEquals("kv/cluster-b", etcd.group("b").key(), "etcd keys have no leading /");
  }

  @Test
  void noRoutingWithoutGroupsOrRegistry() {
    assertNull(routing("registry=zookeeper://zk:2181"));
    assertNull(routing("groups.a.address=a:1"));
    GroupRouting r =
        routing(
            "registry=zookeeper://zk:2181,groups.a.address=a:1,groups.p.address=p:1,"
                + "groups.p.primary=patroni:pg,groups.p.replicas=x:1,groups.r.read-address=r:1");
    assertEquals(3, r.groups().size());
    assertEquals("/service/pg/leader", r.group("p").key());
    assertEquals(List.of(), r.group("p").replicas(), "Patroni's member records name them");
    assertEquals("r:1", r.group("r").readAddress());
    GroupRouting etcd =
        routing(
            "registry=etcd://e:2379,groups.p.address=p:1,groups.p.primary=patroni:pg,"
                + "patroni.namespace=/db/");
    assertEquals("/db/pg/leader", etcd.group("p").key(), "Patroni's etcd keys start with /");
  }

  @Test
  void valuesAreAppliedAndBlankOrGarbageIsNoPrimary() {
    AgentConfig config =
        AgentConfig.load("registry=zookeeper://zk:2181,groups.a.address=a:1", Map.of(), Map.of());
    GroupRouting r =
        GroupSwitch.routing(config, config.layout().paths(config.namespace(), config.app()));
    Governor governor =
        new Governor(
            0, 0, new DatasourceCatalog(List.of(), n -> "/" + n, n -> "/" + n), (x, y) -> {});
    try {
      governor.routing(r);
      GroupSwitch groups =
          new GroupSwitch(governor, new Faults(LoggerFactory.getLogger("test")), config);
      String key = r.group("a").key();
      groups.primaryValue("a", key, " M1:3306 ", 3);
      assertEquals("m1:3306", r.group("a").primary());
      assertEquals(3, r.group("a").revision());
      groups.primaryValue("a", key, "m1", 4);
      assertNull(r.group("a").primary(), "an unparseable value: no primary known");
      assertEquals(key + " holds 'm1', not host:port", r.group("a").absence());
      groups.primaryValue("a", key, "[::2]:3306", 5);
      assertEquals("[::2]:3306", r.group("a").primary());
      groups.primaryValue("a", key, " ", 6);
      assertNull(r.group("a").primary());
      assertEquals(key + " is missing or empty", r.group("a").absence());
      groups.primaryValue("a", key, "m2:3306", 8);
      groups.primaryValue("a", key, "m3:3306", 7);
      assertEquals("m2:3306", r.group("a").primary(), "an older revision is ignored");
      groups.primaryValue("a", key, null, 9);
      assertNull(r.group("a").primary(), "a deleted key: no primary known");
    } finally {
      governor.close();
    }
  }

  @Test
  void theGroupBeanAnnouncesPrimaryChangesAndSetsOnlyNodeGroups() throws Exception {
    AgentConfig config =
        AgentConfig.load(
            "registry=zookeeper://zk:2181,groups.a.address=a:1,"
                + "groups.o.address=o:1,groups.o.primary=orchestrator:c1",
            Map.of(),
            Map.of());
    GroupRouting r =
        GroupSwitch.routing(config, config.layout().paths(config.namespace(), config.app()));
    Governor governor =
        new Governor(
            0, 0, new DatasourceCatalog(List.of(), n -> "/" + n, n -> "/" + n), (x, y) -> {});
    try {
      governor.routing(r);
      GroupSwitch groups =
          new GroupSwitch(governor, new Faults(LoggerFactory.getLogger("test")), config);
      javax.management.MBeanServer server = javax.management.MBeanServerFactory.newMBeanServer();
      groups.registerBeans(new Beans(server), "sluice", r);
      javax.management.ObjectName name =
          new javax.management.ObjectName("sluice:type=Group,name=a");
      List<javax.management.AttributeChangeNotification> heard =
          new java.util.concurrent.CopyOnWriteArrayList<>();
      server.addNotificationListener(
          name, (n, h) -> heard.add((javax.management.AttributeChangeNotification) n), null, null);
      String key = r.group("a").key();
      groups.primaryValue("a", key, "m1:3306", 1);
      groups.primaryValue("a", key, "m1:3306", 2); // the same primary: nothing to announce
      groups.primaryValue("a", key, "m2:3306", 3);
      groups.primaryValue("a", key, "", 4);
      assertEquals(3, heard.size(), heard.toString());
      assertEquals("", heard.get(0).getOldValue());
      assertEquals("m1:3306", heard.get(0).getNewValue());
      assertEquals("m1:3306", heard.get(1).getOldValue());
      assertEquals("m2:3306", heard.get(1).getNewValue());
      assertEquals("", heard.get(2).getNewValue());
      assertEquals("Primary", heard.get(2).getAttributeName());

      IllegalStateException notNode =
          org.junit.jupiter.api.Assertions.assertThrows(
              IllegalStateException.class, () -> groups.setPrimaryOf("o", "m3:3306"));
      assertEquals(
          "group o takes its primary from /mysql/master/c1 (groups.o.primary=orchestrator:c1);"
              + " setPrimary writes only groups with primary=node",
          notNode.getMessage());
      IllegalArgumentException garbage =
          org.junit.jupiter.api.Assertions.assertThrows(
              IllegalArgumentException.class, () -> groups.setPrimaryOf("a", "m3"));
      org.junit.jupiter.api.Assertions.assertTrue(
          garbage.getMessage().startsWith("setPrimary(m3) of group a: "), garbage.getMessage());
    } finally {
      governor.close();
    }
  }
}
