package dev.sluice.bench;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.h2.tools.Server;

/**
 * Failover: from the write of a routing group's primary key ({@code primary=node}, alternating
 * between two members) to (a) the group's MXBean showing the new primary, (b) the first connect the
 * application sees land on the new primary, (c) all {@link #OPEN} connections routed to the old
 * primary aborted ({@code cutoff.grace-ms=0}). {@link #SWITCHES} switches against a loopback
 * ZooKeeper; the members are two H2 TCP servers that serve the same database name from two
 * different in-memory databases, each with a table naming it. The baseline is ZooKeeper alone, in
 * the same run: a plain client's watch on the same key fires and it reads the value; for the first
 * connect on the new primary also a second plain client that, once it has read the value, connects
 * to the member it names and runs the probe's query.
 */
final class Failover {

  static final int SWITCHES = Integer.getInteger("bench.toggles", 200);
  static final int OPEN = Integer.getInteger("bench.failover.open", 100);
  static final String GROUP = "bench";
  static final String DATABASE = "failover";
  // A name only the agent resolves: a connect that were not routed would fail.
  static final String ADDRESS = "bench-primary.invalid:9092";
  static final String KEY = "/sluice/states/groups/" + GROUP + "/primary";

  private final Bench bench;

  Failover(Bench bench) {
    this.bench = bench;
  }

  void run() throws Exception {
    Server a = member("a");
    Server b = member("b");
    try (TestingServer zk = new TestingServer(true)) {
      ZooKeeper operator = Propagation.connect(zk.getConnectString());
      ZooKeeper follower = Propagation.connect(zk.getConnectString());
      createWithParents(operator, KEY, hostPort(a));
      List<String> cmd =
          List.of(
              Bench.java(),
              "-javaagent:"
                  + bench.agentJar
                  + "=registry=zookeeper://"
                  + zk.getConnectString()
                  + ",log.level=warn,cutoff.grace-ms=0,groups."
                  + GROUP
                  + ".address="
                  + ADDRESS,
              "-cp",
              bench.classpath(),
              FailoverProbe.class.getName(),
              "jdbc:h2:tcp://" + ADDRESS + "/" + DATABASE,
              "sluice:type=Group,name=" + GROUP,
              Integer.toString(OPEN));
      Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
      BufferedReader out =
          new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      Writer in = new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8);
      try {
        Propagation.expect(out, "READY");
        Propagation.send(in, "open a");
        Propagation.expect(out, "OPENED");
        measure(operator, follower, in, out, a, b);
        Propagation.send(in, "exit");
      } finally {
        p.destroy();
        operator.close();
        follower.close();
      }
    } finally {
      a.stop();
      b.stop();
    }
  }

  private void measure(
      ZooKeeper operator, ZooKeeper follower, Writer in, BufferedReader out, Server a, Server b)
      throws Exception {
    long[] applied = new long[SWITCHES];
    long[] landed = new long[SWITCHES];
    long[] began = new long[SWITCHES];
    long[] aborted = new long[SWITCHES];
    long[] zkAlone = new long[SWITCHES];
    long[] byHand = new long[SWITCHES];
    String what = "failover";
    for (int i = 0; i < SWITCHES; i++) {
      boolean toB = i % 2 == 0;
      String name = toB ? "b" : "a";
      String next = hostPort(toB ? b : a);
      Propagation.send(in, "arm " + name + " " + next);
      Propagation.expect(out, "ARMED");
      Propagation.WatchAndRead zkWatch = Propagation.WatchAndRead.arm(operator, KEY);
      FollowByHand hand = FollowByHand.arm(follower, KEY, name);
      long t0 = PropagationProbe.epochMicros();
      operator.setData(KEY, next.getBytes(StandardCharsets.UTF_8), -1);
      String[] times = Propagation.expect(out, "TIMES").split(" ");
      long watchedAt = zkWatch.await(what + ", switch " + i, next);
      applied[i] = Propagation.sample(what, i, "primary applied", Long.parseLong(times[1]) - t0);
      landed[i] =
          Propagation.sample(
              what, i, "first connect on the new primary", Long.parseLong(times[2]) - t0);
      // A connect that began before the write can still be routed after it, to the new primary:
      // the route is chosen when the driver is called, not when the application asks.
      began[i] = Math.max(0, Long.parseLong(times[4]) - t0);
      aborted[i] = Propagation.sample(what, i, "all routed aborted", Long.parseLong(times[3]) - t0);
      zkAlone[i] = Propagation.sample(what, i, "ZooKeeper alone", watchedAt - t0);
      byHand[i] = Propagation.sample(what, i, "watch, read and connect", hand.await(what, i) - t0);
      Propagation.send(in, "open " + name);
      Propagation.expect(out, "OPENED");
    }
    Propagation.send(in, "counts");
    String[] counts = Propagation.expect(out, "COUNTS").split(" ");
    String zk = Bench.percentiles(zkAlone);
    String label = "failover, primary node (" + SWITCHES + " switches): ";
    bench.row(
        label + "primary applied (µs)",
        Bench.percentiles(applied),
        zk,
        Bench.difference(applied, zkAlone),
        "");
    bench.row(
        label + "first connect on the new primary (µs)",
        Bench.percentiles(landed),
        zk,
        Bench.difference(landed, zkAlone),
        "p50 +2,000, p99 +5,000");
    bench.row(
        label + "  the same beside a plain client's watch, read, connect and query (µs)",
        Bench.percentiles(landed),
        Bench.percentiles(byHand),
        Bench.difference(landed, byHand),
        "");
    bench.row(
        label + "  that connect began (µs)",
        Bench.percentiles(began),
        zk,
        Bench.difference(began, zkAlone),
        "");
    bench.row(
        label + "all " + OPEN + " routed to the old primary aborted, grace 0 (µs)",
        Bench.percentiles(aborted),
        zk,
        Bench.difference(aborted, zkAlone),
        "p99 < 50,000");
    bench.note(
        "failover: "
            + counts[1]
            + " connect(s) routed to the old primary just before a switch failed in flight; "
            + counts[2]
            + " were handed out to the old primary, whose query it answered although the Group"
            + " MXBean showed the new primary before the query started");
  }

  /**
   * What a client without the agent does at the least to follow the key: its own watch fires, it
   * reads the value, connects to the member the value names and runs the query the probe runs to
   * tell where it landed. On a ZooKeeper session of its own, whose event thread may block.
   */
  private static final class FollowByHand {
    private final CountDownLatch done = new CountDownLatch(1);
    private volatile long at;
    private volatile String failure;

    static FollowByHand arm(ZooKeeper zk, String key, String expected) throws Exception {
      FollowByHand f = new FollowByHand();
      zk.getData(
          key,
          e ->
              zk.getData(
                  key,
                  false,
                  (rc, path, ctx, data, stat) ->
                      f.follow(new String(data, StandardCharsets.UTF_8), expected),
                  null),
          null);
      return f;
    }

    private void follow(String hostPort, String expected) {
      try (Connection c =
          DriverManager.getConnection("jdbc:h2:tcp://" + hostPort + "/" + DATABASE)) {
        String on = FailoverProbe.member(c);
        if (expected.equals(on)) {
          at = PropagationProbe.epochMicros();
        } else {
          failure = "landed on " + on + ", not on " + expected;
        }
      } catch (SQLException e) {
        failure = e.toString();
      }
      done.countDown();
    }

    long await(String what, int i) throws InterruptedException {
      if (!done.await(10, TimeUnit.SECONDS) || failure != null) {
        throw new IllegalStateException(
            what + ", switch " + i + ": the plain client did not follow the key: " + failure);
      }
      return at;
    }
  }

  /** An H2 server on a free loopback port whose {@link #DATABASE} is a table naming it. */
  private static Server member(String name) throws Exception {
    Server server =
        Server.createTcpServer(
                "-tcpPort", "0", "-ifNotExists", "-key", DATABASE, "mem:failover_" + name)
            .start();
    try (Connection c =
            DriverManager.getConnection(
                "jdbc:h2:tcp://" + hostPort(server) + "/" + DATABASE + ";DB_CLOSE_DELAY=-1");
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE WHO(NAME VARCHAR(8))");
      s.execute("INSERT INTO WHO VALUES ('" + name + "')");
    }
    return server;
  }

  private static String hostPort(Server server) {
    return "127.0.0.1:" + server.getPort();
  }

  private static void createWithParents(ZooKeeper zk, String path, String value) throws Exception {
    for (int at = path.indexOf('/', 1); at > 0; at = path.indexOf('/', at + 1)) {
      try {
        zk.create(
            path.substring(0, at), new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
      } catch (KeeperException.NodeExistsException exists) {
        // made by an earlier step
      }
    }
    zk.create(
        path,
        value.getBytes(StandardCharsets.UTF_8),
        ZooDefs.Ids.OPEN_ACL_UNSAFE,
        CreateMode.PERSISTENT);
  }
}
