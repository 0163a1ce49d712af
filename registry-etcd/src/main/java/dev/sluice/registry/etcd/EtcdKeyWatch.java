package dev.sluice.registry.etcd;

import static dev.sluice.registry.etcd.EtcdCalls.bytes;
import static dev.sluice.registry.etcd.EtcdCalls.describe;
import static dev.sluice.registry.etcd.EtcdCalls.text;
import static dev.sluice.registry.etcd.EtcdCalls.value;

import dev.sluice.registry.KeyListener;
import dev.sluice.registry.KeyRevisions;
import dev.sluice.registry.RegistryLifecycle;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.options.OptionsUtil;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import java.io.Closeable;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A watch on one key anywhere in etcd, or on a key and every key below it ({@code key/...}), for
 * {@link dev.sluice.registry.RegistryCenter#watch}.
 *
 * <p>{@link #read} reads the key (and, for a prefix, the keys below it, in pages by {@link
 * EtcdKeyPages}) at one revision, hands every value to a {@link KeyRevisions} with its mod
 * revision, reports the keys no longer there, then {@link KeyListener#synced}, and watches on from
 * the revision after that read. The registry calls {@link #read} again after every reconnect and
 * every new lease; a watch that ends or fails (its revisions compacted, a response too large) is
 * replaced by a new read 200 ms later. {@link KeyRevisions} keeps every key's revisions growing
 * across all of that. A prefix watch watches the range from the key up to the end of {@code key/},
 * and ignores the keys in that range that are neither the key nor below it ({@code key-x}).
 *
 * <p>Life cycle {@code LATENT → STARTED → CLOSED}: created latent, started by its first {@link
 * #read}, closed by {@link #close} (any thread). Everything else runs on the registry's worker
 * thread, and so does every call to the listener; jetcd's callbacks only hand work to it. Nothing
 * is reported once {@link #close} has returned, unless a report was under way as it was called.
 */
final class EtcdKeyWatch implements Closeable {

  private static final Logger log = LoggerFactory.getLogger(EtcdKeyWatch.class);

  private final EtcdKeyPages pages;
  private final Supplier<Watch> watchClient;
  private final String key;
  private final boolean prefix;
  private final String registry;
  private final RegistryLifecycle lifecycle;
  private final ScheduledExecutorService worker;
  private final Executor handOff;
  private final KeyRevisions revisions;
  private volatile boolean closed;

  // Worker thread only, except that close() closes the watcher.
  private volatile Watch.Watcher watcher;
  private int generation;
  private long revision;
  private boolean retrying;

  /**
   * @param registry names the registry in the log, e.g. {@code etcd://h1:2379}
   * @param handOff hands jetcd's callbacks to the worker thread
   */
  EtcdKeyWatch(
      EtcdKeyPages pages,
      Supplier<Watch> watchClient,
      String key,
      boolean prefix,
      KeyListener listener,
      String registry,
      RegistryLifecycle lifecycle,
      ScheduledExecutorService worker,
      Executor handOff) {
    this.pages = pages;
    this.watchClient = watchClient;
    this.key = key;
    this.prefix = prefix;
    this.registry = registry;
    this.lifecycle = lifecycle;
    this.worker = worker;
    this.handOff = handOff;
    this.revisions = new KeyRevisions(listener);
  }

  /**
   * Worker: reads the watched keys at one revision, reports what changed, and watches on from
   * there; when etcd cannot be read, tries again a second later. Never throws.
   */
  void read() {
    if (closed || !lifecycle.running()) {
      return;
    }
    int current = ++generation; // what the previous watch still delivers is ignored
    closeWatcher();
    try {
      EtcdKeyPages.Page first = pages.read(bytes(key), null, 0, 1);
      long at = first.revision;
      Set<String> present = new HashSet<>();
      for (EtcdKeyPages.Entry e : first.entries) {
        present.add(e.path);
        revisions.value(e.path, e.value, e.modRevision);
      }
      if (prefix) {
        ByteSequence below = bytes(key + "/");
        pages.readRange(
            below,
            OptionsUtil.prefixEndOf(below),
            at,
            e -> {
              if (closed) {
                return;
              }
              present.add(e.path);
              revisions.value(e.path, e.value, e.modRevision);
            });
      }
      if (closed) {
        return;
      }
      revisions.readAll(present, at);
      revision = at;
      watchFrom(current, at + 1);
    } catch (Exception e) {
      log.debug("reading {} from {} failed: {}; retrying", key, registry, describe(e));
      retry(1000);
    }
  }

  private void retry(long delayMs) {
    if (retrying || closed || !lifecycle.running()) {
      return;
    }
    retrying = true;
    try {
      worker.schedule(
          () -> {
            retrying = false;
            read();
          },
          delayMs,
          TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException shutDown) {
      // the registry is closed
    }
  }

  private void watchFrom(int current, long from) {
    WatchOption.Builder option = WatchOption.builder().withRevision(from);
    if (prefix) {
      // from the key itself to the end of key/: also key-x and key.x, which are ignored
      option.withRange(OptionsUtil.prefixEndOf(bytes(key + "/")));
    }
    watcher =
        watchClient
            .get()
            .watch(
                bytes(key),
                option.build(),
                Watch.listener(
                    response -> handOff.execute(() -> events(current, response)),
                    error -> handOff.execute(() -> ended(current, error)),
                    () -> handOff.execute(() -> ended(current, null))));
    if (closed) {
      closeWatcher();
    }
  }

  private void events(int current, WatchResponse response) {
    if (current != generation || closed) {
      return;
    }
    for (WatchEvent event : response.getEvents()) {
      KeyValue kv = event.getKeyValue();
      String path = text(kv.getKey());
      revision = Math.max(revision, kv.getModRevision());
      if (!covers(path)) {
        continue;
      }
      if (event.getEventType() == WatchEvent.EventType.DELETE) {
        revisions.gone(path, kv.getModRevision()); // a deletion's event carries its own revision
      } else {
        revisions.value(path, value(kv), kv.getModRevision());
      }
    }
  }

  private boolean covers(String path) {
    return path.equals(key) || (prefix && path.startsWith(key + "/"));
  }

  private void ended(int current, Throwable error) {
    if (current != generation || closed || !lifecycle.running()) {
      return;
    }
    generation++;
    log.info(
        "the watch on {} at {} ended ({}); reading it again after revision {}",
        key,
        registry,
        error == null ? "closed by the server" : describe(error),
        revision);
    retry(200);
  }

  private void closeWatcher() {
    Watch.Watcher w = watcher;
    watcher = null;
    if (w != null) {
      try {
        w.close();
      } catch (RuntimeException e) {
        log.debug("closing the watch on {} failed", key, e);
      }
    }
  }

  /** Any thread: ends the watch; nothing is reported from now on. Idempotent. */
  @Override
  public void close() {
    closed = true;
    closeWatcher();
  }
}
