package dev.sluice.registry;

import java.util.ArrayList;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The datasource nodes this JVM has met, and those of them still to be created: each is created
 * empty if absent (never overwritten), retried whenever the connection comes back, and created
 * again after an operator deleted it (deleting is how an operator re-enables a datasource; a later
 * write of {@code DISABLED} by a tool that only updates needs the node there). Other nodes this JVM
 * records once ({@link #ensure(String, String)}: a datasource's endpoint) are created the same way
 * with their value, but not again after a deletion.
 *
 * <p>{@link #ensure} may be called on any thread; everything else runs on the registry's worker.
 */
public final class DatasourceNodes {

  private static final Logger log = LoggerFactory.getLogger(DatasourceNodes.class);

  /** Creates one node in the backend. */
  public interface Creator {
    /**
     * Creates {@code path} holding {@code value} unless it exists; called on the worker while
     * connected.
     *
     * @return whether the node is there now (created, or found); {@code false} (the failure logged)
     *     retries it when the connection is back
     */
    boolean createIfAbsent(String path, String value);
  }

  private final Set<String> met = ConcurrentHashMap.newKeySet();
  private final Map<String, String> pending = new ConcurrentHashMap<>();
  private final Executor worker;
  private final Faults faults;
  private final BooleanSupplier connected;
  private final Creator creator;

  public DatasourceNodes(
      Executor worker, Faults faults, BooleanSupplier connected, Creator creator) {
    this.worker = worker;
    this.faults = faults;
    this.connected = connected;
    this.creator = creator;
  }

  /** Any thread: this JVM met the datasource at {@code path}; its node is created if absent. */
  public void ensure(String path) {
    met.add(path);
    ensure(path, "");
  }

  /** Any thread: {@code path} is created holding {@code value} if absent, never overwritten. */
  public void ensure(String path, String value) {
    if (pending.putIfAbsent(path, value) == null) {
      // Through Faults: after close (the agent's shutdown hook) the worker rejects work, and a
      // connect that meets a new datasource then must not see that.
      faults.execute(worker, "creating " + path, () -> create(path));
    }
  }

  /** Worker: the connection is back; creates every node still pending. */
  public void retryPending() {
    new ArrayList<>(pending.keySet()).forEach(this::create);
  }

  /** Worker: {@code path} was deleted; a node this JVM met is created again, empty. */
  public void deleted(String path) {
    if (met.contains(path)) {
      // Created only if absent, so an operator's own new node keeps its value.
      log.info("{} was deleted: datasource enabled; re-creating it empty", path);
      pending.put(path, "");
      create(path);
    }
  }

  private void create(String path) {
    String value = pending.get(path);
    if (!connected.getAsBoolean() || value == null) {
      return; // retried when the connection is back
    }
    if (creator.createIfAbsent(path, value)) {
      pending.remove(path, value);
    }
  }
}
