package dev.sluice.registry;

import java.lang.reflect.Method;
import org.apache.curator.test.TestingServer;

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
