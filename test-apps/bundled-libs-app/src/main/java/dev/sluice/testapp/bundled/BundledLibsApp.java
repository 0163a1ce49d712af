package dev.sluice.testapp.bundled;

import dev.sluice.testapp.support.CommandLoop;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.CreateMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An application that brings its own Curator, ZooKeeper, Guava and SLF4J with Logback, in versions
 * other than the agent's, and its own logging configuration.
 */
public final class BundledLibsApp {

  private static final Logger log = LoggerFactory.getLogger(BundledLibsApp.class);

  public static void main(String[] args) throws Exception {
    new CommandLoop()
        .on(
            "libs",
            a ->
                "zookeeper="
                    + jarOf(org.apache.zookeeper.ZooKeeper.class)
                    + " curator="
                    + jarOf(CuratorFramework.class)
                    + " guava="
                    + jarOf(com.google.common.collect.ImmutableList.class)
                    + " slf4j="
                    + jarOf(LoggerFactory.class)
                    + " loggerFactory="
                    + LoggerFactory.getILoggerFactory().getClass().getName()
                    + " zookeeperVersion="
                    + org.apache.zookeeper.Version.getFullVersion().split("[ ,-]")[0])
        .on("zk", BundledLibsApp::useZooKeeper)
        .on(
            "class",
            name -> {
              try {
                Class.forName(name.trim());
                return "found " + name.trim();
              } catch (ClassNotFoundException e) {
                return "absent " + name.trim();
              }
            })
        .on(
            "connect",
            url -> {
              try (Connection c = DriverManager.getConnection(url.trim())) {
                log.info("connected to {}", url.trim());
                return "connected " + CommandLoop.query(c, "SELECT 1");
              }
            })
        .run();
  }

  private static String useZooKeeper(String connectString) throws Exception {
    try (CuratorFramework client =
        CuratorFrameworkFactory.newClient(connectString.trim(), new RetryOneTime(100))) {
      client.start();
      client.blockUntilConnected();
      String path =
          client
              .create()
              .creatingParentsIfNeeded()
              .withMode(CreateMode.EPHEMERAL_SEQUENTIAL)
              .forPath("/bundled-app/check-", "hello".getBytes(StandardCharsets.UTF_8));
      String read = new String(client.getData().forPath(path), StandardCharsets.UTF_8);
      log.info("wrote and read {} = {}", path, read);
      return "zk " + read;
    }
  }

  private static String jarOf(Class<?> type) {
    String location = type.getProtectionDomain().getCodeSource().getLocation().getPath();
    return location.substring(location.lastIndexOf('/') + 1);
  }
}
