package dev.sluice.agent.governance;

import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.BiConsumer;

/**
 * A concurrent map held weakly and by identity: a key the application drops is forgotten once it is
 * collected, and the key's own {@code equals}/{@code hashCode} (a driver's or a pool's) are never
 * called. Lookups allocate nothing and take no lock (open addressing over an array of weak
 * references), so the borrow path may use them; writes take the table's lock.
 */
final class IdentityTable<V> {

  private static final class Slot<V> extends WeakReference<Object> {
    final int hash;
    volatile V value;

    Slot(Object key, int hash, V value, ReferenceQueue<Object> queue) {
      super(key, queue);
      this.hash = hash;
      this.value = value;
    }
  }

  // A removed slot: probing goes on past it.
  private static final Slot<Object> TOMBSTONE = new Slot<>(null, 0, null, null);

  private final ReferenceQueue<Object> collected = new ReferenceQueue<>();
  private volatile AtomicReferenceArray<Slot<V>> table = new AtomicReferenceArray<>(16);
  private volatile int size;
  private int used; // live slots and tombstones, guarded by this

  private static int hash(Object key) {
    int h = System.identityHashCode(key);
    return h ^ (h >>> 16);
  }

  /** The value of {@code key}, or {@code null}. Allocates nothing. */
  V get(Object key) {
    if (key == null || size == 0) {
      return null;
    }
    int h = hash(key);
    AtomicReferenceArray<Slot<V>> t = table;
    int mask = t.length() - 1;
    for (int i = h & mask, probes = 0; probes <= mask; i = (i + 1) & mask, probes++) {
      Slot<V> s = t.get(i);
      if (s == null) {
        return null;
      }
      if (s.hash == h && s.get() == key) {
        return s.value;
      }
    }
    return null;
  }

  boolean contains(Object key) {
    return get(key) != null;
  }

  /** Number of keys, collected ones included until they are purged. */
  int size() {
    return size;
  }

  boolean isEmpty() {
    return size == 0;
  }

  /** Maps {@code key} to {@code value}; returns the previous value. */
  synchronized V put(Object key, V value) {
    purge();
    int h = hash(key);
    AtomicReferenceArray<Slot<V>> t = table;
    int mask = t.length() - 1;
    int free = -1;
    for (int i = h & mask, probes = 0; probes <= mask; i = (i + 1) & mask, probes++) {
      Slot<V> s = t.get(i);
      if (s == null) {
        if (free < 0) {
          free = i;
        }
        break;
      }
      if (s == TOMBSTONE) {
        if (free < 0) {
          free = i;
        }
        continue;
      }
      if (s.hash == h && s.get() == key) {
        V previous = s.value;
        s.value = value;
        return previous;
      }
    }
    if (free < 0 || (used + 1) * 4 > t.length() * 3) {
      rebuild(Math.max(16, Integer.highestOneBit(Math.max(1, size + 1) * 4)));
      return put(key, value);
    }
    if (t.get(free) == null) {
      used++;
    }
    t.set(free, new Slot<>(key, h, value, collected));
    size++;
    return null;
  }

  /** Maps {@code key} to {@code value} unless it has a value; returns the one in force. */
  synchronized V putIfAbsent(Object key, V value) {
    V existing = get(key);
    if (existing != null) {
      return existing;
    }
    put(key, value);
    return value;
  }

  /** Removes {@code key}; returns its value, or {@code null}. */
  synchronized V remove(Object key) {
    purge();
    return removeSlot(key, hash(key));
  }

  private V removeSlot(Object key, int h) {
    AtomicReferenceArray<Slot<V>> t = table;
    int mask = t.length() - 1;
    for (int i = h & mask, probes = 0; probes <= mask; i = (i + 1) & mask, probes++) {
      Slot<V> s = t.get(i);
      if (s == null) {
        return null;
      }
      if (s != TOMBSTONE && s.hash == h && s.get() == key) {
        tombstone(t, i);
        return s.value;
      }
    }
    return null;
  }

  @SuppressWarnings("unchecked")
  private void tombstone(AtomicReferenceArray<Slot<V>> t, int i) {
    t.set(i, (Slot<V>) TOMBSTONE);
    size--;
  }

  /** Calls {@code action} with every key still reachable and its value, in no particular order. */
  void forEach(BiConsumer<Object, V> action) {
    AtomicReferenceArray<Slot<V>> t = table;
    for (int i = 0; i < t.length(); i++) {
      Slot<V> s = t.get(i);
      if (s != null && s != TOMBSTONE) {
        Object key = s.get();
        if (key != null) {
          action.accept(key, s.value);
        }
      }
    }
  }

  /** Drops the keys that were collected; returns whether any was. */
  synchronized boolean purge() {
    boolean any = false;
    for (Object ref; (ref = collected.poll()) != null; ) {
      Slot<?> gone = (Slot<?>) ref;
      AtomicReferenceArray<Slot<V>> t = table;
      int mask = t.length() - 1;
      for (int i = gone.hash & mask, probes = 0; probes <= mask; i = (i + 1) & mask, probes++) {
        Slot<V> s = t.get(i);
        if (s == null) {
          break;
        }
        if (s == gone) {
          tombstone(t, i);
          any = true;
          break;
        }
      }
    }
    return any;
  }

  private void rebuild(int capacity) {
    AtomicReferenceArray<Slot<V>> old = table;
    AtomicReferenceArray<Slot<V>> next = new AtomicReferenceArray<>(capacity);
    int mask = capacity - 1;
    int live = 0;
    for (int i = 0; i < old.length(); i++) {
      Slot<V> s = old.get(i);
      if (s == null || s == TOMBSTONE || s.get() == null) {
        continue;
      }
      int j = s.hash & mask;
      while (next.get(j) != null) {
        j = (j + 1) & mask;
      }
      next.set(j, s);
      live++;
    }
    table = next;
    size = live;
    used = live;
  }
}
