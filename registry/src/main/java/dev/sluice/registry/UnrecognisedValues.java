package dev.sluice.registry;

import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs an unrecognised node value once per node and value. Used from one thread. Keeps a hash of
 * each unrecognised value, not the value: whatever the registry holds, a node costs a few dozen
 * bytes here.
 */
public final class UnrecognisedValues {

  private static final Logger log = LoggerFactory.getLogger(UnrecognisedValues.class);

  private final Map<String, Integer> last = new HashMap<>();

  /** Checks the value a node holds now. */
  public void check(String path, String value) {
    if (NodeValue.of(value) == NodeValue.UNRECOGNISED) {
      Integer hash = value.hashCode();
      if (!hash.equals(last.put(path, hash))) {
        log.warn(
            "{} holds the unrecognised value {}; treating it as enabled (accepted: DISABLED,"
                + " ENABLED or empty)",
            path,
            NodeValue.printable(value));
      }
    } else {
      last.remove(path);
    }
  }

  /** The node is gone. */
  public void forget(String path) {
    last.remove(path);
  }
}
