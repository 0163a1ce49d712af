package dev.sluice.registry.etcd;

import static dev.sluice.registry.etcd.EtcdCalls.compacted;
import static dev.sluice.registry.etcd.EtcdCalls.describe;
import static dev.sluice.registry.etcd.EtcdCalls.text;
import static dev.sluice.registry.etcd.EtcdCalls.tooLarge;
import static dev.sluice.registry.etcd.EtcdCalls.value;

import dev.sluice.registry.Faults;
import dev.sluice.registry.RegistryLifecycle;
import dev.sluice.registry.RegistryPaths;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.options.OptionsUtil;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The two watches of an etcd registry, this instance's key and the datasource prefix, kept going
 * from one consistent read.
 *
 * <p>{@link #readAndWatch} reads the instance key and the datasource prefix in pages at one
 * revision ({@link EtcdKeyPages}), reports every difference to what was reported before, and
 * watches both from the revision after that read. jetcd resumes a watch from the last revision it
 * delivered after a reconnect; a watch that ends is started again after the last revision it
 * delivered; a watch that fails for good (its revisions compacted away) or meets a response too
 * large for one gRPC message (resuming would meet it again, for ever) makes this read the keys
 * again and watch on from there. A watch that cannot be started is logged and started again a
 * second later. Other instances' keys are never watched.
 *
 * <p>Per datasource key only the path and the mod revision last reported are kept, never a value.
 * Everything here runs on the registry's worker thread: jetcd's callbacks only hand work to it
 * (through the executor given), and {@link Events} are called on it.
 */
final class EtcdWatches {

  private static final Logger log = LoggerFactory.getLogger(EtcdWatches.class);

  /** What the watches report, on the worker thread. */
  interface Events {
    /**
     * The instance key as read (not watched).
     *
     * @param first whether this is the first read, so that its value has not been reported yet
     */
    void instanceRead(EtcdKeyPages.Entry current, boolean first);

    /** One event of the instance key's watch, in the order etcd delivered them. */
    void instanceEvent(WatchEvent event);

    /** A datasource key holds {@code value} at {@code revision}, or is gone ({@code null}). */
    void datasourceValue(String path, String value, long revision);
  }

  private final EtcdKeyPages pages;
  private final Supplier<Watch> watchClient;
  private final ByteSequence instanceKey;
  private final ByteSequence datasourcePrefix;
  private final RegistryPaths paths;
  private final String registry;
  private final RegistryLifecycle lifecycle;
  private final ScheduledExecutorService worker;
  private final Faults faults;
  private final Executor handOff;
  private final Events events;
  private final String startingWatches;

  // Worker thread only.
  // Per datasource key the mod revision last reported: never a value.
  private final Map<String, Long> datasources = new HashMap<>();
  private final List<Watch.Watcher> watchers = new CopyOnWriteArrayList<>();
  private int watchGeneration;
  private boolean watching;
  private long instanceRevision;
  private long datasourceRevision;

  /**
   * @param watchClient the watch client to start watches with (tests wrap it to inject faults)
   * @param registry names the registry in the log, e.g. {@code etcd://h1:2379}
   * @param handOff hands jetcd's callbacks to the worker thread
   */
  EtcdWatches(
      EtcdKeyPages pages,
      Supplier<Watch> watchClient,
      ByteSequence instanceKey,
      ByteSequence datasourcePrefix,
      RegistryPaths paths,
      String registry,
      RegistryLifecycle lifecycle,
      ScheduledExecutorService worker,
      Faults faults,
      Executor handOff,
      Events events) {
    this.pages = pages;
    this.watchClient = watchClient;
    this.instanceKey = instanceKey;
    this.datasourcePrefix = datasourcePrefix;
    this.paths = paths;
    this.registry = registry;
    this.lifecycle = lifecycle;
    this.worker = worker;
    this.faults = faults;
    this.handOff = handOff;
    this.events = events;
    this.startingWatches = "starting the watches on " + registry;
  }

  /** Whether a first read has been made: from then on the watches are kept going. */
  boolean watching() {
    return watching;
  }

  /**
   * Reads the instance key and the datasource keys, reports what changed, and watches on.
   *
   * <p>The datasource prefix is read in pages of at most {@value EtcdKeyPages#PAGE_KEYS} keys,
   * every page at the revision of the first read, so the whole is one consistent snapshot and the
   * watches resume right after it. No response has to hold the whole prefix: a page too large for
   * one gRPC message (4 MiB by default) is read again in halves, down to single keys, and a single
   * key too large for one message is read without its value, which is then unrecognised.
   */
  void readAndWatch() throws Exception {
    closeWatchers();
    EtcdKeyPages.Page first = pages.read(instanceKey, null, 0, 1);
    long revision = first.revision;
    if (!first.entries.isEmpty()) {
      events.instanceRead(first.entries.get(0), !watching);
    }
    Set<String> present = new HashSet<>();
    ByteSequence end = OptionsUtil.prefixEndOf(datasourcePrefix);
    pages.readRange(
        datasourcePrefix,
        end,
        revision,
        e -> {
          if (paths.isDatasourcePath(e.path)) {
            present.add(e.path);
            Long known = datasources.get(e.path);
            if (known == null || known != e.modRevision) {
              datasourceValue(e.path, e.value, e.modRevision);
            }
          }
        });
    for (String gone : new ArrayList<>(datasources.keySet())) {
      if (!present.contains(gone)) {
        datasourceValue(gone, null, revision);
      }
    }
    instanceRevision = revision;
    datasourceRevision = revision;
    watching = true;
    startWatchesOrRetry();
  }

  /**
   * Starts both watches; when that fails (a fault: jetcd only refuses a closed client), the fault
   * is logged and the watches are started again a second later. Never throws: a failure thrown from
   * here into establish() would be taken for a lost connection, which re-grants the lease but does
   * not start the watches again, and one thrown from a scheduled task is never seen.
   */
  private void startWatchesOrRetry() {
    if (lifecycle.running() && !faults.guard(startingWatches, this::startWatches)) {
      log.warn("starting the watches on {} again in 1 s", registry);
      scheduleWatches(1000);
    }
  }

  private void scheduleWatches(long delayMs) {
    try {
      worker.schedule(this::startWatchesOrRetry, delayMs, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException closed) {
      // the registry is closed: no watches any more
    }
  }

  /** Starts both watches from the revision after the last one each has delivered. */
  private void startWatches() {
    closeWatchers();
    int generation = ++watchGeneration;
    Watch watch = watchClient.get();
    watchers.add(
        watch.watch(
            instanceKey,
            WatchOption.builder().withRevision(instanceRevision + 1).withPrevKV(true).build(),
            listener(generation, this::instanceEvents)));
    watchers.add(
        watch.watch(
            datasourcePrefix,
            WatchOption.builder().withRevision(datasourceRevision + 1).isPrefix(true).build(),
            listener(generation, this::datasourceEvents)));
  }

  private Watch.Listener listener(int generation, Consumer<WatchResponse> events) {
    return Watch.listener(
        response ->
            handOff.execute(
                () -> {
                  if (generation == watchGeneration && lifecycle.running()) {
                    events.accept(response);
                  }
                }),
        error -> handOff.execute(() -> watchFailed(generation, error)),
        () -> handOff.execute(() -> watchFailed(generation, null)));
  }

  private void watchFailed(int generation, Throwable error) {
    if (generation != watchGeneration || !lifecycle.running()) {
      return;
    }
    watchGeneration++; // ignore whatever the failed watches still deliver
    if (compacted(error)) {
      log.warn(
          "{} compacted the revisions the watch had not delivered yet; reading the keys again and"
              + " reporting every difference",
          registry);
      worker.execute(this::resync);
    } else if (tooLarge(error)) {
      // Resuming from the same revision would meet the same response again, for ever. Reading in
      // pages gets past it (a value too large is unrecognised), and the watches resume after it.
      log.warn(
          "a watch response of {} was too large for one gRPC message; reading the keys again in"
              + " pages and watching on from there",
          registry);
      worker.execute(this::resync);
    } else {
      log.info(
          "the watch on {} ended ({}); resuming after the last revision it delivered ({})",
          registry,
          error == null ? "closed by the server" : describe(error),
          Math.max(instanceRevision, datasourceRevision));
      scheduleWatches(200);
    }
  }

  private void resync() {
    if (!lifecycle.running()) {
      return;
    }
    try {
      readAndWatch();
    } catch (Exception e) {
      log.debug("reading {} again failed: {}; retrying", registry, describe(e));
      worker.schedule(this::resync, 1000, TimeUnit.MILLISECONDS);
    }
  }

  /** Worker (or close): ends both watches; events they still deliver are ignored. */
  void close() {
    closeWatchers();
  }

  private void closeWatchers() {
    watchers.forEach(
        w -> {
          try {
            w.close();
          } catch (RuntimeException e) {
            log.debug("closing a watch failed", e);
          }
        });
    watchers.clear();
  }

  private void instanceEvents(WatchResponse response) {
    for (WatchEvent event : response.getEvents()) {
      instanceRevision = Math.max(instanceRevision, event.getKeyValue().getModRevision());
      events.instanceEvent(event);
    }
  }

  private void datasourceValue(String path, String value, long revision) {
    if (value == null) {
      datasources.remove(path);
    } else {
      datasources.put(path, revision);
    }
    events.datasourceValue(path, value, revision);
  }

  private void datasourceEvents(WatchResponse response) {
    for (WatchEvent event : response.getEvents()) {
      KeyValue kv = event.getKeyValue();
      datasourceRevision = Math.max(datasourceRevision, kv.getModRevision());
      String path = text(kv.getKey());
      if (!paths.isDatasourcePath(path)) {
        continue; // the schema level, or an unexpected key: not a datasource
      }
      boolean deleted = event.getEventType() == WatchEvent.EventType.DELETE;
      datasourceValue(path, deleted ? null : value(kv), kv.getModRevision());
    }
  }
}
