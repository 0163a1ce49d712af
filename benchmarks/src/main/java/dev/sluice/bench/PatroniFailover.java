package dev.sluice.bench;

import dev.sluice.it.PatroniCluster;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooKeeper;

/**
 * Failover on a real Patroni cluster (two PostgreSQL members on ZooKeeper, ttl 10 s, loop_wait 1
 * s): the write outage an application sees through a {@code patronictl switchover} and through a
 * crash of the leader (its Patroni and PostgreSQL killed), with the agent (its URL names a routing
 * group {@code primary=patroni:<scope>}) and without it, through a real HAProxy configured as
 * Patroni's documentation does ({@code inter 3s fall 3 rise 2}). The applications are {@link
 * WriteProbe}s writing every millisecond, through a HikariCP pool and without a pool, each with the
 * agent and through HAProxy. Beside them, Patroni's own time to move its leader key (a plain
 * ZooKeeper client polls it every millisecond), and when the new primary took a write from a client
 * connected to it directly.
 */
final class PatroniFailover {

  static final int SWITCHOVERS = Integer.getInteger("bench.patroni.switchovers", 5);
  static final int CRASHES = Integer.getInteger("bench.patroni.crashes", 3);

  private final Bench bench;

  PatroniFailover(Bench bench) {
    this.bench = bench;
  }

  /** One switch: when it began, when the leader key moved, and what each application saw. */
  private static final class Switch {
    long began;
    long keyMoved;
    long writable; // the new primary's first write by a client connected to it directly
    // per probe: {last write on the old primary, first on the new, writes failed between}
    long[][] landed;
  }

  private interface Action {
    void run(String from, String to) throws Exception;
  }

  void run() throws Exception {
    try (TestingServer zk = new TestingServer(true);
        PatroniCluster cluster = PatroniCluster.onZooKeeper(zk.getConnectString()).start()) {
      Map<String, int[]> members = new LinkedHashMap<>();
      for (String name : cluster.memberNames()) {
        members.put(name, new int[] {port(cluster.member(name)), port(cluster.apiUrl(name))});
      }
      try (Connection c = cluster.connect(cluster.leader());
          Statement s = c.createStatement()) {
        s.execute("CREATE TABLE writes (id BIGSERIAL PRIMARY KEY, at TIMESTAMPTZ)");
      }
      String address = cluster.scope() + "-rw.invalid:5432";
      ZooKeeper reader = Propagation.connect(zk.getConnectString());
      String agent =
          "-javaagent:"
              + bench.agentJar
              + "=registry=zookeeper://"
              + zk.getConnectString()
              + ",log.level=warn,groups.pg.address="
              + address
              + ",groups.pg.primary=patroni:"
              + cluster.scope();
      String routed = "jdbc:postgresql://" + address + "/postgres";
      List<Probe> probes = new ArrayList<>();
      try (HaProxy proxy = new HaProxy(members)) {
        String proxied = "jdbc:postgresql://127.0.0.1:" + proxy.port + "/postgres";
        // in pairs: with the agent, then the same through HAProxy
        probes.add(new Probe("HikariCP with the agent", routed, "pool", agent));
        probes.add(new Probe("HikariCP through HAProxy", proxied, "pool"));
        probes.add(new Probe("no pool with the agent", routed, "plain", agent));
        probes.add(new Probe("no pool through HAProxy", proxied, "plain"));
        String leaderKey = cluster.registryPrefix() + "/leader";
        List<Switch> switchovers = new ArrayList<>();
        for (int i = 0; i < SWITCHOVERS; i++) {
          switchovers.add(
              once(
                  "switchover " + i,
                  cluster,
                  proxy,
                  reader,
                  leaderKey,
                  probes,
                  (from, to) -> cluster.switchover(to)));
          cluster.awaitHealthy();
        }
        List<Switch> crashes = new ArrayList<>();
        for (int i = 0; i < CRASHES; i++) {
          String[] crashed = new String[1];
          crashes.add(
              once(
                  "crash " + i,
                  cluster,
                  proxy,
                  reader,
                  leaderKey,
                  probes,
                  (from, to) -> crashed[0] = cluster.crashLeader()));
          cluster.restart(crashed[0]);
        }
        report("switchover (" + SWITCHOVERS + ")", "patronictl", switchovers, probes);
        report(
            "crash failover (" + CRASHES + ", Patroni ttl " + PatroniCluster.TTL_SECONDS + " s)",
            "the kill",
            crashes,
            probes);
      } finally {
        for (Probe p : probes) {
          p.close();
        }
        reader.close();
      }
    }
  }

  private static Switch once(
      String what,
      PatroniCluster cluster,
      HaProxy proxy,
      ZooKeeper reader,
      String leaderKey,
      List<Probe> probes,
      Action action)
      throws Exception {
    String from = cluster.leader();
    String to =
        cluster.memberNames().stream().filter(n -> !n.equals(from)).findFirst().orElseThrow();
    int fromPort = port(cluster.member(from));
    int toPort = port(cluster.member(to));
    proxy.awaitOnly(from);
    for (Probe p : probes) {
      p.mark(fromPort);
    }
    Switch s = new Switch();
    CompletableFuture<Long> writable = firstWrite(cluster, to, what);
    s.began = PropagationProbe.epochMicros();
    CompletableFuture<Void> acted =
        CompletableFuture.runAsync(
            () -> {
              try {
                action.run(from, to);
              } catch (Exception e) {
                throw new IllegalStateException(what + ": " + e.getMessage(), e);
              }
            });
    s.keyMoved = awaitValue(reader, leaderKey, to, acted, what);
    s.landed = new long[probes.size()][];
    StringBuilder outages = new StringBuilder();
    for (int i = 0; i < probes.size(); i++) {
      s.landed[i] = probes.get(i).await(toPort, what);
      outages
          .append(i == 0 ? "" : ", ")
          .append(probes.get(i).name)
          .append(' ')
          .append((s.landed[i][1] - s.landed[i][0]) / 1000);
    }
    s.writable = writable.get(90, TimeUnit.SECONDS);
    acted.get(120, TimeUnit.SECONDS);
    System.err.printf(
        "patroni %s %s -> %s: leader key %d ms, %s took a write %d ms; write outage (ms): %s%n",
        what, from, to, (s.keyMoved - s.began) / 1000, to, (s.writable - s.began) / 1000, outages);
    return s;
  }

  /**
   * From now on, a client connected to {@code member} itself tries a write every millisecond (a
   * replica refuses it); when the first one succeeded (wall clock, µs).
   */
  private static CompletableFuture<Long> firstWrite(
      PatroniCluster cluster, String member, String what) throws Exception {
    Connection first = cluster.connect(member);
    CompletableFuture<Long> done = new CompletableFuture<>();
    Thread t =
        new Thread(
            () -> {
              long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
              Connection c = first;
              while (System.nanoTime() < deadline) {
                try {
                  if (c == null) {
                    c = cluster.connect(member);
                  }
                  try (Statement st = c.createStatement()) {
                    st.executeUpdate("INSERT INTO writes(at) VALUES (clock_timestamp())");
                  }
                  done.complete(PropagationProbe.epochMicros());
                  c.close();
                  return;
                } catch (java.sql.SQLException e) {
                  if (!"25006".equals(e.getSQLState())) { // not read-only: the connection broke
                    close(c);
                    c = null;
                  }
                }
                try {
                  Thread.sleep(1);
                } catch (InterruptedException e) {
                  break;
                }
              }
              close(c);
              done.completeExceptionally(
                  new IllegalStateException(what + ": " + member + " took no write within 90 s"));
            },
            "first write on " + member);
    t.setDaemon(true);
    t.start();
    return done;
  }

  private static void close(Connection c) {
    try {
      if (c != null) {
        c.close();
      }
    } catch (java.sql.SQLException e) {
      // broken already
    }
  }

  private void report(String kind, String start, List<Switch> switches, List<Probe> probes) {
    int n = switches.size();
    long[] election = new long[n];
    long[] writable = new long[n];
    for (int i = 0; i < n; i++) {
      Switch s = switches.get(i);
      election[i] = (s.keyMoved - s.began) / 1000;
      writable[i] = (s.writable - s.began) / 1000;
    }
    StringBuilder failed = new StringBuilder();
    for (int p = 0; p < probes.size(); p += 2) {
      long[][] outage = {new long[n], new long[n]};
      long[][] after = {new long[n], new long[n]};
      for (int k = 0; k < 2; k++) {
        long sum = 0;
        for (int i = 0; i < n; i++) {
          long[] landed = switches.get(i).landed[p + k];
          outage[k][i] = (landed[1] - landed[0]) / 1000;
          after[k][i] = landed[1] - switches.get(i).writable;
          sum += landed[2];
        }
        failed.append(failed.length() == 0 ? "" : ", ").append(probes.get(p + k).name);
        failed.append(' ').append(sum);
      }
      String label = "Patroni " + kind + ", " + probes.get(p).name.replace(" with the agent", "");
      bench.row(
          label + ": write outage, last write on the old primary to first on the new (ms)",
          Bench.percentiles(outage[0]),
          Bench.percentiles(outage[1]) + " (HAProxy)",
          Bench.difference(outage[0], outage[1]),
          "");
      bench.row(
          label + ":   first write on the new primary after a direct client's first there (µs)",
          Bench.percentiles(after[0]),
          Bench.percentiles(after[1]) + " (HAProxy)",
          Bench.difference(after[0], after[1]),
          "");
    }
    bench.note(
        "Patroni "
            + kind
            + ": Patroni itself moved its leader key "
            + Bench.percentiles(election)
            + " ms (p50 / p99 / max) after "
            + start
            + ", and the new primary took a direct client's first write "
            + Bench.percentiles(writable)
            + " ms after it; writes failed in the outages: "
            + failed
            + " (a write every millisecond; HikariCP with connectionTimeout 250 ms; HAProxy"
            + " inter 3s fall 3 rise 2)");
  }

  /**
   * Polls {@code key} every millisecond until it holds {@code expected}; when it first did (wall
   * clock, µs). Fails if {@code acted} fails first, or after 90 s.
   */
  private static long awaitValue(
      ZooKeeper zk, String key, String expected, CompletableFuture<Void> acted, String what)
      throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (System.nanoTime() < deadline) {
      if (acted.isCompletedExceptionally()) {
        acted.join();
      }
      try {
        if (expected.equals(new String(zk.getData(key, false, null), StandardCharsets.UTF_8))) {
          return PropagationProbe.epochMicros();
        }
      } catch (KeeperException.NoNodeException gone) {
        // between the old leader's release and the new leader's take
      }
      Thread.sleep(1);
    }
    throw new IllegalStateException(what + ": " + key + " never named " + expected);
  }

  private static int port(String address) {
    String hostPort = address.contains("//") ? URI.create(address).getAuthority() : address;
    return Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1));
  }

  /** A {@link WriteProbe} JVM. */
  private final class Probe implements AutoCloseable {
    private final String name;
    private final Process process;
    private final BufferedReader out;
    private final Writer in;

    Probe(String name, String url, String mode, String... jvmArgs) throws Exception {
      this.name = name;
      List<String> cmd = new ArrayList<>(List.of(Bench.java()));
      cmd.addAll(List.of(jvmArgs));
      cmd.addAll(
          List.of(
              "-cp",
              bench.classpath(),
              WriteProbe.class.getName(),
              url,
              PatroniCluster.SUPERUSER,
              PatroniCluster.SUPERUSER_PASSWORD,
              mode));
      process = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
      out =
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
      Propagation.expect(out, "READY");
    }

    void mark(int port) throws Exception {
      Propagation.send(in, "mark " + port);
      String reply = out.readLine();
      if (!"MARKED".equals(reply)) {
        throw new IllegalStateException(name + ": " + reply);
      }
    }

    long[] await(int port, String what) throws Exception {
      Propagation.send(in, "await " + port + " 90000");
      String reply = out.readLine();
      if (reply == null || !reply.startsWith("LANDED ")) {
        throw new IllegalStateException(what + ", the application " + name + ": " + reply);
      }
      String[] f = reply.split(" ");
      return new long[] {Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3])};
    }

    @Override
    public void close() throws Exception {
      try {
        Propagation.send(in, "exit");
      } catch (Exception gone) {
        // ended already
      }
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }
  }
}
