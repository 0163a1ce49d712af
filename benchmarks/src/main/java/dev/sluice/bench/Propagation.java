package dev.sluice.bench;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;

/**
 * Propagation: from the registry write ({@code setData DISABLED}) to (a) the agent's state applied,
 * (b) the first refused connect the application sees, (c) all of 200 open connections aborted.
 * Datanode and instance node, each toggled {@link #TOGGLES} times against a loopback ZooKeeper. The
 * baseline is ZooKeeper alone, in the same run ({@link WatchAndRead}): a plain client's watch on
 * the same node fires and the client reads the new value.
 */
final class Propagation {

  static final int TOGGLES = Integer.getInteger("bench.toggles", 200);

  private final Bench bench;

  Propagation(Bench bench) {
    this.bench = bench;
  }

  void run() throws Exception {
    try (TestingServer zk = new TestingServer(true)) {
      ZooKeeper operator = connect(zk.getConnectString());
      List<String> cmd =
          List.of(
              Bench.java(),
              "-javaagent:"
                  + bench.agentJar
                  + "=registry=zookeeper://"
                  + zk.getConnectString()
                  + ",log.level=warn",
              "-cp",
              bench.classpath(),
              PropagationProbe.class.getName());
      Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
      BufferedReader out =
          new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      Writer in = new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8);
      try {
        expect(out, "READY");
        send(in, "open");
        expect(out, "OPENED");
        String instanceRoot = "/sluice/states/proxynodes";
        String instance =
            instanceRoot + "/" + awaitChild(operator, instanceRoot, "@" + p.pid() + "@");
        String datanode = "/sluice/states/datanodes/prop/h2_mem";
        awaitNode(operator, datanode);
        measure(
            operator,
            in,
            out,
            datanode,
            "sluice:type=DataSource,schema=prop,name=h2_mem",
            "datanode");
        measure(operator, in, out, instance, "sluice:type=Instance", "instance node");
        send(in, "exit");
      } finally {
        p.destroy();
        operator.close();
      }
    }
  }

  private void measure(
      ZooKeeper operator, Writer in, BufferedReader out, String node, String bean, String what)
      throws Exception {
    long[] applied = new long[TOGGLES];
    long[] refused = new long[TOGGLES];
    long[] aborted = new long[TOGGLES];
    long[] zkAlone = new long[TOGGLES];
    for (int i = 0; i < TOGGLES; i++) {
      send(in, "arm " + bean);
      expect(out, "ARMED");
      WatchAndRead zkWatch = WatchAndRead.arm(operator, node);
      long t0 = PropagationProbe.epochMicros();
      operator.setData(node, "DISABLED".getBytes(StandardCharsets.UTF_8), -1);
      String[] times = expect(out, "TIMES").split(" ");
      long watchedAt = zkWatch.await(what + ", toggle " + i, "DISABLED");
      applied[i] = sample(what, i, "state applied", Long.parseLong(times[1]) - t0);
      refused[i] = sample(what, i, "first refused connect", Long.parseLong(times[2]) - t0);
      aborted[i] = sample(what, i, "all open aborted", Long.parseLong(times[3]) - t0);
      zkAlone[i] = sample(what, i, "ZooKeeper alone", watchedAt - t0);
      operator.setData(node, new byte[0], -1);
      send(in, "await-enabled " + bean);
      expect(out, "ENABLED");
      send(in, "open");
      expect(out, "OPENED");
    }
    String zk = Bench.percentiles(zkAlone);
    bench.row(
        "propagation, " + what + ": state applied (µs)",
        Bench.percentiles(applied),
        zk,
        Bench.difference(applied, zkAlone),
        "");
    bench.row(
        "propagation, " + what + ": first refused connect (µs)",
        Bench.percentiles(refused),
        zk,
        Bench.difference(refused, zkAlone),
        "p50 +2,000, p99 +5,000");
    bench.row(
        "propagation, " + what + ": all 200 open aborted (µs)",
        Bench.percentiles(aborted),
        zk,
        Bench.difference(aborted, zkAlone),
        "p99 < 50,000");
  }

  /**
   * The baseline, ZooKeeper alone: a plain client's watch on a node fires and the client reads the
   * node's new value (an event carries no data), the least any client must do to learn a value.
   */
  static final class WatchAndRead {
    private final CountDownLatch read = new CountDownLatch(1);
    private volatile long readAt;
    private volatile String value;

    /** Sets the watch on {@code node}; returns once ZooKeeper has it. */
    static WatchAndRead arm(ZooKeeper zk, String node) throws Exception {
      WatchAndRead w = new WatchAndRead();
      zk.getData(
          node,
          e ->
              zk.getData(
                  node,
                  false,
                  (rc, path, ctx, data, stat) -> {
                    w.readAt = PropagationProbe.epochMicros();
                    w.value = data == null ? "" : new String(data, StandardCharsets.UTF_8);
                    w.read.countDown();
                  },
                  null),
          null);
      return w;
    }

    /**
     * When (wall clock, microseconds) the value was read; fails unless within 10 s, and unless it
     * is {@code expected}.
     */
    long await(String what, String expected) throws InterruptedException {
      if (!read.await(10, TimeUnit.SECONDS)) {
        throw new IllegalStateException(what + ": ZooKeeper's own watch did not fire within 10 s");
      }
      if (!expected.equals(value)) {
        throw new IllegalStateException(
            what + ": ZooKeeper's own watch read '" + value + "', not '" + expected + "'");
      }
      return readAt;
    }
  }

  /**
   * A measured interval; one that ends before the write it measures from is a broken sample (a
   * clock step, or a watcher that recorded nothing), and fails the run instead of entering the
   * figures.
   */
  static long sample(String what, int toggle, String interval, long micros) {
    if (micros < 0) {
      throw new IllegalStateException(
          what + ", toggle " + toggle + ": " + interval + " measured " + micros + " µs");
    }
    return micros;
  }

  static ZooKeeper connect(String connectString) throws Exception {
    CountDownLatch up = new CountDownLatch(1);
    ZooKeeper zk =
        new ZooKeeper(
            connectString,
            30_000,
            e -> {
              if (e.getState() == Watcher.Event.KeeperState.SyncConnected) {
                up.countDown();
              }
            });
    if (!up.await(10, TimeUnit.SECONDS)) {
      throw new IllegalStateException("no ZooKeeper at " + connectString);
    }
    return zk;
  }

  static String awaitChild(ZooKeeper zk, String parent, String part) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      if (zk.exists(parent, false) != null) {
        for (String c : zk.getChildren(parent, false)) {
          if (c.contains(part)) {
            return c;
          }
        }
      }
      Thread.sleep(20);
    }
    throw new IllegalStateException("no node under " + parent + " with " + part);
  }

  static void awaitNode(ZooKeeper zk, String path) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (zk.exists(path, false) == null) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("no node " + path);
      }
      Thread.sleep(20);
    }
  }

  static void send(Writer in, String line) throws Exception {
    in.write(line + "\n");
    in.flush();
  }

  static String expect(BufferedReader out, String prefix) throws Exception {
    for (String line; (line = out.readLine()) != null; ) {
      if (line.startsWith(prefix)) {
        return line;
      }
      if (line.startsWith("ERR")) {
        throw new IllegalStateException("the probe reports: " + line);
      }
    }
    throw new IllegalStateException("the probe ended before " + prefix);
  }
}
