package dev.sluice.registry.etcd;

import static dev.sluice.registry.etcd.EtcdCalls.await;
import static dev.sluice.registry.etcd.EtcdCalls.text;
import static dev.sluice.registry.etcd.EtcdCalls.tooLarge;
import static dev.sluice.registry.etcd.EtcdCalls.value;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads keys in pages that each fit into one gRPC message (4 MiB by default), so that no response
 * has to hold a whole prefix: a page too large is read again in halves, down to single keys, and a
 * single key too large is read without its value, which is then {@link #TOO_LARGE} (unrecognised).
 * Called on the registry's worker thread; blocks for at most the connect timeout per read.
 */
final class EtcdKeyPages {

  private static final Logger log = LoggerFactory.getLogger(EtcdKeyPages.class);

  /** The most keys one read of the datasource prefix asks for. */
  static final int PAGE_KEYS = 256;

  /** Stands for a value too large for one gRPC message: unrecognised, never valid. */
  static final String TOO_LARGE = "(not read: too large for one etcd response)";

  /** A key as the agent keeps it while reading: its value bounded. */
  static final class Entry {
    final ByteSequence key;
    final String path;
    final String value;
    final long modRevision;

    Entry(KeyValue kv, String value) {
      this.key = kv.getKey();
      this.path = text(kv.getKey());
      this.value = value;
      this.modRevision = kv.getModRevision();
    }
  }

  /** One response: its keys, the revision it was read at, and whether more keys follow. */
  static final class Page {
    final long revision;
    final List<Entry> entries = new ArrayList<>();
    final boolean more;
    final int limit;

    Page(GetResponse response, int limit, boolean valuesRead) {
      this.revision = response.getHeader().getRevision();
      this.more = response.isMore();
      this.limit = limit;
      for (KeyValue kv : response.getKvs()) {
        entries.add(new Entry(kv, valuesRead ? value(kv) : TOO_LARGE));
      }
    }
  }

  private final KV kv;
  private final String registry;
  private final long timeoutMs;

  /**
   * @param registry names the registry in the log, e.g. {@code etcd://h1:2379}
   * @param timeoutMs how long one read may take
   */
  EtcdKeyPages(KV kv, String registry, long timeoutMs) {
    this.kv = kv;
    this.registry = registry;
    this.timeoutMs = timeoutMs;
  }

  /**
   * At most {@code limit} keys from {@code from} (to {@code end}, or {@code from} alone when {@code
   * end} is {@code null}) at {@code revision} (0: the newest), in as many reads as it takes to fit
   * each response into one gRPC message: when one does not fit, half as many keys are asked for,
   * and a single key that does not fit is read without its value.
   */
  Page read(ByteSequence from, ByteSequence end, long revision, int limit) throws Exception {
    GetOption.Builder option = GetOption.builder().withLimit(limit).withRevision(revision);
    if (end != null) {
      option.withRange(end);
    }
    try {
      return new Page(await(kv.get(from, option.build()), timeoutMs), limit, true);
    } catch (Exception e) {
      if (!tooLarge(e)) {
        throw e;
      }
      if (limit > 1) {
        return read(from, end, revision, limit / 2);
      }
      log.warn(
          "a key at {} is too large for one response of {}; read without its value, which is"
              + " unrecognised",
          text(from),
          registry);
      return new Page(
          await(kv.get(from, option.withKeysOnly(true).build()), timeoutMs), limit, false);
    }
  }

  /**
   * Every key from {@code from} to {@code end} at {@code revision}, in pages of at most {@value
   * #PAGE_KEYS} keys (fewer while pages do not fit into one message, as {@link #read} does), each
   * handed to {@code each} in key order. All pages are read at {@code revision}: one consistent
   * snapshot.
   */
  void readRange(ByteSequence from, ByteSequence end, long revision, Consumer<Entry> each)
      throws Exception {
    int limit = PAGE_KEYS;
    while (true) {
      Page page = read(from, end, revision, limit);
      page.entries.forEach(each);
      if (!page.more || page.entries.isEmpty()) {
        return;
      }
      from = after(page.entries.get(page.entries.size() - 1).key);
      limit = Math.min(PAGE_KEYS, page.limit * 2);
    }
  }

  /** The smallest key after {@code key}. */
  static ByteSequence after(ByteSequence key) {
    return key.concat(ByteSequence.from(new byte[] {0}));
  }
}
