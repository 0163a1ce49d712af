package dev.sluice.agent.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GroupConfigTest {

  @Test
  void noGroupsByDefaultAndTheSourceDefaults() {
    AgentConfig c = AgentConfig.load("", Map.of(), Map.of());
    assertTrue(c.groups().isEmpty());
    assertEquals("mysql/master", c.orchestratorKvPrefix());
    assertEquals("service", c.patroniNamespace());
    assertTrue(c.problems().isEmpty(), c.problems()::toString);
  }

  @Test
  void everySettingOfAGroup() {
    AgentConfig c =
        AgentConfig.load(
            "groups.orders.address=DB-Orders:3306,groups.orders.read-address=db-orders-ro:3306,"
                + "groups.orders.primary=orchestrator:orders-cluster,"
                + "groups.orders.replicas=r1:3306,[::1]:3307,"
                + "groups.orders.read-fallback=refuse,groups.orders.failover-wait-ms=2500,"
                + "orchestrator.kv-prefix=/kv/master/",
            Map.of(),
            Map.of());
    assertTrue(c.problems().isEmpty(), c.problems()::toString);
    GroupConfig g = c.groups().get("orders");
    assertEquals("orders", g.name());
    assertEquals("db-orders:3306", g.address());
    assertEquals("db-orders-ro:3306", g.readAddress());
    assertEquals(GroupConfig.PrimarySource.ORCHESTRATOR, g.source());
    assertEquals("orders-cluster", g.sourceName());
    assertEquals(List.of("r1:3306", "[::1]:3307"), g.replicas());
    assertEquals(GroupConfig.ReadFallback.REFUSE, g.readFallback());
    assertEquals(2500, g.failoverWaitMs());
    assertEquals("kv/master", c.orchestratorKvPrefix());
  }

  @Test
  void defaultsOfAGroupAndOtherSources() {
    AgentConfig c =
        AgentConfig.load(
            "",
            Map.of(
                "sluice.groups.a.address",
                "[2001:DB8::1]:5432",
                "sluice.groups.b.address",
                "b:1",
                "sluice.groups.b.primary",
                "patroni:pg-b",
                "sluice.patroni.namespace",
                "/pg/"),
            Map.of());
    assertTrue(c.problems().isEmpty(), c.problems()::toString);
    GroupConfig a = c.groups().get("a");
    assertEquals("[2001:db8::1]:5432", a.address());
    assertNull(a.readAddress());
    assertEquals(GroupConfig.PrimarySource.NODE, a.source());
    assertNull(a.sourceName());
    assertEquals(GroupConfig.ReadFallback.PRIMARY, a.readFallback());
    assertEquals(10000, a.failoverWaitMs());
    assertTrue(a.replicas().isEmpty());
    assertEquals(GroupConfig.PrimarySource.PATRONI, c.groups().get("b").source());
    assertEquals("pg", c.patroniNamespace());
  }

  @Test
  void badValuesAreOneLineEachNamingKeyValueAndWhatIsAccepted() {
    AgentConfig c =
        AgentConfig.load(
            "groups.g.address=nohostport,groups.g.read-address=ro:1,groups.g.primary=zookeeper,"
                + "groups.g.read-fallback=maybe,groups.g.failover-wait-ms=-1,"
                + "groups.g.replicas=r1:1,bad,groups.h.address=x:99999,groups.g.colour=red,"
                + "groups.i.address=ro:1,orchestrator.kv-prefix=a b",
            Map.of(),
            Map.of());
    List<String> problems = c.problems();
    assertContains(
        problems,
        "invalid groups.g.address='nohostport' (agent argument groups.g.address): expected host:port");
    assertContains(
        problems,
        "invalid groups.g.primary='zookeeper' (agent argument groups.g.primary): expected node, orchestrator:<alias> or patroni:<scope>");
    assertContains(
        problems,
        "invalid groups.g.read-fallback='maybe' (agent argument groups.g.read-fallback): expected primary or refuse; using the default primary");
    assertContains(
        problems,
        "invalid groups.g.failover-wait-ms='-1' (agent argument groups.g.failover-wait-ms): expected a whole number of milliseconds from 0 to 600000; using the default 10000");
    assertContains(problems, "invalid groups.g.replicas='r1:1,bad'");
    assertContains(
        problems,
        "group 'h' has no usable groups.h.address or groups.h.read-address; the group is ignored");
    assertContains(problems, "invalid key 'groups.g.colour' (agent argument groups.g.colour)");
    assertContains(
        problems,
        "invalid groups.i.address='ro:1' (agent argument groups.i.address): expected an address no other group setting uses (groups.g.read-address does)");
    assertContains(problems, "invalid orchestrator.kv-prefix='a b'");
    for (String p : problems) {
      assertTrue(!p.contains("\n"), p);
    }
    GroupConfig g = c.groups().get("g");
    assertNull(g.address());
    assertEquals("ro:1", g.readAddress());
    assertEquals(GroupConfig.PrimarySource.NODE, g.source());
    assertEquals(GroupConfig.ReadFallback.PRIMARY, g.readFallback());
    assertEquals(10000, g.failoverWaitMs());
    assertEquals(List.of("r1:1"), g.replicas());
    assertNull(c.groups().get("h"));
    assertNull(c.groups().get("i"));
    assertEquals("mysql/master", c.orchestratorKvPrefix());
  }

  private static void assertContains(List<String> problems, String start) {
    assertTrue(
        problems.stream().anyMatch(p -> p.startsWith(start)),
        () -> "no problem starts with: " + start + "\nproblems: " + problems);
  }
}
