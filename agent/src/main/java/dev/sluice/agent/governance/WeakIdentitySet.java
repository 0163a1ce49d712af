package dev.sluice.agent.governance;

import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A concurrent set held weakly and by identity: an element the application drops is forgotten once
 * it is collected, and the element's own {@code equals}/{@code hashCode} (a driver's) are never
 * called.
 */
final class WeakIdentitySet<T> {

  private static final class Ref<T> extends WeakReference<T> {
    private final int hash;

    Ref(T referent, ReferenceQueue<T> queue) {
      super(referent, queue);
      this.hash = System.identityHashCode(referent);
    }

    @Override
    public int hashCode() {
      return hash;
    }

    @Override
    public boolean equals(Object o) {
      if (this == o) {
        return true;
      }
      if (!(o instanceof Ref)) {
        return false;
      }
      Object mine = get();
      return mine != null && mine == ((Ref<?>) o).get();
    }
  }

  private final Map<Ref<T>, Boolean> elements = new ConcurrentHashMap<>();
  private final ReferenceQueue<T> collected = new ReferenceQueue<>();

  void add(T element) {
    purge();
    elements.put(new Ref<>(element, collected), Boolean.TRUE);
  }

  /** Removes the elements that satisfy {@code drop}. */
  void removeIf(java.util.function.Predicate<T> drop) {
    purge();
    for (Ref<T> ref : elements.keySet()) {
      T element = ref.get();
      if (element == null || drop.test(element)) {
        elements.remove(ref);
      }
    }
  }

  int size() {
    return elements.size();
  }

  boolean contains(T element) {
    return elements.containsKey(new Ref<>(element, null));
  }

  boolean isEmpty() {
    return elements.isEmpty();
  }

  /** The elements still reachable, in no particular order. */
  List<T> snapshot() {
    purge();
    List<T> out = new ArrayList<>(elements.size());
    for (Ref<T> ref : elements.keySet()) {
      T element = ref.get();
      if (element != null) {
        out.add(element);
      }
    }
    return out;
  }

  private void purge() {
    for (Object ref; (ref = collected.poll()) != null; ) {
      elements.remove(ref);
    }
  }
}
