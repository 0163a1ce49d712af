package dev.sluice.demo;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.management.AttributeChangeNotification;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;

/**
 * The failover act: a routing group of two H2 servers that serve one database name, db1 and db2,
 * whose primary orchestrator names in its KV key ({@code primary=orchestrator:shop}). The sample
 * app, its URL naming db1 as before, runs its bank workload (one transaction per transfer); the
 * demo writes orchestrator's key as orchestrator does on a failover (the main key first, then the
 * breakdown keys one by one) and watches, from outside the app, where the transfers land: it counts
 * the rows of each server's ledger.
 */
final class FailoverAct {

  /** The group in the agent's arguments, and orchestrator's alias of the cluster. */
  static final String GROUP = "shop";

  static final String KEY = "/mysql/master/" + GROUP;
  private static final String LEDGER = "SELECT COUNT(*) FROM transfers";
  private static final String LEDGER_IDS = "SELECT id FROM transfers";
  private static final long DEADLINE_MS = 10_000;

  private final Demo demo;
  private final String zk;
  private final ZooKeeper zkCli;
  private final H2Database db1;

  FailoverAct(Demo demo, String zk, ZooKeeper zkCli, H2Database db1) {
    this.demo = demo;
    this.zk = zk;
    this.zkCli = zkCli;
    this.db1 = db1;
  }

  void run() throws Exception {
    try (H2Database db2 = new H2Database("db2")) {
      demo.say(
          "Failover. A second H2 server, db2 ("
              + db2.hostPort()
              + "), serves the same database name as db1 ("
              + db1.hostPort()
              + "); the two make the group "
              + GROUP);
      demo.say(
          "Orchestrator names the cluster's primary: "
              + KEY
              + " = "
              + db1.hostPort()
              + " (db1), then "
              + KEY
              + "/hostname, /port, /ipv4, /ipv6");
      writeOrchestratorKeys(db1, true).run();

      int jmxPort = Demo.freePort();
      String agentArgs =
          "registry=zookeeper://"
              + zk
              + ",groups."
              + GROUP
              + ".address="
              + db1.hostPort()
              + ",groups."
              + GROUP
              + ".primary=orchestrator:"
              + GROUP;
      demo.say(
          "Starting the sample app again, its URL naming db1 as before, the group in the agent's"
              + " arguments:");
      demo.out().println(Demo.shownCommand(agentArgs, db1.url()));
      try (SampleApp app =
              new SampleApp(demo.appCommand(agentArgs, jmxPort, db1.url()), demo.out());
          JMXConnector jmx = Demo.connectJmx(jmxPort)) {
        MBeanServerConnection mbeans = jmx.getMBeanServerConnection();
        ObjectName group = new ObjectName("sluice:type=Group,name=" + GROUP);
        ObjectName db1Bean =
            new ObjectName(
                "sluice:type=DataSource,schema=shop,name=" + db1.hostPort().replace(':', '_'));
        BlockingQueue<AttributeChangeNotification> primaryChanges = new LinkedBlockingQueue<>();
        mbeans.addNotificationListener(
            group,
            (n, handback) -> {
              if (n instanceof AttributeChangeNotification) {
                primaryChanges.add((AttributeChangeNotification) n);
              }
            },
            null,
            null);
        app.ask("bank-setup 10 1000", "the app creates its bank, 10 accounts");
        db2.copyFrom(db1);
        demo.say(
            "db2 gets a copy of db1 (the accounts, an empty ledger), as a replica has; nothing"
                + " replicates after that, so each ledger keeps the transfers its server received");
        app.ask("bank-start 2", "the app starts 2 threads that move money, one transaction each");
        await("transfers on db1", () -> db1.number(LEDGER) >= 100);
        demo.say(
            "The app's transfers land on db1: db1's ledger holds "
                + db1.number(LEDGER)
                + ", db2's "
                + db2.number(LEDGER));
        app.report("bank-stats", "the app's transfers so far");

        demo.say(
            "Orchestrator fails over to db2: "
                + KEY
                + " = "
                + db2.hostPort()
                + ", then /hostname, /port, /ipv4, /ipv6");
        Switch toDb2 = switchPrimary(primaryChanges, db2, db2.number(LEDGER));
        demo.say(
            "The agent applied it "
                + toDb2.appliedMs
                + " ms after the write: "
                + group
                + " announced "
                + toDb2.announced);
        demo.say("The first transfer landed on db2 " + toDb2.landedMs + " ms after the write");
        await(
            "no connection left on db1",
            () -> ((Integer) mbeans.getAttribute(db1Bean, "OpenConnections")) == 0);
        long gone = ms(System.nanoTime() - toDb2.start);
        long db1Final = db1.number(LEDGER);
        demo.say(
            db1Bean
                + " (db1) → OpenConnections = 0, "
                + gone
                + " ms after the write: the app's connections to db1 were aborted; db1's ledger"
                + " stops at "
                + db1Final);
        demo.say(
            group
                + " → Failovers = "
                + mbeans.getAttribute(group, "Failovers")
                + ", LastFailover = "
                + mbeans.getAttribute(group, "LastFailover")
                + ", OpenConnections = "
                + mbeans.getAttribute(group, "OpenConnections")
                + " (on db2)");
        long db2Now = db2.number(LEDGER);
        await("more transfers on db2", () -> db2.number(LEDGER) >= db2Now + 100);
        demo.say(
            "The app's transfers land on db2: db1's ledger holds "
                + db1.number(LEDGER)
                + ", db2's "
                + db2.number(LEDGER));
        app.report("bank-stats", "the app's transfers so far");

        demo.say(
            "Orchestrator fails back to db1: "
                + KEY
                + " = "
                + db1.hostPort()
                + ", then the breakdown keys");
        Switch back = switchPrimary(primaryChanges, db1, db1Final);
        demo.say(
            "The agent applied it "
                + back.appliedMs
                + " ms after the write; the first transfer landed on db1 again "
                + back.landedMs
                + " ms after it (Failovers = "
                + mbeans.getAttribute(group, "Failovers")
                + ")");
        String stats = app.report("bank-stop", "the app stops its transfers");
        long onDb1 = db1.number(LEDGER);
        long onDb2 = db2.number(LEDGER);
        Set<Long> landed = new HashSet<>(db1.numbers(LEDGER_IDS));
        landed.addAll(db2.numbers(LEDGER_IDS));
        long acked = 0;
        long missing = 0;
        for (String id : app.result("bank-acked").split(",")) {
          if (!id.isEmpty()) {
            acked++;
            missing += landed.contains(Long.valueOf(id)) ? 0 : 1;
          }
        }
        long inDoubt = onDb1 + onDb2 - acked;
        demo.say(
            "db1's ledger holds "
                + onDb1
                + " and db2's "
                + onDb2
                + ": "
                + (onDb1 + onDb2)
                + " transfers; the app acknowledged "
                + acked
                + ", "
                + missing
                + " of them in neither ledger"
                + (inDoubt > 0
                    ? "; "
                        + inDoubt
                        + " more committed whose answer the abort took away (the app counted them"
                        + " failed: "
                        + stats
                        + "), as with any commit cut off in flight"
                    : ""));

        jmx.close(); // before the app goes, so the connector has nobody to miss
        app.exit();
        demo.say("The app exited normally");
      }
    }
  }

  /** One primary switch: when the main key was written, and what followed, ms after it. */
  private static final class Switch {
    final long start;
    final long appliedMs;
    final String announced;
    final long landedMs;

    Switch(long start, long appliedMs, String announced, long landedMs) {
      this.start = start;
      this.appliedMs = appliedMs;
      this.announced = announced;
      this.landedMs = landedMs;
    }
  }

  /**
   * Writes orchestrator's keys naming {@code primary}; then polls, every millisecond, {@code
   * primary}'s ledger until a transfer landed there (it holds more than {@code ledgerBefore} rows),
   * and waits for the Group MXBean's notification that its {@code Primary} changed to {@code
   * primary}. The agent stamps the notification when it applied the change (the same machine's
   * clock as the write's, to the millisecond).
   */
  private Switch switchPrimary(
      BlockingQueue<AttributeChangeNotification> primaryChanges,
      H2Database primary,
      long ledgerBefore)
      throws Exception {
    primaryChanges.clear();
    long start = System.nanoTime();
    long wallClock = System.currentTimeMillis();
    Check breakdownWritten = writeOrchestratorKeys(primary, false);
    long landed = -1;
    long deadline = start + TimeUnit.MILLISECONDS.toNanos(DEADLINE_MS);
    while (landed < 0) {
      long now = System.nanoTime();
      if (now > deadline) {
        throw new IllegalStateException(
            "no transfer landed on " + primary.hostPort() + " within " + DEADLINE_MS + " ms");
      }
      if (primary.number(LEDGER) > ledgerBefore) {
        landed = now;
      }
      Thread.sleep(1);
    }
    AttributeChangeNotification n = null;
    while (n == null || !primary.hostPort().equals(n.getNewValue())) {
      n = primaryChanges.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
      if (n == null) {
        throw new IllegalStateException(
            "no notification that Primary changed to " + primary.hostPort());
      }
    }
    breakdownWritten.run();
    return new Switch(
        start,
        n.getTimeStamp() - wallClock,
        "Primary " + n.getOldValue() + " → " + n.getNewValue(),
        ms(landed - start));
  }

  private static long ms(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }

  /**
   * Writes what orchestrator writes for a new primary: {@link #KEY} = {@code host:port}, then the
   * breakdown keys {@code /hostname}, {@code /port}, {@code /ipv4}, {@code /ipv6}, one by one (sent
   * in that order without waiting for each answer, so that the timing goes on meanwhile). The agent
   * reads the main key only. Returns the check that the breakdown keys were written.
   */
  private Check writeOrchestratorKeys(H2Database primary, boolean create) throws Exception {
    if (create) {
      createIfAbsent("/mysql");
      createIfAbsent("/mysql/master");
      createIfAbsent(KEY);
    }
    zkCli.setData(KEY, bytes(primary.hostPort()), -1);
    String[][] breakdown = {
      {"hostname", "127.0.0.1"}, {"port", String.valueOf(primary.port())},
      {"ipv4", "127.0.0.1"}, {"ipv6", ""}
    };
    CountDownLatch written = new CountDownLatch(breakdown.length);
    AtomicReference<String> failed = new AtomicReference<>();
    for (String[] kv : breakdown) {
      String path = KEY + "/" + kv[0];
      if (create) {
        createIfAbsent(path);
      }
      zkCli.setData(
          path,
          bytes(kv[1]),
          -1,
          (rc, p, ctx, stat) -> {
            if (rc != KeeperException.Code.OK.intValue()) {
              failed.set(p + ": " + KeeperException.Code.get(rc));
            }
            written.countDown();
          },
          null);
    }
    return () -> {
      if (!written.await(10, TimeUnit.SECONDS) || failed.get() != null) {
        throw new IllegalStateException("orchestrator's breakdown keys not written: " + failed);
      }
    };
  }

  private interface Check {
    void run() throws Exception;
  }

  private void createIfAbsent(String path) throws Exception {
    try {
      zkCli.create(path, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
    } catch (KeeperException.NodeExistsException alreadyThere) {
      // orchestrator overwrites its keys as they are
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private interface Condition {
    boolean holds() throws Exception;
  }

  /** Polls {@code condition} every millisecond until it holds. */
  private static void await(String what, Condition condition) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(DEADLINE_MS);
    while (!condition.holds()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("not within " + DEADLINE_MS + " ms: " + what);
      }
      Thread.sleep(1);
    }
  }
}
