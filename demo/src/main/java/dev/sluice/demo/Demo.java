package dev.sluice.demo;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.Writer;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.h2.tools.Server;

/**
 * The narrated demo: an embedded ZooKeeper and H2 server, the unmodified HikariCP sample app
 * started with {@code -javaagent}, and an operator who cuts it off and lets it back in, first with
 * a plain ZooKeeper client (as {@code zkCli} does), then through JMX (as JConsole does).
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
    Path agent = root.resolve("agent/target/sluice-agent.jar");
    Path app = root.resolve("test-apps/pool-app/target");
    if (!Files.exists(agent) || !Files.exists(app.resolve("pool-app.jar"))) {
      throw new IllegalStateException("build first: ./mvnw -B install -DskipTests");
    }
    say("Starting an embedded ZooKeeper and an H2 database server");
    try (TestingServer zkServer = new TestingServer(true);
        Closeable h2 = h2Server()) {
      String db =
          "jdbc:h2:tcp://127.0.0.1:"
              + ((Server) h2.target).getPort()
              + "/mem:shop;DB_CLOSE_DELAY=-1";
      ZooKeeper zkCli = operatorClient(zkServer.getConnectString());
      int jmxPort = freePort();
      List<String> command =
          List.of(
              javaExecutable(),
              "-javaagent:" + agent + "=registry=zookeeper://" + zkServer.getConnectString(),
              "-Dcom.sun.management.jmxremote.port=" + jmxPort,
              "-Dcom.sun.management.jmxremote.rmi.port=" + jmxPort,
              "-Dcom.sun.management.jmxremote.host=127.0.0.1",
              "-Djava.rmi.server.hostname=127.0.0.1",
              "-Dcom.sun.management.jmxremote.authenticate=false",
              "-Dcom.sun.management.jmxremote.ssl=false",
              "-cp",
              app.resolve("pool-app.jar") + ":" + app.resolve("lib") + "/*",
              "dev.sluice.testapp.pool.PoolApp",
              "hikari",
              db);
      say("Starting the unmodified sample app (HikariCP over H2) with the agent:");
      out.println(
          "      java -javaagent:agent/target/sluice-agent.jar=registry=zookeeper://"
              + zkServer.getConnectString()
              + " -cp pool-app.jar:lib/* dev.sluice.testapp.pool.PoolApp hikari "
              + db);
      try (SampleApp sample = new SampleApp(new ProcessBuilder(command).start(), out);
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
      } finally {
        zkCli.close();
      }
    }
    say("Demo finished.");
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

  private static JMXConnector connectJmx(int port) throws Exception {
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

  private static Closeable h2Server() throws Exception {
    Server server = Server.createTcpServer("-tcpPort", "0", "-ifNotExists").start();
    return new Closeable(server, server::stop);
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static String javaExecutable() {
    return Paths.get(System.getProperty("java.home"), "bin", "java").toString();
  }

  private void say(String line) {
    out.printf("[%5.1fs] %s%n", (System.nanoTime() - start) / 1e9, line);
  }

  /** A resource with a close action. */
  private static final class Closeable implements AutoCloseable {
    final Object target;
    private final Runnable close;

    Closeable(Object target, Runnable close) {
      this.target = target;
      this.close = close;
    }

    @Override
    public void close() {
      close.run();
    }
  }

  /** Drives the sample app through its command protocol and shows what it sees. */
  private static final class SampleApp implements AutoCloseable {
    private final Process process;
    private final Writer stdin;
    private final BlockingQueue<String> replies = new LinkedBlockingQueue<>();
    private final PrintStream out;

    SampleApp(Process process, PrintStream out) throws Exception {
      this.process = process;
      this.out = out;
      this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
      pump(
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)),
          true);
      pump(
          new BufferedReader(
              new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8)),
          false);
      next();
    }

    private void pump(BufferedReader in, boolean stdout) {
      Thread t =
          new Thread(
              () -> {
                try {
                  for (String line; (line = in.readLine()) != null; ) {
                    if (stdout && line.startsWith("REPLY ")) {
                      replies.add(line.substring(6));
                    } else if (line.contains("[sluice]")) {
                      out.println("      agent | " + line.substring(line.indexOf("[sluice]") + 9));
                    }
                  }
                } catch (IOException ignored) {
                  // the app is gone
                }
              });
      t.setDaemon(true);
      t.start();
    }

    long pid() {
      return process.pid();
    }

    private String next() throws InterruptedException {
      String reply = replies.poll(30, TimeUnit.SECONDS);
      if (reply == null) {
        throw new IllegalStateException("the sample app did not answer");
      }
      return reply;
    }

    String ask(String command, String what) throws Exception {
      stdin.write(command + "\n");
      stdin.flush();
      String reply = next();
      String[] parts = reply.split(" ", 3);
      String shown =
          parts[0].equals("OK")
              ? "OK (" + parts[1] + " ms)"
              : "FAILED after " + parts[1] + " ms: " + (parts.length > 2 ? parts[2] : "");
      out.println("      app   | " + what + ": " + shown);
      return reply;
    }

    void exit() throws Exception {
      stdin.write("exit\n");
      stdin.flush();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the sample app did not exit");
      }
    }

    @Override
    public void close() {
      process.destroy();
    }
  }
}
