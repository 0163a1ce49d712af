package dev.sluice.registry;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The ordering rule of a key watch, written once for both backends: a key's value is reported to
 * the {@link KeyListener} only when its revision is newer than the last one reported for that key,
 * so that an event that arrives late, twice, or from a full read after a reconnect never takes a
 * key back to an older value; a deletion is reported once, and remembered, so that a value read
 * before it is not reported after it.
 *
 * <p>Not thread-safe: used on the registry's own thread only. Keeps one entry per key seen.
 */
public final class KeyRevisions {

  private static final class Last {
    final long revision;
    final boolean gone;

    Last(long revision, boolean gone) {
      this.revision = revision;
      this.gone = gone;
    }
  }

  private final KeyListener listener;
  private final Map<String, Last> last = new HashMap<>();

  public KeyRevisions(KeyListener listener) {
    this.listener = listener;
  }

  /**
   * {@code key} holds {@code value} at {@code revision}: reported if newer than what was reported.
   *
   * @return whether it was reported
   */
  public boolean value(String key, String value, long revision) {
    Last before = last.get(key);
    if (before != null && revision <= before.revision) {
      return false;
    }
    last.put(key, new Last(revision, false));
    listener.changed(key, value, revision);
    return true;
  }

  /**
   * {@code key} was seen gone at {@code revision} (the deletion's own revision when the backend
   * gives it, else one read after it): reported unless already gone or never seen, or unless a
   * newer value was reported.
   *
   * @return whether it was reported
   */
  public boolean gone(String key, long revision) {
    Last before = last.get(key);
    if (before == null || before.gone || revision < before.revision) {
      return false;
    }
    last.put(key, new Last(revision, true));
    listener.changed(key, null, revision);
    return true;
  }

  /**
   * A full read at {@code revision} found exactly {@code present} (their values already given to
   * {@link #value}): every other key still known as present is reported gone, then {@link
   * KeyListener#synced}.
   */
  public void readAll(Set<String> present, long revision) {
    for (String key : new ArrayList<>(last.keySet())) {
      Last l = last.get(key);
      if (!l.gone && !present.contains(key)) {
        gone(key, Math.max(revision, l.revision));
      }
    }
    listener.synced();
  }

  /** Whether the last report of {@code key} was a value (not its absence, and not nothing). */
  public boolean present(String key) {
    Last l = last.get(key);
    return l != null && !l.gone;
  }

  /** The last revision reported for {@code key}, or -1. */
  public long revision(String key) {
    Last l = last.get(key);
    return l == null ? -1 : l.revision;
  }
}
