package dev.sluice.agent;

import dev.sluice.agent.log.AgentLog;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The etcd client and everything it pulls in (jetcd, gRPC, Vert.x, protobuf, Guava, Netty's HTTP/2
 * and DNS codecs) ship as one inner jar, {@code inst/etcd.jar}, so that the agent jar's own index
 * stays the size of what ZooKeeper users load: every JVM holds a jar's index in memory, once for
 * the agent's class loader and once for the application class loader that lists it. The first use
 * of etcd copies the inner jar to a private temporary file (deleted on exit) and loads it with a
 * child of the agent's class loader.
 */
public final class EtcdClasses {

  private static ClassLoader loader;

  private EtcdClasses() {}

  /** The class loader of the etcd backend. */
  static synchronized ClassLoader loader() throws IOException {
    if (loader != null) {
      return loader;
    }
    AgentLog.captureJavaUtilLogging("dev.sluice.shaded");
    ClassLoader own = EtcdClasses.class.getClassLoader();
    try (InputStream in = own.getResourceAsStream("etcd.jar")) {
      if (in == null) {
        loader = own; // not packaged (run from classes): the etcd classes sit next to ours
        return loader;
      }
      Path copy = Files.createTempFile("sluice-etcd-", ".jar"); // readable by this user only
      copy.toFile().deleteOnExit();
      Files.copy(in, copy, StandardCopyOption.REPLACE_EXISTING);
      // The agent's loader class, reached through the loader itself: when the jar runs as the CLI
      // (java -jar) the bootstrap package is not on the boot class path.
      try {
        loader =
            (ClassLoader)
                own.getClass()
                    .getConstructor(File.class, ClassLoader.class)
                    .newInstance(copy.toFile(), own);
      } catch (ReflectiveOperationException e) {
        throw new IOException("cannot open " + copy + ": " + e, e);
      }
      return loader;
    }
  }

  /**
   * Calls a static method of {@code dev.sluice.registry.etcd.EtcdBackend}; its own exceptions are
   * rethrown as they are.
   */
  public static Object call(String method, Class<?>[] types, Object... args) throws Exception {
    Class<?> backend = Class.forName("dev.sluice.registry.etcd.EtcdBackend", true, loader());
    try {
      return backend.getMethod(method, types).invoke(null, args);
    } catch (InvocationTargetException e) {
      Throwable cause = e.getCause();
      if (cause instanceof Exception) {
        throw (Exception) cause;
      }
      if (cause instanceof Error) {
        throw (Error) cause;
      }
      throw e;
    }
  }
}
