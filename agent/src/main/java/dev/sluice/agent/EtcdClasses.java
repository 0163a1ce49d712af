package dev.sluice.agent;

import dev.sluice.agent.log.AgentLog;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The etcd client and everything it pulls in (jetcd, gRPC, Vert.x, protobuf, Guava, Netty's HTTP/2
 * and DNS codecs) ship as one inner jar, {@code inst/etcd.jar}, so that the agent jar's own index
 * stays the size of what ZooKeeper users load: every JVM holds a jar's index in memory, once for
 * the agent's class loader and once for the application class loader that lists it. The first use
 * of etcd copies the inner jar to a private temporary file and loads it with a child of the agent's
 * class loader. The copy is named after this process ({@code sluice-etcd-<pid>-<n>.jar}) and
 * deleted on exit, and locked while its process lives; a JVM that never got to exit ({@code kill
 * -9}, a crash) leaves its copy behind, unlocked, and the next JVM that uses etcd deletes the
 * copies whose process is gone.
 */
public final class EtcdClasses {

  private static final Logger log = LoggerFactory.getLogger(EtcdClasses.class);

  static final String COPY_PREFIX = "sluice-etcd-";

  /** {@code sluice-etcd-<pid>-<n>.jar}, where {@code <pid>} is the process that made the copy. */
  private static final Pattern COPY = Pattern.compile("sluice-etcd-(\\d+)-\\d+\\.jar");

  private static final Duration REUSE_SLACK = Duration.ofSeconds(10);

  private static ClassLoader loader;

  /** The open copy, locked for as long as this process lives. */
  @SuppressWarnings("unused")
  private static FileChannel ownCopy;

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
      Path dir = Paths.get(System.getProperty("java.io.tmpdir"));
      removeStaleCopies(dir);
      // readable by this user only
      Path copy =
          Files.createTempFile(dir, COPY_PREFIX + ProcessHandle.current().pid() + "-", ".jar");
      copy.toFile().deleteOnExit();
      // Held until the process ends, however it ends: the operating system releases the lock of a
      // killed process, which is how the next JVM knows this copy is nobody's any more, also
      // across PID namespaces (containers sharing a temporary directory).
      ownCopy = FileChannel.open(copy, StandardOpenOption.WRITE);
      ownCopy.lock();
      // written through the locked channel (Files.copy would replace the file, and its lock)
      in.transferTo(Channels.newOutputStream(ownCopy));
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
   * Deletes the copies in {@code dir} whose process is gone: nobody holds the copy's lock any more,
   * and no process has its id, or the one that has it started after the copy was written (the id
   * was reused). A copy still locked, of a live process, of another user, or of unknown age is left
   * alone.
   */
  static void removeStaleCopies(Path dir) {
    long own = ProcessHandle.current().pid();
    try (DirectoryStream<Path> copies = Files.newDirectoryStream(dir, COPY_PREFIX + "*.jar")) {
      for (Path copy : copies) {
        Matcher m = COPY.matcher(copy.getFileName().toString());
        if (!m.matches()) {
          continue;
        }
        long pid;
        try {
          pid = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
          continue;
        }
        if (pid == own) {
          continue;
        }
        try {
          Instant written = Files.getLastModifiedTime(copy).toInstant();
          if (ownerAlive(pid, written)) {
            continue;
          }
          try (FileChannel channel = FileChannel.open(copy, StandardOpenOption.WRITE);
              FileLock lock = channel.tryLock()) {
            if (lock == null) {
              continue; // its process lives, in another PID namespace
            }
            if (Files.deleteIfExists(copy)) {
              log.info("deleted {}, left behind by process {} that is gone", copy, pid);
            }
          }
        } catch (IOException | SecurityException | OverlappingFileLockException e) {
          log.debug("cannot delete {}: {}", copy, e.toString());
        }
      }
    } catch (IOException | SecurityException e) {
      log.debug("cannot look for copies left in {}: {}", dir, e.toString());
    }
  }

  private static boolean ownerAlive(long pid, Instant written) {
    Optional<ProcessHandle> process = ProcessHandle.of(pid);
    if (process.isEmpty() || !process.get().isAlive()) {
      return false;
    }
    Optional<Instant> started = process.get().info().startInstant();
    // A process started after the copy was written is not the one that wrote it. Start times are
    // coarse (Linux counts from a boot time in whole seconds): only a clear "after" counts.
    return started.isEmpty() || !started.get().isAfter(written.plus(REUSE_SLACK));
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
