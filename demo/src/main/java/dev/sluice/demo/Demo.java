package dev.sluice.demo;

import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;

/**
 * The narrated demo: an embedded ZooKeeper and H2 server, the unmodified HikariCP sample app
 * started with {@code -javaagent}, and an operator who cuts it off and lets it back in, first with
 * a plain ZooKeeper client (as {@code zkCli} does), then through JMX (as JConsole does). Then the
 * failover act ({@link FailoverAct}): a second H2 server, and the app's writes following a primary
 * switch written as orchestrator writes it.
 */
public final class Demo {

  private final PrintStream out;
  private final Path root;
  private final long start = System.nanoTime();

  Demo(Path root, PrintStream out) {
    this.root = root;
    this.out = out;
  }

  public static void main(String[] args) throws Exception {
    Path root = Paths.get(args.length > 0 ? args[0] : ".").toAbsolutePath().normalize();
    try {
      new Demo(root, System.out).run();
    } catch (Exception e) {
      System.err.println("The demo failed: " + e);
      e.printStackTrace();
      System.exit(1);
    }
    System.exit(0);
  }

  void run() throws Exception {
    if (!Files.exists(agent()) || !Files.exists(appDirectory().resolve("pool-app.jar"))) {
      throw new IllegalStateException("build first: ./mvnw -B install -DskipTests");
    }
    say("Starting an embedded ZooKeeper and an H2 database server");
    try (TestingServer zkServer = new TestingServer(true);
        H2Database db1 = new H2Database("db1")) {
      ZooKeeper zkCli = operatorClient(zkServer.getConnectString());
      try {
        cutOffAndRecovery(zkServer.getConnectString(), zkCli, db1);
        new FailoverAct(this, zkServer.getConnectString(), zkCli, db1).run();
      } finally {
        zkCli.close();
      }
    }
    say("Demo finished.");
  }

  private void cutOffAndRecovery(String zk, ZooKeeper zkCli, H2Database db) throws Exception {
    int jmxPort = freePort();
    String agentArgs = "registry=zookeeper://" + zk;
    say("Starting the unmodified sample app (HikariCP over H2) with the agent:");
    out.println(shownCommand(agentArgs, db.url()));
    try (SampleApp sample = new SampleApp(appCommand(agentArgs, jmxPort, db.url()), out);
        JMXConnector jmx = connectJmx(jmxPort)) {
      String node = awaitInstanceNode(zkCli, sample.pid());
      say("The JVM registered itself as the ephemeral node " + node);
      MBeanServerConnection mbeans = jmx.getMBeanServerConnection();
      ObjectName instance = new ObjectName("sluice:type=Instance");
      sample.ask("borrow", "the app borrows a pooled connection");
      sample.ask("hold long-running", "the app keeps one connection open");

      say("Operator: zkCli set " + node + " DISABLED");
      zkCli.setData(node, "DISABLED".getBytes(StandardCharsets.UTF_8), -1);
      awaitState(mbeans, instance, "DISABLED");
      sample.ask("borrow", "the app borrows again");
      sample.ask("query long-running SELECT 1", "the connection opened earlier");

      say("Operator: JConsole → MBean sluice:type=Instance → enable()");
      mbeans.invoke(instance, "enable", null, null);
      say(
          "enable() returned; the node now holds '"
              + value(zkCli, node)
              + "' and State is "
              + mbeans.getAttribute(instance, "State"));
      sample.ask("borrow", "the app borrows again, no restart");

      say("Operator: JConsole → sluice:type=Instance → disable()");
      mbeans.invoke(instance, "disable", null, null);
      say(
          "disable() returned; every operator sees it in ZooKeeper: the node holds '"
              + value(zkCli, node)
              + "'");
      sample.ask("borrow", "the app borrows again");

      say("Operator: zkCli set " + node + " '' (removes DISABLED)");
      zkCli.setData(node, new byte[0], -1);
      awaitState(mbeans, instance, "ENABLED");
      sample.ask("borrow", "the app recovers");

      jmx.close(); // before the app goes, so the connector has nobody to miss
      say("The app exits normally");
      sample.exit();
      say(
          "Its instance node is gone: exists("
              + node
              + ") = "
              + (zkCli.exists(node, false) != null));
    }
  }

  private Path agent() {
    return root.resolve("agent/target/sluice-agent.jar");
  }

  private Path appDirectory() {
    return root.resolve("test-apps/pool-app/target");
  }

  /** The sample app's command line: HikariCP over {@code url}, JMX on {@code jmxPort}. */
  List<String> appCommand(String agentArgs, int jmxPort, String url) {
    List<String> command = new ArrayList<>();
    command.add(javaExecutable());
    command.add("-javaagent:" + agent() + "=" + agentArgs);
    command.add("-Dcom.sun.management.jmxremote.port=" + jmxPort);
    command.add("-Dcom.sun.management.jmxremote.rmi.port=" + jmxPort);
    command.add("-Dcom.sun.management.jmxremote.host=127.0.0.1");
    command.add("-Djava.rmi.server.hostname=127.0.0.1");
    command.add("-Dcom.sun.management.jmxremote.authenticate=false");
    command.add("-Dcom.sun.management.jmxremote.ssl=false");
    command.add("-cp");
    command.add(
        appDirectory().resolve("pool-app.jar") + ":" + appDirectory().resolve("lib") + "/*");
    command.add("dev.sluice.testapp.pool.PoolApp");
    command.add("hikari");
    command.add(url);
    return command;
  }

  /** {@link #appCommand} as the narration shows it: the options that matter, relative paths. */
  static String shownCommand(String agentArgs, String url) {
    return "      java -javaagent:agent/target/sluice-agent.jar="
        + agentArgs
        + " -cp pool-app.jar:lib/* dev.sluice.testapp.pool.PoolApp hikari "
        + url;
  }

  PrintStream out() {
    return out;
  }

  private String awaitInstanceNode(ZooKeeper zk, long pid) throws Exception {
    String parent = "/sluice/states/proxynodes";
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      if (zk.exists(parent, false) != null) {
        for (String child : zk.getChildren(parent, false)) {
          if (child.contains("@" + pid + "@")) {
            return parent + "/" + child;
          }
        }
      }
      Thread.sleep(50);
    }
    throw new IllegalStateException("the app did not register under " + parent);
  }

  static JMXConnector connectJmx(int port) throws Exception {
    JMXServiceURL url =
        new JMXServiceURL("service:jmx:rmi:///jndi/rmi://127.0.0.1:" + port + "/jmxrmi");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try {
        return JMXConnectorFactory.connect(url);
      } catch (IOException notYet) {
        if (System.nanoTime() > deadline) {
          throw notYet;
        }
        Thread.sleep(50);
      }
    }
  }

  /** Polls the MBean, as a dashboard would, until the agent enforces {@code state}. */
  private void awaitState(MBeanServerConnection mbeans, ObjectName instance, String state)
      throws Exception {
    long begin = System.nanoTime();
    long deadline = begin + TimeUnit.SECONDS.toNanos(10);
    while (!state.equals(mbeans.getAttribute(instance, "State"))) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the agent did not apply " + state);
      }
      Thread.sleep(1);
    }
    say(
        "The agent applied it: State = "
            + state
            + " (seen over JMX within "
            + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin)
            + " ms)");
  }

  private static String value(ZooKeeper zk, String node) throws Exception {
    return new String(zk.getData(node, false, null), StandardCharsets.UTF_8);
  }

  private static ZooKeeper operatorClient(String connectString) throws Exception {
    CountDownLatch connected = new CountDownLatch(1);
    ZooKeeper zk =
        new ZooKeeper(
            connectString,
            30_000,
            e -> {
              if (e.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
              }
            });
    if (!connected.await(10, TimeUnit.SECONDS)) {
      throw new IllegalStateException("could not connect to ZooKeeper " + connectString);
    }
    return zk;
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static String javaExecutable() {
    return Paths.get(System.getProperty("java.home"), "bin", "java").toString();
  }

  void say(String line) {
    out.printf("[%5.1fs] %s%n", (System.nanoTime() - start) / 1e9, line);
  }
}
