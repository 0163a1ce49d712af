package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.registry.etcd.EtcdCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

/**
 * The fleet leader's election (SPEC section 8) end to end, on ZooKeeper and on etcd: three
 * application JVMs with the agent ({@code recovery.candidate} left at its default, {@code true})
 * and one {@code java -jar sluice-agent.jar controller}. Exactly one of them leads at every sampled
 * moment, by every {@code sluice:type=Recovery} MXBean's {@code Leader} and by the registry's
 * account ({@code LeaderId}, read from the registry); after {@code kill -9} of the leader another
 * leads within the session timeout + 2 s. The global recovery switch, written by an operator and by
 * JMX, reaches every JVM.
 */
class FleetLeaderIT {

  static final long SESSION_TIMEOUT_MS = 4000;
  static final ObjectName RECOVERY = name("sluice:type=Recovery");

  /** Writes a registry key as an operator does (zkCli, etcdctl). */
  private interface Operator {
    void set(String key, String value) throws Exception;
  }

  @Test
  void onZooKeeper() throws Exception {
    try (ZooKeeperFixture zk = new ZooKeeperFixture()) {
      exercise(
          InstanceCutOffIT.registryArgsFor(zk),
          (key, value) -> {
            if (zk.get(key) == null) {
              zk.create(key, value);
            } else {
              zk.set(key, value);
            }
          });
    }
  }

  @Test
  void onEtcd() throws Exception {
    try (EtcdCluster etcd = EtcdCluster.single()) {
      Etcdctl etcdctl = new Etcdctl(etcd, null);
      exercise(
          "registry=etcd://"
              + etcd.endpoints()
              + ",registry.session-timeout-ms="
              + SESSION_TIMEOUT_MS,
          (key, value) -> etcdctl.run("put", key, value));
    }
  }

  private static void exercise(String registryArgs, Operator operator) throws Exception {
    Map<String, AppProcess> fleet = new LinkedHashMap<>();
    try {
      // the controller first: it is likely to lead, and then it is the one killed
      fleet.put("controller", AppProcess.controller(registryArgs.split(",")).jmx().start());
      for (int i = 1; i <= 3; i++) {
        fleet.put(
            "app" + i,
            AppProcess.jdbcApp("jdbc:h2:mem:fleet" + i).agentArgs(registryArgs).jmx().start());
      }
      for (AppProcess p : fleet.values()) {
        Await.until(
            "the Recovery MXBean",
            Duration.ofSeconds(30),
            () -> {
              try {
                return p.jmx().isRegistered(RECOVERY);
              } catch (Exception e) {
                return false;
              }
            });
      }
      String first = awaitOneLeader(fleet);
      assertOneLeaderThroughout(fleet, first, 20);

      // kill -9 the leader: another leads within the session timeout + 2 s, never two at once
      AppProcess killed = fleet.remove(first);
      long killedAt = System.nanoTime();
      killed.kill();
      String second = awaitOneLeader(fleet);
      long tookMs = (System.nanoTime() - killedAt) / 1_000_000;
      System.out.printf(
          "FleetLeaderIT %s killed (kill -9): %s leads %d ms later%n", first, second, tookMs);
      assertTrue(
          tookMs <= SESSION_TIMEOUT_MS + 2000,
          "another leads " + tookMs + " ms after the leader was killed");
      assertOneLeaderThroughout(fleet, second, 10);

      // the global recovery switch: written by an operator, and by JMX on any JVM
      String path = "/sluice/control/recovery";
      operator.set(path, "disabled ");
      awaitEnabled(fleet, false);
      List<AppProcess> jvms = new ArrayList<>(fleet.values());
      jvms.get(0).jmx().invoke(RECOVERY, "enable", null, null);
      assertEquals(true, jvms.get(0).jmx().getAttribute(RECOVERY, "Enabled"), "read back");
      awaitEnabled(fleet, true);
      jvms.get(1).jmx().invoke(RECOVERY, "disable", null, null);
      awaitEnabled(fleet, false);
      operator.set(path, "");
      awaitEnabled(fleet, true);
    } catch (AssertionError | Exception e) {
      StringBuilder out = new StringBuilder(e.getMessage() == null ? "" : e.getMessage());
      fleet.forEach((n, p) -> out.append("\n--- ").append(n).append(" ---\n").append(p.output()));
      throw new AssertionError(out.toString(), e);
    } finally {
      for (AppProcess p : fleet.values()) {
        p.close();
      }
    }
  }

  /** Waits until exactly one JVM of the fleet says it leads; its name. */
  private static String awaitOneLeader(Map<String, AppProcess> fleet) {
    return Await.until(
        "exactly one leader",
        Duration.ofSeconds(SESSION_TIMEOUT_MS / 1000 + 30),
        () -> {
          List<String> leaders = leaders(fleet);
          return leaders.size() == 1 ? leaders.get(0) : null;
        },
        l -> l != null);
  }

  /**
   * Samples the fleet {@code samples} times, 100 ms apart: each time exactly {@code leader} leads,
   * and every JVM's {@code LeaderId} (the registry's account) names {@code leader}'s participant.
   */
  private static void assertOneLeaderThroughout(
      Map<String, AppProcess> fleet, String leader, int samples) throws Exception {
    String id = (String) fleet.get(leader).jmx().getAttribute(RECOVERY, "ParticipantId");
    assertFalse(id.isEmpty(), leader + " stands in the election");
    // a JVM that has only just reached the registry may not have read the election yet
    fleet.forEach(
        (name, p) ->
            Await.until(
                name + " reading " + id + " as the leader",
                Duration.ofSeconds(10),
                () -> {
                  try {
                    return id.equals(p.jmx().getAttribute(RECOVERY, "LeaderId"));
                  } catch (Exception e) {
                    return false;
                  }
                }));
    for (int i = 0; i < samples; i++) {
      assertEquals(List.of(leader), leaders(fleet), "sample " + i);
      for (Map.Entry<String, AppProcess> e : fleet.entrySet()) {
        assertEquals(
            id,
            e.getValue().jmx().getAttribute(RECOVERY, "LeaderId"),
            "the leader as " + e.getKey() + " reads it from the registry, sample " + i);
      }
      Thread.sleep(100);
    }
  }

  private static List<String> leaders(Map<String, AppProcess> fleet) {
    List<String> leaders = new ArrayList<>();
    fleet.forEach(
        (name, p) -> {
          try {
            if ((Boolean) p.jmx().getAttribute(RECOVERY, "Leader")) {
              leaders.add(name);
            }
          } catch (Exception e) {
            throw new IllegalStateException(name + ": " + e, e);
          }
        });
    return leaders;
  }

  private static void awaitEnabled(Map<String, AppProcess> fleet, boolean enabled) {
    fleet.forEach(
        (name, p) ->
            Await.until(
                name + " Enabled=" + enabled,
                Duration.ofSeconds(10),
                () -> {
                  try {
                    return enabled == (Boolean) p.jmx().getAttribute(RECOVERY, "Enabled");
                  } catch (Exception e) {
                    return false;
                  }
                }));
  }

  private static ObjectName name(String name) {
    try {
      return new ObjectName(name);
    } catch (Exception e) {
      throw new IllegalArgumentException(e);
    }
  }
}
