package dev.sluice.agent.governance;

/**
 * The governed calls running on each thread, innermost on top, kept only while the agent is
 * learning about data sources (and for every call that opens a pooled connection): what a call did
 * inside tells what its data source is. A data source whose call opened a physical connection
 * inside goes to that connection's datasource; one whose call borrowed from another data source
 * inside only wraps it.
 */
final class Frames {

  /** One governed call. */
  static final class Frame {
    final Frame parent;

    /** The datasource of a connection opened inside this call, if any. */
    Datasource created;

    /** Whether another data source lent the connection inside this call. */
    boolean nestedBorrow;

    Frame(Frame parent) {
      this.parent = parent;
    }
  }

  private final ThreadLocal<Frame> top = new ThreadLocal<>();

  Frame push() {
    Frame f = new Frame(top.get());
    top.set(f);
    return f;
  }

  /** Ends {@code f} (and any call above it that failed to end), telling its caller what it did. */
  void pop(Frame f, boolean borrow) {
    top.set(f.parent);
    Frame caller = f.parent;
    if (caller != null) {
      if (borrow) {
        caller.nestedBorrow = true;
      }
      if (caller.created == null) {
        caller.created = f.created;
      }
    }
  }

  /** A connection to {@code d} was opened on this thread. */
  void created(Datasource d) {
    Frame f = top.get();
    if (f != null && f.created == null) {
      f.created = d;
    }
  }
}
