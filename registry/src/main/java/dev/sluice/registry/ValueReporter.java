package dev.sluice.registry;

/**
 * Reports node values to the {@link RegistryListener}: checks each for being unrecognised (logged
 * once per node and value), remembers the instance node's last known value (the value its node is
 * re-created with after a lost session), and records the revisions the watch delivered so that
 * {@link #awaitSeen} lets a write return once its value came back.
 *
 * <p>Values are reported on the registry's worker thread; {@link #awaitSeen} runs on the writer's
 * thread, {@link #lastKnownValue} on any.
 */
public final class ValueReporter {

  private final String instancePath;
  private final UnrecognisedValues unrecognised = new UnrecognisedValues();
  private final SeenWrites seen = new SeenWrites();
  private volatile RegistryListener listener;
  private volatile String lastKnownValue = "";

  public ValueReporter(String instancePath) {
    this.instancePath = instancePath;
  }

  /** Where values go from now on; set once, at start. */
  public void listenTo(RegistryListener listener) {
    this.listener = listener;
  }

  /** The listener, for the connection reports that each backend makes on its own thread. */
  public RegistryListener listener() {
    return listener;
  }

  /** The instance node holds {@code value}. */
  public void instanceValue(String value) {
    unrecognised.check(instancePath, value);
    lastKnownValue = value;
    listener.instanceValue(value);
  }

  /** An operator deleted the instance node: the instance is enabled. */
  public void instanceDeleted() {
    unrecognised.forget(instancePath);
    lastKnownValue = "";
    listener.instanceValue(null);
  }

  /** The value the instance node last held as far as this agent knows; "" for none. */
  public String lastKnownValue() {
    return lastKnownValue;
  }

  /** The datasource node at {@code path} holds {@code value}, or is gone ({@code null}). */
  public void datasourceValue(String path, String value) {
    if (value == null) {
      unrecognised.forget(path);
    } else {
      unrecognised.check(path, value);
    }
    listener.datasourceValue(path, value);
  }

  /** The watch delivered {@code path} at {@code revision}. */
  public void seen(String path, long revision) {
    seen.seen(path, revision);
  }

  /**
   * Waits until the watch delivered {@code path} at {@code revision} or later.
   *
   * @param registry names the registry in the error
   */
  public void awaitSeen(String path, long revision, long timeoutMs, String registry)
      throws RegistryException {
    seen.await(path, revision, timeoutMs, registry);
  }
}
