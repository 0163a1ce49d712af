package dev.sluice.registry;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import org.apache.curator.test.TestingServer;
import org.apache.curator.test.TestingZooKeeperServer;

/**
 * Reaches the {@code ZooKeeperServer} inside Curator's {@link TestingServer}, for what no client
 * can do: expire a session on the server side, or count the server's watches. Shared with the
 * agent's end-to-end tests and the benchmarks.
 */
public final class TestingServers {

  private TestingServers() {}

  /**
   * Expires a session as ZooKeeper does when a client is silent past its timeout: the server closes
   * it and deletes its ephemeral nodes; the client learns of it when it next talks to the server.
   */
  public static void expireSession(TestingServer server, long sessionId) throws Exception {
    Object zks = zooKeeperServer(server);
    zks.getClass().getMethod("closeSession", long.class).invoke(zks, sessionId);
  }

  /** The server's total watch count, from its data tree. */
  public static int watchCount(TestingServer server) throws Exception {
    Object tree = call(call(zooKeeperServer(server), "getZKDatabase"), "getDataTree");
    return (Integer) call(tree, "getWatchCount");
  }

  /**
   * The paths the session {@code sessionId} watches on this server: data and exists watches as the
   * path, child watches and persistent recursive watches as {@code path/**} (both see nodes below
   * the path).
   */
  public static List<String> watchesOf(TestingServer server, long sessionId) throws Exception {
    Object tree = call(call(zooKeeperServer(server), "getZKDatabase"), "getDataTree");
    List<String> out = new ArrayList<>();
    for (String manager : new String[] {"dataWatches", "childWatches"}) {
      Object watches = field(tree, manager);
      Object report = call(watches, "getWatches");
      Object paths = report.getClass().getMethod("getPaths", long.class).invoke(report, sessionId);
      if (paths == null) {
        continue;
      }
      for (Object path : (Iterable<?>) paths) {
        boolean below =
            manager.equals("childWatches") || isRecursive(watches, String.valueOf(path));
        out.add(path + (below ? "/**" : ""));
      }
    }
    return out;
  }

  /** Whether any watcher of {@code path} in this watch manager is persistent and recursive. */
  private static boolean isRecursive(Object watchManager, String path) throws Exception {
    Object watchers = ((java.util.Map<?, ?>) field(watchManager, "watchTable")).get(path);
    if (watchers == null) {
      return false;
    }
    Class<?> modes = Class.forName("org.apache.zookeeper.server.watch.WatcherMode");
    Object recursive = modes.getField("PERSISTENT_RECURSIVE").get(null);
    Method contains =
        watchManager
            .getClass()
            .getMethod("containsWatcher", String.class, org.apache.zookeeper.Watcher.class, modes);
    for (Object watcher : new ArrayList<>((java.util.Collection<?>) watchers)) {
      if ((Boolean) contains.invoke(watchManager, path, watcher, recursive)) {
        return true;
      }
    }
    return false;
  }

  /** Whether this member of a {@code TestingCluster} is the ensemble's leader now. */
  public static boolean isLeader(TestingZooKeeperServer member) throws Exception {
    Object peer = quorumPeer(member);
    return peer != null && "LEADING".equals(String.valueOf(call(peer, "getPeerState")));
  }

  /** Whether a client of session {@code sessionId} is connected to this member now. */
  public static boolean serves(TestingZooKeeperServer member, long sessionId) throws Exception {
    Object peer = quorumPeer(member);
    if (peer == null) {
      return false;
    }
    Object factory = field(peer, "cnxnFactory");
    if (factory == null) {
      return false;
    }
    for (Object cnxn : (Iterable<?>) call(factory, "getConnections")) {
      if ((Long) call(cnxn, "getSessionId") == sessionId) {
        return true;
      }
    }
    return false;
  }

  private static Object quorumPeer(TestingZooKeeperServer member) throws Exception {
    Object main = call(member, "getMain");
    if (main == null) {
      return null;
    }
    // As for a single server, Curator embeds ZooKeeper through one of two adapters.
    if (hasField(main, "zooKeeperEmbedded")) {
      Object embedded = field(main, "zooKeeperEmbedded");
      Object cluster = embedded == null ? null : field(embedded, "maincluster");
      return cluster == null ? null : field(cluster, "quorumPeer");
    }
    return field(main, "quorumPeer");
  }

  private static boolean hasField(Object target, String name) {
    for (Class<?> t = target.getClass(); t != null; t = t.getSuperclass()) {
      for (Field f : t.getDeclaredFields()) {
        if (f.getName().equals(name)) {
          return true;
        }
      }
    }
    return false;
  }

  private static Object field(Object target, String name) throws Exception {
    for (Class<?> t = target.getClass(); t != null; t = t.getSuperclass()) {
      try {
        Field f = t.getDeclaredField(name);
        f.setAccessible(true);
        return f.get(target);
      } catch (NoSuchFieldException e) {
        // look further up
      }
    }
    throw new NoSuchFieldException(name);
  }

  private static Object zooKeeperServer(TestingServer server) throws Exception {
    Object main = call(call(server, "getTestingZooKeeperServer"), "getMain");
    // Curator embeds ZooKeeper through one of two adapters, depending on the ZooKeeper version.
    return hasMethod(main, "getServerCnxnFactory")
        ? call(call(main, "getServerCnxnFactory"), "getZooKeeperServer")
        : call(main, "getZkServer");
  }

  private static boolean hasMethod(Object target, String name) {
    for (Class<?> t = target.getClass(); t != null; t = t.getSuperclass()) {
      for (Method m : t.getDeclaredMethods()) {
        if (m.getName().equals(name) && m.getParameterCount() == 0) {
          return true;
        }
      }
    }
    return false;
  }

  private static Object call(Object target, String name) throws Exception {
    for (Class<?> t = target.getClass(); t != null; t = t.getSuperclass()) {
      try {
        Method m = t.getDeclaredMethod(name);
        m.setAccessible(true);
        return m.invoke(target);
      } catch (NoSuchMethodException e) {
        // look further up
      }
    }
    throw new NoSuchMethodException(name);
  }
}
