package dev.sluice.agent.governance;

import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The physical connections drivers have handed out, held weakly and by identity: a connection the
 * application leaks or closes is forgotten once it is collected, and a driver's own {@code equals}
 * is never called.
 */
final class OpenConnections {

  private static final class Ref extends WeakReference<Connection> {
    private final int hash;

    Ref(Connection c, ReferenceQueue<Connection> queue) {
      super(c, queue);
      this.hash = System.identityHashCode(c);
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
      Connection mine = get();
      return mine != null && mine == ((Ref) o).get();
    }
  }

  private final Map<Ref, Boolean> connections = new ConcurrentHashMap<>();
  private final ReferenceQueue<Connection> collected = new ReferenceQueue<>();

  void add(Connection c) {
    purge();
    connections.put(new Ref(c, collected), Boolean.TRUE);
  }

  void remove(Connection c) {
    connections.remove(new Ref(c, null));
  }

  /** The connections still reachable, in no particular order. */
  List<Connection> snapshot() {
    purge();
    List<Connection> out = new ArrayList<>(connections.size());
    for (Ref ref : connections.keySet()) {
      Connection c = ref.get();
      if (c != null) {
        out.add(c);
      }
    }
    return out;
  }

  private void purge() {
    for (Object ref; (ref = collected.poll()) != null; ) {
      connections.remove(ref);
    }
  }
}
