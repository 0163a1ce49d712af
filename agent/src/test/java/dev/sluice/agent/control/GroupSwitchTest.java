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
  void noRoutingWithoutGroupsOrRegistryOrForSourcesNotRead() {
    assertNull(routing("registry=zookeeper://zk:2181"));
    assertNull(routing("groups.a.address=a:1"));
    GroupRouting r =
        routing(
            "registry=zookeeper://zk:2181,groups.a.address=a:1,groups.p.address=p:1,"
                + "groups.p.primary=patroni:pg,groups.r.read-address=r:1");
    assertEquals(2, r.groups().size());
    assertNull(r.group("p"), "patroni is not read yet");
    assertEquals("r:1", r.group("r").readAddress());
  }

  @Test
  void valuesAreAppliedBlankIsNoPrimaryAndGarbageLeavesTheRoute() {
    AgentConfig config =
        AgentConfig.load("registry=zookeeper://zk:2181,groups.a.address=a:1", Map.of(), Map.of());
    GroupRouting r =
        GroupSwitch.routing(config, config.layout().paths(config.namespace(), config.app()));
    Governor governor =
        new Governor(
            0, 0, new DatasourceCatalog(List.of(), n -> "/" + n, n -> "/" + n), (x, y) -> {});
    try {
      governor.routing(r);
      GroupSwitch groups = new GroupSwitch(governor, new Faults(LoggerFactory.getLogger("test")));
      String key = r.group("a").key();
      groups.primaryValue("a", key, " M1:3306 ", 3);
      assertEquals("m1:3306", r.group("a").primary());
      assertEquals(3, r.group("a").revision());
      groups.primaryValue("a", key, "m1", 4);
      assertEquals("m1:3306", r.group("a").primary(), "an unparseable value changes nothing");
      groups.primaryValue("a", key, "[::2]:3306", 5);
      assertEquals("[::2]:3306", r.group("a").primary());
      groups.primaryValue("a", key, " ", 6);
      assertNull(r.group("a").primary());
      groups.primaryValue("a", key, "m2:3306", 8);
      groups.primaryValue("a", key, "m3:3306", 7);
      assertEquals("m2:3306", r.group("a").primary(), "an older revision is ignored");
      groups.primaryValue("a", key, null, 9);
      assertNull(r.group("a").primary(), "a deleted key: no primary known");
    } finally {
      governor.close();
    }
  }
}
