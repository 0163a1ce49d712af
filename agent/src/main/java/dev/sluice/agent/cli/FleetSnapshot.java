package dev.sluice.agent.cli;

import dev.sluice.registry.KeyListener;
import dev.sluice.registry.NodeReader;
import dev.sluice.registry.NodeValue;
import dev.sluice.registry.OperatorAccess;
import dev.sluice.registry.RegistryCenter;
import java.io.Closeable;
import java.io.IOException;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every node of one namespace, kept up to date by one registry watch on {@code /{namespace}}: the
 * console reads the fleet from it without asking the registry again, and hears each change at once
 * ({@link #awaitChange}). A value too long for the watch to read (instance metadata of a JVM with
 * many datasources) is read in full through the operator's access, on the snapshot's own thread.
 */
final class FleetSnapshot implements NodeReader, KeyListener, Closeable {

  private static final Logger log = LoggerFactory.getLogger(FleetSnapshot.class);

  private static final class Node {
    final String value;
    final long revision;

    Node(String value, long revision) {
      this.value = value;
      this.revision = revision;
    }
  }

  private final ConcurrentSkipListMap<String, Node> nodes = new ConcurrentSkipListMap<>();
  private final OperatorAccess full;
  private final ExecutorService reader =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "sluice-console-read");
            t.setDaemon(true);
            return t;
          });
  private final Object changes = new Object();
  private final Closeable watch;
  private long version; // guarded by changes
  private boolean synced; // guarded by changes

  FleetSnapshot(RegistryCenter registry, String namespaceRoot, OperatorAccess full) {
    this.full = full;
    this.watch = registry.watch(namespaceRoot, true, this);
  }

  @Override
  public void changed(String key, String value, long revision) {
    if (value == null) {
      nodes.remove(key);
    } else if (NodeValue.wasCut(value)) {
      reader.execute(() -> readInFull(key, revision));
      return;
    } else {
      nodes.put(key, new Node(value, revision));
    }
    changed();
  }

  private void readInFull(String key, long revision) {
    try {
      String value = full.get(key);
      if (value == null) {
        nodes.remove(key);
      } else {
        nodes.put(key, new Node(value, revision));
      }
      changed();
    } catch (Exception e) {
      log.warn("reading {} in full failed: {}", key, e.toString());
    }
  }

  @Override
  public void synced() {
    synchronized (changes) {
      synced = true;
    }
    changed();
  }

  private void changed() {
    synchronized (changes) {
      version++;
      changes.notifyAll();
    }
  }

  /** Whether the namespace has been read in full at least once. */
  boolean isSynced() {
    synchronized (changes) {
      return synced;
    }
  }

  /** The number of changes heard so far. */
  long version() {
    synchronized (changes) {
      return version;
    }
  }

  /**
   * Waits until a change after {@code seen} was heard, at most {@code timeoutMs}; returns the
   * version then.
   */
  long awaitChange(long seen, long timeoutMs) throws InterruptedException {
    long deadline = System.nanoTime() + timeoutMs * 1_000_000;
    synchronized (changes) {
      while (version == seen) {
        long left = (deadline - System.nanoTime()) / 1_000_000;
        if (left <= 0) {
          break;
        }
        changes.wait(left);
      }
      return version;
    }
  }

  private NavigableMap<String, Node> below(String root) {
    return nodes.subMap(root + "/", true, root + "/\uffff", false);
  }

  @Override
  public String get(String path) {
    Node node = nodes.get(path);
    return node == null ? null : node.value;
  }

  @Override
  public Map<String, String> children(String parent) {
    Map<String, String> out = new TreeMap<>();
    int from = parent.length() + 1;
    below(parent)
        .forEach(
            (path, node) -> {
              if (path.indexOf('/', from) < 0) {
                out.put(path.substring(from), node.value);
              }
            });
    return out;
  }

  @Override
  public Map<String, String> subtree(String root) {
    Map<String, String> out = new TreeMap<>();
    below(root).forEach((path, node) -> out.put(path, node.value));
    return out;
  }

  /**
   * The election's oldest node leads: its participants' nodes (Curator's latch nodes, etcd's
   * election keys) are written once, so the revision they are seen at is the one they were made at.
   */
  @Override
  public String leader(String electionPath) {
    int from = electionPath.length() + 1;
    Node first = null;
    for (Map.Entry<String, Node> e : below(electionPath).entrySet()) {
      if (e.getKey().indexOf('/', from) < 0
          && (first == null || e.getValue().revision < first.revision)) {
        first = e.getValue();
      }
    }
    return first == null ? "" : first.value;
  }

  @Override
  public void close() {
    try {
      watch.close();
    } catch (IOException | RuntimeException e) {
      log.debug("closing the console's watch: {}", e.toString());
    }
    reader.shutdownNow();
  }
}
