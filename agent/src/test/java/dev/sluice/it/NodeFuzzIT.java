package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.registry.NodeValue;
import dev.sluice.registry.etcd.EtcdCluster;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.zookeeper.KeeperException;
import org.junit.jupiter.api.Test;

/**
 * Thousands of random and malformed values (binary, huge, unicode, white space around and inside
 * {@code DISABLED}, odd letter cases) written into an app's instance node and datasource node, with
 * unexpected nodes created around them, on ZooKeeper and on etcd. The app only ever sees a working
 * connection or the agent's own refusal; every unrecognised value is logged with its path; the
 * agent logs no error; and the final state is what the last valid values say.
 */
class NodeFuzzIT {

  static final int WRITES = 1500;

  /** What an operator can do to the registry, on either backend. */
  interface Operator {
    void put(String path, byte[] value) throws Exception;

    void delete(String path) throws Exception;
  }

  @Test
  void zooKeeperNodesFullOfGarbage() throws Exception {
    try (ZooKeeperFixture zk = new ZooKeeperFixture();
        H2TcpServer h2 = new H2TcpServer();
        AppProcess app =
            AppProcess.jdbcApp(h2.url("fuzz"))
                .agentArgs(InstanceCutOffIT.registryArgsFor(zk))
                .start()) {
      String instance = InstanceCutOffIT.instanceNode(zk, app);
      Operator operator =
          new Operator() {
            @Override
            public void put(String path, byte[] value) throws Exception {
              zk.setBytes(path, value);
            }

            @Override
            public void delete(String path) throws Exception {
              try {
                zk.delete(path);
              } catch (KeeperException.NoNodeException | KeeperException.NotEmptyException e) {
                // as zkCli would report it; the fuzz goes on
              }
            }
          };
      fuzz(app, operator, instance, DatasourceCutOffIT.datanode(h2.url("fuzz"), "fuzz"), false);
    }
  }

  @Test
  void etcdKeysFullOfGarbage() throws Exception {
    try (EtcdCluster etcd = EtcdCluster.single();
        Client client = etcd.client(null);
        H2TcpServer h2 = new H2TcpServer();
        AppProcess app =
            AppProcess.jdbcApp(h2.url("fuzz"))
                .agentArgs("registry=etcd://" + etcd.endpoints())
                .start()) {
      String instance = EtcdIT.instanceKey(new Etcdctl(etcd, null), app);
      Operator operator =
          new Operator() {
            @Override
            public void put(String path, byte[] value) throws Exception {
              client
                  .getKVClient()
                  .put(ByteSequence.from(path, StandardCharsets.UTF_8), ByteSequence.from(value))
                  .get(10, TimeUnit.SECONDS);
            }

            @Override
            public void delete(String path) throws Exception {
              client
                  .getKVClient()
                  .delete(ByteSequence.from(path, StandardCharsets.UTF_8))
                  .get(10, TimeUnit.SECONDS);
            }
          };
      fuzz(app, operator, instance, DatasourceCutOffIT.datanode(h2.url("fuzz"), "fuzz"), true);
    }
  }

  private static final List<String> NAMED =
      List.of(
          "DISABLED",
          "disabled",
          "DiSaBlEd",
          " DISABLED ",
          "\tDISABLED\n",
          "DISABLED\u2003",
          "DISABLED\u00a0",
          "\uFF24\uFF29\uFF33\uFF21\uFF22\uFF2C\uFF25\uFF24",
          "DISABLE",
          "DISABLEDD",
          "DIS ABLED",
          "ENABLED",
          " enabled ",
          "",
          "   ",
          "maintenance",
          "null",
          "\u0000",
          "DISABLED\u0000",
          "日本語のテキスト",
          "\uD83D\uDE00 DISABLED");

  private static byte[] randomValue(Random rnd) {
    switch (rnd.nextInt(6)) {
      case 0:
        byte[] binary = new byte[rnd.nextInt(64)];
        rnd.nextBytes(binary);
        return binary;
      case 1:
        char[] huge = new char[50_000 + rnd.nextInt(150_000)];
        for (int i = 0; i < huge.length; i++) {
          huge[i] = (char) (' ' + rnd.nextInt(95));
        }
        return new String(huge).getBytes(StandardCharsets.UTF_8);
      case 2:
        StringBuilder unicode = new StringBuilder();
        for (int i = rnd.nextInt(20); i > 0; i--) {
          unicode.appendCodePoint(1 + rnd.nextInt(0x2FFFF));
        }
        return unicode.toString().getBytes(StandardCharsets.UTF_8);
      default:
        return NAMED.get(rnd.nextInt(NAMED.size())).getBytes(StandardCharsets.UTF_8);
    }
  }

  /**
   * The agent's refusal, naming the node that refused: the instance node or the datasource node (a
   * refusal naming any other path, or any other exception with {@code 08004}, is not the agent's).
   */
  private static boolean refusal(AppProcess.Reply r, String instance, String datanode) {
    String id = instance.substring(instance.lastIndexOf('/') + 1);
    String name = datanode.substring(datanode.indexOf("/datanodes/") + "/datanodes/".length());
    return r.exception().equals("java.sql.SQLTransientConnectionException")
        && r.sqlState().equals("08004")
        && (r.text.endsWith("Sluice: instance " + id + " is DISABLED (" + instance + ")")
            || r.text.endsWith("Sluice: " + name + " is DISABLED (" + datanode + ")"));
  }

  /**
   * H2's SQLStates for a connection that was closed under the caller: the object is closed (90007),
   * the database is closed (90121), the connection is broken (90067).
   */
  private static final Set<String> H2_CLOSED = Set.of("90007", "90121", "90067");

  /**
   * A connect that passed the agent's check an instant before a cut-off is aborted as soon as the
   * driver returns it (README, "What the application sees"); H2 ignores {@code abort}, so the agent
   * closes it, and the app's {@code SELECT 1} fails with H2's own exception for a closed
   * connection. Any other exception, an {@code SQLException} included, fails the test.
   */
  private static boolean abortedAsTheStateFlipped(AppProcess.Reply r) {
    return r.exception().startsWith("org.h2.jdbc.") && H2_CLOSED.contains(r.sqlState());
  }

  private static void fuzz(
      AppProcess app, Operator operator, String instance, String datanode, boolean etcd)
      throws Exception {
    assertTrue(app.send("connect").ok); // meets the datasource; the agent creates its node
    String root = datanode.substring(0, datanode.indexOf("/datanodes/") + "/datanodes".length());
    String schema = datanode.substring(0, datanode.lastIndexOf('/'));
    List<String> unexpected =
        new ArrayList<>(
            List.of(
                root + "/loose",
                schema + "/" + datanode.substring(datanode.lastIndexOf('/') + 1) + "x/deeper/still",
                root + "/other-schema",
                instance + "-sibling"));
    if (etcd) {
      unexpected.add(instance + "/child"); // keys are flat: a "child" of the instance key
    } else {
      unexpected.add(datanode + "/child");
    }
    long seed = System.nanoTime();
    Random rnd = new Random(seed);
    List<String> replies = new ArrayList<>();
    // The most lines the agent may log per watched node: one per write that turns the node's value
    // into an unrecognised one different from the value before, plus one per deletion (the agent
    // creates the node again, with a value it then reads afresh).
    Map<String, Integer> mostLines = new HashMap<>(Map.of(instance, 0, datanode, 0));
    Map<String, String> lastWritten = new HashMap<>(Map.of(instance, "", datanode, ""));
    for (int i = 0; i < WRITES; i++) {
      String target = rnd.nextBoolean() ? instance : datanode;
      int what = rnd.nextInt(40);
      if (what == 0) {
        operator.delete(target);
        lastWritten.put(target, null);
        mostLines.merge(target, 1, Integer::sum);
      } else if (what == 1) {
        operator.put(unexpected.get(rnd.nextInt(unexpected.size())), randomValue(rnd));
      } else {
        byte[] value = randomValue(rnd);
        operator.put(target, value);
        String text = new String(value, StandardCharsets.UTF_8);
        if (NodeValue.of(text) == NodeValue.UNRECOGNISED
            && !text.equals(lastWritten.put(target, text))) {
          mostLines.merge(target, 1, Integer::sum);
        }
      }
      if (i % 25 == 0) {
        AppProcess.Reply r = app.send("connect");
        replies.add(r.toString());
        assertTrue(
            r.ok || refusal(r, instance, datanode) || abortedAsTheStateFlipped(r),
            "seed "
                + seed
                + ": only a working connection, the agent's refusal naming the instance or"
                + " datasource node, or H2's exception for a connection the agent closed as the"
                + " state flipped: "
                + r);
      }
    }

    // Once per node and value: the same unrecognised value written again and again is one line,
    // and a different value after it (awaited as the sign that the agent has read them all) is one
    // more.
    String repeated = "repeated-" + seed;
    String next = "next-" + seed;
    for (String node : List.of(instance, datanode)) {
      for (int i = 0; i < 20; i++) {
        operator.put(node, repeated.getBytes(StandardCharsets.UTF_8));
      }
      operator.put(node, next.getBytes(StandardCharsets.UTF_8));
      Await.until(
          "the agent read " + next + " at " + node,
          Duration.ofSeconds(10),
          () -> countLines(app, node + " holds the unrecognised value '" + next + "'") == 1);
      assertEquals(
          1,
          countLines(app, node + " holds the unrecognised value '" + repeated + "'"),
          "the same unrecognised value written 20 times at " + node + " is logged once");
      mostLines.merge(node, 2, Integer::sum);
      lastWritten.put(node, next);
    }

    // The last valid values decide.
    operator.put(instance, " Disabled\n".getBytes(StandardCharsets.UTF_8));
    operator.put(datanode, "".getBytes(StandardCharsets.UTF_8));
    // Until both writes are applied a fuzzed datasource value may still refuse: wait for the
    // instance's own refusal.
    AppProcess.Reply refused =
        Await.until(
            "the instance refusal",
            Duration.ofSeconds(10),
            () -> InstanceCutOffIT.send(app, "connect"),
            r -> !r.ok && r.text.contains("Sluice: instance "));
    assertEquals("08004", refused.sqlState(), refused::toString);
    operator.put(instance, "ENABLED".getBytes(StandardCharsets.UTF_8));
    operator.put(datanode, "disabled".getBytes(StandardCharsets.UTF_8));
    DatasourceCutOffIT.assertDatasourceRefusal(
        Await.until(
            "the datasource refusal",
            Duration.ofSeconds(10),
            () -> InstanceCutOffIT.send(app, "connect"),
            r -> !r.ok && r.text.contains(datanode)),
        datanode);
    operator.put(datanode, "ENABLED".getBytes(StandardCharsets.UTF_8));
    InstanceCutOffIT.awaitAllowed(app, "connect");

    List<String> log = app.agentLog();
    List<String> unrecognised =
        log.stream()
            .filter(l -> l.contains("holds the unrecognised value"))
            .collect(Collectors.toList());
    assertFalse(unrecognised.isEmpty(), "garbage was reported");
    for (String line : unrecognised) {
      assertTrue(
          line.contains(instance + " holds") || line.contains(datanode + " holds"),
          "each with its path, and only for watched nodes: " + line);
      assertTrue(line.length() < 1000, "a huge value is shortened in the log: " + line.length());
    }
    for (String node : List.of(instance, datanode)) {
      long lines = unrecognised.stream().filter(l -> l.contains(node + " holds")).count();
      assertTrue(
          lines <= mostLines.get(node),
          "seed "
              + seed
              + ": at most one line per change to an unrecognised value at "
              + node
              + ", at most "
              + mostLines.get(node)
              + "; logged "
              + lines);
    }
    for (String line : log) {
      assertFalse(line.contains(" ERROR "), "no agent error: " + line);
    }
    assertFalse(app.output().contains("Exception in thread"), app.output());
    assertTrue(app.isAlive());
    assertEquals(0, app.exit());
  }

  private static long countLines(AppProcess app, String text) {
    return app.agentLog().stream().filter(l -> l.contains(text)).count();
  }
}
